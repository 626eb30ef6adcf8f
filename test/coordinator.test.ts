// The etcd coordinator against a real etcd (test/etcd-helpers.ts): who wins the
// leader key and with which epoch, how fast a replica takes over, and the
// safety bound of a primary that can no longer renew its lease (slow network,
// partition, SIGSTOP). Timings use a 1 s lease.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { after, afterEach, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { EtcdCoordinator, type CoordinatorOptions, type LeaderInfo } from '../log/coordinator.js';
import { childEnv } from './cli-helpers.js';
import { startEtcd, type EtcdServer } from './etcd-helpers.js';

let etcd: EtcdServer;
let raw: Etcd3;
const open: EtcdCoordinator[] = [];
const lines: string[] = [];
let clusterN = 0;

before(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoint });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

after(async () => {
  raw?.close();
  await etcd?.stop();
});

/** A fresh key prefix per test, so that tests do not see each other's keys. */
function cluster(): string {
  return `t${++clusterN}-${process.pid}`;
}

async function coord(o: Partial<CoordinatorOptions> & { node: string; cluster: string }): Promise<EtcdCoordinator> {
  const c = await EtcdCoordinator.connect({ url: etcd.url, log: (l) => lines.push(l), ...o });
  open.push(c);
  return c;
}

const me = (node: string, minEpoch = 0) => ({ gateway: `ws://${node}:8080`, replication: `tcp://${node}:9000`, minEpoch });

