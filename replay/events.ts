// `replay --events`: the reconstructed event stream of a stretch of the log,
// filtered by symbol, account and type, written by one of the export sinks
// (replay/export). Unknown symbols and accounts are errors, not empty files:
// an analyst who mistypes a name must not conclude that nothing happened.

import { rmSync } from 'node:fs';
import { formatEvent, type EngineEvent, type InstrumentLookup } from '../engine/index.js';
import type { CommandRecord } from '../log/records.js';
import { instrumentsOf, replayLogAsync, type LogBounds, type ReplayOptions } from './history.js';
import { CSV_HEADER } from './export/csv.js';
import { openEventSink, type EventSink, type ExportFormat } from './export/index.js';
import { finish, openOutput } from './export/output.js';
import { planStretches, runParallel } from './parallel.js';
import { Progress } from './progress.js';

export const EVENT_TYPES = ['accepted', 'rejected', 'cancelled', 'replaced', 'cancelRejected', 'trade', 'bookDelta', 'book',
  'massCancelled', 'instrument', 'status'] as const;

export interface EventsExport {
  range: ReplayOptions;
  format: ExportFormat;
  out: string | undefined;
  symbols: Set<string> | null;
  accounts: Set<string> | null;
  types: Set<string> | null;
  log?: (line: string) => void;
  /** Worker threads for jsonl/csv (1: this thread); parallel stretches start at snapshots. */
  threads?: number;
}

/** Whether an event passes the filters; a mass cancel of every symbol (symbol '') passes any symbol filter. */
export function eventMatches(e: EngineEvent, symbols: Set<string> | null, accounts: Set<string> | null, types: Set<string> | null): boolean {
  if (types !== null && !types.has(e.type)) return false;
  if (symbols !== null && !symbols.has(e.symbol) && !(e.type === 'massCancelled' && e.symbol === '')) return false;
  if (accounts !== null) {
    switch (e.type) {
      case 'trade': return accounts.has(e.makerAccount) || accounts.has(e.takerAccount);
      case 'accepted': case 'rejected': case 'cancelled': case 'replaced': case 'cancelRejected': case 'massCancelled':
        return accounts.has(e.account);
      default: return false;
    }
  }
  return true;
}

/**
 * What an export does with one replayed command, on this thread or a worker:
 * notes the filtered accounts it comes from, writes its matching events;
 * returns how many it wrote.
 */
export function exportCommand(rec: CommandRecord, events: readonly EngineEvent[], lookup: InstrumentLookup, sink: EventSink,
  symbols: Set<string> | null, accounts: Set<string> | null, types: Set<string> | null, seen: Set<string>): number {
  if (accounts !== null) {
    const a = (rec.cmd as { account?: unknown }).account;
    if (typeof a === 'string' && accounts.has(a)) seen.add(a);
  }
  let n = 0;
  for (const e of events) {
    if (!eventMatches(e, symbols, accounts, types)) continue;
    sink.write(rec.ts, formatEvent(e, lookup));
    n++;
  }
  return n;
}

export async function runEventsExport(b: LogBounds, x: EventsExport): Promise<number> {
  if (x.types !== null) {
    const bad = [...x.types].filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
    if (bad.length > 0) throw new Error(`--type ${bad.join(',')}: unknown event type; known: ${EVENT_TYPES.join(', ')}`);
  }
  const instruments = instrumentsOf(b);
  const known = new Set(instruments.map((i) => i.symbol));
  const missing = x.symbols === null ? [] : [...x.symbols].filter((s) => !known.has(s));
  if (missing.length > 0) throw new Error(`unknown symbol ${missing.join(', ')}: the log defines ${[...known].sort().join(', ') || 'no instrument'}`);
  const progress = new Progress('replay', b.lastSeq - (x.range.fromSeq ?? 1) + 1, 'commands');
  let written = 0;
  let seen = new Set<string>();
  // only a file this export created is removed when it fails (never one it could not open)
  let created = false;
  try {
    const threads = x.threads ?? 1;
    const parts = x.format === 'jsonl' || x.format === 'csv' ? planStretches(b, x.range, threads) : [];
    let lastSeq: number;
    if (parts.length > 1) {
      const stream = openOutput(x.out);
      created = x.out !== undefined;
      if (x.format === 'csv') stream.write(`${CSV_HEADER}\r\n`);
      const r = await runParallel(b, parts, {
        task: 'events', format: x.format as 'jsonl' | 'csv',
        symbols: x.symbols === null ? null : [...x.symbols], accounts: x.accounts === null ? null : [...x.accounts], types: x.types === null ? null : [...x.types],
      }, stream, threads, progress);
      await finish(stream);
      written = r.events;
      seen = r.seen;
      lastSeq = r.lastSeq;
    } else {
      const sink = openEventSink(x.format, x.out, { instruments });
      created = x.out !== undefined;
      const r = await replayLogAsync(b.dir, { ...x.range, progress, log: x.log }, (rec, events, engine) => {
        written += exportCommand(rec, events, engine, sink, x.symbols, x.accounts, x.types, seen);
        // the reader went away (| head): stop quietly
        if (sink.closed === true) return false;
      }, () => sink.drained(), b);
      await sink.end();
      lastSeq = r.seq;
    }
    if (x.accounts !== null && seen.size < x.accounts.size) {
      const unknown = [...x.accounts].filter((a) => !seen.has(a));
      throw new Error(`unknown account ${unknown.join(', ')}: it sends no command in the range replayed (seqs up to ${lastSeq})`);
    }
    progress.finish(written, 'events');
  } catch (e) {
    // a half-written export must not pass for a whole one
    if (created && x.out !== undefined) rmSync(x.out, { force: true });
    throw e;
  }
  return 0;
}
