// The gateway as an operator and a hostile client meet it, against a real
// `matchlog start`: security (wrong password slowed and refused, another
// account's order is "unknown", a market-data-only account cannot trade),
// garbage on one connection leaves the others and the book alone, /health and
// /metrics, session sequence numbers across a restart, wss://, the security
// list and order mass status (AF) over both subprotocols.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import WebSocket from 'ws';
import { Exchange, readLog } from '../log/index.js';
import { AccountStore } from '../gateway/accounts.js';
import { Gateway } from '../gateway/server.js';
import { FixMessage } from '../gateway/fix/message.js';
import { decodeTagValue, encodeTagValue } from '../gateway/fix/tagvalue.js';
import { formatUtcTimestamp } from '../gateway/fix/validate.js';
import { jsParse } from './jspurefix.js';
import { tempDir } from './log-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));

interface Running { url: string; port: number; dir: string; child: ChildProcess; out: string; err: () => string; stop(): Promise<number | null> }

async function startExchange(t: TestContext, dir: string, extra: string[] = []): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'start', '--data', dir, '--listen', '127.0.0.1:0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MATCHLOG_LOG_LEVEL: process.env.GW_TEST_LOG ?? 'warn' },
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no startup line:\n${out}\n${err}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('exchange started')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.on('close', () => reject(new Error(`exited:\n${out}\n${err}`)));
  });
  const m = /gateway (wss?:\/\/[^ ]+:(\d+)\/fix)/.exec(line);
  assert.ok(m !== null, line);
  return {
    url: m[1], port: Number(m[2]), dir, child, out: line, err: () => err,
    stop: async () => { child.kill('SIGTERM'); return exited; },
  };
}

function credentials(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'demo-credentials.txt'), 'utf8').split('\n')) {
    const m = /^([!-~]+) ([!-~]+)$/.exec(line);
    if (m !== null && !line.startsWith('#')) out.set(m[1], m[2]);
  }
  return out;
}

