// One ladder per engine (native/ladder.ts): every book of the engine in one ladder,
// orders addressed by the handles the caller picks. The rules, on both ladders:
// the caller's handle is the one reported (io, fills, self-trade stops); books never
// see each other's orders (a walk in book 0 never fills book 1); a handle that rests
// cannot be added again, and one that does not rest cannot be removed, reduced or
// asked about; storage grows to fit a handle far past the others. And in the engine:
// an order of one instrument never trades with another's.
//
// The native half FAILS without the addon unless MATCHLOG_NATIVE=0 (then it is skipped).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUY, FILL_CAPACITY, FILL_STRIDE, F_HANDLE, IO_COUNT, IO_HANDLE, IO_HEADER, IO_LEVEL_ORDERS, IO_LEVEL_QTY, IO_STOP,
  NO_LIMIT_BUY, SELL, STOP_DONE, type Ladder,
} from '../native/ladder.js';
import { createLadder, ladderInfo, nativeAvailable } from '../native/index.js';
import { createEngine, type Command, type EngineEvent } from '../engine/index.js';

const available = nativeAvailable();
const kinds: Array<'ts' | 'native'> = ['ts', 'native'];

function skipFor(kind: 'ts' | 'native'): string | false {
  if (kind === 'ts' || available) return false;
  return process.env.MATCHLOG_NATIVE === '0' ? `MATCHLOG_NATIVE=0 (${ladderInfo().reason})` : false;
}

/** The handles a walk filled, from the io buffer. */
function makers(l: Ladder, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(l.io[IO_HEADER + i * FILL_STRIDE + F_HANDLE]);
  return out;
}

