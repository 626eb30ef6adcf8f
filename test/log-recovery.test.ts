// Recovery rules: a torn tail is truncated to the last whole block; damage
// elsewhere stops start-up naming file and offset (or is cut off by repair);
// a wrong checkpoint is a divergence; snapshot + tail equals a replay from the
// first record; any Avro tool reads the segments; older schemas still read.

import avro from 'avsc';
import assert from 'node:assert/strict';
import { constants, cpSync, readFileSync, readdirSync, readlinkSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { EngineEvent } from '../engine/index.js';
import {
  BusyError, DamageError, DivergenceError, Exchange, listSegments, listSnapshots, readBlocks, readLog, recover, type LogConfig,
} from '../log/index.js';
import { SYNC_SIZE, encodeHeader, longSize, parseHeader, writeLong } from '../log/container.js';
import { crc32 } from '../log/crc32.js';
import { prepareCommand } from '../log/codec.js';
import { BlockBuilder } from '../log/records.js';
import { encodeEntries, readIndex } from '../log/sparse-index.js';
import { recordSchemaJson } from '../log/schema.js';
import { LogWriter } from '../log/writer.js';
import { Flow, TEST_INSTRUMENTS, prng, segmentBlocks, tempDir } from './log-helpers.js';

const quiet = (): void => undefined;

/** A log of `n` flow commands in `chunks` group commits (each chunk awaited: one block or more). */
async function buildLog(dir: string, n: number, chunks: number, config: Partial<LogConfig> = {}, seed = 1): Promise<string> {
  const ex = await Exchange.open({ dataDir: dir, config: { instruments: TEST_INSTRUMENTS, ...config }, log: quiet });
  const flow = new Flow(prng(seed), 'o');
  const per = Math.ceil(n / chunks);
  for (let done = 0; done < n; done += per) {
    const batch = [];
    for (let i = 0; i < per && done + i < n; i++) batch.push(ex.submit(flow.next(), 'test'));
    await Promise.all(batch);
  }
  const hash = ex.engine.stateHash();
  await ex.close({ snapshot: false });
  return hash;
}

function copyDir(t: TestContext, from: string): string {
  const to = tempDir(t, 'matchlog-copy-');
  cpSync(from, to, { recursive: true });
  return to;
}

test('a torn last block is truncated to the last whole block, saying how much', async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 3000, 120, { segmentBytes: 64 * 1024, snapshotEvery: 0 });
  const segs = listSegments(dir);
  assert.ok(segs.length >= 2, `want several segments, got ${segs.length}`);
  const last = segs[segs.length - 1];
  const prevLast = segmentBlocks(segs[segs.length - 2].path).blocks.at(-1)?.lastSeq ?? 0;
  const { headerEnd, blocks } = segmentBlocks(last.path);
  const size = statSync(last.path).size;
  const rnd = prng(7);
  const offsets = [size - 1, blocks[0].offset + 1, Math.floor(headerEnd / 2)];
  while (offsets.length < 14) offsets.push(headerEnd + Math.floor(rnd() * (size - headerEnd)));
  for (const at of offsets) {
    const copy = copyDir(t, dir);
    const seg = join(copy, last.name);
    truncateSync(seg, at);
    const whole = blocks.filter((b) => b.end <= at);
    const expectSeq = whole.length > 0 ? whole[whole.length - 1].lastSeq : prevLast;
    const keepAt = whole.length > 0 ? whole[whole.length - 1].end : headerEnd;
    // an index entry is written only after its block is durable: one for a block that is now cut vouches for it
    const idxPath = seg.replace(/\.avro$/, '.idx');
    const entries = readIndex(idxPath) ?? [];
    if (entries.some((e) => e.offset >= keepAt)) {
      assert.throws(() => recover({ dir: copy, log: quiet }), (e: unknown) => e instanceof DamageError
        && e.message.includes(`the log ends at seq ${expectSeq}`) && e.message.includes(`index ${last.name.replace('.avro', '.idx')}`));
      // what a crash really leaves: no entry for a block that never became durable
      writeFileSync(idxPath, encodeEntries(entries.filter((e) => e.offset < keepAt)));
    }
    const lines: string[] = [];
    const r = recover({ dir: copy, log: (l) => lines.push(l) });
    assert.equal(r.lastSeq, expectSeq, `cut at ${at}`);
    if (at < headerEnd) {
      assert.match(lines.join('\n'), /torn segment header/);
    } else {
      const keep = whole.length > 0 ? whole[whole.length - 1].end : headerEnd;
      assert.equal(statSync(seg).size, keep);
      if (at > keep) assert.match(lines.join('\n'), new RegExp(`torn last block in .*${last.name} at byte offset ${keep}: truncating ${at - keep} bytes`));
    }
    // start-up on the repaired log continues the seq
    const ex = await Exchange.open({ dataDir: copy, config: { instruments: TEST_INSTRUMENTS, snapshotEvery: 0 }, log: quiet });
    const ack = await ex.submit({ op: 'book', symbol: 'AAPL' }, 't');
    assert.equal(ack.seq, expectSeq + 1);
    await ex.close({ snapshot: false });
    const full = recover({ dir: copy, readOnly: true, fromStart: true, log: quiet });
    assert.equal(full.lastSeq, expectSeq + 1);
  }
});

