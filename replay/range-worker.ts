// A worker thread of a parallel export (replay/parallel.ts): replays one
// stretch of the log between two snapshots and writes its events as text
// (JSONL or CSV rows, the same sinks a single-threaded export uses), posting
// the text to the main thread in chunks, which writes the stretches in order.

import { parentPort } from 'node:worker_threads';
import { Writable } from 'node:stream';
import { CsvSink } from './export/csv.js';
import { JsonlSink } from './export/jsonl.js';
import type { EventSink } from './export/index.js';
import { exportCommand } from './events.js';
import { replayLog, type LogBounds, type ReplayOptions } from './history.js';
import { SummaryBuilder, type SummaryParts } from './summary.js';

export interface RangeJob {
  id: number;
  dir: string;
  /** The main thread's survey of the log (each worker would otherwise scan its ends again). */
  bounds: LogBounds;
  range: ReplayOptions;
  /** events: text in `format`; summary: the stretch's figures. */
  task: 'events' | 'summary';
  format: 'jsonl' | 'csv';
  symbols: string[] | null;
  accounts: string[] | null;
  types: string[] | null;
}

export type RangeMessage =
  | { id: number; kind: 'chunk'; text: string }
  | { id: number; kind: 'progress'; commands: number }
  | {
    id: number; kind: 'done'; events: number; applied: number; seen: string[];
    snapshot: string | null; snapshotHash: string | null; startSeq: number; endSeq: number; endHash: string;
    summary: SummaryParts | null;
  }
  | { id: number; kind: 'error'; message: string };

const port = parentPort;
if (port === null) throw new Error('range-worker runs as a worker thread');

function run(job: RangeJob): void {
  const post = (m: RangeMessage) => port?.postMessage(m);
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, done) {
      post({ id: job.id, kind: 'chunk', text: typeof chunk === 'string' ? chunk : chunk.toString('utf8') });
      done();
    },
  });
  const sink: EventSink = job.format === 'csv' ? new CsvSink(stream, false) : new JsonlSink(stream);
  const symbols = job.symbols === null ? null : new Set(job.symbols);
  const accounts = job.accounts === null ? null : new Set(job.accounts);
  const types = job.types === null ? null : new Set(job.types);
  const seen = new Set<string>();
  const summary = job.task === 'summary' ? new SummaryBuilder() : null;
  let events = 0;
  let commands = 0;
  const r = replayLog(job.dir, job.range, (rec, evs, engine) => {
    if ((++commands & 0x3fff) === 0) post({ id: job.id, kind: 'progress', commands: 0x4000 });
    if (summary !== null) {
      summary.onCommand(rec, evs);
      return;
    }
    events += exportCommand(rec, evs, engine, sink, symbols, accounts, types, seen);
  }, job.bounds);
  post({ id: job.id, kind: 'progress', commands: commands & 0x3fff });
  void sink.end().then(() => post({
    id: job.id, kind: 'done', events, applied: r.applied, seen: [...seen], snapshot: r.snapshot, snapshotHash: r.snapshotHash,
    startSeq: r.seq - r.applied, endSeq: r.seq, endHash: r.engine.stateHash(), summary: summary?.parts() ?? null,
  }));
}

port.on('message', (job: RangeJob) => {
  try {
    run(job);
  } catch (e) {
    port.postMessage({ id: job.id, kind: 'error', message: (e as Error).message } satisfies RangeMessage);
  }
});
