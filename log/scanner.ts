// The one block scanner of the log: every reader (recovery, readLog, later the
// replica and the replay tool) finds a segment's blocks here, so that all of
// them agree on what is committed.
//
// A block is committed when its frame is whole, its sync marker follows it and
// the CRC of its Commit record checks out. What comes after the last committed
// block of a segment is one of two things:
//   - torn: the block is physically incomplete (it runs past the end of the
//     file, or nothing whole follows it: no later sync marker except possibly
//     its own at the very end) in the LAST segment. Only one block is ever in
//     flight, so this is the write a crash interrupted, never acknowledged —
//     unless some durable record says otherwise (recovery checks that).
//   - damaged: anything else (a bad block that something whole follows, any
//     bad block in a segment that is not the last). Never truncated silently.
// Decoding is separate (decodeSegmentBlock): a committed block that does not
// decode, or whose seqs do not run on, is damage too, never a torn write.

import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { encodeHeader, isTornTail, parseHeader, readBlock, SYNC_SIZE, type BlockFrame, type Header } from './container.js';
import type { SegmentFile } from './files.js';
import { decodeBlock, type LogRecord } from './records.js';
import { recordReader, recordSchemaJson, RECORD_SCHEMA_VERSION, type Resolver } from './schema.js';

export interface ScanProblem {
  /** Byte offset of the first byte that is not part of a committed block. */
  offset: number;
  reason: string;
  /** An interrupted write of the last block (or of the last segment's header), not damage. */
  torn: boolean;
}

export interface SegmentScan {
  seg: SegmentFile;
  buf: Buffer;
  /** null when the header itself is bad (see problem). */
  header: Header | null;
  resolver: Resolver | undefined;
  /** Committed blocks, in order. */
  blocks: BlockFrame[];
  /** End of the last committed block (the header end if none): what a torn tail is cut back to. */
  validEnd: number;
  /** What follows the committed blocks, if anything does. */
  problem: ScanProblem | null;
}

/** The longest header a crash can leave half-written without it being damage: the one the writer writes. */
let headerSize = -1;
function writerHeaderSize(segName: string): number {
  if (headerSize < 0) {
    headerSize = encodeHeader(recordSchemaJson, {
      'matchlog.kind': 'log', 'matchlog.version': String(RECORD_SCHEMA_VERSION), 'matchlog.segment': segName,
      'matchlog.log': '0'.repeat(32),
    }, Buffer.alloc(SYNC_SIZE)).length;
  }
  return headerSize;
}

/**
 * The bytes of a segment a scan from `from` needs: its header and everything
 * from `from` on, at their own offsets (the bytes between are not read: a
 * reader starting at an index entry does not pay for the whole file).
 */
function readFrom(path: string, from: number, until: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = Math.min(fstatSync(fd).size, until);
    if (from >= size) return readFileSync(fd);
    const buf = Buffer.allocUnsafe(size);
    if (from <= 0) {
      for (let pos = 0; pos < size;) pos += readSync(fd, buf, pos, size - pos, pos);
      return buf;
    }
    let head = Math.min(from, 1 << 16);
    readSync(fd, buf, 0, head, 0);
    const h = parseHeader(buf.subarray(0, head));
    // a header longer than what was read (or a bad one): read up to `from` and let the scan judge it
    if (typeof h === 'string' || h.end > head) {
      readSync(fd, buf, head, from - head, head);
      head = from;
    }
    for (let pos = from; pos < size;) pos += readSync(fd, buf, pos, size - pos, pos);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks the frames (not the records) of a segment; `isLast` decides whether a
 * bad end may be torn. With `from` (a block boundary, e.g. from the sparse
 * index) the scan starts there; if no whole block starts there, it is a full
 * scan after all (an index is derived data). With `until` (another boundary)
 * it stops there: a reader that needs only a stretch of a 64 MiB segment
 * neither reads nor checks the rest.
 */
export function scanSegment(seg: SegmentFile, isLast: boolean, buf?: Buffer, from = 0, until = Infinity): SegmentScan {
  if (buf === undefined && (from > 0 || until < Infinity)) {
    const scan = scanFrom(seg, isLast && until === Infinity, readFrom(seg.path, from, until), from);
    const p = scan.problem;
    const starts = from === 0 || (scan.blocks.length > 0 ? scan.blocks[0].offset === from : p !== null && p.offset === from && p.torn);
    // anything odd (an index entry off a block boundary, damage): the full scan judges it
    if (scan.header !== null && starts && (p === null || (p.torn && until === Infinity))) return scan;
  }
  return scanFrom(seg, isLast, buf ?? readFileSync(seg.path), 0);
}

function scanFrom(seg: SegmentFile, isLast: boolean, buf: Buffer, from: number): SegmentScan {
  const header = parseHeader(buf);
  if (typeof header === 'string') {
    // a crash while creating the segment: its header was never durable, so no block is in it
    const torn = isLast && buf.length <= writerHeaderSize(seg.name);
    return { seg, buf, header: null, resolver: undefined, blocks: [], validEnd: 0, problem: { offset: 0, reason: header, torn } };
  }
  let resolver: Resolver | undefined;
  try {
    resolver = recordReader.resolver(header.schema);
  } catch (e) {
    return {
      seg, buf, header: null, resolver: undefined, blocks: [], validEnd: 0,
      problem: { offset: 0, reason: `writer schema cannot be read: ${(e as Error).message}`, torn: false },
    };
  }
  const blocks: BlockFrame[] = [];
  let p = Math.max(header.end, from);
  let problem: ScanProblem | null = null;
  while (p < buf.length) {
    const frame = readBlock(buf, p, header.sync);
    if (typeof frame === 'string') {
      problem = { offset: p, reason: frame, torn: isLast && isTornTail(buf, p, header.sync) };
      break;
    }
    blocks.push(frame);
    p = frame.end;
  }
  return { seg, buf, header, resolver, blocks, validEnd: p, problem };
}

/** The records of a committed block; a block that does not decode is damage (thrown as a reason). */
export function decodeSegmentBlock(scan: SegmentScan, frame: BlockFrame): LogRecord[] {
  try {
    return decodeBlock(scan.buf, frame, scan.resolver);
  } catch (e) {
    throw new BlockDamage(frame.offset, `block does not decode: ${(e as Error).message}`);
  }
}

/** Damage found inside a committed block (decoding, seq order): the caller names the file. */
export class BlockDamage extends Error {
  constructor(readonly offset: number, readonly reason: string) {
    super(reason);
    this.name = 'BlockDamage';
  }
}

/** First and last command seq of a block, or null when it holds no command. */
export function commandRange(records: readonly LogRecord[]): { first: number; last: number } | null {
  let first = -1;
  let last = -1;
  for (const r of records) {
    if (r.kind !== 'command') continue;
    if (first < 0) first = r.seq;
    last = r.seq;
  }
  return first < 0 ? null : { first, last };
}

/**
 * Checks that the command seqs of a block run on from `prev` without a gap
 * (before anything of the block is applied, so damage is at a block
 * boundary); returns the last command seq.
 */
export function checkSeqs(records: readonly LogRecord[], prev: number, offset: number): number {
  let expect = prev;
  for (const rec of records) {
    if (rec.kind !== 'command') continue;
    if (rec.seq !== expect + 1) throw new BlockDamage(offset, `command seq ${rec.seq} follows seq ${expect}: the log has a gap`);
    expect = rec.seq;
  }
  return expect;
}
