// The gateway's own view of instruments and live orders, built from the
// engine's snapshot at start-up and then from committed events alone (the
// gateway never reads the engine's state while it runs: a replica or a replay
// must be able to rebuild it from the log). It answers OrderStatusRequest,
// counts open orders for the per-account limit, lists an account's orders for
// cancel-on-disconnect, and holds what an ExecutionReport needs that an event
// does not repeat (a maker's side and limit price, a taker's time in force).

import { Instrument, notionalFrom, type EngineEvent, type EngineSnapshot, type Notional, type OrdTypeName, type TifName } from '../engine/index.js';
import type { Committed } from '../log/sequencer.js';
import { BUY, SELL, type Side } from '../native/ladder.js';

/** Instruments by symbol: tick and lot to format prices and quantities. */
export class Instruments {
  private readonly map = new Map<string, Instrument>();

  static fromSnapshot(snap: Pick<EngineSnapshot, 'instruments'>): Instruments {
    const t = new Instruments();
    for (const spec of snap.instruments) t.add(spec.symbol, Instrument.create(spec));
    return t;
  }

  get(symbol: string): Instrument | undefined {
    return this.map.get(symbol);
  }

  symbols(): string[] {
    return [...this.map.keys()].sort();
  }

  /**
   * Learns the instrument a committed `instrument` command created. Every
   * consumer of a batch calls it (reports, market data), so it is idempotent.
   * Returns the new instrument, or undefined when there was none.
   */
  learn(c: Committed): Instrument | undefined {
    if (c.cmd.op !== 'instrument') return undefined;
    const created = c.events.length > 0 && c.events[0].type === 'instrument';
    if (!created || this.map.has(c.cmd.symbol)) return undefined;
    const inst = Instrument.create(c.cmd);
    this.add(c.cmd.symbol, inst);
    return typeof inst === 'string' ? undefined : inst;
  }

  private add(symbol: string, inst: Instrument | string): void {
    // the engine built it from the same spec, so this cannot fail unless the engine and gateway disagree
    if (typeof inst === 'string') throw new Error(`instrument ${symbol} from the engine does not build here: ${inst}`);
    this.map.set(symbol, inst);
  }
}

/** A live order as the gateway knows it; prices in ticks, quantities in lots. */
export interface TrackedOrder {
  readonly orderId: number;
  readonly account: string;
  clOrdId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly ordType: OrdTypeName;
  readonly tif: TifName;
  /** 0 for a market order. */
  price: number;
  /** Total quantity including fills (a replace sets a new total). */
  qty: number;
  leavesQty: number;
  cumQty: number;
  cumNotional: Notional;
  readonly postOnly: boolean;
}

/** FIX OrdStatus (39) of a live or just-filled order: 0 new, 1 partially filled, 2 filled. */
export function fillStatus(o: Pick<TrackedOrder, 'leavesQty' | 'cumQty'>): '0' | '1' | '2' {
  return o.leavesQty === 0 && o.cumQty > 0 ? '2' : o.cumQty > 0 ? '1' : '0';
}

export class OrderTracker {
  private readonly byId = new Map<number, TrackedOrder>();
  /** Per account, its live orders by ClOrdID (the engine keeps ClOrdIDs unique among an account's live orders). */
  private readonly accounts = new Map<string, Map<string, TrackedOrder>>();
  /** New orders submitted and not yet committed, per account, so that a burst cannot pass the open-orders limit. */
  private readonly inFlight = new Map<string, number>();

  constructor(readonly instruments: Instruments) {}

  static fromSnapshot(snap: EngineSnapshot, instruments: Instruments = Instruments.fromSnapshot(snap)): OrderTracker {
    const t = new OrderTracker(instruments);
    for (const o of snap.orders) {
      const cumNotional = notionalFrom(o.cumNotional);
      if (cumNotional === null) throw new Error(`snapshot order ${o.orderId}: bad cumNotional ${String(o.cumNotional)}`);
      t.add({
        orderId: o.orderId, account: o.account, clOrdId: o.clOrdId, symbol: o.symbol, side: o.side === 'buy' ? BUY : SELL,
        ordType: o.ordType, tif: o.tif, price: o.price, qty: o.qty, leavesQty: o.leavesQty, cumQty: o.cumQty,
        cumNotional, postOnly: o.postOnly,
      });
    }
    return t;
  }

