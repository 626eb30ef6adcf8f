// End to end through a real `matchlog start` process: FixClient on both
// subprotocols logs on with the demo credentials, trades between two
// accounts, cancels, replaces, mass cancels, asks for status, and rebuilds
// the book from market data; after every step the rebuilt book must equal
// the book of an engine that was given the same commands in the same order.
// Then `matchlog client` is driven through its stdin.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { createEngine, type Command, type Engine, type LevelView } from '../engine/index.js';
import { DEMO_INSTRUMENTS } from '../log/index.js';
import { BookView, compareDecimal, FixClient, type BookLevel, type ClientEvent, type FixProtocol } from '../gateway/client.js';
import { FixMessage, GATEWAY_COMP_ID, Tag } from '../gateway/fix/message.js';
import { decodeTagValue, encodeTagValue } from '../gateway/fix/tagvalue.js';
import { formatUtcTimestamp } from '../gateway/fix/validate.js';
import { applied } from './engine-helpers.js';

const BIN = new URL('../../bin/matchlog.js', import.meta.url).pathname;

interface Server {
  proc: ChildProcess;
  dir: string;
  url: string;
  passwords: Map<string, string>;
}

async function startServer(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-client-'));
  const proc = spawn(process.execPath, [BIN, 'start', '--data', join(dir, 'data'), '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MATCHLOG_LOG_LEVEL: 'warn' },
  });
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`matchlog start printed no gateway line in 20 s: ${out}${err}`)), 20_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /gateway (wss?:\/\/\S+\/fix)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`matchlog start exited ${code}: ${out}${err}`));
    });
  });
  const passwords = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'data', 'demo-credentials.txt'), 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, pw] = line.split(' ');
    passwords.set(name, pw);
  }
  return { proc, dir, url, passwords };
}

async function stopServer(s: Server): Promise<void> {
  if (s.proc.exitCode === null) {
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGTERM');
    await exited;
  }
  rmSync(s.dir, { recursive: true, force: true });
}

/** The engine the test keeps beside the exchange: the same commands in the same order give the same book. */
class Mirror {
  readonly engine: Engine = createEngine();
  private seq = 0;

  constructor() {
    for (const spec of DEMO_INSTRUMENTS) this.apply({ op: 'instrument', ...spec });
  }

  apply(cmd: Command): void {
    this.engine.apply(cmd, ++this.seq);
  }

  book(symbol: string): { bids: BookLevel[]; asks: BookLevel[] } {
    const inst = this.engine.instrument(symbol);
    const e = applied(this.engine, { op: 'book', symbol }, ++this.seq).find((x) => x.type === 'book');
    assert.ok(inst !== undefined && e !== undefined && e.type === 'book');
    const fmt = (ls: LevelView[]): BookLevel[] => ls.map((l) => ({ price: inst.price(l.price), qty: inst.qty(l.qty), orders: l.orders }));
    return { bids: fmt(e.bids), asks: fmt(e.asks) };
  }
}

function sameBook(view: BookView, mirror: Mirror): boolean {
  const want = mirror.book(view.symbol);
  return view.synced && JSON.stringify({ bids: view.bids(), asks: view.asks() }) === JSON.stringify(want);
}

/** Waits until the view shows the mirror's book, then asserts it (the assertion names the difference). */
async function bookMatches(view: BookView, mirror: Mirror): Promise<void> {
  await view.waitUntil((v) => sameBook(v, mirror), 5000).catch(() => undefined);
  assert.deepEqual({ bids: view.bids(), asks: view.asks() }, mirror.book(view.symbol), `book of ${view.symbol} from market data`);
}

function fields(m: FixMessage, ...tags: number[]): Record<number, string | undefined> {
  return Object.fromEntries(tags.map((t) => [t, m.get(t)]));
}

/** The next report for `clOrdId` with ExecType `execType`. */
function report(c: FixClient, clOrdId: string, execType: string): Promise<FixMessage> {
  return c.next((m) => m.msgType === '8' && m.get(Tag.ClOrdID) === clOrdId && m.get(Tag.ExecType) === execType);
}

let server: Server;

before(async () => {
  server = await startServer();
});

after(async () => {
  if (server !== undefined) await stopServer(server);
});

