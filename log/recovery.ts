// Start-up recovery: check the whole log, load the newest valid snapshot, then
// replay the tail after it through the log state machine; seq continues where
// the log stopped. Recovery refuses rather than guesses: it never drops a
// command that something durable says was once in the log.
//
// 1. Survey (every segment): frames, sync markers and CRCs of every block; the
//    first and last command seq of each segment (its first and last blocks
//    decoded). The segments must form one gap-free seq range from seq 1.
// 2. The end: a physically incomplete last block of the last segment (or a
//    half-written header of a new last segment) is a torn write — but only if
//    no durable record vouches for more: a snapshot beyond the end, an index
//    entry at or past the cut, the index of a segment that is gone. Those mean
//    acknowledged commands are missing: refuse, naming files and seqs.
// 3. Snapshot: the newest one that reads and restores to its recorded hash.
// 4. Replay: every block from the snapshot's segment on is decoded, its seqs
//    checked before it is applied, and fed to the state machine (which
//    verifies checkpoints).
// Damage (anything that is not a torn tail) stops start-up with the file and
// byte offset; with `repair` the log is cut there after saying exactly what is
// lost (seq range, count, files), and recovery starts over on the cut log.

import { existsSync, readFileSync, readdirSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, restoreEngine, type EngineEvent } from '../engine/index.js';
import type { LadderFactory } from '../native/ladder.js';
import { DamageError } from './errors.js';
import { fsyncDir, indexPathOf, listSegments, listSnapshots, listTempFiles, type SegmentFile, type SnapshotFile } from './files.js';
import { blockKey, type LogRecord } from './records.js';
import { BlockDamage, checkSeqs, commandRange, decodeSegmentBlock, scanSegment, type SegmentScan } from './scanner.js';
import { readSnapshot } from './snapshot.js';
import { IndexPolicy, encodeEntries, type IndexEntry } from './sparse-index.js';
import { LogStateMachine } from './state-machine.js';
import { foreignLog, listVouchers, vouchedBeyond } from './vouchers.js';
import type { TailSegment } from './writer.js';
import type { Engine } from '../engine/index.js';

export interface RecoverOptions {
  dir: string;
  /** Cut the log at damage (after saying what is lost) instead of refusing to start. */
  repair?: boolean;
  /** Change nothing on disk: no truncation, no index rebuild (verification, tests, tools). */
  readOnly?: boolean;
  /** Ignore snapshots and replay from the first record. */
  fromStart?: boolean;
  /** Must match the writer's, or indexes get rewritten. */
  indexEvery?: number;
  log?: (line: string) => void;
  ladder?: LadderFactory;
  /** Called for every command replayed (seq > snapshot seq) with its events. */
  onCommand?: (rec: LogRecord & { kind: 'command' }, events: EngineEvent[]) => void;
}

/** What the survey found in one segment file. */
export interface SegmentRange {
  name: string;
  path: string;
  /** Seq of its first command (its name). */
  firstSeq: number;
  /** Seq of its last committed command; firstSeq - 1 when it holds none. */
  lastSeq: number;
  /** Bytes of committed data (header and whole blocks). */
  bytes: number;
}

export interface Recovery {
  /** The engine behind the log state machine, at lastSeq. */
  machine: LogStateMachine;
  engine: Engine;
  /** Seq of the last command in the log (0 for an empty log). */
  lastSeq: number;
  /** Greatest ts seen; the sequencer never stamps below it. */
  lastTs: number;
  /** Highest epoch seen (0 if none). */
  epoch: number;
  snapshot: SnapshotFile | null;
  /** Commands replayed after the snapshot. */
  tailRecords: number;
  /** The last segment, to append to; null when a new one must be created. */
  tail: TailSegment | null;
  truncatedBytes: number;
  /** Every segment with its seq range, in order: one gap-free range from seq 1. */
  segments: SegmentRange[];
  /** The log's identity from its segment headers; null for an empty log or one written before log ids. */
  logId: string | null;
}

export const DEFAULT_INDEX_EVERY = 1 << 20;

/** Thrown after a repair changed the log: recovery starts over on what is left. */
class Repaired extends Error {}

export function recover(o: RecoverOptions): Recovery {
  const log = o.log ?? (() => undefined);
  if (!o.readOnly) {
    for (const tmp of listTempFiles(o.dir)) {
      log(`removing ${tmp}: a snapshot write that did not finish`);
      unlinkSync(tmp);
    }
  }
  // each repair strictly shortens the log, so this ends
  for (;;) {
    try {
      return attempt(o, log);
    } catch (e) {
      if (!(e instanceof Repaired)) throw e;
    }
  }
}

