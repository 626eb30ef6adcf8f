// Two failovers in a row, as an operator runs them: a quorum primary A and a
// replica B started with its own --replication and --ack quorum (so that it
// keeps the guarantee once promoted); A dies, B is promoted, a fresh replica
// C joins B; B must then ship its new blocks to C and acknowledge orders
// (it used to ship nothing: its ring of recent blocks still counted from the
// seq it started at as a replica, so C, in sync, waited for a block that
// never came, and in quorum mode no order was ever answered again). Then B
// dies and C is promoted: every order acknowledged on A or on B is in C's log.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { FixClient } from '../gateway/client.js';
import { Tag } from '../gateway/fix/message.js';
import { readLog } from '../log/index.js';
import { matchlog, matchlogAsync } from './cli-helpers.js';
import { Cluster, demoPassword, health, metric, until, type RunningNode } from './cluster-helpers.js';

/** Sends `n` orders on `node` and returns the order ids of those acknowledged (ExecType 0), by ClOrdID. */
async function orders(node: RunningNode, password: string, prefix: string, n: number): Promise<Map<string, string>> {
  const c = await FixClient.connect({ url: node.url, account: 'alice', password, clOrdIdPrefix: prefix });
  const acked = new Map<string, string>();
  try {
    for (let i = 0; i < n; i++) {
      const id = c.newOrder({ symbol: 'AAPL', side: i % 2 === 0 ? 'buy' : 'sell', qty: '1', price: i % 2 === 0 ? '189.00' : '191.00' });
      // 5 s: a primary that ships nothing to its replica never answers in quorum mode
      const r = await c.nextReport(id, 5000);
      assert.equal(r.get(Tag.ExecType), '0', `order ${id} on ${node.gateway}: ${r.get(Tag.Text) ?? ''}`);
      acked.set(id, r.get(Tag.OrderID) ?? '');
    }
  } finally {
    await c.logout().catch(() => undefined);
    c.close();
  }
  return acked;
}

test('a promoted replica ships its new blocks to a replica that joins it, and a second failover loses nothing', async (t) => {
  const cl = new Cluster(t, 'matchlog-failover-chain-');
  const quorum = ['--ack', 'quorum', '--quorum', '1'];
  const a = await cl.primary('a', quorum);
  const accounts = join(a.dataDir, 'accounts.json');
  const password = demoPassword(a.dataDir);
  const b = await cl.replica('b', a, ['--replication', '127.0.0.1:0', ...quorum]);
  await until('B in sync', async () => (await metric(a, 'matchlog_replicas_in_sync')) === 1);
  const onA = await orders(a, password, 'a', 20);

  await a.kill9();
  const p1 = await matchlogAsync(['promote', '--data', b.dataDir]);
  assert.equal(p1.code, 0, p1.err);
  const c = await cl.node(['replica', '--data', cl.dir('c'), '--primary', b.replication as string, '--listen', '127.0.0.1:0',
    '--replication', '127.0.0.1:0', ...quorum, '--accounts', accounts], 'c');
  await until('C in sync with B', async () => (await metric(b, 'matchlog_replicas_in_sync')) === 1, 15_000);
  const onB = await orders(b, password, 'b', 20);
  await until('C to hold what B acknowledged', async () => (await health(c)).seq === (await health(b)).seq);

  await b.kill9();
  const p2 = await matchlogAsync(['promote', '--data', c.dataDir]);
  assert.equal(p2.code, 0, p2.err);
  assert.match(p2.out, /primary at epoch 3/);
  assert.equal(await c.stop(), 0);

  const logged = new Map<string, number[]>();
  for (const rec of readLog(c.dataDir)) {
    if (rec.kind !== 'command' || rec.cmd.op !== 'new') continue;
    logged.set(rec.cmd.clOrdId, [...(logged.get(rec.cmd.clOrdId) ?? []), rec.seq]);
  }
  for (const [id, orderId] of [...onA, ...onB]) {
    assert.deepEqual(logged.get(id), [Number(orderId)], `acknowledged order ${id} (order id ${orderId}) in C's log`);
  }
  const v = matchlog(['verify', c.dataDir]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});