  /** Live orders (between commands: exactly the engine's resting orders). */
  get size(): number {
    return this.byId.size;
  }

  get(orderId: number): TrackedOrder | undefined {
    return this.byId.get(orderId);
  }

  /** The account's live order with this ClOrdID. */
  find(account: string, clOrdId: string): TrackedOrder | undefined {
    return this.accounts.get(account)?.get(clOrdId);
  }

  /** The account's live order with this OrderID (another account's order is not found). */
  findById(account: string, orderId: number): TrackedOrder | undefined {
    const o = this.byId.get(orderId);
    return o !== undefined && o.account === account ? o : undefined;
  }

  /** Live orders of the account plus its new orders still on their way to the log. */
  openOrders(account: string): number {
    return (this.accounts.get(account)?.size ?? 0) + (this.inFlight.get(account) ?? 0);
  }

  /** The account's live orders, oldest first. */
  liveOrders(account: string): TrackedOrder[] {
    const m = this.accounts.get(account);
    return m === undefined ? [] : [...m.values()].sort((a, b) => a.orderId - b.orderId);
  }

  /** Every live order, in no particular order (tests compare sets). */
  all(): IterableIterator<TrackedOrder> {
    return this.byId.values();
  }

  /** A new order of `account` was submitted; `release` when it committed or was refused. */
  reserve(account: string): void {
    this.inFlight.set(account, (this.inFlight.get(account) ?? 0) + 1);
  }

  release(account: string): void {
    const n = this.inFlight.get(account);
    // a new order submitted by someone other than order entry was never reserved
    if (n === undefined) return;
    if (n <= 1) this.inFlight.delete(account);
    else this.inFlight.set(account, n - 1);
  }

  /**
   * Applies one event. Objects stay valid after they leave the tracker, so a
   * caller may look an order up, apply the event, then report from the object.
   */
  apply(e: EngineEvent): void {
    switch (e.type) {
      case 'accepted':
        // kept even when it will not rest: its trades and cancel in the same command need it
        this.add({
          orderId: e.orderId, account: e.account, clOrdId: e.clOrdId, symbol: e.symbol, side: e.side, ordType: e.ordType,
          tif: e.tif, price: e.price, qty: e.qty, leavesQty: e.leavesQty, cumQty: e.cumQty, cumNotional: e.cumNotional,
          postOnly: e.postOnly,
        });
        return;
      case 'trade':
        this.fill(e.makerOrderId, e.makerLeavesQty, e.makerCumQty, e.makerCumNotional);
        this.fill(e.takerOrderId, e.takerLeavesQty, e.takerCumQty, e.takerCumNotional);
        return;
      case 'cancelled': {
        const o = this.byId.get(e.orderId);
        if (o !== undefined) {
          o.leavesQty = 0;
          this.remove(o);
        }
        return;
      }
      case 'replaced': {
        const o = this.byId.get(e.orderId);
        if (o === undefined) return;
        if (o.clOrdId !== e.clOrdId) {
          const m = this.accounts.get(o.account);
          m?.delete(o.clOrdId);
          m?.set(e.clOrdId, o);
          o.clOrdId = e.clOrdId;
        }
        o.price = e.price;
        o.qty = e.qty;
        o.leavesQty = e.leavesQty;
        o.cumQty = e.cumQty;
        o.cumNotional = e.cumNotional;
        return;
      }
      default:
    }
  }

  private fill(orderId: number, leaves: number, cum: number, notional: Notional): void {
    const o = this.byId.get(orderId);
    if (o === undefined) return;
    o.leavesQty = leaves;
    o.cumQty = cum;
    o.cumNotional = notional;
    if (leaves === 0) this.remove(o);
  }

  private add(o: TrackedOrder): void {
    this.byId.set(o.orderId, o);
    let m = this.accounts.get(o.account);
    if (m === undefined) {
      m = new Map();
      this.accounts.set(o.account, m);
    }
    m.set(o.clOrdId, o);
  }

  private remove(o: TrackedOrder): void {
    this.byId.delete(o.orderId);
    const m = this.accounts.get(o.account);
    if (m === undefined) return;
    m.delete(o.clOrdId);
    if (m.size === 0) this.accounts.delete(o.account);
  }
}