function suite(protocol: FixProtocol, symbol: string, base: number): void {
  describe(`FixClient over ${protocol} (${symbol})`, () => {
    const mirror = new Mirror();
    const px = (d: number): string => String(base + d);
    let alice: FixClient;
    let bob: FixClient;
    let view: BookView;
    const invalid: ClientEvent[] = [];

    /** A limit order, given to the mirror too; waits for its New report unless it is expected to trade at once. */
    const place = async (c: FixClient, side: 'buy' | 'sell', qty: string, price: string, waitNew = true): Promise<string> => {
      const id = c.newOrder({ symbol, side, qty, price });
      mirror.apply({ op: 'new', account: c.account, clOrdId: id, symbol, side, type: 'limit', qty, price });
      if (waitNew) await report(c, id, '0');
      return id;
    };

    before(async () => {
      alice = await FixClient.connect({ url: server.url, account: 'alice', password: server.passwords.get('alice') ?? '', protocol });
      bob = await FixClient.connect({ url: server.url, account: 'bob', password: server.passwords.get('bob') ?? '', protocol });
      for (const c of [alice, bob]) c.onEvent((e) => { if (e.type === 'invalid' || e.type === 'gap' || e.type === 'tooLow') invalid.push(e); });
    });

    after(async () => {
      await Promise.all([alice?.logout(), bob?.logout()]);
    });

    test('logs on with the demo credentials', () => {
      assert.equal(alice.state, 'active');
      assert.equal(bob.state, 'active');
      assert.equal(alice.protocol, protocol);
    });

    test('subscribes: the snapshot is the (empty) book', async () => {
      view = bob.subscribe(symbol);
      await view.ready();
      await bookMatches(view, mirror);
    });

    test('resting orders, then a crossing order of another account: fills on both sides with exact AvgPx', async () => {
      const s1 = await place(alice, 'sell', '10', px(0));
      assert.deepEqual(fields(alice.reports(s1)[0], Tag.ExecType, Tag.OrdStatus, Tag.LeavesQty, Tag.CumQty, Tag.Side, Tag.Price),
        { 150: '0', 39: '0', 151: '10', 14: '0', 54: '2', 44: px(0) });
      await bookMatches(view, mirror);
      const s2 = await place(alice, 'sell', '10', px(1));
      const s3 = await place(alice, 'sell', '5', px(2));
      await bookMatches(view, mirror);

      const b1 = await place(bob, 'buy', '20', px(1));
      const f1 = await report(bob, b1, 'F');
      const f2 = await report(bob, b1, 'F');
      assert.deepEqual(fields(f1, Tag.LastQty, Tag.LastPx, Tag.OrdStatus, Tag.LeavesQty, Tag.CumQty, Tag.AvgPx, Tag.LastLiquidityInd),
        { 32: '10', 31: px(0), 39: '1', 151: '10', 14: '10', 6: px(0), 851: '2' });
      // (10 x base + 10 x (base + 1)) / 20, exactly
      assert.deepEqual(fields(f2, Tag.LastQty, Tag.LastPx, Tag.OrdStatus, Tag.LeavesQty, Tag.CumQty, Tag.AvgPx),
        { 32: '10', 31: px(1), 39: '2', 151: '0', 14: '20', 6: `${base}.5` });
      // the makers hear of it on their own session
      const m1 = await report(alice, s1, 'F');
      const m2 = await report(alice, s2, 'F');
      assert.deepEqual(fields(m1, Tag.OrdStatus, Tag.LastPx, Tag.AvgPx, Tag.LastLiquidityInd), { 39: '2', 31: px(0), 6: px(0), 851: '1' });
      assert.deepEqual(fields(m2, Tag.OrdStatus, Tag.LastPx, Tag.AvgPx), { 39: '2', 31: px(1), 6: px(1) });
      await bookMatches(view, mirror);
      await view.waitUntil((v) => v.trades.length >= 2);
      assert.deepEqual(view.trades.slice(-2).map((t) => [t.price, t.qty]), [[px(0), '10'], [px(1), '10']]);

      // a partial fill of a maker
      await place(bob, 'buy', '2', px(2), false);
      const m3 = await report(alice, s3, 'F');
      assert.deepEqual(fields(m3, Tag.OrdStatus, Tag.LeavesQty, Tag.CumQty), { 39: '1', 151: '3', 14: '2' });
      await bookMatches(view, mirror);
      assert.deepEqual(alice.orders().map((o) => [o.clOrdId, o.state, o.leavesQty]), [[s3, 'partially_filled', '3']]);
      assert.deepEqual(alice.reports(s1).map((m) => m.get(Tag.ExecType)), ['0', 'F']);
    });

    test('cancel', async () => {
      const [live] = alice.orders();
      const c = alice.cancel(live.clOrdId);
      mirror.apply({ op: 'cancel', account: 'alice', clOrdId: c, origClOrdId: live.clOrdId, symbol });
      const r = await report(alice, c, '4');
      assert.deepEqual(fields(r, Tag.OrigClOrdID, Tag.OrdStatus, Tag.LeavesQty, Tag.CumQty), { 41: live.clOrdId, 39: '4', 151: '0', 14: '2' });
      assert.deepEqual(alice.orders(), []);
      await bookMatches(view, mirror);
    });

    test('replace, then status of the replaced order', async () => {
      const b = await place(bob, 'buy', '5', px(-2));
      await bookMatches(view, mirror);
      const r = bob.replace(b, { qty: '8', price: `${base - 2}.5` });
      mirror.apply({ op: 'replace', account: 'bob', clOrdId: r, origClOrdId: b, symbol, qty: '8', price: `${base - 2}.5` });
      const rep = await report(bob, r, '5');
      assert.deepEqual(fields(rep, Tag.OrigClOrdID, Tag.OrdStatus, Tag.OrderQty, Tag.Price, Tag.LeavesQty), { 41: b, 39: '0', 38: '8', 44: `${base - 2}.5`, 151: '8' });
      await bookMatches(view, mirror);
      const st = await bob.status(r);
      assert.deepEqual(fields(st, Tag.ClOrdID, Tag.OrdStatus, Tag.LeavesQty, Tag.OrderID), { 11: r, 39: '0', 151: '8', 37: rep.get(Tag.OrderID) });
      assert.deepEqual(bob.orders().map((o) => [o.clOrdId, o.state, o.price]), [[r, 'new', `${base - 2}.5`]]);
    });

    test('a cancel of another account\'s order is an unknown order', async () => {
      const [theirs] = bob.orders();
      const c = alice.cancel(theirs.clOrdId, symbol);
      mirror.apply({ op: 'cancel', account: 'alice', clOrdId: c, origClOrdId: theirs.clOrdId, symbol });
      const rej = await alice.nextReport(c);
      assert.equal(rej.msgType, '9');
      assert.deepEqual(fields(rej, Tag.CxlRejResponseTo, Tag.CxlRejReason), { 434: '1', 102: '1' });
      await bookMatches(view, mirror);
    });

    test('mass cancel', async () => {
      await place(bob, 'buy', '3', px(-3));
      await bookMatches(view, mirror);
      const q = bob.massCancel(symbol);
      mirror.apply({ op: 'massCancel', account: 'bob', clOrdId: q, symbol });
      const r = await bob.next((m) => m.msgType === 'r' && m.get(Tag.ClOrdID) === q);
      assert.deepEqual(fields(r, Tag.MassCancelRequestType, Tag.MassCancelResponse, Tag.TotalAffectedOrders), { 530: '1', 531: '1', 533: '2' });
      assert.deepEqual(bob.orders(), []);
      await bookMatches(view, mirror);
    });

    test('market data: a late subscriber\'s snapshot equals the increments, RptSeq without gaps', async () => {
      const late = alice.subscribe(symbol);
      await late.ready();
      await place(bob, 'buy', '4', px(-1));
      await bookMatches(late, mirror);
      await bookMatches(view, mirror);
      await view.waitUntil((v) => v.rptSeq === late.rptSeq);
      assert.equal(view.gaps, 0);
      assert.equal(late.gaps, 0);
      bob.massCancel();
      await bob.next((m) => m.msgType === 'r');
    });

    test('every message from the gateway passed our decoder, in sequence', () => {
      assert.deepEqual(invalid, []);
    });
  });
}

