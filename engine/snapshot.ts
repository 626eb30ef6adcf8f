// The engine's full state as plain data. The log persists it in Avro
// (log/schema), so fields are plain numbers and strings.

import type { InstrumentSpec, StpName } from './commands.js';
import type { OrderView } from './events.js';

export interface InstrumentState extends InstrumentSpec {
  /** Last trade price in ticks, 0 before the first trade. */
  lastPrice: number;
}

/** A resting order: the fields its events report (less seq), side spelled out, and its flags. */
export interface OrderState extends Omit<OrderView, 'seq' | 'side'> {
  side: 'buy' | 'sell';
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
