// Roles and failover at the gateway: two independent Exchanges stand in for
// a primary and a replica (setRole simulates what replication will do). A
// replica's gateway refuses orders naming the primary and submits nothing; a
// fenced one logs its sessions out and answers /health 503; a promotion opens
// order entry on a live session; submit() refusals (NotPrimaryError,
// NoQuorumError) become rejects with their text; a Logon with
// NextExpectedMsgSeqNum (789) on a fresh session store continues the
// numbers; FixClient with endpoints logs on to the primary only and fails
// over when its gateway goes, numbers continuing, its open orders refreshed.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { Exchange } from '../log/index.js';
import { NoQuorumError, NotPrimaryError } from '../log/errors.js';
import { AccountStore } from '../gateway/accounts.js';
import { FixClient, type ClientEvent } from '../gateway/client.js';
import { FixMessage } from '../gateway/fix/message.js';
import { decodeTagValue, encodeTagValue } from '../gateway/fix/tagvalue.js';
import { formatUtcTimestamp } from '../gateway/fix/validate.js';
import { Gateway } from '../gateway/server.js';
import { tempDir, TEST_INSTRUMENTS } from './log-helpers.js';

const FAST = { N: 1024, r: 8, p: 1 };
const PW = 'pw-of-';

interface Node { ex: Exchange; gw: Gateway; url: string; address: string; dir: string }

/** `n` gateways on independent exchanges (accounts alice and bob on each), all closed after the test. */
async function nodes(t: TestContext, n: number, options: { cancelOnDisconnect?: boolean } = {}): Promise<Node[]> {
  const closers: (() => Promise<void>)[] = [];
  // registered before tempDir's removal: hooks run in registration order
  t.after(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  });
  const root = tempDir(t, 'matchlog-failover-');
  const out: Node[] = [];
  for (let i = 0; i < n; i++) {
    const dir = join(root, `n${i}`);
    const ex = await Exchange.open({ dataDir: join(dir, 'data'), config: { instruments: TEST_INSTRUMENTS }, log: () => undefined });
    closers.push(() => ex.close({ snapshot: false }));
    const accounts = AccountStore.load(join(dir, 'accounts.json'), { scrypt: FAST, throttle: { failureDelayMs: 0 } });
    for (const a of ['alice', 'bob']) await accounts.add(a, PW + a, { marketDataOnly: false });
    const gw = await Gateway.start({ exchange: ex, listen: { host: '127.0.0.1', port: 0 }, accounts, sessionsDir: join(dir, 'sessions'), ...options });
    closers.push(() => gw.close());
    out.push({ ex, gw, url: gw.url, address: `127.0.0.1:${gw.port}`, dir });
  }
  return out;
}

async function healthOf(node: Node): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://${node.address}/health`);
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

/** A bare FIX 4.4 connection, to see and set every MsgSeqNum. */
class Raw {
  seq = 1;
  readonly inbox: FixMessage[] = [];
  readonly all: FixMessage[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket, readonly account: string) {
    ws.on('message', (d) => {
      const r = decodeTagValue(String(d));
      if (r.ok) {
        this.inbox.push(r.msg);
        this.all.push(r.msg);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      resolve({ code, reason: String(reason) });
      for (const w of this.waiters.splice(0)) w();
    }));
  }

  static async open(t: TestContext, url: string, account: string): Promise<Raw> {
    const ws = new WebSocket(url, 'fix.4.4');
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    t.after(() => ws.terminate());
    return new Raw(ws, account);
  }

  send(type: string, fields: [number, string][], seq = this.seq++): void {
    const m = new FixMessage([[35, type], [49, this.account], [56, 'MATCHLOG'], [34, String(seq)], [52, formatUtcTimestamp(Date.now())], ...fields]);
    this.ws.send(encodeTagValue(m));
  }

  logon(extra: [number, string][] = []): Promise<FixMessage> {
    this.send('A', [[98, '0'], [108, '30'], ...extra, [553, this.account], [554, PW + this.account]]);
    return this.next((m) => m.msgType === 'A' || m.msgType === '5');
  }

