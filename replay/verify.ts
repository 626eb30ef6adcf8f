// `matchlog verify`: proves a log folder says one consistent history, or names
// the first place where it does not (file, byte offset, seq). Everything goes
// through the one block scanner (log/scanner.ts) and the one state machine
// (log/state-machine.ts), so verify judges the files exactly as recovery and
// readLog read them; it only checks more: every block is decoded and every
// command replayed from seq 1, so every checkpoint is recomputed.
//
// Read-only, and safe beside a running exchange (no lock taken): the writer
// only appends, and each durable thing (index entry, snapshot) appears only
// after the block it speaks of is durable. So indexes are read before their
// segment, snapshots are listed before any segment, and the last segment's
// end may be a block still being written: it is skipped and reported, never
// an error (the scanner's `torn`).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, restoreEngine, type EngineEvent } from '../engine/index.js';
import { parseHeader } from '../log/container.js';
import { DivergenceError } from '../log/errors.js';
import { indexPathOf, listSegments, listSnapshots, type SegmentFile, type SnapshotFile } from '../log/files.js';
import { blockKey, type LogRecord } from '../log/records.js';
import { BlockDamage, checkSeqs, decodeSegmentBlock, scanSegment, type SegmentScan } from '../log/scanner.js';
import { readSnapshot, SnapshotFormatError } from '../log/snapshot.js';
import { readIndex, type IndexEntry } from '../log/sparse-index.js';
import { LogStateMachine } from '../log/state-machine.js';
import { formatTime } from './time.js';

/** The first thing found wrong: where, and after which command. */
export class VerifyProblem extends Error {
  readonly code = 'LOG_VERIFY';
  /** `offset` null: the problem is the folder itself, not a place in a file. */
  constructor(readonly file: string, readonly offset: number | null, readonly seq: number | null, readonly reason: string) {
    super(offset === null ? `${file}: ${reason}` : `${file} offset ${offset}: ${reason}`);
    this.name = 'VerifyProblem';
  }
}

export interface VerifiedSegment { name: string; firstSeq: number; lastSeq: number; blocks: number; bytes: number }
export interface VerifiedEpoch { epoch: number; node: string; afterSeq: number; file: string; offset: number }
export interface VerifiedSnapshot { name: string; seq: number; hash: string }
export interface TornTail { file: string; offset: number; bytes: number; afterSeq: number; reason: string }

export interface VerifySummary {
  dir: string;
  /** `matchlog.log` of the segments; null for a log written before log ids. */
  logId: string | null;
  segments: VerifiedSegment[];
  /** Seq range of the commands: 1..lastSeq (lastSeq 0 for a log without commands). */
  lastSeq: number;
  blocks: number;
  records: number;
  /** Committed bytes checked (headers and whole blocks). */
  bytes: number;
  checkpoints: number;
  epochs: VerifiedEpoch[];
  snapshots: VerifiedSnapshot[];
  /** ts of the first and last record (epoch µs), null when there is none. */
  firstTs: number | null;
  lastTs: number | null;
  /** The end of the last segment that is not committed (yet): skipped, not checked. */
  tornTail: TornTail | null;
  /** Derived data that is off (the sparse index), and files that went away while verifying. */
  warnings: string[];
  /** The engine's state hash after the last command. */
  stateHash: string;
}

export interface VerifyOptions {
  /** Bytes of segment data checked so far, and the total when verification started. */
  progress?: (done: number, total: number) => void;
}

const hex = (h: string): string => `0x${h}`;

