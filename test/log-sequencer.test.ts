// The sequencer answers nothing before the block holding a command is durable,
// keeps one write outstanding while it builds the next block, stamps gap-free
// seqs and non-decreasing ts, and fails closed when a write fails.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEngine } from '../engine/index.js';
import { ClosedError } from '../log/index.js';
import { readBlock } from '../log/container.js';
import { decodeBlock, type LogRecord } from '../log/records.js';
import { Sequencer, type Committed } from '../log/sequencer.js';
import { LogStateMachine } from '../log/state-machine.js';
import type { BlockInfo, LogWriter } from '../log/writer.js';

const SYNC = Buffer.alloc(16, 0x5a);

/** A writer whose writes complete only when the test says so. */
class HeldWriter {
  pending: { records: LogRecord[]; info: BlockInfo; done: (err: Error | null) => void }[] = [];

  write(buf: Buffer, start: number, end: number, info: BlockInfo, done: (err: Error | null) => void): void {
    SYNC.copy(buf, end);
    const bytes = Buffer.from(buf.subarray(start, end + 16));
    const frame = readBlock(bytes, 0, SYNC);
    assert.notEqual(typeof frame, 'string', String(frame));
    this.pending.push({ records: decodeBlock(bytes, frame as Exclude<typeof frame, string>, undefined), info, done });
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('answers and subscribers wait for durability; the next block is built during a write; a failed write closes', async () => {
  const engine = createEngine();
  const w = new HeldWriter();
  let now = 100;
  const seq = new Sequencer(new LogStateMachine(engine), w as unknown as LogWriter, { lastSeq: 0, lastTs: 0, epoch: 7 }, {
    queueCapacity: 100, maxBlockRecords: 1000, maxBlockBytes: 1 << 16, checkpointEvery: 2, snapshotEvery: 0, node: 'n', clock: () => (now -= 10),
  });
  const seen: Committed[] = [];
  seq.onCommitted = (batch) => seen.push(...batch);
  let fatal: Error | null = null;
  seq.onFatal = (e) => { fatal = e; };
  const answered: number[] = [];
  const submit = (cmd: object) => seq.submit(cmd, 'o').then((a) => { answered.push(a.seq); return a; });

  const first = [submit({ op: 'instrument', symbol: 'X', tickSize: '1', lotSize: '1' }), submit({ op: 'book', symbol: 'X' }), submit({ op: 'halt', symbol: 'X' })];
  await tick();
  assert.equal(w.pending.length, 1);
  const b1 = w.pending[0];
  assert.deepEqual(b1.records.map((r) => r.kind), ['epoch', 'command', 'command', 'checkpoint', 'command', 'commit']);
  assert.deepEqual(b1.records.map((r) => r.seq), [0, 1, 2, 2, 3, 3]);
  assert.equal(b1.info.firstCommandSeq, 1);
  await tick();
  assert.deepEqual(answered, [], 'nothing answered before the block is durable');
  assert.equal(seen.length, 0, 'no subscriber sees a command before the block is durable');

  const second = [submit({ op: 'resume', symbol: 'X' }), submit({ op: 'book', symbol: 'X', depth: 1 })];
  await tick();
  assert.equal(w.pending.length, 1, 'one write outstanding at a time');
  b1.done(null);
  assert.equal(w.pending.length, 2, 'the block built meanwhile goes out as soon as the first is durable');
  const acks = await Promise.all(first);
  assert.deepEqual(acks.map((a) => a.seq), [1, 2, 3]);
  assert.deepEqual(acks[2].events.map((e) => e.type), ['status']);
  assert.deepEqual(seen.map((c) => c.seq), [1, 2, 3]);
  assert.deepEqual(answered, [1, 2, 3]);
  const b2 = w.pending[1];
  assert.deepEqual(b2.records.filter((r) => r.kind === 'command').map((r) => r.seq), [4, 5]);
  assert.ok(b2.records.every((r) => r.ts >= b1.records[0].ts), 'ts never goes backwards even when the clock does');
  b2.done(null);
  assert.deepEqual((await Promise.all(second)).map((a) => a.seq), [4, 5]);

  const third = submit({ op: 'book', symbol: 'X' });
  await tick();
  w.pending[2].done(new Error('EIO: disk on fire'));
  await assert.rejects(third, (e: unknown) => e instanceof ClosedError && /disk on fire/.test(e.message));
  await assert.rejects(submit({ op: 'book', symbol: 'X' }), ClosedError);
  assert.match(String(fatal), /disk on fire/);
  assert.equal(seq.durableSeq, 5);
  await seq.close();
});
