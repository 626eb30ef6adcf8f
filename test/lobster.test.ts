// Real order flow: NASDAQ AAPL, 2012-06-21, LOBSTER sample (../shared/data/lobster).
// Every message is replayed through the engine; after each one our top of book
// must equal LOBSTER's reconstructed book, and every execution of a visible
// order must hit exactly that order — which checks price-time priority (FIFO)
// against a real exchange, not against our own idea of it.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createEngine, formatEvent, type Command, type Engine, type ExternalEvent } from '../engine/index.js';
import { applied } from './engine-helpers.js';

const DIR = fileURLToPath(new URL('../../../shared/data/lobster/', import.meta.url));
const MESSAGES = `${DIR}AAPL_2012-06-21_34200000_57600000_message_10.csv`;
const BOOKS = `${DIR}AAPL_2012-06-21_34200000_57600000_orderbook_10.csv`;
const SYMBOL = 'AAPL';

interface Msg { type: number; id: string; size: number; price: number; side: 'buy' | 'sell' }

const dollars = (p: number) => `${Math.floor(p / 10000)}.${String(p % 10000).padStart(4, '0')}`;

function readCsv(file: string): number[][] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(',').map(Number));
}

/** [price, size] levels of one side of an orderbook row, dummy levels dropped. */
function levels(row: number[], side: 'buy' | 'sell'): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < 10; i++) {
    const price = row[i * 4 + (side === 'sell' ? 0 : 2)];
    const size = row[i * 4 + (side === 'sell' ? 1 : 3)];
    if (size > 0) out.push([price, size]);
  }
  return out;
}

class Replay {
  readonly engine: Engine = createEngine();
  private seq = 0;
  /** Size still resting per LOBSTER order id we created. */
  readonly known = new Map<string, number>();

  do(cmd: Command): ExternalEvent[] {
    const evs = applied(this.engine, cmd, ++this.seq).map((e) => formatEvent(e, this.engine));
    for (const e of evs) {
      assert.ok(e.type !== 'rejected' && e.type !== 'cancelRejected', `seq ${this.seq}: ${JSON.stringify(e)} for ${JSON.stringify(cmd)}`);
    }
    return evs;
  }

  rest(account: string, id: string, side: 'buy' | 'sell', price: number, size: number): void {
    this.do({ op: 'new', account, clOrdId: id, symbol: SYMBOL, side, type: 'limit', price: dollars(price), qty: String(size), tif: 'GTC' });
  }

  /** Takes `size` off a resting order, keeping its priority (or cancels it when nothing is left). */
  reduce(account: string, id: string, left: number, size: number): number {
    const rest = left - size;
    if (rest > 0) {
      const evs = this.do({ op: 'replace', account, clOrdId: id, origClOrdId: id, qty: String(this.totalOf(account, id) - size) });
      assert.equal(evs[0].leavesQty, String(rest));
    } else {
      this.do({ op: 'cancel', account, clOrdId: `x${id}`, origClOrdId: id });
    }
    return rest;
  }

  /** Orders whose quantity the file took away with no message: a data gap, counted. */
  unexplained = 0;

  /**
   * Removes `size` at a level: outside liquidity first (newest first); with `known`,
   * then orders we saw arrive (their disappearance without a message is counted).
   * Returns what could not be removed.
   */
  trim(side: 'buy' | 'sell', price: number, size: number, known: boolean): number {
    const at = this.engine.book(SYMBOL)!.orders(side === 'buy' ? 0 : 1).filter((o) => o.price * 100 === price).reverse();
    const outside = at.filter((o) => o.account === 'outside');
    const ours = known ? at.filter((o) => o.account === 'nasdaq') : [];
    for (const o of [...outside, ...ours]) {
      if (size <= 0) break;
      const take = Math.min(size, o.leavesQty);
      if (o.account === 'nasdaq') {
        this.unexplained++;
        this.known.set(o.clOrdId, this.reduce('nasdaq', o.clOrdId, o.leavesQty, take));
      } else this.reduce('outside', o.clOrdId, o.leavesQty, take);
      size -= take;
    }
    return size;
  }

  private totalOf(account: string, id: string): number {
    const o = this.engine.symbols().flatMap((s) => [...this.engine.book(s)!.orders(0), ...this.engine.book(s)!.orders(1)])
      .find((x) => x.account === account && x.clOrdId === id);
    assert.ok(o, `order ${account}/${id} should be resting`);
    return o.qty;
  }
}

