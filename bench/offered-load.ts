// An offered load for the log benchmarks (bench:log, bench:replication):
// commands from a bounded order flow, offered at a fixed rate in 1 ms bursts
// (as a gateway's socket reads deliver them) or as fast as a closed loop of
// 4,096 outstanding commands allows; commit latency from submit() to the
// answer, in an HDR histogram. A target with submitTicket is driven through
// it (one TicketSink, a numeric ticket per command: nothing allocated per
// command, no event objects asked for); else through submit()'s promise.
// GC time during the run comes from PerformanceObserver 'gc' entries.

import * as hdr from 'hdr-histogram-js';
import { PerformanceObserver, constants as perfConstants, performance, type PerformanceEntry } from 'node:perf_hooks';
import type { Command } from '../engine/index.js';
import type { Ack, TicketSink } from '../log/sequencer.js';

export const INSTRUMENT = { symbol: 'AAPL', tickSize: '0.01', lotSize: '1', priceBand: '0.2', referencePrice: '100.00' };

/** Order flow that keeps a bounded book: new limit orders near the mid, the oldest cancelled, some crossing. */
export class BenchFlow {
  private n = 0;
  private x = 12345;
  private readonly ring: { account: string; clOrdId: string }[] = [];

  private rnd(k: number): number {
    this.x ^= this.x << 13; this.x >>>= 0; this.x ^= this.x >>> 17; this.x ^= this.x << 5; this.x >>>= 0;
    return this.x % k;
  }

  next(): Command {
    const id = `c${++this.n}`;
    if (this.ring.length >= 2000 || (this.ring.length > 0 && this.rnd(3) === 0)) {
      const o = this.ring.shift() as { account: string; clOrdId: string };
      return { op: 'cancel', account: o.account, clOrdId: id, origClOrdId: o.clOrdId };
    }
    const account = `acct${this.rnd(20)}`;
    const buy = this.rnd(2) === 0;
    const cross = this.rnd(10) === 0;
    const off = (cross ? -1 : 1) * (1 + this.rnd(50));
    const ticks = 10000 + (buy ? -off : off);
    this.ring.push({ account, clOrdId: id });
    return { op: 'new', account, clOrdId: id, symbol: 'AAPL', side: buy ? 'buy' : 'sell', type: 'limit', price: (ticks / 100).toFixed(2), qty: String(1 + this.rnd(100)) };
  }
}

export interface Target {
  submit(cmd: Command, origin: string): Promise<Ack>;
  /** The non-allocating path (Exchange/Sequencer.submitTicket), with its sink setter; used when present. */
  submitTicket?(cmd: Command, origin: string, ticket: number): Error | null;
  setTickets?(sink: TicketSink): void;
  /** Each durable write's time in ms (LogWriter.writeObserver), or null to stop. */
  observeWrites(fn: ((ms: number) => void) | null): void;
  stats(): { commands: number; blocks: number; bytes: number };
  close(): Promise<void>;
}

export interface Result {
  name: string;
  commands: number;
  seconds: number;
  blocks: number;
  bytes: number;
  h: hdr.Histogram;
  /** The disk's part: each durable write (one block), start to completion, in µs. */
  writes: hdr.Histogram;
  /** GC during the run: pauses, their total ms, and the scavenges (young generation) among them. */
  gcCount: number;
  gcMs: number;
  scavenges: number;
  scavengeMs: number;
}

/** Counts GC pauses (PerformanceObserver 'gc' entries) while it is on. */
class GcMeter {
  count = 0;
  ms = 0;
  scavenges = 0;
  scavengeMs = 0;
  private readonly obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.add(e);
  });

  start(): void {
    this.obs.observe({ entryTypes: ['gc'] });
  }

  private add(e: PerformanceEntry): void {
    this.count++;
    this.ms += e.duration;
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) {
      this.scavenges++;
      this.scavengeMs += e.duration;
    }
  }

  stop(): void {
    for (const e of this.obs.takeRecords()) this.add(e);
    this.obs.disconnect();
  }
}

export function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

/**
 * Commit latencies in µs, kept in typed arrays while the clock runs and put
 * into the histogram after it stops: recording into an HDR histogram costs a
 * Math.pow and a log2 per value, about 7% of the durable maximum's main thread
 * (perf), which is the measuring instrument's cost, not the log's.
 */
class Latencies {
  private chunks: Float64Array[] = [];
  private cur = new Float64Array(1 << 16);
  private n = 0;

  add(us: number): void {
    if (this.n === this.cur.length) {
      this.chunks.push(this.cur);
      this.cur = new Float64Array(1 << 16);
      this.n = 0;
    }
    this.cur[this.n++] = us;
  }

  into(h: hdr.Histogram): void {
    const all = [...this.chunks, this.cur.subarray(0, this.n)];
    for (const c of all) for (let i = 0; i < c.length; i++) h.recordValue(Math.max(1, Math.round(c[i])));
  }
}

/**
 * The clock read once per turn of the event loop: the acks of one block are
 * answered in one synchronous loop when its write completes, so they share
 * the moment it became durable (a clock read per ack cost ~3% of the main
 * thread at the maximum rate, and only stamped the loop's own progress).
 */
class TurnClock {
  private t = NaN;
  private readonly reset = (): void => { this.t = NaN; };