/** A promise settled by `register`'s callback, or rejected after ms. */
function within<T>(ms: number, what: string, register: (resolve: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    register((v) => { clearTimeout(t); resolve(v); });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Follower { c: EtcdCoordinator; elected: Promise<{ epoch: number; at: number }>; leaders: (LeaderInfo | null)[]; seq: { v: number } }

/** A coordinator following the cluster with a fixed seq. */
async function follower(node: string, cl: string, seq: number, electedWithin = 10_000): Promise<Follower> {
  const c = await coord({ node, cluster: cl });
  const leaders: (LeaderInfo | null)[] = [];
  const s = { v: seq };
  const elected = within<{ epoch: number; at: number }>(electedWithin, `${node} elected`, (resolve) => {
    c.follow({
      seq: () => s.v,
      me: { gateway: `ws://${node}:8080`, replication: `tcp://${node}:9000`, minEpoch: () => 0 },
      onLeader: (l) => leaders.push(l),
      elected: (epoch) => resolve({ epoch, at: Date.now() }),
    });
  });
  elected.catch(() => undefined); // awaited only by the tests that expect it
  return { c, elected, leaders, seq: s };
}

async function until(what: string, ms: number, cond: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

test('the test etcd really honours a 1 s lease (fast election settings)', async () => {
  const lease = raw.lease(1, { autoKeepAlive: false });
  const id = await lease.grant();
  const granted = Date.now();
  await lease.put('ttl-probe').value('x');
  const ttl = await raw.leaseClient.leaseTimeToLive({ ID: id });
  assert.equal(ttl.grantedTTL, '1');
  for (;;) {
    const v = await raw.get('ttl-probe').string();
    if (v === null) break;
    assert.ok(Date.now() - granted < 1600, 'a 1 s lease still alive after 1.6 s: etcd stretched it');
    await sleep(20);
  }
  const lived = Date.now() - granted;
  assert.ok(lived >= 900, `the lease expired after ${lived} ms, before its TTL`);
});

test('campaign on a vacant key wins with epoch = the create revision; a second node loses and sees the leader', async () => {
  const cl = cluster();
  const a = await coord({ node: 'a', cluster: cl });
  const b = await coord({ node: 'b', cluster: cl });
  const won = await a.campaign(me('a'));
  assert.equal(won.won, true);
  const epoch = won.won ? won.epoch : 0;
  const kv = (await raw.get(`${cl}/leader`).exec()).kvs[0];
  assert.equal(Number(kv.create_revision), epoch);
  assert.deepEqual(JSON.parse(kv.value.toString()), { node: 'a', gateway: 'ws://a:8080', replication: 'tcp://a:9000', epoch });
  assert.ok(a.safeUntil() > Date.now(), 'a fresh leader may acknowledge');
  assert.ok(a.safeUntil() <= Date.now() + 1000 - 150, 'no further than the TTL minus the margin');

  const lost = await b.campaign(me('b'));
  assert.deepEqual(lost, { won: false, leader: { node: 'a', gateway: 'ws://a:8080', replication: 'tcp://a:9000', epoch } });
  assert.equal(b.safeUntil(), 0);
  assert.deepEqual(await b.leader(), { node: 'a', gateway: 'ws://a:8080', replication: 'tcp://a:9000', epoch });
  // campaigning again while leader changes nothing
  assert.deepEqual(await a.campaign(me('a')), { won: true, epoch });
});

test('the epoch is at least minEpoch (the log may hold higher epochs)', async () => {
  const cl = cluster();
  const a = await coord({ node: 'a', cluster: cl });
  const b = await coord({ node: 'b', cluster: cl });
  const r = await a.campaign(me('a', 1_000_000));
  assert.deepEqual(r, { won: true, epoch: 1_000_000 });
  const kv = (await raw.get(`${cl}/leader`).exec()).kvs[0];
  assert.ok(Number(kv.create_revision) < 1_000_000);
  assert.equal((JSON.parse(kv.value.toString()) as LeaderInfo).epoch, 1_000_000, 'the epoch everyone reads is in the value');
  assert.equal((await b.leader())?.epoch, 1_000_000);
});

test('a replica takes over within 2 s of the leader going silent; the old leader stops being safe before that, and gets onLost', async () => {
  const cl = cluster();
  const a = await coord({ node: 'a', cluster: cl });
  const r = await a.campaign(me('a'));
  assert.ok(r.won);
  const oldEpoch = r.won ? r.epoch : 0;
  const lostA = within<{ reason: string; leader: LeaderInfo | null; at: number }>(5000, 'a onLost', (resolve) => {
    a.onLost = (reason, leader) => resolve({ reason, leader, at: Date.now() });
  });
  const b = await follower('b', cl, 7);
  await until('b to see a', 2000, () => b.leaders.length > 0);
  assert.deepEqual(b.leaders, [{ node: 'a', gateway: 'ws://a:8080', replication: 'tcp://a:9000', epoch: oldEpoch }]);

  // watch a's bound while it goes silent (as a paused or dead process would)
  let lastSafe = a.safeUntil();
  const sampler = setInterval(() => { const s = a.safeUntil(); if (s > 0) lastSafe = s; }, 2);
  a.stopKeepalive();
  const silentAt = Date.now();
  const el = await b.elected.finally(() => clearInterval(sampler));
  const took = el.at - silentAt;
  assert.ok(took < 2000, `takeover took ${took} ms`);
  assert.ok(el.epoch > oldEpoch, `new epoch ${el.epoch} not above ${oldEpoch}`);
  assert.ok(lastSafe < el.at, `the old leader was still safe until ${lastSafe - el.at} ms after the new one was elected`);
  assert.ok(b.c.safeUntil() > Date.now(), 'the new leader may acknowledge');
  assert.equal(b.c.state(), 'leader');

  const l = await lostA;
  assert.ok(a.safeUntil() < Date.now());
  assert.equal(a.safeUntil(), 0);
  assert.match(l.reason, /deleted|held by b|expired/);
  assert.deepEqual(await a.leader(), { node: 'b', gateway: 'ws://b:8080', replication: 'tcp://b:9000', epoch: el.epoch });
  assert.deepEqual(b.leaders.at(-1), null, 'b saw the vacancy before taking over');
});

test('of two followers, the one with the higher seq takes over at once; the other sees it as leader', async () => {
  const cl = cluster();
  const a = await coord({ node: 'a', cluster: cl });
  assert.ok((await a.campaign(me('a'))).won);
  // c is ahead but has the larger name: the tie rule alone would pick b
  const b = await follower('b', cl, 10);
  const c = await follower('c', cl, 20);
  await until('followers to see a', 2000, () => b.leaders.length > 0 && c.leaders.length > 0);
  a.stopKeepalive();
  const silentAt = Date.now();
  const winner = await Promise.race([b.elected.then(() => 'b'), c.elected.then(() => 'c')]);
  assert.equal(winner, 'c');
  const el = await c.elected;
  assert.ok(el.at - silentAt < 2000, `takeover took ${el.at - silentAt} ms`);
  await until('b to see c', 2000, () => b.leaders.at(-1)?.node === 'c');
  assert.equal(b.leaders.at(-1)?.epoch, el.epoch);
  assert.equal(b.c.state(), 'follower');
  // and b stays a follower after its wait of 2 x TTL
  await sleep(2300);
  assert.equal(b.c.state(), 'follower');
  assert.equal((await b.c.leader())?.node, 'c');
});

test('equal seqs: the smallest node name takes over', async () => {
  const cl = cluster();
  const a = await coord({ node: 'a', cluster: cl });
  assert.ok((await a.campaign(me('a'))).won);
  const z = await follower('z', cl, 5);
  const m = await follower('m', cl, 5);
  await until('followers to see a', 2000, () => z.leaders.length > 0 && m.leaders.length > 0);
  a.stopKeepalive();
  const winner = await Promise.race([z.elected.then(() => 'z'), m.elected.then(() => 'm')]);
  assert.equal(winner, 'm');
});

test('a follower that is not the most caught-up takes over after 2 x TTL when the most caught-up is dead too', async () => {
  const cl = cluster();
  const a = await coord({ node: 'a', cluster: cl });
  assert.ok((await a.campaign(me('a'))).won);
  const b = await follower('b', cl, 3);
  // x published a higher seq but is silent: its progress key lives until its lease lapses
  const x = await coord({ node: 'x', cluster: cl });
  x.reportProgress(99);
  await sleep(150);
  assert.equal((await raw.get(`${cl}/replicas/x`).json() as { seq: number }).seq, 99);
  await until('b to see a', 2000, () => b.leaders.length > 0);
  const from = lines.length;
  a.stopKeepalive();
  const silentAt = Date.now();
  // x dies only once b has seen the vacancy and chosen to wait for x
  await until('b to wait for x', 3000, () => lines.slice(from).some((l) => l.startsWith('b: waiting') && l.includes('for x')));
  x.stopKeepalive();
  const el = await b.elected;
  const took = el.at - silentAt;
  assert.ok(took >= 2000 && took < 4500, `b took over after ${took} ms (expected about 1 s + 2 x TTL)`);
});

test('a clean close() hands over at once', async () => {
  const cl = cluster();
  const a = await coord({ node: 'a', cluster: cl });
  const r = await a.campaign(me('a'));
  assert.ok(r.won);
  let lostCalled = false;
  a.onLost = () => { lostCalled = true; };
  const b = await follower('b', cl, 1);
  await until('b to see a', 2000, () => b.leaders.length > 0);
  const closedAt = Date.now();
  await a.close();
  const el = await b.elected;
  assert.ok(el.at - closedAt < 400, `handover after close took ${el.at - closedAt} ms (the lease was not revoked?)`);
  assert.ok(r.won && el.epoch > r.epoch);
  assert.equal(a.safeUntil(), 0);
  assert.equal(lostCalled, false, 'a clean stop is not a loss');
  assert.equal((await raw.get(`${cl}/replicas/a`).string()), null);
});

test('connect to an unreachable etcd fails within about 3 s, naming the url', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr !== null ? addr.port : 1));
    });
  });
  const url = `etcd://127.0.0.1:${port}`;
  const t0 = Date.now();
  await assert.rejects(EtcdCoordinator.connect({ url, node: 'n' }), (e: Error) => {
    assert.match(e.message, new RegExp(`not reachable at ${url.replace(/\./g, '\\.')}`));
    return true;
  });
  const took = Date.now() - t0;
  assert.ok(took < 3600, `gave up after ${took} ms`);
});

