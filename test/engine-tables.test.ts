// The engine's order tables, account lists and the walk's bookkeeping, through
// the commands that reach them: client-id and order-id lookups after unlinks,
// renames and growth, mass cancel's order and scope, and book deltas around a
// walk. Each test pins behaviour a small change to client-ids.ts, accounts.ts
// or book.ts would alter (a mutation audit found these uncovered).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEngine, formatEvent, restoreEngine, type Command, type Engine, type ExternalEvent } from '../engine/index.js';
import { createLadder, nativeAvailable } from '../native/index.js';
import { ClientIds, idHashOf } from '../engine/client-ids.js';
import { applied } from './engine-helpers.js';

type Ev = ExternalEvent;
type Kind = 'ts' | 'native';
const KINDS: Kind[] = nativeAvailable() ? ['ts', 'native'] : ['ts'];

class Session {
  readonly engine: Engine;
  seq = 0;

  constructor(readonly kind: Kind, engine?: Engine) {
    this.engine = engine ?? createEngine(() => createLadder(kind));
    if (engine === undefined) {
      this.do({ op: 'instrument', symbol: 'X', tickSize: '1', lotSize: '1' });
      this.do({ op: 'instrument', symbol: 'Y', tickSize: '1', lotSize: '1' });
    }
  }

  do(cmd: Command | Record<string, unknown>): Ev[] {
    return applied(this.engine, cmd as Command, ++this.seq).map((e) => formatEvent(e, this.engine));
  }

  limit(account: string, clOrdId: string, side: 'buy' | 'sell', price: string, qty: string, extra: Record<string, unknown> = {}): Ev[] {
    return this.do({ op: 'new', account, clOrdId, symbol: 'X', side, type: 'limit', price, qty, tif: 'GTC', ...extra });
  }

  /** The order id of a new order that must be accepted. */
  rest(account: string, clOrdId: string, side: 'buy' | 'sell', price: string, qty: string, extra: Record<string, unknown> = {}): number {
    const evs = this.limit(account, clOrdId, side, price, qty, extra);
    assert.equal(evs[0].type, 'accepted', JSON.stringify(evs[0]));
    return evs[0].orderId as number;
  }

  cancel(account: string, by: { origClOrdId: string } | { orderId: number }): Ev[] {
    return this.do({ op: 'cancel', account, clOrdId: `c${this.seq}`, ...by });
  }

  levels(side: 'bids' | 'asks', symbol = 'X'): string[] {
    const b = this.do({ op: 'book', symbol, depth: 50 })[0];
    return (b[side] as { price: string; qty: string; orders: number }[]).map((l) => `${l.qty}@${l.price}/${l.orders}`);
  }
}

const types = (evs: Ev[]) => evs.map((e) => (e.reason ? `${e.type}:${e.reason}` : e.type));
const cancelledIds = (evs: Ev[]) => evs.filter((e) => e.type === 'cancelled').map((e) => e.origClOrdId);

