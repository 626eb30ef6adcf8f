// Reading the log (tools, tests, and later replicas and replay): records from
// a seq or a time on, using the sparse index to start at a block boundary near
// the target instead of at the segment start. Blocks come from the one scanner
// (log/scanner.ts), so only committed blocks are read: the end of the last
// segment may be a block still being written (or torn), and reading stops
// there quietly. Damage anywhere else is an error naming file and offset.

import { DamageError } from './errors.js';
import { indexPathOf, listSegments, type SegmentFile } from './files.js';
import type { LogRecord } from './records.js';
import { BlockDamage, checkSeqs, commandRange, decodeSegmentBlock, scanSegment } from './scanner.js';
import { lookup, readIndex } from './sparse-index.js';

export interface ReadOptions {
  /** Only records with seq >= fromSeq (a checkpoint or epoch record carries the seq of the command before it). */
  fromSeq?: number;
  /** Only records with ts >= fromTs (epoch microseconds). */
  fromTs?: number;
  /**
   * readBlocks: blocks past the one holding command toSeq are not needed (a
   * hint: the segment is read only up to the index entry after it).
   */
  toSeq?: number;
}

export interface Located {
  file: string;
  /** Byte offset of the block holding the record. */
  offset: number;
}

function firstSegment(segs: SegmentFile[], o: ReadOptions): number {
  let start = 0;
  if (o.fromSeq !== undefined) {
    for (let i = 0; i < segs.length; i++) if (segs[i].firstSeq <= o.fromSeq) start = i;
  }
  if (o.fromTs !== undefined) {
    // the first index entry of a segment has the ts of its first block
    let byTs = 0;
    for (let i = start; i < segs.length; i++) {
      const idx = readIndex(indexPathOf(segs[i].path));
      if (idx === null || idx.length === 0) break;
      if (idx[0].ts < o.fromTs) byTs = i;
      else break;
    }
    start = Math.max(start, byTs);
  }
  return start;
}

/** The decoded records of one committed block, and where it lies. */
export interface LogBlock {
  records: LogRecord[];
  file: string;
  /** Byte offset of the block in `file`. */
  offset: number;
  /**
   * The block's bytes as framed in the file (count, size, records; no sync
   * marker), when it is in the current record schema: what replication ships.
   * null for a block of an older schema (it must be re-encoded to be shipped).
   */
  raw: Buffer | null;
}

/**
 * Committed blocks in log order, from the one holding `o.fromSeq`/`o.fromTs`
 * (records before it in that block are not filtered out here). The fast path
 * of replay: one array per block, no copy per record.
 */
export function* readBlocks(dir: string, o: ReadOptions = {}): Generator<LogBlock> {
  const segs = listSegments(dir);
  let prev = -1;
  for (let i = firstSegment(segs, o); i < segs.length; i++) {
    const seg = segs[i];
    if (prev >= 0 && o.toSeq !== undefined && seg.firstSeq > o.toSeq + 1) return;
    // the index only helps to find the start; after that every block is read
    let at = -1;
    const idx = prev < 0 ? readIndex(indexPathOf(seg.path)) : null;
    let until = Infinity;
    const index = idx ?? (o.toSeq !== undefined ? readIndex(indexPathOf(seg.path)) : null);
    if (idx !== null) {
      if (o.fromSeq !== undefined) at = Math.max(at, lookup(idx, o.fromSeq, 'seq'));
      if (o.fromTs !== undefined) at = Math.max(at, lookup(idx, o.fromTs, 'ts'));
    }
    if (index !== null && o.toSeq !== undefined) {
      // an entry's seq is its block's first record's, at most one below its first command
      const end = index.find((e) => e.seq > (o.toSeq as number) + 1);
      if (end !== undefined && end.offset > at) until = end.offset;
    }
    // an index is derived data: the scan starts at an entry only if a committed block starts there
    const scan = scanSegment(seg, i === segs.length - 1, undefined, Math.max(at, 0), until);
    const p = scan.problem;
    // a torn end of the last segment is a write in flight (or a crash's): reading stops there quietly
    if (p !== null && !p.torn) throw new DamageError(seg.path, p.offset, p.reason);
    if (scan.header === null) return;
    // seqs must run on without a gap, as recovery checks them; from an index entry the first block sets the start
    if (scan.blocks.length === 0 || scan.blocks[0].offset === scan.header.end) {
      if (prev >= 0 && seg.firstSeq !== prev + 1) {
        throw new DamageError(seg.path, 0, `segment starts at seq ${seg.firstSeq} but the log before it ends at seq ${prev}`);
      }
      prev = seg.firstSeq - 1;
    }
    for (const frame of scan.blocks) {
      let records: LogRecord[];
      try {
        records = decodeSegmentBlock(scan, frame);
        if (prev < 0) prev = (commandRange(records)?.first ?? 1) - 1;
        prev = checkSeqs(records, prev, frame.offset);
      } catch (e) {
        if (e instanceof BlockDamage) throw new DamageError(seg.path, e.offset, e.reason);
        throw e;
      }
      yield { records, file: seg.path, offset: frame.offset, raw: scan.resolver === undefined ? scan.buf.subarray(frame.offset, frame.dataEnd) : null };
    }
    // what follows `until` (and every later segment) lies past toSeq
    if (until < Infinity) return;
  }
}

/** Records in log order, filtered by `o`, each with where its block lies. */
export function* readLogLocated(dir: string, o: ReadOptions = {}): Generator<LogRecord & Located> {
  const fromSeq = o.fromSeq ?? -Infinity;
  const fromTs = o.fromTs ?? -Infinity;
  for (const b of readBlocks(dir, o)) {
    for (const r of b.records) {
      if (r.seq >= fromSeq && r.ts >= fromTs) yield { ...r, file: b.file, offset: b.offset };
    }
  }
}

/** Records in log order, filtered by `o`. */
export function* readLog(dir: string, o: ReadOptions = {}): Generator<LogRecord> {
  const fromSeq = o.fromSeq ?? -Infinity;
  const fromTs = o.fromTs ?? -Infinity;
  for (const b of readBlocks(dir, o)) {
    for (const r of b.records) if (r.seq >= fromSeq && r.ts >= fromTs) yield r;
  }
}