for (const kind of kinds) {
  test(`${kind} ladder: addBook numbers books 0, 1, 2 and the caller's handles are the ones reported`, { skip: skipFor(kind) }, () => {
    const l = createLadder(kind);
    assert.deepEqual([l.addBook(), l.addBook(), l.addBook()], [0, 1, 2]);
    l.add(2, SELL, 100, 5, 1, 4242);
    assert.equal(l.io[IO_HANDLE], 4242);
    assert.deepEqual([l.io[IO_LEVEL_QTY], l.io[IO_LEVEL_ORDERS]], [5, 1]);
    l.add(2, SELL, 100, 5, 7, 17);
    assert.equal(l.qtyOf(4242), 5);
    assert.equal(l.priceOf(17), 100);
    // fills and the self-trade stop name the caller's handles; the rest takes the one given
    const n = l.match(2, BUY, 100, 8, 7, FILL_CAPACITY, true, 99);
    assert.equal(n, 1);
    assert.deepEqual(makers(l, n), [4242]);
    assert.equal(l.io[IO_STOP], 17, 'stopped before its own order, handle 17');
    assert.equal(l.io[IO_HANDLE], -1, 'no rest after a self-trade stop');
    l.remove(17);
    assert.equal(l.match(2, BUY, 100, 3, 7, FILL_CAPACITY, true, 99), 0);
    assert.equal(l.io[IO_STOP], STOP_DONE);
    assert.equal(l.io[IO_HANDLE], 99);
    assert.equal(l.qtyOf(99), 3);
    assert.deepEqual(Array.from(l.handles(2, BUY)), [99]);
    // a handle far past the others: storage grows to fit it
    l.add(0, BUY, 1, 1, 0, 300_000);
    assert.equal(l.qtyOf(300_000), 1);
    assert.deepEqual([l.orderCount(0), l.orderCount(1), l.orderCount(2)], [1, 0, 1]);
  });

  test(`${kind} ladder: a walk in book 0 never fills book 1`, { skip: skipFor(kind) }, () => {
    const l = createLadder(kind);
    l.addBook();
    l.addBook();
    // book 1: asks at 100..104 that any buy in book 0 would take; book 0: one ask at 110
    for (let p = 0; p < 5; p++) l.add(1, SELL, 100 + p, 10, 1, 10 + p);
    l.add(0, SELL, 110, 10, 1, 0);
    assert.equal(l.best(0, SELL), 110);
    assert.equal(l.best(1, SELL), 100);
    assert.equal(l.levelQty(0, SELL, 100), 0);
    assert.equal(l.fillable(0, BUY, NO_LIMIT_BUY, 1000, 9, false), 10);
    // a market buy in book 0 for far more than book 0 holds
    const n = l.match(0, BUY, NO_LIMIT_BUY, 1000, 9, FILL_CAPACITY, false, 1);
    assert.equal(n, 1);
    assert.deepEqual(makers(l, n), [0]);
    assert.equal(l.io[IO_COUNT], 1);
    assert.ok(Number.isNaN(l.best(0, SELL)));
    // book 1 is as it was
    assert.equal(l.orderCount(1), 5);
    assert.equal(l.levelCount(1, SELL), 5);
    assert.deepEqual(Array.from(l.handles(1, SELL)), [10, 11, 12, 13, 14]);
    const out = new Float64Array(3);
    assert.equal(l.depth(1, SELL, 1, out), 1);
    assert.deepEqual(Array.from(out), [100, 10, 1]);
    // a limit buy in book 0 that crosses book 1's prices rests in book 0, at its price
    assert.equal(l.match(0, BUY, 104, 7, 9, FILL_CAPACITY, true, 2), 0);
    assert.equal(l.io[IO_HANDLE], 2);
    assert.equal(l.best(0, BUY), 104);
    assert.ok(Number.isNaN(l.best(1, BUY)));
    // and book 1's walk sees book 0's bid no more than book 0's walk saw its asks
    // (another owner than the bid's: a self-trade stop would hide a walk in the wrong book)
    assert.equal(l.match(1, SELL, 0, 5, 8, FILL_CAPACITY, false, 3), 0);
    assert.equal(l.io[IO_STOP], STOP_DONE);
    assert.equal(l.fillable(1, SELL, 0, 5, 8, true), 0);
    assert.equal(l.qtyOf(2), 7);
    assert.equal(l.orderCount(0), 1);
  });

  test(`${kind} ladder: a resting handle cannot be added again; one that does not rest is refused`, { skip: skipFor(kind) }, () => {
    const l = createLadder(kind);
    l.addBook();
    l.addBook();
    l.add(0, BUY, 99, 5, 1, 3);
    const state = (): string => JSON.stringify([0, 1].map((b) => [l.orderCount(b), Array.from(l.handles(b, BUY)), Array.from(l.handles(b, SELL)), l.levelQty(b, BUY, 99)]));
    const before = state();
    assert.throws(() => l.add(0, BUY, 99, 1, 1, 3), /handle/);
    assert.throws(() => l.add(1, SELL, 120, 1, 1, 3), /handle/, 'not in another book either');
    assert.throws(() => l.match(1, BUY, 100, 1, 1, FILL_CAPACITY, true, 3), /handle/, 'nor as the rest of a walk');
    for (const bad of [-1, 0.5, NaN, 2 ** 31 - 1]) assert.throws(() => l.add(0, BUY, 99, 1, 1, bad), /handle/);
    assert.equal(state(), before, 'a refused call changes nothing');
    // not resting: never added, removed, or filled away
    for (const h of [4, 1000, 10 ** 7]) {
      assert.throws(() => l.remove(h), /handle/);
      assert.throws(() => l.reduce(h, 1), /handle/);
      assert.throws(() => l.qtyOf(h), /handle/);
      assert.throws(() => l.priceOf(h), /handle/);
    }
    l.remove(3);
    assert.throws(() => l.remove(3), /handle/);
    assert.throws(() => l.qtyOf(3), /handle/);
    l.add(1, SELL, 120, 2, 1, 3);
    assert.equal(l.match(1, BUY, 120, 2, 9, FILL_CAPACITY, false, 0), 1);
    assert.throws(() => l.priceOf(3), /handle/, 'filled away');
    // once it left, the handle may rest again, anywhere
    l.add(0, SELL, 130, 1, 1, 3);
    assert.equal(l.priceOf(3), 130);
    assert.deepEqual([l.orderCount(0), l.orderCount(1)], [1, 0]);
  });

  test(`${kind} ladder, engine: an order of one instrument never trades with another's`, { skip: skipFor(kind) }, () => {
    const e = createEngine(() => createLadder(kind));
    const inst = (symbol: string): Command => ({ op: 'instrument', symbol, tickSize: '1', lotSize: '1' });
    const events: EngineEvent[] = [];
    e.apply(inst('AAA'), 1);
    e.apply(inst('BBB'), 2);
    let seq = 3;
    for (let i = 0; i < 4; i++) {
      e.apply({ op: 'new', account: 'mm', clOrdId: `b${i}`, symbol: 'BBB', side: 'sell', type: 'limit', price: String(100 + i), qty: '10', tif: 'GTC' }, seq++);
    }
    e.apply({ op: 'new', account: 'mm', clOrdId: 'a0', symbol: 'AAA', side: 'sell', type: 'limit', price: '105', qty: '10', tif: 'GTC' }, seq++);
    e.apply({ op: 'new', account: 'taker', clOrdId: 't0', symbol: 'AAA', side: 'buy', type: 'market', qty: '100', tif: 'IOC' }, seq++, events);
    const trades = events.filter((x) => x.type === 'trade');
    assert.equal(trades.length, 1);
    const t = trades[0];
    assert.ok(t.type === 'trade');
    assert.equal(t.makerClOrdId, 'a0', 'traded with AAA\'s order only');
    assert.equal(t.symbol, 'AAA');
    assert.equal(t.qty, 10);
    assert.equal(e.book('AAA')?.orderCount(), 0);
    assert.equal(e.book('BBB')?.orderCount(), 4);
    assert.equal(e.book('BBB')?.ladder.best(SELL), 100);
    assert.equal(e.book('BBB')?.ladder.orderCount(), 4);
    // a buy in AAA that crosses BBB's asks rests in AAA
    e.apply({ op: 'new', account: 'taker', clOrdId: 't1', symbol: 'AAA', side: 'buy', type: 'limit', price: '103', qty: '5', tif: 'GTC' }, seq++);
    assert.equal(e.book('AAA')?.ladder.best(BUY), 103);
    assert.ok(Number.isNaN(e.book('BBB')?.ladder.best(BUY)));
    assert.equal(e.slotsInUse(), 5);
  });
}
