// Replication in one process: a primary Exchange with its replication
// endpoint, replicas following it over TCP. The replica must end with the
// same log (records), the same state hash and the same events on replay;
// quorum mode must hold acknowledgements until a replica has the block;
// damage and strangers must be refused with the data kept.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Exchange, readLog, type LogRecord } from '../log/index.js';
import { Follower } from '../log/replication/follower.js';
import { ReplicationSource } from '../log/replication/source.js';
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