describe('clOrdId validation', () => {
  test('a malformed origClOrdId finds nothing, even with the last id looked up on its probe path', () => {
    // a short id that breaks the rule fails idHashOf before any word is packed: the words of the
    // previous lookup are still there, so a lookup must not run at all (requestOk trusts a found order)
    const home = (h: number) => ClientIds.hash(0, h) & 1023; // account 'a' is number 0; the table starts at 1024 slots
    let x = '';
    for (let i = 0; x === ''; i++) if (home(idHashOf(`k${i}`)) === home(-1)) x = `k${i}`;
    const s = new Session(KINDS[0]);
    s.rest('a', x, 'buy', '10', '1');
    // a cancel that finds the order and then names another symbol: the order stays, its words were the last looked up
    assert.deepEqual(types(s.do({ op: 'cancel', account: 'a', clOrdId: 'c1', origClOrdId: x, symbol: 'Y' })), ['cancelRejected:unknown_order']);
    for (const bad of ['k 1', 'k\u0001', '\u00e9']) {
      assert.deepEqual(types(s.do({ op: 'cancel', account: 'a', clOrdId: 'c2', origClOrdId: bad })), ['rejected:invalid_order'], JSON.stringify(bad));
      assert.deepEqual(types(s.do({ op: 'replace', account: 'a', clOrdId: 'c3', origClOrdId: bad, qty: '2' })), ['rejected:invalid_order'], JSON.stringify(bad));
    }
    assert.deepEqual(s.levels('bids'), ['1@10/1']);
  });

  test('a long clOrdId (over 16 characters) with a character past ~ is rejected, as a short one is', () => {
    const s = new Session(KINDS[0]);
    for (const bad of ['x'.repeat(20) + '\u007f', 'caf\u00e9'.padEnd(30, 'y'), 'z'.repeat(63) + '\u0100']) {
      assert.deepEqual(types(s.limit('a', bad, 'buy', '10', '1')), ['rejected:invalid_order'], JSON.stringify(bad));
    }
    assert.equal(s.limit('a', '~'.repeat(64), 'buy', '10', '1')[0].type, 'accepted');
  });
});

