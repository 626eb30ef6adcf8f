// The hand-written record encoder writes exactly avsc's bytes (the log is read
// by foreign Avro tools), and the ticket path's "take it as it is" check
// agrees with prepareCommand.

import fc from 'fast-check';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { test } from 'node:test';
import { COMMAND_OPS, prepareCommand } from '../log/index.js';
import { bodyOf, CHECKPOINT, COMMIT, EPOCH, normalizedAsIs } from '../log/codec.js';
import { BLOCK_PREFIX, longSize, writeLong } from '../log/container.js';
import { crc32 } from '../log/crc32.js';
import { BlockBuilder } from '../log/records.js';
import { encodeCheckpointRecord, encodeCommandRecord, encodeCommitRecord, encodeEpochRecord, putLong, putString } from '../log/record-encoder.js';
import { recordType } from '../log/schema.js';
import { arbCommand } from './log-helpers.js';
import { assertProperty } from './property.js';

/** Strings as the log meets them: unicode (astral included), and long enough for a 2- and 3-byte length. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ maxLength: 1024 }),
  fc.constantFrom('', 'a'.repeat(63), 'a'.repeat(64), 'é'.repeat(40), '\u{1F600}'.repeat(300)),
).filter((s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed());
const seqLike = fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(0, 63, 64, 8191, 8192, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 2 ** 52),
  fc.integer({ min: 0, max: 2 ** 52 }));
const longLike = fc.oneof(seqLike, seqLike.map((n) => -n), fc.constantFrom(-1, -64, -65, -(2 ** 30), -(2 ** 30) - 1, -(2 ** 52)));

function encoded(write: (buf: Buffer, pos: number) => number): Buffer {
  const buf = Buffer.alloc(64 << 10, 0xee);
  const end = write(buf, 7); // an odd offset: nothing may assume 0
  return Buffer.from(buf.subarray(7, end));
}

test('a command record is byte for byte what avsc writes', (t) => {
  const seen = new Set<string>();
  assertProperty(t, fc.property(arbCommand, seqLike, seqLike, anyText, (raw, seq, ts, origin) => {
    const cmd = prepareCommand(raw);
    seen.add(cmd.op);
    const want = recordType.toBuffer({ seq, ts, origin, body: bodyOf(cmd) });
    assert.deepEqual(encoded((b, p) => encodeCommandRecord(b, p, seq, ts, origin, cmd)), want);
  }), { numRuns: 4000 });
  assert.deepEqual([...seen].sort(), [...COMMAND_OPS].sort());
});

test('longs and strings: the varint and UTF-8 bytes avsc writes, at every size boundary', (t) => {
  assertProperty(t, fc.property(longLike, anyText, (n, s) => {
    const want = recordType.toBuffer({ seq: n, ts: -n, origin: s, body: { [CHECKPOINT]: { hash: s } } });
    const got = encoded((b, p) => putString(b, putLong(b, putString(b, putLong(b, putLong(b, p, n), -n), s), 8), s));
    assert.deepEqual(got, want);
  }), { numRuns: 3000 });
});

test('checkpoint, epoch and commit records are what avsc writes', (t) => {
  assertProperty(t, fc.property(seqLike, seqLike, anyText, fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 0xffffffff }),
    (seq, ts, s, n, crc) => {
      assert.deepEqual(encoded((b, p) => encodeCheckpointRecord(b, p, seq, ts, s)), recordType.toBuffer({ seq, ts, origin: '', body: { [CHECKPOINT]: { hash: s } } }));
      assert.deepEqual(encoded((b, p) => encodeEpochRecord(b, p, seq, ts, n, s)), recordType.toBuffer({ seq, ts, origin: '', body: { [EPOCH]: { epoch: n, node: s } } }));
      const crcBytes = Buffer.alloc(4);
      crcBytes.writeUInt32BE(crc);
      assert.deepEqual(encoded((b, p) => encodeCommitRecord(b, p, seq, ts, n, crc)), recordType.toBuffer({ seq, ts, origin: '', body: { [COMMIT]: { records: n, crc: crcBytes } } }));
    }), { numRuns: 1000 });
});

test('a block built in place is the avsc records, framed, with the Commit CRC', (t) => {
  const b = new BlockBuilder(1 << 20);
  assertProperty(t, fc.property(fc.array(fc.tuple(arbCommand, anyText), { minLength: 1, maxLength: 30 }), seqLike, (cmds, base) => {
    b.reset(); // the builder is reused, as the sequencer reuses it
    const parts: Buffer[] = [];
    b.epoch(base, 5, 3, 'node');
    parts.push(recordType.toBuffer({ seq: base, ts: 5, origin: '', body: { [EPOCH]: { epoch: 3, node: 'node' } } }));
    cmds.forEach(([raw, origin], i) => {
      const cmd = prepareCommand(raw);
      b.command(base + i + 1, 1000 + i, origin, cmd);
      parts.push(recordType.toBuffer({ seq: base + i + 1, ts: 1000 + i, origin, body: bodyOf(cmd) }));
    });
    const last = base + cmds.length;
    b.checkpoint(last, 2000, 'h');
    parts.push(recordType.toBuffer({ seq: last, ts: 2000, origin: '', body: { [CHECKPOINT]: { hash: 'h' } } }));
    const end = b.sealAt(last, 2000);
    const data = Buffer.concat([...parts, recordType.toBuffer({ seq: last, ts: 2000, origin: '', body: { [COMMIT]: { records: cmds.length + 3, crc: Buffer.alloc(4) } } })]);
    data.writeUInt32BE(crc32(data, 0, data.length - 4), data.length - 4);
    const frame = Buffer.alloc(20);
    const count = cmds.length + 3;
    const head = frame.subarray(0, writeLong(frame, writeLong(frame, 0, count), data.length));
    assert.equal(b.start, BLOCK_PREFIX - longSize(count) - longSize(data.length));
    assert.deepEqual(Buffer.from(b.buf.subarray(b.start, end)), Buffer.concat([head, data]));
  }), { numRuns: 300 });
});

test('the ticket path takes a command as it is exactly when prepareCommand would return the same', (t) => {
  // every generated command is already normalized
  assertProperty(t, fc.property(arbCommand, (cmd) => {
    assert.equal(normalizedAsIs(cmd), cmd);
  }), { numRuns: 2000 });
  const shaped = fc.record({ op: fc.constantFrom(...COMMAND_OPS, 'nope'), account: fc.anything(), clOrdId: fc.anything(), symbol: fc.anything(), side: fc.anything(), type: fc.anything(), qty: fc.anything(), price: fc.anything(), orderId: fc.anything(), depth: fc.anything(), postOnly: fc.anything(), tickSize: fc.anything(), lotSize: fc.anything() }, { requiredKeys: ['op'] });
  assertProperty(t, fc.property(fc.oneof(fc.anything(), shaped, arbCommand.map((c) => ({ ...c, extra: 1 })), arbCommand.map((c) => ({ ...c, price: null }))), (raw) => {
    const asIs = normalizedAsIs(raw);
    if (asIs === null) return;
    assert.equal(asIs, raw);
    const norm = prepareCommand(raw); // must not throw
    assert.deepStrictEqual(Object.keys(norm).sort(), Object.keys(raw as object).sort());
    assert.deepStrictEqual(norm, raw);
  }), { numRuns: 5000 });
  // a valid command with one field set to anything: taken as it is exactly when prepareCommand gives back the same
  const perturbed = fc.tuple(arbCommand,
    fc.constantFrom('account', 'clOrdId', 'symbol', 'side', 'type', 'qty', 'price', 'tif', 'stp', 'postOnly', 'origClOrdId', 'orderId', 'depth', 'tickSize', 'extra'),
    fc.oneof(fc.anything(), fc.constant(undefined), fc.constant(null), fc.constant(-0), fc.constant(''), fc.constant('a b'), fc.constant('\ud800'),
      fc.constant('x'.repeat(1025)), fc.boolean(), fc.integer(), fc.double(), fc.string({ maxLength: 8 })))
    .map(([c, k, v]) => ({ ...c, [k]: v }) as Record<string, unknown>);
  assertProperty(t, fc.property(perturbed, (raw) => {
    let norm: object | null = null;
    try {
      norm = prepareCommand(raw);
    } catch {
      norm = null;
    }
    const same = norm !== null && Object.keys(norm).length === Object.keys(raw).length && isDeepStrictEqual(norm, raw);
    assert.equal(normalizedAsIs(raw) === (raw as unknown), same, JSON.stringify(raw));
  }), { numRuns: 8000 });
  assert.equal(normalizedAsIs({ op: 'book', symbol: 'A', depth: -0 }), null);
  assert.equal(normalizedAsIs({ op: 'halt', symbol: 'A', extra: undefined }), null);
  assert.equal(normalizedAsIs(Object.assign(Object.create(null) as object, { op: 'halt', symbol: 'A' })), null);
});
