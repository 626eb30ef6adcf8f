// The ordinary order flow of the day: several hundred accounts, a few of them
// busy (market makers quoting both sides), most occasional. Per arrival: a
// passive limit order near the fair price (most of them cancelled before they
// fill), a cancel, a replace (price or quantity), or a marketable order
// (market, or a limit through the touch). Cancels press harder the more
// orders rest, so each book keeps a steady size through the day.

import type { Command, SideName } from '../engine/index.js';
import { gaussian, type Market } from './market.js';

/** Orders a symbol's book settles around (per symbol, believed live). */
const RESTING_TARGET = 60;

export class NormalFlow {
  /** Cumulative symbol weights: the first symbols trade most. */
  private readonly symbolCdf: Float64Array;
  constructor(private readonly market: Market, private readonly accounts: readonly string[], private readonly rnd: () => number) {
    const n = market.instruments.length;
    this.symbolCdf = new Float64Array(n);
    let acc = 0;
    for (let k = 0; k < n; k++) this.symbolCdf[k] = acc += market.instruments[k].weight;
  }

  private symbol(): number {
    const u = this.rnd();
    let k = 0;
    while (k < this.symbolCdf.length - 1 && this.symbolCdf[k] < u) k++;
    return k;
  }

  /** Busy accounts first: the lowest indexes carry most of the flow. */
  private account(): string {
    const r = this.rnd();
    return this.accounts[Math.floor(r * r * this.accounts.length)];
  }

  /** A size around the symbol's typical one (log-normal), in lots, at least one. */
  lots(sym: number, scale = 1): number {
    return Math.max(1, Math.round(this.market.instruments[sym].lots * scale * Math.exp(0.8 * gaussian(this.rnd) - 0.32)));
  }

  next(): Command {
    const m = this.market;
    const sym = this.symbol();
    m.walk(sym, m.instruments[sym].sigma);
    const u = this.rnd();
    const side: SideName = this.rnd() < 0.5 ? 'buy' : 'sell';
    const away = side === 'buy' ? -1 : 1;
    if (u < 0.07) {
      // marketable: a market order, or a limit through the touch (IOC or resting what is left)
      if (this.rnd() < 0.4) return m.market(this.account(), sym, side, this.lots(sym, 0.5));
      const through = -away * (1 + Math.floor(this.rnd() * 3));
      return m.limit(this.account(), sym, side, m.levelPrice(sym, through), this.lots(sym, 0.7), this.rnd() < 0.5 ? 'IOC' : 'GTC');
    }
    if (u < 0.13) {
      const o = m.pick(sym);
      if (o !== undefined) {
        if (this.rnd() < 0.6) {
          // re-quote: one to three levels, staying on its own side of the fair price
          const dir = o.side === 'buy' ? -1 : 1;
          const price = m.levelPrice(sym, dir * (1 + Math.floor(this.rnd() * 3)));
          return m.replace(o, price, o.leaves);
        }
        return m.replace(o, o.price, Math.max(1, Math.round(o.leaves * (0.5 + this.rnd()))));
      }
    }
    const pressure = m.liveCount(sym) / RESTING_TARGET;
    if (this.rnd() < 0.5 * pressure) {
      const o = m.atRisk(sym);
      if (o !== undefined) return m.cancel(o);
    }
    // passive: at the fair price's level or a few levels behind it (geometric)
    let levels = 1;
    while (levels < 30 && this.rnd() < 0.55) levels++;
    return m.limit(this.account(), sym, side, m.levelPrice(sym, away * levels), this.lots(sym));
  }
}
