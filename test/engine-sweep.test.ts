// Deep sweeps: one command with more fills than the ladder's fill buffer holds
// (FILL_CAPACITY = 256), so the walk must resume after every full buffer. Books
// of 720 orders of several accounts over 60 levels, the aggressor's own orders
// interleaved on the way, in each self-trade prevention mode, on both ladders.
// Every trade, every STP cancellation, the aggressor's end and the final book
// are checked against a walk over the known queue, and the whole event stream
// against the naive reference model.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEngine, formatEvent, type Command, type Engine, type ExternalEvent, type StpName } from '../engine/index.js';
import { FILL_CAPACITY } from '../native/ladder.js';
import { createLadder, nativeAvailable } from '../native/index.js';
import { deepBook, deepBookCommands, type DeepOrder } from './command-gen.js';
import { ReferenceModel } from './reference-model.js';
import { applied } from './engine-helpers.js';

const LEVELS = 60;
const PER_LEVEL = 12;
const COUNT = LEVELS * PER_LEVEL;
const ME = 'me';

/** A resting order as the test expects it, in priority order. */
interface Rest { orderId: number; account: string; clOrdId: string; level: number; price: number; leaves: number; cum: number; notional: number }

interface Scenario {
  /** The side the book rests on; the aggressor takes the other. */
  side: 'buy' | 'sell';
  /** Is the k-th order placed at `level` the aggressor's own? */
  own(level: number, k: number): boolean;
  taker: { type: 'market' | 'limit'; tif: 'GTC' | 'IOC' | 'FOK'; stp: StpName; qty: (queue: Rest[]) => number; level?: number };
}

const priceOf = (side: 'buy' | 'sell', level: number) => (side === 'sell' ? 1001 + level : 1000 - level);

function build(sc: Scenario): { cmds: Command[]; queue: Rest[] } {
  const orders: DeepOrder[] = deepBook({
    symbol: 'X', side: sc.side, count: COUNT, levels: LEVELS, tag: 'r',
    price: (level) => String(priceOf(sc.side, level)),
    account: (i, level, k) => (sc.own(level, k) ? ME : `m${i % 4}`),
    qty: (i) => String(1 + (i % 4)),
  });
  const cmds: Command[] = [{ op: 'instrument', symbol: 'X', tickSize: '1', lotSize: '1', maxQty: '1000000' }, ...deepBookCommands('X', sc.side, orders)];
  const queue = orders
    .map((o, i) => ({ orderId: i + 2, account: o.account, clOrdId: o.clOrdId, level: o.level, price: Number(o.price), leaves: Number(o.qty), cum: 0, notional: 0 }))
    .sort((a, b) => a.level - b.level || a.orderId - b.orderId);
  return { cmds, queue };
}

const cancelledQty = (e: ExternalEvent) => e.cancelledQty;

/** The aggressor's events in a compact form that still names every number. */
function compact(e: ExternalEvent): string {
  switch (e.type) {
    case 'trade':
      return `trade ${e.tradeId} ${e.makerClOrdId}(${e.makerOrderId},${e.makerAccount}) ${e.qty}@${e.price} maker ${e.makerLeavesQty}/${e.makerCumQty}/${e.makerCumNotional} taker ${e.takerLeavesQty}/${e.takerCumQty}/${e.takerCumNotional}`;
    case 'cancelled':
      return `cancelled:${e.reason} ${e.clOrdId}(${e.orderId}) ${cancelledQty(e)}`;
    case 'bookDelta':
      return `delta ${e.side} ${e.qty}@${e.price}/${e.orders}`;
    default:
      return String(e.type);
  }
}

/**
 * What the aggressor must do to `queue` (mutated to the book left behind): the
 * walk written out over a plain array, best first, FIFO, never past the limit.
 */
