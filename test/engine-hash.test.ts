// The state hash: replicas and replays compare it to decide that they hold the
// same state, so it must change with every part of the state and with nothing
// else. Each test below changes one field of a known state (through a snapshot,
// so that exactly one thing differs, or through commands) and expects another
// hash; equal states reached by different paths must hash equal.

import { applied } from './engine-helpers.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEngine, restoreEngine, type Command, type Engine, type EngineSnapshot, type OrderState } from '../engine/index.js';
import { createLadder, nativeAvailable } from '../native/index.js';

const AAA: Command = { op: 'instrument', symbol: 'AAA', tickSize: '1', lotSize: '1', minQty: '1', maxQty: '1000', priceBand: '0.1', referencePrice: '100' };
const BBB: Command = { op: 'instrument', symbol: 'BBB', tickSize: '0.05', lotSize: '10' };
const lim = (account: string, clOrdId: string, symbol: string, side: 'buy' | 'sell', price: string, qty: string, extra: Partial<Command> = {}): Command =>
  ({ op: 'new', account, clOrdId, symbol, side, type: 'limit', price, qty, tif: 'GTC', ...extra } as Command);

// b1 partly filled (cum 3, leaves 7, notional 297) ahead of b2 at 99; a1 post-only
// with cancel_both; c1 on the other instrument; AAA last traded at 99.
const BASE: Command[] = [
  AAA, BBB,
  lim('alice', 'b1', 'AAA', 'buy', '99', '10'),
  lim('bob', 'b2', 'AAA', 'buy', '99', '5'),
  lim('carol', 's1', 'AAA', 'sell', '99', '3', { tif: 'IOC' }),
  lim('alice', 'a1', 'AAA', 'sell', '101', '4', { postOnly: true, stp: 'cancel_both' }),
  lim('carol', 'c1', 'BBB', 'buy', '100.00', '20'),
];

function engineAfter(cmds: Command[], seqs?: number[]): Engine {
  const e = createEngine();
  cmds.forEach((c, i) => {
    const evs = applied(e, c, seqs?.[i] ?? i + 1);
    const bad = evs.find((x) => x.type === 'rejected' || x.type === 'cancelRejected');
    assert.equal(bad, undefined, `set-up command ${JSON.stringify(c)} must succeed`);
  });
  return e;
}

const base = engineAfter(BASE);
const baseSnap: EngineSnapshot = JSON.parse(JSON.stringify(base.snapshot()));
const H0 = base.stateHash();
const clone = (s: EngineSnapshot): EngineSnapshot => JSON.parse(JSON.stringify(s));
const order = (s: EngineSnapshot, clOrdId: string): OrderState => s.orders.find((o) => o.clOrdId === clOrdId)!;
const inst = (s: EngineSnapshot, symbol: string) => s.instruments.find((i) => i.symbol === symbol)!;

/** One change to the state, made on its snapshot. */
const edits: [string, (s: EngineSnapshot) => void][] = [
  ["an order's leaves quantity", (s) => { order(s, 'b1').leavesQty -= 1; order(s, 'b1').qty -= 1; }],
  ["an order's cum quantity", (s) => { order(s, 'b1').cumQty -= 1; order(s, 'b1').qty -= 1; }],
  ["an order's cum notional", (s) => { order(s, 'b1').cumNotional = order(s, 'b1').cumNotional === 297 ? 298 : 297; }],
  ["an order's price", (s) => { order(s, 'a1').price += 1; }],
  ['time priority (the same orders, b2 ahead of b1)', (s) => {
    const i = s.orders.indexOf(order(s, 'b1'));
    const j = s.orders.indexOf(order(s, 'b2'));
    [s.orders[i], s.orders[j]] = [s.orders[j], s.orders[i]];
  }],
  ["an order's account", (s) => { order(s, 'b2').account = 'carol'; }],
  ["an order's clOrdId", (s) => { order(s, 'b2').clOrdId = 'b3'; }],
  ["an order's side", (s) => { order(s, 'c1').side = 'sell'; }],
  ["an order's id", (s) => { order(s, 'b2').orderId += 100; }],
  ["an order's post-only flag", (s) => { order(s, 'a1').postOnly = false; }],
  ["an order's self-trade prevention mode", (s) => { order(s, 'a1').stp = 'cancel_resting'; }],
  ["an order's time in force", (s) => { order(s, 'a1').tif = 'IOC'; }],
  ["an instrument's status", (s) => { inst(s, 'BBB').status = 'halted'; }],
  ["an instrument's last price", (s) => { inst(s, 'AAA').lastPrice = 100; }],
  ["an instrument's reference price", (s) => { inst(s, 'AAA').referencePrice = '101'; }],
  ["an instrument's price band", (s) => { inst(s, 'AAA').priceBand = '0.2'; }],
  ["an instrument's tick size", (s) => { inst(s, 'BBB').tickSize = '0.01'; }],
  ["an instrument's lot size", (s) => { inst(s, 'BBB').lotSize = '5'; inst(s, 'BBB').minQty = '5'; }], // min stays one lot
  ["an instrument's min quantity", (s) => { inst(s, 'AAA').minQty = '2'; }],
  ["an instrument's max quantity", (s) => { inst(s, 'AAA').maxQty = '999'; }],
];

