// The hand-written block decoder (log/record-decoder.ts) against avsc: the
// same records, key order included, for everything avsc decodes; a thrown
// Error, never anything else, for what it does not (and for the few things
// avsc lets through that the log never holds: boolean bytes other than 0/1,
// longs beyond +-2^52 or over 8 bytes).

import avro from 'avsc';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from '../engine/index.js';
import { prepareCommand } from '../log/codec.js';
import { readBlock, writeLong, type BlockFrame } from '../log/container.js';
import { planFor, decodeCurrentBlock } from '../log/record-decoder.js';
import { BlockBuilder, decodeBlock, decodeBlockAvsc, type LogRecord } from '../log/records.js';
import { recordReader, recordSchemaJson, recordType } from '../log/schema.js';
import { commandArb } from './command-gen.js';
import { arbCommand } from './log-helpers.js';
import { assertProperty } from './property.js';

// --- building blocks ---

const wellFormed = (s: string) => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
/** Any text: ASCII, multi-byte, astral; short (the decoder's ASCII cache) and long. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
).filter(wellFormed);
const long = fc.oneof(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), fc.constantFrom(0, 1, -1, 63, -64, 64, 2 ** 52, -(2 ** 52), 2 ** 28, -(2 ** 28) - 1, 2 ** 31, 2 ** 49, 2 ** 52 - 1));
/** Commands with long strings in their free-text fields too (prices, sides), and command-gen's streams (bad ids refused below). */
const command = fc.oneof(
  arbCommand,
  commandArb,
  arbCommand.chain((c) => text.map((s) => (c.op === 'new' || c.op === 'instrument' ? { ...c, side: s, tickSize: s, status: s } as unknown as Command : c))),
);

type Item =
  | { k: 'command'; seq: number; ts: number; origin: string; cmd: Command }
  | { k: 'checkpoint'; seq: number; ts: number; hash: string }
  | { k: 'epoch'; seq: number; ts: number; epoch: number; node: string };

const item: fc.Arbitrary<Item> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('command' as const), seq: long, ts: long, origin: text, cmd: command }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('checkpoint' as const), seq: long, ts: long, hash: text }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('epoch' as const), seq: long, ts: long, epoch: long, node: text }) },
);

/** For the malformed-data tests, which try every byte: small blocks, so a failure shrinks quickly. */
const short = fc.string({ unit: 'binary', maxLength: 6 }).filter(wellFormed);
const smallItem: fc.Arbitrary<Item> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('command' as const), seq: long, ts: long, origin: short, cmd: arbCommand }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('checkpoint' as const), seq: long, ts: long, hash: short }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('epoch' as const), seq: long, ts: long, epoch: long, node: short }) },
);
/** A bound on a property's time, shrinking included: a failure is still reported, with the smallest case found so far. */
const LIMIT = { interruptAfterTimeLimit: 8000 };

const SYNC = Buffer.alloc(16, 0xa5);

/** A framed block (its own buffer, sync marker after it) of `items`, commands normalized as the sequencer would; refused commands left out. */
function block(items: Item[], sealSeq = 7, sealTs = 9): { buf: Buffer; frame: BlockFrame } {
  const b = new BlockBuilder(1 << 22);
  for (const it of items) {
    if (it.k === 'command') {
      let cmd: Command;
      try {
        cmd = prepareCommand(it.cmd);
      } catch {
        continue;
      }
      b.command(it.seq, it.ts, it.origin, cmd);
    } else if (it.k === 'checkpoint') b.checkpoint(it.seq, it.ts, it.hash);
    else b.epoch(it.seq, it.ts, it.epoch, it.node);
  }
  const { start, end } = b.seal(sealSeq, sealTs);
  SYNC.copy(b.buf, end);
  const buf = Buffer.from(b.buf.subarray(start, end + 16));
  const frame = readBlock(buf, 0, SYNC);
  if (typeof frame === 'string') throw new Error(frame);
  return { buf, frame };
}

type Outcome = { ok: LogRecord[] } | { err: unknown };

function outcome(f: () => LogRecord[]): Outcome {
  try {
    return { ok: f() };
  } catch (err) {
    return { err };
  }
}

