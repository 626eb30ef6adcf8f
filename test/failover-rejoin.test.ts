// Under --coordinator, a former primary restarted with the very command it ran
// before must come back as the new leader's replica, and be able to lead again
// after the next failover. It used to be fenced on arrival: the new leader
// keeps sending Fence to its former primary's replication address, the
// restarted node listens there again (as a replica, waiting for the leader
// key), took the notice and became `fenced` for good — it followed nobody,
// and when the leader died next it won the leader key, could not be promoted
// ("this node is fenced, not a replica") and held the key while nobody took
// orders: after two kill -9s the exchange took no order until a human came.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { FixClient } from '../gateway/client.js';
import { Tag } from '../gateway/fix/message.js';
import { readLog } from '../log/index.js';
import { Cluster, demoPassword, health, until, type RunningNode } from './cluster-helpers.js';
import { startEtcd, type EtcdServer } from './etcd-helpers.js';

let etcd: EtcdServer;
before(async () => { etcd = await startEtcd(); });
after(async () => { await etcd?.stop(); });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

test('through etcd: a killed primary restarted with the same command rejoins as a replica and leads again after the next failover', { timeout: 60_000 }, async (t) => {
  const cl = new Cluster(t, 'matchlog-etcd-rejoin-');
  const accounts = join(cl.root, 'accounts.json');
  const ports = { a: [await freePort(), await freePort()], b: [await freePort(), await freePort()] };
  // what an operator's unit file would run, the same every time
  const args = (n: 'a' | 'b'): string[] => ['start', '--data', cl.dir(n), '--listen', `127.0.0.1:${ports[n][0]}`, '--replication', `127.0.0.1:${ports[n][1]}`,
    '--ack', 'local', '--coordinator', etcd.url, '--node', n, '--accounts', accounts];
  const a1 = await cl.node(args('a'), 'a');
  await until('a to hold the leader key', async () => (await health(a1)).role === 'primary');
  const b = await cl.node(args('b'), 'b');
  await until('b to follow a', async () => (await health(b)).role === 'replica' && (await health(b)).seq === (await health(a1)).seq);
  const password = demoPassword(cl.dir('a'));

  const order = async (node: RunningNode, prefix: string): Promise<[string, string]> => {
    const c = await FixClient.connect({ url: node.url, account: 'alice', password, clOrdIdPrefix: prefix });
    try {
      const id = c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '1', price: '189.00' });
      const r = await c.nextReport(id);
      assert.equal(r.get(Tag.ExecType), '0', `${prefix} on ${node.gateway}: ${r.get(Tag.Text) ?? ''}`);
      return [id, r.get(Tag.OrderID) ?? ''];
    } finally {
      await c.logout().catch(() => undefined);
      c.close();
    }
  };
  const acked = [await order(a1, 'a')];

  await a1.kill9();
  await until('b to take over', async () => (await health(b)).role === 'primary', 10_000);
  acked.push(await order(b, 'b'));

  const a2 = await cl.node(args('a'), 'a');
  // b's fence notices reach the restarted a every second: give them time to arrive
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await health(a2)).role, 'replica', a2.output());
  acked.push(await order(b, 'b2'));
  await until('a to catch up with b', async () => (await health(a2)).seq === (await health(b)).seq);

  await b.kill9();
  await until('a to lead again', async () => (await health(a2)).role === 'primary', 10_000);
  acked.push(await order(a2, 'a2'));
  assert.equal(await a2.stop(), 0);

  const logged = new Map<string, number>();
  for (const rec of readLog(cl.dir('a'))) if (rec.kind === 'command' && rec.cmd.op === 'new') logged.set(rec.cmd.clOrdId, rec.seq);
  for (const [id, orderId] of acked) assert.equal(logged.get(id), Number(orderId), `acknowledged order ${id} in a's log`);
});
