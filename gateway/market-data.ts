// Market data: MarketDataRequest (V) subscriptions, a full snapshot (W), then
// incremental refreshes (X) with level changes and trades. The gateway keeps
// its own aggregated level book per symbol, built from the engine's snapshot
// at start-up and then from `bookDelta` events alone (each carries the level's
// new aggregate): it never reads the engine's book, and it always equals it.
//
// RptSeq (83) counts a symbol's updates (one per level change, one per trade),
// without gaps, the same numbers for every subscriber. W has no RptSeq (FIX
// 4.4 has none there): the first X entry after a W gives the count, and a
// full-book subscriber of all entry types must then see every next number; a
// depth-limited or filtered view sees a rising subsequence (an update outside
// its view sends it nothing; a level pushed out of its top N shares the
// number of the update that pushed it). Subscribers with the same view of a
// symbol (depth and entry types) share each X message: it is built once.
//
// Slow subscribers (conflation): each session's sink reports its backlog (bytes
// not yet sent). A subscription whose session is past the high-water mark when
// an update comes is stalled: it gets no more increments for that symbol.
// Once the backlog is below the low-water mark (checked after every command
// and on flush()), it gets a fresh snapshot instead of what it missed. Memory
// per slow session is therefore bounded by the high-water mark plus one
// message per symbol.
//
// Size: a command's increments for a view are split into several X messages
// of at most `maxEntryBytes` of entries each (FIX JSON measure, as SecurityList
// fragments), so a sweep or a mass cancel through thousands of levels stays in
// frames every client takes; RptSeq runs on across the parts. A W cannot be
// split (FIX 4.4 has no LastFragment there): one whose entries would pass
// `maxSnapshotBytes` is refused (Y, 281=5) naming a depth that fits, and a
// stalled subscription whose fresh W would pass it ends with that Y.

import { BUY, type Side } from '../native/ladder.js';
import type { BookDeltaEvent, EngineSnapshot, Instrument, LevelView, TradeEvent } from '../engine/index.js';
import type { Committed } from '../log/sequencer.js';
import { jsonEntryBytes } from './fix/json.js';
import { FixMessage, Tag, type FixField } from './fix/message.js';
import { DEFAULT_MAX_FRAME, MAX_FRAME_FROM_GATEWAY } from './fix/tagvalue.js';
import { utcTimestamp } from './reports.js';
import type { Instruments } from './orders.js';
import { DEFAULT_MAX_ENTRY_BYTES } from './security-list.js';

/** Where a session's market data goes. `send` must not change the message (subscribers share it). */
export interface MdSink {
  send(msg: FixMessage): void;
  /** Bytes queued for this session and not yet sent. */
  backlog(): number;
}

export interface MarketDataOptions {
  /** Backlog (bytes) past which a session's subscriptions stall. */
  highWaterBytes?: number;
  /** Backlog (bytes) below which a stalled subscription gets a fresh snapshot. */
  lowWaterBytes?: number;
  /** Entries per X message, in bytes of their FIX JSON form; a command's increments past it go in further X messages. */
  maxEntryBytes?: number;
  /** Entries a W may hold, in bytes of their FIX JSON form; a longer snapshot is refused. */
  maxSnapshotBytes?: number;
}

export const DEFAULT_HIGH_WATER_BYTES = 1 << 20;
export const DEFAULT_LOW_WATER_BYTES = 64 << 10;
/** What clients take from the gateway, less room for the header and an MDReqID echoed from an inbound frame. */
export const MAX_SNAPSHOT_ENTRY_BYTES = MAX_FRAME_FROM_GATEWAY - DEFAULT_MAX_FRAME;

// MDEntryType bits of a subscription
const BIDS = 1;
const OFFERS = 2;
const TRADES = 4;

const NEW = '0';
const CHANGE = '1';
const DELETE = '2';

interface Level {
  qty: number;
  orders: number;
}

/** One side's levels, best first. */
class SideBook {
  readonly prices: number[] = [];
  readonly levels = new Map<number, Level>();

  constructor(readonly buy: boolean) {}

  /** The price's index, or -(insertion point) - 1. */
  find(price: number): number {
    const p = this.prices;
    let lo = 0;
    let hi = p.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = p[mid];
      if (v === price) return mid;
      if (this.buy ? v > price : v < price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }
}

/** Subscribers of one symbol with the same depth (0 = full book) and entry types. */
class View {
  readonly subs: Sub[] = [];
  /** The X being built for the current command: MsgType, NoMDEntries, entries. */
  fields: FixField[] | null = null;
  count = 0;
  /** The entries' size in `fields` (FIX JSON measure). */
  bytes = 0;
  /** Earlier X messages of the current command, full at maxEntryBytes. */
  readonly parts: FixField[][] = [];

