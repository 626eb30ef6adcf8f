// One instrument's book: its part of the engine's one ladder (price levels, FIFO
// queues, the walk), addressed by its book index, with the engine's own order
// handles as the ladder's handles. Matching happens here; validation, ids and
// the account indexes in the engine.

import {
  BUY, FILL_CAPACITY, FILL_STRIDE, F_HANDLE, F_LEAVES, F_LEVEL_ORDERS, F_LEVEL_QTY, F_PRICE, F_QTY,
  IO_HANDLE, IO_HEADER, IO_LEVEL_ORDERS, IO_LEVEL_QTY, IO_STOP, STOP_DONE, STOP_FULL,
  type Ladder, type Side,
} from '../native/ladder.js';
import { CANCEL_STP, EV_CANCELLED, ID_CLORDID, ID_ORIG, type EventBuffer } from './event-buffer.js';
import type { LevelView, RestingOrder } from './events.js';
import type { Instrument } from './instrument.js';
import {
  F_MARKET, F_RESTING, STP_CANCEL_BOTH, STP_CANCEL_INCOMING, STP_CANCEL_RESTING, TIF_GTC, isPostOnly, ordTypeName, stpCode, stpName,
  tifCode, tifName, type Orders,
} from './orders.js';
import { addFill, type Notional } from './notional.js';

/** What stopped an aggressor short of its full quantity. */
export const WALK_DONE = 0;
export const WALK_SELF = 1; // self-trade prevention cancels the incoming order

// The ladder is crossed once per command on the hot paths: add/remove/reduce leave
// the touched level's new [qty, orders] in the ladder's io buffer (so a book delta
// needs no query), and one match() call walks the book and, for a GTC limit order,
// rests what is left.
/**
 * What the engine hands out of a book (tools, tests, replay): its levels and
 * queues, read-only. Only the engine changes a book.
 */
export interface BookView {
  readonly instrument: Readonly<Instrument>;
  /** Aggregated levels of a side, best first, at most `depth`. */
  levels(side: Side, depth: number): LevelView[];
  /** The resting orders of a side in priority order, as plain records made for the caller. */
  orders(side: Side): RestingOrder[];
  /** Resting orders on both sides. */
  orderCount(): number;
  /** The ladder's queries about this book (no changes): for tests that check the ladder against the queues. */
  readonly ladder: LadderQueries;
}

/** The read-only part of a ladder, about one book (the ladder's calls without the book argument). */
export interface LadderQueries {
  best(side: Side): number;
  levelQty(side: Side, price: number): number;
  levelOrders(side: Side, price: number): number;
  levelCount(side: Side): number;
  orderCount(): number;
  qtyOf(handle: number): number;
  priceOf(handle: number): number;
}

/** LadderQueries of one book of a shared ladder: the book index bound once, per book, not per call. */
class BookQueries implements LadderQueries {
  constructor(private readonly l: Ladder, private readonly book: number) {}
  best(side: Side): number { return this.l.best(this.book, side); }
  levelQty(side: Side, price: number): number { return this.l.levelQty(this.book, side, price); }
  levelOrders(side: Side, price: number): number { return this.l.levelOrders(this.book, side, price); }
  levelCount(side: Side): number { return this.l.levelCount(this.book, side); }
  orderCount(): number { return this.l.orderCount(this.book); }
  qtyOf(handle: number): number { return this.l.qtyOf(handle); }
  priceOf(handle: number): number { return this.l.priceOf(handle); }
}

/**
 * Which level the io buffer's IO_LEVEL_* slots describe. One per ladder: the books
 * share the ladder's io, so a call in one book overwrites what another left there.
 */
class LevelState {
  /** -1: none */
  book = -1;
  side = -1;
  price = NaN;
}

const levelStates = new WeakMap<Ladder, LevelState>();

/** What a book needs of its engine: the account names its events carry, and where the orders its walks end go. */
export interface BookOwner {
  readonly names: readonly string[];
  /** A resting order a walk ended (filled, or cancelled by self-trade prevention): out of the account indexes, slot freed. */
  finished(h: number): void;
}

