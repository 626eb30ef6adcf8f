// A hostile client against an in-process gateway: inputs found by an audit
// that sent garbage to the gateway (each test went red on the code before its
// fix). Every connection must end with an answer or a close, never be left
// open with nobody serving it.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { createEngine, type Command } from '../engine/index.js';
import { Exchange } from '../log/index.js';
import { prepareCommand } from '../log/codec.js';
import type { Committed } from '../log/sequencer.js';
import { MarketData, type MdSink } from '../gateway/market-data.js';
import { OrderTracker } from '../gateway/orders.js';
import { AccountStore } from '../gateway/accounts.js';
import { Gateway, type GatewayLimits } from '../gateway/server.js';
import { formatUtcTimestamp } from '../gateway/fix/validate.js';
import { FixMessage, Tag } from '../gateway/fix/message.js';
import { decodeTagValue, DEFAULT_MAX_FRAME, encodeTagValue } from '../gateway/fix/tagvalue.js';
import { encodeJson } from '../gateway/fix/json.js';
import { MemorySessionStore } from '../gateway/session-store.js';
import { FixSession, SessionRegistry } from '../gateway/session.js';
import { BookView } from '../gateway/book-view.js';
import { FixClient } from '../gateway/client.js';
import { FixJsonSession } from '../gateway/web/fix-session.js';
import { applied } from './engine-helpers.js';
import { tempDir } from './log-helpers.js';

async function gateway(t: TestContext, limits: Partial<GatewayLimits> = {}): Promise<Gateway> {
  return (await exchangeAndGateway(t, limits)).gw;
}

async function exchangeAndGateway(t: TestContext, limits: Partial<GatewayLimits> = {}): Promise<{ ex: Exchange; gw: Gateway }> {
  const dir = join(tempDir(t, 'matchlog-gw-hostile-'), 'data');
  const ex = await Exchange.open({ dataDir: dir, log: () => undefined });
  const store = AccountStore.load(join(dir, 'accounts.json'), { scrypt: { N: 1024, r: 8, p: 1, keyLength: 32 } });
  await store.add('alice', 'alice-pw', { marketDataOnly: false });
  await store.add('bob', 'bob-pw', { marketDataOnly: false });
  await store.add('carol', 'carol-pw', { marketDataOnly: false });
  const gw = await Gateway.start({ exchange: ex, listen: { host: '127.0.0.1', port: 0 }, accounts: store, sessionsDir: join(dir, 'sessions'), limits });
  t.after(async () => { await gw.close(); await ex.close(); });
  return { ex, gw };
}

async function open(url: string, protocol: string): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(url, protocol);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  return { ws, closed };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

