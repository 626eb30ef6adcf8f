// The fast path and the edge agree: apply(cmd, seq) writes the same events to
// the buffer that apply(cmd, seq, out) hands out as objects, the getters read
// what the objects say, and the handle tables behind client ids stay exact
// through inserts, renames and deletes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  createEngine, restoreEngine, EV_ACCEPTED, EV_BOOK_DELTA, EV_CANCELLED, EV_CANCEL_REJECTED, EV_REJECTED, EV_REPLACED, EV_TRADE,
  type EngineEvent, type EventBuffer,
} from '../engine/index.js';
import { ClientIds, OrderIds, idHashOf } from '../engine/client-ids.js';
import { Orders } from '../engine/orders.js';
import { streamArb } from './command-gen.js';
import { assertProperty } from './property.js';

// a sixth of the differential's runs (an integer: fast-check never ends a fractional count)
const RUNS = Math.max(1, Math.floor(Number(process.env.MATCHLOG_PROPERTY_RUNS ?? 3000) / 6));

/** What the getters say about the row at the cursor, in the shape of its object. */
function viaGetters(ev: EventBuffer): Record<string, unknown> {
  const base = { seq: ev.seq, symbol: ev.symbol };
  switch (ev.type) {
    case EV_ACCEPTED: case EV_REPLACED: case EV_CANCELLED:
      return {
        ...base, orderId: ev.orderId, account: ev.account, clOrdId: ev.clOrdId, side: ev.side, ordType: ev.ordType, tif: ev.tif,
        price: ev.price, qty: ev.qty, leavesQty: ev.leavesQty, cumQty: ev.cumQty, cumNotional: ev.cumNotional,
        ...(ev.type === EV_ACCEPTED ? { postOnly: ev.postOnly, stp: ev.stp } : {}),
        ...(ev.type === EV_REPLACED ? { origClOrdId: ev.origClOrdId } : {}),
        ...(ev.type === EV_CANCELLED ? { cancelledQty: ev.cancelledQty, origClOrdId: ev.origClOrdId, reason: ev.cancelReason } : {}),
      };
    case EV_TRADE:
      return {
        ...base, tradeId: `${ev.seq}.${ev.tradeNo}`, price: ev.price, qty: ev.qty, aggressor: ev.side,
        makerOrderId: ev.orderId, makerAccount: ev.account, makerClOrdId: ev.clOrdId, makerLeavesQty: ev.leavesQty,
        makerCumQty: ev.cumQty, makerCumNotional: ev.cumNotional,
        takerOrderId: ev.takerOrderId, takerAccount: ev.takerAccount, takerClOrdId: ev.takerClOrdId,
        takerLeavesQty: ev.takerLeavesQty, takerCumQty: ev.takerCumQty, takerCumNotional: ev.takerCumNotional,
      };
    case EV_BOOK_DELTA:
      return { ...base, side: ev.side, price: ev.price, qty: ev.qty, orders: ev.orders };
    case EV_REJECTED:
      return { ...base, account: ev.account, clOrdId: ev.clOrdId, reason: ev.rejectReason, text: ev.text };
    case EV_CANCEL_REJECTED:
      return { ...base, account: ev.account, clOrdId: ev.clOrdId, origClOrdId: ev.origClOrdId, orderId: ev.orderId, reason: ev.rejectReason, text: ev.text };
    default:
      return base;
  }
}

function pick(e: EngineEvent, keys: string[]): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const k of keys) r[k] = (e as unknown as Record<string, unknown>)[k];
  return r;
}

test('apply(cmd, seq) and apply(cmd, seq, out) give the same events; the getters read what the objects say', (t) => {
  assertProperty(t, fc.property(streamArb(), (cmds) => {
    const fast = createEngine();
    const slow = createEngine();
    cmds.forEach((c, i) => {
      const n = fast.apply(c, i + 1);
      const out: EngineEvent[] = [];
      const m = slow.apply(c, i + 1, out);
      assert.equal(n, out.length, `seq ${i + 1}: count`);
      assert.equal(m, n);
      const ev = fast.events;
      assert.equal(ev.length, n);
      for (let j = 0; j < n; j++) {
        assert.deepStrictEqual(ev.at(j).toObject(), out[j], `seq ${i + 1} event ${j}`);
        const g = viaGetters(ev.at(j));
        assert.deepStrictEqual(g, pick(out[j], Object.keys(g)), `seq ${i + 1} event ${j}: getters`);
      }
    });
    assert.equal(fast.stateHash(), slow.stateHash());
    // no slot leaks: every slot in use is a resting order
    const resting = fast.symbols().reduce((n, s) => n + (fast.book(s)?.orderCount() ?? 0), 0);
    assert.equal(fast.slotsInUse(), resting, 'order slots in use = resting orders');
  }), { numRuns: RUNS });
});

