// The Avro object container format, written and read by hand so that one group
// commit is exactly one block (avsc's encoders buffer blocks by size):
//
//   file   = magic "Obj\x01", metadata map<bytes>, 16-byte sync marker, block*
//   block  = count (long), size (long), data (size bytes), sync marker
//
// Longs are zig-zag varints. The data of every matchlog block ends with a
// Commit record whose last field is a fixed(4) CRC-32 (big-endian) of the
// data before it: Avro's null codec has no checksum, and a flipped byte must
// be found without decoding.

import { crc32 } from './crc32.js';

export const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
export const SYNC_SIZE = 16;
/** Room reserved in front of block data for the count and size varints. */
export const BLOCK_PREFIX = 20;
/** No block of ours comes near this; a larger size is damage, not data. */
const MAX_BLOCK_SIZE = 1 << 30;

/** Writes a long as a zig-zag varint at pos; returns the position after it. */
export function writeLong(buf: Buffer, pos: number, n: number): number {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

export function longSize(n: number): number {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    size++;
  }
  return size;
}

/** The long at pos and the position after it, or null if the buffer ends first or it is too long. */
export function readLong(buf: Buffer, pos: number, end = buf.length): { value: number; next: number } | null {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= end) return null;
    const b = buf[pos++];
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return { value: v % 2 === 0 ? v / 2 : -(v + 1) / 2, next: pos };
    mul *= 0x80;
  }
  return null;
}

function writeBytes(parts: Buffer[], b: Buffer): void {
  const len = Buffer.alloc(10);
  parts.push(len.subarray(0, writeLong(len, 0, b.length)), b);
}

export function encodeHeader(schemaJson: string, meta: Record<string, string>, sync: Buffer): Buffer {
  const entries: [string, string][] = [['avro.schema', schemaJson], ['avro.codec', 'null'], ...Object.entries(meta)];
  const parts: Buffer[] = [MAGIC];
  const n = Buffer.alloc(10);
  parts.push(n.subarray(0, writeLong(n, 0, entries.length)));
  for (const [k, v] of entries) {
    writeBytes(parts, Buffer.from(k, 'utf8'));
    writeBytes(parts, Buffer.from(v, 'utf8'));
  }
  parts.push(Buffer.from([0]), sync);
  return Buffer.concat(parts);
}

export interface Header {
  schema: string;
  codec: string;
  meta: Map<string, string>;
  sync: Buffer;
  /** Offset of the first block. */
  end: number;
}

/** The parsed header, or why it is not a valid one. */
export function parseHeader(buf: Buffer): Header | string {
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return 'not an Avro object container file (bad magic)';
  const meta = new Map<string, string>();
  let pos = MAGIC.length;
  for (;;) {
    const n = readLong(buf, pos);
    if (n === null) return 'truncated header';
    pos = n.next;
    if (n.value === 0) break;
    let count = n.value;
    if (count < 0) {
      // a negative count is followed by the byte size of the entries
      const size = readLong(buf, pos);
      if (size === null) return 'truncated header';
      pos = size.next;
      count = -count;
    }
    for (let i = 0; i < count; i++) {
      const kl = readLong(buf, pos);
      if (kl === null || kl.value < 0 || kl.next + kl.value > buf.length) return 'truncated header';
      const key = buf.toString('utf8', kl.next, kl.next + kl.value);
      pos = kl.next + kl.value;
      const vl = readLong(buf, pos);
      if (vl === null || vl.value < 0 || vl.next + vl.value > buf.length) return 'truncated header';
      meta.set(key, buf.toString('utf8', vl.next, vl.next + vl.value));
      pos = vl.next + vl.value;
    }
  }
  if (pos + SYNC_SIZE > buf.length) return 'truncated header';
  const schema = meta.get('avro.schema');
  if (schema === undefined) return 'header has no avro.schema';
  const codec = meta.get('avro.codec') ?? 'null';
  if (codec !== 'null') return `unsupported codec ${codec}`;
  return { schema, codec, meta, sync: Buffer.from(buf.subarray(pos, pos + SYNC_SIZE)), end: pos + SYNC_SIZE };
}

export interface BlockFrame {
  offset: number;
  count: number;
  dataStart: number;
  dataEnd: number;
  /** Offset after the sync marker: the next block. */
  end: number;
}

/**
 * The block at `offset`, checked (frame, sync marker and, for log blocks, the
 * CRC of the Commit record), or why it is not a whole valid block.
 */
export function readBlock(buf: Buffer, offset: number, sync: Buffer, checkCrc = true): BlockFrame | string {
  const count = readLong(buf, offset);
  if (count === null) return 'block header cut short';
  const size = readLong(buf, count.next);
  if (size === null) return 'block header cut short';
  if (count.value < 1 || size.value < 4 || size.value > MAX_BLOCK_SIZE) return `implausible block header (count ${count.value}, size ${size.value})`;
  const dataStart = size.next;
  const dataEnd = dataStart + size.value;
  if (dataEnd + SYNC_SIZE > buf.length) return `block of ${size.value} bytes runs past the end of the file`;
  if (buf.compare(sync, 0, SYNC_SIZE, dataEnd, dataEnd + SYNC_SIZE) !== 0) return 'sync marker mismatch';
  if (checkCrc && crc32(buf, dataStart, dataEnd - 4) !== buf.readUInt32BE(dataEnd - 4)) return 'CRC mismatch';
  return { offset, count: count.value, dataStart, dataEnd, end: dataEnd + SYNC_SIZE };
}

/**
 * Whether a bad block at `offset` is a torn write of the last block: nothing
 * whole follows it. Only one block is ever in flight, so bytes after a torn
 * block hold at most its own sync marker, at the very end.
 */
export function isTornTail(buf: Buffer, offset: number, sync: Buffer): boolean {
  const at = buf.indexOf(sync, offset);
  return at < 0 || at + SYNC_SIZE === buf.length;
}
