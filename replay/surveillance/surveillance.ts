// Surveillance over the replayed event stream: a pure consumer fed one
// command at a time with the events the engine derived from it (whatever
// reads the log: recovery's replay today, replay/history.ts later), then
// asked for its alerts. No I/O, no clock: the same log gives the same alerts.
//
// Rules (thresholds in config.ts, documented in replay/README.md):
// - spoofing/layering: large orders on one side cancelled shortly after the
//   same account traded on the other side;
// - order-to-trade: accounts with many orders and few fills;
// - wash trades: trades between accounts declared related (or one account);
// - marking the close: an account's aggressive orders in the last minutes of
//   the session that moved the price, and where it stayed.

import type { CommandRecord } from '../../log/records.js';
import { Instrument, sideName, type EngineEvent, type InstrumentLookup, type TradeEvent } from '../../engine/index.js';
import { formatTime } from '../time.js';
import { EVIDENCE_CAP, type Alert } from './alerts.js';
import type { SurveilConfig } from './config.js';
import { zonedDate, zonedTime } from './session.js';

interface OrderInfo {
  orderId: number;
  account: string;
  symbol: string;
  side: number;
  qty: number;
  seq: number;
  ts: number;
  large: boolean;
}

interface AccountTrade { seq: number; ts: number; side: number; qty: number; price: number }

interface SpoofEpisode { account: string; symbol: string; trade: AccountTrade; orders: OrderInfo[]; cancelSeqs: number[]; lastTs: number; qty: number }

interface Tally { orders: number; fills: number; firstSeq: number; lastSeq: number; firstTs: number; lastTs: number; symbols: Map<string, number> }

interface WashPair { account: string; counterparty: string; symbol: string; seqs: number[]; orderIds: number[]; trades: number; qty: number; firstTs: number; lastTs: number }

interface Aggression { orders: number; move: number; seqs: number[]; orderIds: number[]; firstTs: number; lastTs: number }

interface CloseWindow { symbol: string; date: string; ref: number; last: number; byAccount: Map<string, Aggression> }

const SECOND = 1_000_000;
const MAX_RECENT_TRADES = 8;

export class Surveillance implements InstrumentLookup {
  private readonly orders = new Map<number, OrderInfo>();
  private readonly qtyStats = new Map<string, { n: number; sum: number }>();
  private readonly instruments = new Map<string, Instrument>();
  private lookup: InstrumentLookup | null = null;
  private readonly recentTrades = new Map<string, AccountTrade[]>();
  private readonly episodes = new Map<string, SpoofEpisode>();
  private readonly tallies = new Map<string, Tally>();
  private readonly washPairs = new Map<string, WashPair>();
  private readonly lastPrice = new Map<string, number>();
  private readonly closes = new Map<string, CloseWindow>();
  /** The local day last looked up: [start, end) in µs, its date and close (one look-up per day, not per trade). */
  private day = { start: 0, end: 0, date: '', close: 0 };
  commands = 0;

  constructor(private readonly config: SurveilConfig, private readonly related: ReadonlyMap<string, number> = new Map()) {}

  instrument(symbol: string): Instrument | undefined {
    return this.lookup?.instrument(symbol) ?? this.instruments.get(symbol);
  }

