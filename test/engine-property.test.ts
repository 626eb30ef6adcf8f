// Properties over random command streams: the engine agrees with the naive
// reference model event for event, keeps its book invariants after every
// command, and is deterministic across runs and across snapshot/restore.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createEngine, formatEvent, restoreEngine, type Command, type Engine, type EngineEvent, type InstrumentLookup } from '../engine/index.js';
import { ReferenceModel } from './reference-model.js';
import { streamArb } from './command-gen.js';

const RUNS = Number(process.env.MATCHLOG_PROPERTY_RUNS ?? 3000);

function external(events: EngineEvent[], lookup: InstrumentLookup): unknown[] {
  return events.map((e) => {
    const x = formatEvent(e, lookup);
    delete x.text; // the model does not word its reasons
    return x;
  });
}

function checkBook(engine: Engine, model: ReferenceModel, seq: number): void {
  for (const symbol of engine.symbols()) {
    const book = engine.book(symbol)!;
    const bids = book.orders(0);
    const asks = book.orders(1);
    if (bids.length > 0 && asks.length > 0) {
      assert.ok(bids[0].price < asks[0].price, `seq ${seq} ${symbol}: crossed book ${bids[0].price} >= ${asks[0].price}`);
    }
    for (const [side, orders] of [[0, bids], [1, asks]] as const) {
      const levels = new Map<number, { qty: number; n: number }>();
      let prev = NaN;
      for (const o of orders) {
        assert.ok(o.leavesQty > 0, `seq ${seq}: order ${o.orderId} rests with ${o.leavesQty}`);
        assert.equal(o.cumQty + o.leavesQty, o.qty, `seq ${seq}: order ${o.orderId} cum + leaves != qty`);
        if (prev === prev) assert.ok(side === 0 ? o.price <= prev : o.price >= prev, `seq ${seq}: side ${side} out of price order`);
        prev = o.price;
        const l = levels.get(o.price) ?? { qty: 0, n: 0 };
        l.qty += o.leavesQty;
        l.n++;
        levels.set(o.price, l);
      }
      assert.equal(book.ladder.levelCount(side), levels.size, `seq ${seq}: level count`);
      for (const [price, l] of levels) {
        assert.equal(book.ladder.levelQty(side, price), l.qty, `seq ${seq}: aggregate at ${price}`);
        assert.equal(book.ladder.levelOrders(side, price), l.n, `seq ${seq}: order count at ${price}`);
      }
      if (orders.length > 0) assert.equal(book.ladder.best(side), orders[0].price);
      else assert.ok(Number.isNaN(book.ladder.best(side)));
      // FIFO inside each level, and price priority, exactly as the model keeps them
      assert.deepEqual(orders.map((o) => o.orderId), model.sideOrders(symbol, side).map((o) => o.orderId), `seq ${seq}: ${symbol} side ${side} priority`);
    }
  }
}

/** Per order: total qty = filled + cancelled + resting, from the events alone plus the book. */
class QtyLedger {
  private readonly orders = new Map<number, { qty: number; filled: number; cancelled: number }>();

  see(e: EngineEvent): void {
    if (e.type === 'accepted') this.orders.set(e.orderId, { qty: e.qty, filled: 0, cancelled: 0 });
    else if (e.type === 'replaced') this.orders.get(e.orderId)!.qty = e.qty;
    else if (e.type === 'cancelled') this.orders.get(e.orderId)!.cancelled += e.cancelledQty;
    else if (e.type === 'trade') {
      this.orders.get(e.makerOrderId)!.filled += e.qty;
      this.orders.get(e.takerOrderId)!.filled += e.qty;
    }
  }

  check(engine: Engine): void {
    const resting = new Map<number, number>();
    for (const s of engine.symbols()) for (const side of [0, 1] as const) for (const o of engine.book(s)!.orders(side)) resting.set(o.orderId, o.leavesQty);
    for (const [id, o] of this.orders) {
      assert.equal(o.filled + o.cancelled + (resting.get(id) ?? 0), o.qty, `order ${id}: filled ${o.filled} + cancelled ${o.cancelled} + resting != ${o.qty}`);
    }
  }
}

function run(engine: Engine, cmds: Command[], from = 0, to = cmds.length): EngineEvent[][] {
  const out: EngineEvent[][] = [];
  for (let i = from; i < to; i++) out.push(engine.apply(cmds[i], i + 1));
  return out;
}

test('engine and naive reference model emit identical events; book invariants hold after every command', () => {
  fc.assert(fc.property(streamArb(), (cmds) => {
    const engine = createEngine();
    const model = new ReferenceModel();
    const ledger = new QtyLedger();
    cmds.forEach((c, i) => {
      const seq = i + 1;
      const got = engine.apply(c, seq);
      const want = model.apply(c, seq);
      // both sides formatted with the engine's instruments: a difference is a difference in value
      assert.deepEqual(external(got, engine), external(want, engine), `seq ${seq}: ${JSON.stringify(c)}`);
      got.forEach((e) => ledger.see(e));
      checkBook(engine, model, seq);
    });
    ledger.check(engine);
  }), { numRuns: RUNS });
});

test('the same stream twice yields identical events and state hash', () => {
  fc.assert(fc.property(streamArb(), (cmds) => {
    const a = createEngine();
    const b = createEngine();
    assert.deepEqual(run(a, cmds), run(b, cmds));
    assert.equal(a.stateHash(), b.stateHash());
  }), { numRuns: Math.ceil(RUNS / 3) });
});

test('snapshot at a random point, restored and fed the rest, matches the uninterrupted run', () => {
  fc.assert(fc.property(streamArb(), fc.nat(), (cmds, cut) => {
    const k = cut % (cmds.length + 1);
    const whole = createEngine();
    const all = run(whole, cmds);
    const first = createEngine();
    run(first, cmds, 0, k);
    const snap = JSON.parse(JSON.stringify(first.snapshot()));
    const restored = restoreEngine(snap);
    assert.equal(restored.stateHash(), first.stateHash(), 'restore reproduces the hash');
    assert.deepEqual(run(restored, cmds, k), all.slice(k));
    assert.equal(restored.stateHash(), whole.stateHash());
  }), { numRuns: Math.ceil(RUNS / 3) });
});

test('the state hash changes when the book changes', () => {
  const e = createEngine();
  e.apply({ op: 'instrument', symbol: 'AAA', tickSize: '1', lotSize: '1' }, 1);
  const h0 = e.stateHash();
  e.apply({ op: 'new', account: 'a', clOrdId: '1', symbol: 'AAA', side: 'buy', type: 'limit', price: '10', qty: '5', tif: 'GTC' }, 2);
  const h1 = e.stateHash();
  assert.notEqual(h0, h1);
  e.apply({ op: 'replace', account: 'a', clOrdId: '2', origClOrdId: '1', qty: '4' }, 3);
  assert.notEqual(e.stateHash(), h1);
  assert.match(e.stateHash(), /^[0-9a-f]{16}$/);
});
