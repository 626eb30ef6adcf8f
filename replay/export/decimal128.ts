// Decimal strings ("65000.01") into the 128-bit two's-complement integers of
// Arrow/Parquet Decimal128 at a fixed scale (65000.01 at scale 4 = 650000100).
// Exact or an error: a value with more places than its column's scale, or more
// than 38 digits, is refused, never rounded. Most values fit a double once
// scaled, and take the fast path; the rest go through BigInt.

import { DECIMAL_PRECISION } from './columns.js';

const TWO32 = 2 ** 32;
const POW10: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POW10.push(p);
const LIMIT = 10n ** BigInt(DECIMAL_PRECISION);
const MASK32 = (1n << 32n) - 1n;

export class DecimalFitError extends Error {}

function refuse(s: string, scale: number, why: string): never {
  throw new DecimalFitError(`decimal ${JSON.stringify(s)} does not fit Decimal128(${DECIMAL_PRECISION}, ${scale}): ${why}`);
}

/** Writes `s` scaled by 10^scale into words[at..at+3] (least significant first). */
export function writeDecimal128(words: Uint32Array, at: number, s: string, scale: number): void {
  const n = s.length;
  const neg = n > 0 && s.charCodeAt(0) === 45; // '-'
  let m = 0;
  let places = -1; // digits after the point; -1 = no point yet
  let digits = 0;
  for (let i = neg ? 1 : 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 && places < 0) { places = 0; continue; }
    if (c < 48 || c > 57) refuse(s, scale, 'not a decimal number');
    m = m * 10 + (c - 48);
    digits++;
    if (places >= 0) places++;
  }
  if (digits === 0) refuse(s, scale, 'not a decimal number');
  if (places < 0) places = 0;
  if (places > scale) {
    // "1.50" at scale 1 is exact; "1.55" is not
    const extra = places - scale;
    for (let i = n - extra; i < n; i++) if (s.charCodeAt(i) !== 48) refuse(s, scale, `more than ${scale} decimal places`);
    let cut = s.slice(0, n - extra);
    if (cut.endsWith('.')) cut = cut.slice(0, -1);
    return writeDecimal128(words, at, cut, scale);
  }
  const shift = scale - places;
  if (!neg && digits <= 15 && shift < POW10.length) {
    const v = m * POW10[shift]; // exact while it is a safe integer
    if (v <= Number.MAX_SAFE_INTEGER) {
      const hi = Math.floor(v / TWO32);
      words[at] = v - hi * TWO32;
      words[at + 1] = hi;
      words[at + 2] = 0;
      words[at + 3] = 0;
      return;
    }
  }
  const digitsOnly = s.replace(/[-.]/g, '');
  let v = BigInt(digitsOnly) * 10n ** BigInt(shift);
  if (v >= LIMIT) refuse(s, scale, `more than ${DECIMAL_PRECISION} digits`);
  if (neg) v = (1n << 128n) - v;
  for (let i = 0; i < 4; i++, v >>= 32n) words[at + i] = Number(v & MASK32);
}