function expectWalk(sc: Scenario, queue: Rest[], seq: number, want: number): string[] {
  const opp = sc.side;
  const mine = opp === 'sell' ? 'buy' : 'sell';
  const out = ['accepted'];
  const delta = (level: number) => {
    const at = queue.filter((r) => r.level === level && r.leaves > 0);
    out.push(`delta ${opp} ${at.reduce((s, r) => s + r.leaves, 0)}@${priceOf(opp, level)}/${at.length}`);
  };
  let left = want;
  let cum = 0;
  let notional = 0;
  let self = false;
  let pending = -1;
  let n = 0;
  const touch = (level: number) => {
    if (pending >= 0 && pending !== level) delta(pending);
    pending = level;
  };
  for (const r of queue) {
    if (left === 0 || (sc.taker.level !== undefined && r.level > sc.taker.level)) break;
    if (r.account === ME) {
      if (sc.taker.stp === 'cancel_incoming') { self = true; break; }
      touch(r.level);
      out.push(`cancelled:stp ${r.clOrdId}(${r.orderId}) ${r.leaves}`);
      r.leaves = 0;
      if (sc.taker.stp === 'cancel_both') { self = true; break; }
      continue;
    }
    touch(r.level);
    const q = Math.min(r.leaves, left);
    r.leaves -= q; r.cum += q; r.notional += q * r.price;
    left -= q; cum += q; notional += q * r.price;
    out.push(`trade ${seq}.${++n} ${r.clOrdId}(${r.orderId},${r.account}) ${q}@${r.price} maker ${r.leaves}/${r.cum}/${r.notional} taker ${left}/${cum}/${notional}`);
  }
  if (pending >= 0) delta(pending);
  queue.splice(0, queue.length, ...queue.filter((r) => r.leaves > 0));
  if (left > 0) {
    const { tif, type } = sc.taker;
    if (!self && tif === 'GTC' && type === 'limit') out.push(`delta ${mine} ${left}@${priceOf(opp, sc.taker.level!)}/1`);
    else out.push(`cancelled:${self ? 'stp' : tif === 'FOK' ? 'fok' : type === 'market' ? 'no_liquidity' : 'ioc'} t(${seq}) ${left}`);
  }
  return out;
}

const ladders: ['ts' | 'native', () => Engine][] = [['ts', () => createEngine(() => createLadder('ts'))]];
if (nativeAvailable()) ladders.push(['native', () => createEngine(() => createLadder('native'))]);

const nonOwnQty = (queue: Rest[], maxLevel = Infinity) => queue.filter((r) => r.account !== ME && r.level <= maxLevel).reduce((s, r) => s + r.leaves, 0);
/** Quantity of the first n orders that are not mine (n counted in priority order). */
const firstNonOwn = (queue: Rest[], n: number) => queue.filter((r) => r.account !== ME).slice(0, n).reduce((s, r) => s + r.leaves, 0);

function run(sc: Scenario, expectFills: (fills: number) => void): void {
  for (const [kind, make] of ladders) {
    const { cmds, queue } = build(sc);
    const engine = make();
    const model = new ReferenceModel();
    cmds.forEach((c, i) => {
      const evs = applied(engine, c, i + 1);
      model.apply(c, i + 1);
      assert.deepEqual(evs.map((e) => e.type), i === 0 ? ['instrument'] : ['accepted', 'bookDelta'], `${kind}: seq ${i + 1} rests`);
    });
    const seq = cmds.length + 1;
    const want = sc.taker.qty(queue);
    const { type, tif, stp, level } = sc.taker;
    const taker: Command = {
      op: 'new', account: ME, clOrdId: 't', symbol: 'X', side: sc.side === 'sell' ? 'buy' : 'sell', type, qty: String(want), tif, stp,
      ...(type === 'limit' ? { price: String(priceOf(sc.side, level!)) } : {}),
    };
    const before = queue.map((r) => ({ ...r }));
    const got = applied(engine, taker, seq);
    const fills = got.filter((e) => e.type === 'trade').length;
    const expected = tif === 'FOK' && nonOwnQty(before, level) < want ? ['accepted', `cancelled:fok t(${seq}) ${want}`] : expectWalk(sc, queue, seq, want);
    const gotCompact = got.map((e) => formatEvent(e, engine)).map(compact);
    if (JSON.stringify(gotCompact) !== JSON.stringify(expected)) assert.deepEqual(gotCompact, expected, `${kind}: the sweep's events`);
    expectFills(fills);
    assert.deepEqual(got.map((e) => formatEvent(e, engine)), model.apply(taker, seq).map((e) => formatEvent(e, engine)), `${kind}: the reference model`);

    // the book left behind, order by order, and each account's live orders
    const book = engine.book('X')!;
    const oppSide = sc.side === 'sell' ? 1 : 0;
    const rest = queue.map((r) => `${r.clOrdId}:${r.leaves}`);
    assert.deepEqual(book.orders(oppSide).map((o) => `${o.clOrdId}:${o.leavesQty}`), rest, `${kind}: the resting side after the sweep`);
    const rested = expected.at(-1)!.startsWith(`delta ${sc.side === 'sell' ? 'buy' : 'sell'}`);
    assert.deepEqual(book.orders((1 - oppSide) as 0 | 1).map((o) => o.clOrdId), rested ? ['t'] : [], `${kind}: the aggressor's side`);
    for (const account of [ME, 'm0', 'm1', 'm2', 'm3']) {
      const count = book.orders(oppSide).filter((o) => o.account === account).length + (rested && account === ME ? 1 : 0);
      const m = applied(engine, { op: 'massCancel', account }, seq + 1).map((e) => formatEvent(e, engine));
      assert.equal(m.at(-1)!.count, count, `${kind}: ${account}'s live orders after the sweep`);
    }
    assert.equal(book.ladder.orderCount(), 0, `${kind}: mass cancels empty the book`);
  }
}