export class Book implements BookView {
  readonly ladder: LadderQueries;
  private readonly io: Float64Array;
  private readonly depthBuf = new Float64Array(3 * 64);
  /** The level io[IO_LEVEL_*] currently describes: shared by the books of one ladder, whose io they share. */
  private readonly state: LevelState;
  /** Lots ever rested on each side (an upper bound of any level's quantity; inexact only past 2^53, where it no longer decides). */
  private readonly restedLots = [0, 0];

  /**
   * `shared`: the engine's one ladder; `index`: the book's number in the engine
   * (orders carry it) and in that ladder (its addBook()). A resting order that
   * the walk ends (filled, or cancelled by self-trade prevention) goes back to
   * `owner.finished`: only the engine keeps the account indexes and the slots.
   */
  constructor(readonly instrument: Instrument, private readonly shared: Ladder, readonly index: number,
    private readonly slab: Orders, private readonly owner: BookOwner, private readonly ev: EventBuffer) {
    this.io = shared.io;
    this.ladder = new BookQueries(shared, index);
    let state = levelStates.get(shared);
    if (state === undefined) levelStates.set(shared, (state = new LevelState()));
    this.state = state;
  }

  orderCount(): number {
    return this.shared.orderCount(this.index);
  }

  /**
   * Rests an order at the back of its level and reports the level. An order that
   * match() already rested (a GTC limit order with quantity left) is only reported.
   */
  rest(h: number, seq: number): void {
    const o = this.slab;
    const side = o.side(h);
    const price = o.price[h];
    if ((o.flags[h] & F_RESTING) === 0) {
      this.shared.add(this.index, side, price, o.leaves[h], o.accountOf(h), h);
      this.restedLots[side] += o.leaves[h];
      o.flags[h] |= F_RESTING;
      this.touched(side, price);
    }
    this.delta(side, price, seq);
  }

  /** Takes a resting order out of the ladder (its events are the caller's). */
  take(h: number): void {
    const o = this.slab;
    this.shared.remove(h);
    o.flags[h] &= ~F_RESTING;
    this.touched(o.side(h), o.price[h]);
  }

  reduce(h: number, leaves: number): void {
    const o = this.slab;
    this.shared.reduce(h, leaves);
    o.leaves[h] = leaves;
    this.touched(o.side(h), o.price[h]);
  }

  /** Records that the last add/remove/reduce left the state of this book's level (side, price) in io. */
  private touched(side: Side, price: number): void {
    const st = this.state;
    st.book = this.index;
    st.side = side;
    st.price = price;
  }

  delta(side: Side, price: number, seq: number): void {
    let qty: number;
    let orders: number;
    const st = this.state;
    if (st.book === this.index && side === st.side && price === st.price) {
      // the last add/remove/reduce touched this level: its state is in io
      qty = this.io[IO_LEVEL_QTY];
      orders = this.io[IO_LEVEL_ORDERS];
    } else {
      qty = this.shared.levelQty(this.index, side, price);
      orders = this.shared.levelOrders(this.index, side, price);
    }
    this.ev.bookDelta(seq, this.instrument.symbol, side, price, qty, orders);
  }

  /**
   * Would `qty` more lots resting at `price` on `side` (after `leaving` lots of
   * an order already there leave it) take that level past 2^53 - 1? Both
   * ladders refuse such a rest (native/ladder.ts), so the engine rejects first.
   */
  overflows(side: Side, price: number, qty: number, leaving: number): boolean {
    // no level holds more than all that ever rested on its side: the common case asks the ladder nothing
    if (this.restedLots[side] + qty <= Number.MAX_SAFE_INTEGER) return false;
    return this.shared.levelQty(this.index, side, price) - leaving > Number.MAX_SAFE_INTEGER - qty;
  }

  /** Would a limit order at `price` on `side` take liquidity? */
  crosses(side: Side, price: number): boolean {
    const best = this.shared.best(this.index, (1 - side) as Side);
    if (best !== best) return false; // NaN: empty side
    return side === BUY ? best <= price : best >= price;
  }

