// History from a log folder, read-only: the engine's state as of any moment
// and the events of any stretch, re-derived by replaying commands through the
// same LogStateMachine the sequencer and recovery use. Nothing here writes:
// no lock, no index rebuild, no truncation, so it runs beside a live exchange,
// and only committed blocks count (a block still being written is not history).
//
// To reach a moment quickly, replay starts from the newest snapshot before it
// that belongs to this log and restores to its recorded hash; otherwise from
// the first record. Checkpoints met on the way are verified, so a replay that
// disagrees with the live run stops with a divergence instead of printing a
// different history.

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { createEngine, Instrument, restoreEngine, type Engine, type EngineEvent, type InstrumentSpec } from '../engine/index.js';
import type { LadderFactory } from '../native/ladder.js';
import { parseHeader, readLong } from '../log/container.js';
import { DamageError, DivergenceError } from '../log/errors.js';
import { listSegments, listSnapshots, type SegmentFile, type SnapshotFile } from '../log/files.js';
import { readBlocks } from '../log/reader.js';
import { blockKey, type CommandRecord, type LogRecord } from '../log/records.js';
import { decodeSegmentBlock, scanSegment } from '../log/scanner.js';
import { readSnapshot } from '../log/snapshot.js';
import { LogStateMachine } from '../log/state-machine.js';
import { listVouchers, vouchedBeyond, type Vouchers } from '../log/vouchers.js';
import type { Progress } from './progress.js';
import { formatTime, type Moment } from './time.js';

/** What the log holds, found cheaply (first and last blocks only). */
export interface LogBounds {
  dir: string;
  segments: SegmentFile[];
  /** Seq and ts of the first and last committed command; lastSeq 0 for an empty log. */
  firstSeq: number;
  lastSeq: number;
  firstTs: number;
  lastTs: number;
  /** The log's identity (header key matchlog.log), null for logs written before ids. */
  logId: string | null;
  /**
   * Acknowledged commands missing after lastSeq: something durable (a
   * snapshot, an index entry, an index without its segment) vouches for more
   * than the segments hold. null when the log is whole (a block still being
   * written at the end is not missing: nothing vouches for it yet).
   */
  cut: LogCut | null;
}

/** Where a log that lost acknowledged commands ends, and what says so. */
export interface LogCut {
  /** The last segment, and the byte offset where its committed data ends. */
  file: string;
  offset: number;
  /** The last command read. */
  lastSeq: number;
  /** `the log ends at seq E, but …: commands … that were acknowledged are missing (…)` (log/vouchers.ts) */
  reason: string;
}

/** Reads the first `bytes` of a file (headers, without reading a 64 MiB segment). */
function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(bytes, statSync(path).size));
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function commandsOf(records: readonly LogRecord[]): CommandRecord[] {
  return records.filter((r): r is CommandRecord => r.kind === 'command');
}

/** The log's extent; throws a clear error when `dir` holds no log. */
export function logBounds(dir: string): LogBounds {
  if (!existsSync(dir)) throw new Error(`${dir}: no such folder`);
  let segments: SegmentFile[];
  let vouchers: Vouchers;
  try {
    // before any segment is read: on a live folder, all they vouch for is then in what is read
    vouchers = listVouchers(dir);
    segments = listSegments(dir);
  } catch (e) {
    throw new Error(`${dir}: not a readable log folder (${(e as Error).message})`);
  }
  if (segments.length === 0) throw new Error(`${dir}: no log segments (*.avro) here`);
  const b: LogBounds = { dir, segments, firstSeq: 0, lastSeq: 0, firstTs: 0, lastTs: 0, logId: null, cut: null };
  const last = segments[segments.length - 1];
  let lastEnd = 0;
  for (let i = 0; i < segments.length && b.firstSeq === 0; i++) {
    const scan = scanSegment(segments[i], i === segments.length - 1);
    if (scan.header === null) continue;
    if (b.logId === null) b.logId = scan.header.meta.get('matchlog.log') ?? null;
    for (const f of scan.blocks) {
      const cmds = commandsOf(decodeSegmentBlock(scan, f));
      if (cmds.length > 0) {
        b.firstSeq = cmds[0].seq;
        b.firstTs = cmds[0].ts;
        break;
      }
    }
  }
  for (let i = segments.length - 1; i >= 0 && b.lastSeq === 0; i--) {
    const scan = scanSegment(segments[i], i === segments.length - 1);
    if (scan.problem !== null && !scan.problem.torn) throw new DamageError(segments[i].path, scan.problem.offset, scan.problem.reason);
    if (i === segments.length - 1) lastEnd = scan.validEnd;
    for (let k = scan.blocks.length - 1; k >= 0; k--) {
      const cmds = commandsOf(decodeSegmentBlock(scan, scan.blocks[k]));
      if (cmds.length > 0) {
        b.lastSeq = cmds[cmds.length - 1].seq;
        b.lastTs = cmds[cmds.length - 1].ts;
        break;
      }
    }
  }
  const short = vouchedBeyond(vouchers, { seq: b.lastSeq, logId: b.logId, segments: new Set(segments.map((x) => x.path)), last: { path: last.path, size: lastEnd } });
  if (short !== null) b.cut = { file: last.path, offset: lastEnd, lastSeq: b.lastSeq, reason: short.reason };
  return b;
}

