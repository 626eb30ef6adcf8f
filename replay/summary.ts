// The day in figures, per symbol and per account, from the replayed events:
// what an analyst looks at before drilling into orders. Sums are exact
// (volume in lots, notional in ticks x lots as bigint); VWAP is the one
// figure that is a quotient, printed to two places past the tick.

import { formatNotional, formatScaled, Instrument, type EngineEvent, type InstrumentLookup } from '../engine/index.js';
import { instrumentsOf, replayLog, type LogBounds, type ReplayOptions } from './history.js';
import { planStretches, runParallel } from './parallel.js';
import type { Progress } from './progress.js';
import type { CommandRecord } from '../log/records.js';
import { formatTime } from './time.js';

interface SymbolStats {
  trades: number;
  volume: number;
  notional: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
  orders: number;
  cancels: number;
  rejects: number;
}

interface AccountStats {
  orders: number;
  rejects: number;
  trades: number;
  cancels: number;
  stpHits: number;
}

export interface SymbolSummary {
  symbol: string;
  trades: number;
  volume: string;
  notional: string;
  vwap: string | null;
  open: string | null;
  high: string | null;
  low: string | null;
  close: string | null;
  orders: number;
  cancels: number;
  /** Orders cancelled per order accepted. */
  cancelRatio: number | null;
  rejects: number;
}

export interface AccountSummary {
  account: string;
  orders: number;
  rejects: number;
  trades: number;
  cancels: number;
  /** Orders accepted per fill; null without fills. */
  orderToTrade: number | null;
  stpHits: number;
}

export interface Summary {
  from: string | null;
  to: string | null;
  commands: number;
  symbols: SymbolSummary[];
  accounts: AccountSummary[];
}

/** A builder's figures as plain data (worker threads post them; notional as digits). */
export interface SummaryParts {
  commands: number;
  firstTs: number;
  lastTs: number;
  symbols: [string, Omit<SymbolStats, 'notional'> & { notional: string }][];
  accounts: [string, AccountStats][];
}

export class SummaryBuilder {
  private readonly symbols = new Map<string, SymbolStats>();
  private readonly accounts = new Map<string, AccountStats>();
  private commands = 0;
  private firstTs = -1;
  private lastTs = -1;

  parts(): SummaryParts {
    return {
      commands: this.commands, firstTs: this.firstTs, lastTs: this.lastTs,
      symbols: [...this.symbols].map(([k, v]) => [k, { ...v, notional: v.notional.toString() }]),
      accounts: [...this.accounts],
    };
  }

  /** Adds the figures of the stretch of the log that follows this builder's (stretches merged in log order). */
  merge(p: SummaryParts): void {
    if (p.commands === 0) return;
    this.commands += p.commands;
    if (this.firstTs < 0) this.firstTs = p.firstTs;
    this.lastTs = p.lastTs;
    for (const [k, v] of p.symbols) {
      const s = this.sym(k);
      if (v.trades > 0) {
        if (s.trades === 0) {
          s.open = v.open;
          s.high = v.high;
          s.low = v.low;
        }
        if (v.high > s.high) s.high = v.high;
        if (v.low < s.low) s.low = v.low;
        s.close = v.close;
      }
      s.trades += v.trades;
      s.volume += v.volume;
      s.notional += BigInt(v.notional);
      s.orders += v.orders;
      s.cancels += v.cancels;
      s.rejects += v.rejects;
    }
    for (const [k, v] of p.accounts) {
      const a = this.acct(k);
      a.orders += v.orders;
      a.rejects += v.rejects;
      a.trades += v.trades;
      a.cancels += v.cancels;
      a.stpHits += v.stpHits;
    }
  }

  private sym(s: string): SymbolStats {
    let x = this.symbols.get(s);
    if (x === undefined) {
      x = { trades: 0, volume: 0, notional: 0n, open: 0, high: 0, low: 0, close: 0, orders: 0, cancels: 0, rejects: 0 };
      this.symbols.set(s, x);
    }
    return x;
  }

  private acct(a: string): AccountStats {
    let x = this.accounts.get(a);
    if (x === undefined) {
      x = { orders: 0, rejects: 0, trades: 0, cancels: 0, stpHits: 0 };
      this.accounts.set(a, x);
    }
    return x;
  }