/** What avsc lets through and the decoder refuses on purpose. */
const STRICTER = /boolean byte|long varint longer than 8 bytes|long beyond \+-2\^52/;

/**
 * The decoder agrees with avsc on `frame`: the same records (key order too),
 * or it throws an Error with a reason (and then avsc refuses too, unless the
 * reason is one of the stricter rules). Returns the decoder's error message, if any.
 */
function agree(buf: Buffer, frame: BlockFrame): string | null {
  const fast = outcome(() => decodeCurrentBlock(buf, frame));
  const slow = outcome(() => decodeBlockAvsc(buf, frame, undefined));
  if ('err' in fast) {
    assert.ok(fast.err instanceof Error, `threw a non-Error: ${String(fast.err)}`);
    assert.ok(fast.err.message.length > 0);
    if ('ok' in slow) assert.match(fast.err.message, STRICTER, `refused what avsc decodes: ${fast.err.message}`);
    return fast.err.message;
  }
  assert.ok('ok' in slow, `decoded what avsc refuses (${'err' in slow ? String(slow.err) : ''})`);
  sameJson(fast.ok, slow.ok);
  assert.deepStrictEqual(fast.ok, slow.ok);
  return null;
}

/**
 * The same JSON (key order included), record by record. Checked before
 * deepStrictEqual and without assert's diff of the whole arrays, which is
 * slow enough on big blocks to stall shrinking.
 */
function sameJson(got: readonly unknown[], want: readonly unknown[]): void {
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    const a = JSON.stringify(got[i]);
    const b = JSON.stringify(want[i]);
    if (a !== b) throw new Error(`record ${i} of ${got.length} (avsc: ${want.length}) differs:\n  got  ${a}\n  want ${b}`);
  }
}

// --- well-formed blocks ---

test('decodes every block exactly as avsc does, key order included', (t) => {
  const seen = new Set<string>();
  assertProperty(t, fc.property(fc.array(item, { minLength: 0, maxLength: 40 }), long, long, (items, seq, ts) => {
    const { buf, frame } = block(items, seq, ts);
    const recs = decodeCurrentBlock(buf, frame);
    assert.equal(agree(buf, frame), null);
    // and through the dispatcher (no resolver: the current schema)
    sameJson(decodeBlock(buf, frame, undefined), recs);
    for (const r of recs) seen.add(r.kind === 'command' ? r.cmd.op : r.kind);
    // the commands are what the engine applied live: the normalized command, in its key order
    const cmds = recs.filter((r) => r.kind === 'command').map((r) => r.kind === 'command' && r.cmd);
    const want = items.flatMap((it) => {
      if (it.k !== 'command') return [];
      try {
        return [prepareCommand(it.cmd)];
      } catch {
        return [];
      }
    });
    sameJson(cmds, want);
  }), { numRuns: 400, ...LIMIT });
  assert.deepEqual([...seen].sort(), ['book', 'cancel', 'checkpoint', 'commit', 'epoch', 'halt', 'instrument', 'massCancel', 'new', 'replace', 'resume']);
});

test('the string cache never confuses strings: many short ids sharing slots, decoded twice', () => {
  const items: Item[] = [];
  for (let i = 0; i < 20000; i++) {
    const id = `c${(i * 7919) % 6007}`;
    items.push({ k: 'command', seq: i, ts: i, origin: i % 3 === 0 ? 'é' : `s${i % 50}`, cmd: { op: 'cancel', account: `a${i % 13}`, clOrdId: id, origClOrdId: id.split('').reverse().join('') } });
  }
  const { buf, frame } = block(items);
  for (let k = 0; k < 2; k++) assert.equal(agree(buf, frame), null);
});

// --- malformed data: the CRC is not checked here, the decoder is called directly ---

