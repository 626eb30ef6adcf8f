// Drives nodejs-order-book (npm) through the same workload steps, the closest
// thing to a like-for-like peer: price-time priority, GTC/IOC/FOK, cancel, modify.

import { OrderBook } from 'nodejs-order-book';
import type { Step } from './workload.js';

export function runPeer(ob: OrderBook, steps: Step[], from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const s = steps[i];
    switch (s.k) {
      case 'limit':
        ob.limit({ id: s.id, side: s.side as never, size: s.qty, price: s.price, timeInForce: s.tif as never });
        break;
      case 'market':
        ob.market({ side: s.side as never, size: s.qty });
        break;
      case 'cancel':
        ob.cancel(s.id);
        break;
      case 'replace':
        ob.modify(s.id, { price: s.price, size: s.qty });
        break;
    }
  }
}
