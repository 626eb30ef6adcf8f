// `matchlog replay DIR ...`: history from a log folder, read-only (it runs
// beside the live exchange writing that folder). One of --book, --events,
// --order, --summary; see USAGE.

import { checkEnd, checkMoment, checkRange, logBounds, type LogBounds, type ReplayOptions } from '../replay/history.js';
import { bookAt, renderBookAt } from '../replay/book-at.js';
import { runEventsExport } from '../replay/events.js';
import { orderLives, parseOrderRef } from '../replay/lifecycle.js';
import { exportThreads } from '../replay/parallel.js';
import { Progress } from '../replay/progress.js';
import { describe } from '../replay/rows.js';
import { renderSummary, summarize } from '../replay/summary.js';
import { parseMoment, type Moment } from '../replay/time.js';
import { parseOptions } from './args.js';
import { OutputBuffer } from './output.js';

const USAGE = `usage: matchlog replay DIR <what> [options]

  DIR is a matchlog data folder (or a copy of one); nothing is written into it.
  Moments (T) are a seq (digits) or an ISO-8601 time (2026-11-20T14:30:00.123456Z;
  no zone means UTC).

  --book SYMBOL --at T [--depth N] [--orders] [--json]
        the book as of T (after command T, or after the last command at or
        before time T); --orders lists every resting order in priority order
        with account, clOrdId, entry time and leaves; --json prints one object
        shaped like the book event of matchlog apply (depth: all levels; in
        text 10 unless --depth)
  --events [--from T] [--to T] [--symbol S]... [--account A]... [--type trade,accepted,...]
        --format jsonl|csv|parquet|avro [--out FILE]
        the event stream with seq and time (stdout unless --out; parquet and
        avro need --out); jsonl and csv are replayed on --threads N worker
        threads (default: the cores less one, at least 2; 1 for none), in
        stretches that start at the log's snapshots
  --order ORDER_ID|ACCOUNT:CLORDID [--json]
        one order's whole life, each event with its time
  --summary [--from T] [--to T] [--json] [--threads N]
        per symbol: trades, volume, notional, VWAP, OHLC, orders, cancel ratio;
        per account: orders, trades, order-to-trade ratio, STP hits (replayed
        on worker threads in stretches between snapshots, like --events)

  --from-start   ignore snapshots: one replay from the first record, on one thread
`;

const OPTIONS = {
  book: { type: 'string' }, at: { type: 'string' }, depth: { type: 'string' }, orders: { type: 'boolean' }, json: { type: 'boolean' },
  events: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' }, symbol: { type: 'string', multiple: true },
  account: { type: 'string', multiple: true }, type: { type: 'string', multiple: true }, format: { type: 'string' }, out: { type: 'string' },
  order: { type: 'string' }, summary: { type: 'boolean' }, 'from-start': { type: 'boolean' }, threads: { type: 'string' },
} as const;

type Opts = Exclude<ReturnType<typeof parseOptions<typeof OPTIONS>>, number>;

class UsageError extends Error {}

