// Log records in memory, and the block builder that encodes one group commit.

import type { Command } from '../engine/index.js';
import { CHECKPOINT, COMMIT, EPOCH, commandFromBody, type Body } from './codec.js';
import { BLOCK_PREFIX, SYNC_SIZE, longSize, readLong, writeLong, type BlockFrame } from './container.js';
import { crc32 } from './crc32.js';
import { decodeCurrentBlock } from './record-decoder.js';
import { encodeCheckpointRecord, encodeCommandRecord, encodeCommitRecord, encodeEpochRecord } from './record-encoder.js';
import { recordType, type Resolver } from './schema.js';

export interface CommandRecord { kind: 'command'; seq: number; ts: number; origin: string; cmd: Command }
/** Engine state hash after command `seq`. */
export interface CheckpointRecord { kind: 'checkpoint'; seq: number; ts: number; hash: string }
/** A writer took over after command `seq`. */
export interface EpochRecord { kind: 'epoch'; seq: number; ts: number; epoch: number; node: string }
/** End of a block (group commit). */
export interface CommitRecord { kind: 'commit'; seq: number; ts: number; records: number }

export type LogRecord = CommandRecord | CheckpointRecord | EpochRecord | CommitRecord;

interface RawRecord { seq: number; ts: number; origin: string; body: Body }

/**
 * Encodes the records of one block in place, into a reusable buffer (the
 * hand-written encoder of record-encoder.ts: avsc's bytes, no allocation).
 */
export class BlockBuilder {
  readonly buf: Buffer;
  private pos = BLOCK_PREFIX;
  /** Past this position a record may not have fitted (the buffer silently drops writes beyond its end). */
  private readonly limit: number;
  count = 0;
  commands = 0;
  firstSeq = -1;
  firstTs = 0;

  /** `softLimit`: stop adding commands past this many data bytes; `margin` must hold the largest record. */
  constructor(readonly softLimit: number, margin = 1 << 18) {
    this.buf = Buffer.allocUnsafe(BLOCK_PREFIX + softLimit + margin + SYNC_SIZE);
    this.limit = this.buf.length - SYNC_SIZE;
  }

  get dataBytes(): number {
    return this.pos - BLOCK_PREFIX;
  }

  full(): boolean {
    return this.pos - BLOCK_PREFIX >= this.softLimit;
  }

  reset(): void {
    this.pos = BLOCK_PREFIX;
    this.count = 0;
    this.commands = 0;
    this.firstSeq = -1;
    this.firstTs = 0;
  }

  private added(seq: number, ts: number, next: number): void {
    if (next > this.limit) throw new Error(`block buffer overflow at ${this.pos} bytes (soft limit ${this.softLimit})`);
    this.pos = next;
    if (this.count === 0) {
      this.firstSeq = seq;
      this.firstTs = ts;
    }
    this.count++;
  }

  /** `cmd` must come from prepareCommand (or a decoded record): it is the record value as it is. */
  command(seq: number, ts: number, origin: string, cmd: Command): void {
    this.added(seq, ts, encodeCommandRecord(this.buf, this.pos, seq, ts, origin, cmd));
    this.commands++;
  }

  checkpoint(seq: number, ts: number, hash: string): void {
    this.added(seq, ts, encodeCheckpointRecord(this.buf, this.pos, seq, ts, hash));
  }

  epoch(seq: number, ts: number, epoch: number, node: string): void {
    this.added(seq, ts, encodeEpochRecord(this.buf, this.pos, seq, ts, epoch, node));
  }

  /**
   * Appends the Commit record and frames the block; the block is then
   * [start, end) of buf, and the SYNC_SIZE bytes after `end` are free for the
   * sync marker. Returns `end`; `start` is in `this.start`.
   */
  sealAt(seq: number, ts: number): number {
    this.added(seq, ts, encodeCommitRecord(this.buf, this.pos, seq, ts, this.count + 1, 0));
    const end = this.pos;
    this.buf.writeUInt32BE(crc32(this.buf, BLOCK_PREFIX, end - 4), end - 4);
    const size = end - BLOCK_PREFIX;
    const start = BLOCK_PREFIX - longSize(this.count) - longSize(size);
    writeLong(this.buf, writeLong(this.buf, start, this.count), size);
    this.start = start;
    return end;
  }

  /** Start of the framed block after sealAt. */
  start = 0;

  /** sealAt, returning [start, end) as an object (tools and tests). */
  seal(seq: number, ts: number): { start: number; end: number } {
    const end = this.sealAt(seq, ts);
    return { start: this.start, end };
  }
}

/** Turns one decoded Avro record into a LogRecord. */
export function toLogRecord(v: RawRecord): LogRecord {
  const body = v.body;
  let branch = '';
  for (const k in body) {
    branch = k;
    break;
  }
  const value = body[branch];
  const cmd = commandFromBody(branch, value);
  if (cmd !== null) return { kind: 'command', seq: v.seq, ts: v.ts, origin: v.origin, cmd };
  switch (branch) {
    case CHECKPOINT: return { kind: 'checkpoint', seq: v.seq, ts: v.ts, hash: value.hash as string };
    case EPOCH: return { kind: 'epoch', seq: v.seq, ts: v.ts, epoch: value.epoch as number, node: value.node as string };
    case COMMIT: return { kind: 'commit', seq: v.seq, ts: v.ts, records: value.records as number };
    default: throw new Error(`unknown record branch ${branch}`);
  }
}

/**
 * Decodes the records of a checked block; throws with a reason when they do not
 * decode cleanly. Blocks of the current schema (no resolver) take the
 * hand-written decoder, older ones avsc with the resolver.
 */
export function decodeBlock(buf: Buffer, frame: BlockFrame, resolver: Resolver | undefined): LogRecord[] {
  return resolver === undefined && !blockDecoding.avscOnly ? decodeCurrentBlock(buf, frame) : decodeBlockAvsc(buf, frame, resolver);
}

/** For bench/decode.bench.ts: `avscOnly` sends every block through avsc, to time a whole replay both ways in one process. */
export const blockDecoding = { avscOnly: false };

/** decodeBlock through avsc: any writer schema the resolver reads (undefined: the current one). */
export function decodeBlockAvsc(buf: Buffer, frame: BlockFrame, resolver: Resolver | undefined): LogRecord[] {
  const data = buf.subarray(frame.dataStart, frame.dataEnd);
  const out: LogRecord[] = [];
  let pos = 0;
  for (let i = 0; i < frame.count; i++) {
    const r = recordType.decode(data, pos, resolver);
    if (r.offset < 0) throw new Error(`record ${i} of ${frame.count} runs past the block`);
    pos = r.offset;
    out.push(toLogRecord(r.value as RawRecord));
  }
  if (pos !== data.length) throw new Error(`${data.length - pos} bytes left after ${frame.count} records`);
  const last = out[out.length - 1];
  if (last.kind !== 'commit' || last.records !== frame.count) throw new Error('block does not end with its commit record');
  return out;
}

/** Seq and ts of the first record of a checked block, read without decoding it (they lead every record). */
export function blockKey(buf: Buffer, frame: BlockFrame): { seq: number; ts: number } {
  const a = readLong(buf, frame.dataStart, frame.dataEnd);
  const b = a === null ? null : readLong(buf, a.next, frame.dataEnd);
  return { seq: a?.value ?? 0, ts: b?.value ?? 0 };
}