suite('fix.4.4', 'AAPL', 190);
suite('fix.json', 'MSFT', 420);

describe('sequence numbers kept across connections', () => {
  test('reconnecting without a reset: a gap each way is asked for and filled', async () => {
    const password = server.passwords.get('alice') ?? '';
    const first = await FixClient.connect({ url: server.url, account: 'alice', password });
    const id = first.newOrder({ symbol: 'EUR-USD', side: 'buy', qty: '1000', price: '1.07' });
    await report(first, id, '0');
    first.close();
    await first.closed;
    const events: ClientEvent[] = [];
    // ahead by 3 on our side (the gateway asks for 3 it never got), behind by 2 on theirs (we ask for the report again)
    const again = await FixClient.connect({
      url: server.url, account: 'alice', password, resetSeqNum: false,
      nextSenderSeq: first.nextSenderSeq + 3, nextTargetSeq: first.nextTargetSeq - 2, onEvent: (e) => events.push(e),
    });
    const resent = await again.next((m) => m.msgType === '8' && m.get(Tag.ClOrdID) === id);
    assert.equal(resent.get(Tag.PossDupFlag), 'Y');
    assert.ok(events.some((e) => e.type === 'gap' && e.expected === first.nextTargetSeq - 2), JSON.stringify(events));
    assert.ok(events.some((e) => e.type === 'resendRequest' && e.begin === first.nextSenderSeq), JSON.stringify(events));
    const c = again.cancel(id, 'EUR-USD');
    const r = await report(again, c, '4');
    assert.equal(r.get(Tag.OrigClOrdID), id);
    assert.ok(!events.some((e) => e.type === 'tooLow' || e.type === 'invalid'), JSON.stringify(events));
    await again.logout();
  });
});