interface Survey {
  segments: SegmentRange[];
  /** Index entries each segment should have (rebuilt from its blocks). */
  entries: IndexEntry[][];
  /** Seq of the last committed command. */
  end: number;
  /** The torn end of the last segment, if any. */
  torn: { seg: SegmentFile; offset: number; bytes: number; reason: string; header: boolean } | null;
  /** Sync marker and committed size of the last segment (for the writer); null if it must be removed. */
  last: { seg: SegmentFile; sync: Buffer; size: number; hasCommand: boolean } | null;
  logId: string | null;
}

function attempt(o: RecoverOptions, log: (s: string) => void): Recovery {
  const s = survey(o, log);
  checkVouchers(o, log, s);
  let truncatedBytes = 0;
  if (s.torn !== null) {
    const t = s.torn;
    truncatedBytes = t.bytes;
    const what = o.readOnly ? 'ignoring' : t.header ? 'removing the file' : `truncating ${t.bytes} bytes`;
    if (t.header) log(`torn segment header in ${t.seg.path} (${t.bytes} bytes): ${what}; the log ends at seq ${s.end}`);
    else log(`torn last block in ${t.seg.path} at byte offset ${t.offset}: ${o.readOnly ? `ignoring ${t.bytes} bytes` : what} (${t.reason}); the log ends at seq ${s.end}`);
    if (!o.readOnly) {
      if (t.header) removeSegments(o.dir, [t.seg]);
      else truncateSync(t.seg.path, t.offset);
    }
  }
  if (!o.readOnly) {
    s.segments.forEach((seg, i) => syncIndex(seg.path, s.entries[i]));
  }

  const snaps = o.fromStart ? [] : listSnapshots(o.dir);
  let machine: LogStateMachine | null = null;
  let snapshot: SnapshotFile | null = null;
  for (const snap of snaps) {
    try {
      const data = readSnapshot(snap.path);
      if (data.seq !== snap.seq) throw new Error(`holds seq ${data.seq}, not the seq its name says`);
      if (foreignLog(data.logId, s.logId)) throw new Error(`it belongs to another log: its log id is ${data.logId}, this log's is ${s.logId}`);
      const engine = restoreEngine(data.state, o.ladder);
      const hash = engine.stateHash();
      if (hash !== data.hash) throw new Error(`restored state hash ${hash} differs from the recorded ${data.hash}`);
      machine = new LogStateMachine(engine, { seq: data.seq, ts: data.ts, epoch: data.epoch }, snap.path);
      snapshot = snap;
      break;
    } catch (e) {
      log(`snapshot ${snap.path} is unusable (${(e as Error).message}); trying an older one`);
    }
  }
  machine ??= new LogStateMachine(o.ladder ? createEngine(o.ladder) : createEngine());
  const tailRecords = replay(o, log, s, machine);
  if (machine.seq !== s.end) throw new Error(`recovery: replay ended at seq ${machine.seq}, the survey at seq ${s.end}`);

  let tail: TailSegment | null = null;
  if (s.last !== null) {
    const entries = s.entries[s.segments.length - 1];
    tail = {
      path: s.last.seg.path, firstSeq: s.last.seg.firstSeq, size: s.last.size, sync: s.last.sync, hasCommand: s.last.hasCommand,
      lastIndexed: entries.length > 0 ? entries[entries.length - 1].offset : -1,
    };
  }
  return {
    machine, engine: machine.engine, lastSeq: machine.seq, lastTs: machine.ts, epoch: machine.epoch, snapshot,
    tailRecords, tail, truncatedBytes, segments: s.segments, logId: s.logId,
  };
}