  async next(pred: (m: FixMessage) => boolean = () => true, timeoutMs = 5000): Promise<FixMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (this.ws.readyState === WebSocket.CLOSED || Date.now() > deadline) {
        throw new Error(`no matching message (socket ${this.ws.readyState === WebSocket.CLOSED ? 'closed' : 'open'}); inbox:\n${this.inbox.map(String).join('\n')}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  order(clOrdId: string, price = '99.00', side: '1' | '2' = '1'): void {
    this.send('D', [[11, clOrdId], [55, 'AAPL'], [54, side], [60, formatUtcTimestamp(Date.now())], [38, '5'], [40, '2'], [44, price], [59, '1']]);
  }
}

const connect = (url: string, account = 'alice') => FixClient.connect({ url, account, password: PW + account });

function eventOf<T extends ClientEvent['type']>(c: FixClient, type: T, timeoutMs = 10_000): Promise<Extract<ClientEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no ${type} event within ${timeoutMs} ms`)); }, timeoutMs);
    const off = c.onEvent((e) => {
      if (e.type !== type) return;
      clearTimeout(timer);
      off();
      resolve(e as Extract<ClientEvent, { type: T }>);
    });
  });
}

test('replica: D F G q are refused with the primary\'s address and nothing is submitted; logon, market data and status work', async (t) => {
  const [a] = await nodes(t, 1);
  a.ex.setRole('replica', '10.1.2.3:7440');
  const text = new NotPrimaryError('10.1.2.3:7440').message;
  assert.match(text, /^not primary: this node is a replica; the primary is at 10\.1\.2\.3:7440$/);
  const seq0 = a.ex.seq;
  const c = await connect(a.url);
  t.after(() => c.close());
  const view = c.subscribe('AAPL');
  await view.ready();

  const id = c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '5', price: '99.00' });
  const d = await c.nextReport(id);
  assert.deepEqual([d.msgType, d.get(150), d.get(39), d.get(58)], ['8', '8', '8', text]);
  assert.equal(c.order(id), undefined, 'the order is rejected, not live');

  const f = c.cancel('some-order', 'AAPL');
  const fr = await c.nextReport(f);
  assert.deepEqual([fr.msgType, fr.get(434), fr.get(58)], ['9', '1', text]);
  const g = c.replace('some-order', { qty: '7', price: '98.00', symbol: 'AAPL' });
  const gr = await c.nextReport(g);
  assert.deepEqual([gr.msgType, gr.get(434), gr.get(58)], ['9', '2', text]);
  const q = c.massCancel();
  const qr = await c.next((m) => m.msgType === 'r' && m.get(11) === q);
  assert.deepEqual([qr.get(531), qr.get(58)], ['0', text]);

  // OrderStatusRequest is answered from the tracker, as on a primary
  const st = await c.status('some-order');
  assert.deepEqual([st.get(150), st.get(39)], ['I', '8']);

  // the primary not known: the text says so
  a.ex.setRole('replica', null);
  const id2 = c.newOrder({ symbol: 'AAPL', side: 'sell', qty: '1', price: '101.00' });
  assert.equal((await c.nextReport(id2)).get(58), 'not primary: this node is a replica; the primary is not known');

  await new Promise((r) => setTimeout(r, 50));
  assert.equal(a.ex.seq, seq0, 'nothing was submitted');
  assert.ok(view.synced);
});

test('/health gives role and primary; a replica names its leader; a fenced node answers 503', async (t) => {
  const [a] = await nodes(t, 1);
  let h = await healthOf(a);
  assert.equal(h.status, 200);
  assert.deepEqual(h.body, { status: 'ok', seq: a.ex.seq, sessions: 0, role: 'primary', primary: a.address });
  a.ex.setRole('replica', '10.0.0.9:7440');
  h = await healthOf(a);
  assert.equal(h.status, 200);
  assert.deepEqual([h.body.status, h.body.role, h.body.primary], ['ok', 'replica', '10.0.0.9:7440']);
  a.ex.setRole('replica', null);
  h = await healthOf(a);
  assert.equal(h.body.primary, null);
  a.ex.setRole('fenced', '10.0.0.9:7440');
  h = await healthOf(a);
  assert.equal(h.status, 503);
  assert.deepEqual([h.body.role, h.body.primary], ['fenced', '10.0.0.9:7440']);
  assert.equal(typeof h.body.seq, 'number');
});

