// `matchlog start --replication`, `matchlog replica`, `matchlog promote` as
// an operator runs them: a replica's read-only gateway, lag metrics on both
// sides, and fencing of a former primary that comes back.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FixClient } from '../gateway/client.js';
import { Tag } from '../gateway/fix/message.js';
import { readLog } from '../log/index.js';
import { matchlog, matchlogAsync } from './cli-helpers.js';
import { Cluster, demoPassword, health, metric, until } from './cluster-helpers.js';

async function order(url: string, password: string, price = '190.00'): Promise<{ execType: string; text: string }> {
  const c = await FixClient.connect({ url, account: 'alice', password });
  try {
    const id = c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '5', price });
    const r = await c.nextReport(id, 5000);
    return { execType: r.get(Tag.ExecType) ?? '', text: r.get(Tag.Text) ?? '' };
  } finally {
    await c.logout().catch(() => undefined);
    c.close();
  }
}

test('a replica serves the book read-only, answers order entry with the primary\'s address, and both report lag', async (t) => {
  const cl = new Cluster(t, 'matchlog-replica-cli-');
  const p = await cl.primary('p');
  const r = await cl.replica('r', p);
  const password = demoPassword(p.dataDir);
  assert.equal((await order(p.url, password)).execType, '0');
  await until('the replica to have it', async () => (await health(r)).seq === (await health(p)).seq);
  const refused = await order(r.url, password);
  assert.equal(refused.execType, '8');
  assert.match(refused.text, new RegExp(`not primary: .*the primary is at ${p.gateway.replace(/\./g, '\\.')}`));
  // the replica's gateway shows the primary's book
  const viewer = await FixClient.connect({ url: r.url, account: 'alice', password });
  const book = await viewer.subscribe('AAPL').ready();
  assert.deepEqual(book.bids().map((l) => [l.price, l.qty]), [['190', '5']]);
  viewer.close();
  assert.equal(await metric(p, 'matchlog_replicas_in_sync'), 1);
  assert.equal(await metric(p, 'matchlog_replica_lag_records'), 0);
  assert.equal(await metric(r, 'matchlog_replication_lag_records'), 0);
  assert.equal(await metric(r, 'matchlog_replication_connected'), 1);
  assert.equal(await metric(r, 'matchlog_role{role="replica"}'), 1);
  // `matchlog client` given both nodes logs on to the primary
  const cli = await matchlogAsync(['client', '--account', 'alice', '--url', r.url, '--url', p.url], `${password}\nbuy 1 AAPL 189.00\nquit\n`);
  assert.equal(cli.code, 0, cli.err);
  assert.match(cli.err, new RegExp(`logged on as alice at ${p.url.replace(/[./]/g, '\\$&')}`));
  assert.match(cli.out, /accepted buy 1 AAPL @ 189/);
  // the replica wrote nothing of its own: its log is the primary's
  assert.equal((await health(r)).seq, (await health(p)).seq);
  assert.equal(await p.stop(), 0);
  assert.equal(await r.stop(), 0);
});

test('an empty replica\'s start-up line says it has no symbols yet and why, not `epoch 0 … symbols ` with nothing after it', async (t) => {
  const cl = new Cluster(t, 'matchlog-replica-empty-');
  // no primary listens on port 1: the replica serves after its 3 s wait with nothing in its log
  const lone = await cl.node(['replica', '--data', cl.dir('lone'), '--primary', '127.0.0.1:1', '--listen', '127.0.0.1:0'], 'lone');
  const line = (await lone.waitFor(/exchange started: .*\n/))[0];
  assert.match(line, /epoch 0 \(none in this log yet\), now at seq 0; symbols: none yet \(the primary at 127\.0\.0\.1:1 is not reachable yet; catching up once it is\);/);
  // following a primary: either the blocks arrived before the line (the symbols), or it says it is catching up
  const p = await cl.primary('p');
  const r = await cl.replica('r', p);
  const rline = (await r.waitFor(/exchange started: .*\n/))[0];
  assert.match(rline, /; (symbols AAPL BTC-USD EUR-USD MSFT|symbols: none yet \(catching up from the primary at 127\.0\.0\.1:\d+, its log at seq 4\));/);
  for (const l of [line, rline]) assert.doesNotMatch(l, /symbols ;/);
});

