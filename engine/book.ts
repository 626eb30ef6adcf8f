// One instrument's order book: the ladder (price levels, FIFO queues, the walk)
// plus the order records behind its handles. Matching happens here; validation
// and ids happen in the engine.

import {
  BUY, FILL_CAPACITY, FILL_STRIDE, F_HANDLE, F_LEAVES, F_LEVEL_ORDERS, F_LEVEL_QTY, F_PRICE, F_QTY,
  IO_HANDLE, IO_HEADER, IO_LEVEL_ORDERS, IO_LEVEL_QTY, IO_STOP, STOP_DONE, STOP_FULL,
  type Ladder, type Side,
} from '../native/ladder.js';
import type { EngineEvent, LevelView } from './events.js';
import type { Instrument } from './instrument.js';
import { addFill } from './notional.js';
import type { Order } from './order.js';
import { cancelledEvent } from './views.js';

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
  /** The resting orders of a side in priority order. */
  orders(side: Side): readonly Readonly<Order>[];
  /** Resting orders on both sides. */
  orderCount(): number;
  /** The ladder's queries (no changes): for tests that check the ladder against the queues. */
  readonly ladder: LadderQueries;
}

/** The read-only part of a ladder. */
export type LadderQueries = Pick<Ladder, 'best' | 'levelQty' | 'levelOrders' | 'levelCount' | 'orderCount' | 'qtyOf' | 'priceOf'>;

export class Book implements BookView {
  private readonly byHandle: (Order | undefined)[] = [];
  private readonly io: Float64Array;
  private readonly depthBuf = new Float64Array(3 * 64);
  /** The level io[IO_LEVEL_*] currently describes (side -1: none). */
  private stateSide = -1;
  private statePrice = NaN;

  /**
   * `finished` hears of every resting order the walk of match() ends (filled,
   * or cancelled by self-trade prevention): the engine keeps the account
   * indexes, the book only the queues.
   */
  constructor(readonly instrument: Instrument, readonly ladder: Ladder, private readonly finished: (order: Order) => void) {
    this.io = ladder.io;
  }

  orderCount(): number {
    return this.ladder.orderCount();
  }

  /**
   * Rests an order at the back of its level and reports the level. An order that
   * match() already rested (a GTC limit order with quantity left) is only reported.
   */
  rest(order: Order, seq: number, out: EngineEvent[]): void {
    if (order.handle < 0) {
      const h = this.ladder.add(order.side, order.price, order.leavesQty, order.owner);
      order.handle = h;
      this.byHandle[h] = order;
      this.stateSide = order.side;
      this.statePrice = order.price;
    }
    this.delta(order.side, order.price, seq, out);
  }

  /** Takes a resting order out of the ladder (its events are the caller's). */
  take(order: Order): void {
    this.ladder.remove(order.handle);
    this.byHandle[order.handle] = undefined;
    order.handle = -1;
    this.stateSide = order.side;
    this.statePrice = order.price;
  }

  reduce(order: Order, leaves: number): void {
    this.ladder.reduce(order.handle, leaves);
    order.leavesQty = leaves;
    this.stateSide = order.side;
    this.statePrice = order.price;
  }

  delta(side: Side, price: number, seq: number, out: EngineEvent[]): void {
    let qty: number;
    let orders: number;
    if (side === this.stateSide && price === this.statePrice) {
      // the last add/remove/reduce touched this level: its state is in io
      qty = this.io[IO_LEVEL_QTY];
      orders = this.io[IO_LEVEL_ORDERS];
    } else {
      qty = this.ladder.levelQty(side, price);
      orders = this.ladder.levelOrders(side, price);
    }
    out.push({ type: 'bookDelta', seq, symbol: this.instrument.symbol, side, price, qty, orders });
  }

  /** Would a limit order at `price` on `side` take liquidity? */
  crosses(side: Side, price: number): boolean {
    const best = this.ladder.best((1 - side) as Side);
    if (best !== best) return false; // NaN: empty side
    return side === BUY ? best <= price : best >= price;
  }

  /** Limit to walk with: the order's price, or for a market order the edge of the price band. */
  static limitOf(order: Order): number {
    if (order.ordType === 'market') return order.instrument.marketLimit(order.side);
    return order.price;
  }

  canFill(order: Order): boolean {
    const want = order.leavesQty;
    return this.ladder.fillable(order.side, Book.limitOf(order), want, order.owner,
      order.stp !== 'cancel_resting') >= want;
  }