export async function run(argv: string[]): Promise<number> {
  const opts = parseOptions('replay', USAGE, argv, OPTIONS, 1);
  if (typeof opts === 'number') return opts;
  const dir = opts._[0];
  const modes = (['book', 'events', 'order', 'summary'] as const).filter((k) => opts[k] !== undefined && opts[k] !== false);
  try {
    if (dir === undefined) throw new UsageError('DIR is required');
    if (modes.length !== 1) throw new UsageError(modes.length === 0 ? 'say what to replay: --book, --events, --order or --summary' : `one of --${modes.join(', --')} at a time`);
    const b = logBounds(dir);
    switch (modes[0]) {
      case 'book': return await book(b, opts);
      case 'events': return await events(b, opts);
      case 'order': return await order(b, opts);
      case 'summary': return await summary(b, opts);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`matchlog replay: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  return 0;
}

function moment(b: LogBounds, s: string | undefined, option: string): Moment | undefined {
  if (s === undefined) return undefined;
  const m = parseMoment(s, option);
  checkMoment(b, m, option);
  return m;
}

/** A log that lost acknowledged commands: an error when the history reaches past its end, else a note. */
function whole(b: LogBounds, to: Moment | undefined, instead: string): void {
  const n = checkEnd(b, to, instead);
  if (n !== null) note(`note: ${n}`);
}

/** --from/--to as replay bounds. */
function range(b: LogBounds, opts: Opts): ReplayOptions {
  // the cut is said before a --to past it is refused as outside the log: it is why the log is short
  whole(b, opts.to === undefined ? undefined : parseMoment(opts.to, '--to'), `--to ${b.lastSeq} (or an earlier moment) reads the history up to there`);
  const from = moment(b, opts.from, '--from');
  const to = moment(b, opts.to, '--to');
  checkRange(b, from, to);
  const r: ReplayOptions = { snapshots: opts['from-start'] !== true };
  if (from !== undefined) Object.assign(r, 'seq' in from ? { fromSeq: from.seq } : { fromTs: from.ts });
  if (to !== undefined) Object.assign(r, 'seq' in to ? { toSeq: to.seq } : { toTs: to.ts });
  return r;
}

function note(line: string): void {
  process.stderr.write(`matchlog replay: ${line}\n`);
}

async function book(b: LogBounds, opts: Opts): Promise<number> {
  if (opts.at === undefined) throw new UsageError('--book needs --at SEQ|TIME');
  let depth = opts.json === true ? Infinity : 10;
  if (opts.depth !== undefined) {
    if (!/^\d+$/.test(opts.depth) || Number(opts.depth) < 1) throw new UsageError(`--depth ${opts.depth}: a positive whole number of levels`);
    depth = Number(opts.depth);
  }
  const at = parseMoment(opts.at, '--at');
  whole(b, at, `--at ${b.lastSeq} (or an earlier moment) is the latest book it holds`);
  const progress = new Progress('replay', 'seq' in at ? at.seq : b.lastSeq, 'commands');
  const r = bookAt(b, { symbol: opts.book as string, at, depth, orders: opts.orders === true, progress, log: note, snapshots: opts['from-start'] !== true });
  progress.finish(r.applied, 'commands');
  if (opts.json === true) {
    const o = { ...r.book, ...(r.bidOrders !== undefined ? { bidOrders: r.bidOrders, askOrders: r.askOrders } : {}) };
    process.stdout.write(`${JSON.stringify(o)}\n`);
  } else {
    process.stdout.write(renderBookAt(r));
  }
  return 0;
}

async function order(b: LogBounds, opts: Opts): Promise<number> {
  const refs = parseOrderRef(opts.order as string);
  // an order's life may go on past the cut: printing it would show a state it may not end in
  whole(b, undefined, `the rest of an order's life may be among them; --events --to ${b.lastSeq} --format jsonl lists what the log holds`);
  const progress = new Progress('replay', b.lastSeq, 'commands');
  const lives = orderLives(b, refs, progress);
  progress.finish(lives.reduce((n, l) => n + l.rows.length, 0), 'events');
  const out = new OutputBuffer(process.stdout);
  for (const life of lives) {
    if (opts.json === true) {
      out.line(JSON.stringify(life));
      continue;
    }
    out.line(`${life.orderId === null ? 'rejected new order' : `order #${life.orderId}`} of ${life.account}: ${life.state}`);
    for (const r of life.rows) out.line(`  ${String(r.ts)}  seq ${String(r.seq).padEnd(10)} ${describe(r)}`);
  }
  await out.end();
  return 0;
}

async function summary(b: LogBounds, opts: Opts): Promise<number> {
  const r = range(b, opts);
  const progress = new Progress('replay', b.lastSeq - (r.fromSeq ?? 1) + 1, 'commands');
  // --from-start means one replay from the first record, on this thread
  const { summary: sum, applied } = await summarize(b, { ...r, log: note }, opts['from-start'] === true ? 1 : threadsOf(opts), progress);
  progress.finish(applied, 'commands');
  process.stdout.write(opts.json === true ? `${JSON.stringify(sum)}\n` : renderSummary(sum));
  return 0;
}

function threadsOf(opts: Opts): number {
  if (opts.threads === undefined) return exportThreads();
  if (!/^\d+$/.test(opts.threads) || Number(opts.threads) < 1 || Number(opts.threads) > 64) throw new UsageError(`--threads ${opts.threads}: a whole number from 1 to 64`);
  return Number(opts.threads);
}

async function events(b: LogBounds, opts: Opts): Promise<number> {
  const format = opts.format;
  if (format === undefined) throw new UsageError('--events needs --format jsonl|csv|parquet|avro');
  if (!['jsonl', 'csv', 'parquet', 'avro'].includes(format)) throw new UsageError(`--format ${format}: one of jsonl, csv, parquet, avro`);
  if ((format === 'parquet' || format === 'avro') && opts.out === undefined) throw new UsageError(`--format ${format} is binary: give --out FILE`);
  const threads = threadsOf(opts);
  const types = opts.type === undefined ? null : new Set(opts.type.flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== ''));
  return runEventsExport(b, {
    range: range(b, opts), format: format as 'jsonl', out: opts.out,
    symbols: opts.symbol === undefined ? null : new Set(opts.symbol), accounts: opts.account === undefined ? null : new Set(opts.account),
    types, log: note, threads,
  });
}