test('truncated, miscounted and flipped blocks: an Error, or exactly what avsc returns', (t) => {
  let refused = 0;
  let accepted = 0;
  assertProperty(t, fc.property(fc.array(smallItem, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (items, flips) => {
    const { buf, frame } = block(items);
    const size = frame.dataEnd - frame.dataStart;
    // every truncation, with the record count as it was: the buffer cut there, and the
    // frame's end moved there with the rest of the bytes still after it (as the next block
    // or the sync marker follow a block in a file): not one of them may be read
    for (let n = 0; n < size; n++) {
      const cut = buf.subarray(0, frame.dataStart + n);
      assert.notEqual(agree(cut, { ...frame, dataEnd: cut.length, end: cut.length }), null, `a block cut to ${n} of ${size} bytes decoded`);
      assert.notEqual(agree(buf, { ...frame, dataEnd: cut.length, end: cut.length }), null, `a block ending at ${n} of ${size} bytes decoded`);
    }
    // a wrong record count
    for (const count of [frame.count - 1, frame.count + 1]) if (count > 0) assert.notEqual(agree(buf, { ...frame, count }), null);
    // flipped bytes in the data (xor: never a no-op)
    const bad = Buffer.from(buf);
    for (const [at, x] of flips) bad[frame.dataStart + (at % size)] ^= x;
    if (agree(bad, frame) === null) accepted++;
    else refused++;
  }), { numRuns: 300, ...LIMIT });
  // both kinds of outcome happen: a flip in a string body still decodes
  assert.ok(refused > 0 && accepted > 0, `refused ${refused}, accepted ${accepted}`);
});

test('random bytes after a valid prefix: an Error, or exactly what avsc returns', (t) => {
  assertProperty(t, fc.property(fc.array(smallItem, { minLength: 1, maxLength: 3 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (items, noise, at) => {
    const { buf, frame } = block(items);
    const size = frame.dataEnd - frame.dataStart;
    const k = frame.dataStart + (at % size);
    const bad = Buffer.concat([buf.subarray(0, k), noise, buf.subarray(k)]);
    agree(bad, { ...frame, dataEnd: frame.dataEnd + noise.length, end: frame.end + noise.length });
  }), { numRuns: 1000, ...LIMIT });
});

// Hand-made records, to name each rule: seq, ts, origin, body index, fields.
const BRANCH = new Map((recordType as avro.types.RecordType).fields[3].type instanceof avro.types.WrappedUnionType
  ? ((recordType as avro.types.RecordType).fields[3].type as avro.types.WrappedUnionType).types.map((ty, i) => [(ty.name ?? '').replace('matchlog.log.', ''), i])
  : []);
const ix = (name: string) => BRANCH.get(name) as number;

type Part = number | string | Buffer;
/** numbers are longs, strings Avro strings, Buffers raw bytes. */
function enc(...parts: Part[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (typeof p === 'number') {
      const b = Buffer.alloc(10);
      out.push(b.subarray(0, writeLong(b, 0, p)));
    } else if (typeof p === 'string') {
      const s = Buffer.from(p, 'utf8');
      out.push(enc(s.length), s);
    } else out.push(p);
  }
  return Buffer.concat(out);
}

const commit = (records: number) => enc(5, 6, '', ix('Commit'), records, Buffer.alloc(4));
const halt = (symbol: string) => enc(1, 2, 'o', ix('Halt'), symbol);

function frameOf(data: Buffer, count: number): BlockFrame {
  return { offset: 0, count, dataStart: 0, dataEnd: data.length, end: data.length };
}

/** The decoder's error for these records, and avsc's view of them (null: avsc decodes them). */
function refusal(count: number, ...records: Buffer[]): { fast: string; avsc: string | null } {
  const data = Buffer.concat(records);
  const frame = frameOf(data, count);
  let fast = '';
  try {
    decodeCurrentBlock(data, frame);
    assert.fail('decoded');
  } catch (e) {
    assert.ok(e instanceof Error && !(e instanceof assert.AssertionError), String(e));
    fast = e.message;
  }
  let avsc: string | null = null;
  try {
    decodeBlockAvsc(data, frame, undefined);
  } catch (e) {
    avsc = (e as Error).message;
  }
  return { fast, avsc };
}

test('hand-made blocks: valid ones decode as avsc does', () => {
  const newOrder = (postOnly: number | null) => enc(3, 4, 'o', ix('NewOrder'), 'a', 'c', 'S', 'buy', 'limit', 1, '10', '5', 0,
    ...(postOnly === null ? [0] : [1, Buffer.from([postOnly])]), 1, 'cancel_both');
  for (const data of [
    [halt('X'), commit(2)],
    [newOrder(1), newOrder(0), newOrder(null), commit(4)],
    [enc(2 ** 52, -(2 ** 52), '', ix('Epoch'), 2 ** 52, 'n'), enc(0, 0, '', ix('Checkpoint'), 'h'.repeat(100)), commit(3)],
    [enc(1, 1, 'o', ix('Cancel'), 'a', 'c', 0, 1, -(2 ** 52), 1, 'S'), enc(1, 1, 'o', ix('BookQuery'), 'S', 1, 2 ** 52), commit(3)],
    // an overlong encoding within 8 bytes reads as avsc reads it
    [enc(Buffer.from([0x82, 0x80, 0x00]), 2, 'o', ix('Halt'), 'X'), commit(2)],
  ]) {
    const buf = Buffer.concat(data);
    assert.equal(agree(buf, frameOf(buf, data.length)), null);
  }
});

test('each rule refuses with a reason', () => {
  // a bad union index: the body's (one past the last branch, negative) and an optional's
  assert.match(refusal(2, enc(1, 2, 'o', BRANCH.size, 'X'), commit(2)).fast, /record 0 of 2: invalid union index 11/);
  assert.match(refusal(2, enc(1, 2, 'o', -1, 'X'), commit(2)).fast, /invalid union index -1/);
  assert.match(refusal(2, enc(1, 1, 'o', ix('BookQuery'), 'S', 2, 5), commit(2)).fast, /invalid union index 2 of an optional field/);
  // a boolean byte other than 0/1 (avsc reads it as true)
  const r = refusal(2, enc(3, 4, 'o', ix('NewOrder'), 'a', 'c', 'S', 'buy', 'limit', 0, '5', 0, 1, Buffer.from([2]), 0), commit(2));
  assert.match(r.fast, /boolean byte 2/);
  assert.equal(r.avsc, null);
  // bytes left after the last record
  assert.match(refusal(2, halt('X'), commit(2), Buffer.from([0])).fast, /1 bytes left after 2 records/);
  // no commit record at the end, or one with the wrong count
  assert.match(refusal(2, commit(2), halt('X')).fast, /block does not end with its commit record/);
  assert.match(refusal(2, halt('X'), commit(3)).fast, /block does not end with its commit record/);
  // a record running past the block, and a string length beyond it
  assert.match(refusal(3, halt('X'), commit(3)).fast, /record 2 of 3 runs past the block/);
  assert.match(refusal(2, enc(1, 2, 'o', ix('Halt'), 50, Buffer.from('XY')), commit(2)).fast, /record 0 of 2: string of 50 bytes runs past the block/);
  assert.match(refusal(2, enc(1, 2, 'o', ix('Halt'), -3, Buffer.from('XY')), commit(2)).fast, /negative string length -3/);
  assert.match(refusal(2, enc(1, 2, 'o', ix('Halt'), -100, Buffer.from('XY')), commit(2)).fast, /negative string length -100/);
  // longs: 9 bytes; beyond +-2^52: 2^52 + 1, and -(2^52 + 1) by hand (zig-zag 2^53 + 1: its double rounds to the limit)
  const r9 = refusal(2, enc(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 2, 'o', ix('Halt'), 'X'), commit(2));
  assert.match(r9.fast, /long varint longer than 8 bytes/);
  assert.equal(r9.avsc, null);
  assert.match(refusal(2, enc(2 ** 52 + 1, 2, 'o', ix('Halt'), 'X'), commit(2)).fast, /long beyond \+-2\^52/);
  assert.match(refusal(2, enc(Buffer.from([0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]), 2, 'o', ix('Halt'), 'X'), commit(2)).fast, /long beyond \+-2\^52/);
  // a fixed cut short
  assert.match(refusal(1, commit(1).subarray(0, -1)).fast, /runs past the block/);
  // the byte after the block (a sync marker, the next block) is never read, not even as a one-byte long
  const query = Buffer.concat([enc(1, 1, 'o', ix('BookQuery'), 'S', 0), commit(2)]);
  const at = query.length - commit(2).length - 1;
  assert.throws(() => decodeCurrentBlock(query, { ...frameOf(query, 1), dataEnd: at }), /^Error: record 0 of 1 runs past the block$/);
  const named = Buffer.concat([enc(1, 1, 'o', ix('Halt'), 'X'), commit(2)]);
  const lengthAt = named.length - commit(2).length - 2;
  assert.throws(() => decodeCurrentBlock(named, { ...frameOf(named, 1), dataEnd: lengthAt }), /^Error: record 0 of 1 runs past the block$/);
});

// --- the schema and the decoder must agree at load time ---

interface BranchJson { type: string; name: string; fields: { name: string; type: unknown; default?: null }[] }

function altered(edit: (body: BranchJson[]) => void): avro.Type {
  const s = JSON.parse(recordSchemaJson) as { fields: { name: string; type: unknown }[] };
  edit(s.fields[3].type as BranchJson[]);
  return avro.Type.forSchema(s as avro.Schema);
}

test('a schema the decoder does not follow fails at load time', () => {
  assert.equal(planFor(recordType).length, BRANCH.size);
  const cases: [string, (b: BranchJson[]) => void, RegExp][] = [
    ['two fields swapped', (b) => { const f = b[1].fields; [f[0], f[1]] = [f[1], f[0]]; }, /NewOrder has fields \(clOrdId:string, account:string/],
    ['a field retyped', (b) => { b[2].fields[3].type = ['null', 'string']; }, /Cancel has fields/],
    ['optional with null second', (b) => { b[7].fields[1] = { name: 'depth', type: ['long', 'null'] }; }, /BookQuery has fields/],
    ['a field added', (b) => { b[5].fields.push({ name: 'reason', type: 'string' }); }, /Halt has fields/],
    ['a branch added', (b) => { b.push({ type: 'record', name: 'Audit', fields: [] }); }, /unknown union branch matchlog.log.Audit/],
    ['a command branch removed', (b) => { b.splice(6, 1); }, /no union branch for matchlog.log.Resume/],
    ['Commit removed', (b) => { b.splice(b.length - 1, 1); }, /no union branch matchlog.log.Commit/],
    ['crc resized', (b) => { (b[b.length - 1].fields[1].type as { size: number }).size = 8; }, /Commit has fields/],
  ];
  for (const [what, edit, re] of cases) assert.throws(() => planFor(altered(edit)), re, what);
  // reordered branches are fine: the indexes come from the schema
  const swapped = planFor(altered((b) => { [b[0], b[1]] = [b[1], b[0]]; }));
  assert.equal(swapped[0].op, 'new');
});

// --- an older writer schema still goes through avsc and its resolver ---

test('a version 0 block (NewOrder without stp, no BookQuery) decodes through the resolver', () => {
  const v0 = JSON.parse(recordSchemaJson) as { fields: { name: string; type: unknown }[] };
  const body = v0.fields[3].type as { name: string; fields: { name: string }[] }[];
  body.splice(body.findIndex((b) => b.name === 'BookQuery'), 1);
  const no = body.find((b) => b.name === 'NewOrder') as { fields: { name: string }[] };
  no.fields = no.fields.filter((f) => f.name !== 'stp');
  const v0Json = JSON.stringify(v0);
  const v0Type = avro.Type.forSchema(v0 as avro.Schema);
  const data = Buffer.concat([
    v0Type.toBuffer({ seq: 1, ts: 5, origin: 'o', body: { 'matchlog.log.NewOrder': { account: 'a', clOrdId: 'c', symbol: 'S', side: 'buy', type: 'limit', price: '1', qty: '2', tif: null, postOnly: true } } }),
    v0Type.toBuffer({ seq: 1, ts: 5, origin: '', body: { 'matchlog.log.Commit': { records: 2, crc: Buffer.alloc(4) } } }),
  ]);
  const resolver = recordReader.resolver(v0Json);
  assert.notEqual(resolver, undefined);
  const recs = decodeBlock(data, frameOf(data, 2), resolver);
  assert.equal(JSON.stringify(recs[0]), JSON.stringify({ kind: 'command', seq: 1, ts: 5, origin: 'o', cmd: { op: 'new', account: 'a', clOrdId: 'c', symbol: 'S', side: 'buy', type: 'limit', price: '1', qty: '2', postOnly: true } }));
});