for (const kind of KINDS) {
  describe(`accounts' lists of live orders (${kind} ladder)`, () => {
    test('unlinking the head, then the new head, leaves the list whole: mass cancel finds exactly the live orders', () => {
      const s = new Session(kind);
      s.rest('a', '1', 'buy', '10', '1');
      s.rest('a', '2', 'buy', '11', '1');
      s.rest('a', '3', 'buy', '12', '1');
      s.rest('a', '4', 'buy', '13', '1');
      assert.deepEqual(types(s.cancel('a', { origClOrdId: '1' })), ['cancelled:user', 'bookDelta']);
      assert.deepEqual(types(s.cancel('a', { origClOrdId: '2' })), ['cancelled:user', 'bookDelta']);
      const m = s.do({ op: 'massCancel', account: 'a' });
      assert.deepEqual(cancelledIds(m), ['3', '4']);
      assert.equal(m.at(-1)?.count, 2);
      assert.equal(s.engine.slotsInUse(), 0);
    });

    test('unlinking the tail, then adding: the new order joins the list (a maker the walk fills at the tail, too)', () => {
      const s = new Session(kind);
      s.rest('a', '1', 'sell', '20', '1');
      s.rest('a', '2', 'sell', '21', '1');
      assert.deepEqual(types(s.cancel('a', { origClOrdId: '2' })), ['cancelled:user', 'bookDelta']);
      s.rest('a', '3', 'sell', '22', '1');
      s.rest('a', '4', 'sell', '19', '1');
      // the walk fills a's tail order '4' (the best ask): it leaves through BookOwner.finished
      assert.equal(s.limit('b', 't', 'buy', '19', '1').filter((e) => e.type === 'trade').length, 1);
      s.rest('a', '5', 'sell', '24', '1');
      const m = s.do({ op: 'massCancel', account: 'a' });
      assert.deepEqual(cancelledIds(m), ['1', '3', '5']);
      assert.equal(s.engine.slotsInUse(), 0);
    });

    test('unlinking from the middle keeps both neighbours', () => {
      const s = new Session(kind);
      for (const id of ['1', '2', '3', '4', '5']) s.rest('a', id, 'buy', '10', '1');
      s.cancel('a', { origClOrdId: '3' });
      s.cancel('a', { origClOrdId: '2' });
      s.cancel('a', { origClOrdId: '4' });
      s.rest('a', '6', 'buy', '10', '1');
      assert.deepEqual(cancelledIds(s.do({ op: 'massCancel', account: 'a' })), ['1', '5', '6']);
    });

    test('mass cancel by symbol touches only that book, the first one included', () => {
      const s = new Session(kind);
      s.rest('a', 'x1', 'buy', '10', '1');
      s.do({ op: 'new', account: 'a', clOrdId: 'y1', symbol: 'Y', side: 'buy', type: 'limit', price: '10', qty: '1', tif: 'GTC' });
      s.rest('a', 'x2', 'sell', '20', '1');
      assert.deepEqual(cancelledIds(s.do({ op: 'massCancel', account: 'a', symbol: 'X' })), ['x1', 'x2']);
      assert.deepEqual(cancelledIds(s.do({ op: 'massCancel', account: 'a', symbol: 'Y' })), ['y1']);
      assert.deepEqual(cancelledIds(s.do({ op: 'massCancel', account: 'a', symbol: 'NOPE' })), []);
    });

    test('after a restore, mass cancel goes in order id order, as the uninterrupted engine does', () => {
      const s = new Session(kind);
      // a snapshot lists orders by book and side (bids first) in priority order: not their order ids
      s.rest('a', 's1', 'sell', '20', '1');
      s.rest('a', 's2', 'sell', '19', '1');
      s.rest('a', 'b1', 'buy', '10', '1');
      s.do({ op: 'new', account: 'a', clOrdId: 'y1', symbol: 'Y', side: 'sell', type: 'limit', price: '10', qty: '1', tif: 'GTC' });
      s.rest('a', 'b2', 'buy', '11', '1');
      const r = new Session(kind, restoreEngine(JSON.parse(JSON.stringify(s.engine.snapshot())), () => createLadder(kind)));
      r.seq = s.seq;
      const live = s.do({ op: 'massCancel', account: 'a' });
      const restored = r.do({ op: 'massCancel', account: 'a' });
      assert.deepEqual(cancelledIds(live), ['s1', 's2', 'b1', 'y1', 'b2']);
      assert.deepEqual(restored, live);
      assert.equal(r.engine.stateHash(), s.engine.stateHash());
    });
  });

  describe(`lookups by orderId (${kind} ladder)`, () => {
    test('the index built on first use holds every account\'s orders, the newest account\'s too', () => {
      const s = new Session(kind);
      s.rest('a', '1', 'buy', '10', '1');
      s.rest('b', '1', 'buy', '10', '1');
      const last = s.rest('c', '1', 'buy', '10', '1');
      assert.deepEqual(types(s.cancel('c', { orderId: last })), ['cancelled:user', 'bookDelta']);
    });

    test('an order gone (cancelled, filled, cancelled by STP) is no longer found by orderId; a new one is', () => {
      const s = new Session(kind);
      const o1 = s.rest('a', '1', 'buy', '10', '1');
      const o2 = s.rest('a', '2', 'sell', '20', '1');
      const o3 = s.rest('a', '3', 'sell', '21', '1');
      assert.deepEqual(types(s.cancel('a', { orderId: o1 })), ['cancelled:user', 'bookDelta']); // builds the index
      assert.deepEqual(types(s.cancel('a', { orderId: o1 })), ['cancelRejected:unknown_order']);
      s.limit('b', 't', 'buy', '20', '1'); // fills o2
      assert.deepEqual(types(s.cancel('a', { orderId: o2 })), ['cancelRejected:unknown_order']);
      s.limit('a', 'u', 'buy', '21', '1', { tif: 'IOC' }); // STP cancels o3
      assert.deepEqual(types(s.cancel('a', { orderId: o3 })), ['cancelRejected:unknown_order']);
      const o4 = s.rest('a', '4', 'buy', '10', '1');
      assert.deepEqual(types(s.cancel('a', { orderId: o4 })), ['cancelled:user', 'bookDelta']);
      assert.equal(s.engine.slotsInUse(), 0);
    });

    test('another account cannot reach an order by its orderId', () => {
      const s = new Session(kind);
      const o = s.rest('a', '1', 'buy', '10', '1');
      s.rest('b', '1', 'buy', '9', '1'); // b is a known account, with a live order of its own
      assert.deepEqual(types(s.cancel('b', { orderId: o })), ['cancelRejected:unknown_order']);
      assert.deepEqual(types(s.do({ op: 'replace', account: 'b', clOrdId: 'r', orderId: o, qty: '2' })), ['cancelRejected:unknown_order']);
      assert.deepEqual(s.levels('bids'), ['1@10/1', '1@9/1']);
    });
  });

  describe(`renames (${kind} ladder)`, () => {
    test('a replace frees the old clOrdId and takes the new one, back and forth, short and long', () => {
      const s = new Session(kind);
      const long = 'L'.repeat(40);
      s.rest('a', '1', 'buy', '10', '5');
      assert.deepEqual(types(s.do({ op: 'replace', account: 'a', clOrdId: long, origClOrdId: '1', qty: '4' })), ['replaced', 'bookDelta']);
      assert.deepEqual(types(s.do({ op: 'replace', account: 'a', clOrdId: '1', origClOrdId: long, qty: '3' })), ['replaced', 'bookDelta']);
      assert.deepEqual(types(s.do({ op: 'replace', account: 'a', clOrdId: '2', origClOrdId: '1', qty: '2' })), ['replaced', 'bookDelta']);
      // '1' and the long id are free again, '2' is live
      assert.deepEqual(types(s.cancel('a', { origClOrdId: '1' })), ['cancelRejected:unknown_order']);
      assert.deepEqual(types(s.cancel('a', { origClOrdId: long })), ['cancelRejected:unknown_order']);
      assert.deepEqual(types(s.limit('a', '2', 'buy', '9', '1')), ['rejected:duplicate_clordid']);
      s.rest('a', '1', 'buy', '9', '1');
      s.rest('a', long, 'buy', '8', '1');
      assert.deepEqual(types(s.cancel('a', { origClOrdId: '2' })), ['cancelled:user', 'bookDelta']);
      assert.deepEqual(types(s.cancel('a', { origClOrdId: '1' })), ['cancelled:user', 'bookDelta']);
      assert.deepEqual(types(s.cancel('a', { origClOrdId: long })), ['cancelled:user', 'bookDelta']);
      s.rest('a', '2', 'buy', '9', '1');
      s.rest('a', '1', 'buy', '9', '1');
      assert.equal(s.engine.slotsInUse(), 2);
    });
  });

  describe(`book deltas around a walk (${kind} ladder)`, () => {
    test('a replace that changes only the clOrdId reports its level as the walk left it', () => {
      const s = new Session(kind);
      s.rest('a', '1', 'sell', '100', '10');
      s.rest('b', '2', 'sell', '100', '5');
      // an IOC takes 3 from '1' and rests nothing: the level is 12 in 2 orders
      assert.deepEqual(types(s.limit('c', 't', 'buy', '100', '3', { tif: 'IOC' })), ['accepted', 'trade', 'bookDelta']);
      const r = s.do({ op: 'replace', account: 'b', clOrdId: '2b', origClOrdId: '2', qty: '5' });
      assert.deepEqual(types(r), ['replaced', 'bookDelta']);
      assert.deepEqual([r[1].side, r[1].price, r[1].qty, r[1].orders], ['sell', '100', '12', 2]);
    });

    test('a taker that reuses handle 0 and rests its remainder is resting once', () => {
      const s = new Session(kind);
      s.rest('a', 'x', 'buy', '5', '1'); // handle 0
      s.rest('m', 'm', 'sell', '10', '2');
      s.cancel('a', { origClOrdId: 'x' }); // handle 0 free again
      const t = s.limit('a', 't', 'buy', '10', '5'); // handle 0: takes 2, rests 3
      assert.deepEqual(types(t), ['accepted', 'trade', 'bookDelta', 'bookDelta']);
      assert.deepEqual([t[3].side, t[3].price, t[3].qty, t[3].orders], ['buy', '10', '3', 1]);
      assert.deepEqual(s.levels('bids'), ['3@10/1']);
      assert.deepEqual(types(s.cancel('a', { origClOrdId: 't' })), ['cancelled:user', 'bookDelta']);
      assert.deepEqual(s.levels('bids'), []);
      assert.equal(s.engine.slotsInUse(), 0);
    });
  });
}

