// An instrument's trading rules: the grid (tick, lot), quantity limits, the
// price band and the trading status. Converting decimal strings into ticks and
// lots happens here, once per command.

import type { InstrumentSpec } from './commands.js';
import { MALFORMED, OFF_GRID, fromUnits, parseFraction, parseUnit, toUnits, type Unit } from './decimal.js';
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

  /** Builds an instrument, or returns the reason it cannot be built. */
  static create(spec: InstrumentSpec): Instrument | string {
    if (typeof spec.symbol !== 'string' || spec.symbol.length === 0) return 'symbol must be a non-empty string';
    const tick = parseUnit(spec.tickSize);
    if (!tick) return `tickSize must be a positive decimal, got ${JSON.stringify(spec.tickSize)}`;
    const lot = parseUnit(spec.lotSize);
    if (!lot) return `lotSize must be a positive decimal, got ${JSON.stringify(spec.lotSize)}`;
    let minQty = 1;
    let maxQty = Number.MAX_SAFE_INTEGER;
    if (spec.minQty !== undefined) {
      minQty = toUnits(spec.minQty, lot);
      if (minQty <= 0) return `minQty must be a positive multiple of lotSize ${lot.text}, got ${JSON.stringify(spec.minQty)}`;
    }
    if (spec.maxQty !== undefined) {
      maxQty = toUnits(spec.maxQty, lot);
      if (maxQty <= 0) return `maxQty must be a positive multiple of lotSize ${lot.text}, got ${JSON.stringify(spec.maxQty)}`;
    }
    if (maxQty < minQty) return 'maxQty is below minQty';
    let band: { num: number; den: number } | null = null;
    if (spec.priceBand !== undefined) {
      band = parseFraction(spec.priceBand);
      if (!band) return `priceBand must be a non-negative decimal fraction, got ${JSON.stringify(spec.priceBand)}`;
    }
    let ref = 0;
    if (spec.referencePrice !== undefined) {
      ref = toUnits(spec.referencePrice, tick);
      if (ref <= 0) return `referencePrice must be a positive multiple of tickSize ${tick.text}, got ${JSON.stringify(spec.referencePrice)}`;
    }
    if (spec.status !== undefined && spec.status !== 'open' && spec.status !== 'halted') return 'status must be open or halted';
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

  /** Ticks, or MALFORMED / OFF_GRID. */
  ticks(price: unknown): number {
    return toUnits(price, this.tick);
  }

  /** Lots, or MALFORMED / OFF_GRID. */
  lots(qty: unknown): number {
    return toUnits(qty, this.lot);
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
   */
  marketLimit(side: Side): number {
    const ref = this.reference();
    if (this.bandDen === 0 || ref === 0) return side === BUY ? NO_LIMIT_BUY : NO_LIMIT_SELL;
    const num = side === BUY ? this.bandDen + this.bandNum : this.bandDen - this.bandNum;
    if (num <= 0) return NO_LIMIT_SELL; // a band of 100% or more: a sell may go to any price
    const product = ref * num;
    if (Number.isSafeInteger(product)) {
      return side === BUY ? Math.floor(product / this.bandDen) : Math.ceil(product / this.bandDen);
    }
    const p = BigInt(ref) * BigInt(num);
    const d = BigInt(this.bandDen);
    const q = p / d;
    return Number(side === BUY || p % d === 0n ? q : q + 1n);
  }

  /** True when a limit price in ticks lies outside the band around the reference. */
  outOfBand(ticks: number): boolean {
    if (this.bandDen === 0) return false;
    const ref = this.reference();
    if (ref === 0) return false;
    const diff = ticks > ref ? ticks - ref : ref - ticks;
    return diff * this.bandDen > this.bandNum * ref;
  }
}

export { MALFORMED, OFF_GRID };
