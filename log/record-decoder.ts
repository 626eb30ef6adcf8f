// A hand-written decoder for blocks written with the current record schema:
// the replay / verify / recovery hot path. avsc decodes each record into an
// intermediate object graph (record, wrapped union, branch record) that
// toLogRecord + commandFromBody then copy again; here each record is built
// once, in its final LogRecord shape, straight from the bytes.
//
// Only for data whose writer schema *is* the current one (the resolver is
// undefined); older files keep going through avsc and its resolver.
//
// Contract with the avsc path (test/log-record-decoder.test.ts holds it to
// it): the same LogRecords, key order included, for every block avsc decodes
// cleanly; on any other input a thrown Error with a reason (the scanner turns
// it into BlockDamage). It is stricter than avsc in three places, all of them
// data our writer never produces: a boolean byte other than 0/1 (avsc reads
// any non-zero byte as true), a long varint over 8 bytes, and a long beyond
// +-2^52 (avsc returns an inexact double past 2^53; the codec bounds every
// integer it logs to +-2^52, and seq/ts/epoch are far below it).
//
// The layout is not written down twice: the union branch order, field order
// and field types come from the parsed schema (recordType), and are checked
// at load time against the codec's OP_SPECS and the record kinds this module
// knows. A schema change that this decoder does not follow fails at start-up,
// never silently at decode time.

import avro from 'avsc';
import type { Command } from '../engine/index.js';
import { CHECKPOINT, COMMAND_SPECS, COMMIT, EPOCH, type Kind } from './codec.js';
import type { BlockFrame } from './container.js';
import type { LogRecord } from './records.js';
import { recordType } from './schema.js';

// --- the plan: one entry per union branch, in the schema's branch order ---

const T_COMMAND = 0;
const T_CHECKPOINT = 1;
const T_EPOCH = 2;
const T_COMMIT = 3;

export interface Branch {
  tag: number;
  /** Commands only: the op, and the reader of the branch's fields. */
  op: string;
  read: () => Command;
}

/** Avro type of each codec kind, as avsc names it ('?' = ["null", T]). */
const KIND_TYPE: Record<Kind, string> = { str: 'string', id: 'string', optStr: '?string', optId: '?string', optLong: '?long', optBool: '?boolean' };
/** How the generated reader reads each kind (see commandReader). */
const KIND_READ: Record<Kind, [optional: boolean, read: string]> = {
  str: [false, 'str()'], id: [false, 'str()'], optStr: [true, 'str()'], optId: [true, 'str()'], optLong: [true, 'long()'], optBool: [true, 'bool()'],
};

/** Fields of the non-command branches, as this decoder reads them. */
const OTHER = new Map<string, { tag: number; fields: string[] }>([
  [CHECKPOINT, { tag: T_CHECKPOINT, fields: ['hash:string'] }],
  [EPOCH, { tag: T_EPOCH, fields: ['epoch:long', 'node:string'] }],
  [COMMIT, { tag: T_COMMIT, fields: ['records:long', 'crc:fixed4'] }],
]);

function disagree(what: string): never {
  throw new Error(`matchlog: log/schema/record.v1.avsc and log/record-decoder.ts disagree: ${what}`);
}

/**
 * A type as this module spells it. An optional is ["null", T] with null first:
 * Avro requires the default's branch first, and every optional defaults to
 * null; the decoder reads index 0 as absent and 1 as present.
 */
function typeOf(t: avro.Type): string {
  if (t instanceof avro.types.UnwrappedUnionType || t instanceof avro.types.WrappedUnionType) {
    const ts = t.types.map(typeOf);
    return ts.length === 2 && ts[0] === 'null' ? `?${ts[1]}` : `[${ts.join(',')}]`;
  }
  if (t instanceof avro.types.FixedType) return `fixed${t.size}`;
  if (t instanceof avro.types.RecordType) return `record ${t.name ?? ''}`;
  return t.typeName;
}

function fieldsOf(t: avro.Type, where: string): string[] {
  if (!(t instanceof avro.types.RecordType)) return disagree(`${where} is not a record`);
  return t.fields.map((f) => `${f.name}:${typeOf(f.type)}`);
}

function same(got: string[], want: string[], where: string): void {
  if (got.join() !== want.join()) disagree(`${where} has fields (${got.join(', ')}), the decoder reads (${want.join(', ')})`);
}

