// Drives nodejs-order-book (npm) through the same workload steps, the closest
// thing to a like-for-like peer: price-time priority, GTC/IOC, cancel, modify.
//
// Its semantics, read from node_modules/nodejs-order-book (10.x): modify(id,
// {price, size}) is cancel + a new GTC limit order under the same id, at the
// back of its level, and it may trade; `size` is the new remaining quantity
// (a partly filled order's `size` is what is left). cancel(id) returns
// undefined when no live order has that id. No self-trade prevention is asked
// for (no accountId/stpMode), and the workload never needs it.

import { OrderBook } from 'nodejs-order-book';
import type { BookShape, LevelShape, Step } from './workload.js';

/**
 * Applies steps [from, to) to `ob`; returns how many of them missed (a cancel
 * or modify of an id the peer does not hold, or an order it refused).
 */
export function runPeer(ob: OrderBook, steps: Step[], from: number, to: number): number {
  let missed = 0;
  for (let i = from; i < to; i++) {
    const s = steps[i];
    switch (s.k) {
      case 'limit':
        if (ob.limit({ id: s.id, side: s.side as never, size: s.qty, price: s.price, timeInForce: s.tif as never }).err !== null) missed++;
        break;
      case 'market':
        if (ob.market({ side: s.side as never, size: s.qty }).err !== null) missed++;
        break;
      case 'cancel':
        if (ob.cancel(s.id) === undefined) missed++;
        break;
      case 'replace':
        if (ob.modify(s.id, { price: s.price, size: s.qty }).err !== null) missed++;
        break;
    }
  }
  return missed;
}

/** The peer's resting book in the shape the benchmark compares. */
export function peerShape(ob: OrderBook): BookShape {
  const snap = ob.snapshot();
  const side = (levels: typeof snap.bids) => levels
    .map((l): LevelShape => ({ price: l.price, qty: l.orders.reduce((a, o) => a + o.size, 0), orders: l.orders.length, queue: l.orders.map((o) => `${o.id}:${o.size}`) }))
    .sort((a, b) => a.price - b.price);
  const bids = side(snap.bids);
  const asks = side(snap.asks);
  const orders = [...bids, ...asks].reduce((a, l) => a + l.orders, 0);
  return { orders, bids, asks };
}