/** A bare FIX 4.4 connection: what a hostile or a careful client sends, byte for byte. */
class Raw {
  seq = 1;
  readonly inbox: FixMessage[] = [];
  /** Every frame the gateway sent, as it came: checked with an independent parser at the end. */
  static readonly frames: string[] = [];
  private waiters: (() => void)[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket, readonly account: string) {
    ws.on('message', (d) => {
      Raw.frames.push(String(d));
      const r = decodeTagValue(String(d));
      if (r.ok) this.inbox.push(r.msg);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      resolve({ code, reason: String(reason) });
      for (const w of this.waiters.splice(0)) w();
    }));
  }

  static async open(url: string, account: string, opts: { protocol?: string; ca?: Buffer } = {}): Promise<Raw> {
    const ws = new WebSocket(url, opts.protocol ?? 'fix.4.4', opts.ca ? { ca: opts.ca } : {});
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    return new Raw(ws, account);
  }

  send(type: string, fields: [number, string][], seq = this.seq++): void {
    const m = new FixMessage([[35, type], [49, this.account], [56, 'MATCHLOG'], [34, String(seq)], [52, formatUtcTimestamp(Date.now())], ...fields]);
    this.ws.send(encodeTagValue(m));
  }

  async logon(password: string): Promise<FixMessage> {
    this.send('A', [[98, '0'], [108, '30'], [553, this.account], [554, password]]);
    return this.next((m) => m.msgType === 'A' || m.msgType === '5');
  }

  /** The next message (from the start of the inbox) matching `pred`, taken out of the inbox. */
  async next(pred: (m: FixMessage) => boolean = () => true, timeoutMs = 10_000): Promise<FixMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (this.ws.readyState === WebSocket.CLOSED || Date.now() > deadline) {
        throw new Error(`no matching message (socket ${this.ws.readyState === WebSocket.CLOSED ? "closed" : "open"}); inbox: ${this.inbox.map(String).join("\n")}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  order(clOrdId: string, side: '1' | '2', qty: string, price: string, symbol = 'AAPL'): void {
    this.send('D', [[11, clOrdId], [55, symbol], [54, side], [38, qty], [40, '2'], [44, price], [59, '1'], [60, formatUtcTimestamp(Date.now())]]);
  }

  close(): void {
    this.ws.close();
  }
}

const er = (clOrdId: string, execType?: string) => (m: FixMessage) => m.msgType === '8' && m.get(11) === clOrdId && (execType === undefined || m.get(150) === execType);

test('security: a wrong password is refused (and slowed), another account\'s order is unknown, a market-data-only account cannot trade', async (t) => {
  const dir = join(tempDir(t, 'matchlog-gw-'), 'data');
  const ex = await startExchange(t, dir);
  const pw = credentials(dir);
  // a market-data-only account, added while the exchange runs, is seen by the next start only: add before a restart
  const add = spawnSync(process.execPath, [BIN, 'accounts', 'add', 'viewer', '--data', dir, '--market-data-only'], { input: 'viewer-password-1\n', encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);
  const file = readFileSync(join(dir, 'accounts.json'), 'utf8');
  assert.ok(!file.includes('viewer-password-1') && !file.includes(pw.get('alice') as string), 'the accounts file holds no password');

  const bad = await Raw.open(ex.url, 'alice');
  const t0 = Date.now();
  bad.send('A', [[98, '0'], [108, '30'], [553, 'alice'], [554, 'not-the-password']]);
  // refused without a session: the connection closes, the reason in the close frame (as QuickFIX drops a bad Logon)
  const closed = await bad.closed;
  assert.match(closed.reason, /unknown account or wrong password/);
  assert.equal(bad.inbox.filter((m) => m.msgType === 'A').length, 0, 'no Logon answer');
  assert.ok(Date.now() - t0 >= 900, `a failed logon is slowed (${Date.now() - t0} ms)`);

  const alice = await Raw.open(ex.url, 'alice');
  assert.equal((await alice.logon(pw.get('alice') as string)).msgType, 'A');
  const bob = await Raw.open(ex.url, 'bob');
  assert.equal((await bob.logon(pw.get('bob') as string)).msgType, 'A');
  alice.order('a1', '2', '5', '190.00');
  const ack = await alice.next(er('a1', '0'));
  // bob names alice's order by her ClOrdID and by its OrderID: unknown, nothing revealed
  bob.send('F', [[41, 'a1'], [11, 'b-c1'], [55, 'AAPL'], [54, '2'], [60, formatUtcTimestamp(Date.now())]]);
  const rej1 = await bob.next((m) => m.msgType === '9');
  assert.equal(rej1.get(102), '1', String(rej1));
  bob.send('F', [[37, ack.get(37) as string], [41, 'x'], [11, 'b-c2'], [55, 'AAPL'], [54, '2'], [60, formatUtcTimestamp(Date.now())]]);
  assert.equal((await bob.next((m) => m.msgType === '9')).get(102), '1');
  // her order is still there: a crossing buy of bob trades with it, and both hear of the fill
  bob.order('b1', '1', '2', '190.00');
  const fill = await bob.next(er('b1', 'F'));
  assert.equal(fill.get(32), '2');
  assert.equal(fill.get(31), '190');
  const makerFill = await alice.next(er('a1', 'F'));
  assert.equal(makerFill.get(151), '3');
  assert.equal(makerFill.get(6), '190');
  alice.close();
  bob.close();

  assert.equal(await ex.stop(), 0, ex.err());
  const again = await startExchange(t, dir);
  const viewer = await Raw.open(again.url, 'viewer');
  assert.equal((await viewer.logon('viewer-password-1')).msgType, 'A');
  viewer.order('v1', '1', '1', '190.00');
  const j = await viewer.next((m) => m.msgType === 'j' || m.msgType === '8');
  assert.equal(j.msgType, 'j', String(j));
  assert.equal(j.get(380), '6');
  viewer.send('V', [[262, 'md1'], [263, '1'], [264, '0'], [267, '2'], [269, '0'], [269, '1'], [146, '1'], [55, 'AAPL']]);
  const w = await viewer.next((m) => m.msgType === 'W').catch((e: Error) => { throw new Error(`${e.message}\n${again.err()}`); });
  assert.equal(w.get(55), 'AAPL');
  assert.deepEqual(w.getAll(270), ['190'], 'alice\'s remaining 3 rest at 190');
  assert.deepEqual(w.getAll(271), ['3']);
  viewer.close();
  // nothing of the viewer reached the log
  assert.ok([...readLog(dir)].every((r) => r.kind !== 'command' || r.origin !== 'fix:viewer'));
  assert.equal(await again.stop(), 0);
});

test('garbage on one connection: Reject, Logout or nothing — never a crash; the other session trades on; the book is untouched', async (t) => {
  const dir = join(tempDir(t, 'matchlog-gw-'), 'data');
  const ex = await startExchange(t, dir);
  const pw = credentials(dir);
  const alice = await Raw.open(ex.url, 'alice');
  await alice.logon(pw.get('alice') as string);
  let n = 0;
  const valid = encodeTagValue(new FixMessage([[35, 'D'], [49, 'bob'], [56, 'MATCHLOG'], [34, '2'], [52, formatUtcTimestamp(Date.now())],
    [11, 'x'], [55, 'AAPL'], [54, '1'], [38, '5'], [40, '2'], [44, '190'], [59, '1'], [60, formatUtcTimestamp(Date.now())]]));
  const seed = Number(process.env.MATCHLOG_SEED ?? (Math.random() * 0x7fffffff) | 0);
  t.diagnostic(`seed ${seed} (MATCHLOG_SEED=${seed} reproduces it)`);
  await fc.assert(fc.asyncProperty(fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
    fc.integer({ min: 1, max: valid.length - 1 }).map((k) => valid.slice(0, k)),
    fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.string({ minLength: 1, maxLength: 1 })).map(([k, c]) => valid.slice(0, k) + c + valid.slice(k + 1)),
    fc.constantFrom(valid.replace('38=5', '38=-5'), valid.replace('38=5', '38=NaN'), valid.replace('44=190', '44=1e3'), 'x'.repeat(70_000)),
  ), fc.boolean(), async (frame, logonFirst) => {
    const c = await Raw.open(ex.url, 'bob');
    if (logonFirst) await c.logon(pw.get('bob') as string);
    c.ws.send(frame);
    c.send('0', []);
    await new Promise((r) => setTimeout(r, 20));
    c.close();
    await c.closed;
    // the bystander still trades
    alice.order(`a${++n}`, '2', '1', '191.00');
    await alice.next(er(`a${n}`, '0'));
  }), { numRuns: 40, seed });
  // the server is alive and every command in the log is alice's (bob's garbage never became a command)
  const health = await (await fetch(`http://127.0.0.1:${ex.port}/health`)).json() as { status: string };
  assert.equal(health.status, 'ok');
  const origins = new Set([...readLog(dir)].filter((r) => r.kind === 'command').map((r) => (r.kind === 'command' ? r.origin : '')));
  assert.deepEqual([...origins].sort(), ['config', 'fix:alice']);
  alice.close();
  assert.equal(await ex.stop(), 0, ex.err());
});