/**
 * A history that reaches past where a cut-short log ends would be silently
 * incomplete (alerts that never fire, an order still live, a day's volume
 * short), so it is an error naming the file, the offset and the last seq
 * read. One that ends before the cut (`to`: a seq at most the last one read,
 * or a time before the last command's) is whole: it gets a note, since the
 * folder is still damaged. `to` undefined: the history runs to the end of
 * the log. `instead`: what the analyst can do (e.g. give --to).
 */
export function checkEnd(b: LogBounds, to: Moment | null | undefined, instead: string): string | null {
  const c = b.cut;
  if (c === null) return null;
  const whole = to !== null && to !== undefined && ('seq' in to ? to.seq <= c.lastSeq : to.ts < b.lastTs);
  if (!whole) throw new DamageError(c.file, c.offset, `${c.reason}; the history asked for would end early, after seq ${c.lastSeq} (the last command read), so it is not given: ${instead}`);
  return `${c.file} is cut short at byte offset ${c.offset}, after seq ${c.lastSeq} (${c.reason}); the history asked for ends before that and is whole`;
}

/** A moment as a clear error when it is outside the log; otherwise nothing. */
export function checkMoment(b: LogBounds, m: Moment, option: string): void {
  if ('seq' in m) {
    if (m.seq < 1 || m.seq > b.lastSeq) throw new Error(`${option} ${m.seq}: the log holds seqs 1..${b.lastSeq}`);
  } else if (m.ts < b.firstTs || m.ts > b.lastTs) {
    throw new Error(`${option} ${formatTime(m.ts)} is outside the log, which runs from ${formatTime(b.firstTs)} to ${formatTime(b.lastTs)}`);
  }
}

/**
 * --from after --to: an empty range must be an error, not an empty export or a
 * summary of nothing that reads as "nothing happened" (both moments already
 * passed checkMoment). A seq is compared with a time through its command's ts.
 */
export function checkRange(b: LogBounds, from: Moment | null | undefined, to: Moment | null | undefined): void {
  if (from === null || from === undefined || to === null || to === undefined) return;
  const tsOf = (m: Moment): number => ('ts' in m ? m.ts : timesOfSeqs(b, [m.seq]).get(m.seq) ?? NaN);
  const show = (m: Moment): string => ('seq' in m ? `seq ${m.seq}` : formatTime(m.ts));
  // two seqs compare as seqs; otherwise by time (--from TIME starts at the first command at or after it,
  // --to TIME ends at the last one at or before it, so equal times are a range of the commands stamped then)
  const empty = 'seq' in from && 'seq' in to ? from.seq > to.seq : tsOf(from) > tsOf(to);
  if (empty) throw new Error(`--from ${show(from)} is after --to ${show(to)}: the range is empty`);
}

/** Seq and ts of a snapshot, read from the start of its file (snapshots of deep books are large). */
export interface SnapshotHead { file: SnapshotFile; seq: number; ts: number; logId: string | null }

export function snapshotHead(file: SnapshotFile): SnapshotHead | null {
  for (const bytes of [1 << 16, 1 << 20]) {
    const buf = readHead(file.path, bytes);
    const h = parseHeader(buf);
    if (typeof h === 'string') continue;
    const count = readLong(buf, h.end);
    const size = count === null ? null : readLong(buf, count.next);
    if (size === null) continue;
    const seq = readLong(buf, size.next);
    const ts = seq === null ? null : readLong(buf, seq.next);
    if (seq === null || ts === null) continue;
    return { file, seq: seq.value, ts: ts.value, logId: h.meta.get('matchlog.log') ?? null };
  }
  return null;
}

