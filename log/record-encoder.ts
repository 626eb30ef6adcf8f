// A hand-written encoder of log records (record.v1.avsc), for the sequencer's
// commit path: each record is written straight into the block's reused buffer,
// with no intermediate object (avsc's `Type.encode` allocates a Tap per call
// and `Object.keys` of every wrapped union value).
//
// Contract: the bytes are exactly avsc's (`recordType.toBuffer`) for every
// record the sequencer writes — the log format is read by foreign Avro tools.
// test/log-record-encoder.test.ts holds it to that on random commands, origins,
// seqs and timestamps, unicode included.
//
// The layout is not written down twice: the union branch indexes come from
// the parsed schema, and importing record-decoder.ts checks at load time that
// every branch's fields are the codec's (same order, same types).

import type avro from 'avsc';
import type { Command } from '../engine/index.js';
import { CHECKPOINT, COMMAND_SPECS, COMMIT, EPOCH, type Kind } from './codec.js';
import { planFor } from './record-decoder.js';
import { recordType } from './schema.js';

planFor(recordType); // throws when the schema and the codec's specs disagree

const union = (recordType as avro.types.RecordType).fields[3].type as avro.types.WrappedUnionType;

function branchIndex(name: string): number {
  const i = union.types.findIndex((t) => t.name === name);
  if (i < 0) throw new Error(`matchlog: log/schema/record.v1.avsc has no union branch ${name}`);
  return i;
}

export const CHECKPOINT_INDEX = branchIndex(CHECKPOINT);
export const EPOCH_INDEX = branchIndex(EPOCH);
export const COMMIT_INDEX = branchIndex(COMMIT);

const K_STR = 0; // string (str, id)
const K_OPT_STR = 1; // ["null", "string"] (optStr, optId)
const K_OPT_LONG = 2; // ["null", "long"]
const K_OPT_BOOL = 3; // ["null", "boolean"]
const KIND: Record<Kind, number> = { str: K_STR, id: K_STR, optStr: K_OPT_STR, optId: K_OPT_STR, optLong: K_OPT_LONG, optBool: K_OPT_BOOL };

interface EncSpec { index: number; names: string[]; kinds: number[] }

const indexOfOp = (op: string): number => branchIndex((COMMAND_SPECS.find((s) => s.op === op) as { branch: string }).branch);
const NEW_INDEX = indexOfOp('new');
const CANCEL_INDEX = indexOfOp('cancel');
const REPLACE_INDEX = indexOfOp('replace');
const BY_OP = new Map<string, EncSpec>(COMMAND_SPECS.map((s) => [s.op, {
  index: branchIndex(s.branch), names: s.fields.map((f) => f[0]), kinds: s.fields.map((f) => KIND[f[1]]),
}]));