describe('tables that grow', () => {
  test('many accounts under the same clOrdIds: each account finds only its own', () => {
    const s = new Session(KINDS[0]);
    const A = 700;
    // every account uses the same few ids, short and long: their entries crowd the same probe paths
    const shared = ['1', 'same-id', 'a-long-client-order-id-shared-by-all'];
    for (let a = 0; a < A; a++) {
      for (const id of shared.slice(0, a % 2 === 0 ? 3 : 1)) s.rest(`acct${a}`, id, 'buy', '10', '1');
    }
    for (let a = 1; a < A; a += 2) {
      // odd accounts hold only '1': the others are free for them, and cancelling them finds nothing
      assert.deepEqual(types(s.cancel(`acct${a}`, { origClOrdId: 'same-id' })), ['cancelRejected:unknown_order'], `acct${a}`);
      assert.deepEqual(types(s.cancel(`acct${a}`, { origClOrdId: shared[2] })), ['cancelRejected:unknown_order'], `acct${a}`);
    }
    for (let a = 1; a < A; a += 2) assert.equal(s.limit(`acct${a}`, 'same-id', 'buy', '9', '1')[0].type, 'accepted', `acct${a}`);
    for (let a = 0; a < A; a++) {
      const c = s.cancel(`acct${a}`, { origClOrdId: 'same-id' });
      assert.deepEqual([c[0].type, c[0].account], ['cancelled', `acct${a}`]);
    }
  });

  test('thousands of live orders: every one found by clOrdId and by orderId, duplicates refused, all cancelled', () => {
    const s = new Session(KINDS[0]);
    const N = 3000;
    const ids: { account: string; clOrdId: string; orderId: number }[] = [];
    // half the orders before the orderId index exists, half after; short and long ids; few accounts (clustering)
    const clOrdIdOf = (i: number) => (i % 3 === 0 ? `long-${i}-`.padEnd(24, 'q') : `c${i}`);
    for (let i = 0; i < N; i++) {
      const account = `acct${i % 5}`;
      const clOrdId = clOrdIdOf(i);
      ids.push({ account, clOrdId, orderId: s.rest(account, clOrdId, 'buy', String(1 + (i % 50)), '1') });
      if (i === N / 2) assert.deepEqual(types(s.cancel('acct0', { orderId: ids[0].orderId })), ['cancelled:user', 'bookDelta']);
    }
    const live = ids.slice(1);
    for (const o of live.filter((_, i) => i % 7 === 0)) {
      assert.deepEqual(types(s.limit(o.account, o.clOrdId, 'buy', '1', '1')), ['rejected:duplicate_clordid'], o.clOrdId);
    }
    // cancel in an order unrelated to insertion: alternately by clOrdId and by orderId
    const order = live.map((_, i) => (i * 7919) % live.length);
    order.forEach((k, j) => {
      const o = live[k];
      const evs = s.cancel(o.account, j % 2 === 0 ? { origClOrdId: o.clOrdId } : { orderId: o.orderId });
      assert.deepEqual(types(evs), ['cancelled:user', 'bookDelta'], `${o.account}/${o.clOrdId}`);
      assert.equal(evs[0].orderId, o.orderId);
    });
    assert.equal(s.engine.slotsInUse(), 0);
    assert.deepEqual(s.levels('bids'), []);
  });
});

