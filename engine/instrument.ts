// An instrument's trading rules: the grid (tick, lot), quantity limits, the
// price band and the trading status. The engine converts a command's decimal
// strings against this grid once (decimal.ts: parseDecimal, then unitsOf).

import type { InstrumentSpec } from './commands.js';
import { decimalProblem, fromUnits, parseFraction, parseUnit, toUnits, type Unit } from './decimal.js';
import { idProblem } from './limits.js';
import { BUY, NO_LIMIT_BUY, NO_LIMIT_SELL, type Side } from '../native/ladder.js';

export class Instrument {
  readonly symbol: string;
  readonly tick: Unit;
  readonly lot: Unit;
  /** In lots. */
  readonly minQty: number;
  readonly maxQty: number;
  /** Band as the fraction bandNum / bandDen; bandDen 0 means no band. */
  readonly bandNum: number;
  readonly bandDen: number;
  private readonly bandText: string | undefined;
  /** Configured reference price in ticks, 0 if none. */
  readonly referencePrice: number;
  /** Price of the last trade in ticks, 0 before the first. */
  lastPrice = 0;
  halted: boolean;

  private constructor(spec: InstrumentSpec, tick: Unit, lot: Unit, minQty: number, maxQty: number,
    band: { num: number; den: number } | null, ref: number) {
    this.symbol = spec.symbol;
    this.tick = tick;
    this.lot = lot;
    this.minQty = minQty;
    this.maxQty = maxQty;
    this.bandNum = band ? band.num : 0;
    this.bandDen = band ? band.den : 0;
    this.bandText = band ? spec.priceBand : undefined;
    this.referencePrice = ref;
    this.halted = spec.status === 'halted';
  }

  /** Builds an instrument, or returns the reason it cannot be built. Absent and null optional fields are the same. */
  static create(spec: InstrumentSpec): Instrument | string {
    const bad = idProblem(spec.symbol, 'symbol');
    if (bad !== null) return bad;
    const tick = parseUnit(spec.tickSize);
    if (typeof tick === 'number') return unitProblem(tick, 'tickSize', spec.tickSize);
    const lot = parseUnit(spec.lotSize);
    if (typeof lot === 'number') return unitProblem(lot, 'lotSize', spec.lotSize);
    let minQty = 1;
    let maxQty = Number.MAX_SAFE_INTEGER;
    if (spec.minQty != null) {
      minQty = toUnits(spec.minQty, lot);
      if (minQty <= 0) return minQty === 0 ? 'minQty must be positive' : decimalProblem(minQty, 'minQty', spec.minQty, lot, 'lot');
    }
    if (spec.maxQty != null) {
      maxQty = toUnits(spec.maxQty, lot);
      if (maxQty <= 0) return maxQty === 0 ? 'maxQty must be positive' : decimalProblem(maxQty, 'maxQty', spec.maxQty, lot, 'lot');
    }
    if (maxQty < minQty) return 'maxQty is below minQty';
    let band: { num: number; den: number } | null = null;
    if (spec.priceBand != null) {
      const b = parseFraction(spec.priceBand);
      if (typeof b === 'number') return decimalProblem(b, 'priceBand', spec.priceBand);
      band = b;
    }
    let ref = 0;
    if (spec.referencePrice != null) {
      ref = toUnits(spec.referencePrice, tick);
      if (ref <= 0) return ref === 0 ? 'referencePrice must be positive' : decimalProblem(ref, 'referencePrice', spec.referencePrice, tick, 'tick');
    }
    if (spec.status != null && spec.status !== 'open' && spec.status !== 'halted') return 'status must be open or halted';
    return new Instrument(spec, tick, lot, minQty, maxQty, band, ref);
  }

  /** The spec this instrument was built from, in canonical decimal form. */
  spec(): InstrumentSpec {
    const s: InstrumentSpec = { symbol: this.symbol, tickSize: this.tick.text, lotSize: this.lot.text };
    s.minQty = fromUnits(this.minQty, this.lot);
    if (this.maxQty !== Number.MAX_SAFE_INTEGER) s.maxQty = fromUnits(this.maxQty, this.lot);
    if (this.bandText !== undefined) s.priceBand = this.bandText;
    if (this.referencePrice !== 0) s.referencePrice = this.price(this.referencePrice);
    s.status = this.halted ? 'halted' : 'open';
    return s;
  }

  price(ticks: number): string {
    return fromUnits(ticks, this.tick);
  }

  qty(lots: number): string {
    return fromUnits(lots, this.lot);
  }

  /** The band's reference: the last trade, else the configured reference price; 0 if neither. */
  private reference(): number {
    return this.lastPrice !== 0 ? this.lastPrice : this.referencePrice;
  }

  /**
   * How far a market order may walk: the edge of the price band on its side
   * (market-order protection), or the whole book when there is no band. Taken
   * once, before the first fill, so the order's own trades do not move it.
   * Always within the ladders' range, +-(2^53 - 1) ticks.
   */
  marketLimit(side: Side): number {
    const ref = this.reference();
    if (this.bandDen === 0 || ref === 0) return side === BUY ? NO_LIMIT_BUY : NO_LIMIT_SELL;
    const num = side === BUY ? this.bandDen + this.bandNum : this.bandDen - this.bandNum;
    if (num <= 0) return NO_LIMIT_SELL; // a band of 100% or more: a sell may go to any price
    const product = ref * num;
    // num itself is inexact past 2^53 (a band with 16 to 22 decimal places): then only bigints are exact
    if (Number.isSafeInteger(num) && Number.isSafeInteger(product)) {
      return side === BUY ? Math.floor(product / this.bandDen) : Math.ceil(product / this.bandDen);
    }
    const n = side === BUY ? BigInt(this.bandDen) + BigInt(this.bandNum) : BigInt(this.bandDen) - BigInt(this.bandNum);
    const p = BigInt(ref) * n;
    const d = BigInt(this.bandDen);
    const q = p / d;
    // a buy's edge past the highest price a ladder takes (2^53-1 ticks) is no edge: no order rests beyond it
    if (side === BUY) return q > BigInt(NO_LIMIT_BUY) ? NO_LIMIT_BUY : Number(q);
    return Number(p % d === 0n ? q : q + 1n);
  }

  /** True when a limit price in ticks lies outside the band around the reference. */
  outOfBand(ticks: number): boolean {
    if (this.bandDen === 0) return false;
    const ref = this.reference();
    if (ref === 0) return false;
    const diff = ticks > ref ? ticks - ref : ref - ticks;
    const a = diff * this.bandDen;
    const b = this.bandNum * ref;
    // both exact while safe; beyond that a float compare can misjudge the edge
    if (a <= Number.MAX_SAFE_INTEGER && b <= Number.MAX_SAFE_INTEGER) return a > b;
    return BigInt(diff) * BigInt(this.bandDen) > BigInt(this.bandNum) * BigInt(ref);
  }
}

function unitProblem(code: number, what: string, value: unknown): string {
  return code === 0 ? `${what} must be positive, got ${JSON.stringify(value)}` : decimalProblem(code, what, value);
}
