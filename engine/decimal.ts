// Decimal strings <-> integer multiples of a unit (tick or lot), exactly.
// A unit is mantissa * 10^-scale ("0.25" = 25e-2). Values off the unit grid are
// reported, never rounded. No floating point touches a price: every float
// operation below is on integers whose result is checked to be exact.
//
// Parsing is split from the conversion so the engine can judge a string's form
// (a shape error, answered before the symbol is even looked up) apart from its
// fit to an instrument's grid.

/** The limits of a decimal string; README.md "Matching rules" documents them. */
export const MAX_DECIMAL_CHARS = 40;
/**
 * Significant digits, counted from the first non-zero digit, trailing zeros
 * included: 15 digits always fit a double exactly (999,999,999,999,999 < 2^53).
 */
export const MAX_SIGNIFICANT_DIGITS = 15;
/** Most ticks in a price, lots in a quantity: the largest integer a double holds exactly. */
export const MAX_UNITS = Number.MAX_SAFE_INTEGER;
/** Most decimal places of a price band (its denominator, 10^places, must be an exact double). */
export const MAX_BAND_PLACES = 22;

// Results: a count >= 0, or one of these.
/** Not digits with at most one point ("12", "12.50", ".5"): signs, exponents, spaces, "1.", "". */
export const MALFORMED = -1;
/** Not a whole multiple of the unit. */
export const OFF_GRID = -2;
/** Longer than MAX_DECIMAL_CHARS. */
export const TOO_LONG = -3;
/** More than MAX_SIGNIFICANT_DIGITS significant digits. */
export const TOO_PRECISE = -4;
/** More than MAX_UNITS units. */
export const TOO_LARGE = -5;
/** A band with more than MAX_BAND_PLACES decimal places. */
export const TOO_MANY_PLACES = -6;

/** A decimal unit such as a tick size "0.01" or a lot size "100". */
export interface Unit {
  readonly mantissa: number;
  readonly scale: number;
  readonly text: string;
}

/** A parsed decimal: m * 10^-e, m < 10^15. */
export interface Parsed {
  m: number;
  e: number;
}

const POW10: number[] = [];
for (let i = 0, p = 1; i <= MAX_BAND_PLACES; i++, p *= 10) POW10.push(p);
const MAX_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** Parses an unsigned decimal into `out`; returns 0, MALFORMED, TOO_LONG or TOO_PRECISE. */
export function parseDecimal(s: unknown, out: Parsed): number {
  if (typeof s !== 'string') return MALFORMED;
  const n = s.length;
  if (n > MAX_DECIMAL_CHARS) return TOO_LONG;
  let m = 0;
  let e = 0;
  let digits = 0; // significant digits
  let seen = 0; // digit characters
  let dot = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) { // '.'
      if (dot) return MALFORMED;
      dot = true;
      continue;
    }
    if (c < 48 || c > 57) return MALFORMED;
    seen++;
    if (digits > 0 || c !== 48) digits++;
    if (dot) e++;
    m = m * 10 + (c - 48);
  }
  if (seen === 0 || (dot && e === 0)) return MALFORMED;
  if (digits > MAX_SIGNIFICANT_DIGITS) return TOO_PRECISE;
  out.m = m;
  out.e = e;
  return 0;
}

