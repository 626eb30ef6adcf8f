// The sequencer answers nothing before the block holding a command is durable,
// keeps one write outstanding while it builds the next block, stamps gap-free
// seqs and non-decreasing ts, and fails closed when a write fails.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEngine } from '../engine/index.js';
import { BusyError, ClosedError, InvalidCommandError } from '../log/index.js';
import { readBlock } from '../log/container.js';
import { decodeBlock, type LogRecord } from '../log/records.js';
import { CHECKPOINT_STRETCH, Sequencer, type Committed } from '../log/sequencer.js';
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

test('submitTicket: answers in seq order once durable, events only when asked (or subscribed), items reused, a failed write reaches the sink', async () => {
  const engine = createEngine();
  const applied: number[] = []; // how many arguments each apply got: 2 = no event objects asked for
  const apply = engine.apply.bind(engine);
  (engine as { apply: (...a: unknown[]) => unknown }).apply = (...a: unknown[]) => {
    applied.push(a.length);
    return (apply as (...x: unknown[]) => unknown)(...a);
  };
  const w = new HeldWriter();
  const seq = new Sequencer(new LogStateMachine(engine), w as unknown as LogWriter, { lastSeq: 0, lastTs: 0, epoch: 1 }, {
    queueCapacity: 4, maxBlockRecords: 1000, maxBlockBytes: 1 << 16, checkpointEvery: 0, snapshotEvery: 0, node: 'n',
  });
  assert.throws(() => seq.submitTicket({ op: 'book', symbol: 'X' }, 'o', 1), /register a TicketSink/);
  const acked: { ticket: number; seq: number; ts: number; events: string[] | null }[] = [];
  const failed: [number, Error][] = [];
  seq.tickets = {
    acked: (ticket, a) => acked.push({ ticket, seq: a.seq, ts: a.ts, events: a.events.length > 0 ? a.events.map((e) => e.type) : null }),
    failed: (ticket, err) => failed.push([ticket, err]),
  };
  const cmd = { op: 'instrument', symbol: 'X', tickSize: '1', lotSize: '1' };
  assert.equal(seq.submitTicket(cmd, 'o', 10, true), null);
  assert.equal(seq.submitTicket({ op: 'halt', symbol: 'X' }, 'o', 11), null);
  assert.equal(seq.submitTicket({ op: 'resume', symbol: 'X', junk: null }, 'o', 12, true), null);
  assert.ok(seq.submitTicket({ op: 'warp' }, 'o', 13) instanceof InvalidCommandError);
  assert.equal(seq.submitTicket({ op: 'book', symbol: 'X' }, 'o', 14), null);
  assert.ok(seq.submitTicket({ op: 'book', symbol: 'X' }, 'o', 15) instanceof BusyError, 'the fifth waiting command is refused');
  await tick();
  assert.equal(w.pending.length, 1);
  assert.deepEqual(applied, [3, 2, 3, 2], 'event objects only for the commands whose submitter asked');
  await tick();
  assert.equal(acked.length, 0, 'nothing answered before the block is durable');
  w.pending[0].done(null);
  assert.deepEqual(acked.map((a) => [a.ticket, a.seq]), [[10, 1], [11, 2], [12, 3], [14, 4]]);
  assert.deepEqual(acked.map((a) => a.events), [['instrument'], null, ['status'], null]);
  assert.ok(acked.every((a, i) => a.ts > 0 && (i === 0 || a.ts >= acked[i - 1].ts)));
  const decoded = w.pending[0].records.filter((r) => r.kind === 'command');
  assert.deepEqual(decoded.map((r) => r.kind === 'command' && r.cmd), [cmd, { op: 'halt', symbol: 'X' }, { op: 'resume', symbol: 'X' }, { op: 'book', symbol: 'X' }]);

  // reused items carry the next commands correctly; a subscriber gets events and the batch
  const seen: Committed[] = [];
  seq.onCommitted = (batch) => seen.push(...batch);
  applied.length = 0;
  for (let i = 0; i < 3; i++) assert.equal(seq.submitTicket({ op: 'book', symbol: 'X', depth: i + 1 }, 'p', 20 + i), null);
  await tick();
  assert.deepEqual(applied, [3, 3, 3], 'a subscriber gets events for every command');
  w.pending[1].done(null);
  assert.deepEqual(acked.slice(4).map((a) => [a.ticket, a.seq]), [[20, 5], [21, 6], [22, 7]]);
  assert.deepEqual(seen.map((c) => [c.seq, c.origin, (c.cmd as { depth?: number }).depth, c.events.length > 0]), [[5, 'p', 1, true], [6, 'p', 2, true], [7, 'p', 3, true]]);
  seq.onCommitted = null;

  // a failed write: every taken ticket reaches failed(), none acked
  assert.equal(seq.submitTicket({ op: 'book', symbol: 'X' }, 'o', 30), null);
  await tick();
  assert.equal(seq.submitTicket({ op: 'book', symbol: 'X' }, 'o', 31), null);
  await tick();
  w.pending[2].done(new Error('EIO'));
  assert.deepEqual(failed.map(([t, e]) => [t, e instanceof ClosedError]), [[30, true], [31, true]]);
  assert.equal(acked.length, 7);
  assert.ok(seq.submitTicket({ op: 'book', symbol: 'X' }, 'o', 32) instanceof ClosedError);
});