  /**
   * One command and its events. `lookup` (the replaying engine) prices
   * symbols created before the replay started; `observeOnly` keeps track of
   * orders and prices without counting anything (commands before --from).
   */
  onCommand(rec: CommandRecord, events: readonly EngineEvent[], lookup?: InstrumentLookup, observeOnly = false): void {
    if (lookup !== undefined) this.lookup = lookup;
    if (rec.cmd.op === 'instrument') {
      const inst = Instrument.create(rec.cmd);
      if (typeof inst !== 'string') this.instruments.set(inst.symbol, inst);
    }
    if (!observeOnly) this.commands++;
    let aggressor: { account: string; orderId: number; side: number; before: number; after: number; symbol: string } | null = null;
    for (const e of events) {
      switch (e.type) {
        case 'accepted': {
          const stats = this.qtyStats.get(e.symbol) ?? { n: 0, sum: 0 };
          const s = this.config.spoofing;
          const large = stats.n >= s.minSamples && e.qty >= s.largeQtyMultiple * (stats.sum / stats.n);
          stats.n++;
          stats.sum += e.qty;
          this.qtyStats.set(e.symbol, stats);
          this.orders.set(e.orderId, { orderId: e.orderId, account: e.account, symbol: e.symbol, side: e.side, qty: e.qty, seq: e.seq, ts: rec.ts, large });
          if (!observeOnly) this.countOrder(e.account, e.symbol, rec);
          break;
        }
        case 'replaced': {
          const o = this.orders.get(e.orderId);
          if (o !== undefined) {
            const stats = this.qtyStats.get(e.symbol);
            o.qty = e.qty;
            o.large = stats !== undefined && stats.n >= this.config.spoofing.minSamples && e.qty >= this.config.spoofing.largeQtyMultiple * (stats.sum / stats.n);
          }
          if (!observeOnly) this.countOrder(e.account, e.symbol, rec);
          break;
        }
        case 'cancelled': {
          const o = this.orders.get(e.orderId);
          this.orders.delete(e.orderId);
          if (o !== undefined && !observeOnly && (e.reason === 'user' || e.reason === 'mass') && o.large) this.largeCancelled(o, e.cancelledQty, rec);
          break;
        }
        case 'trade': {
          const before = this.lastPrice.get(e.symbol) ?? 0;
          this.lastPrice.set(e.symbol, e.price);
          if (e.makerLeavesQty === 0) this.orders.delete(e.makerOrderId);
          if (e.takerLeavesQty === 0) this.orders.delete(e.takerOrderId);
          if (observeOnly) break;
          this.traded(e, rec);
          if (aggressor === null) aggressor = { account: e.takerAccount, orderId: e.takerOrderId, side: e.aggressor, before, after: e.price, symbol: e.symbol };
          else aggressor.after = e.price;
          break;
        }
        default:
      }
    }
    if (aggressor !== null) this.aggressed(aggressor, rec);
  }

  private countOrder(account: string, symbol: string, rec: CommandRecord): void {
    let t = this.tallies.get(account);
    if (t === undefined) {
      t = { orders: 0, fills: 0, firstSeq: rec.seq, lastSeq: rec.seq, firstTs: rec.ts, lastTs: rec.ts, symbols: new Map() };
      this.tallies.set(account, t);
    }
    t.orders++;
    t.lastSeq = rec.seq;
    t.lastTs = rec.ts;
    t.symbols.set(symbol, (t.symbols.get(symbol) ?? 0) + 1);
  }

  private traded(e: TradeEvent, rec: CommandRecord): void {
    for (const [account, side] of [[e.makerAccount, 1 - e.aggressor], [e.takerAccount, e.aggressor]] as const) {
      const t = this.tallies.get(account);
      if (t !== undefined) t.fills++;
      else this.tallies.set(account, { orders: 0, fills: 1, firstSeq: rec.seq, lastSeq: rec.seq, firstTs: rec.ts, lastTs: rec.ts, symbols: new Map() });
      // the account's recent trades per symbol, fills of one command merged (spoofing looks back at them)
      const key = `${account}\u0000${e.symbol}`;
      let list = this.recentTrades.get(key);
      if (list === undefined) this.recentTrades.set(key, (list = []));
      const lastT = list[list.length - 1];
      if (lastT !== undefined && lastT.seq === rec.seq && lastT.side === side) lastT.qty += e.qty;
      else {
        list.push({ seq: rec.seq, ts: rec.ts, side, qty: e.qty, price: e.price });
        if (list.length > MAX_RECENT_TRADES) list.shift();
      }
    }
    this.washCandidate(e, rec);
  }

  // --- spoofing / layering ---------------------------------------------------

  private largeCancelled(o: OrderInfo, cancelledQty: number, rec: CommandRecord): void {
    const list = this.recentTrades.get(`${o.account}\u0000${o.symbol}`);
    if (list === undefined) return;
    const within = this.config.spoofing.cancelWithinSeconds * SECOND;
    // the latest trade on the other side made while the order rested
    for (let i = list.length - 1; i >= 0; i--) {
      const t = list[i];
      if (rec.ts - t.ts > within) break;
      if (t.side === o.side || t.seq <= o.seq) continue;
      const key = `${o.account}\u0000${o.symbol}\u0000${t.seq}`;
      let ep = this.episodes.get(key);
      if (ep === undefined) this.episodes.set(key, (ep = { account: o.account, symbol: o.symbol, trade: t, orders: [], cancelSeqs: [], lastTs: rec.ts, qty: 0 }));
      ep.orders.push(o);
      ep.cancelSeqs.push(rec.seq);
      ep.lastTs = rec.ts;
      ep.qty += cancelledQty;
      return;
    }
  }

