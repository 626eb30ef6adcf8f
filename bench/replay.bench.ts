// `npm run bench:replay [-- COMMANDS [SYMBOLS]]`: the surveillance workload as
// an analyst meets it, each step a `matchlog` process timed from outside:
// generate a day (default 10M commands over 20 symbols), then a full replay,
// the book as of mid-day, the event export to Parquet and CSV, and
// surveillance over the day. Every step must succeed and agree (same number
// of events in both exports) before a figure is printed.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instrumentsOf, logBounds } from '../replay/history.js';
import { exportThreads } from '../replay/parallel.js';
import { formatTime } from '../replay/time.js';

const BIN = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));
const commands = Number(process.argv[2] ?? 10_000_000);
const symbols = Number(process.argv[3] ?? 20);
const keep = process.env.MATCHLOG_BENCH_KEEP === '1';

interface Step { name: string; seconds: number; err: string; out: string }

function step(name: string, args: string[]): Step {
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${name}: matchlog ${args.join(' ')} exited ${r.status}\n${r.stderr}`);
  process.stderr.write(`  ${name}: ${seconds.toFixed(2)} s\n`);
  return { name, seconds, err: r.stderr, out: r.stdout };
}

/** "N events in" from a throughput line. */
function count(s: Step, what: string): number {
  const m = new RegExp(`([\\d,]+) ${what} in`).exec(s.err);
  if (m === null) throw new Error(`${s.name}: no throughput line for ${what}:\n${s.err}`);
  return Number(m[1].replace(/,/g, ''));
}

function exportThreadsText(): string {
  return String(exportThreads());
}

const reuse = process.env.MATCHLOG_BENCH_DAY;
const root = mkdtempSync(join(tmpdir(), 'matchlog-bench-replay-'));
const dir = reuse ?? join(root, 'day');
try {
  process.stderr.write(`bench:replay: ${commands.toLocaleString('en-US')} commands over ${symbols} symbols in ${dir}\n`);
  // MATCHLOG_BENCH_DAY: a day generated before (by this benchmark with MATCHLOG_BENCH_KEEP=1), to time the rest again
  const gen = reuse !== undefined ? null
    : step('gen', ['gen', '--out', dir, '--commands', String(commands), '--symbols', String(symbols), '--seed', '1', '--date', '2026-11-20']);
  const b = logBounds(dir);
  const full = step('full replay', ['replay', dir, '--summary', '--from-start']);
  if (step('summaries agree', ['replay', dir, '--summary', '--json', '--from-start']).out !== step('summaries agree', ['replay', dir, '--summary', '--json']).out) {
    throw new Error('the summary on threads differs from the one-thread summary');
  }
  const threads = step('full replay, threads', ['replay', dir, '--summary']);
  const verify = step('verify', ['verify', dir]);
  const midTs = Math.round((b.firstTs + b.lastTs) / 2);
  const sym = instrumentsOf(b)[0].symbol;
  const book = step('book at mid-day', ['replay', dir, '--book', sym, '--at', formatTime(midTs), '--json']);
  const parquet = step('events parquet', ['replay', dir, '--events', '--format', 'parquet', '--out', join(root, 'events.parquet')]);
  const csv = step('events csv', ['replay', dir, '--events', '--format', 'csv', '--out', join(root, 'events.csv')]);
  const surveil = step('surveil', ['surveil', dir, '--json']);
  const nParquet = count(parquet, 'events');
  const nCsv = count(csv, 'events');
  if (nParquet !== nCsv) throw new Error(`the exports disagree: ${nParquet} events in parquet, ${nCsv} in csv`);
  const bookJson = JSON.parse(book.out) as { seq: number };
  const rate = (n: number, s: Step) => `${Math.round(n / s.seconds).toLocaleString('en-US')}/s`;
  const size = (f: string) => `${(statSync(join(root, f)).size / 1e6).toFixed(0)} MB`;
  const rows: [string, string, string][] = [
    ...(gen === null ? [] : [['gen', `${gen.seconds.toFixed(1)} s`, `${rate(commands, gen)} commands`] as [string, string, string]]),
    ['full replay (--summary --from-start: one thread)', `${full.seconds.toFixed(1)} s`, `${rate(b.lastSeq, full)} commands`],
    [`full replay (--summary: ${exportThreadsText()} threads, from snapshots)`, `${threads.seconds.toFixed(1)} s`, `${rate(b.lastSeq, threads)} commands`],
    ['verify (every checkpoint, from seq 1)', `${verify.seconds.toFixed(1)} s`, `${rate(b.lastSeq, verify)} commands`],
    [`book ${sym} as of ${formatTime(midTs)}`, `${book.seconds.toFixed(2)} s`, `seq ${bookJson.seq}`],
    ['events -> parquet', `${parquet.seconds.toFixed(1)} s`, `${rate(nParquet, parquet)} events (${nParquet.toLocaleString('en-US')}, ${size('events.parquet')})`],
    ['events -> csv', `${csv.seconds.toFixed(1)} s`, `${rate(nCsv, csv)} events (${size('events.csv')})`],
    ['surveil', `${surveil.seconds.toFixed(1)} s`, `${rate(b.lastSeq, surveil)} commands, ${(JSON.parse(surveil.out) as unknown[]).length} alerts`],
  ];
  console.log(`\nmatchlog replay benchmark: ${b.lastSeq.toLocaleString('en-US')} commands, ${symbols} symbols, ${b.segments.length} segments (wall time per process, start-up included)`);
  for (const [a, c, d] of rows) console.log(`  ${a.padEnd(48)} ${c.padStart(8)}  ${d}`);
} finally {
  if (keep) process.stderr.write(`kept ${root}\n`);
  else rmSync(root, { recursive: true, force: true });
}