describe('FixClient session duties, against a scripted peer', () => {
  test('TestRequest, ResendRequest, an inbound gap, Logout', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'fix.4.4' });
    await new Promise((r) => wss.once('listening', r));
    const { port } = wss.address() as { port: number };
    let seq = 0;
    const got: FixMessage[] = [];
    let wake: () => void = () => undefined;
    const out = (ws: WebSocket, type: string, f: [number, string][], at = ++seq, possDup = false): void => {
      const m = new FixMessage([[Tag.MsgType, type], [Tag.SenderCompID, GATEWAY_COMP_ID], [Tag.TargetCompID, 'tester'], [Tag.MsgSeqNum, String(at)]]);
      if (possDup) m.add(Tag.PossDupFlag, 'Y');
      m.add(Tag.SendingTime, formatUtcTimestamp(Date.now()));
      if (possDup) m.add(Tag.OrigSendingTime, formatUtcTimestamp(Date.now()));
      for (const [t, v] of f) m.add(t, v);
      ws.send(encodeTagValue(m));
    };
    const peer = new Promise<WebSocket>((resolve) => wss.once('connection', (ws) => {
      ws.on('message', (d) => {
        const r = decodeTagValue(d.toString());
        assert.ok(r.ok, `the client's frame passes the gateway's decoder: ${d.toString()}`);
        got.push(r.msg);
        wake();
      });
      resolve(ws);
    }));
    const recv = async (type: string): Promise<FixMessage> => {
      for (;;) {
        const i = got.findIndex((m) => m.msgType === type);
        if (i >= 0) return got.splice(i, 1)[0];
        await new Promise<void>((r) => { wake = r; });
      }
    };
    const connecting = FixClient.connect({ url: `ws://127.0.0.1:${port}/fix`, account: 'tester', password: 'pw', heartBtInt: 30 });
    const ws = await peer;
    const logon = await recv('A');
    assert.deepEqual(fields(logon, Tag.MsgSeqNum, Tag.ResetSeqNumFlag, Tag.Username, Tag.Password, Tag.HeartBtInt), { 34: '1', 141: 'Y', 553: 'tester', 554: 'pw', 108: '30' });
    out(ws, 'A', [[Tag.EncryptMethod, '0'], [Tag.HeartBtInt, '30'], [Tag.ResetSeqNumFlag, 'Y']]);
    const client = await connecting;
    const events: ClientEvent[] = [];
    client.onEvent((e) => events.push(e));

    out(ws, '1', [[Tag.TestReqID, 'abc']]);
    assert.equal((await recv('0')).get(Tag.TestReqID), 'abc');

    out(ws, '2', [[Tag.BeginSeqNo, '1'], [Tag.EndSeqNo, '0']]);
    const fill = await recv('4');
    assert.deepEqual(fields(fill, Tag.MsgSeqNum, Tag.GapFillFlag, Tag.PossDupFlag, Tag.NewSeqNo), { 34: '1', 123: 'Y', 43: 'Y', 36: String(client.nextSenderSeq) });

    // 4 and 5 go missing: 6 waits, the client asks from 4
    const er = (id: string): [number, string][] => [[Tag.OrderID, '1'], [Tag.ClOrdID, id], [Tag.ExecID, id], [Tag.ExecType, '0'], [Tag.OrdStatus, '0'],
      [Tag.Symbol, 'S'], [Tag.Side, '1'], [Tag.LeavesQty, '1'], [Tag.CumQty, '0'], [Tag.AvgPx, '0']];
    out(ws, '8', er('six'), 6);
    const ask = await recv('2');
    assert.deepEqual(fields(ask, Tag.BeginSeqNo, Tag.EndSeqNo), { 7: '4', 16: '0' });
    assert.deepEqual(events.filter((e) => e.type === 'gap'), [{ type: 'gap', expected: 4, received: 6 }]);
    out(ws, '4', [[Tag.GapFillFlag, 'Y'], [Tag.NewSeqNo, '5']], 4, true);
    out(ws, '8', er('five'), 5, true);
    const a = await client.next((m) => m.msgType === '8');
    const b = await client.next((m) => m.msgType === '8');
    assert.deepEqual([a.get(Tag.ClOrdID), b.get(Tag.ClOrdID)], ['five', 'six']);
    assert.equal(client.nextTargetSeq, 7);

    seq = 6;
    out(ws, '5', [[Tag.Text, 'bye']]);
    assert.equal((await recv('5')).msgType, '5');
    ws.close();
    await client.closed;
    wss.close();
  });
});