  now(): number {
    if (this.t !== this.t) {
      this.t = performance.now();
      queueMicrotask(this.reset);
    }
    return this.t;
  }
}

/** Commands are generated before the clock starts (a pool, cycled: clOrdIds are long dead when they recur). */
export const POOL_SIZE = 20_000;
function pool(): Command[] {
  const flow = new BenchFlow();
  return Array.from({ length: POOL_SIZE }, () => flow.next());
}
export const POOL = pool();

/** Offers `rate` commands/s (Infinity: as fast as the queue takes them) for `seconds`. */
export async function run(name: string, t: Target, rate: number, seconds: number): Promise<Result> {
  const h = histogram();
  const lat = new Latencies();
  const clock = new TurnClock();
  const writes = histogram();
  t.observeWrites((ms) => writes.recordValue(Math.max(1, Math.round(ms * 1000))));
  const gc = new GcMeter();
  const before = t.stats();
  const window = 4096; // outstanding commands at the maximum rate (a closed-loop client)
  let sent = 0;
  let done = 0;
  let failed = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  gc.start();
  await new Promise<void>((resolve) => {
    let finished = false;
    const settle = (): void => {
      if (finished && done + failed === sent) resolve();
    };
    let kicked = false;
    const kicker = (): void => {
      kicked = false;
      const now = performance.now();
      if (now >= end) {
        finished = true;
        settle();
        return;
      }
      while (sent - done - failed < window) {
        if (!one(now)) {
          kick(); // refused at once (busy): try again next turn
          break;
        }
      }
    };
    const kick = (): void => {
      if (kicked) return;
      kicked = true;
      setImmediate(kicker);
    };
    /** Submits one command due at `due`; false if it was refused at once. */
    let one: (due: number) => boolean;
    const submitTicket = t.submitTicket?.bind(t);
    if (submitTicket !== undefined && t.setTickets !== undefined) {
      // tickets index a ring of due times; far more slots than commands ever outstanding
      const dues = new Float64Array(1 << 20);
      const mask = dues.length - 1;
      const ok = (ticket: number): void => {
        done++;
        lat.add((clock.now() - dues[ticket & mask]) * 1000);
        if (rate === Infinity && !finished) kick();
        settle();
      };
      t.setTickets({
        acked: (ticket: number) => ok(ticket),
        failed: () => { failed++; settle(); },
      });
      one = (due: number): boolean => {
        const ticket = sent++;
        dues[ticket & mask] = due;
        if (submitTicket(POOL[ticket % POOL_SIZE], 'bench', ticket) === null) return true;
        failed++;
        return false;
      };
    } else {
      one = (due: number): boolean => {
        t.submit(POOL[sent++ % POOL_SIZE], 'bench').then(() => {
          done++;
          lat.add((clock.now() - due) * 1000);
          if (rate === Infinity && !finished) kick();
          settle();
        }, () => { failed++; settle(); });
        return true;
      };
    }
    if (rate === Infinity) {
      kick();
      return;
    }
    const tick = (): void => {
      const now = performance.now();
      const until = Math.min(now, end);
      const dueCount = Math.floor(((until - start) / 1000) * rate);
      while (sent < dueCount) one(now);
      if (now >= end) {
        finished = true;
        settle();
      } else {
        setTimeout(tick, 1); // polling with setImmediate would take a core from fdatasync on a 2-core box
      }
    };
    tick();
  });
  gc.stop();
  t.observeWrites(null);
  const seconds2 = (performance.now() - start) / 1000;
  lat.into(h);
  const after = t.stats();
  if (failed > 0) process.stdout.write(`  (${failed} refused as busy)\n`);
  return {
    name, commands: after.commands - before.commands, seconds: seconds2, blocks: after.blocks - before.blocks, bytes: after.bytes - before.bytes, h, writes,
    gcCount: gc.count, gcMs: gc.ms, scavenges: gc.scavenges, scavengeMs: gc.scavengeMs,
  };
}

export function report(r: Result): void {
  const us = (p: number): string => (r.h.getValueAtPercentile(p) / 1000).toFixed(2);
  process.stdout.write(`${r.name.padEnd(40)} ${Math.round(r.commands / r.seconds).toLocaleString('en-US').padStart(10)} cmd/s `
    + `${(r.bytes / r.seconds / 1e6).toFixed(1).padStart(6)} MB/s  ${Math.round(r.commands / Math.max(1, r.blocks)).toString().padStart(6)} cmd/block  `
    + `commit ms p50 ${us(50)}  p99 ${us(99)}  p99.9 ${us(99.9)}  max ${(r.h.maxValue / 1000).toFixed(2)}  `
    + `GC ${(r.gcMs / (r.seconds * 10)).toFixed(2)}% of wall (${r.gcCount} pauses, ${r.gcMs.toFixed(1)} ms; ${r.scavenges} scavenges ${r.scavengeMs.toFixed(1)} ms, `
    + `${(r.scavenges / Math.max(1, r.commands / 100_000)).toFixed(1)} per 100k cmd)\n`);
  const w = (p: number): string => (r.writes.getValueAtPercentile(p) / 1000).toFixed(2);
  process.stdout.write(`${''.padEnd(40)} the disk: ${r.writes.totalCount} durable writes, ms p50 ${w(50)}  p99 ${w(99)}  p99.9 ${w(99.9)}  max ${(r.writes.maxValue / 1000).toFixed(2)}\n`);
}