test('/health and /metrics; session sequence numbers survive a restart; wss:// with a certificate', async (t) => {
  const root = tempDir(t, 'matchlog-gw-');
  const dir = join(root, 'data');
  const ex = await startExchange(t, dir);
  const pw = credentials(dir);
  const a = await Raw.open(ex.url, 'alice');
  await a.logon(pw.get('alice') as string);
  a.order('s1', '2', '1', '190.00');
  const rep = await a.next(er('s1', '0'));
  const seqBefore = Number(rep.get(34));
  const metrics = await (await fetch(`http://127.0.0.1:${ex.port}/metrics`)).text();
  assert.match(metrics, /matchlog_gateway_sessions 1/);
  assert.match(metrics, /matchlog_gateway_messages_in_total\{msg_type="D"\} 1/);
  assert.match(metrics, /matchlog_gateway_order_latency_seconds_count 1/);
  // the order's block (and the logon's) reached the disk: the disk's own time is on /metrics
  assert.match(metrics, /matchlog_log_write_seconds_count [1-9]\d*/);
  assert.match(metrics, /matchlog_sequencer_queue_depth 0/);
  // `matchlog start` serves the trading screen at / of the same port (test/web-screen.test.ts drives it)
  const page = await fetch(`http://127.0.0.1:${ex.port}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(page.headers.get('content-security-policy') ?? '', /^default-src 'none'; script-src 'self'/);
  assert.match(await page.text(), /<script type="module" src="\/gateway\/web\/app.js"><\/script>/);
  a.send('5', []);
  await a.closed;
  assert.equal(await ex.stop(), 0);

  // a self-signed certificate for 127.0.0.1
  const key = join(root, 'key.pem');
  const cert = join(root, 'cert.pem');
  const ssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  assert.equal(ssl.status, 0, ssl.stderr);
  const tls = await startExchange(t, dir, ['--tls-cert', cert, '--tls-key', key]);
  assert.match(tls.url, /^wss:\/\//);
  const b = await Raw.open(tls.url, 'alice', { ca: readFileSync(cert) });
  b.seq = 4; // the session continues: Logon 1, order 2 and Logout 3 were taken before the restart
  const logon = await b.logon(pw.get('alice') as string);
  assert.equal(logon.msgType, 'A', String(logon));
  assert.ok(Number(logon.get(34)) > seqBefore, `the exchange's sequence numbers continue (${logon.get(34)} after ${seqBefore})`);
  b.close();
  assert.equal(await tls.stop(), 0);
});

test('limits: past its token bucket a session is answered "throttled" (j), not served; cancel-on-disconnect cancels what rests', async (t) => {
  const dir = join(tempDir(t, 'matchlog-gw-'), 'data');
  const ex = await Exchange.open({ dataDir: dir, log: () => undefined });
  const store = AccountStore.load(join(dir, 'accounts.json'), { scrypt: { N: 1024, r: 8, p: 1, keyLength: 32 } });
  await store.add('alice', 'alice-pw', { marketDataOnly: false });
  const gw = await Gateway.start({
    exchange: ex, listen: { host: '127.0.0.1', port: 0 }, accounts: store, sessionsDir: join(dir, 'sessions'),
    limits: { messagesPerSecond: 1, burst: 5 }, cancelOnDisconnect: true,
  });
  t.after(async () => { await gw.close(); await ex.close(); });
  const a = await Raw.open(gw.url, 'alice');
  assert.equal((await a.logon('alice-pw')).msgType, 'A');
  // the Logon took one token; five orders at once: four served, one throttled
  for (let i = 1; i <= 5; i++) a.order(`t${i}`, '2', '1', `19${i}.00`);
  const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => a.next((m) => m.get(11) === `t${i}` || (m.msgType === 'j' && m.get(379) === `t${i}`))));
  const throttled = answers.filter((m) => m.msgType === 'j');
  assert.equal(throttled.length, 1, answers.map(String).join('\n'));
  assert.match(throttled[0].get(58) ?? '', /throttled: more than 1 messages per second/);
  assert.equal(answers.filter((m) => m.msgType === '8' && m.get(150) === '0').length, 4);
  const metrics = await gw.metrics.render();
  assert.match(metrics, /matchlog_gateway_rejects_total\{reason="throttled"\} 1/);
  // the session ends: its four resting orders are cancelled through the log
  a.close();
  await a.closed;
  for (let i = 0; i < 100 && ex.engine.book('AAPL')?.orders(1).length !== 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(ex.engine.book('AAPL')?.orders(1).length, 0, 'cancelled on disconnect');
  const mass = [...readLog(dir)].filter((r) => r.kind === 'command' && r.cmd.op === 'massCancel');
  assert.equal(mass.length, 1);
});

