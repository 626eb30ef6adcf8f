// Appends sealed blocks to segment files: one block per group commit, written
// with a single outstanding write and durable before the caller hears about
// it. Segment files are opened with O_DSYNC, so a write returns once its data
// is on stable storage (what write + fdatasync give) in a single trip to the
// thread pool: with two trips the fdatasync would wait for the main thread to
// come round between them, and the main thread is busy building the next
// block or collecting garbage. Segments roll by size and are named by the first seq
// of the first block written into them.

import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, write, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SYNC_SIZE, encodeHeader } from './container.js';
import { LogWriteError } from './errors.js';
import { fsyncDir, indexPathOf, segmentName } from './files.js';
import { RECORD_SCHEMA_VERSION, recordSchemaJson } from './schema.js';
import { INDEX_ENTRY_SIZE, IndexPolicy, encodeEntries } from './sparse-index.js';

const { O_CREAT, O_DSYNC, O_EXCL, O_RDWR } = constants;

export interface WriterOptions {
  /** Roll to a new segment once the current one reaches this size. */
  segmentBytes: number;
  /** Bytes of segment between two sparse index entries. */
  indexEvery: number;
  /** The log's identity, in every segment header (`matchlog.log`); a new one for a new log. */
  logId?: string;
  /**
   * Source of the log id and the sync markers; default crypto randomBytes.
   * A seeded one makes the files reproducible (`matchlog gen`: same arguments, same bytes).
   */
  random?: RandomBytes;
}

/** n random bytes. */
export type RandomBytes = (n: number) => Buffer;

/** Told of every durable write: how long the disk took (ms, from the write's start to its completion) and its size. */
export type WriteObserver = (ms: number, bytes: number) => void;

/** A new log's identity: 128 random bits in hex. */
export function newLogId(random: RandomBytes = randomBytes): string {
  return random(16).toString('hex');
}

/** The segment recovery left open for appending. */
export interface TailSegment {
  path: string;
  firstSeq: number;
  /** Valid length: appends start here. */
  size: number;
  sync: Buffer;
  /** Whether it holds a command yet (a segment is never rolled before, so names stay unique). */
  hasCommand: boolean;
  /** Offset of the last index entry, -1 if none. */
  lastIndexed: number;
}

interface OpenSegment {
  path: string;
  fd: number;
  /** -1 once an index write failed (the index is derived data; recovery rebuilds it). */
  idxFd: number;
  size: number;
  sync: Buffer;
  hasCommand: boolean;
  policy: IndexPolicy;
}

/** A sealed block in `buf[start, end)`; SYNC_SIZE free bytes must follow `end` (a lone block's sync marker is written there). */
export interface SealedBlock { buf: Buffer; start: number; end: number; info: BlockInfo }

export interface BlockInfo {
  /** First command seq in the block: the name of a segment it opens. */
  firstCommandSeq: number;
  commands: number;
  /** Seq and ts of the first record (the index key). */
  firstSeq: number;
  firstTs: number;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing left to do with it
  }
}

export class LogWriter {
  private seg: OpenSegment | null = null;
  private busy = false;
  /** Durable bytes appended by this writer. */
  bytesWritten = 0;
  /**
   * Told of each durable write's time (the /metrics histogram, the log bench):
   * the commit latency's floor is the disk's, and this is how an operator sees it.
   */
  writeObserver: WriteObserver | null = null;

  /** Written into every segment header, so that a file of another log is told apart. */
  readonly logId: string;

  constructor(readonly dir: string, private readonly opts: WriterOptions, tail: TailSegment | null,
    private readonly schemaJson = recordSchemaJson) {
    this.logId = opts.logId ?? newLogId(opts.random);
    if (tail !== null) {
      const fd = openSync(tail.path, O_RDWR | O_DSYNC);
      const idxFd = openSync(indexPathOf(tail.path), 'a');
      this.seg = {
        path: tail.path, fd, idxFd, size: tail.size, sync: tail.sync, hasCommand: tail.hasCommand,
        policy: new IndexPolicy(opts.indexEvery, tail.lastIndexed < 0 ? -Infinity : tail.lastIndexed),
      };
    }
  }

  get segmentPath(): string | null {
    return this.seg?.path ?? null;
  }

  /**
   * Writes buf[start, end) (a sealed block; SYNC_SIZE free bytes must follow
   * `end`) durably. `done` runs once the block is durable, or with
   * the error; only one write may be outstanding.
   */
  write(buf: Buffer, start: number, end: number, info: BlockInfo, done: (err: Error | null) => void): void {
    this.writeBlocks([{ buf, start, end, info }], done);
  }

