// Durable records that say how far the log once reached: a snapshot (written
// only once the block holding its seq is durable), a sparse-index entry
// (appended only once its block is durable), the index of a segment (created
// only after its segment). A log that ends before what they vouch for lost
// acknowledged commands: the newest segment was removed or cut short. That is
// not a torn write, which nothing durable ever speaks of.
//
// Recovery refuses to start on it; replay and surveil must not print a
// shorter history as if it were the whole one. Both judge it here.
//
// On a live folder the order of reads matters: list these BEFORE reading any
// segment, so that everything they vouch for is already durable in what the
// segment reads see (the writer only appends, and never removes a segment).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHeader } from './container.js';
import { listSnapshots, type SnapshotFile } from './files.js';
import { readIndex, type IndexEntry } from './sparse-index.js';

export interface Vouchers {
  snapshots: SnapshotFile[];
  /** Every `<segment>.idx` with its entries (none when it is malformed: derived data, a half-appended entry). */
  indexes: { name: string; path: string; segmentPath: string; entries: IndexEntry[] }[];
}

/** Snapshots and indexes of `dir`, read now (call before reading any segment). */
export function listVouchers(dir: string): Vouchers {
  const indexes = readdirSync(dir).filter((n) => /^\d{20}\.idx$/.test(n)).sort().map((name) => {
    const path = join(dir, name);
    return { name, path, segmentPath: path.replace(/\.idx$/, '.avro'), entries: readIndex(path) ?? [] };
  });
  return { snapshots: listSnapshots(dir), indexes };
}

/** Where the committed log ends, as a reader found it. */
export interface LogEnd {
  /** Seq of the last committed command (0: none). */
  seq: number;
  /** The log's id from its segment headers (null: none, or a log from before ids). */
  logId: string | null;
  /** Paths of the segments read. */
  segments: ReadonlySet<string>;
  /** The last segment read and the end of its committed data (header and whole blocks). */
  last: { path: string; size: number } | null;
  /** A last segment whose header was torn (recovery removes it with its index): its empty index vouches for nothing. */
  tornHeader?: string | null;
}

export interface Shortfall {
  /** What vouches for more, one clause each. */
  evidence: string[];
  /** The highest seq something vouches for (at least end.seq). */
  reached: number;
  /** `the log ends at seq E, but …: commands … that were acknowledged are missing (…)` */
  reason: string;
}

/** The log id in a snapshot's header (read without decoding its state); undefined when it has none or is gone. */
function snapshotLogId(path: string): string | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    // pruned since it was listed: it spoke of a seq a newer snapshot covers
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const h = parseHeader(buf);
  return typeof h === 'string' ? undefined : h.meta.get('matchlog.log');
}

/** Whether a file's log id says it belongs to another log (files from before log ids carry none). */
export function foreignLog(fileLogId: string | undefined | null, logId: string | null): boolean {
  return fileLogId != null && logId !== null && fileLogId !== logId;
}

/** What vouches for commands beyond `end`, or null when nothing does (the log is whole, or only a torn write is missing). */
export function vouchedBeyond(v: Vouchers, end: LogEnd): Shortfall | null {
  const evidence: string[] = [];
  let reached = end.seq;
  for (const snap of v.snapshots) {
    if (snap.seq <= end.seq) continue;
    // a snapshot of another log says nothing about this one
    if (foreignLog(snapshotLogId(snap.path), end.logId)) continue;
    evidence.push(`snapshot ${snap.name} holds the state after seq ${snap.seq}`);
    reached = Math.max(reached, snap.seq);
  }
  for (const idx of v.indexes) {
    const entries = idx.entries;
    if (!end.segments.has(idx.segmentPath)) {
      if (end.tornHeader === idx.segmentPath && entries.length === 0) continue;
      const firstSeq = Number(idx.name.slice(0, 20));
      const beyond = entries.length > 0 ? Math.max(firstSeq, entries[entries.length - 1].seq) : firstSeq;
      evidence.push(`index ${idx.name} exists but its segment ${idx.name.replace(/\.idx$/, '.avro')} does not`
        + (entries.length > 0 ? ` (its index reaches seq ${beyond})` : ''));
      reached = Math.max(reached, beyond);
      continue;
    }
    if (end.last === null || idx.segmentPath !== end.last.path) continue;
    const size = end.last.size;
    const past = entries.filter((e) => e.offset >= size);
    if (past.length > 0) {
      evidence.push(`index ${idx.name} has ${past.length} entr${past.length === 1 ? 'y' : 'ies'} for blocks at or after byte offset ${size}, where the segment's committed data ends (the first at offset ${past[0].offset}, seq ${past[0].seq})`);
      reached = Math.max(reached, past[past.length - 1].seq);
    }
  }
  if (evidence.length === 0) return null;
  const missing = reached > end.seq ? `commands ${end.seq + 1}..${reached} (at least ${reached - end.seq})` : `commands after seq ${end.seq}`;
  const reason = `the log ends at seq ${end.seq}, but ${evidence.join('; ')}: ${missing} that were acknowledged are missing`
    + ' (the newest segment was removed or cut short)';
  return { evidence, reached, reason };
}