describe('logon refused', () => {
  test('a wrong password is refused with the gateway\'s reason', async () => {
    const t0 = Date.now();
    await assert.rejects(FixClient.connect({ url: server.url, account: 'alice', password: 'not-the-password' }), /logon refused: unknown account or wrong password/);
    assert.ok(Date.now() - t0 >= 900, 'a refusal is slowed');
  });

  test('over fix.json too', async () => {
    await assert.rejects(FixClient.connect({ url: server.url, account: 'bob', password: 'nope', protocol: 'fix.json' }), /logon refused/);
  });
});

describe('matchlog client', () => {
  test('a buy through stdin prints the fill', async () => {
    const bob = await FixClient.connect({ url: server.url, account: 'bob', password: server.passwords.get('bob') ?? '' });
    const s = bob.newOrder({ symbol: 'AAPL', side: 'sell', qty: '5', price: '190' });
    await report(bob, s, '0');
    const proc = spawn(process.execPath, [BIN, 'client', '--account', 'alice', '--url', server.url], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    proc.stdin.end(`${server.passwords.get('alice')}\nbuy 5 AAPL 190\norders\nquit\n`);
    const code = await new Promise<number | null>((r) => proc.once('exit', r));
    assert.equal(code, 0, `exit code; stdout:\n${out}\nstderr:\n${err}`);
    assert.match(out, /filled 5 AAPL @ 190 \(avg 190, leaves 0\) order \d+/);
    await report(bob, s, 'F');
    await bob.logout();
  });

  test('bad options: exit 2 with the usage', async () => {
    const proc = spawn(process.execPath, [BIN, 'client', '--nope'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((r) => proc.once('exit', r));
    assert.equal(code, 2);
    assert.match(err, /usage: matchlog client/);
  });
});

describe('BookView alone', () => {
  const W = (rpt: number, entries: [string, string, string, number][]): FixMessage => {
    const m = new FixMessage([[Tag.MsgType, 'W'], [Tag.Symbol, 'S'], [Tag.RptSeq, String(rpt)], [Tag.NoMDEntries, String(entries.length)]]);
    for (const [t, p, q, n] of entries) m.add(Tag.MDEntryType, t).add(Tag.MDEntryPx, p).add(Tag.MDEntrySize, q).add(Tag.NumberOfOrders, n);
    return m;
  };
  const X = (entries: [action: string, type: string, px: string, size: string | null, rpt: number][]): FixMessage => {
    const m = new FixMessage([[Tag.MsgType, 'X'], [Tag.NoMDEntries, String(entries.length)]]);
    for (const [a, t, p, q, r] of entries) {
      m.add(Tag.MDUpdateAction, a).add(Tag.MDEntryType, t).add(Tag.Symbol, 'S').add(Tag.MDEntryPx, p);
      if (q !== null) m.add(Tag.MDEntrySize, q).add(Tag.NumberOfOrders, 1);
      m.add(Tag.RptSeq, r);
    }
    return m;
  };

  test('orders levels by exact decimal value, applies new/change/delete, ignores what the snapshot already holds', () => {
    const v = new BookView('S');
    assert.equal(v.apply(X([['0', '0', '1', '1', 1]])), 'ignored', 'no increments before a snapshot');
    v.apply(W(5, [['0', '9.5', '1', 1], ['0', '10', '2', 1], ['1', '10.25', '3', 1], ['1', '100', '1', 1]]));
    assert.deepEqual(v.bids().map((l) => l.price), ['10', '9.5']);
    assert.deepEqual(v.asks().map((l) => l.price), ['10.25', '100']);
    assert.equal(v.apply(X([['0', '0', '99', '1', 5]])), 'ignored');
    assert.equal(v.apply(X([['0', '0', '9.75', '4', 6], ['1', '1', '10.25', '1', 7], ['2', '1', '100', null, 8], ['0', '2', '10.25', '2', 9]])), 'applied');
    assert.deepEqual(v.bids(), [{ price: '10', qty: '2', orders: 1 }, { price: '9.75', qty: '4', orders: 1 }, { price: '9.5', qty: '1', orders: 1 }]);
    assert.deepEqual(v.asks(), [{ price: '10.25', qty: '1', orders: 1 }]);
    assert.deepEqual(v.trades, [{ price: '10.25', qty: '2', rptSeq: 9, time: '', aggressor: '' }]);
    assert.equal(v.rptSeq, 9);
    // a trade entry's time and aggressor (MDEntryTime 273, AggressorSide 2446) when the gateway sends them
    const trade = new FixMessage([[35, 'X'], [268, '1'], [279, '0'], [269, '2'], [55, 'S'], [270, '10.5'], [271, '3'],
      [272, '20261123'], [273, '01:02:03.456'], [83, '10'], [2446, '2']]);
    assert.equal(v.apply(trade), 'applied');
    assert.deepEqual(v.trades[1], { price: '10.5', qty: '3', rptSeq: 10, time: '01:02:03.456', aggressor: 'sell' });
  });

  test('a RptSeq gap or an inconsistent update is loss: not synced until the next snapshot', () => {
    const v = new BookView('S');
    v.apply(W(1, []));
    assert.equal(v.apply(X([['0', '0', '1', '1', 3]])), 'gap');
    assert.equal(v.synced, false);
    assert.equal(v.apply(X([['0', '0', '1', '1', 4]])), 'ignored');
    v.apply(W(4, [['0', '1', '1', 1]]));
    assert.equal(v.synced, true);
    assert.equal(v.apply(X([['1', '0', '2', '1', 5]])), 'gap', 'a change of a level it does not have');
    assert.equal(v.gaps, 2);
  });

  test('a snapshot without RptSeq (the gateway\'s W): the first increment sets the count', () => {
    const v = new BookView('S');
    const w = W(0, [['1', '5', '1', 1]]);
    w.remove(Tag.RptSeq);
    v.apply(w);
    assert.equal(v.apply(X([['1', '1', '5', '2', 17]])), 'applied');
    assert.equal(v.apply(X([['0', '0', '4', '1', 19]])), 'gap');
  });

  test('compareDecimal', () => {
    const sorted = ['0.001', '0.01', '0.1', '1', '1.0001', '9.99', '10', '010.5', '100'];
    assert.deepEqual([...sorted].reverse().sort(compareDecimal), sorted);
    assert.equal(compareDecimal('1.50', '1.5'), 0);
  });
});
