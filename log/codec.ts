// Commands <-> log records. Commands are untrusted: anything that does not
// have the shape of a Command (wrong types, unknown op, malformed strings, ids
// outside engine/limits.ts) is refused here, before it gets a seq, because the
// log must never fail to encode a command it has stamped. Values inside a
// well-shaped command (a side of "up", an off-tick price) are not judged here:
// they are logged, and the engine's rejection is re-derived on replay.
//
// Everything refused here the engine rejects too, as invalid_order and before
// any other check (test/engine-limits.test.ts holds both to it): ids by the
// same rule (limits.ts), integers by the same bound, and any other string the
// engine reads is an enum or a decimal of at most 40 characters, which a
// string this refuses can never be.
//
// The engine applies the *normalized* command this module returns, never the
// raw input, so the live run and a replay of the decoded record see exactly
// the same object (nulls dropped, unknown fields dropped).

import { MAX_INTEGER, idProblem, isId, isInteger, type Command, type CommandOp } from '../engine/index.js';
import { InvalidCommandError } from './errors.js';
import { NS } from './schema.js';

/** avsc encodes JS-number longs exactly only within +-2^52 (zig-zag doubles the magnitude). */
export const MAX_LONG = MAX_INTEGER;

/** Longest string a command field other than an id may hold; bounds the size of a record. */
export const MAX_STRING = 1024;

/** id: account, clOrdId, origClOrdId, symbol, held to the engine's id rule. */
export type Kind = 'str' | 'optStr' | 'optLong' | 'optBool' | 'id' | 'optId';

export interface OpSpec {
  op: CommandOp;
  /** Qualified name of the union branch. */
  branch: string;
  fields: ReadonlyArray<readonly [string, Kind]>;
}

const OP_SPECS: OpSpec[] = ([
  { op: 'instrument', branch: 'Instrument', fields: [['symbol', 'id'], ['tickSize', 'str'], ['lotSize', 'str'], ['minQty', 'optStr'], ['maxQty', 'optStr'], ['priceBand', 'optStr'], ['referencePrice', 'optStr'], ['status', 'optStr']] },
  { op: 'new', branch: 'NewOrder', fields: [['account', 'id'], ['clOrdId', 'id'], ['symbol', 'id'], ['side', 'str'], ['type', 'str'], ['price', 'optStr'], ['qty', 'str'], ['tif', 'optStr'], ['postOnly', 'optBool'], ['stp', 'optStr']] },
  { op: 'cancel', branch: 'Cancel', fields: [['account', 'id'], ['clOrdId', 'id'], ['origClOrdId', 'optId'], ['orderId', 'optLong'], ['symbol', 'optId']] },
  { op: 'replace', branch: 'Replace', fields: [['account', 'id'], ['clOrdId', 'id'], ['origClOrdId', 'optId'], ['orderId', 'optLong'], ['symbol', 'optId'], ['price', 'optStr'], ['qty', 'str']] },
  { op: 'massCancel', branch: 'MassCancel', fields: [['account', 'id'], ['symbol', 'optId'], ['clOrdId', 'optId']] },
  { op: 'halt', branch: 'Halt', fields: [['symbol', 'id']] },
  { op: 'resume', branch: 'Resume', fields: [['symbol', 'id']] },
  { op: 'book', branch: 'BookQuery', fields: [['symbol', 'id'], ['depth', 'optLong']] },
] satisfies OpSpec[]).map((s) => ({ ...s, branch: NS + s.branch }));

const KIND_STR = 0;
const KIND_OPT_STR = 1;
const KIND_OPT_LONG = 2;
const KIND_OPT_BOOL = 3;
const KIND_ID = 4;
const KIND_OPT_ID = 5;
const KIND_CODE: Record<Kind, number> = { str: KIND_STR, optStr: KIND_OPT_STR, optLong: KIND_OPT_LONG, optBool: KIND_OPT_BOOL, id: KIND_ID, optId: KIND_OPT_ID };

/** The same specs as flat arrays: this runs for every command. */
interface FastSpec { op: string; branch: string; names: string[]; kinds: number[] }

const FAST = new Map<string, FastSpec>(OP_SPECS.map((s) => [s.op, {
  op: s.op, branch: s.branch, names: s.fields.map((f) => f[0]), kinds: s.fields.map((f) => KIND_CODE[f[1]]),
}]));
const BY_BRANCH = new Map(OP_SPECS.map((s) => [s.branch, s]));

/** The command branches, fields in schema order: log/record-decoder.ts checks them against the schema and decodes by them. */
export const COMMAND_SPECS: ReadonlyArray<Readonly<OpSpec>> = OP_SPECS;

/** Every op the log carries, for tests and tools. */
export const COMMAND_OPS: readonly CommandOp[] = OP_SPECS.map((s) => s.op);

