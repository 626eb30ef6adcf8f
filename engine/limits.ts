// The limits on what a command may carry besides its decimals (decimal.ts has
// those), in one place. The engine rejects a command outside them as
// `invalid_order`; the log's codec (log/codec.ts) refuses the same values
// before they get a seq. One rule for both is what makes `matchlog apply` and
// `matchlog apply --log` accept and refuse exactly the same input.

/** The fields that identify things: accounts, client order ids, instruments. */
export const ID_FIELDS = ['account', 'clOrdId', 'origClOrdId', 'symbol'] as const;

export const MAX_ID_LENGTH = 64;
/** The range of an id's characters (client-ids.ts hashes ids under the same rule). */
export const ID_FIRST = 0x21; // '!'
export const ID_LAST = 0x7e; // '~'
const FIRST = ID_FIRST;
const LAST = ID_LAST;

/**
 * Printable ASCII without the space: every FIX engine, terminal, CSV export and
 * file name carries it unchanged, UTF-8 and UTF-16 agree on it, and nothing
 * that looks the same can be a different id (no control characters, no
 * look-alike letters, no lone surrogates).
 */
export const ID_RULE = `1 to ${MAX_ID_LENGTH} printable ASCII characters (0x21-0x7E, no space)`;

/**
 * Integer fields (orderId, depth): at most 2^52 in magnitude, what the log's
 * Avro longs carry exactly (avsc encodes JS-number longs only that far).
 */
export const MAX_INTEGER = 2 ** 52;

/** True for a string within ID_RULE. */
export function isId(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const n = v.length;
  if (n === 0 || n > MAX_ID_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < FIRST || c > LAST) return false;
  }
  return true;
}

/** Why `v` is not a valid id for the field `what`; null when it is one. */
export function idProblem(v: unknown, what: string): string | null {
  if (isId(v)) return null;
  if (v === undefined) return `${what} is required (${ID_RULE})`;
  if (typeof v !== 'string') return `${what} must be a string of ${ID_RULE}, got ${v === null ? 'null' : typeof v}`;
  if (v.length === 0) return `${what} is empty; an id is ${ID_RULE}`;
  if (v.length > MAX_ID_LENGTH) return `${what} is longer than ${MAX_ID_LENGTH} characters; an id is ${ID_RULE}`;
  let i = 0;
  while (i < v.length && v.charCodeAt(i) >= FIRST && v.charCodeAt(i) <= LAST) i++;
  const code = v.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0');
  return `${what} has character U+${code} at position ${i + 1}; an id is ${ID_RULE}`;
}

/** True for an integer within +-MAX_INTEGER. */
export function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_INTEGER;
}
