// The one column list of the event exports. Events are heterogeneous (an
// accepted order, a trade, a book delta ...), but analysts' tools want one
// table: every field of every event type is a column, and a row leaves the
// columns of other types empty. CSV, Parquet and Avro all derive their layout
// from this list, so a field added to engine/format.ts without a column here
// is an error in every sink, never a silently dropped value.

import type { InstrumentSpec } from '../../engine/commands.js';

/**
 * How a column is typed where the format has types (Parquet, Avro):
 * - `int64`, `int32`: integers (seqs and order ids can pass 2^31; counts cannot);
 * - `timestamp`: epoch microseconds, UTC;
 * - `price`, `qty`, `notional`: exact decimals at the export's scale of that kind;
 * - `category`: a string from a small set (dictionary-encoded in Parquet);
 * - `string`: any other string (ids, texts);
 * - `bool`;
 * - `levels`: a list of book levels (price, qty, orders).
 */
export type ColumnKind = 'int64' | 'int32' | 'timestamp' | 'price' | 'qty' | 'notional' | 'category' | 'string' | 'bool' | 'levels';

export interface Column {
  readonly name: string;
  readonly kind: ColumnKind;
  /** Every row has it (the rest are null when the event type lacks the field). */
  readonly required?: true;
  readonly doc: string;
}

// Ordered as formatEvent orders the fields of every event type (only a
// cancelRejected differs), so a row reads like its JSONL line and the CSV
// writer can emit a row in one pass over the event's keys.
export const COLUMNS: readonly Column[] = [
  { name: 'type', kind: 'category', required: true, doc: 'accepted, rejected, cancelled, replaced, cancelRejected, trade, bookDelta, book, massCancelled, instrument or status.' },
  { name: 'seq', kind: 'int64', required: true, doc: 'Sequence number of the command that caused the event.' },
  { name: 'ts', kind: 'timestamp', required: true, doc: 'Sequencer time of that command, epoch microseconds UTC.' },
  { name: 'orderId', kind: 'int64', doc: 'Order id (the seq of the command that created the order); 0 on a cancelRejected for an unknown order.' },
  { name: 'account', kind: 'category', doc: 'Account of the order or command.' },
  { name: 'clOrdId', kind: 'string', doc: 'Client order id of the command.' },
  { name: 'tradeId', kind: 'string', doc: 'Trade id (seq.n).' },
  { name: 'symbol', kind: 'category', doc: 'Instrument symbol; empty on a massCancelled over every symbol.' },
  { name: 'side', kind: 'category', doc: 'buy or sell (order events, bookDelta).' },
  { name: 'ordType', kind: 'category', doc: 'limit or market.' },
  { name: 'tif', kind: 'category', doc: 'GTC, IOC or FOK.' },
  { name: 'price', kind: 'price', doc: 'Limit price (absent for market orders), trade price, or level price (bookDelta).' },
  { name: 'qty', kind: 'qty', doc: "Order quantity, trade quantity, or the level's new aggregate quantity (bookDelta; 0 removes the level)." },
  { name: 'leavesQty', kind: 'qty', doc: 'Quantity still open.' },
  { name: 'cumQty', kind: 'qty', doc: 'Quantity filled so far.' },
  { name: 'cumNotional', kind: 'notional', doc: 'Sum of fill price x fill quantity so far.' },
  { name: 'cancelledQty', kind: 'qty', doc: 'Quantity taken off the book (cancelled).' },
  { name: 'origClOrdId', kind: 'string', doc: 'Client order id of the order a cancel or replace refers to.' },
  { name: 'status', kind: 'category', doc: 'Order status (new, cancelled, replaced) or trading status (open, halted).' },
  { name: 'postOnly', kind: 'bool', doc: 'Post-only flag (accepted).' },
  { name: 'stp', kind: 'category', doc: 'Self-trade prevention mode (accepted).' },
  { name: 'reason', kind: 'category', doc: 'Why an order was rejected, cancelled, or a cancel rejected.' },
  { name: 'text', kind: 'string', doc: 'Human-readable explanation of a rejection.' },
  { name: 'aggressor', kind: 'category', doc: 'Side of the incoming (taker) order.' },
  { name: 'makerOrderId', kind: 'int64', doc: 'Resting order of the trade.' },
  { name: 'makerAccount', kind: 'category', doc: 'Account of the resting order.' },
  { name: 'makerClOrdId', kind: 'string', doc: 'Client order id of the resting order.' },
  { name: 'makerLeavesQty', kind: 'qty', doc: 'Open quantity of the resting order after the trade.' },
  { name: 'makerCumQty', kind: 'qty', doc: 'Filled quantity of the resting order after the trade.' },
  { name: 'makerCumNotional', kind: 'notional', doc: 'Filled notional of the resting order after the trade.' },
  { name: 'takerOrderId', kind: 'int64', doc: 'Incoming order of the trade.' },
  { name: 'takerAccount', kind: 'category', doc: 'Account of the incoming order.' },
  { name: 'takerClOrdId', kind: 'string', doc: 'Client order id of the incoming order.' },
  { name: 'takerLeavesQty', kind: 'qty', doc: 'Open quantity of the incoming order after the trade.' },
  { name: 'takerCumQty', kind: 'qty', doc: 'Filled quantity of the incoming order after the trade.' },
  { name: 'takerCumNotional', kind: 'notional', doc: 'Filled notional of the incoming order after the trade.' },
  { name: 'orders', kind: 'int32', doc: 'Number of orders at the level (bookDelta).' },
  { name: 'bids', kind: 'levels', doc: 'Bid levels best first (book).' },
  { name: 'asks', kind: 'levels', doc: 'Ask levels best first (book).' },
  { name: 'count', kind: 'int32', doc: 'Number of orders cancelled (massCancelled).' },
];

/** Column position by field name. */
export const COLUMN_INDEX: ReadonlyMap<string, number> = new Map(COLUMNS.map((c, i) => [c.name, i]));

export function columnOf(field: string, seq: unknown): number {
  const i = COLUMN_INDEX.get(field);
  if (i === undefined) throw new Error(`event export: event of seq ${String(seq)} has a field "${field}" that no export column holds (replay/export/columns.ts)`);
  return i;
}

/** Decimal places of each decimal column kind in one export. */
export interface Scales {
  price: number;
  qty: number;
  notional: number;
}

/** Largest decimal precision Parquet's Decimal128 and our Avro/Arrow readers agree on. */
export const DECIMAL_PRECISION = 38;

/** Decimal places of a decimal string, trailing zeros not counted ("0.050" has 2). */
export function placesOf(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return 0;
  let end = text.length;
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

/**
 * One scale per kind for the whole export, wide enough for every instrument in
 * the log: a column has one type, and a price of an instrument with a finer
 * tick must not be rounded to fit another's. A notional is a price times a
 * quantity, so its places are the sum.
 */
export function scalesOf(instruments: readonly InstrumentSpec[]): Scales {
  let price = 0;
  let qty = 0;
  for (const i of instruments) {
    price = Math.max(price, placesOf(i.tickSize));
    qty = Math.max(qty, placesOf(i.lotSize), placesOf(i.minQty ?? '0'), placesOf(i.maxQty ?? '0'));
  }
  return { price, qty, notional: price + qty };
}

export function scaleOf(kind: 'price' | 'qty' | 'notional', scales: Scales): number {
  return scales[kind];
}
