// The data directory: segment, index and snapshot file names, directory fsync.
// (The lock that keeps two writers off one log is in lock.ts.)

import { closeSync, fsyncSync, openSync, readdirSync } from 'node:fs';
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