export interface ReplayOptions {
  /** Commands reported to onCommand: seq in [fromSeq, toSeq], ts in [fromTs, toTs]. */
  fromSeq?: number;
  fromTs?: number;
  /** Replay stops after command toSeq, or after the last command with ts <= toTs. */
  toSeq?: number;
  toTs?: number;
  /** Start from the newest usable snapshot before the range (default true). */
  snapshots?: boolean;
  ladder?: LadderFactory;
  progress?: Progress;
  /** Notes for the operator (a snapshot skipped and why). */
  log?: (line: string) => void;
}

export interface ReplayResult {
  engine: Engine;
  /** Seq and ts of the last command applied (0 for none). */
  seq: number;
  ts: number;
  /** The snapshot replay started from, or null for the first record, and the state hash it restored to. */
  snapshot: string | null;
  snapshotHash: string | null;
  /** Commands applied (after the snapshot) and commands reported. */
  applied: number;
  reported: number;
}

/** Return false to stop the replay after this command. */
export type CommandSink = (rec: CommandRecord, events: EngineEvent[], engine: Engine) => boolean | void;

/** A state machine at the newest usable snapshot that lies before the range, or at the start. */
interface Start { m: LogStateMachine; snapshot: string | null; hash: string | null }

function startingPoint(dir: string, logId: string | null, o: ReplayOptions, reporting: boolean): Start {
  const fresh = (): Start => ({ m: new LogStateMachine(createEngine(o.ladder)), snapshot: null, hash: null });
  if (o.snapshots === false) return fresh();
  // a snapshot at seq S holds the state after S: usable if nothing at or before S is to be reported or passed
  // (a range given only by time is bounded by the snapshot's ts below)
  const fromSeq = o.fromSeq ?? (o.fromTs !== undefined ? Infinity : 1);
  const maxSeq = Math.min(reporting ? fromSeq - 1 : Infinity, o.toSeq ?? Infinity);
  const tsLimit = reporting ? (o.fromTs ?? -Infinity) : Infinity;
  const heads = listSnapshots(dir).filter((s) => s.seq <= maxSeq).sort((a, b) => b.seq - a.seq);
  for (const file of heads) {
    const head = snapshotHead(file);
    if (head === null) continue;
    // commands with the snapshot's own ts may follow it: those must still be reported
    if (reporting && o.fromTs !== undefined && !(head.ts < tsLimit)) continue;
    if (o.toTs !== undefined && head.ts > o.toTs) continue;
    if (logId !== null && head.logId !== null && head.logId !== logId) {
      o.log?.(`${file.name} belongs to another log (${head.logId}); not used`);
      continue;
    }
    try {
      const snap = readSnapshot(file.path);
      const engine = restoreEngine(snap.state, o.ladder);
      if (engine.stateHash() !== snap.hash) {
        o.log?.(`${file.name} does not restore to its recorded hash; not used`);
        continue;
      }
      return { m: new LogStateMachine(engine, { seq: snap.seq, ts: snap.ts, epoch: snap.epoch }, file.name), snapshot: file.name, hash: snap.hash };
    } catch (e) {
      o.log?.(`${file.name} cannot be read (${(e as Error).message}); not used`);
    }
  }
  return fresh();
}

/**
 * Replays the log in `dir` up to the end of the range (or of the log), calling
 * `onCommand` for every command in the range with the events it produced.
 * The events array is reused: copy what you keep.
 */
export function replayLog(dir: string, o: ReplayOptions = {}, onCommand?: CommandSink, bounds?: LogBounds): ReplayResult {
  const steps = replaySteps(dir, o, onCommand, bounds);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/** replayLog for a sink with backpressure: `pause()` is awaited between blocks when it returns a promise. */
export async function replayLogAsync(dir: string, o: ReplayOptions, onCommand: CommandSink, pause: () => Promise<void> | undefined,
  bounds?: LogBounds): Promise<ReplayResult> {
  const steps = replaySteps(dir, o, onCommand, bounds);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    const p = pause();
    if (p !== undefined) await p;
  }
}