  /** Feeds one replayed command with its events (a replayLog sink). */
  onCommand(rec: CommandRecord, events: readonly EngineEvent[]): void {
    this.commands++;
    if (this.firstTs < 0) this.firstTs = rec.ts;
    this.lastTs = rec.ts;
    for (const e of events) {
      switch (e.type) {
        case 'accepted':
          this.sym(e.symbol).orders++;
          this.acct(e.account).orders++;
          break;
        case 'rejected':
          if (rec.cmd.op !== 'new') break;
          if (e.symbol !== '') this.sym(e.symbol).rejects++;
          if (e.account !== '') this.acct(e.account).rejects++;
          break;
        case 'cancelled':
          this.sym(e.symbol).cancels++;
          this.acct(e.account).cancels++;
          if (e.reason === 'stp') this.acct(e.account).stpHits++;
          break;
        case 'trade': {
          const s = this.sym(e.symbol);
          if (s.trades === 0) s.open = s.high = s.low = e.price;
          s.trades++;
          s.volume += e.qty;
          s.notional += BigInt(e.price) * BigInt(e.qty);
          if (e.price > s.high) s.high = e.price;
          if (e.price < s.low) s.low = e.price;
          s.close = e.price;
          this.acct(e.makerAccount).trades++;
          this.acct(e.takerAccount).trades++;
          break;
        }
        default:
      }
    }
  }

  result(engine: InstrumentLookup): Summary {
    const symbols: SymbolSummary[] = [...this.symbols.keys()].sort().map((symbol) => {
      const s = this.symbols.get(symbol) as SymbolStats;
      const inst = engine.instrument(symbol) as Instrument;
      const px = (t: number) => (s.trades === 0 ? null : inst.price(t));
      return {
        symbol, trades: s.trades, volume: inst.qty(s.volume), notional: notionalText(s.notional, inst),
        vwap: s.trades === 0 ? null : vwapText(s.notional, s.volume, inst),
        open: px(s.open), high: px(s.high), low: px(s.low), close: px(s.close),
        orders: s.orders, cancels: s.cancels, cancelRatio: s.orders === 0 ? null : round(s.cancels / s.orders), rejects: s.rejects,
      };
    });
    const accounts: AccountSummary[] = [...this.accounts.keys()].sort().map((account) => {
      const a = this.accounts.get(account) as AccountStats;
      return { account, ...a, orderToTrade: a.trades === 0 ? null : round(a.orders / a.trades) };
    });
    return {
      from: this.firstTs < 0 ? null : formatTime(this.firstTs), to: this.lastTs < 0 ? null : formatTime(this.lastTs),
      commands: this.commands, symbols, accounts,
    };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** ticks x lots -> price x quantity units, exactly. */
function notionalText(n: bigint, inst: Instrument): string {
  return formatNotional(n, inst.tick, inst.lot);
}

/** notional / volume as a price, rounded half up to two places past the tick. */
function vwapText(notional: bigint, volume: number, inst: Instrument): string {
  const places = inst.tick.scale + 2;
  const num = notional * BigInt(inst.tick.mantissa) * 10n ** BigInt(places);
  const den = BigInt(volume) * 10n ** BigInt(inst.tick.scale);
  const q = (2n * num + den) / (2n * den);
  return formatScaled(q, places);
}

export function renderSummary(s: Summary): string {
  const lines: string[] = [`${s.commands.toLocaleString('en-US')} commands from ${s.from ?? '-'} to ${s.to ?? '-'}`, ''];
  const table = (head: string[], rows: (string | number | null)[][]) => {
    const cells = [head, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
    const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
    for (const r of cells) lines.push(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    lines.push('');
  };
  table(['symbol', 'trades', 'volume', 'notional', 'vwap', 'open', 'high', 'low', 'close', 'orders', 'cancels', 'cancel ratio', 'rejects'],
    s.symbols.map((x) => [x.symbol, x.trades, x.volume, x.notional, x.vwap, x.open, x.high, x.low, x.close, x.orders, x.cancels, x.cancelRatio, x.rejects]));
  table(['account', 'orders', 'rejects', 'trades', 'cancels', 'order/trade', 'stp hits'],
    s.accounts.map((x) => [x.account, x.orders, x.rejects, x.trades, x.cancels, x.orderToTrade, x.stpHits]));
  return lines.join('\n');
}

/**
 * The summary of range `r`: replayed in stretches on `threads` worker threads
 * and merged in log order, or in one replay on this thread (threads 1, or no
 * snapshot to cut at); the same figures either way (tested).
 */
export async function summarize(b: LogBounds, r: ReplayOptions, threads: number, progress?: Progress): Promise<{ summary: Summary; applied: number }> {
  const s = new SummaryBuilder();
  const parts = planStretches(b, r, threads);
  if (parts.length > 1) {
    const done = await runParallel(b, parts, { task: 'summary', format: 'jsonl', symbols: null, accounts: null, types: null }, null, threads, progress);
    for (const p of done.summaries) s.merge(p);
    const instruments = new Map(instrumentsOf(b).map((spec) => [spec.symbol, Instrument.create(spec)]));
    const lookup: InstrumentLookup = { instrument: (symbol) => { const i = instruments.get(symbol); return typeof i === 'string' ? undefined : i; } };
    return { summary: s.result(lookup), applied: done.applied };
  }
  const result = replayLog(b.dir, { ...r, progress }, (rec, events) => s.onCommand(rec, events), b);
  return { summary: s.result(result.engine), applied: result.applied };
}