test('a flipped byte in an earlier block stops start-up naming file and offset; --repair cuts the log there', async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 2000, 80, { segmentBytes: 48 * 1024, snapshotEvery: 0 });
  const segs = listSegments(dir);
  const rnd = prng(11);
  for (let k = 0; k < 8; k++) {
    const si = k % 2 === 0 ? 0 : segs.length - 1;
    const seg = segs[si];
    const { blocks } = segmentBlocks(seg.path);
    const bi = Math.floor(rnd() * (blocks.length - 1)); // never the very last block of the log
    const b = blocks[bi];
    const at = b.offset + Math.floor(rnd() * (b.end - b.offset));
    const copy = copyDir(t, dir);
    const file = join(copy, seg.name);
    const bytes = readFileSync(file);
    bytes[at] ^= 1 << Math.floor(rnd() * 8);
    writeFileSync(file, bytes);
    assert.throws(() => recover({ dir: copy, log: quiet }), (e: unknown) => {
      assert.ok(e instanceof DamageError, String(e));
      assert.equal(e.file, file);
      assert.equal(e.offset, b.offset);
      assert.match(e.message, new RegExp(`${seg.name} at byte offset ${b.offset}`));
      return true;
    });
    await assert.rejects(Exchange.open({ dataDir: copy, log: quiet }), DamageError);
    const lines: string[] = [];
    const r = recover({ dir: copy, repair: true, log: (l) => lines.push(l) });
    const before = bi > 0 ? blocks[bi - 1].lastSeq : si > 0 ? segmentBlocks(segs[si - 1].path).blocks.at(-1)?.lastSeq ?? 0 : 0;
    assert.equal(r.lastSeq, before);
    assert.match(lines.join('\n'), new RegExp(`repair: .*${seg.name} is damaged at byte offset ${b.offset}.*loses .*the log will end at seq ${before}`));
    // the damaged segment is cut at the damaged block (its header and whole blocks stay), every later one removed
    assert.deepEqual(listSegments(copy).map((x) => x.name), segs.slice(0, si + 1).map((x) => x.name));
    assert.equal(statSync(file).size, b.offset);
  }
});

test('snapshot + tail replay equals replay from the first record', async (t) => {
  const dir = tempDir(t);
  const live = await buildLog(dir, 2500, 50, { snapshotEvery: 300, checkpointEvery: 41, segmentBytes: 128 * 1024 });
  const snaps = listSnapshots(dir);
  assert.ok(snaps.length >= 1, 'periodic snapshots were written');
  const tailEvents = new Map<number, EngineEvent[]>();
  const fromSnap = recover({ dir, readOnly: true, log: quiet, onCommand: (r, ev) => tailEvents.set(r.seq, structuredClone(ev)) });
  const fullEvents = new Map<number, EngineEvent[]>();
  const full = recover({ dir, readOnly: true, fromStart: true, log: quiet, onCommand: (r, ev) => fullEvents.set(r.seq, structuredClone(ev)) });
  assert.ok(fromSnap.snapshot !== null);
  assert.equal(fromSnap.snapshot.seq, snaps[0].seq);
  assert.ok(fromSnap.tailRecords > 0 && fromSnap.tailRecords < full.tailRecords);
  assert.equal(fromSnap.lastSeq, full.lastSeq);
  assert.equal(fromSnap.engine.stateHash(), full.engine.stateHash());
  assert.equal(full.engine.stateHash(), live);
  assert.deepStrictEqual(fromSnap.engine.snapshot(), full.engine.snapshot());
  for (const [seq, ev] of tailEvents) assert.deepStrictEqual(ev, fullEvents.get(seq), `events of seq ${seq}`);
});