  constructor(readonly depth: number, readonly mask: number) {}
}

interface Sub {
  readonly sink: MdSink;
  readonly reqId: string;
  readonly book: SymbolBook;
  readonly view: View;
  stalled: boolean;
}

class SymbolBook {
  readonly bids = new SideBook(true);
  readonly asks = new SideBook(false);
  rptSeq = 0;
  readonly views: View[] = [];
  touched = false;

  constructor(readonly inst: Instrument) {}
}

export class MarketData {
  private readonly books = new Map<string, SymbolBook>();
  private readonly sinks = new Map<MdSink, Map<string, Sub>>();
  private readonly stalled = new Set<Sub>();
  private readonly touched: SymbolBook[] = [];
  private readonly high: number;
  private readonly low: number;
  private readonly maxEntryBytes: number;
  private readonly maxSnapshotBytes: number;

  constructor(private readonly instruments: Instruments, options: MarketDataOptions = {}) {
    this.high = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.low = Math.min(options.lowWaterBytes ?? DEFAULT_LOW_WATER_BYTES, this.high);
    this.maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
    this.maxSnapshotBytes = Math.min(options.maxSnapshotBytes ?? MAX_SNAPSHOT_ENTRY_BYTES, MAX_SNAPSHOT_ENTRY_BYTES);
    for (const symbol of instruments.symbols()) this.bookOf(symbol);
  }

  /** The level books of the engine's snapshot (taken in the same turn as exchange.subscribe, so no command falls between). */
  static fromSnapshot(snap: EngineSnapshot, instruments: Instruments, options?: MarketDataOptions): MarketData {
    const md = new MarketData(instruments, options);
    for (const o of snap.orders) {
      const b = md.books.get(o.symbol);
      if (b === undefined) throw new Error(`snapshot order ${o.orderId} of unknown symbol ${o.symbol}`);
      const side = o.side === 'buy' ? b.bids : b.asks;
      const l = side.levels.get(o.price);
      if (l === undefined) side.levels.set(o.price, { qty: o.leavesQty, orders: 1 });
      else {
        l.qty += o.leavesQty;
        l.orders++;
      }
    }
    for (const b of md.books.values()) {
      for (const side of [b.bids, b.asks]) {
        side.prices.push(...side.levels.keys());
        side.prices.sort(side.buy ? (x, y) => y - x : (x, y) => x - y);
      }
    }
    return md;
  }

  /** The symbol's current RptSeq (0 before its first update since start-up). */
  rptSeq(symbol: string): number {
    return this.books.get(symbol)?.rptSeq ?? 0;
  }

  /** The level book, best first, in ticks and lots (tests compare it with the engine's). */
  levels(symbol: string, side: Side): LevelView[] {
    const b = this.books.get(symbol);
    if (b === undefined) return [];
    const s = side === BUY ? b.bids : b.asks;
    return s.prices.map((price) => {
      const l = s.levels.get(price) as Level;
      return { price, qty: l.qty, orders: l.orders };
    });
  }

  // --- requests -----------------------------------------------------------------

