// An offered load for the log benchmarks (bench:log, bench:replication):
// commands from a bounded order flow, offered at a fixed rate in 1 ms bursts
// (as a gateway's socket reads deliver them) or as fast as a closed loop of
// 4,096 outstanding commands allows; commit latency from submit() to the
// promise resolving, in an HDR histogram.

import * as hdr from 'hdr-histogram-js';
import { performance } from 'node:perf_hooks';
import type { Command } from '../engine/index.js';
import type { Ack } from '../log/sequencer.js';

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
}

export function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
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
  const before = t.stats();
  const window = 4096; // outstanding commands at the maximum rate (a closed-loop client)
  let sent = 0;
  let done = 0;
  let failed = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await new Promise<void>((resolve) => {
    let finished = false;
    const settle = (): void => {
      if (finished && done + failed === sent) resolve();
    };
    const one = (due: number): void => {
      t.submit(POOL[sent++ % POOL_SIZE], 'bench').then(() => {
        done++;
        h.recordValue(Math.max(1, Math.round((performance.now() - due) * 1000)));
        if (rate === Infinity && !finished) kick();
        settle();
      }, () => { failed++; settle(); });
    };
    let kicked = false;
    const kick = (): void => {
      if (kicked) return;
      kicked = true;
      setImmediate(() => {
        kicked = false;
        const now = performance.now();
        if (now >= end) {
          finished = true;
          settle();
          return;
        }
        while (sent - done - failed < window) one(now);
      });
    };
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
  const seconds2 = (performance.now() - start) / 1000;
  const after = t.stats();
  if (failed > 0) process.stdout.write(`  (${failed} refused as busy)\n`);
  return { name, commands: after.commands - before.commands, seconds: seconds2, blocks: after.blocks - before.blocks, bytes: after.bytes - before.bytes, h };
}

export function report(r: Result): void {
  const us = (p: number): string => (r.h.getValueAtPercentile(p) / 1000).toFixed(2);
  process.stdout.write(`${r.name.padEnd(40)} ${Math.round(r.commands / r.seconds).toLocaleString('en-US').padStart(10)} cmd/s `
    + `${(r.bytes / r.seconds / 1e6).toFixed(1).padStart(6)} MB/s  ${Math.round(r.commands / Math.max(1, r.blocks)).toString().padStart(6)} cmd/block  `
    + `commit ms p50 ${us(50)}  p99 ${us(99)}  p99.9 ${us(99.9)}  max ${(r.h.maxValue / 1000).toFixed(2)}\n`);
}