// Where the aggressor's own orders sit, by position in priority order (level * 12 + k).
// A run of more than 256 fills between two of them fills the buffer mid-walk: own
// orders reset the walk too (each one ends a match() call), so they must be sparse.
const at = (positions: (p: number) => boolean) => (level: number, k: number) => positions(level * PER_LEVEL + k);
// runs of 100, 289, 0 and 288 fills, then 39
const ownSparse = at((p) => p % 290 === 100 || p === 391);
// none in the first 305
const ownFrom305 = at((p) => p === 305 || p === 306 || p === 500);

describe(`deep sweeps: more than ${FILL_CAPACITY} fills in one command`, () => {
  test('cancel_resting market order takes the whole book, cancelling my 4 orders on the way', () => {
    run({ side: 'sell', own: ownSparse, taker: { type: 'market', tif: 'IOC', stp: 'cancel_resting', qty: (q) => nonOwnQty(q) + 5 } },
      (fills) => assert.equal(fills, COUNT - 4));
  });

  test('cancel_resting GTC limit order sweeps 36 levels and rests its remainder at its limit', () => {
    run({ side: 'sell', own: ownSparse, taker: { type: 'limit', tif: 'GTC', stp: 'cancel_resting', level: 35, qty: (q) => nonOwnQty(q, 35) + 9 } },
      (fills) => assert.equal(fills, 36 * PER_LEVEL - 3));
  });

  test('cancel_resting IOC limit order ends part way into a maker after 400 fills', () => {
    run({ side: 'sell', own: ownSparse, taker: { type: 'limit', tif: 'IOC', stp: 'cancel_resting', level: 59, qty: (q) => firstNonOwn(q, 400) - 1 } },
      (fills) => assert.equal(fills, 400));
  });

  test('cancel_incoming stops at my first order, 305 fills in', () => {
    run({ side: 'sell', own: ownFrom305, taker: { type: 'market', tif: 'IOC', stp: 'cancel_incoming', qty: (q) => nonOwnQty(q) } },
      (fills) => assert.equal(fills, 305));
  });

  test('cancel_both cancels my first order and the rest of the aggressor, after 305 fills', () => {
    run({ side: 'sell', own: ownFrom305, taker: { type: 'limit', tif: 'GTC', stp: 'cancel_both', level: 59, qty: (q) => nonOwnQty(q) } },
      (fills) => assert.equal(fills, 305));
  });

  test(`my order exactly after ${FILL_CAPACITY} fills: cancel_resting goes on, cancel_incoming stops there`, () => {
    // then a run of 300 more fills
    const at256 = at((p) => p === FILL_CAPACITY || p > FILL_CAPACITY + 300);
    run({ side: 'sell', own: at256, taker: { type: 'market', tif: 'IOC', stp: 'cancel_resting', qty: (q) => nonOwnQty(q) } },
      (fills) => assert.equal(fills, FILL_CAPACITY + 300));
    run({ side: 'sell', own: at256, taker: { type: 'market', tif: 'IOC', stp: 'cancel_incoming', qty: (q) => nonOwnQty(q) } },
      (fills) => assert.equal(fills, FILL_CAPACITY));
  });

  test('a sell aggressor sweeps a deep bid side the same way', () => {
    run({ side: 'buy', own: ownSparse, taker: { type: 'limit', tif: 'IOC', stp: 'cancel_resting', level: 50, qty: (q) => nonOwnQty(q) } },
      (fills) => assert.equal(fills, 51 * PER_LEVEL - 3));
  });

  test('FOK over hundreds of makers: filled whole when it can be, else cancelled with no trade', () => {
    run({ side: 'sell', own: ownSparse, taker: { type: 'limit', tif: 'FOK', stp: 'cancel_resting', level: 59, qty: (q) => nonOwnQty(q) } },
      (fills) => assert.equal(fills, COUNT - 4));
    run({ side: 'sell', own: ownSparse, taker: { type: 'limit', tif: 'FOK', stp: 'cancel_resting', level: 59, qty: (q) => nonOwnQty(q) + 1 } },
      (fills) => assert.equal(fills, 0));
  });
});