test('fenced: every logged-on session is logged out with the reason, a new Logon too; a client with endpoints fails over to the primary it names', async (t) => {
  const [a, b] = await nodes(t, 2);
  b.ex.setRole('replica', a.address);
  const raw = await Raw.open(t, a.url, 'alice');
  assert.equal((await raw.logon()).msgType, 'A');
  const client = await FixClient.connect({ endpoints: [a.url, b.url], account: 'bob', password: `${PW}bob` });
  t.after(() => client.close());
  assert.equal(client.url, a.url);
  const failover = eventOf(client, 'failover');

  b.ex.setRole('primary', null);
  a.ex.setRole('fenced', b.address);
  const logout = await raw.next((m) => m.msgType === '5');
  const text = logout.get(58) ?? '';
  assert.match(text, /^not primary: /);
  assert.ok(text.endsWith(`the primary is at ${b.address}`), text);
  raw.send('5', []);
  await raw.closed;

  const e = await failover;
  assert.deepEqual([e.from, e.to], [a.url, b.url]);
  assert.equal(client.state, 'active');
  const id = client.newOrder({ symbol: 'AAPL', side: 'buy', qty: '1', price: '99.00' });
  assert.equal((await client.nextReport(id)).get(150), '0');

  assert.equal((await healthOf(a)).status, 503);
  // a Logon to the fenced node is answered, then logged out with the reason
  const again = await Raw.open(t, a.url, 'alice');
  again.seq = raw.seq;
  await again.logon();
  assert.match((await again.next((m) => m.msgType === '5')).get(58) ?? '', /^not primary: .*the primary is at /);
});

test('promotion: setRole primary opens order entry on a live session', async (t) => {
  const [a] = await nodes(t, 1);
  a.ex.setRole('replica', '10.0.0.1:7440');
  const c = await connect(a.url);
  t.after(() => c.close());
  const seq0 = a.ex.seq;
  const r1 = c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '5', price: '99.00' });
  assert.match((await c.nextReport(r1)).get(58) ?? '', /^not primary/);
  a.ex.setRole('primary', null);
  const r2 = c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '5', price: '99.00' });
  const rep = await c.nextReport(r2);
  assert.deepEqual([rep.get(150), rep.get(39)], ['0', '0']);
  assert.equal(a.ex.seq, seq0 + 1);
});

test('submit() refused with NotPrimaryError or NoQuorumError: the reject carries the error\'s message', async (t) => {
  const [a] = await nodes(t, 1);
  const c = await connect(a.url);
  t.after(() => c.close());
  const resting = c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '5', price: '99.00' });
  await c.nextReport(resting);
  const real = a.ex.submit.bind(a.ex);
  let err: Error = new NoQuorumError(1, 2);
  a.ex.submit = () => Promise.reject(err);
  t.after(() => { a.ex.submit = real; });

  const id = c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '5', price: '99.00' });
  const d = await c.nextReport(id);
  assert.deepEqual([d.get(150), d.get(39), d.get(58)], ['8', '8', 'no quorum: 1 of 2 replicas in sync; retry later']);
  err = new NotPrimaryError('10.0.0.2:7440', 'this node was fenced');
  const f = c.cancel(resting);
  const fr = await c.nextReport(f);
  assert.deepEqual([fr.msgType, fr.get(39), fr.get(58)], ['9', '0', 'not primary: this node was fenced; the primary is at 10.0.0.2:7440']);
  const q = c.massCancel('AAPL');
  const qr = await c.next((m) => m.msgType === 'r' && m.get(11) === q);
  assert.deepEqual([qr.get(531), qr.get(58)], ['0', err.message]);
});

test('Logon with NextExpectedMsgSeqNum (789) on a fresh session store continues the numbers both ways; without it, the old behaviour', async (t) => {
  const [a] = await nodes(t, 1);
  const raw = await Raw.open(t, a.url, 'alice');
  raw.seq = 7;
  const ack = await raw.logon([[789, '12']]);
  assert.deepEqual([ack.msgType, ack.get(34), ack.get(141)], ['A', '12', undefined]);
  raw.send('1', [[112, 'after-failover']]);
  const hb = await raw.next((m) => m.msgType === '0');
  assert.deepEqual([hb.get(34), hb.get(112)], ['13', 'after-failover']);
  raw.order('r1');
  const er = await raw.next((m) => m.msgType === '8');
  assert.deepEqual([er.get(34), er.get(150)], ['14', '0']);
  assert.ok(!raw.all.some((m) => m.msgType === '2' || m.msgType === '5'), 'no ResendRequest, no Logout');

  // the same store now has history: 789 is ignored and the usual rules hold (too low: Logout)
  raw.send('5', []);
  await raw.closed;
  const back = await Raw.open(t, a.url, 'alice');
  back.seq = 3;
  const refused = await back.logon([[789, '500']]);
  assert.equal(refused.msgType, '5');
  assert.match(refused.get(58) ?? '', /MsgSeqNum too low, expecting 11 but received 3/);

  // without 789, a fresh store: reply numbered 1 and a ResendRequest for the gap
  const bob = await Raw.open(t, a.url, 'bob');
  bob.seq = 7;
  const ack2 = await bob.logon();
  assert.deepEqual([ack2.msgType, ack2.get(34)], ['A', '1']);
  const rr = await bob.next((m) => m.msgType === '2');
  assert.deepEqual([rr.get(7), rr.get(16)], ['1', '0']);
});