export const CHECKPOINT = `${NS}Checkpoint`;
export const EPOCH = `${NS}Epoch`;
export const COMMIT = `${NS}Commit`;

/** A union value as avsc writes it: `{ "<qualified branch name>": fields }`. */
export type Body = Record<string, Record<string, unknown>>;

/** The union branch of a normalized command. */
export function branchOf(cmd: Command): string {
  return (FAST.get(cmd.op) as FastSpec).branch;
}

/**
 * The Avro union value of a normalized command. The command itself is the
 * record value: avsc ignores `op` and writes null for absent optional fields.
 */
export function bodyOf(cmd: Command): Body {
  return { [branchOf(cmd)]: cmd as unknown as Record<string, unknown> };
}

interface WellFormed { isWellFormed(): boolean }

/** A string that survives UTF-8 (no lone surrogates) within the size bound; else why not. */
export function checkString(v: string, what: string): string | null {
  if (v.length > MAX_STRING) return `${what} is longer than ${MAX_STRING} characters`;
  if (!(v as unknown as WellFormed).isWellFormed()) return `${what} is not well-formed Unicode (lone surrogate)`;
  return null;
}

function refuse(reason: string): never {
  throw new InvalidCommandError(reason);
}

/**
 * Validates the shape of an untrusted command and returns its normalized copy
 * (what the engine applies and the log encodes); throws InvalidCommandError
 * when it cannot be logged.
 */
export function prepareCommand(raw: unknown): Command {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) refuse('a command must be an object');
  const src = raw as Record<string, unknown>;
  const op = src.op;
  const spec = typeof op === 'string' ? FAST.get(op) : undefined;
  if (spec === undefined) refuse(`unknown op ${JSON.stringify(op) ?? String(op)}`);
  const cmd: Record<string, unknown> = { op };
  const { names, kinds } = spec;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const kind = kinds[i];
    let v = src[name];
    if (v === undefined || v === null) {
      if (kind === KIND_STR || kind === KIND_ID) refuse(`${op}: ${name} is required`);
      continue;
    }
    if (kind === KIND_ID || kind === KIND_OPT_ID) {
      if (!isId(v)) refuse(`${op}: ${idProblem(v, name) as string}`);
    } else if (kind === KIND_STR || kind === KIND_OPT_STR) {
      if (typeof v !== 'string') refuse(`${op}: ${name} must be a string`);
      if (v.length > MAX_STRING || !(v as unknown as WellFormed).isWellFormed()) refuse(checkString(v, `${op}: ${name}`) as string);
    } else if (kind === KIND_OPT_LONG) {
      if (!isInteger(v)) refuse(`${op}: ${name} must be an integer within +-2^52`);
      if (Object.is(v, -0)) v = 0; // Avro has no -0; the engine must see what replay will
    } else if (typeof v !== 'boolean') {
      refuse(`${op}: ${name} must be a boolean`);
    }
    cmd[name] = v;
  }
  // The Command type narrows enum-like fields (side, tif, ...) that we keep as
  // any string on purpose; the engine checks them at run time.
  return cmd as unknown as Command;
}

// --- the order flow's ops, unrolled ------------------------------------------------
//
// new, cancel and replace are nearly every command. Reading their fields by a
// name taken from a list (`src[names[i]]`) is a megamorphic keyed load per
// field; these read them as properties. The field lists they are written for
// are checked against OP_SPECS when this module loads (HOT_FIELDS), so the
// specs stay the one description of a command.

/** Each unrolled op's fields as its function reads them: must equal OP_SPECS. */
export const HOT_FIELDS: Readonly<Record<'new' | 'cancel' | 'replace', readonly (readonly [string, Kind])[]>> = {
  new: [['account', 'id'], ['clOrdId', 'id'], ['symbol', 'id'], ['side', 'str'], ['type', 'str'], ['price', 'optStr'], ['qty', 'str'], ['tif', 'optStr'], ['postOnly', 'optBool'], ['stp', 'optStr']],
  cancel: [['account', 'id'], ['clOrdId', 'id'], ['origClOrdId', 'optId'], ['orderId', 'optLong'], ['symbol', 'optId']],
  replace: [['account', 'id'], ['clOrdId', 'id'], ['origClOrdId', 'optId'], ['orderId', 'optLong'], ['symbol', 'optId'], ['price', 'optStr'], ['qty', 'str']],
};
for (const [op, fields] of Object.entries(HOT_FIELDS)) {
  const spec = OP_SPECS.find((s) => s.op === op);
  if (JSON.stringify(spec?.fields) !== JSON.stringify(fields)) throw new Error(`log/codec.ts: the unrolled ${op} reads ${JSON.stringify(fields)}, the spec says ${JSON.stringify(spec?.fields)}`);
}

const ABSENT = 0;
const OK = 1;
const BAD = -1;

