// A symbol's aggregated book as a FIX client rebuilds it from market data
// (W, then X checked against RptSeq): the one implementation, used by the
// Node client (client.ts, `matchlog client`) and by the browser's trading
// screen (gateway/web/). It imports only the FIX message type, so it loads in
// a browser as it is. Prices and sizes stay the exchange's decimal strings.

import { type FixMessage, Tag } from './fix/message.js';

export interface BookLevel {
  price: string;
  qty: string;
  orders: number;
}

export interface Trade {
  price: string;
  qty: string;
  rptSeq: number;
  /** The exchange's time of the trade (MDEntryTime, UTC HH:MM:SS.sss); '' when not sent. */
  time: string;
  /** The side of the order that took liquidity (AggressorSide 2446); '' when not sent. */
  aggressor: 'buy' | 'sell' | '';
}

/**
 * Compares two non-negative decimal strings exactly ("190" < "190.5" <
 * "1000"), for ordering book levels without turning prices into floats.
 */
export function compareDecimal(a: string, b: string): number {
  const [ai, af = ''] = a.split('.');
  const [bi, bf = ''] = b.split('.');
  const aInt = ai.replace(/^0+(?=\d)/, '');
  const bInt = bi.replace(/^0+(?=\d)/, '');
  if (aInt.length !== bInt.length) return aInt.length - bInt.length;
  if (aInt !== bInt) return aInt < bInt ? -1 : 1;
  const n = Math.max(af.length, bf.length);
  const x = af.padEnd(n, '0');
  const y = bf.padEnd(n, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

// --- market data ------------------------------------------------------------------

/** One X entry as read. */
interface Entry {
  type: string;
  symbol: string;
  px: string;
  size: string;
  orders: number;
  rpt: number;
  time: string;
  aggressor: Trade['aggressor'];
}

/** One side of a BookView: levels by price, sorted lazily. */
class ViewSide {
  readonly levels = new Map<string, BookLevel>();
  private sorted: BookLevel[] | null = [];

  constructor(private readonly bestFirst: (a: string, b: string) => number) {}

  clear(): void {
    this.levels.clear();
    this.sorted = [];
  }

  set(level: BookLevel): void {
    this.levels.set(level.price, level);
    this.sorted = null;
  }

  delete(price: string): boolean {
    this.sorted = null;
    return this.levels.delete(price);
  }

  list(): BookLevel[] {
    this.sorted ??= [...this.levels.values()].sort((a, b) => this.bestFirst(a.price, b.price));
    return this.sorted.map((l) => ({ ...l }));
  }
}

export type BookApplyResult = 'applied' | 'ignored' | 'gap';

/**
 * A symbol's aggregated book rebuilt from market data: a snapshot (W), then
 * incremental refreshes (X). Usable on its own (apply()) or through
 * FixClient.subscribe(), which re-subscribes when apply() says 'gap'.
 *
 * Loss is detected from RptSeq (83), which the gateway numbers per symbol
 * without gaps across level changes and trades. FIX 4.4 has no RptSeq in
 * W, so after a snapshot that does not carry one the first increment sets
 * the count (snapshot and increments come in order on one session). Only a full-depth view of
 * bids, offers and trades sees every number; a depth-N view does not see
 * updates below its top N, so there a gap is normal and only inconsistencies
 * (a change or delete of a level it does not have) count as loss.
 */
export class BookView {
  private readonly bidSide = new ViewSide((a, b) => compareDecimal(b, a));
  private readonly askSide = new ViewSide((a, b) => compareDecimal(a, b));
  private readonly listeners = new Set<(view: BookView) => void>();
  private readonly waiters = new Set<() => void>();
  /** RptSeq of the last update applied (or the snapshot's); -1 after a snapshot that did not say. */
  rptSeq = 0;
  /** Whether a snapshot has been applied and no loss seen since. */
  synced = false;
  snapshots = 0;
  gaps = 0;
  /** The last trades seen, oldest first (at most `keepTrades`). */
  readonly trades: Trade[] = [];
  /** Set when the gateway refused the subscription (MarketDataRequestReject). */
  error: string | undefined;
  /** The MDReqID the client subscribed with. */
  reqId = '';

  constructor(readonly symbol: string, readonly depth = 0, readonly keepTrades = 100) {}

  bids(): BookLevel[] {
    return this.bidSide.list();
  }

  asks(): BookLevel[] {
    return this.askSide.list();
  }

  /** Applies a W, or the entries of an X for this symbol. */
  apply(msg: FixMessage): BookApplyResult {
    const type = msg.msgType;
    if (type === 'W') return this.snapshot(msg);
    if (type === 'X') return this.incremental(msg);
    return 'ignored';
  }

  /** Calls `fn` after every applied message; returns the unsubscribe. */
  onChange(fn: (view: BookView) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves once `predicate` holds (checked now and after every applied message); rejects if it throws. */
  waitUntil(predicate: (view: BookView) => boolean, timeoutMs = 5000): Promise<this> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        this.waiters.delete(check);
        clearTimeout(timer);
      };
      const check = (): void => {
        let ok: boolean;
        try {
          ok = predicate(this);
        } catch (e) {
          finish();
          reject(e as Error);
          return;
        }
        if (ok) {
          finish();
          resolve(this);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`BookView ${this.symbol}: condition not met within ${timeoutMs} ms (rptSeq ${this.rptSeq}, synced ${this.synced})`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for a snapshot: the first, or the one a re-subscription asked for. Rejects when the gateway refuses the symbol. */
  ready(timeoutMs = 5000): Promise<this> {
    return this.waitUntil((v) => {
      if (v.error !== undefined) throw new Error(`market data for ${v.symbol} refused: ${v.error}`);
      return v.synced;
    }, timeoutMs);
  }

  /** The gateway refused the subscription. */
  refused(text: string): void {
    this.error = text;
    this.synced = false;
    this.changed();
  }

  private changed(): void {
    for (const fn of this.listeners) fn(this);
    for (const w of [...this.waiters]) w();
  }

  private snapshot(msg: FixMessage): BookApplyResult {
    if (msg.get(Tag.Symbol) !== this.symbol) return 'ignored';
    this.bidSide.clear();
    this.askSide.clear();
    const f = msg.fields;
    let type = '';
    let px = '';
    let size = '';
    let orders = 0;
    const flush = (): void => {
      if (type === '0') this.bidSide.set({ price: px, qty: size, orders });
      else if (type === '1') this.askSide.set({ price: px, qty: size, orders });
    };
    let inGroup = false;
    for (const [tag, v] of f) {
      if (tag === Tag.NoMDEntries) inGroup = true;
      else if (!inGroup) continue;
      else if (tag === Tag.MDEntryType) {
        if (type !== '') flush();
        type = v;
        px = '';
        size = '';
        orders = 0;
      } else if (tag === Tag.MDEntryPx) px = v;
      else if (tag === Tag.MDEntrySize) size = v;
      else if (tag === Tag.NumberOfOrders) orders = Number(v);
    }
    if (type !== '') flush();
    // a snapshot without RptSeq (FIX 4.4 has none in W) leaves the first increment to set the count
    const rpt = msg.get(Tag.RptSeq);
    this.rptSeq = rpt !== undefined && /^[0-9]{1,15}$/.test(rpt) ? Number(rpt) : -1;
    this.synced = true;
    this.error = undefined;
    this.snapshots++;
    this.changed();
    return 'applied';
  }

  private incremental(msg: FixMessage): BookApplyResult {
    let applied = false;
    let lost = false;
    let action = '';
    let entry: Entry | null = null;
    const done = (): void => {
      if (entry === null) return;
      const r = this.entry(action, entry);
      if (r === 'gap') {
        lost = true;
        this.synced = false;
      } else if (r === 'applied') applied = true;
      entry = null;
    };
    for (const [tag, v] of msg.fields) {
      if (tag === Tag.MDUpdateAction) {
        done();
        action = v;
        entry = { type: '', symbol: '', px: '', size: '', orders: 0, rpt: -1, time: '', aggressor: '' };
        continue;
      }
      if (entry === null) continue;
      switch (tag) {
        case Tag.MDEntryType: entry.type = v; break;
        case Tag.Symbol: entry.symbol = v; break;
        case Tag.MDEntryPx: entry.px = v; break;
        case Tag.MDEntrySize: entry.size = v; break;
        case Tag.NumberOfOrders: entry.orders = Number(v); break;
        case Tag.RptSeq: entry.rpt = Number(v); break;
        case Tag.MDEntryTime: entry.time = v; break;
        case Tag.AggressorSide: entry.aggressor = v === '1' ? 'buy' : v === '2' ? 'sell' : ''; break;
        default:
      }
    }
    done();
    if (lost) {
      this.synced = false;
      this.gaps++;
      this.changed();
      return 'gap';
    }
    if (applied) this.changed();
    return applied ? 'applied' : 'ignored';
  }

  private entry(action: string, e: Entry): BookApplyResult {
    const { type, symbol, px, size, orders, rpt } = e;
    if (symbol !== this.symbol || !this.synced) return 'ignored';
    if (rpt >= 0) {
      // older than what the view holds: increments sent before a re-subscription's snapshot; a depth-N
      // view also gets a level entering or leaving its top N under the RptSeq of the change that caused it
      if (rpt < this.rptSeq || (rpt === this.rptSeq && this.depth === 0)) return 'ignored';
      if (this.depth === 0 && this.rptSeq >= 0 && rpt > this.rptSeq + 1) return 'gap';
      this.rptSeq = rpt;
    }
    if (type === '2') {
      this.trades.push({ price: px, qty: size, rptSeq: rpt, time: e.time, aggressor: e.aggressor });
      if (this.trades.length > this.keepTrades) this.trades.shift();
      return 'applied';
    }
    const side = type === '0' ? this.bidSide : type === '1' ? this.askSide : null;
    if (side === null) return 'ignored';
    const known = side.levels.has(px);
    switch (action) {
      case '0':
        if (known) return 'gap';
        side.set({ price: px, qty: size, orders });
        return 'applied';
      case '1':
        if (!known) return 'gap';
        side.set({ price: px, qty: size, orders });
        return 'applied';
      case '2':
        return side.delete(px) ? 'applied' : 'gap';
      default:
        return 'ignored';
    }
  }
}
