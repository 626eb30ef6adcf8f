// Client order ids stored inline: a million resting orders each holding a
// reference to its own clOrdId string would spend ~32 B per order on the
// string and the reference alone. Ids are printable ASCII (limits.ts), so one
// of up to 16 characters packs into four 32-bit words, one byte per character
// (character i in byte i & 3 of word i >> 2), zero bytes after the last. No
// valid id has a zero byte, so the length needs no field, and an all-zero
// first word marks a longer id, which the caller keeps elsewhere (orders.ts).
//
// An inline id's hash (wordsHash) mixes its four words: idHashOf
// (client-ids.ts) packs a short id into the same words as it validates it, so
// a stored id is re-hashed (a table's delete and resize) from its words alone,
// in a few multiplies.

import type { Hasher } from './hash.js';

/** Words per inline id. */
export const ID_WORDS = 4;
/** The longest id that is stored inline. */
export const INLINE_ID_CHARS = 16;

function charAt(w: Int32Array, at: number, i: number): number {
  return (w[at + (i >> 2)] >>> ((i & 3) << 3)) & 0xff;
}

/** Packs `s` (a valid id of at most INLINE_ID_CHARS characters) into w[at, at + ID_WORDS). */
export function packId(s: string, w: Int32Array, at: number): void {
  w[at] = 0;
  w[at + 1] = 0;
  w[at + 2] = 0;
  w[at + 3] = 0;
  for (let i = 0; i < s.length; i++) w[at + (i >> 2)] |= s.charCodeAt(i) << ((i & 3) << 3);
}

/** Whether w[at] starts an inline id (else the id is a long one, kept by the caller). */
export function isInline(w: Int32Array, at: number): boolean {
  return w[at] !== 0;
}

/** Length of the inline id at w[at]. */
export function inlineLength(w: Int32Array, at: number): number {
  let n = 0;
  while (n < INLINE_ID_CHARS && charAt(w, at, n) !== 0) n++;
  return n;
}

/** Whether the inline id at w[at] is `s`. */
export function inlineEquals(w: Int32Array, at: number, s: string): boolean {
  const n = s.length;
  if (n > INLINE_ID_CHARS) return false;
  for (let i = 0; i < n; i++) if (charAt(w, at, i) !== s.charCodeAt(i)) return false;
  return n === INLINE_ID_CHARS || charAt(w, at, n) === 0;
}

/** The hash of an id of at most INLINE_ID_CHARS characters from its packed words: non-negative, 31 bits. */
export function wordsHash(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ (w0 >>> 15), 0x85ebca6b) ^ w1;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ w2;
  h = Math.imul(h ^ (h >>> 16), 0x9e3779b1) ^ w3;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 1;
}

/** idHashOf of the inline id at w[at]. */
export function inlineHash(w: Int32Array, at: number): number {
  return wordsHash(w[at], w[at + 1], w[at + 2], w[at + 3]);
}

/** The inline id at w[at] as a string (allocates: for the edges that want one). */
export function inlineString(w: Int32Array, at: number): string {
  const n = inlineLength(w, at);
  const codes = new Array<number>(n);
  for (let i = 0; i < n; i++) codes[i] = charAt(w, at, i);
  return String.fromCharCode(...codes);
}

/** Feeds the inline id at w[at] to `h` exactly as h.str(theString) would. */
export function hashInline(h: Hasher, w: Int32Array, at: number): void {
  const n = inlineLength(w, at);
  h.word(n);
  let i = 0;
  for (; i + 1 < n; i += 2) h.word(charAt(w, at, i) | (charAt(w, at, i + 1) << 16));
  if (i < n) h.word(charAt(w, at, i));
}
