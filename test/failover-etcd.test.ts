// Automatic failover through a real etcd (Debian package etcd-server, started
// on free ports with a temporary folder): kill -9 of the primary and the
// replica takes over with no human; a primary paused with SIGSTOP until its
// lease lapsed cannot get a single order acknowledged once it resumes.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FixClient } from '../gateway/client.js';
import { Tag, type FixMessage } from '../gateway/fix/message.js';
import { readLog } from '../log/index.js';
import { Cluster, demoPassword, health, until } from './cluster-helpers.js';
import { startEtcd, type EtcdServer } from './etcd-helpers.js';
import { failoverTrial } from './failover-trial.js';
import { prng, tempDir } from './log-helpers.js';

let etcd: EtcdServer;
before(async () => { etcd = await startEtcd(); });
after(async () => { await etcd?.stop(); });

test('through etcd: kill -9 of the primary, the replica takes the leader key and order entry with no human (2 trials)', { timeout: 120_000 }, async (t) => {
  const rnd = prng(7);
  for (let i = 0; i < 2; i++) {
    // each trial its own cluster name would be cleaner; a fresh key prefix comes from a fresh etcd folder per file, so trials run one after the other
    const r = await failoverTrial(tempDir(t, `matchlog-etcd-failover-${i}-`), rnd, 200 + Math.floor(rnd() * 300), i === 1 ? 150 : 0, etcd.url);
    assert.deepEqual(r.problems, [], `trial ${i}`);
    assert.ok(r.acked > 0);
    // the lease is 1 s and etcd looks for lapsed leases every 500 ms: well under 5 s even on a busy machine
    assert.ok(r.recoveryMs < 5000, `recovery took ${r.recoveryMs} ms`);
  }
});

test('through etcd: a primary paused (SIGSTOP) until its lease lapsed cannot get a single order acknowledged after it resumes', { timeout: 60_000 }, async (t) => {
  const cl = new Cluster(t, 'matchlog-etcd-pause-');
  const etcdArgs = ['--coordinator', etcd.url];
  // local acknowledgement: only the lease (and the new primary's fence notice) stand between the paused primary and an acknowledgement
  const p = await cl.primary('p', etcdArgs);
  await until('the primary to hold the leader key', async () => (await health(p)).role === 'primary');
  const r = await cl.replica('r', p, etcdArgs);
  const password = demoPassword(p.dataDir);
  const trader = await FixClient.connect({ url: p.url, account: 'alice', password, clOrdIdPrefix: 'p' });
  t.after(() => trader.close());
  const before = trader.newOrder({ symbol: 'AAPL', side: 'buy', qty: '1', price: '189.00' });
  assert.equal((await trader.nextReport(before)).get(Tag.ExecType), '0');
  await until('the replica to have it', async () => (await health(r)).seq === (await health(p)).seq);

  process.kill(p.pid, 'SIGSTOP');
  await until('the replica to take over', async () => (await health(r)).role === 'primary', 10_000);
  // orders reach the paused primary's socket; it reads them when it resumes
  const reports: FixMessage[] = [];
  trader.onMessage((m) => { if (m.msgType === '8') reports.push(m); });
  const sent: string[] = [];
  for (let i = 0; i < 20; i++) sent.push(trader.newOrder({ symbol: 'AAPL', side: i % 2 === 0 ? 'buy' : 'sell', qty: '1', price: (188 + i / 100).toFixed(2) }));
  process.kill(p.pid, 'SIGCONT');
  await p.waitFor(/FENCED/, 10_000);
  await new Promise((res) => setTimeout(res, 500));
  const acked = reports.filter((m) => sent.includes(m.get(Tag.ClOrdID) ?? '') && m.get(Tag.ExecType) !== '8');
  assert.deepEqual(acked.map((m) => `${m.get(Tag.ClOrdID)} ${m.get(Tag.ExecType)}`), [], 'no order acknowledged by the paused primary');
  assert.equal((await health(p)).role, 'fenced');
  // the new primary takes orders; the old one's log may hold the resumed orders, but nobody was told they were accepted
  const c2 = await FixClient.connect({ url: r.url, account: 'alice', password, clOrdIdPrefix: 'r' });
  t.after(() => c2.close());
  const after = c2.newOrder({ symbol: 'AAPL', side: 'buy', qty: '1', price: '187.00' });
  assert.equal((await c2.nextReport(after)).get(Tag.ExecType), '0');
  await c2.logout().catch(() => undefined);
  assert.equal(await r.stop(), 0);
  // the new primary's log: the order from before the pause, none of the paused primary's, the new one
  const ids = [...readLog(r.dataDir)].flatMap((rec) => (rec.kind === 'command' && rec.cmd.op === 'new' ? [rec.cmd.clOrdId] : []));
  assert.ok(ids.includes(before) && ids.includes(after));
  assert.ok(sent.every((id) => !ids.includes(id)));
});