export function verifyLog(dir: string, o: VerifyOptions = {}): VerifySummary {
  // snapshots first: each one listed is already backed by durable blocks that the segment reads below will see
  const snapshots = [...listSnapshots(dir)].reverse();
  const segs = listSegments(dir);
  if (segs.length === 0) throw new VerifyProblem(dir, null, null, 'no log segment (<20-digit seq>.avro) in this folder');
  const total = segs.reduce((n, s) => n + sizeOf(s.path), 0);
  return new Verifier(dir, segs, snapshots, total, o).run();
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

class Verifier {
  private readonly machine = new LogStateMachine(createEngine());
  private readonly events: EngineEvent[] = [];
  private readonly out: VerifySummary;
  private idFrom = '';
  private lastEpoch = 0;
  private done = 0;
  /** Snapshots not yet met by the replay, oldest first. */
  private pending: SnapshotFile[];

  constructor(private readonly dir: string, private readonly segs: SegmentFile[], snapshots: SnapshotFile[],
    private readonly total: number, private readonly o: VerifyOptions) {
    this.pending = snapshots;
    this.out = {
      dir, logId: null, segments: [], lastSeq: 0, blocks: 0, records: 0, bytes: 0, checkpoints: 0, epochs: [], snapshots: [],
      firstTs: null, lastTs: null, tornTail: null, warnings: [], stateHash: '',
    };
  }

  run(): VerifySummary {
    this.o.progress?.(0, this.total);
    this.snapshotsAt(0, this.segs[0].path);
    for (let i = 0; i < this.segs.length; i++) this.segment(i);
    this.leftoverSnapshots();
    this.orphanIndexes();
    this.out.lastSeq = this.machine.seq;
    this.out.stateHash = this.machine.stateHash();
    return this.out;
  }

  private segment(i: number): void {
    const seg = this.segs[i];
    const isLast = i === this.segs.length - 1;
    const prev = this.machine.seq;
    // the index before the segment: its entries then only name blocks this read of the segment holds
    const idx = this.readIndexOf(seg);
    let scan: SegmentScan;
    try {
      scan = scanSegment(seg, isLast);
    } catch (e) {
      throw new VerifyProblem(seg.path, 0, prev, `cannot read the segment after seq ${prev}: ${(e as Error).message}`);
    }
    const p = scan.problem;
    // damage after the committed blocks is reported once they are checked: the first problem, at its seq
    const damage = (): never => {
      const at = (p as NonNullable<typeof p>);
      throw new VerifyProblem(seg.path, at.offset, this.machine.seq,
        `${at.offset === 0 ? 'the segment header' : `the block after seq ${this.machine.seq}`}: ${at.reason}${isLast ? ' (not a torn write: something whole follows it)' : ''}`);
    };
    if (scan.header === null) {
      if (p !== null && !p.torn) damage();
      // a segment whose header a writer is creating (or a crash cut): nothing in it was ever acknowledged
      this.torn(seg, 0, scan.buf.length, (p as { reason: string }).reason);
      return;
    }
    this.header(seg, scan, prev);
    if (seg.firstSeq !== prev + 1) {
      const before = this.segs[i - 1];
      const why = i === 0
        ? `the log must start at seq 1, but its first segment starts at seq ${seg.firstSeq} (earlier segments are missing)`
        : seg.firstSeq > prev + 1
          ? `commands ${prev + 1}..${seg.firstSeq - 1} are missing: ${before.name} ends at seq ${prev} and ${seg.name} starts at seq ${seg.firstSeq} (a segment file was removed?)`
          : `${seg.name} starts at seq ${seg.firstSeq} but ${before.name} already reaches seq ${prev}`;
      throw new VerifyProblem(seg.path, 0, prev, why);
    }
    for (const frame of scan.blocks) {
      let records: LogRecord[];
      try {
        records = decodeSegmentBlock(scan, frame);
        checkSeqs(records, this.machine.seq, frame.offset);
      } catch (e) {
        if (!(e instanceof BlockDamage)) throw e;
        throw new VerifyProblem(seg.path, e.offset, this.machine.seq, `the block after seq ${this.machine.seq}: ${e.reason}`);
      }
      for (const rec of records) this.record(seg, frame.offset, rec);
      this.out.blocks++;
      this.out.records += records.length;
      this.done += frame.end - frame.offset;
      this.o.progress?.(this.done, this.total);
    }
    if (p !== null && !p.torn) damage();
    if (this.machine.seq < seg.firstSeq && !isLast) {
      throw new VerifyProblem(seg.path, scan.validEnd, prev, `the segment holds no command after seq ${prev}, yet a later segment follows it`);
    }
    this.done += scan.header.end;
    this.out.bytes += scan.validEnd;
    this.out.segments.push({ name: seg.name, firstSeq: seg.firstSeq, lastSeq: this.machine.seq, blocks: scan.blocks.length, bytes: scan.validEnd });
    this.checkIndex(seg, scan, idx, isLast);
    if (p !== null) this.torn(seg, p.offset, scan.buf.length - p.offset, p.reason);
  }

  /** Header keys that tie the file to this log and this place in it. */
  private header(seg: SegmentFile, scan: SegmentScan, prev: number): void {
    const meta = (scan.header as NonNullable<SegmentScan['header']>).meta;
    const kind = meta.get('matchlog.kind');
    if (kind !== undefined && kind !== 'log') throw new VerifyProblem(seg.path, 0, prev, `the header says matchlog.kind ${kind}, not a log segment`);
    const named = meta.get('matchlog.segment');
    if (named !== undefined && named !== seg.name) {
      throw new VerifyProblem(seg.path, 0, prev, `the header says it is segment ${named}: the file was renamed or copied over`);
    }
    // segments written before log ids carry none; those that carry one must agree
    const id = meta.get('matchlog.log');
    if (id === undefined) return;
    if (this.out.logId === null) {
      this.out.logId = id;
      this.idFrom = seg.name;
    } else if (id !== this.out.logId) {
      throw new VerifyProblem(seg.path, 0, prev, `the segment belongs to another log: its log id is ${id}, this log's is ${this.out.logId} (from ${this.idFrom})`);
    }
  }

  private record(seg: SegmentFile, offset: number, rec: LogRecord): void {
    const m = this.machine;
    const fail = (reason: string): never => { throw new VerifyProblem(seg.path, offset, m.seq, reason); };
    // the sequencer stamps max(previous ts, now), across restarts too
    if (this.out.lastTs !== null && rec.ts < this.out.lastTs) {
      fail(`${rec.kind} record at seq ${rec.seq}: ts ${formatTime(rec.ts)} is before ${formatTime(this.out.lastTs)} of the record before it`);
    }
    this.out.firstTs ??= rec.ts;
    this.out.lastTs = rec.ts;
    switch (rec.kind) {
      case 'command': {
        this.events.length = 0;
        try {
          m.command(rec.seq, rec.ts, rec.cmd, this.events);
        } catch (e) {
          fail(`command seq ${rec.seq}: the engine threw ${(e as Error).message}`);
        }
        if (this.pending.length > 0 && this.pending[0].seq <= rec.seq) this.snapshotsAt(rec.seq, seg.path);
        break;
      }
      case 'checkpoint': {
        // replaying from seq 1, a checkpoint always speaks of the command just applied
        if (rec.seq !== m.seq) fail(`a checkpoint for seq ${rec.seq} follows command seq ${m.seq}`);
        try {
          m.verify(rec.seq, rec.hash);
        } catch (e) {
          if (!(e instanceof DivergenceError)) throw e;
          fail(`checkpoint after seq ${rec.seq}: hash ${hex(e.expected)} in the log, ${hex(e.actual)} recomputed`);
        }
        this.out.checkpoints++;
        break;
      }
      case 'epoch': {
        if (rec.seq !== m.seq) fail(`an epoch record for seq ${rec.seq} follows command seq ${m.seq}`);
        // each start takes the highest epoch recovered + 1, so epochs strictly increase; an equal one would
        // mean two writers claimed the same epoch
        if (rec.epoch <= this.lastEpoch) {
          fail(`epoch ${rec.epoch} (node ${JSON.stringify(rec.node)}) after seq ${rec.seq} does not follow epoch ${this.lastEpoch}: epochs must increase`);
        }
        this.lastEpoch = rec.epoch;
        m.record(rec, this.events);
        this.out.epochs.push({ epoch: rec.epoch, node: rec.node, afterSeq: rec.seq, file: seg.path, offset });
        break;
      }
      case 'commit':
        break;
    }
  }

  /** Every snapshot of seq `seq` (the replay is right after that command) against the replayed state. */
  private snapshotsAt(seq: number, segPath: string): void {
    while (this.pending.length > 0 && this.pending[0].seq <= seq) {
      const snap = this.pending.shift() as SnapshotFile;
      // a snapshot of a seq the replay passed without stopping at: cannot happen with seqs from file names, but be exact
      if (snap.seq !== seq) throw new VerifyProblem(snap.path, 0, seq, `snapshot of seq ${snap.seq} was not met by the replay (at seq ${seq}, ${segPath})`);
      this.snapshot(snap, this.machine.stateHash());
    }
  }

  private snapshot(snap: SnapshotFile, replayed: string): void {
    const fail = (reason: string): never => { throw new VerifyProblem(snap.path, 0, snap.seq, reason); };
    let data;
    try {
      data = readSnapshot(snap.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.out.warnings.push(`${snap.path} was removed while verifying (pruned by the running exchange?): not checked`);
        return;
      }
      // a file that is not exactly what was written is named where it goes wrong (e.g. bytes after its block)
      if (e instanceof SnapshotFormatError) throw new VerifyProblem(snap.path, e.offset, snap.seq, `snapshot after seq ${snap.seq} does not read: ${e.reason}`);
      return fail(`snapshot after seq ${snap.seq} does not read: ${(e as Error).message}`);
    }
    if (data.seq !== snap.seq) fail(`snapshot named for seq ${snap.seq} holds the state after seq ${data.seq}`);
    this.foreignSnapshot(snap, data.logId);
    let restored: string;
    try {
      restored = restoreEngine(data.state).stateHash();
    } catch (e) {
      return fail(`snapshot after seq ${snap.seq} does not restore: ${(e as Error).message}`);
    }
    if (restored !== data.hash) fail(`snapshot after seq ${snap.seq}: hash ${hex(data.hash)} recorded, ${hex(restored)} restored`);
    if (data.hash !== replayed) {
      fail(`snapshot after seq ${snap.seq}: hash ${hex(data.hash)} in the snapshot, ${hex(replayed)} replayed from the log`
        + (data.logId === undefined ? ' (the snapshot has no log id: it may belong to another log)' : ''));
    }
    this.out.snapshots.push({ name: snap.name, seq: snap.seq, hash: data.hash });
  }

  private foreignSnapshot(snap: SnapshotFile, logId: string | undefined): void {
    if (logId === undefined || this.out.logId === null || logId === this.out.logId) return;
    throw new VerifyProblem(snap.path, 0, snap.seq,
      `snapshot of another log: its log id is ${logId}, this log's is ${this.out.logId} (from ${this.idFrom}); move it out of this folder`);
  }

  /** Snapshots beyond the end: acknowledged commands missing (the newest segment removed or cut short), or another log's. */
  private leftoverSnapshots(): void {
    for (const snap of this.pending) {
      let logId: string | undefined;
      try {
        const h = parseHeader(readFileSync(snap.path));
        logId = typeof h === 'string' ? undefined : h.meta.get('matchlog.log');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new VerifyProblem(snap.path, 0, snap.seq, `cannot read the snapshot: ${(e as Error).message}`);
      }
      this.foreignSnapshot(snap, logId);
      const last = this.out.segments.at(-1);
      const file = last !== undefined ? join(this.dir, last.name) : this.segs[0].path;
      const end = this.machine.seq;
      throw new VerifyProblem(file, last?.bytes ?? 0, end,
        `the log ends at seq ${end}, but snapshot ${snap.name} holds the state after seq ${snap.seq}: commands ${end + 1}..${snap.seq} that were acknowledged are missing (the newest segment was removed or cut short)`);
    }
  }

  private readIndexOf(seg: SegmentFile): IndexEntry[] | null {
    const path = indexPathOf(seg.path);
    try {
      const idx = readIndex(path);
      if (idx === null) this.out.warnings.push(existsSync(path) ? `index ${path} is malformed (derived data: recovery rewrites it)` : `index ${path} is missing (derived data: recovery rewrites it)`);
      return idx;
    } catch (e) {
      this.out.warnings.push(`index ${path} does not read: ${(e as Error).message}`);
      return null;
    }
  }

  /**
   * Index entries are derived data, so one that does not land on a block is
   * a warning; but an entry past the committed end of the last segment says
   * a block was once durable there: acknowledged commands are missing.
   */
  private checkIndex(seg: SegmentFile, scan: SegmentScan, idx: IndexEntry[] | null, isLast: boolean): void {
    if (idx === null) return;
    const frames = new Map(scan.blocks.map((f) => [f.offset, f]));
    for (const e of idx) {
      const frame = frames.get(e.offset);
      if (frame === undefined) {
        if (isLast && e.offset >= scan.validEnd) {
          throw new VerifyProblem(seg.path, scan.validEnd, this.machine.seq,
            `the log ends at seq ${this.machine.seq}, but index ${indexPathOf(seg.name)} has an entry for a block at offset ${e.offset} (seq ${e.seq}), where the committed data has already ended: acknowledged commands are missing (the segment was cut short)`);
        }
        this.out.warnings.push(`index ${indexPathOf(seg.path)}: the entry for seq ${e.seq} at offset ${e.offset} does not land on a block (derived data: recovery rewrites it)`);
        continue;
      }
      const key = blockKey(scan.buf, frame);
      if (key.seq !== e.seq || key.ts !== e.ts) {
        this.out.warnings.push(`index ${indexPathOf(seg.path)}: the entry at offset ${e.offset} says seq ${e.seq} ts ${e.ts}, the block starts at seq ${key.seq} ts ${key.ts} (derived data)`);
      }
    }
  }

  /** An index whose segment is gone: the segment was removed (the writer creates the segment before its index, and never removes one). */
  private orphanIndexes(): void {
    const names = new Set(this.segs.map((s) => s.name));
    for (const name of readdirSync(this.dir).filter((n) => /^\d{20}\.idx$/.test(n)).sort()) {
      const seg = name.replace(/\.idx$/, '.avro');
      // a segment created since the listing is not missing
      if (names.has(seg) || existsSync(join(this.dir, seg))) continue;
      const last = this.out.segments.at(-1);
      throw new VerifyProblem(join(this.dir, name), 0, this.machine.seq,
        `index ${name} exists but its segment ${seg} does not (a segment file was removed?)`
        + (last !== undefined && Number(name.slice(0, 20)) > last.lastSeq ? `: the log ends at seq ${this.machine.seq}, commands from seq ${Number(name.slice(0, 20))} on are missing` : ''));
    }
  }

  private torn(seg: SegmentFile, offset: number, bytes: number, reason: string): void {
    this.out.tornTail = { file: seg.path, offset, bytes, afterSeq: this.machine.seq, reason };
  }
}

/** The one line a torn tail gets in the summary. */
export function tornTailNote(t: TornTail): string {
  return `an in-flight/torn tail of ${t.bytes} bytes after seq ${t.afterSeq} was not checked (${t.file} offset ${t.offset}: ${t.reason})`;
}
