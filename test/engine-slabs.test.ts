// The slabs behind the engine (orders.ts, fills.ts, inline-ids.ts), tested
// where the engine-level tests cannot see a mistake: rows and map entries that
// are not given back (memory that only grows), tables past their first growth,
// inline ids whose last word differs from the one before it, and the exact
// form of the state hash (old checkpoints must keep matching). Each test names
// the mistakes it is there to catch.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEngine, restoreEngine, type Command, type Engine, type EngineEvent } from '../engine/index.js';
import { idHashOf } from '../engine/client-ids.js';
import { Fills } from '../engine/fills.js';
import { Hasher } from '../engine/hash.js';
import { F_RESTING, Orders, flagsOf } from '../engine/orders.js';
import { applied } from './engine-helpers.js';

const MAX = Number.MAX_SAFE_INTEGER;

/** What a Fills holds, read from its private fields (memory accounting: nothing here is public). */
function fillsState(f: Fills): { top: number; cap: number; inUse: number; tableSize: number; big: number } {
  const x = f as unknown as { top: number; cap: number; freeRow: number; owner: Int32Array; size: number; big: Map<number, bigint> };
  let free = 0;
  for (let r = x.freeRow; r !== -1; r = x.owner[r]) free++;
  return { top: x.top, cap: x.cap, inUse: x.top - free, tableSize: x.size, big: x.big.size };
}

function fillsOf(o: Orders): Fills {
  return (o as unknown as { fills: Fills }).fills;
}

function ordersOf(e: Engine): Orders {
  return (e as unknown as { orders: Orders }).orders;
}

const canon = (v: bigint): number | bigint => (v <= BigInt(MAX) ? Number(v) : v);

describe('Fills: the side table of what orders have filled', () => {
  test('agrees with a Map through adds, fills, restores and releases; released rows, table slots and bigints are given back', () => {
    // from 4 rows, so the row arrays grow many times and the hash table resizes (past 512 rows)
    const f = new Fills(4);
    const model = new Map<number, { cum: number; notional: bigint }>();
    let x = 987654321;
    const rnd = (n: number) => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x % n; };
    let peak = 0;
    let sawBig = 0;
    for (let step = 0; step < 30_000; step++) {
      // the live set swells to ~1200 and shrinks again, twice: rows must be reused, not appended
      const phase = Math.floor(step / 7500) % 2;
      const h = rnd(1500) * 7 + 3;
      const m = model.get(h);
      if (m === undefined) {
        if (phase === 1 && rnd(4) !== 0) continue;
        assert.equal(f.find(h), -1, `step ${step}: no row for ${h} yet`);
        const r = f.add(h);
        assert.equal(f.find(h), r);
        model.set(h, { cum: 0, notional: 0n });
      } else if (rnd(phase === 0 ? 6 : 2) === 0) {
        f.release(h);
        model.delete(h);
        assert.equal(f.find(h), -1, `step ${step}: ${h} released`);
      } else if (rnd(8) === 0) {
        // a restore sets the totals outright: a bigint, or back to a number
        const r = f.find(h);
        const v = rnd(2) === 0 ? BigInt(MAX) + BigInt(rnd(1000) + 1) : BigInt(rnd(100000));
        f.cum[r] = rnd(100) + 1;
        f.setNotional(r, canon(v));
        m.cum = f.cum[r];
        m.notional = v;
      } else {
        const r = f.find(h);
        const price = rnd(3) === 0 ? 1e15 + rnd(1000) : rnd(10000) + 1;
        const qty = rnd(5000) + 1;
        f.fill(r, price, qty);
        m.cum += qty;
        m.notional += BigInt(price) * BigInt(qty);
      }
      if (model.size > peak) peak = model.size;
      if (step % 251 === 0 || step === 29_999) {
        let bigs = 0;
        for (const [k, v] of model) {
          const r = f.find(k);
          assert.ok(r >= 0, `step ${step}: ${k} has a row`);
          assert.equal(f.cum[r], v.cum, `step ${step}: cum of ${k}`);
          assert.equal(f.notionalAt(r), canon(v.notional), `step ${step}: notional of ${k}`);
          if (v.notional > BigInt(MAX)) bigs++;
        }
        sawBig = Math.max(sawBig, bigs);
        for (const absent of [0, 1, 2, 10_500 * 7, -1]) assert.equal(f.find(absent), -1, `step ${step}: find(${absent}) of a handle without a row`);
        const s = fillsState(f);
        assert.equal(s.inUse, model.size, `step ${step}: rows in use`);
        assert.equal(s.tableSize, model.size, `step ${step}: table entries`);
        assert.equal(s.big, bigs, `step ${step}: bigint notionals held`);
        assert.ok(s.top <= peak, `step ${step}: rows handed out (${s.top}) <= the most ever live at once (${peak}): released rows are reused`);
        assert.ok(s.cap >= s.top, `step ${step}: capacity ${s.cap} covers ${s.top} rows`);
      }
    }
    assert.ok(peak > 600, `the table passed its first resize (${peak} rows live at once)`);
    assert.ok(sawBig > 10, `many notionals went past 2^53 (${sawBig})`);
  });

  test('a notional set back to a number, and a released bigint row, keep no bigint', () => {
    const f = new Fills(2);
    const a = f.add(10);
    const b = f.add(20);
    f.setNotional(a, BigInt(MAX) + 5n);
    f.setNotional(b, BigInt(MAX) + 6n);
    assert.equal(fillsState(f).big, 2);
    f.setNotional(a, 7);
    assert.equal(f.notionalAt(a), 7);
    assert.equal(fillsState(f).big, 1, 'the bigint of a row set back to a number is dropped');
    f.release(20);
    assert.equal(fillsState(f).big, 0, 'a released row keeps no bigint');
    const c = f.add(30);
    assert.equal(c, b, 'the released row is handed out again');
    assert.equal(f.notionalAt(c), 0);
    assert.equal(f.cum[c], 0);
  });
});