test('fencing: a former primary restarted after a promotion refuses orders and points to the new primary', async (t) => {
  const cl = new Cluster(t, 'matchlog-fence-');
  const p = await cl.primary('p', ['--ack', 'quorum']);
  const pdir = p.dataDir;
  const r = await cl.replica('r', p);
  const password = demoPassword(pdir);
  await until('the replica in sync', async () => (await metric(p, 'matchlog_replicas_in_sync')) === 1);
  assert.equal((await order(p.url, password)).execType, '0');
  await p.kill9();
  const promoted = await matchlogAsync(['promote', '--data', r.dataDir]);
  assert.equal(promoted.code, 0, promoted.err);
  assert.match(promoted.out, /promoted .*: primary at epoch 2 from seq \d+/);
  assert.equal((await order(r.url, password, '189.00')).execType, '0');
  // the old primary comes back on its old addresses, in local mode even: the new primary's notice fences it
  const back = await cl.node(['start', '--data', pdir, '--listen', '127.0.0.1:0', '--replication', p.replication as string], 'p');
  await back.waitFor(/FENCED: node .* was promoted to primary at epoch 2/, 5000);
  // a trader who still goes there is logged out, told where the primary is
  let logout = '';
  const c = await FixClient.connect({ url: back.url, account: 'alice', password, onMessage: (m) => { if (m.msgType === '5') logout = m.get(Tag.Text) ?? ''; } })
    .catch((e: Error) => e);
  if (!(c instanceof Error)) await c.closed;
  assert.match(logout, new RegExp(`not primary: .*the primary is at ${r.gateway.replace(/\./g, '\\.')}`));
  const h = await fetch(`http://${back.gateway}/health`);
  assert.equal(h.status, 503);
  const body = await h.json() as { role: string; primary: string };
  assert.equal(body.role, 'fenced');
  assert.equal(body.primary, r.gateway);
  assert.equal(await back.stop(), 0);
  // nothing it was sent reached its log
  const v = matchlog(['replay', pdir, '--events', '--symbol', 'AAPL']);
  assert.ok(!v.stdout.includes('188'), v.stdout);
  assert.equal(await r.stop(), 0);
});

