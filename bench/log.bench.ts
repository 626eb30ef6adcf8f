// Durable append throughput and commit latency of the log with group commit.
//   npx tsc -p tsconfig.json && npm run bench:log   (node dist/bench/log.bench.js)
//
// Each command goes the whole way: shape check, sequencer stamp, engine apply,
// Avro encoding into the block, write + fdatasync of the block, then the
// submitter's promise resolves. Commit latency is measured from submit() to
// that resolution. The offered load arrives in 1 ms bursts (a timer tick), as
// a gateway's socket reads would deliver it.
// "log only" replaces the engine with a stub to show what the log itself costs.

import * as hdr from 'hdr-histogram-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command, Engine } from '../engine/index.js';
import { ladderInfo } from '../native/index.js';
import { Exchange } from '../log/index.js';
import { Sequencer, type Ack } from '../log/sequencer.js';
import { LogStateMachine } from '../log/state-machine.js';
import { LogWriter } from '../log/writer.js';

const INSTRUMENT = { symbol: 'AAPL', tickSize: '0.01', lotSize: '1', priceBand: '0.2', referencePrice: '100.00' };

/** Order flow that keeps a bounded book: new limit orders near the mid, the oldest cancelled, some crossing. */
class BenchFlow {
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

interface Target {
  submit(cmd: Command, origin: string): Promise<Ack>;
  stats(): { commands: number; blocks: number; bytes: number };
  close(): Promise<void>;
}

interface Result {
  name: string;
  commands: number;
  seconds: number;
  blocks: number;
  bytes: number;
  h: hdr.Histogram;
}

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

async function openExchange(dir: string): Promise<Target> {
  const ex = await Exchange.open({ dataDir: dir, config: { instruments: [INSTRUMENT], snapshotEvery: 0 }, log: () => undefined });
  return {
    submit: (c, o) => ex.submit(c, o),
    stats: () => ex.stats,
    close: () => ex.close({ snapshot: false }),
  };
}

/** The sequencer and writer with a stub engine: the cost of the log alone. */
function openLogOnly(dir: string): Target {
  const stub = { apply: () => [], stateHash: () => '0', snapshot: () => ({ version: 1, instruments: [], orders: [] }) } as unknown as Engine;
  const writer = new LogWriter(dir, { segmentBytes: 64 << 20, indexEvery: 1 << 20 }, null);
  const seq = new Sequencer(new LogStateMachine(stub), writer, { lastSeq: 0, lastTs: 0, epoch: 1 }, {
    queueCapacity: 100_000, maxBlockRecords: 16_384, maxBlockBytes: 2 << 20, checkpointEvery: 10_000, snapshotEvery: 0, node: 'bench',
  });
  return {
    submit: (c, o) => seq.submit(c, o),
    stats: () => ({ commands: seq.commands, blocks: seq.blocks, bytes: writer.bytesWritten }),
    close: async () => { await seq.close(); writer.close(); },
  };
}

/** Commands are generated before the clock starts (a pool, cycled: clOrdIds are long dead when they recur). */
const POOL_SIZE = 20_000;
function pool(): Command[] {
  const flow = new BenchFlow();
  return Array.from({ length: POOL_SIZE }, () => flow.next());
}
const POOL = pool();

/** Offers `rate` commands/s (Infinity: as fast as the queue takes them) for `seconds`. */
async function run(name: string, t: Target, rate: number, seconds: number): Promise<Result> {
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

function report(r: Result): void {
  const us = (p: number): string => (r.h.getValueAtPercentile(p) / 1000).toFixed(2);
  process.stdout.write(`${r.name.padEnd(40)} ${Math.round(r.commands / r.seconds).toLocaleString('en-US').padStart(10)} cmd/s `
    + `${(r.bytes / r.seconds / 1e6).toFixed(1).padStart(6)} MB/s  ${Math.round(r.commands / Math.max(1, r.blocks)).toString().padStart(6)} cmd/block  `
    + `commit ms p50 ${us(50)}  p99 ${us(99)}  p99.9 ${us(99.9)}  max ${(r.h.maxValue / 1000).toFixed(2)}\n`);
}

async function main(): Promise<void> {
  process.stdout.write(`matchlog log bench: node ${process.version}, ladder ${ladderInfo().path}, data in ${tmpdir()}\n`);
  const scenarios: [string, 'engine' | 'log', number, number][] = [
    ['offered 10k/s (engine)', 'engine', 10_000, 4],
    ['offered 100k/s (engine)', 'engine', 100_000, 5],
    ['maximum (engine)', 'engine', Infinity, 6],
    ['offered 100k/s (log only, stub engine)', 'log', 100_000, 4],
    ['maximum (log only, stub engine)', 'log', Infinity, 5],
  ];
  const only = process.env.BENCH_ONLY; // a substring of scenario names, to run a subset
  for (const [name, kind, rate, secs] of scenarios) {
    if (only !== undefined && !name.includes(only)) continue;
    const dir = mkdtempSync(join(tmpdir(), 'matchlog-bench-'));
    try {
      const t = kind === 'engine' ? await openExchange(dir) : openLogOnly(dir);
      // warm-up: JIT, first segment
      await run('warm-up', t, 50_000, 0.5);
      report(await run(name, t, rate, secs));
      await t.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

await main();