test('the client id and order id tables agree with a Map through inserts, renames and deletes (many collisions)', () => {
  const orders = new Orders(16);
  const ids = new ClientIds(orders);
  const byId = new OrderIds(orders);
  const model = new Map<string, number>();
  let x = 12345;
  const rnd = (n: number) => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x % n; };
  let seq = 0;
  for (let step = 0; step < 40_000; step++) {
    const account = rnd(4);
    // ids of 16 characters or fewer are stored inline, longer ones apart (inline-ids.ts): both, and the boundary
    const clOrdId = [`c${rnd(300)}`, `c${rnd(300)}`.padEnd(16, 'x'), `c${rnd(300)}`.padEnd(17, 'y'), `long-${rnd(300)}-`.padEnd(64, 'z')][rnd(4)];
    const key = `${account}/${clOrdId}`;
    const h = model.get(key);
    if (h === undefined) {
      const nh = orders.alloc(++seq, account, clOrdId, 0, 0, 1, 1);
      ids.insert(nh);
      byId.insert(nh);
      model.set(key, nh);
    } else if (rnd(3) === 0) {
      // a rename, as a replace does
      const to = rnd(2) === 0 ? `r${rnd(300)}` : `r${rnd(300)}`.padEnd(20, 'q');
      if (!model.has(`${account}/${to}`)) {
        ids.remove(h);
        orders.setClOrdId(h, to);
        ids.insert(h);
        model.delete(key);
        model.set(`${account}/${to}`, h);
      }
    } else {
      ids.remove(h);
      byId.remove(h);
      orders.free(h);
      model.delete(key);
    }
    if (step % 97 === 0) {
      for (const [k, v] of model) {
        const [a, c] = [Number(k.slice(0, k.indexOf('/'))), k.slice(k.indexOf('/') + 1)];
        assert.equal(ids.find(a, c, idHashOf(c)), v, `step ${step}: ${k}`);
        assert.equal(orders.clOrdIdOf(v), c, `step ${step}: the stored id of ${k}`);
        assert.equal(orders.clOrdIdHash(v), idHashOf(c), `step ${step}: the stored id's hash of ${k}`);
        assert.equal(byId.find(orders.orderId[v]), v, `step ${step}: orderId of ${k}`);
      }
      assert.equal(ids.find(0, 'never', idHashOf('never')), -1);
      assert.equal(orders.longIdCount(), [...model.keys()].filter((k) => k.length - k.indexOf('/') - 1 > 16).length, `step ${step}: long ids held`);
      assert.equal(byId.find(-5), -1);
    }
  }
  assert.ok(model.size > 100, `the tables held many entries (${model.size})`);
});

test('restore refuses a snapshot with two live orders of one account under one clOrdId, or an unknown tif', () => {
  const e = createEngine();
  e.apply({ op: 'instrument', symbol: 'AAA', tickSize: '1', lotSize: '1' }, 1);
  e.apply({ op: 'new', account: 'a', clOrdId: 'x', symbol: 'AAA', side: 'buy', type: 'limit', price: '10', qty: '5' }, 2);
  const snap = e.snapshot();
  assert.equal(restoreEngine(snap).stateHash(), e.stateHash());
  const twice = { ...snap, orders: [snap.orders[0], { ...snap.orders[0], orderId: 3 }] };
  assert.throws(() => restoreEngine(twice), /clOrdId x is already live for a/);
  const badTif = { ...snap, orders: [{ ...snap.orders[0], tif: 'DAY' as unknown as 'GTC' }] };
  assert.throws(() => restoreEngine(badTif), /ordType, tif or stp/);
});

test('a new order whose clOrdId breaks the id rule is rejected (the one pass that hashes it also checks it)', () => {
  const e = createEngine();
  e.apply({ op: 'instrument', symbol: 'AAA', tickSize: '1', lotSize: '1' }, 1);
  const bad = ['a b', 'tab\there', '', 'x'.repeat(65), 'caf\u00e9', '\u007f'];
  bad.forEach((clOrdId, i) => {
    const out: EngineEvent[] = [];
    e.apply({ op: 'new', account: 'a', clOrdId, symbol: 'AAA', side: 'buy', type: 'limit', price: '10', qty: '1' }, i + 2, out);
    assert.equal(out.length, 1, JSON.stringify(clOrdId));
    assert.ok(out[0].type === 'rejected' && out[0].reason === 'invalid_order' && /clOrdId/.test(out[0].text), JSON.stringify(out[0]));
  });
  const ok: EngineEvent[] = [];
  e.apply({ op: 'new', account: 'a', clOrdId: '!~' + 'z'.repeat(62), symbol: 'AAA', side: 'buy', type: 'limit', price: '10', qty: '1' }, 99, ok);
  assert.equal(ok[0].type, 'accepted');
});

