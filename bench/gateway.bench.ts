// The gateway end to end: `matchlog start` in its own process (durable log,
// engine, gateway), K FixClient sessions on loopback in this one.
//   npx tsc -p tsconfig.json && npm run bench:gateway   (node dist/bench/gateway.bench.js [options])
//
// 1. Fixed offered rates (default 5k, 20k, 50k, 100k orders/s over all
//    sessions): orders go out on a schedule, and latency is measured from
//    each order's scheduled time (not the moment it went out), so a sender
//    that falls behind shows as latency rather than hiding it (coordinated
//    omission). Latency ends at the order's first ExecutionReport, which the
//    gateway sends only once the order is durable.
// 2. Closed loop: each session keeps a window of orders in flight; the
//    highest rate it keeps up.
// 3. Market-data fan-out: S subscribers (default 500) of one symbol; one
//    trader sends orders at distinct prices; each subscriber's latency runs
//    from an order's send to the X that shows its new level.
// Counts are checked before anything is printed: every order got its first
// report, every subscriber saw every order's update.
//
// The order flow keeps the book small and every session busy both ways: even
// sessions buy and odd ones sell, all at one price, so about half the orders
// rest and the other half trade with them (New, then the taker's and the
// maker's fills).

import * as hdr from 'hdr-histogram-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AccountStore } from '../gateway/accounts.js';
import { FixClient, type FixProtocol } from '../gateway/client.js';
import { FixMessage, Tag } from '../gateway/fix/message.js';

const BIN = new URL('../../bin/matchlog.js', import.meta.url).pathname;
const SYMBOL = 'AAPL';
const PRICE = '190';
const MD_SYMBOL = 'MSFT';
/** Fan-out orders rest at distinct prices from here up, one cent apart (MSFT: tick 0.01, reference 420, band 10%). */
const MD_BASE_CENTS = 39_000;
const PASSWORD = 'bench-password';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '8' },
    rates: { type: 'string', default: '5000,20000,50000,100000' },
    seconds: { type: 'string', default: '5' },
    window: { type: 'string', default: '200' },
    subscribers: { type: 'string', default: '500' },
    'md-rate': { type: 'string', default: '100' },
    'md-seconds': { type: 'string', default: '5' },
    protocol: { type: 'string', default: 'fix.4.4' },
  },
});
const K = Number(args.sessions);
const RATES = (args.rates ?? '').split(',').filter((s) => s !== '').map(Number);
const SECONDS = Number(args.seconds);
const WINDOW = Number(args.window);
const SUBSCRIBERS = Number(args.subscribers);
const MD_RATE = Number(args['md-rate']);
const MD_SECONDS = Number(args['md-seconds']);
const PROTOCOL = args.protocol as FixProtocol;

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// --- the exchange ---------------------------------------------------------------

interface Server {
  proc: ChildProcess;
  url: string;
}

async function startServer(dir: string, accountsPath: string): Promise<Server> {
  // node options for the exchange's process, e.g. MATCHLOG_BENCH_SERVER_ARGS=--cpu-prof to see where its time goes
  const nodeArgs = (process.env.MATCHLOG_BENCH_SERVER_ARGS ?? '').split(' ').filter((a) => a !== '');
  const proc = spawn(process.execPath, [...nodeArgs, BIN, 'start', '--data', join(dir, 'data'), '--accounts', accountsPath, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MATCHLOG_LOG_LEVEL: 'warn' },
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /gateway (wss?:\/\/\S+\/fix)/.exec(out);
      if (m !== null) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`matchlog start exited ${code}: ${out}`)));
  });
  return { proc, url };
}

async function stopServer(s: Server): Promise<void> {
  if (s.proc.exitCode !== null) return;
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await exited;
}

/** Accounts with cheap scrypt parameters (stored beside their hashes): 500 logons must not take a minute. */
async function writeAccounts(path: string): Promise<void> {
  const store = AccountStore.load(path, { scrypt: { N: 1024, r: 8, p: 1 } });
  for (let i = 0; i < K; i++) await store.add(`t${i}`, PASSWORD, { marketDataOnly: false });
  await store.add('stamp', PASSWORD, { marketDataOnly: false });
  for (let i = 0; i < SUBSCRIBERS; i++) await store.add(`md${i}`, PASSWORD, { marketDataOnly: true });
  store.save();
}

/**
 * Logons in groups of 4: the gateway counts logons still being checked
 * against its limit of 5 failures per address, so more at once from one
 * address are refused as if they had failed.
 */
async function connectAll(url: string, accounts: string[]): Promise<FixClient[]> {
  const out: FixClient[] = [];
  for (let i = 0; i < accounts.length; i += 4) out.push(...await Promise.all(accounts.slice(i, i + 4).map((a) => connect(url, a))));
  return out;
}

