// CRC-32 (IEEE) of block data. zlib.crc32 is native and runs at memory speed,
// but only exists from Node 20.15; older 20.x fall back to a table.

import * as zlib from 'node:zlib';

let table: Int32Array | null = null;

function tableCrc32(buf: Uint8Array, start: number, end: number): number {
  if (table === null) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let c = -1;
  for (let i = start; i < end; i++) c = table[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 of buf[start, end). */
export function crc32(buf: Buffer, start: number, end: number): number {
  if (native !== undefined) return native(buf.subarray(start, end)) >>> 0;
  return tableCrc32(buf, start, end);
}