/** The decoding plan for `type` (the current record type; tests pass altered ones); throws when the decoder cannot read it. */
export function planFor(type: avro.Type): Branch[] {
  const top = fieldsOf(type, 'Record');
  same(top.slice(0, 3), ['seq:long', 'ts:long', 'origin:string'], 'Record');
  const body = (type as avro.types.RecordType).fields[3];
  if (top.length !== 4 || body.name !== 'body' || !(body.type instanceof avro.types.WrappedUnionType)) {
    return disagree('Record must be seq, ts, origin and then body, a union of records');
  }
  const branches = body.type.types;
  const specs = new Map(COMMAND_SPECS.map((s) => [s.branch, s]));
  const plan = branches.map((t): Branch => {
    const name = t.name ?? '';
    const got = fieldsOf(t, `branch ${name}`);
    const spec = specs.get(name);
    if (spec !== undefined) {
      specs.delete(name);
      same(got, spec.fields.map(([n, k]) => `${n}:${KIND_TYPE[k]}`), `branch ${name}`);
      return { tag: T_COMMAND, op: spec.op, read: commandReader(spec.op, spec.fields) };
    }
    const other = OTHER.get(name);
    if (other === undefined) return disagree(`unknown union branch ${name}`);
    same(got, other.fields, `branch ${name}`);
    return { tag: other.tag, op: '', read: noCommand };
  });
  if (specs.size > 0) disagree(`no union branch for ${[...specs.keys()].join(', ')}`);
  for (const [n, o] of OTHER) if (!plan.some((b, i) => b.tag === o.tag && branches[i].name === n)) disagree(`no union branch ${n}`);
  return plan;
}

const PLAN = planFor(recordType);

// --- the reader: module state, because a block decodes synchronously and the
// hot path should not allocate a cursor or a {value, next} pair per read ---

interface Slicer { utf8Slice(start: number, end: number): string; latin1Slice(start: number, end: number): string }

const EMPTY = Buffer.alloc(0);
let buf: Buffer = EMPTY;
let pos = 0;
let end = 0;
let rec = 0;
let recs = 0;

function fail(reason: string): never {
  throw new Error(`record ${rec} of ${recs}: ${reason}`);
}

function past(): never {
  throw new Error(`record ${rec} of ${recs} runs past the block`);
}

/** Avro long (zig-zag varint). Single-byte values (union indexes, small counts) take the first branch. */
function long(): number {
  if (pos >= end) past();
  const b = buf[pos++];
  if (b < 0x80) return (b >>> 1) ^ -(b & 1);
  return longSlow(b);
}