test('SecurityList (x → y): a market-data-only account may ask; an instrument created after the start is listed; fix.json; a bad x is rejected', async (t) => {
  const dir = join(tempDir(t, 'matchlog-gw-'), 'data');
  const ex = await Exchange.open({ dataDir: dir, log: () => undefined });
  const store = AccountStore.load(join(dir, 'accounts.json'), { scrypt: { N: 1024, r: 8, p: 1, keyLength: 32 } });
  await store.add('viewer', 'viewer-pw', { marketDataOnly: true });
  await store.add('alice', 'alice-pw', { marketDataOnly: false });
  const gw = await Gateway.start({ exchange: ex, listen: { host: '127.0.0.1', port: 0 }, accounts: store, sessionsDir: join(dir, 'sessions') });
  t.after(async () => { await gw.close(); await ex.close(); });
  const v = await Raw.open(gw.url, 'viewer');
  assert.equal((await v.logon('viewer-pw')).msgType, 'A');
  const seqBefore = ex.seq;

  // the demo instruments of the config, sorted by symbol, with the configured decimals
  v.send('x', [[320, 'all'], [559, '4']]);
  const all = await v.next((m) => m.msgType === 'y');
  assert.deepEqual([all.get(320), all.get(560), all.get(393), all.get(893), all.get(146)], ['all', '0', '4', 'Y', '4']);
  assert.deepEqual(all.getAll(55), ['AAPL', 'BTC-USD', 'EUR-USD', 'MSFT']);
  assert.match(all.toString(), /\|55=BTC-USD\|561=0\.0001\|562=0\.0001\|969=0\.5\|1140=100\|55=EUR-USD\|561=1000\|562=1000\|969=0\.00001\|1140=100000000\|/);

  // an instrument created while the gateway runs (through the log, like any command)
  await ex.submit({ op: 'instrument', symbol: 'ADA-USD', tickSize: '0.0001', lotSize: '1' }, 'config');
  v.send('x', [[320, 'ada'], [559, '0'], [55, 'ADA-USD'], [263, '0']]);
  const ada = await v.next((m) => m.msgType === 'y');
  const body = ada.fields.filter(([tag]) => ![34, 49, 52, 56, 322].includes(tag)).map(([tag, value]) => `${tag}=${value}`).join('|');
  assert.equal(body, '35=y|320=ada|560=0|393=1|893=Y|146=1|55=ADA-USD|561=1|562=1|969=0.0001');
  assert.notEqual(ada.get(322), all.get(322), 'SecurityResponseID differs per answer');
  v.send('x', [[320, 'nope'], [559, '0'], [55, 'NOPE']]);
  const nope = await v.next((m) => m.msgType === 'y');
  assert.deepEqual([nope.get(320), nope.get(560), nope.get(393), nope.has(146)], ['nope', '2', '0', false]);
  v.send('x', [[320, 'type1'], [559, '1']]);
  assert.equal((await v.next((m) => m.msgType === 'y')).get(560), '1');
  // no SecurityReqID: a session Reject; a y from a client (the exchange sends those): BusinessMessageReject 380=3
  v.send('x', [[559, '4']]);
  const rej = await v.next((m) => m.msgType === '3');
  assert.deepEqual([rej.get(373), rej.get(371), rej.get(372)], ['1', '320', 'x']);
  v.send('y', [[320, 'a'], [322, 'b'], [560, '0']]);
  const j = await v.next((m) => m.msgType === 'j');
  // the session's answer (order entry would say "not taken by order entry"): x joined its types, y did not
  assert.deepEqual([j.get(380), j.get(372), j.get(58)], ['3', 'y', 'Unsupported Message Type']);
  assert.equal(ex.seq, seqBefore + 1, 'only the instrument command reached the log');
  v.close();

  // fix.json, as the browser does it
  const ws = new WebSocket(gw.url, 'fix.json');
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const texts: string[] = [];
  const got = new Promise<string>((resolve) => ws.on('message', (d) => {
    texts.push(String(d));
    if ((JSON.parse(String(d)) as { Header: { MsgType: string } }).Header.MsgType === 'y') resolve(String(d));
  }));
  const header = (type: string, seq: number) => ({ MsgType: type, SenderCompID: 'alice', TargetCompID: 'MATCHLOG', MsgSeqNum: String(seq), SendingTime: formatUtcTimestamp(Date.now()) });
  ws.send(JSON.stringify({ Header: header('A', 1), Body: { EncryptMethod: '0', HeartBtInt: '30', Username: 'alice', Password: 'alice-pw' } }));
  ws.send(JSON.stringify({ Header: header('x', 2), Body: { SecurityReqID: 'j1', SecurityListRequestType: '0', Symbol: 'BTC-USD' } }));
  const y = JSON.parse(await got) as { Header: Record<string, string>; Body: Record<string, unknown>; Trailer: object };
  assert.deepEqual(Object.keys(y.Header).sort(), ['BeginString', 'MsgSeqNum', 'MsgType', 'SenderCompID', 'SendingTime', 'TargetCompID']);
  assert.equal(typeof y.Body.SecurityResponseID, 'string');
  assert.deepEqual({ ...y.Body, SecurityResponseID: 'R' }, {
    SecurityReqID: 'j1', SecurityResponseID: 'R', SecurityRequestResult: '0', TotNoRelatedSym: '1', LastFragment: 'Y',
    NoRelatedSym: [{ Symbol: 'BTC-USD', RoundLot: '0.0001', MinTradeVol: '0.0001', MinPriceIncrement: '0.5', MaxTradeVol: '100' }],
  });
  ws.close();
});