test('a client with endpoints [replica, primary] logs on to the primary', async (t) => {
  const [a, b] = await nodes(t, 2);
  a.ex.setRole('replica', b.address);
  const c = await FixClient.connect({ endpoints: [a.url, b.url], account: 'alice', password: `${PW}alice` });
  t.after(() => c.close());
  assert.equal(c.url, b.url);
  const id = c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '5', price: '99.00' });
  assert.equal((await c.nextReport(id)).get(150), '0');
  assert.equal(b.ex.seq > 0 && a.ex.seq < b.ex.seq, true);

  // no primary at all: connect fails by the deadline, naming what each said
  b.ex.setRole('replica', null);
  await assert.rejects(FixClient.connect({ endpoints: [a.url, b.url], account: 'bob', password: `${PW}bob`, failoverDeadlineMs: 300 }),
    /no primary logged on to.*role replica/);
  // a primary that refuses the logon (wrong password) fails at once
  b.ex.setRole('primary', null);
  const t0 = Date.now();
  await assert.rejects(FixClient.connect({ endpoints: [a.url, b.url], account: 'bob', password: 'wrong' }), /logon refused: unknown account or wrong password/);
  assert.ok(Date.now() - t0 < 5000);
});

test('failover when the gateway closes: resumes on the second gateway, numbers continue, open orders refreshed by status', async (t) => {
  const [a, b] = await nodes(t, 2);
  // the second node knows o1 (as replication would give it) and has filled 2 of it; it never saw o2 nor o3
  assert.equal((await b.ex.submit({ op: 'new', account: 'alice', clOrdId: 'o1', symbol: 'AAPL', side: 'buy', type: 'limit', qty: '5', price: '99.00' }, 'test')).seq > 0, true);
  await b.ex.submit({ op: 'new', account: 'bob', clOrdId: 'x1', symbol: 'AAPL', side: 'sell', type: 'limit', qty: '2', price: '99.00' }, 'test');
  b.ex.setRole('replica', a.address);

  const events: ClientEvent[] = [];
  const c = await FixClient.connect({ endpoints: [a.url, b.url], account: 'alice', password: `${PW}alice`, onEvent: (e) => events.push(e) });
  t.after(() => c.close());
  assert.equal(c.url, a.url);
  c.newOrder({ clOrdId: 'o1', symbol: 'AAPL', side: 'buy', qty: '5', price: '99.00' });
  assert.equal((await c.nextReport('o1')).get(150), '0');
  c.newOrder({ clOrdId: 'o3', symbol: 'AAPL', side: 'buy', qty: '1', price: '98.00' });
  assert.equal((await c.nextReport('o3')).get(150), '0');
  // o2 reaches the first primary's gateway but never its log: pending when the gateway goes
  const real = a.ex.submit.bind(a.ex);
  a.ex.submit = (cmd: unknown, origin: string) => ((cmd as { clOrdId?: string }).clOrdId === 'o2' ? new Promise(() => undefined) : real(cmd, origin));
  c.newOrder({ clOrdId: 'o2', symbol: 'AAPL', side: 'buy', qty: '1', price: '97.00' });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(c.order('o2')?.state, 'pending');

  let atClose: { sender: number; target: number } | null = null;
  let refusedWhileFailingOver = '';
  const ackSeq: string[] = [];
  c.onEvent((e) => {
    if (e.type !== 'closed' || atClose !== null) return;
    atClose = { sender: c.nextSenderSeq, target: c.nextTargetSeq };
    queueMicrotask(() => {
      try {
        c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '1', price: '95.00' });
      } catch (err) {
        refusedWhileFailingOver = `${c.state}: ${(err as Error).message}`;
      }
    });
  });
  c.onMessage((m) => { if (m.msgType === 'A') ackSeq.push(m.get(34) ?? ''); });
  const resynced = eventOf(c, 'resynced');
  b.ex.setRole('primary', null);
  await a.gw.close();

  const r = await resynced;
  const fo = events.find((e) => e.type === 'failover');
  assert.deepEqual(fo, { type: 'failover', from: a.url, to: b.url });
  assert.equal(c.url, b.url);
  assert.match(refusedWhileFailingOver, /^failingOver: FixClient alice: failing over from /);
  // numbers continued: the new primary's Logon answer carries what the client expected, no gap, no resend either way
  const before = atClose as { sender: number; target: number } | null;
  assert.ok(before !== null);
  assert.deepEqual(ackSeq, [String(before.target)]);
  for (const type of ['gap', 'tooLow', 'resendRequest'] as const) assert.ok(!events.some((e) => e.type === type), `no ${type} event`);

  // o1 refreshed from the new primary (2 filled there), o2 lost (never acknowledged), o3 unknown there
  assert.deepEqual(r.refreshed.map((o) => [o.clOrdId, o.state, o.cumQty, o.leavesQty]), [['o1', 'partially_filled', '2', '3']]);
  const lost = new Map(r.lost.map((o) => [o.clOrdId, o]));
  assert.equal(lost.get('o2')?.state, 'rejected');
  assert.match(lost.get('o2')?.text ?? '', /lost in failover: .*never acknowledged/);
  assert.equal(lost.get('o3')?.state, 'unknown');
  assert.deepEqual(c.orders().map((o) => [o.clOrdId, o.state]), [['o1', 'partially_filled']]);

  // the session goes on at the new primary
  const o4 = c.newOrder({ clOrdId: 'o4', symbol: 'AAPL', side: 'sell', qty: '3', price: '105.00' });
  assert.equal((await c.nextReport(o4)).get(150), '0');
  assert.deepEqual(c.orders().map((o) => o.clOrdId).sort(), ['o1', 'o4']);
});

