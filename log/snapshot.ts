// Snapshots: the full engine state after a seq, one Avro container file each
// (snapshot-<seq>.avro, a single block holding a single record), written
// atomically: temp file, fsync, rename, fsync of the folder. A snapshot is
// only trusted if the engine restored from it has the hash it recorded.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_INTEGER, notionalFrom, notionalPlain, type EngineSnapshot, type InstrumentState, type OrderState } from '../engine/index.js';
import { SYNC_SIZE, encodeHeader, longSize, parseHeader, readBlock, writeLong } from './container.js';
import { fsyncDir, listSnapshots, snapshotName } from './files.js';
import { SNAPSHOT_SCHEMA_VERSION, snapshotReader, snapshotSchemaJson, snapshotType } from './schema.js';

export interface SnapshotData {
  seq: number;
  ts: number;
  epoch: number;
  hash: string;
  state: EngineSnapshot;
  /** The log the state belongs to (header key `matchlog.log`, as in its segments); absent in older files. */
  logId?: string;
}

const INSTRUMENT_OPTIONAL = ['minQty', 'maxQty', 'priceBand', 'referencePrice', 'status'] as const;

/**
 * cumNotional is `["long","string"]` since schema version 2: a long while avsc
 * can encode it exactly as a JS number (|n| <= 2^52), else the decimal digits.
 * A long keeps small snapshots as they were; any reader takes both branches.
 */
function notionalToAvro(v: number | string): number | string {
  return typeof v === 'number' && v <= MAX_INTEGER ? v : String(v);
}

function toAvro(s: SnapshotData): Record<string, unknown> {
  return {
    seq: s.seq, ts: s.ts, epoch: s.epoch, hash: s.hash, stateVersion: s.state.version,
    instruments: s.state.instruments.map((i) => {
      const v: Record<string, unknown> = { ...i };
      for (const k of INSTRUMENT_OPTIONAL) v[k] = i[k] ?? null;
      return v;
    }),
    orders: s.state.orders.map((o) => ({ ...o, cumNotional: notionalToAvro(o.cumNotional) })),
  };
}

function fromAvro(v: Record<string, unknown>): SnapshotData {
  const instruments = (v.instruments as Record<string, unknown>[]).map((i) => {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(i)) if (x !== null) out[k] = x;
    return out as unknown as InstrumentState;
  });
  const orders = (v.orders as Record<string, unknown>[]).map((o) => {
    const n = notionalFrom(o.cumNotional);
    if (n === null) throw new Error(`snapshot order ${String(o.orderId)}: cumNotional ${String(o.cumNotional)} is not a non-negative integer`);
    return { ...o, cumNotional: notionalPlain(n) } as unknown as OrderState;
  });
  // state version 1 (written before exact notional) is version 2 with only small notionals
  if (v.stateVersion !== 1 && v.stateVersion !== 2) throw new Error(`unsupported engine state version ${String(v.stateVersion)}`);
  return {
    seq: v.seq as number, ts: v.ts as number, epoch: v.epoch as number, hash: v.hash as string,
    state: { version: 2, instruments, orders },
  };
}

/** The bytes of a snapshot file; `random` gives the sync marker (seeded for reproducible files). */
export function encodeSnapshot(s: SnapshotData, random: (n: number) => Buffer = randomBytes): Buffer {
  const sync = random(SYNC_SIZE);
  const meta: Record<string, string> = { 'matchlog.kind': 'snapshot', 'matchlog.version': String(SNAPSHOT_SCHEMA_VERSION) };
  if (s.logId !== undefined) meta['matchlog.log'] = s.logId;
  const header = encodeHeader(snapshotSchemaJson, meta, sync);
  const data = snapshotType.toBuffer(toAvro(s));
  const prefix = Buffer.alloc(longSize(1) + longSize(data.length));
  writeLong(prefix, writeLong(prefix, 0, 1), data.length);
  return Buffer.concat([header, prefix, data, sync]);
}

/** Reads a snapshot file; throws with a reason when it is not a whole one. */
export function readSnapshot(path: string): SnapshotData {
  return decodeSnapshot(readFileSync(path));
}

/**
 * A snapshot file that is not what the writer wrote: where (byte offset) and
 * why. The writer writes header + one block + nothing else, atomically, so
 * anything else (a cut, trailing bytes of a copy or a disk) means the file
 * cannot be vouched for, even when its one block still decodes.
 */
export class SnapshotFormatError extends Error {
  constructor(readonly offset: number, readonly reason: string) {
    super(`at byte offset ${offset}: ${reason}`);
    this.name = 'SnapshotFormatError';
  }
}

/** A snapshot file's bytes, decoded; throws a SnapshotFormatError when they are not exactly a whole one. */
export function decodeSnapshot(buf: Buffer): SnapshotData {
  const header = parseHeader(buf);
  if (typeof header === 'string') throw new SnapshotFormatError(0, header);
  const frame = readBlock(buf, header.end, header.sync, false);
  if (typeof frame === 'string') throw new SnapshotFormatError(header.end, frame);
  if (frame.end !== buf.length) {
    const extra = buf.subarray(frame.end);
    throw new SnapshotFormatError(frame.end, `${extra.length} byte${extra.length === 1 ? '' : 's'}${extra.every((x) => x === 0) ? ' of zeros' : ''} after the snapshot's one block (the file is not the one written)`);
  }
  let value: Record<string, unknown>;
  try {
    value = snapshotType.fromBuffer(buf.subarray(frame.dataStart, frame.dataEnd), snapshotReader.resolver(header.schema)) as Record<string, unknown>;
  } catch (e) {
    throw new SnapshotFormatError(frame.dataStart, `the block does not decode: ${(e as Error).message}`);
  }
  const data = fromAvro(value);
  const logId = header.meta.get('matchlog.log');
  return logId === undefined ? data : { ...data, logId };
}

/** Writes a snapshot atomically and synchronously (start-up, shutdown); returns its path. */
export function writeSnapshotSync(dir: string, s: SnapshotData, random?: (n: number) => Buffer): string {
  const path = join(dir, snapshotName(s.seq));
  const tmp = `${path}.tmp`;
  const bytes = encodeSnapshot(s, random);
  try {
    const fd = openSync(tmp, 'w');
    try {
      let n = 0;
      while (n < bytes.length) n += writeSync(fd, bytes, n, bytes.length - n);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`writing ${tmp}: ${(e as Error).message}`);
  }
  renameSync(tmp, path);
  fsyncDir(dir);
  return path;
}

/** The same, off the main thread's critical path (periodic snapshots while trading). */
export async function writeSnapshot(dir: string, s: SnapshotData, random?: (n: number) => Buffer): Promise<string> {
  const path = join(dir, snapshotName(s.seq));
  const tmp = `${path}.tmp`;
  const bytes = encodeSnapshot(s, random);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`writing ${tmp}: ${(e as Error).message}`);
  }
  await rename(tmp, path);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
  return path;
}

/** Removes all but the newest `keep` snapshots. */
export function pruneSnapshots(dir: string, keep: number): void {
  for (const s of listSnapshots(dir).slice(Math.max(1, keep))) {
    try {
      unlinkSync(s.path);
    } catch {
      // a concurrent reader may hold it; the next prune gets it
    }
  }
}