  /** Limit to walk with: the order's price, or for a market order the edge of the price band. */
  private limitOf(h: number): number {
    const o = this.slab;
    return (o.flags[h] & F_MARKET) !== 0 ? this.instrument.marketLimit(o.side(h)) : o.price[h];
  }

  canFill(h: number): boolean {
    const o = this.slab;
    const want = o.leaves[h];
    return this.shared.fillable(this.index, o.side(h), this.limitOf(h), want, o.accountOf(h), stpCode(o.flags[h]) !== STP_CANCEL_RESTING) >= want;
  }

  /** A resting order the walk ended: its events are written; the engine takes it from here. */
  private finish(h: number): void {
    this.owner.finished(h);
  }

  /**
   * Walks the opposite side with the order `t`. Emits trades, maker cancellations
   * from self-trade prevention, and one book delta per level left behind (after
   * the last fill at that level, showing its final state). Returns WALK_SELF when
   * self-trade prevention means the rest of the taker must be cancelled.
   * `tClOrdId`: the taker's clOrdId (the command's).
   */
  match(t: number, seq: number, tClOrdId: string): number {
    const o = this.slab;
    const ev = this.ev;
    const names = this.owner.names;
    const side = o.side(t);
    const opp = (1 - side) as Side;
    const limit = this.limitOf(t);
    const tFlags = o.flags[t];
    // what the engine does after the walk: a GTC limit order with quantity left rests
    const rest = tifCode(tFlags) === TIF_GTC && (tFlags & F_MARKET) === 0;
    const stp = stpCode(tFlags);
    const owner = o.accountOf(t);
    const tAccount = names[owner];
    const tOrderId = o.orderId[t];
    const symbol = this.instrument.symbol;
    const io = this.io;
    let pendingPrice = NaN;
    let pendingQty = 0;
    let pendingOrders = 0;
    let result = WALK_DONE;
    let tradeNo = 0; // one walk per command, so seq.tradeNo is unique
    // the taker's fills add up here and reach its row (fills.ts) once, after the walk
    let tCum = o.cumOf(t);
    let tNotional: Notional = o.notionalOf(t);
    const tCum0 = tCum;
    for (;;) {
      this.state.book = -1;
      const n = this.shared.match(this.index, side, limit, o.leaves[t], owner, FILL_CAPACITY, rest, t);
      for (let i = 0; i < n; i++) {
        const r = IO_HEADER + i * FILL_STRIDE;
        const price = io[r + F_PRICE];
        const q = io[r + F_QTY];
        const m = io[r + F_HANDLE];
        if (price !== pendingPrice && pendingPrice === pendingPrice) ev.bookDelta(seq, symbol, opp, pendingPrice, pendingQty, pendingOrders);
        pendingPrice = price;
        pendingQty = io[r + F_LEVEL_QTY];
        pendingOrders = io[r + F_LEVEL_ORDERS];
        const mLeaves = (o.leaves[m] = io[r + F_LEAVES]);
        let mCum: number;
        let mNotional: Notional;
        if (mLeaves === 0) {
          // a maker this fill finishes is freed below: its totals go to the trade only, no fill row
          mCum = o.cumOf(m) + q;
          mNotional = addFill(o.notionalOf(m), price, q);
        } else {
          const mRow = o.fill(m, price, q);
          mCum = o.filledCum(mRow);
          mNotional = o.filledNotional(mRow);
        }
        o.leaves[t] -= q;
        tCum += q;
        tNotional = addFill(tNotional, price, q);
        this.instrument.lastPrice = price;
        ev.trade(seq, ++tradeNo, symbol, price, q, side,
          o.orderId[m], names[o.accountOf(m)], '', mLeaves, mCum, mNotional,
          tOrderId, tAccount, tClOrdId, o.leaves[t], tCum, tNotional);
        ev.slabClOrdId(ID_CLORDID, m);
        if (mLeaves === 0) {
          o.flags[m] &= ~F_RESTING;
          this.finish(m);
        }
      }
      const stop = io[IO_STOP];
      if (stop === STOP_FULL) continue;
      if (stop === STOP_DONE) {
        if (io[IO_HANDLE] >= 0) {
          // the ladder rested the remainder under the taker's handle
          o.flags[t] |= F_RESTING;
          this.restedLots[side] += o.leaves[t];
          this.touched(side, o.price[t]);
        }
        break;
      }
      // the next resting order belongs to the taker's own account
      if (stp === STP_CANCEL_INCOMING) { result = WALK_SELF; break; }
      const own = stop;
      const price = o.price[own];
      if (price !== pendingPrice && pendingPrice === pendingPrice) ev.bookDelta(seq, symbol, opp, pendingPrice, pendingQty, pendingOrders);
      this.take(own);
      this.cancelled(own, seq, null, CANCEL_STP);
      this.finish(own);
      pendingPrice = price;
      pendingQty = io[IO_LEVEL_QTY];
      pendingOrders = io[IO_LEVEL_ORDERS];
      if (stp === STP_CANCEL_BOTH) { result = WALK_SELF; break; }
    }
    if (tCum !== tCum0) o.setFilled(t, tCum, tNotional);
    if (pendingPrice === pendingPrice) ev.bookDelta(seq, symbol, opp, pendingPrice, pendingQty, pendingOrders);
    return result;
  }