/** How many units the parsed value `p` is: a count, or OFF_GRID, or TOO_LARGE. */
export function unitsOf(p: Parsed, unit: Unit): number {
  let m = p.m;
  let e = p.e;
  // drop trailing fractional zeros: "1600.00" is 1600
  while (e > unit.scale && m % 10 === 0) { m /= 10; e--; }
  if (e > unit.scale) return OFF_GRID;
  const shift = unit.scale - e;
  if (shift < POW10.length) {
    const v = shift === 0 ? m : m * POW10[shift]; // exact whenever it is <= MAX_UNITS
    if (v <= MAX_UNITS) {
      // every price and quantity comes through here: a % of doubles is a call to
      // fmod in V8, so the usual units (mantissa 1: "0.01", "1") skip it, and
      // values that fit an int32 take the integer remainder
      const um = unit.mantissa;
      if (um === 1) return v;
      if (v <= 0x7fffffff) return (v | 0) % um === 0 ? v / um : OFF_GRID;
      return v % um === 0 ? v / um : OFF_GRID;
    }
  }
  // more than 2^53 of the unit's smallest steps: rare, decided exactly
  const v = BigInt(m) * 10n ** BigInt(shift);
  const um = BigInt(unit.mantissa);
  if (v % um !== 0n) return OFF_GRID;
  const units = v / um;
  return units > MAX_BIG ? TOO_LARGE : Number(units);
}

const scratch: Parsed = { m: 0, e: 0 };

/** How many units `s` is: a count >= 0, or a negative result code. */
export function toUnits(s: unknown, unit: Unit): number {
  const r = parseDecimal(s, scratch);
  return r < 0 ? r : unitsOf(scratch, unit);
}

/** A positive decimal unit (tick or lot size), or the negative result code; 0 says "zero". */
export function parseUnit(text: unknown): Unit | number {
  const r = parseDecimal(text, scratch);
  if (r < 0) return r;
  let { m, e } = scratch;
  if (m === 0) return 0;
  while (e > 0 && m % 10 === 0) { m /= 10; e--; }
  return { mantissa: m, scale: e, text: text as string };
}

/** A band fraction such as "0.1" as the rational num/den, or a negative result code. */
export function parseFraction(text: unknown): { num: number; den: number } | number {
  const r = parseDecimal(text, scratch);
  if (r < 0) return r;
  if (scratch.e > MAX_BAND_PLACES) return TOO_MANY_PLACES;
  return { num: scratch.m, den: POW10[scratch.e] };
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return v === null ? 'null' : typeof v;
}

/**
 * Why `value` (a `what`: "price", "qty", "tickSize" ...) was refused, for a
 * negative result `code`; `unit` and `unitName` ("tick", "lot") for grid codes.
 * Every text names the limit that was crossed.
 */
export function decimalProblem(code: number, what: string, value: unknown, unit?: Unit, unitName = 'unit'): string {
  switch (code) {
    case TOO_LONG: return `${what} is longer than ${MAX_DECIMAL_CHARS} characters`;
    case TOO_PRECISE: return `${what} ${String(value)} has more than ${MAX_SIGNIFICANT_DIGITS} significant digits`;
    case OFF_GRID: return `${what} ${String(value)} is not a multiple of ${unitName} size ${unit?.text}`;
    case TOO_MANY_PLACES: return `${what} ${String(value)} has more than ${MAX_BAND_PLACES} decimal places`;
    case TOO_LARGE: return `${what} ${String(value)} exceeds ${MAX_UNITS} (2^53-1) ${unitName}s of ${unit?.text}`;
    default: return `${what} must be a decimal string (digits with at most one point, such as "12.5"), got ${show(value)}`;
  }
}

/** Formats `n` units as a minimal decimal string ("1600", "0.05"). */
export function fromUnits(n: number, unit: Unit): string {
  const v = n * unit.mantissa;
  return formatScaled(Number.isSafeInteger(v) ? v : BigInt(n) * BigInt(unit.mantissa), unit.scale);
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

/** Exact value of a notional (ticks * lots, a number or a bigint) in price * quantity units. */
export function formatNotional(tickLots: number | bigint, tick: Unit, lot: Unit): string {
  const scale = tick.scale + lot.scale;
  if (typeof tickLots === 'number') {
    // for tickLots >= 1 the product is >= m, so an inexact m never passes this test
    const v = tickLots * (tick.mantissa * lot.mantissa);
    if (v <= Number.MAX_SAFE_INTEGER) return formatScaled(v, scale);
  }
  return formatScaled(BigInt(tickLots) * BigInt(tick.mantissa) * BigInt(lot.mantissa), scale);
}
