// A token bucket: `rate` tokens a second up to `burst`; one token per message.
// Refilled lazily from the clock on each take, so an idle session costs nothing.

export class TokenBucket {
  private tokens: number;
  private last = -1;

  constructor(private readonly rate: number, private readonly burst: number) {
    this.tokens = burst;
  }

  /** Takes one token at time `nowMs`; false when the bucket is empty. */
  take(nowMs: number): boolean {
    if (this.last >= 0 && nowMs > this.last) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) * this.rate) / 1000);
    this.last = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
