// Random command streams for property tests: four instruments, three accounts,
// a small pool of client order ids so that cancels, replaces and duplicates hit
// live orders often.
// - AAA: integer grid; BBB: decimal grid with a price band.
// - CCC: a crypto-style grid (tick 0.01, lot 0.00000001), where one fill's
//   ticks x lots passes 2^53 and notionals are bigints.
// - DDD: prices near 10^14 ticks with a 7-place band, whose edge a float
//   comparison gets wrong (diff x den and num x ref beyond 2^53).
// Now and then an id or a decimal breaks a documented limit, and now and then a
// deep book (hundreds of orders) is built and swept, for walks longer than the
// ladder's fill buffer; deepBook() builds such books for the unit tests too.

import fc from 'fast-check';
import type { Command } from '../engine/index.js';

/** DDD's reference price; DDD_EDGE[0] is just out of the band, where floats say it is in. */
const DDD_REF = 100000003363047;
const DDD_EDGE = [100012343363462, 100012343363461, 99987663362632, 99987663362633];

export const INSTRUMENTS: Command[] = [
  { op: 'instrument', symbol: 'AAA', tickSize: '1', lotSize: '1', minQty: '1', maxQty: '1000' },
  { op: 'instrument', symbol: 'BBB', tickSize: '0.05', lotSize: '10', minQty: '10', maxQty: '100000', priceBand: '0.05', referencePrice: '100' },
  { op: 'instrument', symbol: 'CCC', tickSize: '0.01', lotSize: '0.00000001', priceBand: '0.1', referencePrice: '65000' },
  { op: 'instrument', symbol: 'DDD', tickSize: '1', lotSize: '1', maxQty: '1000', priceBand: '0.0001234', referencePrice: String(DDD_REF) },
];

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD'] as const;
type Sym = typeof SYMBOLS[number];

const accounts = ['alice', 'bob', '!carol~'];
const ids = Array.from({ length: 6 }, (_, i) => `c${i}`);
/** Ids outside the rule (1-64 characters 0x21-0x7E), now and then. */
const badIds = ['', 'c 1', 'x'.repeat(65), 'c\u00e9', '\ud800', 'tab\t', 'del\u007f'];
const idArb = (pool: string[]) => fc.oneof({ weight: 60, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fc.constantFrom(...badIds) });
/** Decimals at and outside the limits: 17, 16 and 15 significant digits, 41 characters, bad form. */
const badDecimals = ['1.0000000000000001', '1.000000000000001', '1.00000000000001', '100.0000000000000', '1'.repeat(41), '1.', '1e2'];

/** `n` units of 10^-places as a decimal string, exactly. */
function scaled(n: number, places: number): string {
  const s = String(n).padStart(places + 1, '0');
  return `${s.slice(0, s.length - places)}.${s.slice(s.length - places)}`;
}

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
const priceCCC = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 6_450_000, max: 6_550_000 }).map((n) => scaled(n, 2)) },
  { weight: 3, arbitrary: fc.integer({ min: 5_500_000, max: 7_500_000 }).map((n) => scaled(n, 2)) },
  // the price; off tick; 10^17 ticks (too many)
  { weight: 1, arbitrary: fc.constantFrom('65000.01', '65000.001', '999999999999999') },
);
const qtyCCC = fc.oneof(
  // up to 200: one fill at ~6.5e6 ticks x 2e10 lots is ~1.3e17 > 2^53
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 20_000_000_000 }).map((n) => scaled(n, 8)) },
  // small ones, whose sums cross 2^53 over several fills
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 2_000_000_000 }).map((n) => scaled(n, 8)) },
  // the qty; off lot; 10^22 lots (too many)
  { weight: 1, arbitrary: fc.constantFrom('100.00000001', '0.000000001', '99999999999999') },
);
const priceDDD = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: -20_000_000_000, max: 20_000_000_000 }).map((d) => String(DDD_REF + d)) },
  { weight: 3, arbitrary: fc.constantFrom(...DDD_EDGE.map(String)) },
);
const qtyDDD = fc.integer({ min: 1, max: 20 }).map(String);

const PRICES: Record<Sym, fc.Arbitrary<string>> = { AAA: priceAAA, BBB: priceBBB, CCC: priceCCC, DDD: priceDDD };
const QTYS: Record<Sym, fc.Arbitrary<string>> = { AAA: qtyAAA, BBB: qtyBBB, CCC: qtyCCC, DDD: qtyDDD };
const withBad = (a: fc.Arbitrary<string>) => fc.oneof({ weight: 40, arbitrary: a }, { weight: 1, arbitrary: fc.constantFrom(...badDecimals) });
/** A symbol with a price and a quantity on its grid (mostly). */
const terms = fc.constantFrom<Sym>('AAA', 'AAA', 'BBB', 'CCC', 'DDD')
  .chain((symbol) => fc.record({ symbol: fc.constant(symbol), price: withBad(PRICES[symbol]), qty: withBad(QTYS[symbol]) }));
const side = fc.constantFrom('buy' as const, 'sell' as const);
const stp = fc.constantFrom(undefined, 'cancel_resting' as const, 'cancel_incoming' as const, 'cancel_both' as const);

const newLimit = fc.record({ t: terms, account: idArb(accounts), clOrdId: idArb(ids), side, stp,
  tif: fc.constantFrom('GTC' as const, 'GTC' as const, 'GTC' as const, 'IOC' as const, 'FOK' as const),
  postOnly: fc.constantFrom(false, false, false, true) })
  .map((r): Command => ({ op: 'new', account: r.account, clOrdId: r.clOrdId, symbol: r.t.symbol, side: r.side, type: 'limit',
    price: r.t.price, qty: r.t.qty, tif: r.tif, ...(r.postOnly ? { postOnly: true } : {}), ...(r.stp ? { stp: r.stp } : {}) }));