test('checkpoints: every checkpointEvery commands while the book is small, spaced CHECKPOINT_STRETCH commands per resting order once it is big, always at multiples, each hash the state at its seq', async () => {
  const engine = createEngine();
  const w = new HeldWriter();
  const every = 50;
  const seq = new Sequencer(new LogStateMachine(engine), w as unknown as LogWriter, { lastSeq: 0, lastTs: 0, epoch: 1 }, {
    queueCapacity: 100_000, maxBlockRecords: 100_000, maxBlockBytes: 1 << 24, checkpointEvery: every, snapshotEvery: 0, node: 'n', clock: () => 1,
  });
  // a replay of the same commands, to know the book and the hash at every seq
  const mirror = createEngine();
  const cmds: object[] = [{ op: 'instrument', symbol: 'X', tickSize: '1', lotSize: '1' }];
  // a book of at most one order (each cancelled at once), then 200 resting orders, then churn beside them
  const churn = (from: number, n: number): void => {
    for (let i = from; i < from + n; i++) {
      cmds.push({ op: 'new', account: 'a', clOrdId: `t${i}`, symbol: 'X', side: 'sell', type: 'limit', price: '100', qty: '1' });
      cmds.push({ op: 'cancel', account: 'a', clOrdId: `x${i}`, origClOrdId: `t${i}` });
    }
  };
  churn(0, 200);
  for (let i = 0; i < 200; i++) cmds.push({ op: 'new', account: 'a', clOrdId: `c${i}`, symbol: 'X', side: 'buy', type: 'limit', price: String(1 + (i % 50)), qty: '1' });
  churn(200, 5000);
  const resting: number[] = [0];
  const hashes: string[] = [''];
  for (let i = 0; i < cmds.length; i++) {
    mirror.apply(cmds[i] as never, i + 1);
    resting.push(mirror.slotsInUse());
    hashes.push(mirror.stateHash());
  }
  const done = cmds.map((c) => seq.submit(c, 'o'));
  await tick();
  const checkpoints: { seq: number; hash: string }[] = [];
  while (w.pending.length > 0) {
    const b = w.pending.shift() as (typeof w.pending)[number];
    for (const r of b.records) if (r.kind === 'checkpoint') checkpoints.push({ seq: r.seq, hash: r.hash });
    b.done(null);
    await tick();
  }
  await Promise.all(done);
  // the rule, from the resting orders at each checkpoint
  const want: number[] = [];
  for (let at = every; at <= cmds.length;) {
    want.push(at);
    at = Math.ceil((at + Math.max(every, CHECKPOINT_STRETCH * resting[at])) / every) * every;
  }
  assert.deepEqual(checkpoints.map((c) => c.seq), want);
  assert.deepEqual(want.slice(0, 8), [50, 100, 150, 200, 250, 300, 350, 400], 'a small book: every 50 commands');
  const later = want.filter((at) => at > 1000);
  assert.ok(later.length >= 2 && later.length < 10, `a big book spaces them (${want.join(' ')})`);
  for (let i = 1; i < later.length; i++) assert.ok(later[i] - later[i - 1] >= CHECKPOINT_STRETCH * resting[later[i - 1]], `${later[i - 1]} -> ${later[i]}`);
  for (const c of checkpoints) assert.equal(c.hash, hashes[c.seq], `the hash at seq ${c.seq}`);
});
