// The mixed workload of the engine benchmark, generated once and replayed into
// every contender: one symbol, about 1,000 resting orders near the touch;
// ~60% new limit orders (about 10% of them marketable), ~30% cancels of live
// orders, ~5% replaces, ~5% IOC/market orders. Liveness is tracked with a
// matchlog engine during generation, so cancels and replaces hit live orders.

import { createEngine, type Command } from '../engine/index.js';
import { createLadder } from '../native/index.js';
import { prng } from '../gen/prng.js';

export const SYMBOL = 'BENCH';
export const INSTRUMENT: Command = { op: 'instrument', symbol: SYMBOL, tickSize: '1', lotSize: '1', minQty: '1', maxQty: '1000000' };
const MID = 10_000;

/** A plain description of one step, for contenders that do not speak matchlog commands. */
export type Step =
  | { k: 'limit'; id: string; side: 'buy' | 'sell'; price: number; qty: number; tif: 'GTC' | 'IOC' }
  | { k: 'market'; id: string; side: 'buy' | 'sell'; qty: number }
  | { k: 'cancel'; id: string }
  /** `id` is the order's first id: the peer keeps ids across a modify. */
  | { k: 'replace'; id: string; newId: string; price: number; qty: number };

export interface Workload {
  commands: Command[];
  steps: Step[];
  restingAtEnd: number;
}

export function mixedWorkload(n: number, seed = 1): Workload {
  const rnd = prng(seed);
  const engine = createEngine(() => createLadder('ts'));
  engine.apply(INSTRUMENT, 0);
  const book = engine.book(SYMBOL)!;
  const live: string[] = []; // ids that may be live; pruned lazily when picked
  const where = new Map<string, { account: string; side: 'buy' | 'sell'; price: number; qty: number }>();
  const commands: Command[] = [];
  const steps: Step[] = [];
  const accounts = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];
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
  const push = (cmd: Command, step: Step, seq: number) => {
    commands.push(cmd);
    steps.push(step);
    for (const e of engine.apply(cmd, seq)) {
      if (e.type === 'trade') {
        if (e.makerLeavesQty === 0) where.delete(e.makerClOrdId);
        if (e.takerLeavesQty === 0) where.delete(e.takerClOrdId);
      } else if (e.type === 'cancelled') where.delete(e.origClOrdId);
    }
  };
  for (let seq = 1; commands.length < n; seq++) {
    const side = rnd() < 0.5 ? 'buy' as const : 'sell' as const;
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
      where.set(id, { account, side, price, qty });
      live.push(id);
      push({ op: 'new', account, clOrdId: id, symbol: SYMBOL, side, type: 'limit', price: String(price), qty: String(qty), tif: 'GTC'},
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
      const price = rnd() < 0.5 ? o.price + (rnd() < 0.5 ? 1 : -1) : o.price;
      const qty = Math.max(1, o.qty + (rnd() < 0.5 ? -1 : 2));
      where.delete(id);
      where.set(newId, { account: o.account, side: o.side, price, qty });
      live.push(newId);
      peerId.set(newId, peer(id));
      push({ op: 'replace', account: o.account, clOrdId: newId, origClOrdId: id, symbol: SYMBOL, price: String(price), qty: String(qty) },
        { k: 'replace', id: peer(id), newId, price, qty }, seq);
    } else {
      const id = `o${next++}`;
      const qty = 1 + Math.floor(rnd() * 30 * bite);
      if (rnd() < 0.5) {
        push({ op: 'new', account, clOrdId: id, symbol: SYMBOL, side, type: 'market', qty: String(qty), tif: 'IOC'}, { k: 'market', id, side, qty }, seq);
      } else {
        const best = book.ladder.best(side === 'buy' ? 1 : 0);
        const price = (best === best ? best : MID) - sign * 5;
        push({ op: 'new', account, clOrdId: id, symbol: SYMBOL, side, type: 'limit', price: String(price), qty: String(qty), tif: 'IOC'},
          { k: 'limit', id, side, price, qty, tif: 'IOC' }, seq);
      }
    }
  }
  return { commands, steps, restingAtEnd: book.ladder.orderCount() };
}