const newMarket = fc.record({ t: terms, account: idArb(accounts), clOrdId: idArb(ids), side, stp,
  tif: fc.constantFrom('IOC' as const, 'FOK' as const) })
  .map((r): Command => ({ op: 'new', account: r.account, clOrdId: r.clOrdId, symbol: r.t.symbol, side: r.side, type: 'market',
    qty: r.t.qty, tif: r.tif, ...(r.stp ? { stp: r.stp } : {}) }));

const cancel = fc.record({ account: idArb(accounts), clOrdId: fc.constantFrom(...ids), orig: idArb(ids) })
  .map((r): Command => ({ op: 'cancel', account: r.account, clOrdId: `x${r.clOrdId}`, origClOrdId: r.orig }));

const cancelById = fc.record({ account: fc.constantFrom(...accounts), orderId: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 1, max: 200 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, 2 ** 53) }) })
  .map((r): Command => ({ op: 'cancel', account: r.account, clOrdId: 'byid', orderId: r.orderId }));

const replace = fc.record({ t: terms, account: fc.constantFrom(...accounts), clOrdId: idArb(ids), orig: fc.constantFrom(...ids), keepPrice: fc.boolean() })
  .map((r): Command => ({ op: 'replace', account: r.account, clOrdId: r.clOrdId, origClOrdId: r.orig,
    ...(r.keepPrice ? {} : { price: r.t.price }), qty: r.t.qty }));

const mass = fc.record({ account: fc.constantFrom(...accounts), symbol: fc.constantFrom(undefined, ...SYMBOLS) })
  .map((r): Command => ({ op: 'massCancel', account: r.account, ...(r.symbol ? { symbol: r.symbol } : {}) }));

const haltResume = fc.record({ symbol: fc.constantFrom(...SYMBOLS), halt: fc.boolean() })
  .map((r): Command => ({ op: r.halt ? 'halt' : 'resume', symbol: r.symbol }));

const bookQuery = fc.constantFrom<Command>({ op: 'book', symbol: 'AAA', depth: 5 }, { op: 'book', symbol: 'BBB' }, { op: 'book', symbol: 'CCC', depth: 3 });

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

/**
 * A deep book on one side of AAA or BBB (260-330 small orders over up to 40
 * levels, the taker's own account sparse among them or absent), then one
 * aggressor that may sweep it: often more than 256 fills in one command.
 */
const deepChunk: fc.Arbitrary<Command[]> = fc.record({
  symbol: fc.constantFrom('AAA', 'BBB'), side, count: fc.integer({ min: 260, max: 330 }), levels: fc.integer({ min: 1, max: 40 }),
  base: fc.integer({ min: -5, max: 5 }), taker: fc.nat(2), ownEvery: fc.constantFrom(0, 0, 37, 150, 300), tag: fc.nat(999),
  type: fc.constantFrom('market' as const, 'limit' as const, 'limit' as const), tif: fc.constantFrom('GTC' as const, 'IOC' as const, 'FOK' as const), stp,
  reach: fc.oneof(fc.constant(40), fc.integer({ min: -2, max: 40 })), want: fc.integer({ min: 300, max: 1000 }),
}).map((r): Command[] => {
  const aaa = r.symbol === 'AAA';
  const dir = r.side === 'sell' ? 1 : -1;
  // ticks: AAA 1 (about 100), BBB 0.05 (about 100.00, within its 5% band)
  const price = (level: number) => (aaa ? String(100 + r.base + dir * level) : ((2000 + r.base + dir * level) / 20).toFixed(2));
  const lots = (n: number) => (aaa ? String(n) : String(n * 10));
  const me = accounts[r.taker];
  const others = accounts.filter((a) => a !== me);
  const orders = deepBook({
    symbol: r.symbol, side: r.side, count: r.count, levels: r.levels, price, tag: `d${r.tag}.`, qty: (i) => lots(1 + (i % 2)),
    account: (i) => (r.ownEvery > 0 && i % r.ownEvery === r.ownEvery - 1 ? me : others[i % 2]),
  });
  const tif = r.type === 'market' && r.tif === 'GTC' ? 'IOC' : r.tif;
  const sweep: Command = { op: 'new', account: me, clOrdId: `sweep${r.tag}`, symbol: r.symbol, side: r.side === 'sell' ? 'buy' : 'sell',
    type: r.type, qty: lots(r.want), tif, ...(r.stp ? { stp: r.stp } : {}), ...(r.type === 'limit' ? { price: price(Math.max(0, r.reach)) } : {}) };
  return [...deepBookCommands(r.symbol, r.side, orders), sweep];
});

/** A stream: the instruments, then `maxLength` random commands at most; about one stream in 30 also builds a deep book and sweeps it. */
export function streamArb(maxLength = 120): fc.Arbitrary<Command[]> {
  const deep = fc.oneof({ weight: 29, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: deepChunk });
  return fc.tuple(fc.array(commandArb, { minLength: 1, maxLength, size: 'max' }), deep, fc.nat())
    .map(([cmds, chunk, at]) => {
      if (chunk === null) return [...INSTRUMENTS, ...cmds];
      const k = at % (cmds.length + 1);
      return [...INSTRUMENTS, ...cmds.slice(0, k), ...chunk, ...cmds.slice(k)];
    });
}