test('a checkpoint whose hash differs from the replayed state stops with a divergence naming the seq', (t) => {
  const dir = tempDir(t);
  const w = new LogWriter(dir, { segmentBytes: 1 << 20, indexEvery: 4096 }, null);
  const b = new BlockBuilder(1 << 16);
  b.epoch(0, 10, 1, 'test');
  b.command(1, 10, 't', prepareCommand({ op: 'instrument', ...TEST_INSTRUMENTS[0] }));
  b.command(2, 11, 't', prepareCommand({ op: 'new', account: 'a', clOrdId: 'c', symbol: 'AAPL', side: 'buy', type: 'limit', price: '100.00', qty: '1' }));
  b.checkpoint(2, 11, 'not-the-hash');
  const { start, end } = b.seal(2, 11);
  w.writeSync(b.buf, start, end, { firstCommandSeq: 1, commands: 2, firstSeq: 0, firstTs: 10 });
  w.close();
  assert.throws(() => recover({ dir, log: quiet }), (e: unknown) => e instanceof DivergenceError && e.seq === 2 && /divergence at seq 2/.test(e.message));
});

test("avsc's own container decoder reads a segment written by matchlog", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 1500, 30, { segmentBytes: 32 * 1024, checkpointEvery: 100 });
  let avscCount = 0;
  const seqs: number[] = [];
  for (const seg of listSegments(dir)) {
    await new Promise<void>((resolve, reject) => {
      avro.createFileDecoder(seg.path)
        .on('data', (rec: { seq: number; body: Record<string, unknown> }) => {
          avscCount++;
          const branch = Object.keys(rec.body)[0];
          if (!/Checkpoint|Epoch|Commit/.test(branch)) seqs.push(rec.seq);
        })
        .on('error', reject)
        .on('end', () => resolve());
    });
  }
  const ours = [...readLog(dir)];
  assert.equal(avscCount, ours.length);
  assert.deepEqual(seqs, ours.filter((r) => r.kind === 'command').map((r) => r.seq));
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
});

test('a newer reader still reads a file written with an older schema version', (t) => {
  const dir = tempDir(t);
  // "version 0": NewOrder without stp, no BookQuery branch
  const v0 = JSON.parse(recordSchemaJson) as { fields: { name: string; type: unknown }[] };
  const body = v0.fields.find((f) => f.name === 'body') as { type: { name: string; fields: { name: string }[] }[] };
  body.type = body.type.filter((b) => b.name !== 'BookQuery');
  const newOrder = body.type.find((b) => b.name === 'NewOrder') as { fields: { name: string }[] };
  newOrder.fields = newOrder.fields.filter((f) => f.name !== 'stp');
  const v0Json = JSON.stringify(v0);
  const v0Type = avro.Type.forSchema(v0 as avro.Schema);
  const recs = [
    { seq: 1, ts: 5, origin: 'old', body: { 'matchlog.log.Instrument': prepareCommand({ op: 'instrument', ...TEST_INSTRUMENTS[0] }) } },
    { seq: 2, ts: 6, origin: 'old', body: { 'matchlog.log.NewOrder': { account: 'a', clOrdId: 'c', symbol: 'AAPL', side: 'buy', type: 'limit', price: '100.00', qty: '3', tif: null, postOnly: null } } },
  ];
  const parts = recs.map((r) => v0Type.toBuffer(r));
  const commit = v0Type.toBuffer({ seq: 2, ts: 6, origin: '', body: { 'matchlog.log.Commit': { records: 3, crc: Buffer.alloc(4) } } });
  const data = Buffer.concat([...parts, commit]);
  data.writeUInt32BE(crc32(data, 0, data.length - 4), data.length - 4);
  const sync = Buffer.alloc(SYNC_SIZE, 0xab);
  const prefix = Buffer.alloc(longSize(3) + longSize(data.length));
  writeLong(prefix, writeLong(prefix, 0, 3), data.length);
  writeFileSync(join(dir, '00000000000000000001.avro'), Buffer.concat([encodeHeader(v0Json, { 'matchlog.version': '0' }, sync), prefix, data, sync]));
  const r = recover({ dir, log: quiet });
  assert.equal(r.lastSeq, 2);
  const cmds = [...readLog(dir)].filter((x) => x.kind === 'command');
  assert.deepStrictEqual(cmds[1], { kind: 'command', seq: 2, ts: 6, origin: 'old', cmd: { op: 'new', account: 'a', clOrdId: 'c', symbol: 'AAPL', side: 'buy', type: 'limit', price: '100.00', qty: '3' } });
  assert.equal(r.engine.book('AAPL')?.orders(0).length, 1);
});