/** A TCP proxy to etcd that delays every chunk, or drops everything (a partition). */
function delayProxy(targetPort: number, delayMs: number): Promise<{ url: string; partition(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let cut = false;
  const forward = (to: Socket) => (d: Buffer) => {
    if (cut) return;
    setTimeout(() => { if (!cut && !to.destroyed) to.write(d); }, delayMs);
  };
  const server: Server = createServer((down) => {
    const up = netConnect(targetPort, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => { down.destroy(); up.destroy(); });
      s.on('close', () => { sockets.delete(s); down.destroy(); up.destroy(); });
    }
    down.on('data', forward(up));
    up.on('data', forward(down));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    resolve({
      url: `etcd://127.0.0.1:${port}`,
      partition: () => { cut = true; },
      close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
    });
  }));
}

test('safeUntil counts from the send time of the keepalive, and a partitioned leader gets onLost once past it', async () => {
  const delay = 100; // each way
  const proxy = await delayProxy(Number(new URL(etcd.endpoint).port), delay);
  try {
    const cl = cluster();
    const a = await coord({ node: 'a', cluster: cl, url: proxy.url });
    assert.ok((await a.campaign(me('a'))).won);
    // a reply seen by now was sent at least one round trip (2 x delay) ago
    const end = Date.now() + 1500;
    let samples = 0;
    while (Date.now() < end) {
      const now = Date.now();
      const s = a.safeUntil();
      assert.ok(s > now, `a leader with a healthy (slow) etcd lost its bound: ${s - now} ms`);
      assert.ok(s <= now - 2 * delay + 1000 - 150 + 2, `safeUntil ${s - now} ms ahead: counted from the reply, not the send`);
      samples++;
      await sleep(7);
    }
    assert.ok(samples > 100);

    const lost = within<{ reason: string; at: number }>(3000, 'onLost after the partition', (resolve) => {
      a.onLost = (reason) => resolve({ reason, at: Date.now() });
    });
    let lastSafe = a.safeUntil();
    const sampler = setInterval(() => { const s = a.safeUntil(); if (s > 0) lastSafe = s; }, 2);
    proxy.partition();
    const l = await lost.finally(() => clearInterval(sampler));
    assert.match(l.reason, /unreachable/);
    assert.ok(l.at >= lastSafe, 'onLost before the bound ran out');
    assert.ok(l.at - lastSafe < 800, `onLost ${l.at - lastSafe} ms after the bound ran out`);
    assert.equal(a.safeUntil(), 0);
  } finally {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await proxy.close();
  }
});