test('a refused Logon whose reason quotes non-ASCII text is still closed (a close reason is at most 123 UTF-8 bytes)', async (t) => {
  const gw = await gateway(t);
  const { ws, closed } = await open(gw.url, 'fix.json');
  t.after(() => ws.terminate());
  // the unknown field name is quoted in the reason: 100 two-byte characters
  ws.send(JSON.stringify({
    Header: { BeginString: 'FIX.4.4', MsgType: 'A', SenderCompID: 'alice', TargetCompID: 'MATCHLOG', MsgSeqNum: '1', SendingTime: formatUtcTimestamp(Date.now()) },
    Body: { EncryptMethod: '0', HeartBtInt: '30', Username: 'alice', Password: 'alice-pw', ['é'.repeat(100)]: 'x' },
  }));
  // the logon timeout (10 s) would close it too, had the session's timer not been cleared: wait less
  const c = await within(closed, 5000, 'the refused connection');
  assert.equal(c.code, 1000);
  assert.match(c.reason, /^invalid Logon: Undefined tag \(é+/);
  assert.ok(Buffer.byteLength(c.reason) <= 123, `${Buffer.byteLength(c.reason)} bytes`);
  // the server's side of the close may come a moment after the client's
  for (let i = 0; i < 100 && gw.connections.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(gw.connections.size, 0, 'the connection is gone from the gateway');
});

test('what waits behind a Logon being checked is bounded in bytes, not only in messages', async () => {
  const closes: string[] = [];
  const session = new FixSession({
    send: () => undefined,
    close: (reason) => { closes.push(reason); },
    // a Logon whose check never ends (scrypt queued behind other logons): the session holds what follows
    authenticate: () => new Promise(() => undefined),
    openStore: () => new MemorySessionStore(),
    registry: new SessionRegistry(),
    onApplication: () => undefined,
  });
  logonBeingChecked(session);
  // five well-formed TestRequests of 20 KB each: 100 KB held before anyone is authenticated
  for (let seq = 2; seq <= 6; seq++) {
    session.receive(decodeTagValue(encodeTagValue(new FixMessage([[35, '1'], [49, 'alice'], [56, 'MATCHLOG'], [34, String(seq)],
      [52, formatUtcTimestamp(Date.now())], [112, 'x'.repeat(20_000)]]))));
  }
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(closes, ['too many messages before the Logon was answered']);
  assert.equal(session.state, 'closed');
  session.transportClosed();
});

function logonBeingChecked(session: FixSession): void {
  const logon = decodeTagValue(encodeTagValue(new FixMessage([[35, 'A'], [49, 'alice'], [56, 'MATCHLOG'], [34, '1'],
    [52, formatUtcTimestamp(Date.now())], [98, '0'], [108, '30'], [553, 'alice'], [554, 'alice-pw']])));
  assert.ok(logon.ok);
  session.receive(logon);
  assert.equal(session.state, 'authenticating');
}

test('a market-data subscription that replaced the session\'s only one can be unsubscribed (and is not left behind)', async (t) => {
  const gw = await gateway(t);
  const { ws, closed } = await open(gw.url, 'fix.4.4');
  t.after(() => ws.terminate());
  const inbox: FixMessage[] = [];
  ws.on('message', (d) => {
    const r = decodeTagValue(String(d));
    if (r.ok) inbox.push(r.msg);
  });
  let seq = 1;
  const send = (fields: [number, string][]): void => {
    ws.send(encodeTagValue(new FixMessage([[35, fields[0][1]], [49, 'alice'], [56, 'MATCHLOG'], [34, String(seq++)],
      [52, formatUtcTimestamp(Date.now())], ...fields.slice(1)])));
  };
  const next = async (pred: (m: FixMessage) => boolean): Promise<FixMessage> => {
    for (let i = 0; i < 250; i++) {
      const k = inbox.findIndex(pred);
      if (k >= 0) return inbox.splice(k, 1)[0];
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no such message; inbox: ${inbox.map(String).join('\n')}`);
  };
  send([[35, 'A'], [98, '0'], [108, '30'], [553, 'alice'], [554, 'alice-pw']]);
  await next((m) => m.msgType === 'A');
  const v = (reqId: string, type: string): [number, string][] =>
    [[35, 'V'], [262, reqId], [263, type], [264, '0'], [267, '2'], [269, '0'], [269, '1'], [146, '1'], [55, 'AAPL']];
  send(v('md1', '1'));
  await next((m) => m.msgType === 'W' && m.get(262) === 'md1');
  // the same symbol again: md2 replaces md1 (one subscription per session and symbol)
  send(v('md2', '1'));
  await next((m) => m.msgType === 'W' && m.get(262) === 'md2');
  send(v('md2', '2'));
  // the unsubscribe has no answer when it succeeds: a TestRequest marks the end of what it caused
  send([[35, '1'], [112, 'after-unsubscribe']]);
  await next((m) => m.msgType === '0' && m.get(112) === 'after-unsubscribe');
  assert.deepEqual(inbox.filter((m) => m.msgType === 'Y').map(String), [], 'md2 was found and removed');
  // and no increment follows: an order on AAPL changes the book
  send([[35, 'D'], [11, 'o1'], [55, 'AAPL'], [54, '2'], [38, '1'], [40, '2'], [44, '190'], [59, '1'], [60, formatUtcTimestamp(Date.now())]]);
  await next((m) => m.msgType === '8' && m.get(11) === 'o1');
  send([[35, '1'], [112, 'after-order']]);
  await next((m) => m.msgType === '0' && m.get(112) === 'after-order');
  assert.deepEqual(inbox.filter((m) => m.msgType === 'X').map(String), [], 'no X after the unsubscribe');
  ws.close();
  await closed;
});

test('full-depth market data on a deep book (one account resting at 3,000 prices) reaches FixClient on both subprotocols, W and X', async (t) => {
  const { ex, gw } = await exchangeAndGateway(t);
  // AAPL: tick 0.01, band 10 % around 190; bids 171.00-185.99, offers 194.00-208.99
  const rests: Promise<unknown>[] = [];
  for (let i = 0; i < 1500; i++) {
    const bid = (17100 + i) / 100;
    const ask = (19400 + i) / 100;
    rests.push(ex.submit({ op: 'new', account: 'deep', clOrdId: `b${i}`, symbol: 'AAPL', side: 'buy', type: 'limit', price: bid.toFixed(2), qty: '1', tif: 'GTC' }, 'test'));
    rests.push(ex.submit({ op: 'new', account: 'deep', clOrdId: `a${i}`, symbol: 'AAPL', side: 'sell', type: 'limit', price: ask.toFixed(2), qty: '1', tif: 'GTC' }, 'test'));
  }
  await Promise.all(rests);
  const clients: FixClient[] = [];
  t.after(() => { for (const c of clients) c.close(); });
  // the longer encoding of every increment received: each must fit the 64 KiB any FIX client of the gateway decodes with
  const incrementBytes: number[] = [];
  for (const [account, protocol] of [['alice', 'fix.4.4'], ['bob', 'fix.json']] as const) {
    const c = await FixClient.connect({ url: gw.url, account, password: `${account}-pw`, protocol,
      onMessage: (m) => { if (m.msgType === 'X') incrementBytes.push(encodeJson(m).length); } });
    clients.push(c);
    const view = await c.subscribe('AAPL').ready(5000);
    assert.equal(view.bids().length, 1500, protocol);
    assert.equal(view.asks().length, 1500, protocol);
    assert.equal(view.bids()[0].price, '185.99');
  }
  // the trading screen's own session and ladder, on ws's WebSocket where the page has the browser's (which has no size limit of its own)
  const g = globalThis as { WebSocket?: unknown };
  const browserWebSocket = g.WebSocket;
  g.WebSocket = WebSocket;
  t.after(() => { g.WebSocket = browserWebSocket; });
  const faults: string[] = [];
  const page = new BookView('AAPL');
  const session = new FixJsonSession({
    state: (state) => {
      if (state !== 'logged on') return;
      // as app.ts asks: the full book, every entry type
      session.sendApplication('V', [[Tag.MDReqID, 'md-page-1'], [Tag.SubscriptionRequestType, '1'], [Tag.MarketDepth, '0'],
        [Tag.MDUpdateType, '1'], [Tag.NoMDEntryTypes, '3'], [Tag.MDEntryType, '0'], [Tag.MDEntryType, '1'], [Tag.MDEntryType, '2'],
        [Tag.NoRelatedSym, '1'], [Tag.Symbol, 'AAPL']]);
    },
    message: (m) => { page.apply(m); },
    fault: (why) => { faults.push(why); },
  });
  t.after(() => session.close(''));
  session.logon(gw.url, 'carol', 'carol-pw');
  await page.ready(5000).catch((e: Error) => { throw new Error(`${e.message}; page faults: ${faults.join('; ')}`); });
  assert.equal(page.bids().length + page.asks().length, 3000, 'the page\'s ladder has the whole book');
  // one command removes every level: its increments are 3,000 deletes
  await ex.submit({ op: 'massCancel', account: 'deep', symbol: 'AAPL' }, 'test');
  for (const c of clients) {
    const view = c.view('AAPL');
    assert.ok(view !== undefined);
    await view.waitUntil((v) => v.synced && v.bids().length === 0 && v.asks().length === 0, 5000);
    assert.equal(view.gaps, 0, 'no loss seen on the way');
  }
  await page.waitUntil((v) => v.synced && v.bids().length === 0 && v.asks().length === 0, 5000);
  assert.deepEqual(faults, []);
  assert.ok(incrementBytes.length > 2 && incrementBytes.every((n) => n <= DEFAULT_MAX_FRAME), `X sizes ${incrementBytes.join(' ')}`);
});

test('a full-book snapshot longer than a frame may be is refused (Y 281=5) with a depth that fits; a stalled subscription whose refresh would be that long ends with the same Y', () => {
  const engine = createEngine();
  const commits: Committed[] = [];
  let seq = 0;
  const commit = (cmd: Command): Committed => {
    const prepared = prepareCommand(cmd);
    const c: Committed = { seq: ++seq, ts: 1_700_000_000_000_000 + seq, origin: 'test', cmd: prepared, events: applied(engine, prepared, seq) };
    commits.push(c);
    return c;
  };
  const rest = (i: number): Command => ({ op: 'new', account: 'deep', clOrdId: `b${i}`, symbol: 'ETH', side: 'buy', type: 'limit', price: String(1000 + i), qty: '1', tif: 'GTC' });
  commit({ op: 'instrument', symbol: 'ETH', tickSize: '1', lotSize: '1' });
  for (let i = 0; i < 10; i++) commit(rest(i));
  const snap = engine.snapshot();
  // entries of a W here are about 75 bytes in FIX JSON: 2,000 bytes hold some 26
  const md = MarketData.fromSnapshot(snap, OrderTracker.fromSnapshot(snap).instruments, { maxSnapshotBytes: 2000, highWaterBytes: 1000, lowWaterBytes: 100 });
  const sent: FixMessage[] = [];
  let backlog = 0;
  const sink: MdSink = { send: (m) => { sent.push(m); }, backlog: () => backlog };
  const v = (reqId: string, depth: number): FixMessage => new FixMessage([[35, 'V'], [262, reqId], [263, '1'], [264, String(depth)],
    [267, '2'], [269, '0'], [269, '1'], [146, '1'], [55, 'ETH']]);

  md.request(sink, v('full', 0));
  assert.deepEqual(sent.splice(0).map((m) => [m.msgType, m.get(268)]), [['W', '10']], 'ten levels fit');
  // the session falls behind; the book grows to 50 levels meanwhile
  backlog = 5000;
  for (let i = 10; i < 50; i++) md.apply(commit(rest(i)));
  assert.equal(sent.length, 0, 'stalled: nothing sent');
  backlog = 0;
  md.flush();
  assert.equal(sent.length, 1);
  const ended = sent.splice(0)[0];
  assert.deepEqual([ended.msgType, ended.get(262), ended.get(281)], ['Y', 'full', '5']);
  assert.match(ended.get(58) ?? '', /^MarketDepth \(264\) 0: the book of ETH \(50 levels\) is longer than a snapshot may be \(2000 bytes of entries\); ask for MarketDepth \d+ or less$/);
  md.apply(commit(rest(50)));
  assert.equal(sent.length, 0, 'the ended subscription gets no more increments');

  // asked again: refused at once, nothing subscribed; the depth it names is taken
  md.request(sink, v('again', 0));
  const refused = sent.splice(0);
  assert.deepEqual(refused.map((m) => [m.msgType, m.get(281)]), [['Y', '5']]);
  const fits = Number(/ask for MarketDepth (\d+) or less/.exec(refused[0].get(58) ?? '')?.[1]);
  // per side of those asked for (bids and offers), though this book has bids only
  assert.ok(fits >= 10 && fits < 50, `${fits}`);
  md.request(sink, v('top', fits));
  const w = sent.splice(0);
  assert.deepEqual(w.map((m) => [m.msgType, m.get(268)]), [['W', String(fits)]]);
  md.apply(commit(rest(51)));
  assert.deepEqual(sent.splice(0).map((m) => m.msgType), ['X'], 'the depth-limited one is live');
});

test('past maxConnections a new WebSocket is refused at the upgrade (503, with the reason), counted in /metrics; the open ones go on', async (t) => {
  const gw = await gateway(t, { maxConnections: 2 });
  const a = await open(gw.url, 'fix.4.4');
  const b = await open(gw.url, 'fix.json');
  t.after(() => { a.ws.terminate(); b.ws.terminate(); });
  const refusal = (): Promise<{ status: number; body: string; retryAfter: string | undefined }> => new Promise((resolve, reject) => {
    const ws = new WebSocket(gw.url, 'fix.4.4');
    ws.once('open', () => { ws.terminate(); reject(new Error('a third connection was opened')); });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, retryAfter: res.headers['retry-after'] }));
    });
    ws.once('error', () => undefined);
  });
  assert.deepEqual(await within(refusal(), 5000, 'the third connection'),
    { status: 503, body: 'too many connections: this gateway serves at most 2; try again later', retryAfter: '5' });
  const metrics = await (await fetch(new URL('/metrics', gw.url.replace(/^ws/, 'http')))).text();
  assert.match(metrics, /^matchlog_gateway_rejects_total\{reason="too_many_connections"\} 1$/m);
  assert.match(metrics, /^matchlog_gateway_connections 2$/m);
  // the two open ones are served as before: one logs on
  const answers: string[] = [];
  a.ws.on('message', (d) => { const r = decodeTagValue(String(d)); if (r.ok) answers.push(r.msg.msgType); });
  a.ws.send(encodeTagValue(new FixMessage([[35, 'A'], [49, 'alice'], [56, 'MATCHLOG'], [34, '1'], [52, formatUtcTimestamp(Date.now())],
    [98, '0'], [108, '30'], [553, 'alice'], [554, 'alice-pw'], [141, 'Y']])));
  for (let i = 0; i < 100 && answers.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(answers, ['A']);
  // a place freed is a place taken
  b.ws.close();
  await b.closed;
  for (let i = 0; i < 100 && gw.connections.size > 1; i++) await new Promise((r) => setTimeout(r, 20));
  const c = await open(gw.url, 'fix.4.4');
  c.ws.terminate();
});

test('what waits ahead of a MsgSeqNum gap is bounded in bytes, not only in messages: past 1 MiB it is dropped and asked for again', async () => {
  const out: FixMessage[] = [];
  const session = new FixSession({
    send: (m) => { out.push(m); },
    close: () => undefined,
    authenticate: () => Promise.resolve({ ok: true, marketDataOnly: false }),
    openStore: () => new MemorySessionStore(),
    registry: new SessionRegistry(),
    onApplication: () => undefined,
  });
  const receive = (seq: number, fields: [number, string][]): void => {
    session.receive(decodeTagValue(encodeTagValue(new FixMessage([[35, fields[0][1]], [49, 'alice'], [56, 'MATCHLOG'], [34, String(seq)],
      [52, formatUtcTimestamp(Date.now())], ...fields.slice(1)]))));
  };
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  receive(1, [[35, 'A'], [98, '0'], [108, '30'], [553, 'alice'], [554, 'alice-pw']]);
  await turn();
  assert.equal(session.state, 'active');
  // seq 2 is missing; 3 to 42 are TestRequests of 40 KB each: 1.6 MB ahead of the gap
  for (let seq = 3; seq <= 42; seq++) receive(seq, [[35, '1'], [112, `${seq}:`.padEnd(40_000, 'x')]]);
  await turn();
  assert.deepEqual(out.splice(0).filter((m) => m.msgType === '2').map((m) => [m.get(7), m.get(16)]), [['2', '0']], 'one ResendRequest for the gap');
  receive(2, [[35, '0']]);
  await turn();
  // those that fit in 1 MiB (26 of them) were kept and are answered now; the rest were dropped
  const answered = out.splice(0).filter((m) => m.msgType === '0').map((m) => Number((m.get(112) ?? '').split(':')[0]));
  assert.deepEqual(answered, Array.from({ length: 26 }, (_, i) => 3 + i));
  // the client's next message shows the gap left by what was dropped: asked for again from the first of them
  receive(43, [[35, '0']]);
  await turn();
  assert.deepEqual(out.splice(0).filter((m) => m.msgType === '2').map((m) => [m.get(7), m.get(16)]), [['29', '0']]);
  session.transportClosed();
});