  /**
   * Writes several sealed blocks, one after the other, in one durable write
   * (a replica's group commit: the blocks its primary committed one by one
   * reach its disk in one trip). Blocks from the one that would open a new
   * segment on are left for the next call; returns how many it took.
   */
  writeBlocks(blocks: readonly SealedBlock[], done: (err: Error | null) => void): number {
    if (this.busy) throw new Error('LogWriter.write: a write is already outstanding');
    let seg: OpenSegment;
    try {
      seg = this.segmentFor(blocks[0].info);
    } catch (e) {
      done(e as Error);
      return 1;
    }
    let n = 1;
    let size = seg.size + blocks[0].end - blocks[0].start + SYNC_SIZE;
    while (n < blocks.length && size < this.opts.segmentBytes) size += blocks[n].end - blocks[n++].start + SYNC_SIZE;
    let buf: Buffer;
    let start: number;
    const lens: number[] = [];
    if (n === 1) {
      const b = blocks[0];
      seg.sync.copy(b.buf, b.end);
      buf = b.buf;
      start = b.start;
      lens.push(b.end + SYNC_SIZE - b.start);
    } else {
      buf = Buffer.allocUnsafe(size - seg.size);
      start = 0;
      let at = 0;
      for (let i = 0; i < n; i++) {
        const b = blocks[i];
        at += b.buf.copy(buf, at, b.start, b.end);
        at += seg.sync.copy(buf, at);
        lens.push(b.end + SYNC_SIZE - b.start);
      }
    }
    const len = size - seg.size;
    const offset = seg.size;
    this.busy = true;
    let written = 0;
    const observer = this.writeObserver;
    const started = observer === null ? 0 : performance.now();
    const finish = (err: Error | null): void => {
      this.busy = false;
      if (err === null) {
        if (observer !== null) observer(performance.now() - started, len);
        let off = offset;
        for (let i = 0; i < n; i++) {
          this.committed(seg, off, lens[i], blocks[i].info);
          off += lens[i];
        }
      }
      done(err);
    };
    const step = (err: NodeJS.ErrnoException | null, k: number): void => {
      if (err) return finish(new LogWriteError(seg.path, `durable write of ${len} bytes at byte offset ${offset + written} of`, err));
      written += k;
      if (written < len) {
        write(seg.fd, buf, start + written, len - written, offset + written, step);
        return;
      }
      finish(null);
    };
    write(seg.fd, buf, start, len, offset, step);
    return n;
  }

  /** Synchronous durable write of one sealed block (tools and tests). */
  writeSync(buf: Buffer, start: number, end: number, info: BlockInfo): void {
    const seg = this.segmentFor(info);
    seg.sync.copy(buf, end);
    const len = end + SYNC_SIZE - start;
    const offset = seg.size;
    let written = 0;
    while (written < len) written += writeSync(seg.fd, buf, start + written, len - written, offset + written);
    this.committed(seg, offset, len, info);
  }

  private committed(seg: OpenSegment, offset: number, len: number, info: BlockInfo): void {
    seg.size = offset + len;
    this.bytesWritten += len;
    if (info.commands > 0) seg.hasCommand = true;
    if (seg.policy.take(offset) && seg.idxFd >= 0) {
      // derived data: no fsync here, recovery rebuilds it if it was lost. A
      // failure (disk full) must not fail the block, which is durable: the
      // index of this segment just stops, and recovery rebuilds it.
      try {
        writeSync(seg.idxFd, encodeEntries([{ seq: info.firstSeq, ts: info.firstTs, offset }]), 0, INDEX_ENTRY_SIZE);
      } catch {
        closeQuietly(seg.idxFd);
        seg.idxFd = -1;
      }
    }
  }

  private segmentFor(info: BlockInfo): OpenSegment {
    const seg = this.seg;
    if (seg !== null && (seg.size < this.opts.segmentBytes || !seg.hasCommand)) return seg;
    this.seg = null;
    if (seg !== null) this.closeSegment(seg);
    this.seg = this.createSegment(info.firstCommandSeq);
    return this.seg;
  }

  private createSegment(firstSeq: number): OpenSegment {
    const path = join(this.dir, segmentName(firstSeq));
    const sync = (this.opts.random ?? randomBytes)(SYNC_SIZE);
    const header = encodeHeader(this.schemaJson, {
      'matchlog.kind': 'log', 'matchlog.version': String(RECORD_SCHEMA_VERSION), 'matchlog.segment': basename(path),
      'matchlog.log': this.logId,
    }, sync);
    let fd = -1;
    try {
      fd = openSync(path, O_RDWR | O_CREAT | O_EXCL | O_DSYNC, 0o644);
      let n = 0;
      while (n < header.length) n += writeSync(fd, header, n, header.length - n, n);
      const idxFd = openSync(indexPathOf(path), 'w');
      fsyncDir(this.dir);
      return { path, fd, idxFd, size: header.length, sync, hasCommand: false, policy: new IndexPolicy(this.opts.indexEvery) };
    } catch (e) {
      // a half-written header is a torn segment header to recovery: nothing is lost
      if (fd >= 0) closeQuietly(fd);
      throw new LogWriteError(path, 'creating the segment', e as NodeJS.ErrnoException);
    }
  }

  private closeSegment(seg: OpenSegment): void {
    if (seg.idxFd >= 0) {
      try {
        fsyncSync(seg.idxFd);
      } catch {
        // derived data (see committed): recovery rebuilds an index that did not reach the disk
      }
      closeQuietly(seg.idxFd);
    }
    closeSync(seg.fd);
  }

  close(): void {
    if (this.busy) throw new Error('LogWriter.close: a write is still outstanding');
    if (this.seg !== null) this.closeSegment(this.seg);
    this.seg = null;
  }
}