/** Writes a long as a zig-zag varint at pos (the same bytes as avsc's Tap.writeLong); returns the position after it. */
export function putLong(buf: Buffer, pos: number, n: number): number {
  if (n >= -0x40000000 && n < 0x40000000) {
    let m = n >= 0 ? n << 1 : (~n << 1) | 1;
    while (m > 0x7f) {
      buf[pos++] = (m & 0x7f) | 0x80;
      m >>>= 7;
    }
    buf[pos++] = m;
    return pos;
  }
  // the zig-zag value, exact in a double for the codec's longs (|n| <= 2^52), as two
  // 32-bit halves: integer shifts instead of a float division per byte (timestamps take
  // 8 bytes); floor and a multiply, not %, which V8 does as a call to fmod
  const z = n >= 0 ? n * 2 : -n * 2 - 1;
  let hi = Math.floor(z / 4294967296);
  let lo = (z - hi * 4294967296) >>> 0;
  while (hi !== 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

/**
 * Writes an Avro string (byte length, then UTF-8) at pos; returns the position
 * after it. `s` must be well-formed (the codec refuses lone surrogates).
 */
export function putString(buf: Buffer, pos: number, s: string): number {
  const n = s.length;
  if (n < 64) {
    // short and ASCII, the usual case: one length byte (zig-zag 2n < 128), then the char codes,
    // written in one pass; a non-ASCII char sends it to the UTF-8 path, which writes it again
    buf[pos] = n << 1;
    let k = 0;
    for (; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x80) break;
      buf[pos + 1 + k] = c;
    }
    if (k === n) return pos + 1 + n;
  } else {
    let i = 0;
    while (i < n && s.charCodeAt(i) < 0x80) i++;
    if (i === n) {
      pos = putLong(buf, pos, n);
      for (let k = 0; k < n; k++) buf[pos + k] = s.charCodeAt(k);
      return pos + n;
    }
  }
  const len = Buffer.byteLength(s, 'utf8');
  pos = putLong(buf, pos, len);
  return pos + buf.write(s, pos, len, 'utf8');
}

/** ["null", "string"]: branch 0 for an absent value, else branch 1 (zig-zag 2) and the string. */
function putOptString(buf: Buffer, pos: number, v: string | undefined | null): number {
  if (v === undefined || v === null) {
    buf[pos] = 0;
    return pos + 1;
  }
  buf[pos] = 2;
  return putString(buf, pos + 1, v);
}

function putOptLong(buf: Buffer, pos: number, v: number | undefined | null): number {
  if (v === undefined || v === null) {
    buf[pos] = 0;
    return pos + 1;
  }
  buf[pos] = 2;
  return putLong(buf, pos + 1, v);
}

/** The fields a cancel and a replace start with: who asks, and which order. */
function putOrderRef(buf: Buffer, pos: number, c: { account: string; clOrdId: string; origClOrdId?: string; orderId?: number; symbol?: string }): number {
  pos = putString(buf, pos, c.account);
  pos = putString(buf, pos, c.clOrdId);
  pos = putOptString(buf, pos, c.origClOrdId);
  pos = putOptLong(buf, pos, c.orderId);
  return putOptString(buf, pos, c.symbol);
}

function head(buf: Buffer, pos: number, seq: number, ts: number, origin: string, index: number): number {
  pos = putLong(buf, pos, seq);
  pos = putLong(buf, pos, ts);
  pos = putString(buf, pos, origin);
  return putLong(buf, pos, index);
}

/**
 * Encodes the record of command `cmd` (a normalized command: from
 * prepareCommand or a decoded record) at pos; returns the position after it.
 * An absent optional field (undefined or null) is written as null, as avsc does.
 */
export function encodeCommandRecord(buf: Buffer, pos: number, seq: number, ts: number, origin: string, cmd: Command): number {
  // the order flow's ops field by field (codec.ts HOT_FIELDS: the same lists as the specs, checked at load)
  switch (cmd.op) {
    case 'new': {
      pos = head(buf, pos, seq, ts, origin, NEW_INDEX);
      pos = putString(buf, pos, cmd.account);
      pos = putString(buf, pos, cmd.clOrdId);
      pos = putString(buf, pos, cmd.symbol);
      pos = putString(buf, pos, cmd.side);
      pos = putString(buf, pos, cmd.type);
      pos = putOptString(buf, pos, cmd.price);
      pos = putString(buf, pos, cmd.qty);
      pos = putOptString(buf, pos, cmd.tif);
      const p = cmd.postOnly;
      if (p === undefined || p === null) buf[pos++] = 0;
      else {
        buf[pos++] = 2;
        buf[pos++] = p === true ? 1 : 0;
      }
      return putOptString(buf, pos, cmd.stp);
    }
    case 'cancel':
      return putOrderRef(buf, head(buf, pos, seq, ts, origin, CANCEL_INDEX), cmd);
    case 'replace':
      pos = putOrderRef(buf, head(buf, pos, seq, ts, origin, REPLACE_INDEX), cmd);
      pos = putOptString(buf, pos, cmd.price);
      return putString(buf, pos, cmd.qty);
    default:
  }
  const spec = BY_OP.get(cmd.op);
  if (spec === undefined) throw new Error(`cannot encode a command with op ${String(cmd.op)}`);
  pos = head(buf, pos, seq, ts, origin, spec.index);
  const { names, kinds } = spec;
  const c = cmd as unknown as Record<string, unknown>;
  for (let i = 0; i < names.length; i++) {
    const v = c[names[i]];
    const kind = kinds[i];
    if (kind === K_STR) {
      pos = putString(buf, pos, v as string);
    } else if (v === undefined || v === null) {
      buf[pos++] = 0; // union branch 0: null
    } else {
      buf[pos++] = 2; // union branch 1 (zig-zag 1 = 2)
      if (kind === K_OPT_STR) pos = putString(buf, pos, v as string);
      else if (kind === K_OPT_LONG) pos = putLong(buf, pos, v as number);
      else buf[pos++] = v === true ? 1 : 0;
    }
  }
  return pos;
}

export function encodeCheckpointRecord(buf: Buffer, pos: number, seq: number, ts: number, hash: string): number {
  return putString(buf, head(buf, pos, seq, ts, '', CHECKPOINT_INDEX), hash);
}

export function encodeEpochRecord(buf: Buffer, pos: number, seq: number, ts: number, epoch: number, node: string): number {
  return putString(buf, putLong(buf, head(buf, pos, seq, ts, '', EPOCH_INDEX), epoch), node);
}

/** The Commit record with `crc` (4 bytes, big-endian); returns the position after it (the crc is its last 4 bytes). */
export function encodeCommitRecord(buf: Buffer, pos: number, seq: number, ts: number, records: number, crc: number): number {
  pos = putLong(buf, head(buf, pos, seq, ts, '', COMMIT_INDEX), records);
  buf.writeUInt32BE(crc >>> 0, pos);
  return pos + 4;
}
