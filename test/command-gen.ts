// Random command streams for property tests: two instruments (one on a decimal
// grid with a price band), three accounts, a small pool of client order ids so
// that cancels, replaces and duplicates hit live orders often.

import fc from 'fast-check';
import type { Command } from '../engine/index.js';

export const INSTRUMENTS: Command[] = [
  { op: 'instrument', symbol: 'AAA', tickSize: '1', lotSize: '1', minQty: '1', maxQty: '1000' },
  { op: 'instrument', symbol: 'BBB', tickSize: '0.05', lotSize: '10', minQty: '10', maxQty: '100000', priceBand: '0.05', referencePrice: '100' },
];

const accounts = ['alice', 'bob', 'carol'];
const ids = Array.from({ length: 6 }, (_, i) => `c${i}`);

const priceAAA = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 90, max: 110 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('100.5', '0', 'abc', '-5') },
);
const priceBBB = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 1900, max: 2100 }).map((n) => (n / 20).toFixed(2)) },
  { weight: 4, arbitrary: fc.integer({ min: 1700, max: 2360 }).map((n) => (n / 20).toFixed(2)) },
  { weight: 1, arbitrary: fc.constantFrom('100.03', '150', '79.95') },
);
const qtyAAA = fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 1, max: 30 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom('0', '1.5', '5000') });
const qtyBBB = fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 1, max: 30 }).map((n) => String(n * 10)) }, { weight: 1, arbitrary: fc.constantFrom('15', '0') });

const symbolArb = fc.constantFrom('AAA', 'AAA', 'BBB');
const side = fc.constantFrom('buy' as const, 'sell' as const);
const stp = fc.constantFrom(undefined, 'cancel_resting' as const, 'cancel_incoming' as const, 'cancel_both' as const);

const newLimit = fc.record({ symbol: symbolArb, account: fc.constantFrom(...accounts), clOrdId: fc.constantFrom(...ids), side, stp,
  tif: fc.constantFrom('GTC' as const, 'GTC' as const, 'GTC' as const, 'IOC' as const, 'FOK' as const),
  postOnly: fc.constantFrom(false, false, false, true), pa: priceAAA, pb: priceBBB, qa: qtyAAA, qb: qtyBBB })
  .map((r): Command => ({ op: 'new', account: r.account, clOrdId: r.clOrdId, symbol: r.symbol, side: r.side, type: 'limit',
    price: r.symbol === 'AAA' ? r.pa : r.pb, qty: r.symbol === 'AAA' ? r.qa : r.qb, tif: r.tif,
    ...(r.postOnly ? { postOnly: true } : {}), ...(r.stp ? { stp: r.stp } : {}) }));

const newMarket = fc.record({ symbol: symbolArb, account: fc.constantFrom(...accounts), clOrdId: fc.constantFrom(...ids), side, stp,
  tif: fc.constantFrom('IOC' as const, 'FOK' as const), qa: qtyAAA, qb: qtyBBB })
  .map((r): Command => ({ op: 'new', account: r.account, clOrdId: r.clOrdId, symbol: r.symbol, side: r.side, type: 'market',
    qty: r.symbol === 'AAA' ? r.qa : r.qb, tif: r.tif, ...(r.stp ? { stp: r.stp } : {}) }));

const cancel = fc.record({ account: fc.constantFrom(...accounts), clOrdId: fc.constantFrom(...ids), orig: fc.constantFrom(...ids) })
  .map((r): Command => ({ op: 'cancel', account: r.account, clOrdId: `x${r.clOrdId}`, origClOrdId: r.orig }));

const cancelById = fc.record({ account: fc.constantFrom(...accounts), orderId: fc.integer({ min: 1, max: 200 }) })
  .map((r): Command => ({ op: 'cancel', account: r.account, clOrdId: 'byid', orderId: r.orderId }));

const replace = fc.record({ symbol: symbolArb, account: fc.constantFrom(...accounts), clOrdId: fc.constantFrom(...ids), orig: fc.constantFrom(...ids),
  keepPrice: fc.boolean(), pa: priceAAA, pb: priceBBB, qa: qtyAAA, qb: qtyBBB })
  .map((r): Command => ({ op: 'replace', account: r.account, clOrdId: r.clOrdId, origClOrdId: r.orig,
    ...(r.keepPrice ? {} : { price: r.symbol === 'AAA' ? r.pa : r.pb }), qty: r.symbol === 'AAA' ? r.qa : r.qb }));

const mass = fc.record({ account: fc.constantFrom(...accounts), symbol: fc.constantFrom(undefined, 'AAA', 'BBB') })
  .map((r): Command => ({ op: 'massCancel', account: r.account, ...(r.symbol ? { symbol: r.symbol } : {}) }));

const haltResume = fc.record({ symbol: fc.constantFrom('AAA', 'BBB'), halt: fc.boolean() })
  .map((r): Command => ({ op: r.halt ? 'halt' : 'resume', symbol: r.symbol }));

const bookQuery = fc.constantFrom<Command>({ op: 'book', symbol: 'AAA', depth: 5 }, { op: 'book', symbol: 'BBB' });

export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 50, arbitrary: newLimit },
  { weight: 6, arbitrary: newMarket },
  { weight: 15, arbitrary: cancel },
  { weight: 3, arbitrary: cancelById },
  { weight: 12, arbitrary: replace },
  { weight: 2, arbitrary: mass },
  { weight: 1, arbitrary: haltResume },
  { weight: 1, arbitrary: bookQuery },
);

/** A stream: the instruments, then `maxLength` random commands at most. */
export function streamArb(maxLength = 120): fc.Arbitrary<Command[]> {
  return fc.array(commandArb, { minLength: 1, maxLength, size: 'max' }).map((cmds) => [...INSTRUMENTS, ...cmds]);
}

// --- deep books: more fills in one command than the ladder's fill buffer holds (256) ---

/** One order of a deep book, in placement order. */
export interface DeepOrder {
  account: string;
  clOrdId: string;
  /** 0 is the best level (nearest the other side). */
  level: number;
  price: string;
  qty: string;
}

export interface DeepBookSpec {
  symbol: string;
  /** The side the orders rest on. */
  side: 'buy' | 'sell';
  count: number;
  levels: number;
  /** Decimal price of a level (level 0 best). */
  price(level: number): string;
  /** Account of order i, the k-th order placed at its level. */
  account(i: number, level: number, k: number): string;
  qty(i: number): string;
  tag: string;
}

/**
 * A deep book as placement-ordered orders: order i goes to level (i * 7) % levels
 * (every level when `levels` is prime to 7), so placement order is not priority order.
 */
export function deepBook(spec: DeepBookSpec): DeepOrder[] {
  const placed = new Array<number>(spec.levels).fill(0);
  const out: DeepOrder[] = [];
  for (let i = 0; i < spec.count; i++) {
    const level = (i * 7) % spec.levels;
    const k = placed[level]++;
    out.push({ account: spec.account(i, level, k), clOrdId: `${spec.tag}${i}`, level, price: spec.price(level), qty: spec.qty(i) });
  }
  return out;
}

/** The GTC limit orders that build a deep book. */
export function deepBookCommands(symbol: string, side: 'buy' | 'sell', orders: DeepOrder[]): Command[] {
  return orders.map((o): Command => ({ op: 'new', account: o.account, clOrdId: o.clOrdId, symbol, side, type: 'limit', price: o.price, qty: o.qty, tif: 'GTC' }));
}
