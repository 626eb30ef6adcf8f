// Durable append throughput and commit latency of the log with group commit.
//   npx tsc -p tsconfig.json && npm run bench:log   (node dist/bench/log.bench.js)
//
// Each command goes the whole way: shape check, sequencer stamp, engine apply,
// Avro encoding into the block, durable write of the block, then the
// submitter is answered. Commands go in through submitTicket (one TicketSink,
// a numeric ticket per command, no event objects asked for: the path that
// allocates nothing per command); "(promise)" scenarios go through submit(),
// a promise and an Ack with events per command. Commit latency is measured
// from submission to the answer. The offered load arrives in 1 ms bursts (a
// timer tick), as a gateway's socket reads would deliver it.
// "log only" replaces the engine with a stub to show what the log itself costs.
// Each line ends with the GC share of the run's wall time (PerformanceObserver);
// under it, the disk's own time: every durable write of the run, timed from
// its start to its completion (LogWriter.writeObserver). A command that comes
// in while a write is out waits for that write and then its own, so the commit
// tail cannot be shorter than the disk's.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../engine/index.js';
import { ladderInfo } from '../native/index.js';
import { Exchange } from '../log/index.js';
import { Sequencer } from '../log/sequencer.js';
import { LogStateMachine } from '../log/state-machine.js';
import { LogWriter } from '../log/writer.js';
import { INSTRUMENT, report, run, type Target } from './offered-load.js';

async function openExchange(dir: string): Promise<Target> {
  const ex = await Exchange.open({ dataDir: dir, config: { instruments: [INSTRUMENT], snapshotEvery: 0 }, log: () => undefined });
  return {
    submit: (c, o) => ex.submit(c, o),
    submitTicket: (c, o, ticket) => ex.submitTicket(c, o, ticket),
    setTickets: (sink) => { ex.tickets = sink; },
    observeWrites: (fn) => ex.observeWrites(fn === null ? null : (ms) => fn(ms)),
    stats: () => ex.stats,
    close: () => ex.close({ snapshot: false }),
  };
}

/** The sequencer and writer with a stub engine: the cost of the log alone. */
function openLogOnly(dir: string): Target {
  const stub = { apply: () => 0, slotsInUse: () => 0, stateHash: () => '0', snapshot: () => ({ version: 1, instruments: [], orders: [] }) } as unknown as Engine;
  const writer = new LogWriter(dir, { segmentBytes: 64 << 20, indexEvery: 1 << 20 }, null);
  const seq = new Sequencer(new LogStateMachine(stub), writer, { lastSeq: 0, lastTs: 0, epoch: 1 }, {
    queueCapacity: 100_000, maxBlockRecords: 16_384, maxBlockBytes: 2 << 20, checkpointEvery: 10_000, snapshotEvery: 0, node: 'bench',
  });
  return {
    submit: (c, o) => seq.submit(c, o),
    submitTicket: (c, o, ticket) => seq.submitTicket(c, o, ticket),
    setTickets: (sink) => { seq.tickets = sink; },
    observeWrites: (fn) => { writer.writeObserver = fn === null ? null : (ms) => fn(ms); },
    stats: () => ({ commands: seq.commands, blocks: seq.blocks, bytes: writer.bytesWritten }),
    close: async () => { await seq.close(); writer.close(); },
  };
}

async function main(): Promise<void> {
  process.stdout.write(`matchlog log bench: node ${process.version}, ladder ${ladderInfo().path}, data in ${tmpdir()}\n`);
  const scenarios: [string, 'engine' | 'log' | 'promise', number, number][] = [
    ['offered 10k/s (engine)', 'engine', 10_000, 4],
    ['offered 100k/s (engine)', 'engine', 100_000, 5],
    ['maximum (engine)', 'engine', Infinity, 6],
    ['offered 100k/s (engine, promise)', 'promise', 100_000, 4],
    ['offered 100k/s (log only, stub engine)', 'log', 100_000, 4],
    ['maximum (log only, stub engine)', 'log', Infinity, 5],
  ];
  const only = process.env.BENCH_ONLY; // a substring of scenario names, to run a subset
  for (const [name, kind, rate, secs] of scenarios) {
    if (only !== undefined && !name.includes(only)) continue;
    const dir = mkdtempSync(join(tmpdir(), 'matchlog-bench-'));
    try {
      const t = kind === 'log' ? openLogOnly(dir) : await openExchange(dir);
      if (kind === 'promise') {
        delete t.submitTicket;
        delete t.setTickets;
      }
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
