// Exact money. A notional (price in ticks x quantity in lots, summed over fills)
// can pass 2^53 long before either factor does: 100.00000001 at 65000.01 on a
// 0.01 tick and a 1e-8 lot is 6,500,001 ticks x 10,000,000,001 lots. Floats would
// silently round it (and AvgPx with it), so a notional is an integer that is a
// JS number while it is a safe integer and a bigint only beyond that.
//
// The form is canonical: a value <= 2^53-1 is always a number, a larger one
// always a bigint. Equal values therefore have equal representations, which is
// what keeps `===`, the state hash and the snapshot simple, and the common case
// costs one multiply, one add and two compares, with no allocation.

export type Notional = number | bigint;

const MAX = Number.MAX_SAFE_INTEGER;
const MAX_BIG = BigInt(MAX);

/** `cum` plus one fill of `qtyLots` at `priceTicks` (non-negative safe integers). */
export function addFill(cum: Notional, priceTicks: number, qtyLots: number): Notional {
  // Float rounding is monotonic: if the exact product (sum) is <= MAX it is
  // representable and computed exactly; if it is > MAX the float result is
  // >= 2^53 > MAX. So these compares decide exactly which path is exact.
  const p = priceTicks * qtyLots;
  if (typeof cum === 'number' && p <= MAX) {
    const s = cum + p;
    if (s <= MAX) return s;
  }
  // here the exact result exceeds MAX, so a bigint is the canonical form
  return BigInt(cum) + BigInt(priceTicks) * BigInt(qtyLots);
}

/** The canonical form of a non-negative integer. */
export function canonical(v: bigint): Notional {
  return v <= MAX_BIG ? Number(v) : v;
}

/**
 * A notional from plain data (a snapshot): a non-negative safe integer or a
 * string of decimal digits; null for anything else.
 */
export function notionalFrom(v: unknown): Notional | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v !== 'string' || !/^[0-9]{1,80}$/.test(v)) return null;
  return canonical(BigInt(v));
}

/** Plain data for JSON and snapshots: a number while safe, else the decimal string. */
export function notionalPlain(v: Notional): number | string {
  return typeof v === 'number' ? v : v.toString();
}