  /**
   * Walks the opposite side with `taker`. Emits trades, maker cancellations from
   * self-trade prevention, and one book delta per level left behind (after the
   * last fill at that level, showing its final state). Returns WALK_SELF when
   * self-trade prevention means the rest of the taker must be cancelled.
   */
  match(taker: Order, seq: number, out: EngineEvent[]): number {
    const opp = (1 - taker.side) as Side;
    const limit = Book.limitOf(taker);
    // what the engine does after the walk: a GTC limit order with quantity left rests
    const rest = taker.tif === 'GTC' && taker.ordType === 'limit';
    const symbol = this.instrument.symbol;
    const io = this.io;
    let pendingPrice = NaN;
    let pendingQty = 0;
    let pendingOrders = 0;
    let result = WALK_DONE;
    let tradeNo = 0; // one walk per command, so seq.tradeNo is unique
    for (;;) {
      this.stateSide = -1;
      const n = this.ladder.match(taker.side, limit, taker.leavesQty, taker.owner, FILL_CAPACITY, rest);
      for (let i = 0; i < n; i++) {
        const o = IO_HEADER + i * FILL_STRIDE;
        const h = io[o + F_HANDLE];
        const price = io[o + F_PRICE];
        const q = io[o + F_QTY];
        const maker = this.byHandle[h] as Order;
        if (price !== pendingPrice && pendingPrice === pendingPrice) {
          out.push({ type: 'bookDelta', seq, symbol, side: opp, price: pendingPrice, qty: pendingQty, orders: pendingOrders });
        }
        pendingPrice = price;
        pendingQty = io[o + F_LEVEL_QTY];
        pendingOrders = io[o + F_LEVEL_ORDERS];
        maker.leavesQty = io[o + F_LEAVES];
        maker.cumQty += q;
        maker.cumNotional = addFill(maker.cumNotional, price, q);
        taker.leavesQty -= q;
        taker.cumQty += q;
        taker.cumNotional = addFill(taker.cumNotional, price, q);
        this.instrument.lastPrice = price;
        out.push({
          type: 'trade', seq, tradeId: `${seq}.${++tradeNo}`, symbol, price, qty: q, aggressor: taker.side,
          makerOrderId: maker.orderId, makerAccount: maker.account, makerClOrdId: maker.clOrdId,
          makerLeavesQty: maker.leavesQty, makerCumQty: maker.cumQty, makerCumNotional: maker.cumNotional,
          takerOrderId: taker.orderId, takerAccount: taker.account, takerClOrdId: taker.clOrdId,
          takerLeavesQty: taker.leavesQty, takerCumQty: taker.cumQty, takerCumNotional: taker.cumNotional,
        });
        if (maker.leavesQty === 0) {
          this.byHandle[h] = undefined;
          maker.handle = -1;
          this.finished(maker);
        }
      }
      const stop = io[IO_STOP];
      if (stop === STOP_FULL) continue;
      if (stop === STOP_DONE) {
        const h = io[IO_HANDLE];
        if (h >= 0) {
          // the ladder rested the remainder (after the fills freed their handles)
          taker.handle = h;
          this.byHandle[h] = taker;
          this.stateSide = taker.side;
          this.statePrice = taker.price;
        }
        break;
      }
      // the next resting order belongs to the taker's own account
      if (taker.stp === 'cancel_incoming') { result = WALK_SELF; break; }
      const own = this.byHandle[stop] as Order;
      const price = own.price;
      if (price !== pendingPrice && pendingPrice === pendingPrice) {
        out.push({ type: 'bookDelta', seq, symbol, side: opp, price: pendingPrice, qty: pendingQty, orders: pendingOrders });
      }
      this.take(own);
      this.finished(own);
      out.push(cancelledEvent(own, seq, own.clOrdId, 'stp'));
      pendingPrice = price;
      pendingQty = io[IO_LEVEL_QTY];
      pendingOrders = io[IO_LEVEL_ORDERS];
      if (taker.stp === 'cancel_both') { result = WALK_SELF; break; }
    }
    if (pendingPrice === pendingPrice) {
      out.push({ type: 'bookDelta', seq, symbol, side: opp, price: pendingPrice, qty: pendingQty, orders: pendingOrders });
    }
    return result;
  }

  levels(side: Side, depth: number): LevelView[] {
    let buf = this.depthBuf;
    if (depth * 3 > buf.length) buf = new Float64Array(depth * 3);
    const n = this.ladder.depth(side, depth, buf);
    const out: LevelView[] = [];
    for (let i = 0; i < n; i++) out.push({ price: buf[i * 3], qty: buf[i * 3 + 1], orders: buf[i * 3 + 2] });
    return out;
  }

  /** Resting orders of a side in priority order. */
  orders(side: Side): Order[] {
    const hs = this.ladder.handles(side);
    const out: Order[] = new Array(hs.length);
    for (let i = 0; i < hs.length; i++) out[i] = this.byHandle[hs[i]] as Order;
    return out;
  }
}
