// The data directory: segment, index and snapshot file names, directory fsync,
// and the lock that keeps two writers off one log.

import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SEQ_DIGITS = 20;
const SEGMENT_RE = /^(\d{20})\.avro$/;
const SNAPSHOT_RE = /^snapshot-(\d{20})\.avro$/;

function pad(seq: number): string {
  return String(seq).padStart(SEQ_DIGITS, '0');
}

/** A segment is named by the seq of the first command it may hold. */
export function segmentName(firstSeq: number): string {
  return `${pad(firstSeq)}.avro`;
}

export function indexPathOf(segmentPath: string): string {
  return segmentPath.replace(/\.avro$/, '.idx');
}

export function snapshotName(seq: number): string {
  return `snapshot-${pad(seq)}.avro`;
}

export interface SegmentFile { name: string; path: string; firstSeq: number }
export interface SnapshotFile { name: string; path: string; seq: number }

/** Segments in seq order. */
export function listSegments(dir: string): SegmentFile[] {
  const out: SegmentFile[] = [];
  for (const name of safeReaddir(dir)) {
    const m = SEGMENT_RE.exec(name);
    if (m) out.push({ name, path: join(dir, name), firstSeq: Number(m[1]) });
  }
  return out.sort((a, b) => a.firstSeq - b.firstSeq);
}

/** Snapshots, newest first. */
export function listSnapshots(dir: string): SnapshotFile[] {
  const out: SnapshotFile[] = [];
  for (const name of safeReaddir(dir)) {
    const m = SNAPSHOT_RE.exec(name);
    if (m) out.push({ name, path: join(dir, name), seq: Number(m[1]) });
  }
  return out.sort((a, b) => b.seq - a.seq);
}

/** Leftovers of snapshot writes that never reached their rename. */
export function listTempFiles(dir: string): string[] {
  return safeReaddir(dir).filter((n) => n.endsWith('.tmp')).map((n) => join(dir, n));
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Makes creations, renames and removals in `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Takes the data directory for this process. A lock left by a dead process
 * (kill -9, power loss) is taken over; one held by a live process is refused.
 */
export function acquireLock(dir: string): () => void {
  const path = join(dir, 'LOCK');
  const mine = String(process.pid);
  try {
    writeFileSync(path, mine, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const holder = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
      throw new Error(`data directory ${dir} is in use by process ${holder} (${path})`);
    }
    writeFileSync(path, mine);
  }
  return () => {
    try {
      if (readFileSync(path, 'utf8').trim() === mine) unlinkSync(path);
    } catch {
      // already gone: nothing to release
    }
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