describe('Orders: the slab', () => {
  test('flagsOf() is the seven order bits: not F_RESTING, not the filled bit, not the book', () => {
    const o = new Orders(4);
    const fl = flagsOf(1, true, 2, true, 2); // sell, market, FOK, post-only, cancel_both: all seven bits in use
    const h = o.alloc(1, 3, 'abc', 5, fl, 100, 10);
    assert.equal(o.flagsOf(h), fl);
    assert.equal(o.bookOf(h), 5);
    o.flags[h] |= F_RESTING;
    o.fill(h, 100, 4); // the order gets a fill row: its filled bit is set
    assert.equal(o.flagsOf(h), fl, 'flagsOf() with F_RESTING and the filled bit set');
    assert.equal(o.bookOf(h), 5, 'bookOf() with F_RESTING and the filled bit set');
    assert.equal(o.side(h), 1);
    assert.equal(o.cumOf(h), 4);
    assert.equal(o.qty(h), 14);
  });

  test('setFilled with nothing filled (a restored order that never traded) takes no fill row; a filled one takes one and gives it back on free', () => {
    const o = new Orders(4);
    const f = fillsOf(o);
    const hs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const h = o.alloc(i + 1, 0, `r${i}`, 0, 0, 10, 5);
      o.setFilled(h, 0, 0);
      hs.push(h);
    }
    assert.equal(fillsState(f).inUse, 0, 'no fill rows for orders that never traded');
    assert.equal(o.cumOf(hs[0]), 0);
    assert.equal(o.notionalOf(hs[0]), 0);
    o.setFilled(hs[1], 3, BigInt(MAX) + 1n);
    assert.equal(fillsState(f).inUse, 1);
    assert.equal(o.cumOf(hs[1]), 3);
    assert.equal(o.notionalOf(hs[1]), BigInt(MAX) + 1n);
    for (const h of hs) o.free(h);
    assert.deepEqual([o.count, fillsState(f).inUse, fillsState(f).tableSize, fillsState(f).big], [0, 0, 0, 0]);
  });

  test('a stored inline id hashes from its words as idHashOf hashes the string, and feeds the state hash as Hasher.str does', () => {
    const o = new Orders(2); // grows: the ids live past the first slab
    // every length 1-17 and 64; the last words differ from the words before them (a hash that skips a word must show)
    const ids: string[] = [];
    for (let n = 1; n <= 17; n++) ids.push('0123456789ABCDEFG'.slice(0, n).split('').reverse().join(''));
    ids.push('Q'.repeat(12) + 'wxyz', 'Q'.repeat(12) + 'wxyy', 'L'.padEnd(64, 'm'));
    const hs = ids.map((id, i) => o.alloc(i + 1, i + 1, id, 0, 0, 1, 1)); // non-zero accounts: each id has a neighbour after it
    ids.forEach((id, i) => {
      const h = hs[i];
      assert.equal(o.clOrdIdOf(h), id, `${id}: the string back`);
      assert.equal(o.clOrdIdIs(h, id), true, `${id}: equals itself`);
      assert.equal(o.clOrdIdHash(h), idHashOf(id), `${id}: clOrdIdHash is idHashOf`);
      const a = new Hasher();
      o.hashClOrdId(h, a);
      assert.equal(a.hex(), new Hasher().str(id).hex(), `${id}: hashClOrdId is Hasher.str`);
    });
    assert.notEqual(o.clOrdIdHash(hs[17]), o.clOrdIdHash(hs[18]), 'ids that differ in their last character only hash apart');
  });

  test('a rename from a 16-character id to a shorter or a long one and back leaves nothing of the old id', () => {
    const o = new Orders(4);
    const h = o.alloc(1, 0, 'ABCDEFGHIJKLMNOP', 0, 0, 1, 1);
    o.alloc(2, 9, 'zzzzzzzzzzzzzzzz', 0, 0, 1, 1);
    for (const to of ['abc', 'ABCDEFGHIJKLMNOP', 'x'.repeat(40), 'ab', 'y'.repeat(17), 'ABCDEFGHIJKLMNOP', 'abcdefghijklm']) {
      o.setClOrdId(h, to);
      const words = new Int32Array(4);
      const ih = idHashOf(to, words);
      assert.equal(o.clOrdIdOf(h), to);
      assert.equal(o.clOrdIdHash(h), ih, `${to}: hash`);
      if (to.length <= 16) assert.equal(o.clOrdIdWordsAre(h, words), true, `${to}: words`);
      assert.equal(o.longIdCount(), to.length > 16 ? 1 : 0, `${to}: long ids held`);
    }
  });
});