  /**
   * A MarketDataRequest (V) of the session behind `sink`: answered on the
   * sink with W per symbol (then X as updates come), or Y. One subscription
   * per session and symbol: a new one replaces it.
   */
  request(sink: MdSink, msg: FixMessage): void {
    const reqId = msg.get(Tag.MDReqID) ?? '';
    const reject = (reason: string | null, text: string): void => {
      const y = new FixMessage([[Tag.MsgType, 'Y'], [Tag.MDReqID, reqId]]);
      if (reason !== null) y.add(Tag.MDReqRejReason, reason);
      sink.send(y.add(Tag.Text, text));
    };
    const type = msg.get(Tag.SubscriptionRequestType);
    const symbols = msg.getAll(Tag.Symbol);
    if (type === '2') {
      const mine = this.sinks.get(sink);
      let removed = 0;
      if (mine !== undefined) {
        for (const sub of [...mine.values()]) {
          if (sub.reqId === reqId && (symbols.length === 0 || symbols.includes(sub.book.inst.symbol))) {
            this.unsubscribe(sub);
            removed++;
          }
        }
      }
      if (removed === 0) reject(null, `no subscription with MDReqID ${reqId}`);
      return;
    }
    if (type !== '0' && type !== '1') return reject('4', `SubscriptionRequestType (263) ${type ?? ''} is not supported: 0 snapshot, 1 subscribe, 2 unsubscribe`);
    const depthText = msg.get(Tag.MarketDepth) ?? '';
    if (!/^[0-9]{1,9}$/.test(depthText)) return reject('5', `MarketDepth (264) ${depthText} is not supported: 0 full book or N levels`);
    const depth = Number(depthText);
    if (type === '1' && msg.has(Tag.MDUpdateType) && msg.get(Tag.MDUpdateType) !== '1') {
      return reject('6', 'MDUpdateType (265) must be 1 (incremental refresh)');
    }
    if (msg.get(Tag.AggregatedBook) === 'N') return reject('7', 'AggregatedBook (266) N is not supported: the book is aggregated by price level');
    let mask = 0;
    for (const t of msg.getAll(Tag.MDEntryType)) {
      if (t === '0') mask |= BIDS;
      else if (t === '1') mask |= OFFERS;
      else if (t === '2') mask |= TRADES;
      else return reject('8', `MDEntryType (269) ${t} is not supported: 0 bid, 1 offer, 2 trade`);
    }
    if (mask === 0) return reject('8', 'NoMDEntryTypes (267): at least one MDEntryType is required');
    if (symbols.length === 0) return reject('0', 'NoRelatedSym (146): at least one Symbol is required');
    // all or nothing: an unknown symbol refuses the whole request
    const books: SymbolBook[] = [];
    for (const symbol of symbols) {
      const b = this.books.get(symbol);
      if (b === undefined) return reject('0', `unknown symbol ${symbol}`);
      books.push(b);
    }
    // all or nothing here too: a snapshot too long for one frame refuses the request before anything is subscribed
    const snapshots: FixMessage[] = [];
    for (const b of books) {
      const w = this.snapshot(b, reqId, depth, mask);
      if (typeof w === 'string') return reject('5', w);
      snapshots.push(w);
    }
    for (let i = 0; i < books.length; i++) {
      if (type === '1') this.subscribe(sink, reqId, books[i], depth, mask);
      sink.send(snapshots[i]);
    }
  }

  /** Drops every subscription of a session (logout, disconnect). */
  disconnect(sink: MdSink): void {
    const mine = this.sinks.get(sink);
    if (mine === undefined) return;
    for (const sub of [...mine.values()]) this.unsubscribe(sub);
  }

  private subscribe(sink: MdSink, reqId: string, book: SymbolBook, depth: number, mask: number): void {
    // the old one goes first: removing a session's last subscription drops its map from
    // `sinks`, and a map fetched before would hold the new one where nothing finds it
    const old = this.sinks.get(sink)?.get(book.inst.symbol);
    if (old !== undefined) this.unsubscribe(old);
    let mine = this.sinks.get(sink);
    if (mine === undefined) {
      mine = new Map();
      this.sinks.set(sink, mine);
    }
    let view = book.views.find((v) => v.depth === depth && v.mask === mask);
    if (view === undefined) {
      view = new View(depth, mask);
      book.views.push(view);
    }
    const sub: Sub = { sink, reqId, book, view, stalled: false };
    view.subs.push(sub);
    mine.set(book.inst.symbol, sub);
  }

  private unsubscribe(sub: Sub): void {
    const { view, book } = sub;
    view.subs.splice(view.subs.indexOf(sub), 1);
    if (view.subs.length === 0) book.views.splice(book.views.indexOf(view), 1);
    this.stalled.delete(sub);
    const mine = this.sinks.get(sub.sink);
    if (mine === undefined) return;
    mine.delete(book.inst.symbol);
    if (mine.size === 0) this.sinks.delete(sub.sink);
  }