/** The replay, one block per step. */
function* replaySteps(dir: string, o: ReplayOptions, onCommand: CommandSink | undefined, bounds: LogBounds | undefined): Generator<void, ReplayResult> {
  const b = bounds ?? logBounds(dir);
  const { m, snapshot, hash } = startingPoint(dir, b.logId, o, onCommand !== undefined);
  const engine = m.engine;
  const fromSeq = o.fromSeq ?? 1;
  const fromTs = o.fromTs ?? -Infinity;
  const toSeq = o.toSeq ?? Infinity;
  const toTs = o.toTs ?? Infinity;
  const events: EngineEvent[] = [];
  const startSeq = m.seq;
  let applied = 0;
  let reported = 0;
  let blocks = 0;
  scan: for (const blk of readBlocks(dir, { fromSeq: m.seq + 1, toSeq: o.toSeq })) {
    try {
      for (const r of blk.records) {
        if (r.kind !== 'command') {
          m.record(r, events);
          continue;
        }
        if (r.seq <= m.seq) continue;
        if (r.seq > toSeq || r.ts > toTs) break scan;
        events.length = 0;
        m.command(r.seq, r.ts, r.cmd, events);
        applied++;
        if (onCommand !== undefined && r.seq >= fromSeq && r.ts >= fromTs) {
          reported++;
          if (onCommand(r, events, engine) === false) break scan;
        }
      }
    } catch (e) {
      if (e instanceof DivergenceError) throw new DamageError(blk.file, blk.offset, e.message);
      throw e;
    }
    if (o.progress !== undefined && (++blocks & 15) === 0) o.progress.update(m.seq - startSeq);
    yield;
  }
  o.progress?.update(m.seq - startSeq);
  return { engine, seq: m.seq, ts: m.ts, snapshot, snapshotHash: hash, applied, reported };
}

/**
 * The sequencer timestamps of the given command seqs (an order's entry time
 * when replay started from a snapshot that only knows its seq): one scan of
 * each segment involved, one block decoded per seq.
 */
export function timesOfSeqs(b: LogBounds, seqs: Iterable<number>): Map<number, number> {
  const want = [...new Set(seqs)].sort((x, y) => x - y);
  const out = new Map<number, number>();
  let i = 0;
  for (let s = 0; s < b.segments.length && i < want.length; s++) {
    const seg = b.segments[s];
    const next = b.segments[s + 1]?.firstSeq ?? Infinity;
    if (want[i] >= next) continue;
    const scan = scanSegment(seg, s === b.segments.length - 1);
    const keys = scan.blocks.map((f) => blockKey(scan.buf, f).seq);
    for (; i < want.length && want[i] < next; i++) {
      const seq = want[i];
      // last block whose first record's seq <= seq; a block may open with a record carrying the seq before its first command
      let lo = 0;
      let hi = keys.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (keys[mid] <= seq) lo = mid;
        else hi = mid - 1;
      }
      for (let k = lo; k >= Math.max(0, lo - 1) && !out.has(seq); k--) {
        for (const r of decodeSegmentBlock(scan, scan.blocks[k])) if (r.kind === 'command' && r.seq === seq) out.set(seq, r.ts);
      }
    }
  }
  return out;
}

/**
 * Every instrument the log defines (an export fixes its decimal scales before
 * the first row): those of the newest snapshot of this log, plus the
 * instrument commands after it (decoded, not replayed).
 */
export function instrumentsOf(b: LogBounds): InstrumentSpec[] {
  const specs = new Map<string, InstrumentSpec>();
  let after = 0;
  for (const file of listSnapshots(b.dir).sort((x, y) => y.seq - x.seq)) {
    const head = snapshotHead(file);
    if (head === null || (b.logId !== null && head.logId !== null && head.logId !== b.logId)) continue;
    try {
      for (const i of readSnapshot(file.path).state.instruments) specs.set(i.symbol, i);
      after = head.seq;
      break;
    } catch {
      // an unreadable snapshot: try an older one
    }
  }
  for (const blk of readBlocks(b.dir, { fromSeq: after + 1 })) {
    for (const r of blk.records) {
      if (r.kind !== 'command' || r.cmd.op !== 'instrument' || specs.has(r.cmd.symbol)) continue;
      const { op: _op, ...spec } = r.cmd;
      if (typeof Instrument.create(spec) !== 'string') specs.set(spec.symbol, spec);
    }
  }
  return [...specs.values()];
}
