// What the generator believes the market looks like: each symbol's fair
// price (a random walk in ticks) and every order it placed that may still
// rest. Beliefs are updated from the exchange's own events (the acks), so
// cancels and replaces target orders that are live, and sizes of sweeps
// follow the real book. The events arrive a batch or two late, so a cancel
// now and then meets an order that has just filled: a cancel reject, as on
// any venue.

import type { CancelCommand, Command, EngineEvent, NewOrderCommand, ReplaceCommand, SideName } from '../engine/index.js';
import type { GenInstrument } from './instruments.js';

export interface LiveOrder {
  clOrdId: string;
  account: string;
  sym: number;
  side: SideName;
  price: number;
  leaves: number;
}

/** A normal deviate (Box-Muller), from a uniform source. */
export function gaussian(rnd: () => number): number {
  const u = 1 - rnd();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

export class Market {
  /** Fair price per symbol, in ticks (fractional: the walk is finer than the grid). */
  readonly mid: Float64Array;
  private readonly live = new Map<string, LiveOrder>();
  /** Per symbol, the orders to pick cancel and replace targets from (entries no longer live are dropped when met). */
  private readonly pools: LiveOrder[][];
  /** Orders believed live, per symbol. */
  private readonly counts: Int32Array;
  private nextId = 0;

  constructor(readonly instruments: GenInstrument[], private readonly rnd: () => number) {
    this.mid = Float64Array.from(instruments, (i) => i.startTicks);
    this.pools = instruments.map(() => []);
    this.counts = new Int32Array(instruments.length);
  }

  /** A client order id unique across the day (so events can be matched to beliefs by it alone). */
  newId(): string {
    return (this.nextId++).toString(36);
  }

  /** Moves the fair price by a normal step of `sigma` ticks; it stays above ten levels. */
  walk(sym: number, sigma: number): void {
    const floor = this.instruments[sym].level * 10;
    this.mid[sym] = Math.max(floor, this.mid[sym] + sigma * gaussian(this.rnd));
  }

  /** The fair price rounded to the symbol's quoting levels, in ticks. */
  levelPrice(sym: number, levelsAway: number): number {
    const level = this.instruments[sym].level;
    return Math.max(level, (Math.round(this.mid[sym] / level) + levelsAway) * level);
  }

  limit(account: string, sym: number, side: SideName, price: number, lots: number, tif: 'GTC' | 'IOC' = 'GTC'): NewOrderCommand {
    const inst = this.instruments[sym];
    const clOrdId = this.newId();
    if (tif === 'GTC') this.remember({ clOrdId, account, sym, side, price, leaves: lots });
    return {
      op: 'new', account, clOrdId, symbol: inst.command.symbol, side, type: 'limit',
      price: inst.rules.price(price), qty: inst.rules.qty(lots), tif,
    };
  }

  market(account: string, sym: number, side: SideName, lots: number): NewOrderCommand {
    const inst = this.instruments[sym];
    return { op: 'new', account, clOrdId: this.newId(), symbol: inst.command.symbol, side, type: 'market', qty: inst.rules.qty(lots) };
  }

  cancel(o: LiveOrder): CancelCommand {
    this.forget(o.clOrdId);
    return { op: 'cancel', account: o.account, clOrdId: this.newId(), origClOrdId: o.clOrdId, symbol: this.instruments[o.sym].command.symbol };
  }

  /** A cancel of an order by its client id, whatever is believed of it (a scripted trader remembers its own). */
  cancelId(account: string, sym: number, origClOrdId: string): CancelCommand {
    this.forget(origClOrdId);
    return { op: 'cancel', account, clOrdId: this.newId(), origClOrdId, symbol: this.instruments[sym].command.symbol };
  }

  /** A replace to `price` and `lots` total (FIX: quantity includes what filled); the order is known by the new id from now on. */
  replace(o: LiveOrder, price: number, lots: number): ReplaceCommand {
    const inst = this.instruments[o.sym];
    const clOrdId = this.newId();
    this.forget(o.clOrdId);
    this.remember({ ...o, clOrdId, price, leaves: lots });
    return {
      op: 'replace', account: o.account, clOrdId, origClOrdId: o.clOrdId, symbol: inst.command.symbol,
      price: inst.rules.price(price), qty: inst.rules.qty(lots),
    };
  }

  /** A random order of `sym` believed live, or undefined. */
  pick(sym: number): LiveOrder | undefined {
    const pool = this.pools[sym];
    while (pool.length > 0) {
      const i = Math.floor(this.rnd() * pool.length);
      const o = pool[i];
      if (this.live.get(o.clOrdId) === o) return o;
      pool[i] = pool[pool.length - 1];
      pool.pop();
    }
    return undefined;
  }

  /**
   * The order a trader would pull first, of a few picked at random: the one
   * the fair price has come closest to (or through). Quotes are pulled when
   * the market moves at them, which is why most never fill.
   */
  atRisk(sym: number): LiveOrder | undefined {
    let best: LiveOrder | undefined;
    let risk = -Infinity;
    for (let k = 0; k < 3; k++) {
      const o = this.pick(sym);
      if (o === undefined) break;
      const r = o.side === 'buy' ? o.price - this.mid[sym] : this.mid[sym] - o.price;
      if (r > risk) {
        risk = r;
        best = o;
      }
    }
    return best;
  }

  /** Orders of `sym` believed live. */
  liveCount(sym: number): number {
    return this.counts[sym];
  }

  /** Lots believed resting on `side` of `sym` at prices a taker with limit `price` would reach. */
  depth(sym: number, side: SideName, price: number): number {
    let lots = 0;
    for (const o of this.pools[sym]) {
      if (this.live.get(o.clOrdId) !== o || o.side !== side) continue;
      if (side === 'sell' ? o.price <= price : o.price >= price) lots += o.leaves;
    }
    return lots;
  }

  /** Brings beliefs in line with what the exchange did. */
  learn(events: readonly EngineEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'trade':
          this.filled(e.makerClOrdId, e.makerLeavesQty);
          this.filled(e.takerClOrdId, e.takerLeavesQty);
          break;
        case 'cancelled':
          this.forget(e.origClOrdId);
          this.forget(e.clOrdId);
          break;
        case 'rejected':
        case 'cancelRejected':
          this.forget(e.clOrdId);
          break;
        default:
      }
    }
  }

  private filled(clOrdId: string, leaves: number): void {
    const o = this.live.get(clOrdId);
    if (o === undefined) return;
    if (leaves === 0) this.forget(clOrdId);
    else o.leaves = leaves;
  }

  private forget(clOrdId: string): void {
    const o = this.live.get(clOrdId);
    if (o === undefined) return;
    this.live.delete(clOrdId);
    this.counts[o.sym]--;
  }

  private remember(o: LiveOrder): void {
    this.live.set(o.clOrdId, o);
    this.counts[o.sym]++;
    const pool = this.pools[o.sym];
    pool.push(o);
    // dead entries are dropped when picked; a pool mostly dead is compacted
    if (pool.length > 1024 && pool.length > 4 * this.counts[o.sym]) {
      this.pools[o.sym] = pool.filter((x) => this.live.get(x.clOrdId) === x);
    }
  }
}

export type { Command };
