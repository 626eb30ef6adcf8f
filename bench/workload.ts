// The mixed workload of the engine benchmark, generated once and replayed into
// every contender: one symbol, about 1,000 resting orders near the touch;
// ~60% new limit orders (about 10% of them marketable), ~30% cancels of live
// orders, ~5% replaces that move the price, ~5% IOC/market orders.
//
// Built so that matchlog and nodejs-order-book do the same work and end in the
// same book (engine.bench.ts checks that before it prints a ratio):
// - buyers (b0-b3) and sellers (s0-s3) are disjoint accounts, so matchlog's
//   self-trade prevention never fires (the peer runs without STP);
// - liveness is tracked with a matchlog engine during generation, so every
//   cancel and replace names an order that is still live;
// - a replace always moves the price (1-3 ticks) and keeps the quantity left:
//   matchlog keeps queue priority on a same-price reduction, the peer's modify
//   is always cancel + new at the back, so only a price move is the same in
//   both; a replace's qty is the total (filled + left) for matchlog and the
//   quantity left for the peer, whose modify sets the remaining size.

import { createEngine, type Command, type Engine } from '../engine/index.js';
import { createLadder } from '../native/index.js';
import { prng } from '../gen/prng.js';
import { applied } from '../test/engine-helpers.js';

export const SYMBOL = 'BENCH';
export const INSTRUMENT: Command = { op: 'instrument', symbol: SYMBOL, tickSize: '1', lotSize: '1', minQty: '1', maxQty: '1000000' };
const MID = 10_000;

/** A plain description of one step, for contenders that do not speak matchlog commands. */
export type Step =
  | { k: 'limit'; id: string; side: 'buy' | 'sell'; price: number; qty: number; tif: 'GTC' | 'IOC' }
  | { k: 'market'; id: string; side: 'buy' | 'sell'; qty: number }
  | { k: 'cancel'; id: string }
  /** `id` is the order's first id (the peer keeps ids across a modify); `qty` is the new remaining size. */
  | { k: 'replace'; id: string; newId: string; price: number; qty: number };

export interface Workload {
  commands: Command[];
  steps: Step[];
  restingAtEnd: number;
  /** matchlog clOrdId -> the id the peer knows the order by (absent: the same). */
  peerId: Map<string, string>;
}

export const BUYERS = ['b0', 'b1', 'b2', 'b3'];
export const SELLERS = ['s0', 's1', 's2', 's3'];

interface Live { account: string; side: 'buy' | 'sell'; price: number; qty: number; leaves: number }

export function mixedWorkload(n: number, seed = 1): Workload {
  const rnd = prng(seed);
  const engine = createEngine(() => createLadder('ts'));
  engine.apply(INSTRUMENT, 0);
  const book = engine.book(SYMBOL)!;
  const live: string[] = []; // ids that may be live; pruned lazily when picked
  const where = new Map<string, Live>();
  const commands: Command[] = [];
  const steps: Step[] = [];
  let next = 0;
  // a peer that keeps an order's id across a modify knows it by its first id
  const peerId = new Map<string, string>();
  const peer = (id: string) => peerId.get(id) ?? id;
  const pickLive = (): string | undefined => {
    while (live.length > 0) {
      const i = Math.floor(rnd() * live.length);
      const id = live[i];
      if (where.has(id)) return id;
      live[i] = live[live.length - 1];
      live.pop();
    }
    return undefined;
  };
  const leaves = (id: string, left: number) => {
    const o = where.get(id);
    if (o === undefined) return;
    if (left === 0) where.delete(id);
    else o.leaves = left;
  };
  const push = (cmd: Command, step: Step, seq: number) => {
    commands.push(cmd);
    steps.push(step);
    for (const e of applied(engine, cmd, seq)) {
      if (e.type === 'trade') {
        leaves(e.makerClOrdId, e.makerLeavesQty);
        leaves(e.takerClOrdId, e.takerLeavesQty);
      } else if (e.type === 'cancelled') where.delete(e.origClOrdId);
      else if (e.type === 'rejected' || e.type === 'cancelRejected') throw new Error(`workload: step ${steps.length - 1} was refused: ${e.text}`);
    }
  };
  for (let seq = 1; commands.length < n; seq++) {
    const side = rnd() < 0.5 ? 'buy' as const : 'sell' as const;
    const accounts = side === 'buy' ? BUYERS : SELLERS;
    const account = accounts[Math.floor(rnd() * accounts.length)];
    const sign = side === 'buy' ? -1 : 1;
    const resting = book.ladder.orderCount();
    // aggressors grow with the book, which holds it near 1,000 resting orders
    const bite = Math.max(0.2, resting / 400);
    const r = rnd(); // new 0.6, cancel 0.3, replace 0.05, IOC/market 0.05
    if (r < 0.6 || resting < 200) {
      const id = `o${next++}`;
      const marketable = rnd() < 0.1;
      // prices follow the touch: passive orders within 50 ticks behind the opposite best, marketable ones up to 2 through it
      const bestBid = book.ladder.best(0);
      const bestAsk = book.ladder.best(1);
      const opp = side === 'buy' ? (bestAsk === bestAsk ? bestAsk : MID + 1) : (bestBid === bestBid ? bestBid : MID - 1);
      const price = marketable ? opp - sign * Math.floor(rnd() * 3) : opp + sign * (1 + Math.floor(rnd() * 50));
      const qty = 1 + Math.floor(rnd() * 20 * (marketable ? bite : 1));
      where.set(id, { account, side, price, qty, leaves: qty });
      live.push(id);
      push({ op: 'new', account, clOrdId: id, symbol: SYMBOL, side, type: 'limit', price: String(price), qty: String(qty), tif: 'GTC' },
        { k: 'limit', id, side, price, qty, tif: 'GTC' }, seq);
    } else if (r < 0.9) {
      const id = pickLive();
      if (id === undefined) continue;
      push({ op: 'cancel', account: where.get(id)!.account, clOrdId: `c${seq}`, origClOrdId: id, symbol: SYMBOL }, { k: 'cancel', id: peer(id) }, seq);
    } else if (r < 0.95) {
      const id = pickLive();
      if (id === undefined) continue;
      const o = where.get(id)!;
      const newId = `o${next++}`;
      // always a new price (1-3 ticks either way; towards the touch it may trade), so both engines requeue it
      const step = 1 + Math.floor(rnd() * 3);
      const price = Math.max(1, o.price + (rnd() < 0.5 ? step : -step));
      // the quantity left stays: a price-only move, which every contender (also exchange-core's move) has
      const newLeaves = o.leaves;
      const qty = o.qty; // matchlog's qty is the total, filled part included
      where.delete(id);
      where.set(newId, { account: o.account, side: o.side, price, qty, leaves: newLeaves });
      live.push(newId);
      peerId.set(newId, peer(id));
      push({ op: 'replace', account: o.account, clOrdId: newId, origClOrdId: id, symbol: SYMBOL, price: String(price), qty: String(qty) },
        { k: 'replace', id: peer(id), newId, price, qty: newLeaves }, seq);
    } else {
      const id = `o${next++}`;
      const qty = 1 + Math.floor(rnd() * 30 * bite);
      if (rnd() < 0.5) {
        push({ op: 'new', account, clOrdId: id, symbol: SYMBOL, side, type: 'market', qty: String(qty), tif: 'IOC' }, { k: 'market', id, side, qty }, seq);
      } else {
        const best = book.ladder.best(side === 'buy' ? 1 : 0);
        const price = (best === best ? best : MID) - sign * 5;
        push({ op: 'new', account, clOrdId: id, symbol: SYMBOL, side, type: 'limit', price: String(price), qty: String(qty), tif: 'IOC' },
          { k: 'limit', id, side, price, qty, tif: 'IOC' }, seq);
      }
    }
  }
  return { commands: laidOut(commands), steps: laidOut(steps), restingAtEnd: book.ladder.orderCount(), peerId };
}