function connect(url: string, account: string): Promise<FixClient> {
  // no queue and no report history: nothing here calls next(), and a million orders would keep a million messages
  return FixClient.connect({ url, account, password: PASSWORD, protocol: PROTOCOL, maxQueued: 0, keepReports: 0, timeoutMs: 30_000 });
}

// --- order latency ----------------------------------------------------------------

interface Phase {
  name: string;
  offered: number | null;
  sent: number;
  answered: number;
  rejected: number;
  elapsedMs: number;
  h: hdr.Histogram;
  reasons: Map<string, number>;
}

/** Per phase and session: when each order was due (or sent), and whether its first report came. */
class Tracker {
  readonly due: Float64Array;
  readonly seen: Uint8Array;
  answered = 0;
  rejected = 0;
  lastAt = 0;
  onAnswer: (() => void) | null = null;
  /** Reject texts (numbers blanked) and how often. */
  readonly reasons = new Map<string, number>();

  constructor(readonly prefix: string, capacity: number, readonly h: hdr.Histogram) {
    this.due = new Float64Array(capacity);
    this.seen = new Uint8Array(capacity);
  }

  readonly listener = (m: FixMessage): void => {
    if (m.msgType !== '8') return;
    const id = m.get(Tag.ClOrdID);
    if (id === undefined || !id.startsWith(this.prefix)) return;
    const n = Number(id.slice(this.prefix.length));
    if (this.seen[n] === 1) return;
    this.seen[n] = 1;
    const now = performance.now();
    this.lastAt = now;
    this.answered++;
    if (m.get(Tag.ExecType) === '8') {
      this.rejected++;
      const why = (m.get(Tag.Text) ?? '').replace(/[0-9]+/g, 'N');
      this.reasons.set(why, (this.reasons.get(why) ?? 0) + 1);
    }
    this.h.recordValue(Math.max(1, Math.round((now - this.due[n]) * 1000)));
    this.onAnswer?.();
  };
}

function reasons(trackers: Tracker[]): Map<string, number> {
  const all = new Map<string, number>();
  for (const t of trackers) for (const [k, v] of t.reasons) all.set(k, (all.get(k) ?? 0) + v);
  return all;
}

function order(c: FixClient, session: number, clOrdId: string): void {
  c.newOrder({ symbol: SYMBOL, side: session % 2 === 0 ? 'buy' : 'sell', qty: '1', price: PRICE, clOrdId });
}

/** Each session cancels what rests, so every phase starts from an empty book. */
async function clearBook(clients: FixClient[]): Promise<void> {
  await Promise.all(clients.map(async (c) => {
    const done = new Promise<void>((resolve) => {
      const off = c.onMessage((m) => {
        if (m.msgType === 'r') {
          off();
          resolve();
        }
      });
    });
    c.massCancel();
    await done;
  }));
}

async function waitAnswered(trackers: Tracker[], total: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (trackers.reduce((a, t) => a + t.answered, 0) < total && performance.now() < deadline) await sleep(10);
}

async function fixedRate(clients: FixClient[], phaseNo: number, rate: number, seconds: number): Promise<Phase> {
  const perSession = rate / K;
  const n = Math.round(perSession * seconds);
  const h = histogram();
  const trackers = clients.map((c, i) => new Tracker(`p${phaseNo}s${i}-`, n, h));
  const offs = clients.map((c, i) => c.onMessage(trackers[i].listener));
  const sent = new Array<number>(K).fill(0);
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(n, Math.floor(((now - start) / 1000) * perSession));
      for (let s = 0; s < K; s++) {
        const t = trackers[s];
        for (let k = sent[s]; k < due; k++) {
          t.due[k] = start + (k * 1000) / perSession;
          order(clients[s], s, `${t.prefix}${k}`);
        }
        sent[s] = Math.max(sent[s], due);
      }
      if (due >= n) resolve();
      else setImmediate(tick);
    };
    tick();
  });
  await waitAnswered(trackers, n * K, 30_000);
  for (const off of offs) off();
  const lastAt = Math.max(...trackers.map((t) => t.lastAt));
  return {
    name: `${rate / 1000}k/s`, offered: rate, sent: n * K, answered: trackers.reduce((a, t) => a + t.answered, 0),
    rejected: trackers.reduce((a, t) => a + t.rejected, 0), elapsedMs: lastAt - start, h, reasons: reasons(trackers),
  };
}

