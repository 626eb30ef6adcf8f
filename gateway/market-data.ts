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

import { BUY, type Side } from '../native/ladder.js';
import type { BookDeltaEvent, EngineSnapshot, Instrument, LevelView, TradeEvent } from '../engine/index.js';
import type { Committed } from '../log/sequencer.js';
import { FixMessage, Tag, type FixField } from './fix/message.js';
import { utcTimestamp } from './reports.js';
import type { Instruments } from './orders.js';

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
}

export const DEFAULT_HIGH_WATER_BYTES = 1 << 20;
export const DEFAULT_LOW_WATER_BYTES = 64 << 10;

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

  constructor(private readonly instruments: Instruments, options: MarketDataOptions = {}) {
    this.high = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.low = Math.min(options.lowWaterBytes ?? DEFAULT_LOW_WATER_BYTES, this.high);
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
    for (const b of books) {
      if (type === '0') {
        sink.send(this.snapshot(b, reqId, depth, mask));
        continue;
      }
      this.subscribe(sink, reqId, b, depth, mask);
      sink.send(this.snapshot(b, reqId, depth, mask));
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

  private snapshot(b: SymbolBook, reqId: string, depth: number, mask: number): FixMessage {
    const inst = b.inst;
    // FIX 4.4 has no RptSeq in W (a strict parser rejects it there): the snapshot
    // and the increments share one ordered session stream, so the first X after
    // a W sets the count and every later one must follow it without a gap
    const f: FixField[] = [[Tag.MsgType, 'W'], [Tag.MDReqID, reqId], [Tag.Symbol, inst.symbol], [Tag.NoMDEntries, '0']];
    let n = 0;
    for (const [side, bit, type] of [[b.bids, BIDS, '0'], [b.asks, OFFERS, '1']] as const) {
      if ((mask & bit) === 0) continue;
      const end = depth === 0 ? side.prices.length : Math.min(depth, side.prices.length);
      for (let i = 0; i < end; i++) {
        const price = side.prices[i];
        const l = side.levels.get(price) as Level;
        f.push([Tag.MDEntryType, type], [Tag.MDEntryPx, inst.price(price)], [Tag.MDEntrySize, inst.qty(l.qty)], [Tag.NumberOfOrders, String(l.orders)]);
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
      sub.sink.send(this.snapshot(sub.book, sub.reqId, sub.view.depth, sub.view.mask));
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
    for (let i = 0; i < views.length; i++) {
      const v = views[i];
      if ((v.mask & TRADES) === 0) continue;
      px ??= b.inst.price(e.price);
      qty ??= b.inst.qty(e.qty);
      // the command's log time: the same on a replay, unlike the gateway's clock
      when ??= utcTimestamp(tsMicros);
      // dictionary order within MDIncGrp: 279 269 55 270 271 272 273 83, then AggressorSide 2446 (FIX 5.0 SP2's; EXTENSIONS)
      this.open(b, v).push([Tag.MDUpdateAction, NEW], [Tag.MDEntryType, '2'], [Tag.Symbol, e.symbol], [Tag.MDEntryPx, px],
        [Tag.MDEntrySize, qty], [Tag.MDEntryDate, when.slice(0, 8)], [Tag.MDEntryTime, when.slice(9)], [Tag.RptSeq, String(rpt)],
        [Tag.AggressorSide, e.aggressor === BUY ? '1' : '2']);
      v.count++;
    }
  }

  /** The view's X under construction, begun on its first entry of this command. */
  private open(b: SymbolBook, v: View): FixField[] {
    if (v.fields === null) {
      v.fields = [[Tag.MsgType, 'X'], [Tag.NoMDEntries, '0']];
      if (!b.touched) {
        b.touched = true;
        this.touched.push(b);
      }
    }
    return v.fields;
  }

  private entry(b: SymbolBook, v: View, action: string, type: string, px: string, level: Level | null, rpt: number): void {
    const f = this.open(b, v);
    // dictionary order within MDIncGrp: 279 269 55 270 271 346 83
    f.push([Tag.MDUpdateAction, action], [Tag.MDEntryType, type], [Tag.Symbol, b.inst.symbol], [Tag.MDEntryPx, px]);
    if (level !== null) f.push([Tag.MDEntrySize, b.inst.qty(level.qty)], [Tag.NumberOfOrders, String(level.orders)]);
    f.push([Tag.RptSeq, String(rpt)]);
    v.count++;
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
      const msg = new FixMessage(f);
      const subs = v.subs;
      for (let j = 0; j < subs.length; j++) {
        const sub = subs[j];
        if (sub.stalled) continue;
        if (sub.sink.backlog() > this.high) {
          sub.stalled = true;
          this.stalled.add(sub);
          continue;
        }
        sub.sink.send(msg);
      }
    }
  }
}