test('LOBSTER AAPL: every message has the effect NASDAQ shows, and every execution hits the right order', (t) => {
  assert.ok(existsSync(MESSAGES), `${MESSAGES} is missing: the shared LOBSTER sample belongs beside the checkout`);
  const msgs: Msg[] = readCsv(MESSAGES).map((r) => ({ type: r[1], id: String(r[2]), size: r[3], price: r[4], side: r[5] === 1 ? 'buy' : 'sell' }));
  const books = readCsv(BOOKS);
  const r = new Replay();
  r.do({ op: 'instrument', symbol: SYMBOL, tickSize: '0.01', lotSize: '1' });
  // The file's book at row 1 is after message 1 (an add).
  assert.equal(msgs[0].type, 1);

  let executions = 0;
  let checkedMakers = 0;
  let synthetic = 0;
  const ours = (side: 'buy' | 'sell') => r.engine.book(SYMBOL)!.levels(side === 'buy' ? 0 : 1, 10_000).map((l) => [l.price * 100, l.qty] as [number, number]);
  for (let k = 0; k < msgs.length; k++) {
    const m = msgs[k];
    // Liquidity that no message explains (orders from before the sample, the opening cross,
    // levels beyond the 10 shown) is reconciled from the file's previous row into orders of
    // an "outside" account, so that the message itself can be checked exactly.
    const before = k === 0 ? null : books[k - 1];
    if (before) {
      for (const side of ['buy', 'sell'] as const) {
        const file = levels(before, side);
        const edge = file.length === 10 ? file[9][0] : side === 'buy' ? 0 : Infinity;
        const mine = new Map(ours(side));
        for (const [price, size] of file) {
          const have = mine.get(price) ?? 0;
          if (size > have) { r.rest('outside', `u${synthetic++}`, side, price, size - have); }
          else if (size < have) assert.equal(r.trim(side, price, have - size, true), 0);
        }
        for (const [price, have] of mine) {
          const visible = side === 'buy' ? price >= edge : price <= edge;
          if (visible && !file.some(([p]) => p === price)) assert.equal(r.trim(side, price, have, true), 0);
        }
      }
    }
    const known = r.known.has(m.id);
    switch (m.type) {
      case 1:
        r.rest('nasdaq', m.id, m.side, m.price, m.size);
        r.known.set(m.id, m.size);
        break;
      case 2:
      case 3:
        if (known) r.known.set(m.id, r.reduce('nasdaq', m.id, r.known.get(m.id)!, m.size));
        else r.trim(m.side, m.price, m.size, false); // beyond the ten levels shown it may never have been ours
        break;
      case 4: {
        executions++;
        const evs = r.do({ op: 'new', account: 'street', clOrdId: `e${k}`, symbol: SYMBOL, side: m.side === 'buy' ? 'sell' : 'buy', type: 'limit', price: dollars(m.price), qty: String(m.size), tif: 'IOC' });
        const trades = evs.filter((e) => e.type === 'trade');
        assert.ok(trades.length >= 1, `message ${k + 1}: the execution must trade`);
        assert.ok(trades.every((t) => t.price === dollars(m.price).replace(/\.?0+$/, '')), `message ${k + 1}: trades at the resting price`);
        if (known) {
          assert.equal(trades.length, 1, `message ${k + 1}: one execution, one trade`);
          assert.equal(trades[0].makerClOrdId, m.id, `message ${k + 1}: the executed order must be first in its queue`);
          r.known.set(m.id, r.known.get(m.id)! - m.size);
          checkedMakers++;
        }
        break;
      }
      default:
        break; // 5 hidden executions and 6 crosses touch no visible order
    }
    if (k === 0) continue;
    for (const side of ['buy', 'sell'] as const) {
      // compare inside the ten levels shown both before and after the message: beyond
      // them, liquidity comes and goes without messages
      const edgeOf = (row: number[]) => {
        const l = levels(row, side);
        return l.length === 10 ? l[9][0] : side === 'buy' ? 0 : Infinity;
      };
      const a = edgeOf(books[k - 1]);
      const b = edgeOf(books[k]);
      const edge = side === 'buy' ? Math.max(a, b) : Math.min(a, b);
      const inside = ([p]: [number, number]) => (side === 'buy' ? p >= edge : p <= edge);
      const want = levels(books[k], side).filter(inside);
      const got = ours(side).filter(inside);
      assert.deepEqual(got, want, `message ${k + 1} (type ${m.type}): ${side} side`);
    }
  }
  assert.equal(executions, 98);
  assert.ok(checkedMakers > 30, `${checkedMakers} executions hit orders whose arrival we saw`);
  t.diagnostic(`${msgs.length} messages, ${executions} executions, ${checkedMakers} makers checked by id, ${synthetic} outside orders, ${r.unexplained} unexplained`);
  // the sample has a few orders that vanish with no message; more would mean we misread it
  assert.ok(r.unexplained <= 10, `${r.unexplained} seen orders lost quantity with no message`);
});
