// A stable 64-bit hash (two independent 32-bit FNV-1a lanes) over numbers and
// strings. Same input, same hash, on every run and every platform.

export class Hasher {
  private a = 0x811c9dc5;
  private b = 0x01000193 ^ 0x5bd1e995;

  private byte(x: number): void {
    this.a = Math.imul(this.a ^ x, 0x01000193);
    this.b = Math.imul(this.b ^ x, 0x5bd1e995) ^ (this.b >>> 15);
  }

  /** Hashes a safe integer (or any number) by its 64-bit two's complement bytes. */
  num(v: number): this {
    const lo = v % 0x100000000;
    const hi = (v - lo) / 0x100000000;
    for (const w of [lo | 0, hi | 0]) {
      this.byte(w & 0xff);
      this.byte((w >>> 8) & 0xff);
      this.byte((w >>> 16) & 0xff);
      this.byte((w >>> 24) & 0xff);
    }
    return this;
  }

  str(s: string): this {
    this.num(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.byte(c & 0xff);
      this.byte(c >>> 8);
    }
    return this;
  }

  hex(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}
