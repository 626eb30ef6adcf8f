// One failover trial with real processes, as an exchange engineer would run
// it: a quorum-mode primary and its replica, a trader sending orders over the
// gateway and recording every ExecutionReport, kill -9 of the primary at a
// random moment, `matchlog promote` of the replica, the first order accepted
// on it. Then the checks: every acknowledged order is in the new primary's
// log under the order id it was acknowledged with (so nothing is lost, nothing
// duplicated and no order id reused), and `matchlog verify` recomputes its
// state from its own log. Shared by the test suite (a few trials) and
// `npm run soak:failover` (a hundred).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FixClient } from '../gateway/client.js';
import { Tag } from '../gateway/fix/message.js';
import { readLog } from '../log/index.js';
import { matchlogAsync } from './cli-helpers.js';
import { demoPassword, health, metric, startPrimary, startReplica, until, type RunningNode } from './cluster-helpers.js';

export interface TrialResult {
  /** Orders sent to the primary before it died. */
  sent: number;
  /** Orders the primary acknowledged (an ExecutionReport with an OrderID). */
  acked: number;
  /** kill -9 to the first order accepted on the promoted replica. */
  recoveryMs: number;
  /** `matchlog promote` to that first accepted order (0 under a coordinator). */
  promoteToOrderMs: number;
  /** Problems found (empty when the trial passed). */
  problems: string[];
}

/**
 * `replicaPauseMs` > 0: the replica is stopped (SIGSTOP) that long before the
 * kill, so that it lags when the primary dies — the case quorum mode exists
 * for (a primary that acknowledged without it would lose those orders).
 */
export async function failoverTrial(root: string, rnd: () => number, killAfterMs: number, replicaPauseMs = 0, coordinator: string | null = null): Promise<TrialResult> {
  const pdir = join(root, 'primary');
  const rdir = join(root, 'replica');
  mkdirSync(root, { recursive: true });
  const nodes: RunningNode[] = [];
  const clients: FixClient[] = [];
  try {
    // with a coordinator nobody promotes by hand: the replica takes the leader key when the primary's lease lapses
    const etcd = coordinator === null ? [] : ['--coordinator', coordinator];
    const p = await startPrimary(pdir, ['--ack', 'quorum', '--quorum', '1', ...etcd]);
    nodes.push(p);
    if (coordinator !== null) await until('the primary to take the leader key', async () => (await health(p)).role === 'primary');
    const r = await startReplica(rdir, p, etcd);
    nodes.push(r);
    await until('the replica in sync', async () => (await metric(p, 'matchlog_replicas_in_sync')) === 1);
    const password = demoPassword(pdir);
    const trader = await FixClient.connect({ url: p.url, account: 'alice', password, clOrdIdPrefix: 't' });
    clients.push(trader);
    const acked = new Map<string, number>();
    trader.onMessage((m) => {
      if (m.msgType !== '8') return;
      const id = m.get(Tag.ClOrdID);
      const orderId = Number(m.get(Tag.OrderID));
      if (id !== undefined && Number.isInteger(orderId) && orderId > 0 && !acked.has(id)) acked.set(id, orderId);
    });
    let sent = 0;
    let sending = true;
    const load = (async () => {
      while (sending) {
        for (let i = 0; i < 4 && sending; i++) {
          const side = rnd() < 0.5 ? 'buy' : 'sell';
          const price = (185 + Math.floor(rnd() * 1000) / 100).toFixed(2);
          try {
            trader.newOrder({ symbol: 'AAPL', side, qty: String(1 + Math.floor(rnd() * 20)), price, tif: rnd() < 0.2 ? 'IOC' : 'GTC' });
            sent++;
          } catch {
            sending = false;
          }
        }
        await new Promise((res) => setTimeout(res, 1));
      }
    })();
    await new Promise((res) => setTimeout(res, killAfterMs));
    if (replicaPauseMs > 0) {
      process.kill(r.pid, 'SIGSTOP');
      await new Promise((res) => setTimeout(res, replicaPauseMs));
    }
    await p.kill9();
    if (replicaPauseMs > 0) process.kill(r.pid, 'SIGCONT');
    const killedAt = performance.now();
    sending = false;
    await load;
    const problems: string[] = [];
    let promotedAt = performance.now();
    if (coordinator === null) {
      const promoted = await matchlogAsync(['promote', '--data', rdir]);
      promotedAt = performance.now();
      if (promoted.code !== 0) problems.push(`matchlog promote exited ${String(promoted.code)}: ${promoted.err}`);
    }
    const second = await FixClient.connect({ url: r.url, account: 'alice', password, clOrdIdPrefix: 'n' });
    clients.push(second);
    // a trader who keeps trying: "not primary" until the replica took over
    let report = null;
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      const first = second.newOrder({ symbol: 'AAPL', side: 'buy', qty: '1', price: '180.00' });
      report = await second.nextReport(first, 10_000);
      if (report.get(Tag.ExecType) === '0' || !/not primary/.test(report.get(Tag.Text) ?? '')) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const acceptedAt = performance.now();
    if (coordinator !== null) promotedAt = acceptedAt;
    if (report?.get(Tag.ExecType) !== '0') problems.push(`the first order on the new primary was not accepted: ${report?.get(Tag.Text) ?? report?.get(Tag.ExecType) ?? '?'}`);
    await second.logout().catch(() => undefined);
    trader.close();
    const code = await r.stop();
    if (code !== 0) problems.push(`the new primary exited ${String(code)} on SIGTERM:\n${r.output()}`);
    // the new primary's own log: one `new` per ClOrdID, at the seq (= order id) the trader was told
    const logged = new Map<string, number[]>();
    for (const rec of readLog(rdir)) {
      if (rec.kind !== 'command' || rec.cmd.op !== 'new' || rec.origin !== 'fix:alice') continue;
      const seqs = logged.get(rec.cmd.clOrdId) ?? [];
      seqs.push(rec.seq);
      logged.set(rec.cmd.clOrdId, seqs);
    }
    for (const [id, orderId] of acked) {
      const seqs = logged.get(id);
      if (seqs === undefined) problems.push(`acknowledged order ${id} (order id ${orderId}) is not in the new primary's log`);
      else if (seqs.length !== 1) problems.push(`order ${id} is in the new primary's log ${seqs.length} times`);
      else if (seqs[0] !== orderId) problems.push(`order ${id} was acknowledged as order ${orderId} but is order ${seqs[0]} on the new primary`);
    }
    for (const [id, seqs] of logged) if (seqs.length !== 1) problems.push(`ClOrdID ${id} logged ${seqs.length} times`);
    const verify = await matchlogAsync(['verify', rdir]);
    if (verify.code !== 0) problems.push(`matchlog verify on the new primary's log: ${verify.out}${verify.err}`);
    return { sent, acked: acked.size, recoveryMs: acceptedAt - killedAt, promoteToOrderMs: acceptedAt - promotedAt, problems };
  } finally {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.kill9()));
  }
}