test('the sparse index finds records by seq and by time, and is rebuilt when damaged', async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 3000, 150, { segmentBytes: 40 * 1024, indexEvery: 2048 });
  const all = [...readLog(dir)];
  const rnd = prng(3);
  for (let k = 0; k < 25; k++) {
    const s = 1 + Math.floor(rnd() * 3000);
    assert.deepStrictEqual([...readLog(dir, { fromSeq: s })], all.filter((r) => r.seq >= s), `fromSeq ${s}`);
    const ts = all[Math.floor(rnd() * all.length)].ts;
    assert.deepStrictEqual([...readLog(dir, { fromTs: ts })], all.filter((r) => r.ts >= ts), `fromTs ${ts}`);
  }
  const idx = readdirSync(dir).filter((n) => n.endsWith('.idx')).map((n) => join(dir, n));
  assert.ok(idx.length >= 2);
  writeFileSync(idx[0], Buffer.from('garbage'));
  writeFileSync(idx[1], Buffer.alloc(48, 0x41));
  assert.deepStrictEqual([...readLog(dir, { fromSeq: 1234 })], all.filter((r) => r.seq >= 1234));
  recover({ dir, log: quiet });
  assert.ok(readFileSync(idx[0]).length % 24 === 0 && readFileSync(idx[0]).length > 0);
});

test('readBlocks from a seq to a seq reads only the stretch the index bounds, the same records; an index off the block boundaries is ignored', async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 3000, 150, { segmentBytes: 40 * 1024, indexEvery: 2048 });
  const all = [...readLog(dir)];
  const rnd = prng(11);
  const check = (label: string, bounded: boolean) => {
    for (let k = 0; k < 80; k++) {
      const from = 1 + Math.floor(rnd() * 3000);
      const to = Math.min(3000, from + Math.floor(rnd() * 400));
      const blocks = [...readBlocks(dir, { fromSeq: from, toSeq: to })];
      const got = blocks.flatMap((b) => b.records).filter((r) => r.seq >= from && r.seq <= to);
      assert.deepStrictEqual(got, all.filter((r) => r.seq >= from && r.seq <= to), `${label} ${from}..${to}`);
      // nothing at or beyond the index entry after `to` is read (nor past its segment, when no entry of it lies after `to`)
      const home = listSegments(dir).filter((x) => x.firstSeq <= to).at(-1) as { path: string };
      const stop = (readIndex(home.path.replace(/\.avro$/, '.idx')) ?? []).find((e) => e.seq > to + 1);
      const past = blocks.filter((b) => b.records[0].seq > to + 1);
      if (bounded) assert.ok(past.every((b) => b.file === home.path && (stop === undefined || b.offset < stop.offset)), `${label} ${from}..${to}: read past the stretch`);
    }
  };
  check('index', true);
  // every entry one byte off its block: the reader scans whole segments instead, with the same records
  for (const n of readdirSync(dir).filter((x) => x.endsWith('.idx'))) {
    const entries = readIndex(join(dir, n)) ?? [];
    writeFileSync(join(dir, n), encodeEntries(entries.map((e) => ({ ...e, offset: e.offset + 1 }))));
  }
  check('skewed index', false);
});

