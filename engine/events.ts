// Events: what the engine emits. Prices are integer ticks and quantities integer
// lots here; format.ts turns them into decimal strings at the edge. Every event
// carries `seq`, the sequence number of the command that caused it.

import type { OrdTypeName, StpName, TifName } from './commands.js';
import type { Side } from '../native/ladder.js';
import type { Notional } from './notional.js';

export type RejectReason =
  | 'unknown_symbol' | 'halted' | 'off_tick' | 'off_lot' | 'qty_out_of_range'
  | 'price_out_of_band' | 'duplicate_clordid' | 'post_only_would_cross' | 'invalid_order';

export type CancelReason = 'user' | 'ioc' | 'fok' | 'no_liquidity' | 'stp' | 'mass';

export type CancelRejectReason = 'unknown_order' | RejectReason;

/** The state of an order as every order event reports it. */
export interface OrderView {
  seq: number;
  orderId: number;
  account: string;
  clOrdId: string;
  symbol: string;
  side: Side;
  ordType: OrdTypeName;
  tif: TifName;
  /** Limit price in ticks; 0 for a market order. */
  price: number;
  /** Total quantity, including what has filled. */
  qty: number;
  leavesQty: number;
  cumQty: number;
  /** Sum of fill price * fill qty, in ticks * lots: exact, a bigint only above 2^53-1 (notional.ts). */
  cumNotional: Notional;
}

export interface AcceptedEvent extends OrderView {
  type: 'accepted';
  postOnly: boolean;
  stp: StpName;
}

export interface RejectedEvent {
  type: 'rejected';
  seq: number;
  account: string;
  clOrdId: string;
  symbol: string;
  reason: RejectReason;
  text: string;
}

/** `leavesQty` is 0 (FIX LeavesQty on a cancel); what was taken off the book is `cancelledQty`. */
export interface CancelledEvent extends OrderView {
  type: 'cancelled';
  cancelledQty: number;
  origClOrdId: string;
  reason: CancelReason;
}

export interface ReplacedEvent extends OrderView {
  type: 'replaced';
  origClOrdId: string;
}

export interface CancelRejectedEvent {
  type: 'cancelRejected';
  seq: number;
  account: string;
  clOrdId: string;
  origClOrdId: string;
  orderId: number;
  symbol: string;
  reason: CancelRejectReason;
  text: string;
}

export interface TradeEvent {
  type: 'trade';
  seq: number;
  tradeId: string;
  symbol: string;
  price: number;
  qty: number;
  aggressor: Side;
  makerOrderId: number;
  makerAccount: string;
  makerClOrdId: string;
  makerLeavesQty: number;
  makerCumQty: number;
  makerCumNotional: Notional;
  takerOrderId: number;
  takerAccount: string;
  takerClOrdId: string;
  takerLeavesQty: number;
  takerCumQty: number;
  takerCumNotional: Notional;
}

export interface BookDeltaEvent {
  type: 'bookDelta';
  seq: number;
  symbol: string;
  side: Side;
  price: number;
  /** New aggregate quantity at the level; 0 removes it. */
  qty: number;
  orders: number;
}

export interface LevelView {
  price: number;
  qty: number;
  orders: number;
}

export interface BookEvent {
  type: 'book';
  seq: number;
  symbol: string;
  bids: LevelView[];
  asks: LevelView[];
}

export interface MassCancelledEvent {
  type: 'massCancelled';
  seq: number;
  account: string;
  clOrdId: string;
  /** '' when every symbol was in scope. */
  symbol: string;
  count: number;
}

export interface InstrumentEvent {
  type: 'instrument';
  seq: number;
  symbol: string;
  status: 'open' | 'halted';
}

export interface StatusEvent {
  type: 'status';
  seq: number;
  symbol: string;
  status: 'open' | 'halted';
}

export type EngineEvent =
  | AcceptedEvent | RejectedEvent | CancelledEvent | ReplacedEvent | CancelRejectedEvent
  | TradeEvent | BookDeltaEvent | BookEvent | MassCancelledEvent | InstrumentEvent | StatusEvent;

/** A resting order as a book view hands it out (BookView.orders): its state, made for the caller. */
export type RestingOrder = Omit<OrderView, 'seq' | 'symbol'> & { postOnly: boolean; stp: StpName };
