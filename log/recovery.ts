// Start-up recovery: load the newest valid snapshot, then replay the tail of
// the log after it; seq continues where the log stopped.
//
// Every block of every segment is checked (frame, sync marker, CRC); blocks
// from the snapshot's segment on are also decoded and replayed, and their seqs
// must run without a gap. A bad block that nothing whole follows in the last
// segment is a torn write (the crash hit the one block in flight): it is
// truncated, with a log line saying how much. Damage anywhere else stops
// start-up naming the file and byte offset, unless `repair` is set, which
// truncates the log there after saying what is lost. A checkpoint whose hash
// differs from the replayed engine's stops with a divergence error.

import { existsSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { createEngine, restoreEngine, type Engine, type EngineEvent } from '../engine/index.js';
import type { LadderFactory } from '../native/ladder.js';
import { encodeHeader, isTornTail, parseHeader, readBlock, SYNC_SIZE } from './container.js';
import { DamageError, DivergenceError } from './errors.js';
import { fsyncDir, indexPathOf, listSegments, listSnapshots, listTempFiles, type SegmentFile, type SnapshotFile } from './files.js';
import { blockKey, decodeBlock, type LogRecord } from './records.js';
import { recordReader, recordSchemaJson, RECORD_SCHEMA_VERSION, type Resolver } from './schema.js';
import { readSnapshot } from './snapshot.js';
import { IndexPolicy, encodeEntries, type IndexEntry } from './sparse-index.js';
import type { TailSegment } from './writer.js';

export interface RecoverOptions {
  dir: string;
  /** Truncate the log at damage (after saying what is lost) instead of refusing to start. */
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

export interface Recovery {
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
}

export const DEFAULT_INDEX_EVERY = 1 << 20;

export function recover(o: RecoverOptions): Recovery {
  const log = o.log ?? (() => undefined);
  if (!o.readOnly) {
    for (const tmp of listTempFiles(o.dir)) {
      log(`removing ${tmp}: a snapshot write that did not finish`);
      unlinkSync(tmp);
    }
  }
  const snaps = o.fromStart ? [] : listSnapshots(o.dir);
  for (let i = 0; ; i++) {
    const snap: SnapshotFile | undefined = snaps[i];
    let engine: Engine;
    let base = { seq: 0, ts: 0, epoch: 0 };
    if (snap !== undefined) {
      try {
        const data = readSnapshot(snap.path);
        if (data.seq !== snap.seq) throw new Error(`holds seq ${data.seq}, not the seq its name says`);
        engine = restoreEngine(data.state, o.ladder);
        const hash = engine.stateHash();
        if (hash !== data.hash) throw new Error(`restored state hash ${hash} differs from the recorded ${data.hash}`);
        base = { seq: data.seq, ts: data.ts, epoch: data.epoch };
      } catch (e) {
        log(`snapshot ${snap.path} is unusable (${(e as Error).message}); trying an older one`);
        continue;
      }
    } else {
      engine = o.ladder ? createEngine(o.ladder) : createEngine();
    }
    const r = replay(o, engine, base, log);
    if (snap !== undefined && r.lastSeq < base.seq) {
      log(`snapshot ${snap.path} (seq ${base.seq}) is ahead of the log, which ends at seq ${r.lastSeq}; ${o.readOnly ? 'ignoring it' : 'setting it aside as .orphaned'}`);
      if (!o.readOnly) {
        renameSync(snap.path, `${snap.path}.orphaned`);
        fsyncDir(o.dir);
      }
      continue;
    }
    return { ...r, engine, snapshot: snap ?? null };
  }
}

interface ReplayResult {
  lastSeq: number;
  lastTs: number;
  epoch: number;
  tailRecords: number;
  tail: TailSegment | null;
  truncatedBytes: number;
}

function replay(o: RecoverOptions, engine: Engine, base: { seq: number; ts: number; epoch: number }, log: (s: string) => void): ReplayResult {
  const S = base.seq;
  const segs = listSegments(o.dir);
  let startIdx = 0;
  for (let i = 0; i < segs.length; i++) if (segs[i].firstSeq <= S) startIdx = i;
  const headerLength = encodeHeader(recordSchemaJson, {
    'matchlog.kind': 'log', 'matchlog.version': String(RECORD_SCHEMA_VERSION), 'matchlog.segment': segs.at(-1)?.name ?? '',
  }, Buffer.alloc(SYNC_SIZE)).length;
  const events: EngineEvent[] = [];
  let lastCmd = -1;
  let lastTs = base.ts;
  let epoch = base.epoch;
  let tailRecords = 0;
  let truncatedBytes = 0;
  let tail: TailSegment | null = null;

  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const isLast = i === segs.length - 1;
    let buf = readFileSync(seg.path);
    if (i === 0 && seg.firstSeq !== 1) throw new DamageError(seg.path, 0, `the log must start at seq 1, its first segment starts at ${seg.firstSeq}`);
    const header = parseHeader(buf);
    if (typeof header === 'string') {
      if (isLast && buf.length <= headerLength) {
        // crashed while creating the segment: its header was never durable, so no block is in it
        log(`torn segment header in ${seg.path} (${buf.length} bytes): removing the file`);
        truncatedBytes += buf.length;
        if (!o.readOnly) removeSegments(o.dir, [seg]);
        break;
      }
      if (damaged(o, log, segs, i, 0, header, buf.length, lastCmd)) break;
    }
    const hdr = header as Exclude<typeof header, string>;
    let resolver: Resolver | undefined;
    try {
      resolver = recordReader.resolver(hdr.schema);
    } catch (e) {
      if (damaged(o, log, segs, i, 0, `writer schema cannot be read: ${(e as Error).message}`, buf.length, lastCmd)) break;
    }
    const decode = i >= startIdx;
    if (decode) {
      if (lastCmd >= 0 && seg.firstSeq !== lastCmd + 1) {
        if (damaged(o, log, segs, i, 0, `segment starts at seq ${seg.firstSeq} but the log before it ends at seq ${lastCmd}`, buf.length, lastCmd)) break;
      }
      if (lastCmd < 0) lastCmd = seg.firstSeq - 1;
    }
    const entries: IndexEntry[] = [];
    const policy = new IndexPolicy(o.indexEvery ?? DEFAULT_INDEX_EVERY);
    let hasCommand = !decode;
    let p = hdr.end;
    let stop = false;
    while (p < buf.length) {
      const frame = readBlock(buf, p, hdr.sync);
      let reason = typeof frame === 'string' ? frame : null;
      let records: LogRecord[] | null = null;
      if (reason === null && decode) {
        try {
          records = decodeBlock(buf, frame as Exclude<typeof frame, string>, resolver);
        } catch (e) {
          reason = `block does not decode: ${(e as Error).message}`;
        }
      }
      if (reason === null && records !== null) {
        // seqs are checked before anything is applied, so a gap is damage at this block
        let expect = lastCmd;
        for (const rec of records) {
          if (rec.kind !== 'command') continue;
          if (rec.seq !== expect + 1) {
            reason = `command seq ${rec.seq} follows seq ${expect}: the log has a gap`;
            break;
          }
          expect = rec.seq;
        }
      }
      if (reason !== null) {
        if (isLast && isTornTail(buf, p, hdr.sync)) {
          const bytes = buf.length - p;
          log(`torn last block in ${seg.path} at byte offset ${p}: ${o.readOnly ? 'ignoring' : 'truncating'} ${bytes} bytes (${reason})`);
          truncatedBytes += bytes;
          if (!o.readOnly) truncateSync(seg.path, p);
          buf = buf.subarray(0, p);
          break;
        }
        if (damaged(o, log, segs, i, p, reason, buf.length, lastCmd)) {
          buf = buf.subarray(0, p);
          stop = true;
          break;
        }
      }
      const f = frame as Exclude<typeof frame, string>;
      if (policy.take(p)) entries.push({ ...blockKey(buf, f), offset: p });
      if (records !== null) {
        for (const rec of records) {
          if (rec.ts > lastTs) lastTs = rec.ts;
          switch (rec.kind) {
            case 'command':
              lastCmd = rec.seq;
              hasCommand = true;
              if (rec.seq > S) {
                events.length = 0;
                engine.apply(rec.cmd, rec.seq, events);
                tailRecords++;
                o.onCommand?.(rec, events);
              }
              break;
            case 'checkpoint':
              if (rec.seq >= S && rec.seq === lastCmd) {
                const hash = engine.stateHash();
                if (hash !== rec.hash) throw new DivergenceError(rec.seq, rec.hash, hash);
              }
              break;
            case 'epoch':
              if (rec.epoch > epoch) epoch = rec.epoch;
              break;
            case 'commit':
              break;
          }
        }
      }
      p = f.end;
    }
    if (!o.readOnly) syncIndex(seg.path, entries);
    if (isLast || stop) {
      tail = {
        path: seg.path, firstSeq: seg.firstSeq, size: buf.length, sync: hdr.sync, hasCommand,
        lastIndexed: entries.length > 0 ? entries[entries.length - 1].offset : -1,
      };
      break;
    }
  }
  return { lastSeq: Math.max(lastCmd, 0), lastTs, epoch, tailRecords, tail, truncatedBytes };
}

/**
 * Damage at segs[i] offset `at`: throws, or with `repair` truncates the log
 * there (removing later segments) after saying what is lost, and returns true.
 */
function damaged(o: RecoverOptions, log: (s: string) => void, segs: SegmentFile[], i: number, at: number,
  reason: string, size: number, lastCmd: number): true {
  const seg = segs[i];
  if (!o.repair || o.readOnly) throw new DamageError(seg.path, at, reason);
  const later = segs.slice(i + 1);
  const laterBytes = later.reduce((n, s) => n + statSync(s.path).size, 0);
  const ends = lastCmd >= 0 ? `the log will end at seq ${lastCmd}` : 'the log will end at the last whole block before it';
  log(`repair: ${seg.path} is damaged at byte offset ${at} (${reason}); truncating there loses ${size - at} bytes of it`
    + `${later.length > 0 ? ` and ${later.length} later segment(s) (${laterBytes} bytes: ${later.map((s) => s.name).join(', ')})` : ''}; ${ends}`);
  removeSegments(o.dir, later);
  if (at === 0) removeSegments(o.dir, [seg]);
  else truncateSync(seg.path, at);
  fsyncDir(o.dir);
  return true;
}

function removeSegments(dir: string, segs: SegmentFile[]): void {
  for (const s of segs) {
    unlinkSync(s.path);
    const idx = indexPathOf(s.path);
    if (existsSync(idx)) unlinkSync(idx);
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