/**
 * The same values, allocated afresh in order, as a decoder would hand them
 * over (one JSON.parse of the serialized pool). The generator's own objects
 * (a reference engine's events, the live-order map) are allocated between
 * the commands it builds, so the heap holds each command and its strings far
 * from the next, and the timed loop would pay a cache miss per field:
 * reading every field of 400,000 commands once cost 174-201 ns per command
 * before this, 107-126 after (the bench prints this "input floor"). Both
 * contenders get their inputs laid out this way; BENCH_INPUT=scattered
 * keeps the generator's layout.
 */
function laidOut<T>(items: T[]): T[] {
  if (process.env.BENCH_INPUT === 'scattered') return items;
  return JSON.parse(JSON.stringify(items)) as T[];
}

/**
 * A resting book as the benchmark compares it: order count, and per side
 * price -> (aggregate qty, orders, the queue as "peerId:leaves" in time
 * priority), by price ascending.
 */
export interface BookShape {
  orders: number;
  bids: LevelShape[];
  asks: LevelShape[];
}
export interface LevelShape { price: number; qty: number; orders: number; queue: string[] }

/** matchlog's resting book for SYMBOL in the compared shape; ids as the peer knows them. */
export function engineShape(engine: Engine, peerId: Map<string, string>): BookShape {
  const book = engine.book(SYMBOL)!;
  const side = (s: 0 | 1) => {
    const levels = book.levels(s, Math.max(1, book.ladder.levelCount(s)))
      .map((l): LevelShape => ({ price: l.price, qty: l.qty, orders: l.orders, queue: [] }));
    const at = new Map(levels.map((l) => [l.price, l]));
    for (const o of book.orders(s)) at.get(o.price)?.queue.push(`${peerId.get(o.clOrdId) ?? o.clOrdId}:${o.leavesQty}`);
    return levels.sort((a, b) => a.price - b.price);
  };
  return { orders: book.ladder.orderCount(), bids: side(0), asks: side(1) };
}

/** What differs between two books, one line each (at most `max` level lines); empty when they are the same. */
export function diffShapes(a: BookShape, b: BookShape, aName: string, bName: string, max = 10): string[] {
  const out: string[] = [];
  if (a.orders !== b.orders) out.push(`resting orders: ${aName} ${a.orders}, ${bName} ${b.orders}`);
  for (const sideName of ['bids', 'asks'] as const) {
    const la = new Map(a[sideName].map((l) => [l.price, l]));
    const lb = new Map(b[sideName].map((l) => [l.price, l]));
    const prices = [...new Set([...la.keys(), ...lb.keys()])].sort((x, y) => x - y);
    let levelDiffs = 0;
    for (const p of prices) {
      const x = la.get(p);
      const y = lb.get(p);
      if (x?.qty === y?.qty && x?.orders === y?.orders && x?.queue.join() === y?.queue.join()) continue;
      if (levelDiffs++ < max) {
        const show = (l: typeof x) => (l === undefined ? 'absent' : `qty ${l.qty} in ${l.orders} orders [${l.queue.slice(0, 6).join(' ')}${l.queue.length > 6 ? ' ...' : ''}]`);
        out.push(`${sideName} ${p}: ${aName} ${show(x)}, ${bName} ${show(y)}`);
      }
    }
    if (levelDiffs > max) out.push(`${sideName}: ${levelDiffs - max} more levels differ`);
  }
  return out;
}
