// Replication in one process: a primary Exchange with its replication
// endpoint, replicas following it over TCP. The replica must end with the
// same log (records), the same state hash and the same events on replay;
// quorum mode must hold acknowledgements until a replica has the block;
// damage and strangers must be refused with the data kept.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { connect, createServer, type AddressInfo } from 'node:net';
import { readLong } from '../log/container.js';
import { Exchange, listSnapshots, readBlocks, readLog, type LogRecord } from '../log/index.js';
import { BlockBuilder, decodeBlock } from '../log/records.js';
import { FrameReader, Msg, PROTOCOL_VERSION, blockFrame, jsonFrame } from '../log/replication/protocol.js';
import { Follower } from '../log/replication/follower.js';
import { ReplicationSource } from '../log/replication/source.js';
import { matchlog } from './cli-helpers.js';
import { Flow, TEST_INSTRUMENTS, prng } from './log-helpers.js';

/** A temp dir removed after `close` (t.after hooks run in the order they were added: the close must come first). */
function dirFor(t: TestContext, prefix: string, close: () => Promise<void>): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(async () => { await close(); rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

const quiet = (...a: unknown[]): void => { if (process.env.RDEBUG) console.error(...a); };


async function startPrimary(t: TestContext, opts: { quorum?: number; secret?: string; config?: object } = {}): Promise<{ primary: Exchange; source: ReplicationSource; pdir: string }> {
  let stop = async (): Promise<void> => undefined;
  const pdir = dirFor(t, 'matchlog-primary-', () => stop());
  const primary = await Exchange.open({ dataDir: pdir, config: { instruments: TEST_INSTRUMENTS, checkpointEvery: 50, ...opts.config }, log: quiet });
  const source = await ReplicationSource.start({
    listen: { host: '127.0.0.1', port: 0 }, exchange: primary, secret: opts.secret === undefined ? null : Buffer.from(opts.secret), quorum: opts.quorum ?? 0,
    gateway: '127.0.0.1:7440', node: 'primary', log: quiet,
  });
  stop = async () => { await source.close(); await primary.close({ holdMs: 100 }); };
  return { primary, source, pdir };
}

async function startReplica(t: TestContext, source: ReplicationSource, opts: { secret?: string; dir?: string; config?: object } = {}): Promise<{ replica: Exchange; follower: Follower; rdir: string; fatal: Promise<Error> }> {
  let stop = async (): Promise<void> => undefined;
  const rdir = opts.dir ?? dirFor(t, 'matchlog-replica-', () => stop());
  if (opts.dir !== undefined) t.after(() => stop());
  const replica = await Exchange.open({ dataDir: rdir, replica: true, config: { checkpointEvery: 50, ...opts.config }, log: quiet });
  let onFatal: (e: Error) => void = quiet;
  const fatal = new Promise<Error>((r) => { onFatal = r; });
  const follower = new Follower({ primary: source.address, exchange: replica, secret: opts.secret === undefined ? null : Buffer.from(opts.secret), node: 'replica', log: quiet });
  follower.onFatal = (e) => { quiet('FATAL', e.message); onFatal(e); };
  follower.start();
  stop = async () => { await follower.stop(); await replica.close({ snapshot: false }); };
  return { replica, follower, rdir, fatal };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function load(ex: Exchange, n: number, seed: number): Promise<void> {
  const flow = new Flow(prng(seed), `s${seed}`);
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    acks.push(ex.submit(flow.next(), 'test'));
    if (i % 97 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(acks);
}

/** The log's records without what may differ between two copies of it (nothing should). */
function records(dir: string): LogRecord[] {
  return [...readLog(dir)];
}

test('a replica ends with the same records, state hash and replayed events as its primary', async (t) => {
  const { primary, source, pdir } = await startPrimary(t);
  await load(primary, 300, 1); // before the replica: it catches up from the files
  const { replica, follower } = await startReplica(t, source);
  await load(primary, 1500, 2); // while it follows: live blocks
  await until('the replica to catch up', () => replica.durableSeq === primary.durableSeq);
  assert.equal(replica.engine.stateHash(), primary.engine.stateHash());
  assert.deepEqual(records(join(replica.dataDir)), records(pdir));
  assert.equal(follower.status().lagRecords, 0);
  assert.ok(readdirSync(replica.dataDir).some((f) => f.endsWith('.avro')), 'the replica wrote segment files');
  // a replay of each log (the surveillance tool, a process of its own) gives the same event stream
  const events = (dir: string): string => {
    const r = matchlog(['replay', dir, '--events', '--format', 'jsonl']);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const fromReplica = events(replica.dataDir);
  assert.ok(fromReplica.split('\n').length > 1800);
  assert.equal(fromReplica, events(pdir));
});

test('quorum mode: nothing is acknowledged before a replica has it durable', async (t) => {
  const { primary, source } = await startPrimary(t, { quorum: 1 });
  await assert.rejects(primary.submit(new Flow(prng(3), 'q').next(), 'test'), /no quorum: 0 of 1/);
  const { replica, follower } = await startReplica(t, source);
  await until('the replica in sync', () => source.inSync() === 1);
  const acks: number[] = [];
  // every ack must find the replica already holding that seq
  const flow = new Flow(prng(4), 'q');
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 400; i++) {
    pending.push(primary.submit(flow.next(), 'test').then((a) => {
      assert.ok(replica.durableSeq >= a.seq, `ack of seq ${a.seq} while the replica has ${replica.durableSeq}`);
      acks.push(a.seq);
    }));
  }
  await Promise.all(pending);
  assert.equal(acks.length, 400);
  // the replica goes away: what is sent now waits
  await follower.stop();
  await until('the primary to see it gone', () => source.inSync() === 0);
  await assert.rejects(primary.submit(flow.next(), 'test'), /no quorum/);
});

test('a replica refuses a wrong secret, and a primary refuses a replica without it', async (t) => {
  const { source } = await startPrimary(t, { secret: 'right-secret' });
  const { fatal, replica } = await startReplica(t, source, { secret: 'wrong-secret' });
  const err = await fatal;
  assert.match(err.message, /wrong replication secret/);
  assert.equal(replica.durableSeq, 0);
});

// ---- a fake primary: real blocks of a real log, some of them spoiled ----

interface FakeBlock { bytes: Buffer; first: number; last: number }

/** The blocks of a small real log, as a primary would ship them. */
async function realBlocks(t: TestContext): Promise<{ blocks: FakeBlock[]; logId: string; dir: string }> {
  let stop = async (): Promise<void> => undefined;
  const dir = dirFor(t, 'matchlog-source-', () => stop());
  const ex = await Exchange.open({ dataDir: dir, config: { instruments: TEST_INSTRUMENTS, checkpointEvery: 10 }, log: quiet });
  stop = () => ex.close({ snapshot: false });
  await load(ex, 200, 9);
  const logId = ex.logId as string;
  const blocks: FakeBlock[] = [];
  for (const b of readBlocks(dir)) {
    const cmds = b.records.filter((r) => r.kind === 'command');
    blocks.push({ bytes: Buffer.from(b.raw as Buffer), first: cmds[0].seq, last: cmds[cmds.length - 1].seq });
  }
  return { blocks, logId, dir };
}

/** Serves `blocks` to one replica the way a primary does (no secret). */
async function fakePrimary(t: TestContext, logId: string, blocks: FakeBlock[]): Promise<{ address: { host: string; port: number } }> {
  const server = createServer((s) => {
    const reader = new FrameReader();
    s.on('error', () => undefined);
    s.write(jsonFrame(Msg.Challenge, { v: PROTOCOL_VERSION, nonce: 'n' }));
    s.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let f = reader.next(); f !== null && typeof f !== 'string'; f = reader.next()) {
        if (f.type !== Msg.Hello) continue;
        const last = blocks[blocks.length - 1].last;
        s.write(jsonFrame(Msg.Welcome, { v: PROTOCOL_VERSION, node: 'fake', logId, epoch: 1, durableSeq: last, gateway: null, snapshot: false, proof: '' }));
        for (const b of blocks) s.write(blockFrame(1, b.first, b.last, last, b.bytes));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => { server.close(() => r()); }));
  const a = server.address() as AddressInfo;
  return { address: { host: '127.0.0.1', port: a.port } };
}

/** Follows the fake primary until the replica stops; returns the error and what its own log holds. */
async function followFake(t: TestContext, logId: string, blocks: FakeBlock[]): Promise<{ err: Error; logged: number; replica: Exchange }> {
  const fake = await fakePrimary(t, logId, blocks);
  const { replica, fatal, rdir } = await startReplica(t, { address: fake.address } as unknown as ReplicationSource);
  const err = await fatal;
  // what it wrote is whole and readable: the blocks before the bad one
  const logged = Math.max(0, ...[...readLog(rdir)].filter((r) => r.kind === 'command').map((r) => r.seq));
  return { err, logged, replica };
}

test('a replica fed a corrupted block stops with the reason and keeps the blocks before it', async (t) => {
  const { blocks, logId } = await realBlocks(t);
  const bad = Math.floor(blocks.length / 2);
  const spoiled = blocks.map((b, i) => {
    if (i !== bad) return b;
    const bytes = Buffer.from(b.bytes);
    bytes[bytes.length - 20] ^= 0x40; // a byte inside the records: the CRC no longer matches
    return { ...b, bytes };
  });
  const { err, logged, replica } = await followFake(t, logId, spoiled);
  assert.match(err.message, new RegExp(`corrupted block after seq ${blocks[bad].first - 1}: CRC mismatch`));
  assert.equal(logged, blocks[bad].first - 1);
  assert.equal(replica.durableSeq, blocks[bad].first - 1);
});

test('a replica fed a wrong checkpoint hash stops with a divergence naming the seq, and writes nothing of that block', async (t) => {
  const { blocks, logId } = await realBlocks(t);
  // a block whose checkpoint carries another hash, re-framed with a valid CRC: only the state can tell
  const at = blocks.findIndex((b, i) => i > 2 && decodeRaw(b.bytes).some((r) => r.kind === 'checkpoint'));
  assert.ok(at > 0, 'the log has checkpoints');
  const records = decodeRaw(blocks[at].bytes);
  const cp = records.find((r) => r.kind === 'checkpoint') as LogRecord & { kind: 'checkpoint' };
  const builder = new BlockBuilder(1 << 20);
  builder.reset();
  for (const r of records) {
    if (r.kind === 'command') builder.command(r.seq, r.ts, r.origin, r.cmd);
    else if (r.kind === 'checkpoint') builder.checkpoint(r.seq, r.ts, r.hash.replace(/^./, (c) => (c === '0' ? '1' : '0')));
    else if (r.kind === 'epoch') builder.epoch(r.seq, r.ts, r.epoch, r.node);
  }
  const last = records[records.length - 1];
  const { start, end } = builder.seal(last.seq, last.ts);
  const spoiled = blocks.map((b, i) => (i === at ? { ...b, bytes: Buffer.from(builder.buf.subarray(start, end)) } : b));
  const { err, logged } = await followFake(t, logId, spoiled);
  assert.match(err.message, new RegExp(`divergence at seq ${cp.seq}: checkpoint hash`));
  assert.equal(logged, blocks[at].first - 1);
});

test('a replica refuses blocks of an epoch older than its own', async (t) => {
  const { blocks, logId } = await realBlocks(t);
  // the replica has already seen epoch 5 (a later primary): this one (epoch 1) was superseded
  const { replica, follower, rdir } = await startReplica(t, { address: (await fakePrimary(t, logId, blocks.slice(0, 2))).address } as unknown as ReplicationSource);
  await until('the first blocks', () => replica.durableSeq === blocks[1].last);
  await follower.stop();
  const err = await replica.appendBlock(blocks[2].bytes, 0).then(() => null, (e: Error) => e);
  assert.match(String(err?.message), /refused a block of epoch 0: this replica is at epoch 1/);
  assert.equal(replica.durableSeq, blocks[1].last);
  assert.ok(rdir.length > 0);
});

function decodeRaw(bytes: Buffer): LogRecord[] {
  const buf = Buffer.concat([bytes, Buffer.alloc(16)]);
  const count = readLong(buf, 0) as { value: number; next: number };
  const size = readLong(buf, count.next) as { value: number; next: number };
  return decodeBlock(buf, { offset: 0, count: count.value, dataStart: size.next, dataEnd: size.next + size.value, end: size.next + size.value + 16 }, undefined);
}

test('an empty replica far behind takes the primary\'s snapshot, then the whole log, and ends equal', async (t) => {
  let stop = async (): Promise<void> => undefined;
  const pdir = dirFor(t, 'matchlog-primary-', () => stop());
  const primary = await Exchange.open({ dataDir: pdir, config: { instruments: TEST_INSTRUMENTS, checkpointEvery: 50, snapshotEvery: 500 }, log: quiet });
  const lines: string[] = [];
  const source = await ReplicationSource.start({
    listen: { host: '127.0.0.1', port: 0 }, exchange: primary, secret: null, quorum: 0, gateway: null, node: 'primary', log: (l) => lines.push(l), snapshotLag: 100,
  });
  stop = async () => { await source.close(); await primary.close({ snapshot: false }); };
  await load(primary, 1800, 11);
  await primary.snapshotsWritten();
  const { replica } = await startReplica(t, source, { config: { snapshotEvery: 0 } });
  await until('the replica to catch up', () => replica.durableSeq === primary.durableSeq);
  const newest = listSnapshots(pdir)[0];
  assert.ok(newest !== undefined && newest.seq >= 500);
  assert.ok(lines.some((l) => l.includes(`sending snapshot ${newest.name}`)), lines.join('\n'));
  assert.equal(replica.engine.stateHash(), primary.engine.stateHash());
  assert.deepEqual(records(replica.dataDir), records(pdir));
  // the snapshot is written into the replica's folder only once its log reached it (a restart must find both)
  assert.ok(readdirSync(replica.dataDir).includes(newest.name));
});

test('an ack gate (a lease that may have lapsed) holds acknowledgements of durable commands until it opens; fencing holds them for good', async (t) => {
  let stop = async (): Promise<void> => undefined;
  const dir = dirFor(t, 'matchlog-gate-', () => stop());
  const ex = await Exchange.open({ dataDir: dir, config: { instruments: TEST_INSTRUMENTS }, log: quiet });
  stop = () => ex.close({ snapshot: false, holdMs: 50 });
  let open = false;
  ex.addGate({ releasable: () => (open ? Infinity : -1) });
  const flow = new Flow(prng(5), 'g');
  let acked = 0;
  const first = ex.submit(flow.next(), 'test').then(() => { acked++; });
  await until('the command durable here', () => ex.durableSeq > ex.seq);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(acked, 0, 'acknowledged while the gate was shut');
  open = true;
  ex.gateChanged();
  await first;
  assert.equal(acked, 1);
  ex.fence('a test says so', '127.0.0.1:1');
  await assert.rejects(ex.submit(flow.next(), 'test'), /not primary: a test says so; the primary is at 127\.0\.0\.1:1/);
  assert.equal(ex.role, 'fenced');
});

test('a former primary with commands the new primary never had is refused as its replica: the logs diverged', { timeout: 30_000 }, async (t) => {
  // no checkpoints: only the handshake's log matching can tell
  const { primary: p1, source: s1, pdir } = await startPrimary(t, { config: { checkpointEvery: 0 } });
  const { replica: r, follower } = await startReplica(t, s1, { config: { checkpointEvery: 0 } });
  await load(p1, 200, 21);
  await until('the replica to catch up', () => r.durableSeq === p1.durableSeq);
  await follower.stop();
  await load(p1, 50, 22); // acknowledged by p1 alone (local mode): the replica never gets them
  await s1.close();
  await p1.close({ snapshot: false });
  await r.promote(r.epoch + 1);
  const s2 = await ReplicationSource.start({ listen: { host: '127.0.0.1', port: 0 }, exchange: r, secret: null, quorum: 0, gateway: null, node: 'r', log: quiet });
  t.after(() => s2.close());
  await load(r, 200, 23);
  // the former primary comes back as a replica of the new one
  const { fatal } = await startReplica(t, s2, { dir: pdir, config: { checkpointEvery: 0 } });
  const err = await fatal;
  assert.match(err.message, /diverged from this primary's at or before seq \d+/);
});

test('the replication endpoint refuses what is not the protocol, and frames too large to be a replica\'s, before buffering them', async (t) => {
  const { source, primary } = await startPrimary(t);
  const answer = (payload: Buffer): Promise<string> => new Promise((resolve) => {
    const s = connect(source.address);
    let got = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length > 0 && got.includes(Buffer.from('fatal'))) {
        s.destroy();
        resolve(got.toString('latin1'));
      }
    });
    s.on('error', () => resolve(got.toString('latin1')));
    s.on('close', () => resolve(got.toString('latin1')));
    s.write(payload);
  });
  assert.match(await answer(Buffer.from('GET / HTTP/1.1\r\n\r\n')), /a frame of \d+ bytes: not the matchlog replication protocol/);
  const big = Buffer.alloc(5);
  big.writeUInt32BE(10 << 20, 0); // 10 MiB announced: refused at once, nothing buffered
  assert.match(await answer(big), /a frame of 10485760 bytes/);
  assert.match(await answer(Buffer.from([0, 0, 0, 3, 2, 123, 125])), /wrong replication secret/);
  assert.equal(primary.role, 'primary');
});

test('a replica whose log is longer than the primary\'s (the primary lost its tail) is refused, not fed', { timeout: 30_000 }, async (t) => {
  let stop = async (): Promise<void> => undefined;
  const adir = dirFor(t, 'matchlog-ahead-', () => stop());
  const bdir = `${adir}-copy`;
  t.after(() => rmSync(bdir, { recursive: true, force: true }));
  const open = (dir: string): Promise<Exchange> => Exchange.open({ dataDir: dir, config: { instruments: TEST_INSTRUMENTS }, log: quiet });
  let a = await open(adir);
  await load(a, 100, 31);
  await a.close({ snapshot: false });
  cpSync(adir, bdir, { recursive: true }); // the same log, 100 commands in
  a = await open(adir);
  await load(a, 100, 32);
  const sa = await ReplicationSource.start({ listen: { host: '127.0.0.1', port: 0 }, exchange: a, secret: null, quorum: 0, gateway: null, node: 'a', log: quiet });
  stop = async () => { await sa.close(); await a.close({ snapshot: false }); };
  const { replica, follower, fatal } = await startReplica(t, sa);
  await until('the replica to catch up', () => replica.durableSeq === a.durableSeq);
  await follower.stop();
  const b = await open(bdir);
  const sb = await ReplicationSource.start({ listen: { host: '127.0.0.1', port: 0 }, exchange: b, secret: null, quorum: 0, gateway: null, node: 'b', log: quiet });
  t.after(async () => { await sb.close(); await b.close({ snapshot: false }); });
  const again = new Follower({ primary: sb.address, exchange: replica, secret: null, node: 'replica', log: quiet });
  let onFatal: (e: Error) => void = quiet;
  const refused = new Promise<Error>((r) => { onFatal = r; });
  again.onFatal = onFatal;
  again.start();
  t.after(() => again.stop());
  assert.match((await refused).message, new RegExp(`the replica's log reaches seq ${replica.durableSeq}, this primary's only ${b.durableSeq}`));
  void fatal;
});