test('a full queue refuses with Busy, takes no seq, and seq stays gap-free; ts never goes backwards', async (t) => {
  const dir = tempDir(t);
  let now = 1_000_000;
  const ex = await Exchange.open({ dataDir: dir, config: { queueCapacity: 10, instruments: [] }, log: quiet, clock: () => (now -= 7) });
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => ex.submit({ op: 'book', symbol: `S${i}` }, 'b')));
  const ok = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ seq: number }>).value.seq);
  const busy = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
  assert.deepEqual(ok, Array.from({ length: 10 }, (_, i) => i + 1));
  assert.equal(busy.length, 40);
  assert.ok(busy.every((e) => e instanceof BusyError && /busy/.test(e.message)));
  await Promise.all(Array.from({ length: 5 }, () => ex.submit({ op: 'book', symbol: 'X' }, 'b')));
  await ex.close();
  // restart: seq continues, a new epoch, ts never below what is logged
  const ex2 = await Exchange.open({ dataDir: dir, config: { instruments: [] }, log: quiet, clock: () => 5 });
  assert.equal(ex2.recovery.seq, 15);
  assert.equal(ex2.recovery.epoch, 2);
  assert.equal((await ex2.submit({ op: 'book', symbol: 'X' }, 'b')).seq, 16);
  await assert.rejects(Exchange.open({ dataDir: dir, log: quiet }), /in use by process/);
  await ex2.close();
  const recs = [...readLog(dir)];
  for (let i = 1; i < recs.length; i++) assert.ok(recs[i].ts >= recs[i - 1].ts);
  assert.deepEqual(recs.filter((r) => r.kind === 'epoch').map((r) => r.kind === 'epoch' && r.epoch), [1, 2]);
});

test('an unusable newest snapshot: recovery says so and starts from the one before it, to the same state', async (t) => {
  const dir = tempDir(t);
  const live = await buildLog(dir, 2000, 40, { snapshotEvery: 500, keepSnapshots: 3 });
  const snaps = listSnapshots(dir);
  assert.ok(snaps.length >= 2);
  const bytes = readFileSync(snaps[0].path);
  bytes[bytes.length - 40] ^= 0xff;
  writeFileSync(snaps[0].path, bytes);
  const lines: string[] = [];
  const r = recover({ dir, log: (l) => lines.push(l) });
  assert.match(lines.join('\n'), new RegExp(`snapshot .*${snaps[0].name} is unusable \\(.*\\); trying an older one`));
  assert.equal(r.snapshot?.seq, snaps[1].seq);
  assert.equal(r.engine.stateHash(), live);
  assert.equal(r.tailRecords, r.lastSeq - snaps[1].seq);
});

test('segments are opened with O_DSYNC: a block is on stable storage when its write returns', async (t) => {
  const dir = tempDir(t);
  const ex = await Exchange.open({ dataDir: dir, config: { instruments: TEST_INSTRUMENTS }, log: quiet });
  await ex.submit({ op: 'book', symbol: 'AAPL' }, 't');
  const seg = listSegments(dir)[0].path;
  // Linux: the open flags of each descriptor are in /proc/self/fdinfo (octal); O_DSYNC is 010000
  const fds = readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === seg;
    } catch {
      return false;
    }
  });
  assert.equal(fds.length, 1, 'the segment is open once');
  const flags = parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fds[0]}`, 'utf8'))?.[1] ?? '0', 8);
  assert.notEqual(flags & constants.O_DSYNC, 0, `flags ${flags.toString(8)} lack O_DSYNC`);
  await ex.close({ snapshot: false });
});

test('a segment of another log in the folder is damage, named; every segment header carries the log id', async (t) => {
  const a = tempDir(t);
  const b = tempDir(t);
  await buildLog(a, 1500, 30, { segmentBytes: 32 * 1024, snapshotEvery: 0 });
  await buildLog(b, 1500, 30, { segmentBytes: 32 * 1024, snapshotEvery: 0 });
  const segsA = listSegments(a);
  const segsB = listSegments(b);
  assert.deepEqual(segsA.map((x) => x.name), segsB.map((x) => x.name), 'the same commands in the same blocks');
  const ids = (dir: string): string[] => listSegments(dir).map((x) => {
    const h = parseHeader(readFileSync(x.path));
    return typeof h === 'string' ? h : h.meta.get('matchlog.log') ?? '';
  });
  assert.equal(new Set(ids(a)).size, 1);
  assert.match(ids(a)[0], /^[0-9a-f]{32}$/);
  assert.notEqual(ids(a)[0], ids(b)[0]);
  assert.equal(recover({ dir: a, readOnly: true, log: quiet }).logId, ids(a)[0]);
  cpSync(segsB[1].path, segsA[1].path);
  assert.throws(() => recover({ dir: a, log: quiet }), (e: unknown) => e instanceof DamageError && e.file === segsA[1].path
    && e.message.includes(`the segment belongs to another log: its log id is ${ids(b)[0]}, this log's is ${ids(a)[0]}`));
});
