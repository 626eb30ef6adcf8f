// Commands survive the log exactly: every command type encodes and decodes to
// itself, and anything that cannot be logged is refused, never crashes.

import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMAND_OPS, InvalidCommandError, prepareCommand } from '../log/index.js';
import { readBlock } from '../log/container.js';
import { BlockBuilder, decodeBlock, toLogRecord } from '../log/records.js';
import { bodyOf } from '../log/codec.js';
import { recordType } from '../log/schema.js';
import { arbCommand } from './log-helpers.js';
import { assertProperty } from './property.js';

test('every command type encodes and decodes to itself', (t) => {
  const seen = new Set<string>();
  assertProperty(t, fc.property(arbCommand, fc.nat({ max: 2 ** 52 }), fc.nat({ max: 2 ** 52 }), (cmd, seq, ts) => {
    seen.add(cmd.op);
    const norm = prepareCommand(cmd);
    const body = bodyOf(norm);
    assert.deepStrictEqual(norm, cmd);
    const buf = recordType.toBuffer({ seq, ts, origin: 'sess', body });
    const back = toLogRecord(recordType.fromBuffer(buf));
    assert.deepStrictEqual(back, { kind: 'command', seq, ts, origin: 'sess', cmd });
  }), { numRuns: 3000 });
  assert.deepEqual([...seen].sort(), [...COMMAND_OPS].sort());
});

test('a block of commands decodes to the same commands, with its CRC checked', (t) => {
  assertProperty(t, fc.property(fc.array(arbCommand, { minLength: 1, maxLength: 40 }), (cmds) => {
    const b = new BlockBuilder(1 << 20);
    cmds.forEach((c, i) => b.command(i + 1, 1000 + i, 'o', prepareCommand(c)));
    b.checkpoint(cmds.length, 2000, 'abc');
    const { start, end } = b.seal(cmds.length, 2000);
    const sync = Buffer.alloc(16, 7);
    sync.copy(b.buf, end);
    const file = Buffer.from(b.buf.subarray(start, end + 16));
    const frame = readBlock(file, 0, sync);
    assert.notEqual(typeof frame, 'string', String(frame));
    const recs = decodeBlock(file, frame as Exclude<typeof frame, string>, undefined);
    assert.deepStrictEqual(recs.filter((r) => r.kind === 'command').map((r) => r.kind === 'command' && r.cmd), cmds);
    assert.deepStrictEqual(recs.at(-2), { kind: 'checkpoint', seq: cmds.length, ts: 2000, hash: 'abc' });
    assert.deepStrictEqual(recs.at(-1), { kind: 'commit', seq: cmds.length, ts: 2000, records: cmds.length + 2 });
  }), { numRuns: 300 });
});

test('anything is either refused with InvalidCommandError or logged and decoded to what the engine applied', (t) => {
  const shaped = fc.record({ op: fc.constantFrom(...COMMAND_OPS, 'nope'), account: fc.anything(), clOrdId: fc.anything(), symbol: fc.anything(), side: fc.anything(), type: fc.anything(), qty: fc.anything(), price: fc.anything(), orderId: fc.anything(), depth: fc.anything(), postOnly: fc.anything(), tickSize: fc.anything(), lotSize: fc.anything() }, { requiredKeys: ['op'] });
  assertProperty(t, fc.property(fc.oneof(fc.anything(), shaped), (raw) => {
    let p;
    try {
      p = prepareCommand(raw);
    } catch (e) {
      assert.ok(e instanceof InvalidCommandError, String(e));
      return;
    }
    const back = toLogRecord(recordType.fromBuffer(recordType.toBuffer({ seq: 1, ts: 1, origin: '', body: bodyOf(p) })));
    assert.equal(back.kind, 'command');
    assert.deepStrictEqual(back.kind === 'command' && back.cmd, p);
  }), { numRuns: 5000 });
});

test('refusals say why', () => {
  assert.throws(() => prepareCommand({ op: 'new', account: 'a', clOrdId: 'c', symbol: 'S', side: 'buy', type: 'limit', qty: 5 }), /new: qty must be a string/);
  assert.throws(() => prepareCommand({ op: 'cancel', account: 'a', clOrdId: 'c', orderId: 1.5 }), /orderId must be an integer/);
  assert.throws(() => prepareCommand({ op: 'halt', symbol: 'A\ud800' }), /halt: symbol has character U\+D800 at position 2; an id is 1 to 64 printable ASCII/);
  assert.throws(() => prepareCommand({ op: 'new', account: 'a', clOrdId: 'c'.repeat(2000), symbol: 'S', side: 'buy', type: 'limit', qty: '1' }), /new: clOrdId is longer than 64 characters/);
  assert.throws(() => prepareCommand({ op: 'new', account: 'a', clOrdId: 'c', symbol: 'S', side: 'b\ud800', type: 'limit', qty: '1' }), /new: side is not well-formed Unicode \(lone surrogate\)/);
  assert.throws(() => prepareCommand({ op: 'warp' }), /unknown op "warp"/);
  assert.throws(() => prepareCommand([1]), /must be an object/);
  assert.throws(() => prepareCommand({ op: 'book', symbol: 'A', depth: 2 ** 53 }), /depth must be an integer within/);
  assert.ok(Object.is((prepareCommand({ op: 'book', symbol: 'A', depth: -0 }) as { depth: number }).depth, 0));
  assert.throws(() => prepareCommand({ op: 'halt', symbol: 'x'.repeat(5000) }), /longer than/);
  // nulls are absent values; unknown fields are dropped before the engine sees the command
  assert.deepStrictEqual(prepareCommand({ op: 'new', account: 'a', clOrdId: 'c', symbol: 'S', side: 'buy', type: 'market', qty: '1', price: null, extra: 1 }),
    { op: 'new', account: 'a', clOrdId: 'c', symbol: 'S', side: 'buy', type: 'market', qty: '1' });
});