test('clOrdIds of every length come back whole from the slab: trades, STP, user and mass cancels, replaces by orderId, snapshots', () => {
  // 16 characters and fewer are stored inline as words, longer ones apart (inline-ids.ts): both sides of the boundary
  for (const len of [1, 4, 15, 16, 17, 33, 64]) {
    const id = (tag: string) => `${tag}-`.padEnd(len, '~!09azAZ'[len % 8]).slice(0, Math.max(len, 2));
    const e = createEngine();
    e.apply({ op: 'instrument', symbol: 'S', tickSize: '1', lotSize: '1' }, 1);
    let seq = 1;
    const run = (c: Parameters<typeof e.apply>[0]): EngineEvent[] => {
      const out: EngineEvent[] = [];
      e.apply(c, ++seq, out);
      return out;
    };
    // a short id first: whatever idHashOf packed for it must not stick to the longer ids that follow
    run({ op: 'new', account: 'z', clOrdId: 'w', symbol: 'S', side: 'buy', type: 'limit', price: '1', qty: '1' });
    run({ op: 'cancel', account: 'z', clOrdId: 'w2', origClOrdId: 'w', symbol: 'S' });
    const maker = id('m');
    run({ op: 'new', account: 'a', clOrdId: maker, symbol: 'S', side: 'sell', type: 'limit', price: '10', qty: '5' });
    const trade = run({ op: 'new', account: 'b', clOrdId: id('t'), symbol: 'S', side: 'buy', type: 'limit', price: '10', qty: '2' })
      .find((x) => x.type === 'trade');
    assert.equal(trade?.type === 'trade' && trade.makerClOrdId, maker, `len ${len}: the maker's id in the trade`);
    // a replace naming the order by orderId: the replaced event's origClOrdId comes from the slab
    const makerId = trade?.type === 'trade' ? trade.makerOrderId : 0;
    const renamed = id('r');
    const rep = run({ op: 'replace', account: 'a', clOrdId: renamed, orderId: makerId, symbol: 'S', qty: '4' });
    assert.deepEqual(rep.filter((x) => x.type === 'replaced').map((x) => x.type === 'replaced' && [x.clOrdId, x.origClOrdId]), [[renamed, maker]], `len ${len}: replace`);
    // STP: a's own buy meets its resting sell; cancel_resting cancels the maker under its own id
    const stp = run({ op: 'new', account: 'a', clOrdId: id('s'), symbol: 'S', side: 'buy', type: 'limit', price: '10', qty: '1', stp: 'cancel_resting' })
      .find((x) => x.type === 'cancelled' && x.reason === 'stp');
    assert.deepEqual(stp?.type === 'cancelled' && [stp.clOrdId, stp.origClOrdId], [renamed, renamed], `len ${len}: STP cancel`);
    // a user cancel by orderId: the request's id and the order's
    const rest = id('u');
    const acc = run({ op: 'new', account: 'c', clOrdId: rest, symbol: 'S', side: 'sell', type: 'limit', price: '20', qty: '1' });
    const uid = acc[0].type === 'accepted' ? acc[0].orderId : 0;
    const snap = e.snapshot();
    assert.deepEqual(snap.orders.map((o) => o.clOrdId).sort(), [id('s'), rest].sort(), `len ${len}: snapshot ids`);
    assert.equal(restoreEngine(snap).stateHash(), e.stateHash(), `len ${len}: restored hash`);
    const can = run({ op: 'cancel', account: 'c', clOrdId: id('x'), orderId: uid, symbol: 'S' });
    assert.deepEqual(can[0].type === 'cancelled' && [can[0].clOrdId, can[0].origClOrdId], [id('x'), rest], `len ${len}: user cancel`);
    // mass cancel: the order's own id both ways
    const mass = run({ op: 'massCancel', account: 'a', clOrdId: id('k') }).filter((x) => x.type === 'cancelled');
    assert.deepEqual(mass.map((x) => x.type === 'cancelled' && [x.clOrdId, x.origClOrdId]), [[id('s'), id('s')]], `len ${len}: mass cancel`);
    assert.equal(e.slotsInUse(), 0);
  }
});

test('an inline id is its four words: ids that differ only in their last characters are told apart', () => {
  const orders = new Orders(4);
  const stored = 'abcdefghijklmnop'; // 16: the last word holds 'mnop'
  const h = orders.alloc(1, 0, stored, 0, 0, 1, 1);
  const words = new Int32Array(4);
  for (const other of ['abcdefghijklmnoq', 'abcdefghijklmno', 'abcdefghijkl', 'bbcdefghijklmnop', 'abcdefghijklmnopq']) {
    idHashOf(other, words);
    assert.equal(orders.clOrdIdWordsAre(h, words), false, `${other} is not ${stored}`);
    assert.equal(orders.clOrdIdIs(h, other), false, `${other} is not ${stored} (by characters)`);
  }
  idHashOf(stored, words);
  assert.equal(orders.clOrdIdWordsAre(h, words), true);
  assert.equal(orders.clOrdIdIs(h, stored), true);
});
