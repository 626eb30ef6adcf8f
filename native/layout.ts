// The numbers the TypeScript side and the Rust addon must agree on: the io
// buffer's offsets, the fill record's stride and fields, its capacity, the stop
// and side codes (all in native/ladder.ts), the hot function's operand slot and
// op codes (here), and a layout version. Both sides keep them by hand; the addon
// exports its own table (`layout()`, src/ladder.rs `LAYOUT`) and the loader
// (index.ts) refuses an addon whose table differs from LAYOUT below in any field.

import {
  BUY, F_HANDLE, F_LEAVES, F_LEVEL_ORDERS, F_LEVEL_QTY, F_PRICE, F_QTY, FILL_CAPACITY, FILL_STRIDE, IO_COUNT, IO_HANDLE,
  IO_HEADER, IO_LENGTH, IO_LEVEL_ORDERS, IO_LEVEL_QTY, IO_RESULT, IO_STOP, NO_LIMIT_BUY, NO_LIMIT_SELL, SELL, STOP_DONE,
  STOP_FULL,
} from './ladder.js';

/**
 * Version of the io layout and op protocol. Bump it (here and LAYOUT_VERSION in
 * src/ladder.rs) when the meaning of a slot or an op changes while every number
 * stays the same, so that an addon built before the change is still refused.
 */
export const LAYOUT_VERSION = 2; // 2: one ladder per engine (book operands, caller-chosen handles, OP_ADD_BOOK)

/**
 * In the native ladder's scratch: io[IO_BEST + side] is the best price of that side (NaN:
 * empty) of book io[IO_BEST_BOOK], the book the last add/remove/reduce/match touched,
 * published by the addon so that `best()` of that book reads memory instead of crossing
 * (one ladder serves every book; the engine asks about the book it is working on).
 * +Infinity (never a price) once the ladder is unusable, which sends `best()` to the
 * crossing, and the crossing throws. io[IO_BEST_BOOK] is -1 until a book is touched.
 */
export const IO_BEST = 6;
export const IO_BEST_BOOK = 8;

/** The hot function's operands: op code at io[IO_ARGS], operands at io[IO_ARGS + 1..IO_ARGS + 9) (match takes 8). */
export const IO_ARGS = 9;

// Op codes of the hot function run(id) (src/binding.rs).
export const OP_ADD = 1;
export const OP_REMOVE = 2;
export const OP_REDUCE = 3;
export const OP_MATCH = 4;
export const OP_FILLABLE = 5;
export const OP_BEST = 6;
export const OP_LEVEL_QTY = 7;
export const OP_LEVEL_ORDERS = 8;
export const OP_LEVEL_COUNT = 9;
export const OP_ORDER_COUNT = 10;
export const OP_QTY_OF = 11;
export const OP_PRICE_OF = 12;
export const OP_ADD_BOOK = 13;

/** A layout: field name -> number. */
export type Layout = Readonly<Record<string, number>>;

/** The layout this TypeScript side speaks; the addon's `layout()` must answer exactly this. */
export const LAYOUT: Layout = Object.freeze({
  LAYOUT_VERSION,
  BUY, SELL, NO_LIMIT_BUY, NO_LIMIT_SELL,
  STOP_DONE, STOP_FULL,
  IO_STOP, IO_COUNT, IO_HANDLE, IO_LEVEL_QTY, IO_LEVEL_ORDERS, IO_RESULT, IO_BEST, IO_BEST_BOOK, IO_ARGS, IO_HEADER,
  FILL_STRIDE, F_HANDLE, F_PRICE, F_QTY, F_LEAVES, F_LEVEL_QTY, F_LEVEL_ORDERS,
  FILL_CAPACITY, IO_LENGTH,
  OP_ADD, OP_REMOVE, OP_REDUCE, OP_MATCH, OP_FILLABLE, OP_BEST, OP_LEVEL_QTY, OP_LEVEL_ORDERS, OP_LEVEL_COUNT,
  OP_ORDER_COUNT, OP_QTY_OF, OP_PRICE_OF, OP_ADD_BOOK,
});

/** One field on which two layouts disagree; undefined: the field is absent on that side. */
export interface LayoutDifference {
  field: string;
  expected: number | undefined;
  found: unknown;
}

/** The fields on which `found` differs from `expected` (absent, extra or another value), in a stable order. */
export function layoutDifferences(found: Readonly<Record<string, unknown>>, expected: Layout = LAYOUT): LayoutDifference[] {
  const out: LayoutDifference[] = [];
  for (const field of Object.keys(expected)) {
    const f = Object.hasOwn(found, field) ? found[field] : undefined;
    if (!Object.is(f, expected[field])) out.push({ field, expected: expected[field], found: f });
  }
  for (const field of Object.keys(found).sort()) {
    if (!Object.hasOwn(expected, field)) out.push({ field, expected: undefined, found: found[field] });
  }
  return out;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  return `a ${v === null ? 'null' : typeof v}`;
}

/**
 * Why an addon whose `layout()` answered `found` must be refused, or null when it
 * matches `expected` exactly. `found` undefined means the addon exports no layout
 * (built before it did). Pure: the loader calls it at load time, tests call it directly.
 */
export function layoutRefusal(found: unknown, expected: Layout = LAYOUT): string | null {
  if (found === undefined) return 'the addon exports no layout: rebuild it (node scripts/build-native.mjs)';
  if (typeof found !== 'object' || found === null || Array.isArray(found)) {
    return `the addon's layout() answered ${show(found)}, not an object of numbers: rebuild it (node scripts/build-native.mjs)`;
  }
  // the addon's object is a plain JS object; read its own enumerable fields only
  const table: Record<string, unknown> = Object.fromEntries(Object.entries(found));
  const diffs = layoutDifferences(table, expected);
  if (diffs.length === 0) return null;
  const each = diffs.map((d) => `${d.field} expected ${show(d.expected)}, found ${show(d.found)}`);
  return `the addon's io layout differs from this build's native/ladder.ts and native/layout.ts ` +
    `(${diffs.length} field${diffs.length === 1 ? '' : 's'}: ${each.join('; ')}): rebuild it (node scripts/build-native.mjs); ` +
    'if a fresh build still differs, src/ladder.rs (LAYOUT) and native/ladder.ts or native/layout.ts disagree';
}