  private spoofingAlerts(): Alert[] {
    const c = this.config.spoofing;
    const out: Alert[] = [];
    for (const ep of this.episodes.values()) {
      if (ep.orders.length < c.minLargeOrders || ep.qty < c.minQtyRatio * ep.trade.qty) continue;
      const inst = this.instrument(ep.symbol);
      const side = sideName(ep.orders[0].side);
      const first = Math.min(...ep.orders.map((o) => o.ts));
      const secs = ((ep.lastTs - ep.trade.ts) / SECOND).toFixed(1);
      out.push({
        kind: 'spoofing', account: ep.account, symbol: ep.symbol, from: formatTime(first), to: formatTime(ep.lastTs),
        seqs: [...ep.orders.map((o) => o.seq), ep.trade.seq, ...ep.cancelSeqs].slice(0, EVIDENCE_CAP),
        orderIds: ep.orders.map((o) => o.orderId).slice(0, EVIDENCE_CAP),
        text: `${ep.orders.length} large ${side} orders (${inst?.qty(ep.qty) ?? ep.qty} cancelled) pulled within ${secs} s after ${side === 'buy' ? 'selling' : 'buying'} ${inst?.qty(ep.trade.qty) ?? ep.trade.qty} at ${inst?.price(ep.trade.price) ?? ep.trade.price} (seq ${ep.trade.seq})`,
        measures: { largeOrders: ep.orders.length, cancelledQty: inst?.qty(ep.qty) ?? ep.qty, tradedQty: inst?.qty(ep.trade.qty) ?? ep.trade.qty, tradeSeq: ep.trade.seq, secondsAfterTrade: Number(secs) },
      });
    }
    return out;
  }

  // --- order-to-trade ratio --------------------------------------------------

  private orderToTradeAlerts(): Alert[] {
    const c = this.config.orderToTrade;
    const out: Alert[] = [];
    for (const [account, t] of this.tallies) {
      const ratio = t.orders / Math.max(1, t.fills);
      if (t.orders < c.minOrders || ratio < c.minRatio) continue;
      const symbols = [...t.symbols].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      out.push({
        kind: 'order-to-trade', account, from: formatTime(t.firstTs), to: formatTime(t.lastTs), seqs: [t.firstSeq, t.lastSeq], orderIds: [],
        text: `${t.orders} orders for ${t.fills} fills (ratio ${ratio.toFixed(1)}), mostly ${symbols.slice(0, 3).map(([s, n]) => `${s} (${n})`).join(', ')}`,
        measures: { orders: t.orders, fills: t.fills, ratio: Number(ratio.toFixed(2)) },
      });
    }
    return out;
  }

  // --- wash trades -----------------------------------------------------------

  private washCandidate(e: TradeEvent, rec: CommandRecord): void {
    const a = e.makerAccount;
    const b = e.takerAccount;
    const group = this.related.get(a);
    if (a !== b && (group === undefined || this.related.get(b) !== group)) return;
    // orders entered close together: the maker's order rested only briefly for its partner
    const maker = this.orders.get(e.makerOrderId);
    const makerTs = maker?.ts ?? rec.ts;
    if (rec.ts - makerTs > this.config.washTrade.maxOrderGapSeconds * SECOND) return;
    const [x, y] = a <= b ? [a, b] : [b, a];
    const key = `${x}\u0000${y}\u0000${e.symbol}`;
    let p = this.washPairs.get(key);
    if (p === undefined) this.washPairs.set(key, (p = { account: x, counterparty: y, symbol: e.symbol, seqs: [], orderIds: [], trades: 0, qty: 0, firstTs: makerTs, lastTs: rec.ts }));
    p.trades++;
    p.qty += e.qty;
    p.lastTs = rec.ts;
    if (p.seqs.length < EVIDENCE_CAP) {
      if (maker !== undefined) p.seqs.push(maker.seq);
      p.seqs.push(rec.seq);
      p.orderIds.push(e.makerOrderId, e.takerOrderId);
    }
  }