for (const kind of KINDS) {
  describe(`audit: book deltas, band edge, level bounds (${kind} ladder)`, () => {
    test('a mass cancel reports each level once, after its last cancel, with its final state', () => {
      const s = new Session(kind);
      s.rest('a', 'a1', 'sell', '100', '5');
      s.rest('b', 'b1', 'sell', '100', '5');
      s.rest('a', 'a2', 'sell', '100', '1');
      s.rest('a', 'a3', 'sell', '101', '2');
      s.rest('a', 'a4', 'sell', '100', '7');
      const m = s.do({ op: 'massCancel', account: 'a', clOrdId: 'm' });
      assert.deepEqual(types(m), ['cancelled:mass', 'cancelled:mass', 'cancelled:mass', 'bookDelta', 'cancelled:mass', 'bookDelta', 'massCancelled']);
      const deltas = m.filter((e) => e.type === 'bookDelta').map((e) => `${e.side} ${e.qty}@${e.price}/${e.orders}`);
      assert.deepEqual(deltas, ['sell 0@101/0', 'sell 5@100/1']);
      assert.deepEqual(s.levels('asks'), ['5@100/1']);
    });

    test('a market order reaches the exact edge of a band with 22 decimal places', () => {
      // bandDen 10^22 + bandNum is no safe integer: the edge must still be exact
      const s = new Session(kind);
      s.do({ op: 'instrument', symbol: 'Z', tickSize: '0.000000000000001', lotSize: '1', priceBand: '0.0000000999999999999999', referencePrice: '7.66193550236978' });
      const z = (account: string, clOrdId: string, side: 'buy' | 'sell', price?: string) => s.do({
        op: 'new', account, clOrdId, symbol: 'Z', side, qty: '1', ...(price === undefined ? { type: 'market' } : { type: 'limit', price }),
      });
      // the band's edges: floor(ref * (1 + band)) and ceil(ref * (1 - band)) ticks; both are inside the band
      assert.equal(z('a', 's1', 'sell', '7.66193626856333')[0].type, 'accepted');
      assert.equal(z('a', 'b1', 'buy', '7.66193473617623')[0].type, 'accepted');
      assert.deepEqual(types(z('a', 'x1', 'sell', '7.66193626856334')), ['rejected:price_out_of_band']);
      assert.deepEqual(types(z('a', 'x2', 'buy', '7.66193473617622')), ['rejected:price_out_of_band']);
      const buy = z('b', 'm1', 'buy');
      assert.deepEqual(types(buy), ['accepted', 'trade', 'bookDelta']);
      assert.equal(buy[1].price, '7.66193626856333');
      // the reference is now the last trade; put it back at the configured one for the sell side
      const s2 = new Session(kind);
      s2.do({ op: 'instrument', symbol: 'Z', tickSize: '0.000000000000001', lotSize: '1', priceBand: '0.0000000999999999999999', referencePrice: '7.66193550236978' });
      s2.do({ op: 'new', account: 'a', clOrdId: 'b1', symbol: 'Z', side: 'buy', type: 'limit', price: '7.66193473617623', qty: '1' });
      const sell = s2.do({ op: 'new', account: 'b', clOrdId: 'm2', symbol: 'Z', side: 'sell', type: 'market', qty: '1' });
      assert.deepEqual(types(sell), ['accepted', 'trade', 'bookDelta']);
      assert.equal(sell[1].price, '7.66193473617623');
    });

    test('a market buy whose band edge lies past 2^53-1 ticks walks the whole side, on either ladder', () => {
      const s = new Session(kind);
      // reference 9007199254740990 ticks, band 10%: the edge, 9907919180215088 ticks, is beyond any price
      s.do({ op: 'instrument', symbol: 'Z', tickSize: '0.000000000000001', lotSize: '1', priceBand: '0.1', referencePrice: '9.00719925474099' });
      s.do({ op: 'new', account: 'a', clOrdId: 's1', symbol: 'Z', side: 'sell', type: 'limit', price: '9.00719925474099', qty: '1' });
      const m = s.do({ op: 'new', account: 'b', clOrdId: 'm1', symbol: 'Z', side: 'buy', type: 'market', qty: '2' });
      assert.deepEqual(types(m), ['accepted', 'trade', 'bookDelta', 'cancelled:no_liquidity']);
      assert.deepEqual(types(s.do({ op: 'new', account: 'b', clOrdId: 'm2', symbol: 'Z', side: 'buy', type: 'market', qty: '1', tif: 'FOK' })), ['accepted', 'cancelled:fok']);
    });

    test('an order that would take its price level past 2^53-1 lots is rejected, not thrown, on either ladder', () => {
      const s = new Session(kind);
      const big = '999999999999999';
      for (let i = 0; i < 9; i++) s.rest(`a${i}`, 's', 'sell', '5', big);
      // 9 x (10^15 - 1) = 8999999999999991; 2^53-1 - that = 7199254741000 lots of room
      assert.deepEqual(types(s.limit('z', 'over', 'sell', '5', big)), ['rejected:invalid_order']);
      assert.match(s.limit('z', 'over', 'sell', '5', '7199254741001')[0].text as string, /would take the sell level at 5 past 9007199254740991 \(2\^53-1\) lots/);
      // an IOC never rests: nothing to bound
      assert.deepEqual(types(s.limit('z', 'ioc', 'sell', '5', big, { tif: 'IOC' })), ['accepted', 'cancelled:ioc']);
      s.rest('z', 'fit', 'sell', '5', '7199254740999');
      // a replace up by 2 lots would pass the bound, by 1 it fits; to another level it must fit there
      assert.deepEqual(types(s.do({ op: 'replace', account: 'z', clOrdId: 'up2', origClOrdId: 'fit', qty: '7199254741001' })), ['cancelRejected:invalid_order']);
      assert.deepEqual(types(s.do({ op: 'replace', account: 'z', clOrdId: 'up1', origClOrdId: 'fit', qty: '7199254741000' })), ['replaced', 'bookDelta']);
      s.rest('y', 'y', 'sell', '6', '5');
      assert.deepEqual(types(s.do({ op: 'replace', account: 'y', clOrdId: 'y2', origClOrdId: 'y', price: '5', qty: '5' })), ['cancelRejected:invalid_order']);
      assert.deepEqual(s.levels('asks'), ['9007199254740991@5/10', '5@6/1']);
      // a buy takes one lot: the level is exact, one below the bound
      assert.deepEqual(types(s.limit('b', 't', 'buy', '5', '1')), ['accepted', 'trade', 'bookDelta']);
      assert.deepEqual(s.levels('asks'), ['9007199254740990@5/10', '5@6/1']);
    });

    test('after a restore the bound still holds: the restored orders count toward it', () => {
      const s = new Session(kind);
      for (let i = 0; i < 9; i++) s.rest(`a${i}`, 's', 'sell', '5', '999999999999999');
      const r = new Session(kind, restoreEngine(JSON.parse(JSON.stringify(s.engine.snapshot())), () => createLadder(kind)));
      assert.deepEqual(types(r.limit('z', 'over', 'sell', '5', '7199254741001')), ['rejected:invalid_order']);
      assert.deepEqual(types(r.limit('z', 'fits', 'sell', '5', '7199254741000')), ['accepted', 'bookDelta']);
    });
  });
}

describe('audit: the TS ladder refuses a rest past 2^53-1 in a level, as the native one does', () => {
  for (const kind of KINDS) {
    test(`${kind}: add and a resting match are refused up front`, () => {
      const l = createLadder(kind);
      const b = l.addBook();
      l.add(b, 1, 5, Number.MAX_SAFE_INTEGER - 1, 0, 0);
      assert.throws(() => l.add(b, 1, 5, 2, 1, 1), /would exceed 2\^53 - 1/);
      assert.throws(() => l.match(b, 1, 5, 2, 1, 16, true, 1), /would exceed 2\^53 - 1/);
      l.add(b, 1, 5, 1, 1, 1);
      assert.equal(l.levelQty(b, 1, 5), Number.MAX_SAFE_INTEGER);
      assert.equal(l.orderCount(b), 2);
    });
  }
});