async function closedLoop(clients: FixClient[], phaseNo: number, seconds: number): Promise<Phase> {
  const h = histogram();
  const capacity = 4_000_000;
  const trackers = clients.map((c, i) => new Tracker(`p${phaseNo}s${i}-`, capacity / K, h));
  const sent = new Array<number>(K).fill(0);
  const start = performance.now();
  const end = start + seconds * 1000;
  let stopped = false;
  const send = (s: number): void => {
    const t = trackers[s];
    const k = sent[s]++;
    if (k >= t.due.length) return;
    t.due[k] = performance.now();
    order(clients[s], s, `${t.prefix}${k}`);
  };
  trackers.forEach((t, s) => {
    t.onAnswer = (): void => {
      if (!stopped && performance.now() < end) send(s);
      else stopped = true;
    };
  });
  const offs = clients.map((c, i) => c.onMessage(trackers[i].listener));
  for (let s = 0; s < K; s++) for (let w = 0; w < WINDOW; w++) send(s);
  while (performance.now() < end) await sleep(50);
  stopped = true;
  const total = (): number => Math.min(sent.reduce((a, b) => a + b, 0), trackers.reduce((a, t) => a + t.due.length, 0));
  await waitAnswered(trackers, total(), 30_000);
  for (const off of offs) off();
  const answered = trackers.reduce((a, t) => a + t.answered, 0);
  const lastAt = Math.max(...trackers.map((t) => t.lastAt));
  return { name: `closed loop (window ${WINDOW}/session)`, offered: null, sent: total(), answered, rejected: trackers.reduce((a, t) => a + t.rejected, 0), elapsedMs: lastAt - start, h,
    reasons: reasons(trackers) };
}

// --- market-data fan-out -------------------------------------------------------------

interface FanOut {
  subscribers: number;
  orders: number;
  seen: number;
  expected: number;
  snapshots: number;
  h: hdr.Histogram;
}

/** A price in cents from its decimal text, exactly ("390.1" -> 39010). */
function cents(price: string): number {
  const [i, f = ''] = price.split('.');
  return Number(i) * 100 + Number(f.padEnd(2, '0').slice(0, 2));
}

function priceOf(c: number): string {
  const frac = c % 100;
  return frac === 0 ? String(c / 100) : `${Math.floor(c / 100)}.${String(frac).padStart(2, '0')}`;
}

async function fanOut(url: string): Promise<FanOut> {
  const subs = await connectAll(url, Array.from({ length: SUBSCRIBERS }, (_, i) => `md${i}`));
  await Promise.all(subs.map((c) => c.subscribe(MD_SYMBOL).ready(30_000)));
  const snapshotsBefore = subs.reduce((a, c) => a + (c.view(MD_SYMBOL)?.snapshots ?? 0), 0);
  const stamp = await connect(url, 'stamp');
  const n = Math.round(MD_RATE * MD_SECONDS);
  const sentAt = new Float64Array(n).fill(Number.NaN);
  const h = histogram();
  let seen = 0;
  for (const c of subs) {
    c.onMessage((m) => {
      if (m.msgType !== 'X') return;
      const now = performance.now();
      const f = m.fields;
      let action = '';
      let type = '';
      for (let i = 0; i < f.length; i++) {
        const [tag, v] = f[i];
        if (tag === Tag.MDUpdateAction) action = v;
        else if (tag === Tag.MDEntryType) type = v;
        else if (tag === Tag.MDEntryPx && action === '0' && type === '0') {
          const k = cents(v) - MD_BASE_CENTS;
          if (k >= 0 && k < n && !Number.isNaN(sentAt[k])) {
            seen++;
            h.recordValue(Math.max(1, Math.round((now - sentAt[k]) * 1000)));
          }
        }
      }
    });
  }
  const start = performance.now();
  for (let k = 0; k < n; k++) {
    const due = start + (k * 1000) / MD_RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    sentAt[k] = performance.now();
    stamp.newOrder({ symbol: MD_SYMBOL, side: 'buy', qty: '1', price: priceOf(MD_BASE_CENTS + k) });
  }
  const expected = n * SUBSCRIBERS;
  const deadline = performance.now() + 30_000;
  while (seen < expected && performance.now() < deadline) await sleep(10);
  const snapshots = subs.reduce((a, c) => a + (c.view(MD_SYMBOL)?.snapshots ?? 0), 0) - snapshotsBefore;
  stamp.massCancel();
  await sleep(200);
  await Promise.all([stamp, ...subs].map((c) => c.logout().catch(() => undefined)));
  return { subscribers: SUBSCRIBERS, orders: n, seen, expected, snapshots, h };
}

// --- the run ------------------------------------------------------------------------

