// Order events share one shape (OrderView); these build them from an Order.

import type { AcceptedEvent, CancelReason, CancelledEvent, ReplacedEvent } from './events.js';
import type { Order } from './order.js';

export function acceptedEvent(o: Order, seq: number): AcceptedEvent {
  return {
    type: 'accepted', seq, orderId: o.orderId, account: o.account, clOrdId: o.clOrdId,
    symbol: o.instrument.symbol, side: o.side, ordType: o.ordType, tif: o.tif, price: o.price,
    qty: o.qty, leavesQty: o.leavesQty, cumQty: o.cumQty, cumNotional: o.cumNotional,
    postOnly: o.postOnly, stp: o.stp,
  };
}

/**
 * `clOrdId` is the cancel request's id for a user cancel, the order's own otherwise.
 * The Order keeps its leavesQty after a cancel (its qty is cumQty + leavesQty), so
 * that is what was cancelled; the event says 0 left, as FIX LeavesQty(151) does.
 */
export function cancelledEvent(o: Order, seq: number, clOrdId: string, reason: CancelReason): CancelledEvent {
  return {
    type: 'cancelled', seq, orderId: o.orderId, account: o.account, clOrdId,
    symbol: o.instrument.symbol, side: o.side, ordType: o.ordType, tif: o.tif, price: o.price,
    qty: o.qty, leavesQty: 0, cumQty: o.cumQty, cumNotional: o.cumNotional, cancelledQty: o.leavesQty,
    origClOrdId: o.clOrdId, reason,
  };
}

export function replacedEvent(o: Order, seq: number, origClOrdId: string): ReplacedEvent {
  return {
    type: 'replaced', seq, orderId: o.orderId, account: o.account, clOrdId: o.clOrdId,
    symbol: o.instrument.symbol, side: o.side, ordType: o.ordType, tif: o.tif, price: o.price,
    qty: o.qty, leavesQty: o.leavesQty, cumQty: o.cumQty, cumNotional: o.cumNotional, origClOrdId,
  };
}
