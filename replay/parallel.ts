// Parallel export: the log is cut at its snapshots into stretches that are
// replayed at once on worker threads, each from the snapshot at its start,
// and their text is written in log order. Exact, because a snapshot is the
// whole engine state: books of different symbols are not independent in this
// engine (a client order id is unique per account across symbols, a cancel
// may name no symbol, a mass cancel spans all), so cutting by symbol would
// change the answers, while cutting by time does not. The chain is checked:
// the state a stretch ends in must have the hash of the snapshot the next one
// starts from, and every checkpoint inside a stretch is verified as usual.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Writable } from 'node:stream';
import { listSnapshots } from '../log/files.js';
import { snapshotHead, type LogBounds, type ReplayOptions } from './history.js';
import type { Progress } from './progress.js';
import type { RangeJob, RangeMessage } from './range-worker.js';
import type { SummaryParts } from './summary.js';

/** Threads for a parallel export: the cores less one for the writer, at least 2. */
export function exportThreads(): number {
  const env = Number(process.env.MATCHLOG_REPLAY_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(2, Math.min(8, availableParallelism() - 1));
}

/**
 * The range cut at snapshots into stretches of at least `min` commands (the
 * first starts wherever a single-threaded replay would). Only snapshots of
 * this log inside the range count.
 */
export function stretches(b: LogBounds, r: ReplayOptions, min: number): ReplayOptions[] {
  const lo = r.fromSeq ?? 1;
  const hi = Math.min(r.toSeq ?? b.lastSeq, b.lastSeq);
  const cuts: number[] = [];
  let last = lo - 1;
  for (const file of listSnapshots(b.dir).sort((x, y) => x.seq - y.seq)) {
    if (file.seq < lo || file.seq >= hi || file.seq - last < min || hi - file.seq < min / 2) continue;
    const head = snapshotHead(file);
    if (head === null || (b.logId !== null && head.logId !== null && head.logId !== b.logId)) continue;
    // a stretch wholly before --from TIME or after --to TIME would report nothing
    if (r.fromTs !== undefined && head.ts < r.fromTs) continue;
    if (r.toTs !== undefined && head.ts > r.toTs) break;
    cuts.push(file.seq);
    last = file.seq;
  }
  // after a cut every command is stamped at or after the snapshot's time, which is at or after
  // --from TIME: the later stretches need no time bound below (with one, their own snapshot would not do)
  const out: ReplayOptions[] = [];
  let from: number | undefined = r.fromSeq;
  for (const cut of cuts) {
    out.push({ ...r, fromSeq: from, toSeq: cut, ...(out.length > 0 ? { fromTs: undefined } : {}) });
    from = cut + 1;
  }
  out.push({ ...r, fromSeq: from, toSeq: r.toSeq, ...(out.length > 0 ? { fromTs: undefined } : {}) });
  return out;
}

/** The stretches to replay `r` on `threads` threads: two per thread (a stretch's start costs more than finer balance buys), or `r` whole. */
export function planStretches(b: LogBounds, r: ReplayOptions, threads: number): ReplayOptions[] {
  // --from-start: one replay from the first record
  if (threads <= 1 || r.snapshots === false) return [r];
  const total = Math.min(r.toSeq ?? b.lastSeq, b.lastSeq) - (r.fromSeq ?? 1) + 1;
  return stretches(b, { ...r, log: undefined, progress: undefined }, Math.max(1_000, Math.floor(total / (threads * 2))));
}

export interface ParallelResult {
  events: number;
  applied: number;
  seen: Set<string>;
  lastSeq: number;
  /** summary tasks: each stretch's figures, in log order. */
  summaries: SummaryParts[];
}

export type ParallelTask = Pick<RangeJob, 'task' | 'format' | 'symbols' | 'accounts' | 'types'>;

/**
 * Replays `parts` on up to `threads` worker threads at once; an events task's
 * text is written to `out` in log order. Rejects on the first error of any part.
 */
export function runParallel(b: LogBounds, parts: ReplayOptions[], task: ParallelTask, out: Writable | null, threads: number,
  progress?: Progress): Promise<ParallelResult> {
  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    const chunks: string[][] = parts.map(() => []);
    const done: (Extract<RangeMessage, { kind: 'done' }> | null)[] = parts.map(() => null);
    const result: ParallelResult = { events: 0, applied: 0, seen: new Set(), lastSeq: 0, summaries: [] };
    let assigned = 0;
    let next = 0; // the part being written
    let commands = 0;
    let failed = false;
    let settled = false;
    let waiting = false; // for the output to drain
    const stop = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      if (err !== null) failed = true;
      for (const w of workers) void w.terminate();
      if (err !== null) reject(err);
      else resolve(result);
    };
    const assign = (w: Worker): void => {
      // at most one part waiting per thread beyond the one being written: output in memory stays bounded
      if (assigned >= parts.length || assigned - next > threads) return;
      const job: RangeJob = { id: assigned, dir: b.dir, bounds: b, range: parts[assigned], ...task };
      assigned++;
      w.postMessage(job);
    };
    const idle: Worker[] = [];
    const refill = (): void => {
      while (idle.length > 0 && assigned < parts.length && assigned - next <= threads) assign(idle.pop() as Worker);
    };
    /** Part k ends where part k + 1's snapshot starts: the same state, or the snapshot is not of this log's history. */
    const chain = (k: number): void => {
      const a = done[k];
      const b = done[k + 1];
      if (a === null || b === null || b === undefined || b.snapshot === null || b.startSeq !== a.endSeq) return;
      if (b.snapshotHash !== a.endHash) {
        stop(new Error(`snapshot ${b.snapshot} holds a state (hash ${b.snapshotHash}) other than the log's after seq ${a.endSeq} (hash ${a.endHash})`));
      }
    };
    const pump = (): void => {
      if (failed || waiting) return;
      while (next < parts.length) {
        const list = chunks[next];
        while (list.length > 0) {
          if (out !== null && !out.write(list.shift() as string)) {
            waiting = true;
            out.once('drain', () => { waiting = false; pump(); });
            return;
          }
        }
        if (done[next] === null) return;
        next++;
        refill();
      }
      result.summaries = done.flatMap((d) => (d?.summary ? [d.summary] : []));
      stop(null);
    };
    const onMessage = (w: Worker, m: RangeMessage): void => {
      if (failed) return;
      switch (m.kind) {
        case 'chunk':
          chunks[m.id].push(m.text);
          if (m.id === next) pump();
          return;
        case 'progress':
          commands += m.commands;
          progress?.update(commands);
          return;
        case 'error':
          stop(new Error(m.message));
          return;
        case 'done':
          done[m.id] = m;
          result.events += m.events;
          result.applied += m.applied;
          result.lastSeq = Math.max(result.lastSeq, m.endSeq);
          for (const a of m.seen) result.seen.add(a);
          if (m.id > 0) chain(m.id - 1);
          chain(m.id);
          idle.push(w);
          refill();
          pump();
      }
    };
    const n = Math.min(threads, parts.length);
    for (let i = 0; i < n; i++) {
      // a larger young generation than a worker gets by default: replay allocates many short-lived events, and GC took a third of a stretch
      const w = new Worker(new URL('./range-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 64 } });
      workers.push(w);
      w.on('message', (m: RangeMessage) => onMessage(w, m));
      w.on('error', (e) => stop(e));
      assign(w);
    }
  });
}