test('failover with no primary left ends in failoverFailed and closes the client', async (t) => {
  const [a] = await nodes(t, 1);
  const c = await FixClient.connect({ endpoints: [a.url], account: 'alice', password: `${PW}alice`, failoverDeadlineMs: 400 });
  t.after(() => c.close());
  const failed = eventOf(c, 'failoverFailed');
  await a.gw.close();
  const e = await failed;
  assert.match(e.reason, /no primary logged on to within 400 ms/);
  const closed = await c.closed;
  assert.match(closed.reason, /^failover failed: /);
  assert.equal(c.state, 'closed');
  assert.throws(() => c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '1', price: '99.00' }), /not connected/);
});

test('the primary named by a NotPrimaryError or a replica\'s /health is tried even when not in the endpoint list', async (t) => {
  const [a, b] = await nodes(t, 2);
  b.ex.setRole('replica', a.address);
  // first connect: the only endpoint is a replica whose /health names the primary
  const viaHealth = await FixClient.connect({ endpoints: [b.url], account: 'bob', password: `${PW}bob`, failoverDeadlineMs: 2000 });
  t.after(() => viaHealth.close());
  assert.equal(viaHealth.url, a.url);

  // failover: the only endpoint is fenced, and its Logout names the new primary
  const c = await FixClient.connect({ endpoints: [a.url], account: 'alice', password: `${PW}alice`, failoverDeadlineMs: 2000 });
  t.after(() => c.close());
  const moved = eventOf(c, 'failover');
  b.ex.setRole('primary', null);
  a.ex.setRole('fenced', b.address);
  // from now on the fenced node's /health names no primary: only the Logout's text leads to it
  a.ex.setRole('fenced', null);
  assert.equal((await healthOf(a)).body.primary, null);
  const e = await moved;
  assert.deepEqual([e.from, e.to], [a.url, b.url]);
  const id = c.newOrder({ symbol: 'AAPL', side: 'buy', qty: '1', price: '99.00' });
  assert.equal((await c.nextReport(id)).get(150), '0');
});

test('cancel-on-disconnect submits nothing on a replica', async (t) => {
  const [a] = await nodes(t, 1, { cancelOnDisconnect: true });
  await a.ex.submit({ op: 'new', account: 'alice', clOrdId: 'r1', symbol: 'AAPL', side: 'buy', type: 'limit', qty: '5', price: '99.00' }, 'test');
  a.ex.setRole('replica', '10.0.0.1:7440');
  const seq0 = a.ex.seq;
  const c = await connect(a.url);
  assert.equal((await c.status('r1')).get(39), '0', 'the replica knows the order from the log');
  await c.logout();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(a.ex.seq, seq0);
  // the same on a primary does cancel (the test can tell)
  a.ex.setRole('primary', null);
  const c2 = await connect(a.url);
  await c2.logout();
  for (let i = 0; i < 50 && a.ex.seq === seq0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(a.ex.seq, seq0 + 1);
});