  /** The W, or why it cannot be sent: its entries would pass maxSnapshotBytes. */
  private snapshot(b: SymbolBook, reqId: string, depth: number, mask: number): FixMessage | string {
    const inst = b.inst;
    // FIX 4.4 has no RptSeq in W (a strict parser rejects it there): the snapshot
    // and the increments share one ordered session stream, so the first X after
    // a W sets the count and every later one must follow it without a gap
    const f: FixField[] = [[Tag.MsgType, 'W'], [Tag.MDReqID, reqId], [Tag.Symbol, inst.symbol], [Tag.NoMDEntries, '0']];
    let n = 0;
    let bytes = 0;
    let largest = 0;
    const sides = ((mask & BIDS) !== 0 ? 1 : 0) + ((mask & OFFERS) !== 0 ? 1 : 0);
    for (const [side, bit, type] of [[b.bids, BIDS, '0'], [b.asks, OFFERS, '1']] as const) {
      if ((mask & bit) === 0) continue;
      const end = depth === 0 ? side.prices.length : Math.min(depth, side.prices.length);
      for (let i = 0; i < end; i++) {
        const price = side.prices[i];
        const l = side.levels.get(price) as Level;
        const entry: FixField[] = [[Tag.MDEntryType, type], [Tag.MDEntryPx, inst.price(price)], [Tag.MDEntrySize, inst.qty(l.qty)], [Tag.NumberOfOrders, String(l.orders)]];
        const size = jsonEntryBytes(entry);
        bytes += size;
        largest = Math.max(largest, size);
        if (bytes > this.maxSnapshotBytes) {
          const levels = b.bids.prices.length + b.asks.prices.length;
          const fits = Math.max(1, Math.floor(this.maxSnapshotBytes / largest / sides));
          return `MarketDepth (264) ${depth}: the book of ${inst.symbol} (${levels} levels) is longer than a snapshot may be `
            + `(${this.maxSnapshotBytes} bytes of entries); ask for MarketDepth ${fits} or less`;
        }
        f.push(...entry);
        n++;
      }
    }
    f[3][1] = String(n);
    return new FixMessage(f);
  }

  // --- updates ------------------------------------------------------------------

  /** One durable command: the level books follow its book deltas; subscribers get its X. */
  apply(c: Committed): void {
    this.instruments.learn(c);
    const events = c.events;
    for (let k = 0; k < events.length; k++) {
      const e = events[k];
      if (e.type === 'bookDelta') this.delta(e);
      else if (e.type === 'trade') this.trade(e, c.ts);
      else if (e.type === 'instrument') this.bookOf(e.symbol);
    }
    const touched = this.touched;
    for (let i = 0; i < touched.length; i++) this.publish(touched[i]);
    touched.length = 0;
    if (this.stalled.size > 0) this.flush();
  }

  /** Stalled subscriptions whose session has drained below the low-water mark get a fresh snapshot (call on a timer or on drain). */
  flush(): void {
    for (const sub of this.stalled) {
      if (sub.sink.backlog() > this.low) continue;
      sub.stalled = false;
      this.stalled.delete(sub);
      const w = this.snapshot(sub.book, sub.reqId, sub.view.depth, sub.view.mask);
      if (typeof w !== 'string') {
        sub.sink.send(w);
        continue;
      }
      // the book grew past what a snapshot carries while the session was slow: the subscription ends, and says why
      this.unsubscribe(sub);
      sub.sink.send(new FixMessage([[Tag.MsgType, 'Y'], [Tag.MDReqID, sub.reqId], [Tag.MDReqRejReason, '5'], [Tag.Text, w]]));
    }
  }

  private bookOf(symbol: string): void {
    if (this.books.has(symbol)) return;
    const inst = this.instruments.get(symbol);
    if (inst !== undefined) this.books.set(symbol, new SymbolBook(inst));
  }

  private delta(e: BookDeltaEvent): void {
    const b = this.books.get(e.symbol);
    if (b === undefined) return;
    const side = e.side === BUY ? b.bids : b.asks;
    const price = e.price;
    const idx = side.find(price);
    let action: string;
    let rank: number;
    let level: Level;
    if (e.qty === 0) {
      if (idx < 0) return;
      level = side.levels.get(price) as Level;
      side.prices.splice(idx, 1);
      side.levels.delete(price);
      level.qty = 0;
      level.orders = 0;
      action = DELETE;
      rank = idx;
    } else if (idx >= 0) {
      level = side.levels.get(price) as Level;
      // a replace that only renames an order leaves its level as it was: not an update
      if (level.qty === e.qty && level.orders === e.orders) return;
      level.qty = e.qty;
      level.orders = e.orders;
      action = CHANGE;
      rank = idx;
    } else {
      rank = -idx - 1;
      level = { qty: e.qty, orders: e.orders };
      side.prices.splice(rank, 0, price);
      side.levels.set(price, level);
      action = NEW;
    }
    const rpt = ++b.rptSeq;
    const views = b.views;
    if (views.length === 0) return;
    const bit = side.buy ? BIDS : OFFERS;
    const type = side.buy ? '0' : '1';
    let px: string | null = null;
    for (let i = 0; i < views.length; i++) {
      const v = views[i];
      if ((v.mask & bit) === 0) continue;
      const n = v.depth;
      if (n !== 0 && rank >= n) continue;
      px ??= b.inst.price(price);
      this.entry(b, v, action, type, px, action === DELETE ? null : level, rpt);
      if (n === 0) continue;
      // a depth-N view sees a level enter or leave its top N as new / delete
      if (action === NEW && side.prices.length > n) {
        const out = side.prices[n];
        this.entry(b, v, DELETE, type, b.inst.price(out), null, rpt);
      } else if (action === DELETE && side.prices.length >= n) {
        const inPrice = side.prices[n - 1];
        this.entry(b, v, NEW, type, b.inst.price(inPrice), side.levels.get(inPrice) as Level, rpt);
      }
    }
  }