/** Step 1: every segment's frames and seq range; damage stops here (or is repaired). */
function survey(o: RecoverOptions, log: (s: string) => void): Survey {
  const segs = listSegments(o.dir);
  const segments: SegmentRange[] = [];
  const entries: IndexEntry[][] = [];
  let torn: Survey['torn'] = null;
  let last: Survey['last'] = null;
  let prev = 0;
  let logId: string | null = null;
  let idFrom = '';
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const isLast = i === segs.length - 1;
    const scan = scanSegment(seg, isLast);
    const p = scan.problem;
    if (p !== null && !p.torn) damaged(o, log, segs, i, p.offset, p.reason, prev);
    if (scan.header === null) {
      // a torn header: the file goes, the log ends with the segment before it
      torn = { seg, offset: 0, bytes: scan.buf.length, reason: (p as { reason: string }).reason, header: true };
      break;
    }
    // segments written before log ids carry none; those that carry one must agree
    const id = scan.header.meta.get('matchlog.log');
    if (id !== undefined) {
      if (logId === null) {
        logId = id;
        idFrom = seg.name;
      } else if (id !== logId) {
        damaged(o, log, segs, i, 0, `the segment belongs to another log: its log id is ${id}, this log's is ${logId} (from ${idFrom})`, prev);
      }
    }
    if (i === 0 && seg.firstSeq !== 1) damaged(o, log, segs, i, 0, `the log must start at seq 1, but its first segment starts at seq ${seg.firstSeq} (earlier segments are missing)`, prev);
    if (seg.firstSeq !== prev + 1 && i > 0) {
      const before = segments[i - 1];
      const why = seg.firstSeq > prev + 1
        ? `commands ${prev + 1}..${seg.firstSeq - 1} are missing: ${before.name} ends at seq ${prev} and ${seg.name} starts at seq ${seg.firstSeq} (a segment file was removed?)`
        : `${seg.name} starts at seq ${seg.firstSeq} but ${before.name} already reaches seq ${prev}`;
      damaged(o, log, segs, i, 0, why, prev);
    }
    const lastSeq = segmentLastSeq(o, log, segs, i, scan, prev);
    if (lastSeq < seg.firstSeq && !isLast) damaged(o, log, segs, i, scan.validEnd, 'holds no command, yet a later segment follows it', prev);
    segments.push({ name: seg.name, path: seg.path, firstSeq: seg.firstSeq, lastSeq, bytes: scan.validEnd });
    entries.push(indexEntries(o, scan));
    if (p !== null) torn = { seg, offset: p.offset, bytes: scan.buf.length - p.offset, reason: p.reason, header: false };
    if (isLast) last = { seg, sync: (scan.header).sync, size: scan.validEnd, hasCommand: lastSeq >= seg.firstSeq };
    prev = lastSeq;
  }
  return { segments, entries, end: prev, torn, last, logId };
}

/**
 * The last command seq of a segment, from its first and last blocks that hold
 * commands (decoded, seqs checked: the first must be the seq its name says).
 */
function segmentLastSeq(o: RecoverOptions, log: (s: string) => void, segs: SegmentFile[], i: number, scan: SegmentScan, prev: number): number {
  const seg = segs[i];
  try {
    let first: { first: number; last: number } | null = null;
    let k = 0;
    for (; k < scan.blocks.length && first === null; k++) {
      const recs = decodeSegmentBlock(scan, scan.blocks[k]);
      first = commandRange(recs);
      if (first !== null) checkSeqs(recs, seg.firstSeq - 1, scan.blocks[k].offset);
    }
    if (first === null) return seg.firstSeq - 1;
    for (let j = scan.blocks.length - 1; j >= k; j--) {
      const recs = decodeSegmentBlock(scan, scan.blocks[j]);
      const r = commandRange(recs);
      if (r === null) continue;
      if (r.first <= first.last) throw new BlockDamage(scan.blocks[j].offset, `command seq ${r.first} does not follow seq ${first.last}`);
      checkSeqs(recs, r.first - 1, scan.blocks[j].offset);
      return r.last;
    }
    return first.last;
  } catch (e) {
    if (!(e instanceof BlockDamage)) throw e;
    return damaged(o, log, segs, i, e.offset, e.reason, prev);
  }
}

function indexEntries(o: RecoverOptions, scan: SegmentScan): IndexEntry[] {
  const policy = new IndexPolicy(o.indexEvery ?? DEFAULT_INDEX_EVERY);
  const out: IndexEntry[] = [];
  for (const f of scan.blocks) if (policy.take(f.offset)) out.push({ ...blockKey(scan.buf, f), offset: f.offset });
  return out;
}

/**
 * Step 2: durable records that say the log once went further than it does
 * now. Any of them makes a short log damage, not a torn tail.
 */
function checkVouchers(o: RecoverOptions, log: (s: string) => void, s: Survey): void {
  const present = new Set(s.segments.map((x) => x.path));
  const short = vouchedBeyond(listVouchers(o.dir), {
    seq: s.end, logId: s.logId, segments: present,
    last: s.last === null ? null : { path: s.last.seg.path, size: s.last.size },
    tornHeader: s.torn?.header === true ? s.torn.seg.path : null,
  });
  if (short === null) return;
  const lastPath = s.last?.seg.path ?? s.segments.at(-1)?.path ?? join(o.dir, '(no segment)');
  const lastSize = s.last?.size ?? s.segments.at(-1)?.bytes ?? 0;
  const why = short.reason;
  if (!o.repair || o.readOnly) {
    throw new DamageError(lastPath, lastSize, `${why}; refusing to start. \`--repair\` continues from seq ${s.end} and loses them`);
  }
  log(`repair: ${why}; continuing from seq ${s.end}: they are lost`);
  for (const snap of listSnapshots(o.dir)) {
    if (snap.seq <= s.end) continue;
    log(`repair: setting snapshot ${snap.name} aside as ${snap.name}.orphaned`);
    renameSync(snap.path, `${snap.path}.orphaned`);
  }
  for (const name of readdirSync(o.dir).filter((n) => /^\d{20}\.idx$/.test(n))) {
    const idxPath = join(o.dir, name);
    if (!present.has(idxPath.replace(/\.idx$/, '.avro'))) unlinkSync(idxPath);
  }
  fsyncDir(o.dir);
}