test('matchlog promote without a running node, and of a node that is primary, says why', async (t) => {
  const cl = new Cluster(t, 'matchlog-promote-');
  const none = matchlog(['promote', '--data', cl.dir('nothing')]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no node is running on .*nothing \(no admin endpoint/);
  const p = await cl.primary('p');
  const again = await matchlogAsync(['promote', '--data', p.dataDir]);
  assert.equal(again.code, 1);
  assert.match(again.err, /not promoted: this node is primary, not a replica/);
  assert.equal(await p.stop(), 0);
});

test('POST /admin/promote over the network needs the replication secret as Bearer token', async (t) => {
  const cl = new Cluster(t, 'matchlog-admin-');
  const secretFile = cl.dir('secret');
  writeFileSync(secretFile, 'correct horse battery staple\n', { mode: 0o600 });
  const p = await cl.primary('p', ['--replication-secret-file', secretFile]);
  const r = await cl.replica('r', p, ['--replication-secret-file', secretFile]);
  const post = (token?: string): Promise<Response> => fetch(`http://${r.gateway}/admin/promote`, { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  assert.equal((await post()).status, 401);
  assert.equal((await post('correct horse battery stapl')).status, 401);
  assert.equal((await health(r)).role, 'replica');
  const ok = await post('correct horse battery staple');
  assert.equal(ok.status, 200);
  const body = await ok.json() as { role: string; epoch: number };
  assert.deepEqual([body.role, body.epoch], ['primary', 2]);
  assert.equal((await order(r.url, demoPassword(p.dataDir))).execType, '0');
  // the former primary, still running, was told and is fenced
  await p.waitFor(/FENCED/, 5000);
  assert.equal((await health(p)).role, 'fenced');
  assert.equal(await r.stop(), 0);
});

test('a replica without the primary\'s secret stops with a clear error and keeps its data', async (t) => {
  const cl = new Cluster(t, 'matchlog-secret-');
  const secretFile = cl.dir('secret');
  writeFileSync(secretFile, 'the-primary-secret\n');
  const wrongFile = cl.dir('wrong');
  writeFileSync(wrongFile, 'not-the-primary-secret\n');
  const p = await cl.primary('p', ['--replication-secret-file', secretFile]);
  const r = await cl.replica('r', p, ['--replication-secret-file', wrongFile]).catch((e: Error) => e);
  if (r instanceof Error) {
    assert.match(r.message, /wrong replication secret/);
  } else {
    await r.waitFor(/replica stopped: .*wrong replication secret; the data in .* is kept/, 5000);
    assert.equal(await r.exited, 1);
  }
  assert.equal(await p.stop(), 0);
});

test('a FIX client with both endpoints rides through kill -9 and promotion: sequence numbers and its orders continue on the new primary', async (t) => {
  const cl = new Cluster(t, 'matchlog-client-failover-');
  const p = await cl.primary('p', ['--ack', 'quorum']);
  const r = await cl.replica('r', p);
  await until('the replica in sync', async () => (await metric(p, 'matchlog_replicas_in_sync')) === 1);
  const events: string[] = [];
  const c = await FixClient.connect({ endpoints: [p.url, r.url], account: 'alice', password: demoPassword(p.dataDir), resetSeqNum: true, onEvent: (e) => events.push(e.type) });
  t.after(() => c.close());
  assert.equal(c.url, p.url);
  const resting = c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '7', price: '189.50' });
  assert.equal((await c.nextReport(resting)).get(Tag.ExecType), '0');
  const sentBefore = c.nextSenderSeq;
  await p.kill9();
  const promoted = await matchlogAsync(['promote', '--data', r.dataDir]);
  assert.equal(promoted.code, 0, promoted.err);
  await until('the client to fail over and resync', () => c.url === r.url && c.state === 'active' && events.includes('resynced'), 20_000);
  assert.ok(events.includes('failover'), events.join(' '));
  // numbers went on (no reset to 1), and the order placed on the old primary is known to the new one
  assert.ok(c.nextSenderSeq > sentBefore, `next MsgSeqNum ${c.nextSenderSeq} after ${sentBefore}`);
  await until('the resting order refreshed', () => c.order(resting)?.state === 'new');
  const cancel = c.cancel(resting, 'AAPL');
  const cancelled = await c.nextReport(cancel);
  assert.equal(cancelled.get(Tag.ExecType), '4');
  const next = c.newOrder({ symbol: 'AAPL', side: 'sell', qty: '1', price: '191.00' });
  assert.equal((await c.nextReport(next)).get(Tag.ExecType), '0');
  await c.logout().catch(() => undefined);
  assert.equal(await r.stop(), 0);
});

test('a replica killed -9 while following a loaded primary restarts from its own log and catches up to the same log', async (t) => {
  const cl = new Cluster(t, 'matchlog-replica-restart-');
  const p = await cl.primary('p');
  const r = await cl.replica('r', p);
  const password = demoPassword(p.dataDir);
  const trader = await FixClient.connect({ url: p.url, account: 'alice', password });
  t.after(() => trader.close());
  let sending = true;
  let sent = 0;
  const load = (async () => {
    while (sending) {
      for (let i = 0; i < 5; i++) {
        trader.newOrder({ symbol: 'AAPL', side: sent % 2 === 0 ? 'buy' : 'sell', qty: String(1 + (sent % 7)), price: (185 + (sent % 900) / 100).toFixed(2) });
        sent++;
      }
      await new Promise((res) => setTimeout(res, 1));
    }
  })();
  await until('some load', () => sent > 500);
  await r.kill9();
  await until('more load while the replica is down', () => sent > 1500);
  const again = await cl.node(['replica', '--data', r.dataDir, '--primary', p.replication as string, '--listen', '127.0.0.1:0',
    '--accounts', join(p.dataDir, 'accounts.json')], 'r');
  await until('even more load', () => sent > 2500);
  sending = false;
  await load;
  await until('the replica to catch up', async () => (await health(again)).seq === (await health(p)).seq, 15_000);
  assert.equal(await again.stop(), 0);
  assert.equal(await p.stop(), 0);
  const records = (dir: string): string => JSON.stringify([...readLog(dir)]);
  assert.equal(records(again.dataDir), records(p.dataDir));
  assert.equal(matchlog(['verify', again.dataDir]).status, 0);
});