function str(v: unknown): boolean {
  return typeof v === 'string' && v.length <= MAX_STRING && (v as unknown as WellFormed).isWellFormed();
}

function optStr(v: unknown): number {
  return v === undefined || v === null ? ABSENT : str(v) ? OK : BAD;
}

function optId(v: unknown): number {
  return v === undefined || v === null ? ABSENT : isId(v) ? OK : BAD;
}

function optLong(v: unknown): number {
  return v === undefined || v === null ? ABSENT : isInteger(v) && !Object.is(v, -0) ? OK : BAD;
}

/** `present` fields (op included) are all the object has: no unknown key, none holding null/undefined. */
function onlyKeys(src: Record<string, unknown>, present: number): boolean {
  let keys = 0;
  for (const _k in src) keys++;
  return keys === present;
}

function asIsNew(c: Record<string, unknown>): Command | null {
  if (!isId(c.account) || !isId(c.clOrdId) || !isId(c.symbol) || !str(c.side) || !str(c.type) || !str(c.qty)) return null;
  const price = optStr(c.price);
  const tif = optStr(c.tif);
  const stp = optStr(c.stp);
  const p = c.postOnly;
  const postOnly = p === undefined || p === null ? ABSENT : typeof p === 'boolean' ? OK : BAD;
  if (price === BAD || tif === BAD || stp === BAD || postOnly === BAD) return null;
  return onlyKeys(c, 7 + price + tif + stp + postOnly) ? (c as unknown as Command) : null;
}

function asIsCancel(c: Record<string, unknown>): Command | null {
  if (!isId(c.account) || !isId(c.clOrdId)) return null;
  const orig = optId(c.origClOrdId);
  const orderId = optLong(c.orderId);
  const symbol = optId(c.symbol);
  if (orig === BAD || orderId === BAD || symbol === BAD) return null;
  return onlyKeys(c, 3 + orig + orderId + symbol) ? (c as unknown as Command) : null;
}

function asIsReplace(c: Record<string, unknown>): Command | null {
  if (!isId(c.account) || !isId(c.clOrdId) || !str(c.qty)) return null;
  const orig = optId(c.origClOrdId);
  const orderId = optLong(c.orderId);
  const symbol = optId(c.symbol);
  const price = optStr(c.price);
  if (orig === BAD || orderId === BAD || symbol === BAD || price === BAD) return null;
  return onlyKeys(c, 4 + orig + orderId + symbol + price) ? (c as unknown as Command) : null;
}

/** The command a decoded union value holds, or null when the branch is not a command. */
export function commandFromBody(branch: string, value: Record<string, unknown>): Command | null {
  const spec = BY_BRANCH.get(branch);
  if (spec === undefined) return null;
  const cmd: Record<string, unknown> = { op: spec.op };
  for (const [name] of spec.fields) {
    const v = value[name];
    if (v !== null && v !== undefined) cmd[name] = v;
  }
  return cmd as unknown as Command;
}

/**
 * `raw` itself when it already is what prepareCommand would return (a plain
 * object holding `op` and only its op's fields, none null or undefined, each
 * valid, no -0), else null (prepareCommand then copies it, or says why it
 * cannot be logged). Allocates nothing: the sequencer's ticket path takes such
 * commands as they are.
 */
export function normalizedAsIs(raw: unknown): Command | null {
  if (raw === null || typeof raw !== 'object' || Object.getPrototypeOf(raw) !== Object.prototype) return null;
  const src = raw as Record<string, unknown>;
  const op = src.op;
  // the order flow's ops read their fields by name, not through a keyed load per field (HOT_FIELDS)
  if (op === 'new') return asIsNew(src);
  if (op === 'cancel') return asIsCancel(src);
  if (op === 'replace') return asIsReplace(src);
  const spec = typeof op === 'string' ? FAST.get(op) : undefined;
  if (spec === undefined) return null;
  const { names, kinds } = spec;
  let present = 1; // op
  for (let i = 0; i < names.length; i++) {
    const kind = kinds[i];
    const v = src[names[i]];
    if (v === undefined || v === null) {
      if (kind === KIND_STR || kind === KIND_ID) return null;
      continue;
    }
    present++;
    if (kind === KIND_ID || kind === KIND_OPT_ID) {
      if (!isId(v)) return null;
    } else if (kind === KIND_STR || kind === KIND_OPT_STR) {
      if (typeof v !== 'string' || v.length > MAX_STRING || !(v as unknown as WellFormed).isWellFormed()) return null;
    } else if (kind === KIND_OPT_LONG) {
      if (!isInteger(v) || Object.is(v, -0)) return null;
    } else if (typeof v !== 'boolean') {
      return null;
    }
  }
  // no other key (an unknown field, or a present one holding null/undefined, means a copy)
  let keys = 0;
  for (const _k in src) keys++;
  return keys === present ? (raw as Command) : null;
}