  private washAlerts(): Alert[] {
    const out: Alert[] = [];
    for (const p of this.washPairs.values()) {
      if (p.trades < this.config.washTrade.minTrades) continue;
      const inst = this.instrument(p.symbol);
      out.push({
        kind: 'wash-trade', account: p.account, counterparty: p.counterparty, symbol: p.symbol, from: formatTime(p.firstTs), to: formatTime(p.lastTs),
        seqs: [...new Set(p.seqs)], orderIds: p.orderIds,
        text: `${p.trades} trade${p.trades === 1 ? '' : 's'} (${inst?.qty(p.qty) ?? p.qty}) between ${p.account === p.counterparty ? 'one account' : 'related accounts'}, each taking an order the other entered within ${this.config.washTrade.maxOrderGapSeconds} s`,
        measures: { trades: p.trades, qty: inst?.qty(p.qty) ?? p.qty },
      });
    }
    return out;
  }

  // --- marking the close -----------------------------------------------------

  private closeTime(ts: number): { date: string; close: number } {
    if (ts < this.day.start || ts >= this.day.end) {
      const s = this.config.session;
      const date = zonedDate(ts, s.timeZone);
      const start = zonedTime(date, '00:00', s.timeZone);
      this.day = { start, end: start + 23 * 3600 * SECOND, date, close: zonedTime(date, s.close, s.timeZone) };
    }
    return this.day;
  }

  private aggressed(g: { account: string; orderId: number; side: number; before: number; after: number; symbol: string }, rec: CommandRecord): void {
    const { date, close } = this.closeTime(rec.ts);
    if (rec.ts >= close || rec.ts < close - this.config.markingTheClose.windowMinutes * 60 * SECOND) return;
    const key = `${date}\u0000${g.symbol}`;
    let w = this.closes.get(key);
    // the price going into the window: the last trade before it (or before this first one)
    if (w === undefined) this.closes.set(key, (w = { symbol: g.symbol, date, ref: g.before > 0 ? g.before : g.after, last: g.after, byAccount: new Map() }));
    w.last = g.after;
    const dirKey = `${g.account}\u0000${g.side}`;
    let a = w.byAccount.get(dirKey);
    if (a === undefined) w.byAccount.set(dirKey, (a = { orders: 0, move: 0, seqs: [], orderIds: [], firstTs: rec.ts, lastTs: rec.ts }));
    a.orders++;
    // the move this order made, in its own direction (ticks)
    a.move += (g.after - (g.before > 0 ? g.before : g.after)) * (g.side === 0 ? 1 : -1);
    a.lastTs = rec.ts;
    if (a.seqs.length < EVIDENCE_CAP) {
      a.seqs.push(rec.seq);
      a.orderIds.push(g.orderId);
    }
  }

  private markingAlerts(): Alert[] {
    const c = this.config.markingTheClose;
    const out: Alert[] = [];
    for (const w of this.closes.values()) {
      for (const [key, a] of w.byAccount) {
        const [account, sideText] = key.split('\u0000');
        const side = Number(sideText);
        const dir = side === 0 ? 1 : -1;
        const net = (w.last - w.ref) * dir;
        const bps = (a.move / w.ref) * 10_000;
        if (a.orders < c.minOrders || bps < c.minMoveBps || net <= 0 || a.move < c.minShareOfMove * net) continue;
        const inst = this.instrument(w.symbol);
        out.push({
          kind: 'marking-close', account, symbol: w.symbol, from: formatTime(a.firstTs), to: formatTime(a.lastTs), seqs: a.seqs, orderIds: a.orderIds,
          text: `${a.orders} aggressive ${sideName(side)} orders in the last ${c.windowMinutes} min moved ${w.symbol} ${bps.toFixed(1)} bps (${((a.move / net) * 100).toFixed(0)}% of its net move from ${inst?.price(w.ref) ?? w.ref} to ${inst?.price(w.last) ?? w.last})`,
          measures: { orders: a.orders, moveBps: Number(bps.toFixed(2)), shareOfMove: Number((a.move / net).toFixed(3)), side: sideName(side) },
        });
      }
    }
    return out;
  }

  /** Every alert so far, in a stable order: by time, then kind and account. */
  alerts(): Alert[] {
    return [...this.spoofingAlerts(), ...this.orderToTradeAlerts(), ...this.washAlerts(), ...this.markingAlerts()]
      .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  }
}