/** Step 4: decode and apply every block from the segment holding the machine's seq + 1 on. */
function replay(o: RecoverOptions, log: (s: string) => void, s: Survey, machine: LogStateMachine): number {
  const segs = s.segments;
  const base = machine.seq;
  let start = 0;
  for (let i = 0; i < segs.length; i++) if (segs[i].firstSeq <= base + 1) start = i;
  const events: EngineEvent[] = [];
  let applied = 0;
  const files: SegmentFile[] = segs.map((x) => ({ name: x.name, path: x.path, firstSeq: x.firstSeq }));
  let prev = start > 0 ? segs[start - 1].lastSeq : 0;
  for (let i = start; i < segs.length; i++) {
    const seg = files[i];
    const buf = readFileSync(seg.path).subarray(0, segs[i].bytes);
    const scan = scanSegment(seg, i === segs.length - 1, buf);
    for (const f of scan.blocks) {
      let recs: LogRecord[];
      try {
        recs = decodeSegmentBlock(scan, f);
        prev = checkSeqs(recs, prev, f.offset);
      } catch (e) {
        if (!(e instanceof BlockDamage)) throw e;
        return damaged(o, log, files, i, e.offset, e.reason, prev);
      }
      const out = o.onCommand === undefined ? null : events; // nobody reads the events: the engine's fast path
      for (const rec of recs) {
        events.length = 0;
        if (machine.record(rec, out)) {
          applied++;
          o.onCommand?.(rec as LogRecord & { kind: 'command' }, events);
        }
      }
    }
  }
  return applied;
}

/**
 * Damage at segs[i] byte offset `at`: throws a DamageError, or with `repair`
 * cuts the log there (truncating that file, removing later segments) after
 * saying what is lost, and throws Repaired so that recovery starts over.
 */
function damaged(o: RecoverOptions, log: (s: string) => void, segs: SegmentFile[], i: number, at: number, reason: string, prev: number): never {
  const seg = segs[i];
  if (!o.repair || o.readOnly) throw new DamageError(seg.path, at, reason);
  const later = segs.slice(i + 1);
  const size = statSync(seg.path).size;
  const laterBytes = later.reduce((n, x) => n + statSync(x.path).size, 0);
  // commands kept: up to the last whole block before `at`; `prev` is where the log stood before this segment
  const kept = at === 0 ? prev : keptUpTo(seg, at, prev);
  const known = Math.max(kept, ...later.map((x) => x.firstSeq), ...listSnapshots(o.dir).map((x) => x.seq));
  const lost = known > kept ? `commands ${kept + 1}..${known} at least (${known - kept}), ` : '';
  log(`repair: ${seg.path} is damaged at byte offset ${at} (${reason}); cutting the log there loses ${lost}${size - at} bytes of it`
    + `${later.length > 0 ? ` and ${later.length} later segment(s) (${laterBytes} bytes: ${later.map((x) => x.name).join(', ')})` : ''}; the log will end at seq ${kept}`);
  removeSegments(o.dir, later);
  if (at === 0) removeSegments(o.dir, [seg]);
  else truncateSync(seg.path, at);
  fsyncDir(o.dir);
  throw new Repaired();
}

/** The last command seq in the whole blocks of `seg` before byte offset `at` (`prev` if none). */
function keptUpTo(seg: SegmentFile, at: number, prev: number): number {
  const scan = scanSegment(seg, false, readFileSync(seg.path).subarray(0, at));
  for (let j = scan.blocks.length - 1; j >= 0; j--) {
    try {
      const r = commandRange(decodeSegmentBlock(scan, scan.blocks[j]));
      if (r !== null) return r.last;
    } catch {
      // an undecodable block before the damage: the next repair round finds it
    }
  }
  return prev;
}

/** Index first: an index without its segment is evidence of a lost segment, so never leave one behind. */
function removeSegments(dir: string, segs: SegmentFile[]): void {
  for (const s of segs) {
    const idx = indexPathOf(s.path);
    if (existsSync(idx)) unlinkSync(idx);
    unlinkSync(s.path);
  }
  fsyncDir(dir);
}

/** Rewrites a segment's index when it does not say what the scan found. */
function syncIndex(segPath: string, entries: IndexEntry[]): void {
  const want = encodeEntries(entries);
  const path = indexPathOf(segPath);
  if (existsSync(path) && readFileSync(path).equals(want)) return;
  writeFileSync(path, want);
}