function ms(us: number): string {
  return (us / 1000).toFixed(2);
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => String(c).padStart(widths[i])).join('  ');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-gw-bench-'));
  let server: Server | null = null;
  try {
    const accountsPath = join(dir, 'accounts.json');
    await writeAccounts(accountsPath);
    server = await startServer(dir, accountsPath);
    const clients = await connectAll(server.url, Array.from({ length: K }, (_, i) => `t${i}`));
    process.stderr.write(`gateway bench: ${server.url}, ${K} sessions over ${PROTOCOL}\n`);

    // warm-up: JIT, first segment, session stores
    await fixedRate(clients, 0, 5000, 1);
    await clearBook(clients);
    const phases: Phase[] = [];
    for (let i = 0; i < RATES.length; i++) {
      process.stderr.write(`  ${RATES[i]} orders/s for ${SECONDS} s ...\n`);
      phases.push(await fixedRate(clients, i + 1, RATES[i], SECONDS));
      await clearBook(clients);
    }
    process.stderr.write(`  closed loop for ${SECONDS} s ...\n`);
    phases.push(await closedLoop(clients, RATES.length + 1, SECONDS));
    await clearBook(clients);
    await Promise.all(clients.map((c) => c.logout()));
    process.stderr.write(`  fan-out to ${SUBSCRIBERS} subscribers ...\n`);
    const fan = await fanOut(server.url);

    // like for like: a phase whose counts do not add up is not printed as a result
    const problems: string[] = [];
    for (const p of phases) if (p.answered !== p.sent) problems.push(`${p.name}: ${p.answered} of ${p.sent} orders answered`);
    if (fan.seen !== fan.expected) problems.push(`fan-out: ${fan.seen} of ${fan.expected} updates seen (${fan.snapshots} conflation snapshots)`);

    const cpu = cpus();
    console.log(`\nmatchlog gateway benchmark: node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? '?'}`);
    console.log(`matchlog start (own process, durable log) <- ${K} sessions over ${PROTOCOL} on loopback (this process); limit orders of qty 1, half resting, half crossing`);
    console.log('latency: scheduled send -> first ExecutionReport (fixed rates), send -> first report (closed loop); ms\n');
    const w = [34, 10, 10, 9, 8, 7, 7, 7, 8, 9];
    console.log(row(['phase', 'offered/s', 'achieved/s', 'orders', 'rejects', 'p50', 'p99', 'p99.9', 'max', 'sustained'], w));
    let best = 0;
    for (const p of phases) {
      const achieved = p.elapsedMs > 0 ? p.answered / (p.elapsedMs / 1000) : 0;
      // sustained: every order answered, none refused, and the answers kept pace with what was offered
      const sustained = p.answered === p.sent && p.rejected === 0 && (p.offered === null || achieved >= 0.95 * p.offered);
      if (sustained) best = Math.max(best, achieved);
      // figures of a phase whose counts differ would compare unlike things: shown as '-'
      const lat = p.answered === p.sent
        ? [ms(p.h.getValueAtPercentile(50)), ms(p.h.getValueAtPercentile(99)), ms(p.h.getValueAtPercentile(99.9)), ms(p.h.maxValue)]
        : ['-', '-', '-', '-'];
      console.log(row([p.name, p.offered === null ? '-' : p.offered, Math.round(achieved), p.sent, p.rejected, ...lat, sustained ? 'yes' : 'no'], w));
    }
    for (const p of phases) for (const [why, n] of p.reasons) console.log(`  ${p.name} rejects: ${n} x ${why}`);
    const fh = fan.h;
    console.log(`\nmarket-data fan-out: ${fan.subscribers} subscribers of ${MD_SYMBOL}, ${fan.orders} orders at ${MD_RATE}/s, `
      + `${fan.seen} of ${fan.expected} updates seen, ${fan.snapshots} conflation snapshots`);
    if (fan.seen === fan.expected) console.log(`  order sent -> subscriber sees its level (ms): p50 ${ms(fh.getValueAtPercentile(50))}  p99 ${ms(fh.getValueAtPercentile(99))}  `
      + `p99.9 ${ms(fh.getValueAtPercentile(99.9))}  max ${ms(fh.maxValue)}`);

    const at20k = phases.find((p) => p.offered === 20_000);
    console.log('\ngoals (reported, not asserted):');
    console.log(`  >= 100k orders/s sustained over 8 sessions: ${Math.round(best)}/s ${best >= 100_000 && K === 8 ? 'met' : 'not met'}`);
    if (at20k !== undefined) {
      const p99 = at20k.h.getValueAtPercentile(99) / 1000;
      console.log(`  p99 <= 1 ms at 20k orders/s: ${p99.toFixed(2)} ms ${p99 <= 1 ? 'met' : 'not met'}`);
    }
    const fp99 = fh.getValueAtPercentile(99) / 1000;
    if (fan.seen === fan.expected) console.log(`  fan-out p99 <= 5 ms: ${fp99.toFixed(2)} ms ${fp99 <= 5 ? 'met' : 'not met'}`);
    if (problems.length > 0) {
      console.log(`\ncounts that do not match (their figures are left out):\n  ${problems.join('\n  ')}`);
      process.exitCode = 1;
    }
  } finally {
    if (server !== null) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
