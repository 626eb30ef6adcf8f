// Decimal strings <-> integer multiples of a unit (tick or lot), exactly.
// A unit is mantissa * 10^-scale ("0.25" = 25e-2). Values off the unit grid are
// reported, never rounded. No floating point touches a price.

export const MALFORMED = -1;
export const OFF_GRID = -2;

/** A decimal unit such as a tick size "0.01" or a lot size "100". */
export interface Unit {
  readonly mantissa: number;
  readonly scale: number;
  readonly text: string;
}

const POW10: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POW10.push(p);

/** Largest integer we accept before units are applied: 15 significant digits stay exact. */
const MAX_MANTISSA = 999_999_999_999_999;

/**
 * Parses an unsigned decimal ("12", "12.50", ".5") into mantissa and scale.
 * Returns false for anything else (signs, exponents, spaces, empty, too long).
 */
function parseInto(s: string, out: { m: number; e: number }): boolean {
  const n = s.length;
  if (n === 0 || n > 40) return false;
  let m = 0;
  let e = 0;
  let digits = 0; // significant digits
  let seen = 0; // digit characters
  let dot = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) { // '.'
      if (dot) return false;
      dot = true;
      continue;
    }
    if (c < 48 || c > 57) return false;
    seen++;
    if (digits > 0 || c !== 48) digits++;
    if (dot) e++;
    m = m * 10 + (c - 48);
  }
  if (seen === 0 || (dot && e === 0) || digits > 15 || m > MAX_MANTISSA) return false;
  out.m = m;
  out.e = e;
  return true;
}

const scratch = { m: 0, e: 0 };

export function parseUnit(text: string): Unit | null {
  if (typeof text !== 'string' || !parseInto(text, scratch) || scratch.m === 0) return null;
  let { m, e } = scratch;
  while (e > 0 && m % 10 === 0) { m /= 10; e--; }
  return { mantissa: m, scale: e, text };
}

/**
 * How many units `s` is: a non-negative integer, or MALFORMED, or OFF_GRID when
 * the value is not a whole multiple of the unit.
 */
export function toUnits(s: unknown, unit: Unit): number {
  if (typeof s !== 'string' || !parseInto(s, scratch)) return MALFORMED;
  let m = scratch.m;
  let e = scratch.e;
  // drop trailing fractional zeros: "1600.00" is 1600
  while (e > unit.scale && m % 10 === 0) { m /= 10; e--; }
  if (e > unit.scale) return OFF_GRID;
  const shift = unit.scale - e;
  if (shift > 0) {
    if (shift >= POW10.length) return MALFORMED;
    m *= POW10[shift];
    if (m > Number.MAX_SAFE_INTEGER) return MALFORMED;
  }
  if (m % unit.mantissa !== 0) return OFF_GRID;
  return m / unit.mantissa;
}

/** Formats `n` units as a minimal decimal string ("1600", "0.05"). */
export function fromUnits(n: number, unit: Unit): string {
  return formatScaled(n * unit.mantissa, unit.scale);
}

/** Formats the integer `v` * 10^-scale, trailing zeros removed. */
export function formatScaled(v: number | bigint, scale: number): string {
  let neg = false;
  let s: string;
  if (typeof v === 'bigint') {
    if (v < 0n) { neg = true; v = -v; }
    s = v.toString();
  } else {
    if (v < 0) { neg = true; v = -v; }
    s = Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
  }
  if (scale > 0) {
    if (s.length <= scale) s = '0'.repeat(scale - s.length + 1) + s;
    let intPart = s.slice(0, s.length - scale);
    let frac = s.slice(s.length - scale);
    let end = frac.length;
    while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
    frac = frac.slice(0, end);
    if (intPart === '') intPart = '0';
    s = frac ? `${intPart}.${frac}` : intPart;
  }
  return neg ? '-' + s : s;
}

/** Exact value of ticks * lots in price * quantity units (a notional). */
export function formatNotional(tickLots: number, tick: Unit, lot: Unit): string {
  const m = tick.mantissa * lot.mantissa;
  const v = Number.isSafeInteger(tickLots * m) ? tickLots * m : BigInt(tickLots) * BigInt(m);
  return formatScaled(v, tick.scale + lot.scale);
}

/** A band fraction such as "0.1" as the rational num/den. */
export function parseFraction(text: string): { num: number; den: number } | null {
  if (typeof text !== 'string' || !parseInto(text, scratch)) return null;
  if (scratch.e >= POW10.length) return null;
  return { num: scratch.m, den: POW10[scratch.e] };
}