  /**
   * The cancelled event of order `h`. `clOrdId` is the cancel request's id for a
   * user cancel, the incoming order's for one that does not rest, null for the
   * order's own (copied from the slab). The order keeps its leavesQty after
   * a cancel (its qty is cumQty + leavesQty), so that is what was cancelled; the
   * event says 0 left, as FIX LeavesQty(151) does.
   */
  cancelled(h: number, seq: number, clOrdId: string | null, reason: number): void {
    this.orderEvent(EV_CANCELLED, h, seq, clOrdId ?? '', 0, '', this.slab.leaves[h], reason);
    if (clOrdId === null) this.ev.slabClOrdId(ID_CLORDID, h);
    this.ev.slabClOrdId(ID_ORIG, h);
  }

  /** An order event of order `h` (event-buffer.ts: EV_ACCEPTED, EV_CANCELLED, EV_REPLACED) reporting `leaves`. */
  orderEvent(type: number, h: number, seq: number, clOrdId: string, leaves: number, orig: string, extra: number, code: number): void {
    const o = this.slab;
    this.ev.order(type, seq, o.orderId[h], this.owner.names[o.accountOf(h)], clOrdId, this.instrument.symbol,
      o.side(h), o.flagsOf(h), o.price[h], o.qty(h), leaves, o.cumOf(h), o.notionalOf(h), orig, extra, code);
  }

  levels(side: Side, depth: number): LevelView[] {
    let buf = this.depthBuf;
    if (depth * 3 > buf.length) buf = new Float64Array(depth * 3);
    const n = this.shared.depth(this.index, side, depth, buf);
    const out: LevelView[] = [];
    for (let i = 0; i < n; i++) out.push({ price: buf[i * 3], qty: buf[i * 3 + 1], orders: buf[i * 3 + 2] });
    return out;
  }

  /** Order handles of a side in priority order. */
  handles(side: Side): number[] {
    return Array.from(this.shared.handles(this.index, side));
  }

  orders(side: Side): RestingOrder[] {
    const o = this.slab;
    return this.handles(side).map((h) => {
      const f = o.flags[h];
      const notional: Notional = o.notionalOf(h);
      return {
        orderId: o.orderId[h], account: this.owner.names[o.accountOf(h)], clOrdId: o.clOrdIdOf(h), side,
        ordType: ordTypeName(f), tif: tifName(f), price: o.price[h], qty: o.qty(h), leavesQty: o.leaves[h],
        cumQty: o.cumOf(h), cumNotional: notional, postOnly: isPostOnly(f), stp: stpName(f),
      };
    });
  }
}