function longSlow(first: number): number {
  // locals, not the module's cursor: nothing in the loop can change them
  const b = buf;
  const e = end;
  let p = pos;
  // doubles are exact here: at most 7 * 7 = 49 bits before the last byte
  let v = first & 0x7f;
  let mul = 0x80;
  for (let n = 1; ; n++) {
    if (p >= e) past();
    const x = b[p++];
    const low = x & 0x7f;
    if (n === 7) {
      // the 8th byte holds bits 49..55; a zig-zag code over 2^53 (= +2^52) is damage, and
      // is tested on the parts: their double sum would round 2^53 + 1 down to 2^53
      if (x >= 0x80) fail('long varint longer than 8 bytes');
      if (low > 16 || (low === 16 && v !== 0)) fail('long beyond +-2^52');
    }
    v += low * mul;
    if (x < 0x80) break;
    mul *= 0x80;
  }
  pos = p;
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

/** Short ASCII strings (ids, symbols, sides, prices) repeat a lot: a small cache saves the copy, the native call and the garbage. */
const SHORT = 24;
const CACHE_MASK = 4095;
const cache: string[] = new Array<string>(CACHE_MASK + 1).fill('');

function str(): string {
  const b = buf;
  const e = end;
  let p = pos;
  if (p >= e) past();
  // the length: one byte for any string up to 63 bytes
  let len = b[p];
  if (len < 0x80) {
    pos = ++p;
    if ((len & 1) !== 0) fail(`negative string length ${-((len + 1) >>> 1)}`);
    len >>>= 1;
  } else {
    len = long();
    p = pos;
    if (len < 0) fail(`negative string length ${len}`);
  }
  if (len > e - p) fail(`string of ${len} bytes runs past the block`);
  const stop = p + len;
  pos = stop;
  if (len === 0) return '';
  const slicer = b as unknown as Slicer;
  if (len > SHORT) return slicer.utf8Slice(p, stop);
  let h = len;
  for (let i = p; i < stop; i++) {
    const c = b[i];
    // not ASCII: UTF-8 decoding exactly as avsc does it, replacement characters and all
    if (c >= 0x80) return slicer.utf8Slice(p, stop);
    h = Math.imul(h ^ c, 0x01000193);
  }
  h = (h ^ (h >>> 13)) & CACHE_MASK;
  const s = cache[h];
  if (s.length === len) {
    // ASCII bytes are their own UTF-16 code units
    let i = 0;
    while (i < len && s.charCodeAt(i) === b[p + i]) i++;
    if (i === len) return s;
  }
  // ASCII: Latin-1 decoding gives the same string, with less work than UTF-8's
  const t = slicer.latin1Slice(p, stop);
  cache[h] = t;
  return t;
}

/** Index of a ["null", T] union: false for null. */
function present(): boolean {
  const i = long();
  if (i === 1) return true;
  if (i !== 0) fail(`invalid union index ${i} of an optional field`);
  return false;
}

function bool(): boolean {
  if (pos >= end) past();
  const b = buf[pos++];
  if (b > 1) fail(`boolean byte ${b}`);
  return b === 1;
}

function noCommand(): Command {
  throw new Error('not a command branch');
}

/**
 * The reader of one command branch, generated from its spec: `op` first, then
 * the fields in schema order, absent optionals left out (the key order of
 * commandFromBody and prepareCommand). Generated rather than a loop over the
 * fields because `cmd[names[i]] = v` is a megamorphic keyed store that adds a
 * property, which V8 does in the runtime: it was half the decode time. Here
 * every store is a named one with its own inline cache, and the leading
 * required fields go into the object literal. Arguments of a literal are
 * evaluated left to right, so the fields are read in order.
 */
function commandReader(op: string, fields: ReadonlyArray<readonly [string, Kind]>): () => Command {
  const literal = [`op: ${JSON.stringify(op)}`];
  const rest: string[] = [];
  for (const [name, kind] of fields) {
    const [optional, read] = KIND_READ[kind];
    const key = JSON.stringify(name);
    if (optional) rest.push(`if (present()) c[${key}] = ${read};`);
    else if (rest.length === 0) literal.push(`${key}: ${read}`);
    else rest.push(`c[${key}] = ${read};`);
  }
  const body = `return function read_${op.replace(/\W/g, '_')}() {\n  const c = { ${literal.join(', ')} };\n  ${rest.join('\n  ')}\n  return c;\n};`;
  const make = new Function('str', 'long', 'bool', 'present', body) as (...readers: (() => unknown)[]) => () => Command;
  return make(str, long, bool, present);
}

function record(): LogRecord {
  const seq = long();
  const ts = long();
  const origin = str();
  const index = long();
  if (index < 0 || index >= PLAN.length) fail(`invalid union index ${index}`);
  const br = PLAN[index];
  switch (br.tag) {
    case T_COMMAND: return { kind: 'command', seq, ts, origin, cmd: br.read() };
    case T_CHECKPOINT: return { kind: 'checkpoint', seq, ts, hash: str() };
    case T_EPOCH: {
      const epoch = long();
      return { kind: 'epoch', seq, ts, epoch, node: str() };
    }
    default: {
      const records = long();
      if (end - pos < 4) past();
      pos += 4; // the crc: the scanner has checked it
      return { kind: 'commit', seq, ts, records };
    }
  }
}

/** The records of a block written with the current schema; throws with a reason when they do not decode cleanly. */
export function decodeCurrentBlock(data: Buffer, frame: BlockFrame): LogRecord[] {
  buf = data;
  pos = frame.dataStart;
  end = frame.dataEnd;
  recs = frame.count;
  const out: LogRecord[] = [];
  try {
    for (rec = 0; rec < recs; rec++) out.push(record());
    if (pos !== end) throw new Error(`${end - pos} bytes left after ${recs} records`);
  } finally {
    buf = EMPTY; // do not keep a segment alive between calls
  }
  const last = out[out.length - 1];
  if (last === undefined || last.kind !== 'commit' || last.records !== frame.count) throw new Error('block does not end with its commit record');
  return out;
}