describe('the engine over grown slabs', () => {
  const INST: Command = { op: 'instrument', symbol: 'S', tickSize: '1', lotSize: '1' };
  // 16 characters, the most stored inline; the last word differs from the third
  const cid = (i: number) => `bid-${String(i).padStart(7, '0')}-${String(i * 7 % 1000).padStart(3, '0')}x`;

  test('700 resting orders that have traded: cumQty and notionals in the snapshot, a restore hashes the same, every one cancels by its 16-character clOrdId, no row is left', () => {
    const N = 700;
    const e = createEngine();
    let seq = 0;
    const run = (c: Command): EngineEvent[] => applied(e, c, ++seq);
    run(INST);
    for (let i = 0; i < N; i++) {
      // the buy takes the sell at its price and rests the rest: an order with a fill row, the bids stay below the next sell
      const price = String(1000 + i);
      run({ op: 'new', account: `s${i % 3}`, clOrdId: `s${i}`, symbol: 'S', side: 'sell', type: 'limit', price, qty: '1' });
      const evs = run({ op: 'new', account: `b${i % 5}`, clOrdId: cid(i), symbol: 'S', side: 'buy', type: 'limit', price, qty: String(2 + (i % 4)) });
      assert.equal(evs.filter((v) => v.type === 'trade').length, 1, `buy ${i} trades once`);
    }
    assert.equal(new Set(Array.from({ length: N }, (_, i) => cid(i))).size, N);
    const fills = fillsOf(ordersOf(e));
    assert.equal(fillsState(fills).inUse, N, 'one fill row per resting order that traded');

    const snap = e.snapshot();
    assert.equal(snap.orders.length, N);
    for (const o of snap.orders) {
      const i = Number(o.price) - 1000;
      assert.deepEqual([o.clOrdId, o.cumQty, o.cumNotional, o.leavesQty], [cid(i), 1, 1000 + i, 1 + (i % 4)], `order ${i}`);
    }
    const back = restoreEngine(snap);
    assert.equal(back.stateHash(), e.stateHash(), 'restored: same hash');
    assert.deepEqual(back.snapshot(), snap, 'restored: same snapshot');

    // by clOrdId, in an order other than the one they came in: the table was resized and shifted on the way
    for (let k = 0; k < N; k++) {
      const i = (k * 389) % N;
      const evs = run({ op: 'cancel', account: `b${i % 5}`, clOrdId: `c${i}`, origClOrdId: cid(i), symbol: 'S' });
      assert.equal(evs[0].type, 'cancelled', `cancel ${cid(i)}: ${JSON.stringify(evs[0])}`);
      assert.ok(evs[0].type === 'cancelled' && evs[0].origClOrdId === cid(i) && evs[0].cumQty === 1);
    }
    assert.equal(e.slotsInUse(), 0);
    assert.deepEqual([fillsState(fills).inUse, fillsState(fills).tableSize, fillsState(fills).big], [0, 0, 0], 'every fill row given back');
    assert.equal(ordersOf(e).longIdCount(), 0);
  });

  test('the state hash of a fixed state is pinned (ids of 1-17 and 40 characters, a partial fill, a notional past 2^53, every flag)', () => {
    // Replicas, replays and old checkpoints compare this hash across versions: a change to
    // how an id, a flag or a notional is hashed must show here (update the pin only on purpose).
    const e = createEngine();
    let seq = 0;
    const run = (c: Command): EngineEvent[] => {
      const evs = applied(e, c, ++seq);
      assert.deepEqual(evs.flatMap((v) => (v.type === 'rejected' ? [v.text] : [])), [], 'no command is rejected');
      return evs;
    };
    run({ op: 'instrument', symbol: 'BIG', tickSize: '0.01', lotSize: '0.00000001' });
    run(INST);
    const ids = ['a', 'bc', 'def', 'ghij', 'klmnopq', 'rstuvwxyzABC', 'DEFGHIJKLMNOPQ', 'RSTUVWXYZ012345', '6789abcdefghijkl', 'mnopqrstuvwxyzABC', 'L'.repeat(40)];
    ids.forEach((id, i) => {
      run({ op: 'new', account: `acct${i % 3}`, clOrdId: id, symbol: 'S', side: i % 2 === 0 ? 'buy' : 'sell', type: 'limit',
        price: String(i % 2 === 0 ? 90 - i : 110 + i), qty: String(10 + i), postOnly: i % 3 === 0, stp: (['cancel_resting', 'cancel_incoming', 'cancel_both'] as const)[i % 3] });
    });
    // a partial fill of the best bid (90, 'a'), by an IOC sell
    run({ op: 'new', account: 'x', clOrdId: 'ioc', symbol: 'S', side: 'sell', type: 'limit', price: '90', qty: '4', tif: 'IOC' });
    // a notional past 2^53 on a resting order: 100.00000001 at 65000.01, twice
    run({ op: 'new', account: 'm', clOrdId: 'maker-of-a-big-notional', symbol: 'BIG', side: 'sell', type: 'limit', price: '65000.01', qty: '300.00000003' });
    run({ op: 'new', account: 't', clOrdId: 't1', symbol: 'BIG', side: 'buy', type: 'limit', price: '65000.01', qty: '100.00000001', tif: 'IOC' });
    run({ op: 'new', account: 't', clOrdId: 't2', symbol: 'BIG', side: 'buy', type: 'limit', price: '65000.01', qty: '100.00000001', tif: 'IOC' });
    const big = e.snapshot().orders.find((o) => o.symbol === 'BIG');
    assert.equal(typeof big?.cumNotional, 'string', 'the maker\'s notional is past 2^53');
    assert.equal(e.snapshot().orders.find((o) => o.clOrdId === 'a')?.cumQty, 4);
    assert.equal(restoreEngine(e.snapshot()).stateHash(), e.stateHash());
    assert.equal(e.stateHash(), PINNED_HASH);
  });
});

const PINNED_HASH = '6c2642cf328d4af6';