test('through etcd: with etcd frozen, an order that reaches the primary after its safe bound, before it finds out it lost the key, is refused with the reason and not logged', { timeout: 60_000 }, async (t) => {
  const cl = new Cluster(t, 'matchlog-etcd-frozen-');
  // a 5 s lease: renewed every 1.25 s, a renewal waits up to 2.5 s for etcd. With etcd frozen the safe bound (last
  // renewal sent + 4.85 s) falls 3.6-4.85 s after the freeze, and the primary finds out it lost the key when a
  // renewal times out after the bound: 6.25-7.5 s after the freeze. Orders sent at 5.3 s arrive in between.
  const etcdArgs = ['--coordinator', etcd.url, '--lease', '5'];
  const p = await cl.primary('p', etcdArgs);
  await until('the primary to hold the leader key', async () => (await health(p)).role === 'primary');
  const r = await cl.replica('r', p, etcdArgs);
  const password = demoPassword(p.dataDir);
  const trader = await FixClient.connect({ url: p.url, account: 'alice', password, clOrdIdPrefix: 'f' });
  t.after(() => trader.close());
  const first = trader.newOrder({ symbol: 'AAPL', side: 'buy', qty: '1', price: '189.00' });
  assert.equal((await trader.nextReport(first)).get(Tag.ExecType), '0');
  await until('the replica to have it', async () => (await health(r)).seq === (await health(p)).seq);

  process.kill(etcd.pid, 'SIGSTOP');
  t.after(() => { try { process.kill(etcd.pid, 'SIGCONT'); } catch { /* gone */ } });
  const frozenAt = Date.now();
  await new Promise((res) => setTimeout(res, 5300));
  const sent: string[] = [];
  for (let i = 0; i < 5; i++) sent.push(trader.newOrder({ symbol: 'AAPL', side: 'buy', qty: '1', price: '188.00' }));
  const answers: string[] = [];
  for (const id of sent) {
    const m = await trader.nextReport(id, 1000).catch(() => null);
    answers.push(m === null ? 'no answer' : `${m.get(Tag.ExecType)} ${m.get(Tag.Text) ?? ''}`);
  }
  assert.ok(Date.now() - frozenAt < 6250, 'the orders were answered (or not) before the primary could find out');
  for (const a of answers) assert.match(a, /^8 not primary: this node cannot renew its lease on the leader key/);
  process.kill(etcd.pid, 'SIGCONT');
  await p.waitFor(/FENCED/, 15_000);
  assert.equal(await p.stop(), 0);
  const ids = [...readLog(p.dataDir)].flatMap((rec) => (rec.kind === 'command' && rec.cmd.op === 'new' ? [rec.cmd.clOrdId] : []));
  assert.ok(ids.includes(first));
  assert.deepEqual(sent.filter((id) => ids.includes(id)), [], 'orders taken after the safe bound');
});
