// A stable 64-bit hash (two independent 32-bit lanes, murmur3-style mixing of
// 32-bit words) over numbers and strings. Same input, same hash, on every run
// and every platform. It runs at every checkpoint over the whole book, on the
// sequencer's thread, so it allocates nothing and mixes whole words.

export class Hasher {
  private a = 0x9747b28c;
  private b = 0x2f8f5a1d;

  word(w: number): this {
    let k = Math.imul(w, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    let a = this.a ^ k;
    a = (a << 13) | (a >>> 19);
    this.a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let b = this.b ^ Math.imul(w ^ (w >>> 16), 0x85ebca6b);
    b = (b << 17) | (b >>> 15);
    this.b = (Math.imul(b, 0xc2b2ae35) + 0x27d4eb2f) | 0;
    return this;
  }

  /** Hashes an integer (exact up to 2^53) as its low and high 32-bit words. */
  num(v: number): this {
    const lo = v % 0x100000000;
    this.word(lo | 0);
    this.word(((v - lo) / 0x100000000) | 0);
    return this;
  }

  /**
   * Hashes a non-negative integer of any size. A number goes in as num() does
   * (so states without big values hash as they always have); a bigint, which in
   * canonical form is always above 2^53, as its low word, then a marker word
   * with the count of the words that follow (a number's high word is below
   * 2^21, so the marker's bit 30 tells the two apart), then those words.
   */
  int(v: number | bigint): this {
    if (typeof v === 'number') return this.num(v);
    this.word(Number(v & 0xffffffffn) | 0);
    const words: number[] = [];
    for (let x = v >> 32n; x > 0n; x >>= 32n) words.push(Number(x & 0xffffffffn) | 0);
    this.word(0x40000000 | words.length);
    for (const w of words) this.word(w);
    return this;
  }

  str(s: string): this {
    const n = s.length;
    this.word(n);
    let i = 0;
    for (; i + 1 < n; i += 2) this.word(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
    if (i < n) this.word(s.charCodeAt(i));
    return this;
  }

  private static fmix(h: number): number {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  /** A 32-bit digest, for hashes that are mixed into other hashes. */
  word32(): number {
    return Hasher.fmix(this.a ^ Math.imul(this.b, 0x9e3779b1)) | 0;
  }

  hex(): string {
    const a = Hasher.fmix(this.a ^ this.b);
    const b = Hasher.fmix(this.b + Math.imul(this.a, 0x9e3779b1));
    return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
  }
}
