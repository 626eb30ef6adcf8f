// The sparse index of a segment (<segment>.idx): fixed 24-byte entries
// (seq, ts, offset as little-endian doubles: all below 2^53) for the first
// block of the segment and then one block every `indexEvery` bytes. An entry's
// seq and ts are those of the first record of its block. Seq and ts never
// decrease along the log, so a reader looking for seq >= S (or ts >= T) can
// start at the last entry whose key is below S (T): nothing before it qualifies.
//
// The index is derived data: it is written without fsync while a segment is
// open, fsynced when the segment rolls, and rebuilt by recovery whenever it
// does not match the segment.

import { existsSync, readFileSync } from 'node:fs';

export const INDEX_ENTRY_SIZE = 24;

export interface IndexEntry { seq: number; ts: number; offset: number }

export function encodeEntries(entries: readonly IndexEntry[]): Buffer {
  const buf = Buffer.alloc(entries.length * INDEX_ENTRY_SIZE);
  entries.forEach((e, i) => {
    buf.writeDoubleLE(e.seq, i * INDEX_ENTRY_SIZE);
    buf.writeDoubleLE(e.ts, i * INDEX_ENTRY_SIZE + 8);
    buf.writeDoubleLE(e.offset, i * INDEX_ENTRY_SIZE + 16);
  });
  return buf;
}

/** The entries of an index file, or null when it is missing or malformed. */
export function readIndex(path: string): IndexEntry[] | null {
  if (!existsSync(path)) return null;
  const buf = readFileSync(path);
  if (buf.length % INDEX_ENTRY_SIZE !== 0) return null;
  const out: IndexEntry[] = [];
  for (let p = 0; p < buf.length; p += INDEX_ENTRY_SIZE) {
    const e = { seq: buf.readDoubleLE(p), ts: buf.readDoubleLE(p + 8), offset: buf.readDoubleLE(p + 16) };
    const prev = out[out.length - 1];
    if (!Number.isSafeInteger(e.offset) || (prev && (e.offset <= prev.offset || e.seq < prev.seq || e.ts < prev.ts))) return null;
    out.push(e);
  }
  return out;
}

/** Decides which blocks get an entry; the writer and recovery use the same rule. */
export class IndexPolicy {
  private last = -Infinity;

  constructor(private readonly every: number, lastIndexedOffset = -Infinity) {
    this.last = lastIndexedOffset;
  }

  take(offset: number): boolean {
    if (offset - this.last < this.every) return false;
    this.last = offset;
    return true;
  }
}

/** Offset to start reading for records with key >= `key`, or -1 for the segment start. */
export function lookup(entries: readonly IndexEntry[], key: number, by: 'seq' | 'ts'): number {
  let lo = 0;
  let hi = entries.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid][by] < key) {
      found = entries[mid].offset;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
