// The engine's full state as plain data. The log persists it in Avro
// (log/schema), so fields are plain numbers and strings.

import type { InstrumentSpec, OrdTypeName, StpName, TifName } from './commands.js';

export interface InstrumentState extends InstrumentSpec {
  /** Last trade price in ticks, 0 before the first trade. */
  lastPrice: number;
}

export interface OrderState {
  orderId: number;
  account: string;
  clOrdId: string;
  symbol: string;
  side: 'buy' | 'sell';
  ordType: OrdTypeName;
  tif: TifName;
  /** Ticks. */
  price: number;
  /** Lots. */
  qty: number;
  leavesQty: number;
  cumQty: number;
  /** Ticks * lots. */
  cumNotional: number;
  postOnly: boolean;
  stp: StpName;
}

export interface EngineSnapshot {
  version: 1;
  /** In symbol order. */
  instruments: InstrumentState[];
  /** Per symbol in symbol order, bids then asks, each in priority order. */
  orders: OrderState[];
}
