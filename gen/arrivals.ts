// When commands arrive during the session: an intensity shaped like a U,
// heaviest just after the open and just before the close (as in real equity
// markets), quieter at midday. Arrival i of n is placed at the inverse of the
// intensity's distribution function at (i + jitter) / n, so there are exactly
// n of them, in ascending order, all inside the session.

const TABLE = 4096;

/** Relative intensity at x in [0, 1] of the session. */
function intensity(x: number): number {
  return 1 + 2.5 * Math.exp(-x / 0.05) + 2 * Math.exp(-(1 - x) / 0.05);
}

export class Arrivals {
  /** cdf[k]: share of the day's arrivals before x = k / TABLE. */
  private readonly cdf = new Float64Array(TABLE + 1);
  private k = 0;

  constructor(private readonly n: number, private readonly open: number, private readonly close: number,
    private readonly rnd: () => number) {
    let sum = 0;
    for (let k = 0; k < TABLE; k++) {
      sum += intensity((k + 0.5) / TABLE);
      this.cdf[k + 1] = sum;
    }
    for (let k = 0; k <= TABLE; k++) this.cdf[k] /= sum;
  }

  /** Epoch µs of arrival i (call with i ascending). */
  at(i: number): number {
    const u = Math.min((i + this.rnd()) / this.n, 1);
    while (this.k < TABLE - 1 && this.cdf[this.k + 1] < u) this.k++;
    const lo = this.cdf[this.k];
    const hi = this.cdf[this.k + 1];
    const x = (this.k + (hi > lo ? (u - lo) / (hi - lo) : 0)) / TABLE;
    return this.open + Math.min(Math.floor(x * (this.close - this.open)), this.close - this.open - 1);
  }

  /** Expected share of the day's arrivals between fractions a and b of the session. */
  share(a: number, b: number): number {
    const at = (x: number): number => this.cdf[Math.max(0, Math.min(TABLE, Math.round(x * TABLE)))];
    return at(b) - at(a);
  }
}