test('OrderMassStatusRequest (AF → 8 per live order): only the account\'s own live orders, on fix.4.4 and fix.json; none; refusals; nothing logged', async (t) => {
  const dir = join(tempDir(t, 'matchlog-gw-'), 'data');
  const ex = await Exchange.open({ dataDir: dir, log: () => undefined });
  const store = AccountStore.load(join(dir, 'accounts.json'), { scrypt: { N: 1024, r: 8, p: 1, keyLength: 32 } });
  await store.add('viewer', 'viewer-pw', { marketDataOnly: true });
  await store.add('alice', 'alice-pw', { marketDataOnly: false });
  await store.add('bob', 'bob-pw', { marketDataOnly: false });
  const gw = await Gateway.start({ exchange: ex, listen: { host: '127.0.0.1', port: 0 }, accounts: store, sessionsDir: join(dir, 'sessions') });
  t.after(async () => { await gw.close(); await ex.close(); });
  const a = await Raw.open(gw.url, 'alice');
  assert.equal((await a.logon('alice-pw')).msgType, 'A');
  const b = await Raw.open(gw.url, 'bob');
  assert.equal((await b.logon('bob-pw')).msgType, 'A');
  const reports = async (raw: Raw, reqId: string): Promise<FixMessage[]> => {
    const out: FixMessage[] = [];
    for (;;) {
      const m = await raw.next((x) => x.msgType === '8' && x.get(584) === reqId);
      out.push(m);
      if (m.get(912) === 'Y') return out;
    }
  };

  // nothing live: the one "no orders" report
  a.send('AF', [[584, 'n1'], [585, '7']]);
  const none = await reports(a, 'n1');
  assert.deepEqual(none.map((m) => [m.get(37), m.get(17), m.get(150), m.get(39), m.get(54), m.get(911), m.get(912), m.get(58)]),
    [['NONE', '0', 'I', '8', '7', '0', 'Y', 'no live orders']]);

  a.order('a1', '1', '5', '189.00');
  a.order('a2', '2', '3', '191.00');
  a.order('a3', '1', '2', '410.00', 'MSFT');
  a.order('a4', '1', '1', '188.00');
  a.order('a5', '2', '1', '190.50');
  for (const id of ['a1', 'a2', 'a3', 'a4', 'a5']) await a.next(er(id, '0'));
  b.order('b1', '1', '4', '185.00');
  await b.next(er('b1', '0'));
  b.order('b2', '1', '1', '190.50'); // fills a5
  await a.next(er('a5', 'F'));
  b.order('b3', '1', '1', '191.00'); // a2 partly filled
  await a.next(er('a2', 'F'));
  a.send('F', [[41, 'a4'], [11, 'a4x'], [55, 'AAPL'], [54, '1'], [60, formatUtcTimestamp(Date.now())]]);
  await a.next(er('a4x', '4'));

  const seqBefore = ex.seq;
  a.send('AF', [[584, 'all'], [585, '7']]);
  const all = await reports(a, 'all');
  assert.deepEqual(all.map((m) => [m.get(11), m.get(55), m.get(54), m.get(44), m.get(39), m.get(151), m.get(14), m.get(911), m.get(912)]), [
    ['a1', 'AAPL', '1', '189', '0', '5', '0', '3', 'N'],
    ['a2', 'AAPL', '2', '191', '1', '2', '1', '3', 'N'],
    ['a3', 'MSFT', '1', '410', '0', '2', '0', '3', 'Y'],
  ]);
  // each equals the OrderStatusRequest answer for the same order, but for 584/911/912 (and the header, and TransactTime: the clock's)
  const body = (m: FixMessage) => m.fields.filter(([tag]) => ![34, 52, 60, 584, 911, 912].includes(tag)).map(([tag, v]) => `${tag}=${v}`).join('|');
  for (const m of all) {
    a.send('H', [[11, m.get(11) as string], [55, m.get(55) as string], [54, m.get(54) as string]]);
    const h = await a.next((x) => x.msgType === '8' && x.get(150) === 'I' && x.get(584) === undefined);
    assert.equal(body(m), body(h));
    assert.match(m.get(60) ?? '', /^\d{8}-\d\d:\d\d:\d\d\.\d{3}$/);
  }
  a.send('AF', [[584, 'msft'], [585, '1'], [1, 'alice'], [55, 'MSFT']]);
  assert.deepEqual((await reports(a, 'msft')).map((m) => [m.get(11), m.get(911), m.get(912)]), [['a3', '1', 'Y']]);
  b.send('AF', [[584, 'bob'], [585, '7']]);
  assert.deepEqual((await reports(b, 'bob')).map((m) => [m.get(11), m.get(911), m.get(912)]), [['b1', '1', 'Y']], 'bob\'s own only');
  b.send('AF', [[584, 'bob-msft'], [585, '1'], [55, 'MSFT']]);
  assert.deepEqual((await reports(b, 'bob-msft')).map((m) => [m.get(37), m.get(55), m.get(911)]), [['NONE', 'MSFT', '0']]);

  // refusals: an unsupported type (j 380=0), type 1 without Symbol (380=5), no MassStatusReqID (session Reject 373=1)
  a.send('AF', [[584, 'party'], [585, '8']]);
  let j = await a.next((m) => m.msgType === 'j');
  assert.deepEqual([j.get(372), j.get(379), j.get(380), j.get(58)], ['AF', 'party', '0', 'MassStatusReqType (585) 8 is not supported; supported: 7 all orders, 1 orders of one Symbol (55)']);
  a.send('AF', [[584, 'nosym'], [585, '1']]);
  j = await a.next((m) => m.msgType === 'j');
  assert.deepEqual([j.get(379), j.get(380)], ['nosym', '5']);
  a.send('AF', [[585, '7']]);
  const rej = await a.next((m) => m.msgType === '3');
  assert.deepEqual([rej.get(373), rej.get(371), rej.get(372)], ['1', '584', 'AF']);
  assert.equal(ex.seq, seqBefore, 'nothing of AF reached the log');

  // a market-data-only account: j 380=6, as for D F G H q
  const v = await Raw.open(gw.url, 'viewer');
  assert.equal((await v.logon('viewer-pw')).msgType, 'A');
  v.send('AF', [[584, 'v1'], [585, '7']]);
  j = await v.next((m) => m.msgType === 'j' || m.msgType === '8');
  assert.deepEqual([j.msgType, j.get(372), j.get(379), j.get(380)], ['j', 'AF', 'v1', '6']);
  v.close();
  a.close();
  await a.closed;

  // fix.json, as the browser asks after a reload
  const ws = new WebSocket(gw.url, 'fix.json');
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const got: { Header: Record<string, string>; Body: Record<string, string> }[] = [];
  const last = new Promise<void>((resolve) => ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as { Header: Record<string, string>; Body: Record<string, string> };
    if (m.Header.MsgType === '8') got.push(m);
    if (m.Body.LastRptRequested === 'Y') resolve();
  }));
  const header = (type: string, seq: number) => ({ MsgType: type, SenderCompID: 'alice', TargetCompID: 'MATCHLOG', MsgSeqNum: String(seq), SendingTime: formatUtcTimestamp(Date.now()) });
  ws.send(JSON.stringify({ Header: header('A', 1), Body: { EncryptMethod: '0', HeartBtInt: '30', ResetSeqNumFlag: 'Y', Username: 'alice', Password: 'alice-pw' } }));
  ws.send(JSON.stringify({ Header: header('AF', 2), Body: { MassStatusReqID: 'j1', MassStatusReqType: '7' } }));
  await last;
  assert.deepEqual(got.map((m) => [m.Body.ClOrdID, m.Body.ExecType, m.Body.OrdStatus, m.Body.LeavesQty, m.Body.MassStatusReqID, m.Body.TotNumReports, m.Body.LastRptRequested]), [
    ['a1', 'I', '0', '5', 'j1', '3', 'N'], ['a2', 'I', '1', '2', 'j1', '3', 'N'], ['a3', 'I', '0', '2', 'j1', '3', 'Y'],
  ]);
  ws.close();
  b.close();
});