  /** `tsMicros`: the command's log time. */
  private trade(e: TradeEvent, tsMicros: number): void {
    const b = this.books.get(e.symbol);
    if (b === undefined) return;
    const rpt = ++b.rptSeq;
    const views = b.views;
    let px: string | null = null;
    let qty: string | null = null;
    let when: string | null = null;
    let entry: FixField[] | null = null;
    let size: number | null = null;
    for (let i = 0; i < views.length; i++) {
      const v = views[i];
      if ((v.mask & TRADES) === 0) continue;
      px ??= b.inst.price(e.price);
      qty ??= b.inst.qty(e.qty);
      // the command's log time: the same on a replay, unlike the gateway's clock
      when ??= utcTimestamp(tsMicros);
      // dictionary order within MDIncGrp: 279 269 55 270 271 272 273 83, then AggressorSide 2446 (FIX 5.0 SP2's; EXTENSIONS)
      entry ??= [[Tag.MDUpdateAction, NEW], [Tag.MDEntryType, '2'], [Tag.Symbol, e.symbol], [Tag.MDEntryPx, px],
        [Tag.MDEntrySize, qty], [Tag.MDEntryDate, when.slice(0, 8)], [Tag.MDEntryTime, when.slice(9)], [Tag.RptSeq, String(rpt)],
        [Tag.AggressorSide, e.aggressor === BUY ? '1' : '2']];
      size ??= jsonEntryBytes(entry);
      this.add(b, v, entry, size);
    }
  }

  /**
   * Adds an entry (`size`: its FIX JSON length) to the view's X of this
   * command, begun on its first entry; past maxEntryBytes the X is set aside
   * whole and another begun (at least one entry each, whatever its size).
   */
  private add(b: SymbolBook, v: View, entry: readonly FixField[], size: number): void {
    if (v.fields !== null && v.count > 0 && v.bytes + size > this.maxEntryBytes) {
      v.fields[1][1] = String(v.count);
      v.parts.push(v.fields);
      v.fields = null;
    }
    if (v.fields === null) {
      v.fields = [[Tag.MsgType, 'X'], [Tag.NoMDEntries, '0']];
      v.count = 0;
      v.bytes = 0;
      if (!b.touched) {
        b.touched = true;
        this.touched.push(b);
      }
    }
    for (let i = 0; i < entry.length; i++) v.fields.push(entry[i]);
    v.count++;
    v.bytes += size;
  }

  private entry(b: SymbolBook, v: View, action: string, type: string, px: string, level: Level | null, rpt: number): void {
    // dictionary order within MDIncGrp: 279 269 55 270 271 346 83
    const entry: FixField[] = [[Tag.MDUpdateAction, action], [Tag.MDEntryType, type], [Tag.Symbol, b.inst.symbol], [Tag.MDEntryPx, px]];
    if (level !== null) entry.push([Tag.MDEntrySize, b.inst.qty(level.qty)], [Tag.NumberOfOrders, String(level.orders)]);
    entry.push([Tag.RptSeq, String(rpt)]);
    this.add(b, v, entry, jsonEntryBytes(entry));
  }

  private publish(b: SymbolBook): void {
    b.touched = false;
    const views = b.views;
    for (let i = 0; i < views.length; i++) {
      const v = views[i];
      const f = v.fields;
      if (f === null) continue;
      f[1][1] = String(v.count);
      v.fields = null;
      v.count = 0;
      v.bytes = 0;
      const msgs = v.parts.map((p) => new FixMessage(p));
      msgs.push(new FixMessage(f));
      v.parts.length = 0;
      const subs = v.subs;
      for (let j = 0; j < subs.length; j++) {
        const sub = subs[j];
        if (sub.stalled) continue;
        if (sub.sink.backlog() > this.high) {
          sub.stalled = true;
          this.stalled.add(sub);
          continue;
        }
        // the parts of one command go together: a later snapshot would cover what a stall cut off
        for (let k = 0; k < msgs.length; k++) sub.sink.send(msgs[k]);
      }
    }
  }
}
