// The book of one symbol as of a moment: replay to it (from the nearest
// snapshot before it), then read the book. The levels have the shape of the
// engine's `book` event (what `matchlog apply` prints for a book query), so
// tools that read one read the other; `orders` adds every resting order in
// priority order with its owner and entry time.

import { formatEvent, type Engine, type ExternalEvent } from '../engine/index.js';
import { checkMoment, instrumentsOf, replayLog, timesOfSeqs, type LogBounds, type ReplayOptions } from './history.js';
import type { Progress } from './progress.js';
import { formatTime, type Moment } from './time.js';

export interface RestingOrder {
  orderId: number;
  account: string;
  clOrdId: string;
  /** Entry time: the sequencer time of the command that created the order (its orderId). */
  time: string;
  price: string;
  qty: string;
  leavesQty: string;
}

export interface BookAt {
  /** The `book` event shape: type, seq, symbol, bids, asks; plus ts (ISO) of the last command applied. */
  book: ExternalEvent;
  bidOrders?: RestingOrder[];
  askOrders?: RestingOrder[];
  snapshot: string | null;
  applied: number;
}

export interface BookAtOptions {
  symbol: string;
  at: Moment;
  /** Levels per side; Infinity for all. */
  depth: number;
  orders: boolean;
  /** Start from a snapshot when one is usable (default true). */
  snapshots?: boolean;
  progress?: Progress;
  log?: (line: string) => void;
}

const BUY = 0;
const SELL = 1;

export function bookAt(b: LogBounds, o: BookAtOptions): BookAt {
  checkMoment(b, o.at, '--at');
  const defined = instrumentsOf(b).map((i) => i.symbol);
  if (!defined.includes(o.symbol)) throw new Error(`unknown symbol ${o.symbol}: the log defines ${defined.sort().join(', ') || 'no instrument'}`);
  const range: ReplayOptions = 'seq' in o.at ? { toSeq: o.at.seq } : { toTs: o.at.ts };
  const r = replayLog(b.dir, { ...range, snapshots: o.snapshots, progress: o.progress, log: o.log }, undefined, b);
  const book = r.engine.book(o.symbol);
  if (book === undefined) throw new Error(`unknown symbol ${o.symbol} at seq ${r.seq}${knownSymbols(r.engine)}`);
  // a side has at most as many levels as orders (levels() sizes a buffer by depth)
  const depthOf = (side: 0 | 1) => Math.min(o.depth, book.orders(side).length);
  const event = formatEvent({ type: 'book', seq: r.seq, symbol: o.symbol, bids: book.levels(BUY, depthOf(BUY)), asks: book.levels(SELL, depthOf(SELL)) }, r.engine);
  event.ts = formatTime(r.ts);
  const out: BookAt = { book: event, snapshot: r.snapshot, applied: r.applied };
  if (o.orders) {
    const bids = book.orders(BUY);
    const asks = book.orders(SELL);
    const times = timesOfSeqs(b, [...bids, ...asks].map((x) => x.orderId));
    const inst = book.instrument;
    const row = (x: (typeof bids)[number]): RestingOrder => ({
      orderId: x.orderId, account: x.account, clOrdId: x.clOrdId, time: formatTime(times.get(x.orderId) ?? 0),
      price: inst.price(x.price), qty: inst.qty(x.cumQty + x.leavesQty), leavesQty: inst.qty(x.leavesQty),
    });
    out.bidOrders = bids.map(row);
    out.askOrders = asks.map(row);
  }
  return out;
}

function knownSymbols(engine: Engine): string {
  const all = engine.symbols();
  return all.length === 0 ? ' (no instrument is defined there yet)' : `; symbols there: ${all.join(', ')}`;
}

/** The text form: a depth ladder, then (with orders) each side's queue. */
export function renderBookAt(r: BookAt): string {
  const e = r.book;
  const bids = e.bids as { price: string; qty: string; orders: number }[];
  const asks = e.asks as { price: string; qty: string; orders: number }[];
  const lines: string[] = [];
  lines.push(`${String(e.symbol)} as of seq ${String(e.seq)} (${String(e.ts)})${r.snapshot !== null ? `, replayed from ${r.snapshot} + ${r.applied} commands` : `, replayed from the first record (${r.applied} commands)`}`);
  const rows = Math.max(bids.length, asks.length);
  const w = (s: string, n: number) => s.padStart(n);
  lines.push(`${w('orders', 7)} ${w('bid qty', 14)} ${w('bid', 14)} | ${'ask'.padEnd(14)} ${'ask qty'.padEnd(14)} orders`);
  for (let i = 0; i < rows; i++) {
    const b = bids[i];
    const a = asks[i];
    const left = b === undefined ? ' '.repeat(37) : `${w(String(b.orders), 7)} ${w(b.qty, 14)} ${w(b.price, 14)}`;
    const right = a === undefined ? '' : `${a.price.padEnd(14)} ${a.qty.padEnd(14)} ${a.orders}`;
    lines.push(`${left} | ${right}`.trimEnd());
  }
  if (rows === 0) lines.push('(empty book)');
  for (const [name, list] of [['bids', r.bidOrders], ['asks', r.askOrders]] as const) {
    if (list === undefined) continue;
    lines.push('', `${name} in priority order (${list.length}):`);
    for (const x of list) lines.push(`  ${x.price.padStart(14)} ${x.leavesQty.padStart(14)} of ${x.qty.padEnd(12)} #${x.orderId} ${x.account} ${x.clOrdId} ${x.time}`);
  }
  return lines.join('\n') + '\n';
}