describe('the state hash changes with each part of the state', () => {
  test('the unchanged snapshot restores to the same hash', () => {
    assert.equal(restoreEngine(clone(baseSnap)).stateHash(), H0);
  });

  for (const [what, edit] of edits) {
    test(what, () => {
      const s = clone(baseSnap);
      edit(s);
      assert.notDeepEqual(s, baseSnap, 'the edit changes the state');
      const e = restoreEngine(s);
      assert.deepEqual(JSON.parse(JSON.stringify(e.snapshot())), s, 'the engine holds exactly the edited state');
      assert.notEqual(e.stateHash(), H0);
    });
  }

  test('through commands: a replace to a lower quantity changes only leaves, and the hash', () => {
    const a = engineAfter([AAA, lim('alice', 'o', 'AAA', 'buy', '99', '5')]);
    const b = engineAfter([AAA, lim('alice', 'o', 'AAA', 'buy', '99', '5'), { op: 'replace', account: 'alice', clOrdId: 'o', origClOrdId: 'o', qty: '4' }]);
    const [sa, sb] = [a.snapshot(), b.snapshot()];
    assert.equal(sa.orders[0].leavesQty - 1, sb.orders[0].leavesQty);
    assert.deepEqual({ ...sa.orders[0], leavesQty: 0, qty: 0 }, { ...sb.orders[0], leavesQty: 0, qty: 0 }, 'nothing else differs');
    assert.notEqual(a.stateHash(), b.stateHash());
  });

  test('through commands: the same two orders in the other time priority', () => {
    const first = lim('alice', 'x', 'AAA', 'buy', '99', '5');
    const second = lim('bob', 'y', 'AAA', 'buy', '99', '5');
    // the same order ids (from seq), arriving in the other order
    const a = engineAfter([AAA, first, second], [1, 2, 3]);
    const b = engineAfter([AAA, second, first], [1, 3, 2]);
    assert.deepEqual(a.book('AAA')!.orders(0).map((o) => o.orderId), [2, 3]);
    assert.deepEqual(b.book('AAA')!.orders(0).map((o) => o.orderId), [3, 2]);
    assert.notEqual(a.stateHash(), b.stateHash());
  });

  test('through commands: halting changes the hash, resuming brings it back', () => {
    const e = engineAfter(BASE);
    e.apply({ op: 'halt', symbol: 'BBB' }, 10);
    assert.notEqual(e.stateHash(), H0);
    e.apply({ op: 'resume', symbol: 'BBB' }, 11);
    assert.equal(e.stateHash(), H0);
  });
});

describe('equal states hash equal, however they were reached', () => {
  test('an order placed and cancelled leaves no trace; nor do rejections and book queries', () => {
    const keep = lim('bob', 'k', 'AAA', 'sell', '105', '2');
    const never = engineAfter([AAA, keep], [1, 4]);
    const e = createEngine();
    e.apply(AAA, 1);
    e.apply(lim('alice', 'gone', 'AAA', 'buy', '98', '5'), 2);
    e.apply({ op: 'cancel', account: 'alice', clOrdId: 'c', origClOrdId: 'gone' }, 3);
    e.apply(keep, 4);
    e.apply(lim('alice', 'r', 'AAA', 'buy', '1', '5'), 5); // out of band: rejected
    e.apply({ op: 'book', symbol: 'AAA' }, 6);
    assert.equal(e.stateHash(), never.stateHash());
  });

  test('a replace down at the same price equals an order placed with that quantity', () => {
    const a = engineAfter([AAA, lim('alice', 'o', 'AAA', 'buy', '99', '5'), { op: 'replace', account: 'alice', clOrdId: 'o', origClOrdId: 'o', qty: '4' }]);
    const b = engineAfter([AAA, lim('alice', 'o', 'AAA', 'buy', '99', '4')]);
    assert.equal(a.stateHash(), b.stateHash());
  });

  test('instruments and accounts first seen in another order', () => {
    const a = engineAfter([AAA, BBB, lim('alice', 'a', 'AAA', 'buy', '99', '1'), lim('bob', 'b', 'BBB', 'buy', '10', '10')]);
    // bob is known first here (another internal account number): nothing in the state says so
    const b = createEngine();
    b.apply(BBB, 1);
    b.apply(lim('bob', 'z', 'BBB', 'buy', '9', '10'), 9);
    b.apply({ op: 'cancel', account: 'bob', clOrdId: 'zc', origClOrdId: 'z' }, 9);
    b.apply(AAA, 2);
    b.apply(lim('alice', 'a', 'AAA', 'buy', '99', '1'), 3);
    b.apply(lim('bob', 'b', 'BBB', 'buy', '10', '10'), 4);
    assert.equal(a.stateHash(), b.stateHash());
  });

  test('snapshot and restore, through JSON, on either ladder', () => {
    assert.equal(restoreEngine(base.snapshot()).stateHash(), H0);
    assert.equal(restoreEngine(clone(baseSnap), () => createLadder('ts')).stateHash(), H0);
    if (nativeAvailable()) assert.equal(restoreEngine(clone(baseSnap), () => createLadder('native')).stateHash(), H0);
    assert.equal(engineAfter(BASE).stateHash(), H0, 'the same commands again');
    assert.match(H0, /^[0-9a-f]{16}$/);
  });
});
