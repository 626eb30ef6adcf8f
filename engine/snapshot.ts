// The engine's full state as plain data. The log persists it in Avro
// (log/schema), so fields are plain numbers and strings (JSON-safe: no bigint).

import type { InstrumentSpec, StpName } from './commands.js';
import type { OrderView } from './events.js';

export interface InstrumentState extends InstrumentSpec {
  /** Last trade price in ticks, 0 before the first trade. */
  lastPrice: number;
}

/** A resting order: the fields its events report (less seq), side spelled out, and its flags. */
export interface OrderState extends Omit<OrderView, 'seq' | 'side' | 'cumNotional'> {
  side: 'buy' | 'sell';
  /** Exact: a number while it is a safe integer, else its decimal digits (notional.ts). */
  cumNotional: number | string;
  postOnly: boolean;
  stp: StpName;
}

export interface EngineSnapshot {
  /** 2 since notional is exact (cumNotional may be a string); restore also takes 1, whose numbers are all safe. */
  version: 1 | 2;
  /** In symbol order. */
  instruments: InstrumentState[];
  /** Per symbol in symbol order, bids then asks, each in priority order. */
  orders: OrderState[];
}
