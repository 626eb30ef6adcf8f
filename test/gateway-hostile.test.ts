// A hostile client against an in-process gateway: inputs found by an audit
// that sent garbage to the gateway (each test went red on the code before its
// fix). Every connection must end with an answer or a close, never be left
// open with nobody serving it.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { Exchange } from '../log/index.js';
import { AccountStore } from '../gateway/accounts.js';
import { Gateway, type GatewayLimits } from '../gateway/server.js';
import { formatUtcTimestamp } from '../gateway/fix/validate.js';
import { FixMessage } from '../gateway/fix/message.js';
import { decodeTagValue, encodeTagValue } from '../gateway/fix/tagvalue.js';
import { MemorySessionStore } from '../gateway/session-store.js';
import { FixSession, SessionRegistry } from '../gateway/session.js';
import { tempDir } from './log-helpers.js';

async function gateway(t: TestContext, limits: Partial<GatewayLimits> = {}): Promise<Gateway> {
  const dir = join(tempDir(t, 'matchlog-gw-hostile-'), 'data');
  const ex = await Exchange.open({ dataDir: dir, log: () => undefined });
  const store = AccountStore.load(join(dir, 'accounts.json'), { scrypt: { N: 1024, r: 8, p: 1, keyLength: 32 } });
  await store.add('alice', 'alice-pw', { marketDataOnly: false });
  const gw = await Gateway.start({ exchange: ex, listen: { host: '127.0.0.1', port: 0 }, accounts: store, sessionsDir: join(dir, 'sessions'), limits });
  t.after(async () => { await gw.close(); await ex.close(); });
  return gw;
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
