// One instrument's order book: the ladder (price levels, FIFO queues, the walk)
// plus the order records behind its handles. Matching happens here; validation
// and ids happen in the engine.

import {
  BUY, FILL_BUFFER_LENGTH, FILL_STRIDE, F_HANDLE, F_LEAVES, F_LEVEL_ORDERS, F_LEVEL_QTY,
  F_PRICE, F_QTY, NO_LIMIT_BUY, NO_LIMIT_SELL, STOP_FULL, type Ladder, type Side,
} from '../native/ladder.js';
import type { Accounts } from './accounts.js';
import type { EngineEvent, LevelView } from './events.js';
import type { Instrument } from './instrument.js';
import type { Order } from './order.js';
import { cancelledEvent } from './views.js';

/** What stopped an aggressor short of its full quantity. */
export const WALK_DONE = 0;
export const WALK_SELF = 1; // self-trade prevention cancels the incoming order

export class Book {
  private readonly byHandle: (Order | undefined)[] = [];
  private readonly fills = new Float64Array(FILL_BUFFER_LENGTH);
  private readonly depthBuf = new Float64Array(3 * 64);

  constructor(readonly instrument: Instrument, readonly ladder: Ladder) {}

  /** Rests an order at the back of its level and reports the level. */
  rest(order: Order, seq: number, out: EngineEvent[]): void {
    const h = this.ladder.add(order.side, order.price, order.leavesQty, order.owner);
    order.handle = h;
    this.byHandle[h] = order;
    this.delta(order.side, order.price, seq, out);
  }

  /** Takes a resting order out of the ladder (its events are the caller's). */
  take(order: Order): void {
    this.ladder.remove(order.handle);
    this.byHandle[order.handle] = undefined;
    order.handle = -1;
  }

  reduce(order: Order, leaves: number): void {
    this.ladder.reduce(order.handle, leaves);
    order.leavesQty = leaves;
  }

  delta(side: Side, price: number, seq: number, out: EngineEvent[]): void {
    out.push({
      type: 'bookDelta', seq, symbol: this.instrument.symbol, side, price,
      qty: this.ladder.levelQty(side, price), orders: this.ladder.levelOrders(side, price),
    });
  }

  /** Would a limit order at `price` on `side` take liquidity? */
  crosses(side: Side, price: number): boolean {
    const best = this.ladder.best((1 - side) as Side);
    if (best !== best) return false; // NaN: empty side
    return side === BUY ? best <= price : best >= price;
  }

  /** Limit to walk with: the order's price, or the whole side for a market order. */
  static limitOf(order: Order): number {
    if (order.ordType === 'market') return order.side === BUY ? NO_LIMIT_BUY : NO_LIMIT_SELL;
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
  match(taker: Order, seq: number, out: EngineEvent[], accounts: Accounts): number {
    const opp = (1 - taker.side) as Side;
    const limit = Book.limitOf(taker);
    const symbol = this.instrument.symbol;
    const fills = this.fills;
    let pendingPrice = NaN;
    let pendingQty = 0;
    let pendingOrders = 0;
    let result = WALK_DONE;
    let tradeNo = 0; // one walk per command, so seq.tradeNo is unique
    for (;;) {
      const n = this.ladder.match(taker.side, limit, taker.leavesQty, taker.owner, fills);
      for (let i = 0; i < n; i++) {
        const o = 1 + i * FILL_STRIDE;
        const h = fills[o + F_HANDLE];
        const price = fills[o + F_PRICE];
        const q = fills[o + F_QTY];
        const maker = this.byHandle[h] as Order;
        if (price !== pendingPrice && pendingPrice === pendingPrice) {
          out.push({ type: 'bookDelta', seq, symbol, side: opp, price: pendingPrice, qty: pendingQty, orders: pendingOrders });
        }
        pendingPrice = price;
        pendingQty = fills[o + F_LEVEL_QTY];
        pendingOrders = fills[o + F_LEVEL_ORDERS];
        maker.leavesQty = fills[o + F_LEAVES];
        maker.cumQty += q;
        maker.cumNotional += q * price;
        taker.leavesQty -= q;
        taker.cumQty += q;
        taker.cumNotional += q * price;
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
          accounts.remove(maker);
        }
      }
      const stop = fills[0];
      if (stop === STOP_FULL) continue;
      if (stop < 0) break;
      // the next resting order belongs to the taker's own account
      if (taker.stp === 'cancel_incoming') { result = WALK_SELF; break; }
      const own = this.byHandle[stop] as Order;
      const price = own.price;
      if (price !== pendingPrice && pendingPrice === pendingPrice) {
        out.push({ type: 'bookDelta', seq, symbol, side: opp, price: pendingPrice, qty: pendingQty, orders: pendingOrders });
      }
      this.take(own);
      accounts.remove(own);
      out.push(cancelledEvent(own, seq, own.clOrdId, 'stp'));
      pendingPrice = price;
      pendingQty = this.ladder.levelQty(opp, price);
      pendingOrders = this.ladder.levelOrders(opp, price);
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
    return this.ladder.handles(side).map((h) => this.byHandle[h] as Order);
  }
}
