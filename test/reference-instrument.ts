// The reference model's own instrument rules: decimal strings to ticks and lots,
// the grid, quantity limits, the price band and market-order protection. Done
// the slow, obvious way (regular expressions and BigInt fractions) and sharing
// no code with engine/decimal.ts or engine/instrument.ts, so that the
// differential test also guards the engine's grid and band arithmetic.

import type { InstrumentSpec } from '../engine/index.js';

export const MAX_UNITS = BigInt(Number.MAX_SAFE_INTEGER);

/** value = int / 10^scale */
export interface Dec { int: bigint; scale: number }

/** README: 1-40 characters, digits with at most one point, at most 15 significant digits. */
export function parseDec(s: unknown): Dec | null {
  if (typeof s !== 'string' || s.length > 40 || !/^([0-9]+(\.[0-9]+)?|\.[0-9]+)$/.test(s)) return null;
  const [whole, frac = ''] = s.split('.');
  if ((whole + frac).replace(/^0+/, '').length > 15) return null;
  return { int: BigInt(whole + frac), scale: frac.length };
}

/** How many `unit`s `v` is: a count, or why not. */
export function unitsOf(v: Dec, unit: Dec): number | 'off_grid' | 'too_large' {
  const num = v.int * 10n ** BigInt(unit.scale);
  const den = unit.int * 10n ** BigInt(v.scale);
  if (num % den !== 0n) return 'off_grid';
  const n = num / den;
  return n > MAX_UNITS ? 'too_large' : Number(n);
}

/** README: 1 to 64 characters 0x21-0x7E. */
export function isId(v: unknown): v is string {
  return typeof v === 'string' && /^[\x21-\x7e]{1,64}$/.test(v);
}

export class RefInstrument {
  lastPrice = 0;
  halted = false;

  private constructor(
    readonly symbol: string,
    readonly tick: Dec,
    readonly lot: Dec,
    readonly minQty: number,
    readonly maxQty: number,
    /** band = num / den, null when none */
    readonly band: { num: bigint; den: bigint } | null,
    /** configured reference in ticks, 0 when none */
    readonly referencePrice: number,
  ) {}

  /** The instrument, or null when the engine must reject the definition. */
  static create(spec: InstrumentSpec): RefInstrument | null {
    if (!isId(spec.symbol)) return null;
    const tick = parseDec(spec.tickSize);
    const lot = parseDec(spec.lotSize);
    if (!tick || !lot || tick.int === 0n || lot.int === 0n) return null;
    const positive = (s: string | undefined, unit: Dec, dflt: number): number | null => {
      if (s == null) return dflt;
      const d = parseDec(s);
      const n = d ? unitsOf(d, unit) : null;
      return typeof n === 'number' && n > 0 ? n : null;
    };
    const minQty = positive(spec.minQty, lot, 1);
    const maxQty = positive(spec.maxQty, lot, Number.MAX_SAFE_INTEGER);
    const ref = positive(spec.referencePrice, tick, 0);
    if (minQty === null || maxQty === null || ref === null || maxQty < minQty) return null;
    let band: RefInstrument['band'] = null;
    if (spec.priceBand != null) {
      const b = parseDec(spec.priceBand);
      if (!b || b.scale > 22) return null;
      band = { num: b.int, den: 10n ** BigInt(b.scale) };
    }
    if (spec.status != null && spec.status !== 'open' && spec.status !== 'halted') return null;
    const i = new RefInstrument(spec.symbol, tick, lot, minQty, maxQty, band, ref);
    i.halted = spec.status === 'halted';
    return i;
  }

  private reference(): bigint {
    return BigInt(this.lastPrice || this.referencePrice);
  }

  /** A limit price more than the band away from the reference. */
  outOfBand(ticks: number): boolean {
    const ref = this.reference();
    if (!this.band || ref === 0n) return false;
    const p = BigInt(ticks);
    const diff = p > ref ? p - ref : ref - p;
    return diff * this.band.den > this.band.num * ref;
  }

  /** The worst price a market order may reach (the band's edge, taken at entry), or null for no limit. */
  collar(side: 0 | 1): bigint | null {
    const ref = this.reference();
    if (!this.band || ref === 0n) return null;
    const { num, den } = this.band;
    if (side === 0) return (ref * (den + num)) / den;
    if (num >= den) return null;
    const x = ref * (den - num);
    return x % den === 0n ? x / den : x / den + 1n;
  }
}