test('every frame the gateway sent in these tests parses and validates with jspurefix (FIX 4.4 + the documented extensions)', async () => {
  assert.ok(Raw.frames.length > 20, `${Raw.frames.length} frames`);
  const types = new Set<string>();
  for (const frame of Raw.frames) {
    const parsed = await jsParse(frame);
    assert.equal(parsed.length, 1, frame);
    const { msgType, view } = parsed[0];
    types.add(msgType);
    assert.deepEqual(view.missing(), [], `required fields missing: ${frame}`);
    assert.deepEqual(view.invalid(), [], `invalid fields: ${frame}`);
    assert.equal(view.getUndefined() ?? null, null, `undefined tags: ${frame}`);
  }
  for (const t of ['A', '8', '9', 'j', 'W', '5', '3', 'y']) assert.ok(types.has(t), `a ${t} was checked (${[...types].join(' ')})`);
  // the answers to OrderMassStatusRequest among them: a live order's and the "no orders" one
  assert.ok(Raw.frames.some((f) => /\x01150=I\x01/.test(f) && /\x01912=Y\x01/.test(f) && /\x01911=[1-9]/.test(f)), 'a mass status report was checked');
  assert.ok(Raw.frames.some((f) => /\x0137=NONE\x01/.test(f) && /\x01911=0\x01/.test(f)), 'a "no orders" mass status report was checked');
});