test('a leader paused with SIGSTOP sees safeUntil in the past on resume, then gets onLost', { skip: process.platform === 'win32' }, async () => {
  const cl = cluster();
  const modUrl = new URL('../log/coordinator.js', import.meta.url).href;
  // the leader in its own process: it reports whether it was safe on the first tick after a long gap
  const script = `
    import { EtcdCoordinator } from ${JSON.stringify(modUrl)};
    const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
    const c = await EtcdCoordinator.connect({ url: ${JSON.stringify(etcd.url)}, cluster: ${JSON.stringify(cl)}, node: 'p' });
    c.onLost = (reason) => { out({ lost: reason, safe: c.safeUntil(), now: Date.now() }); c.close().then(() => process.exit(0)); };
    let last = Date.now();
    setInterval(() => {
      const now = Date.now();
      if (now - last > 500) out({ resumed: now - last, safe: c.safeUntil(), now });
      last = now;
    }, 5);
    out(await c.campaign({ gateway: null, replication: null, minEpoch: 0 }));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: childEnv() });
  const msgs: Record<string, unknown>[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      msgs.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
      buf = buf.slice(i + 1);
    }
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  try {
    await until('the child to lead', 5000, () => msgs.some((m) => m.won === true));
    const b = await follower('b', cl, 1);
    await until('b to see p', 2000, () => b.leaders.at(-1)?.node === 'p');
    child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const el = await b.elected;
    assert.ok(el.at - stoppedAt < 2000, `takeover took ${el.at - stoppedAt} ms`);
    child.kill('SIGCONT');
    await until('the child to report onLost', 3000, () => msgs.some((m) => 'lost' in m));
    const resumed = msgs.find((m) => 'resumed' in m);
    assert.ok(resumed, 'the child never noticed its pause');
    assert.ok(Number(resumed.safe) < Number(resumed.now), `on resume the paused leader still thought it safe for ${Number(resumed.safe) - Number(resumed.now)} ms`);
    assert.ok(msgs.indexOf(resumed) < msgs.findIndex((m) => 'lost' in m));
    const lost = msgs.find((m) => 'lost' in m);
    assert.equal(lost?.safe, 0);
    await exited;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
});

test('resign(): a leader that cannot lead (its promotion failed, it was fenced) frees the key at once, and another node takes over', async () => {
  const cl = cluster();
  const a = await follower('a', cl, 10);
  const first = await a.elected;
  assert.equal(a.c.state(), 'leader');
  const lost: string[] = [];
  a.c.onLost = (reason) => lost.push(reason);
  const b = await follower('b', cl, 5);
  await sleep(300);
  const t0 = Date.now();
  a.c.resign('promotion failed: test');
  assert.deepEqual(lost, ['promotion failed: test']);
  assert.equal(a.c.state(), 'lost');
  assert.equal(a.c.safeUntil(), 0);
  // without resign() the key would stay a's for as long as a lived; b is behind a (seq 5 < 10), so it waits 2 x TTL at most
  const won = await b.elected;
  assert.ok(won.epoch > first.epoch);
  assert.ok(won.at - t0 < 3000, `b took over ${won.at - t0} ms after the resignation`);
});
