// Event export throughput of `matchlog replay --events`, per format, to a file.
//   npx tsc -p tsconfig.json && npm run bench:export   (node dist/bench/export.bench.js [events])
//
// The events are real: the engine benchmark's mixed workload (one symbol, a
// ~1,000-order book near the touch, new / cancel / replace / IOC flow) applied
// with createEngine() and formatted with formatEvent, stamped with increasing
// sequencer times, all built before the clock starts. What is timed is the
// sink alone: write() with the drained() backpressure loop the replay uses,
// then end() (everything on disk). The replay itself is timed elsewhere.
// The export context declares a second instrument on a 0.01 tick and a 0.001
// lot, so the decimal columns are scaled (price 2, qty 3, notional 5 places)
// as on a real venue, not the trivial scale 0.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { INSTRUMENT, mixedWorkload } from './workload.js';
import { createEngine, formatEvent, type EngineEvent, type ExternalEvent, type InstrumentSpec } from '../engine/index.js';
import { openEventSink, type ExportFormat } from '../replay/export/index.js';

const target = Number(process.argv[2] ?? 1_000_000);

function buildEvents(): { ts: number[]; events: ExternalEvent[] } {
  const engine = createEngine();
  const ts: number[] = [];
  const events: ExternalEvent[] = [];
  const out: EngineEvent[] = [];
  let now = 1_763_650_800_000_000;
  engine.apply(INSTRUMENT, 1, out);
  let seq = 1;
  // about 2.5 events a command in this flow; generate until there are enough
  while (events.length < target) {
    const { commands } = mixedWorkload(Math.ceil((target - events.length) / 2), seq);
    for (const cmd of commands.slice(1)) {
      seq++;
      now += 37;
      out.length = 0;
      engine.apply(cmd, seq, out);
      for (const e of out) {
        ts.push(now);
        events.push(formatEvent(e, engine));
      }
    }
  }
  ts.length = events.length = target;
  return { ts, events };
}

/** Wall seconds and CPU seconds (user + system) of one export: the machine is shared, CPU time is the steadier figure. */
async function time(format: ExportFormat, file: string, ts: number[], events: ExternalEvent[], instruments: InstrumentSpec[]): Promise<{ wall: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const sink = openEventSink(format, file, { instruments });
  for (let i = 0; i < events.length; i++) {
    sink.write(ts[i], events[i]);
    const wait = sink.drained();
    if (wait) await wait;
  }
  await sink.end();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

const { op: _op, ...bench } = INSTRUMENT as InstrumentSpec & { op: string };
const instruments: InstrumentSpec[] = [bench, { symbol: 'FINE', tickSize: '0.01', lotSize: '0.001' }];
const built = performance.now();
const { ts, events } = buildEvents();
const counts = new Map<string, number>();
for (const e of events) counts.set(String(e.type), (counts.get(String(e.type)) ?? 0) + 1);
console.log(`${events.length} events built in ${((performance.now() - built) / 1000).toFixed(1)} s: ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
const dir = mkdtempSync(join(tmpdir(), 'matchlog-export-bench-'));
try {
  for (const format of (process.argv[3]?.split(',') ?? ['csv', 'parquet', 'jsonl', 'avro']) as ExportFormat[]) {
    const file = join(dir, `events.${format}`);
    const { wall, cpu } = await time(format, file, ts, events, instruments);
    const mb = statSync(file).size / 1e6;
    const rate = (s: number): string => `${(events.length / s / 1e6).toFixed(2)} M events/s`;
    console.log(`${format.padEnd(8)} ${rate(wall)} wall (${wall.toFixed(2)} s), ${rate(cpu)} of CPU (${cpu.toFixed(2)} s), ${mb.toFixed(0)} MB`);
    rmSync(file);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
