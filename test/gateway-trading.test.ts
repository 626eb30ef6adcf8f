// Order entry, execution reports, the order tracker and market data, on a
// real engine: FIX messages go through OrderEntry, the commands it makes
// through the log's codec (as submit() does) into the engine, and every
// resulting {seq, ts, origin, cmd, events} through ReportBuilder and
// MarketData, as the server wires them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createEngine, type Command, type Engine } from '../engine/index.js';
import { BUY, SELL, type Side } from '../native/ladder.js';
import { prepareCommand } from '../log/codec.js';
import { BusyError, InvalidCommandError } from '../log/errors.js';
import type { Committed } from '../log/sequencer.js';
import { FixMessage, Tag } from '../gateway/fix/message.js';
import { OrderEntry, BUSY_TEXT } from '../gateway/order-entry.js';
import { OrderTracker } from '../gateway/orders.js';
import { ReportBuilder, avgPx, utcTimestamp, AVGPX_EXTRA_DECIMALS } from '../gateway/reports.js';
import { MarketData, type MdSink } from '../gateway/market-data.js';
import { SecurityLists } from '../gateway/security-list.js';
import { decodeTagValue, encodeTagValue, DEFAULT_MAX_FRAME } from '../gateway/fix/tagvalue.js';
import { decodeJson, encodeJson } from '../gateway/fix/json.js';
import { validate } from '../gateway/fix/validate.js';
import { INSTRUMENTS, streamArb } from './command-gen.js';
import { assertProperty } from './property.js';
import { applied } from './engine-helpers.js';

const RUNS = Math.max(20, Math.floor(Number(process.env.MATCHLOG_PROPERTY_RUNS ?? 3000) / 15));
const TS0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678) * 1000 + 901;
const ALL_LEVELS = 2000;

interface Out {
  account: string;
  msg: FixMessage;
}

function fix(type: string, fields: [number, string | number][]): FixMessage {
  const m = new FixMessage([[Tag.MsgType, type]]);
  for (const [t, v] of fields) m.add(t, v);
  return m;
}

/** The gateway's pure modules on a real engine, wired as the server wires them. */
class Gateway {
  readonly engine: Engine;
  seq = 0;
  tracker: OrderTracker;
  reports: ReportBuilder;
  md: MarketData;
  entry: OrderEntry;
  /** Everything sent to accounts, in order. */
  readonly sent: Out[] = [];
  readonly committed: Committed[] = [];

  constructor(opts: { maxOpenOrders?: number; engine?: Engine; seq?: number } = {}) {
    this.engine = opts.engine ?? createEngine();
    this.seq = opts.seq ?? 0;
    const snap = this.engine.snapshot();
    this.tracker = OrderTracker.fromSnapshot(snap);
    this.reports = new ReportBuilder(this.tracker);
    this.md = MarketData.fromSnapshot(snap, this.tracker.instruments, { highWaterBytes: 1000, lowWaterBytes: 100 });
    this.entry = new OrderEntry(this.tracker, { maxOpenOrders: opts.maxOpenOrders, clock: () => TS0 / 1000 });
  }

  /** A command as submit() takes it: through the log's codec, then the engine, then reports and market data. */
  commit(cmd: Command, origin = 'test'): Out[] {
    const prepared = prepareCommand(cmd);
    const seq = ++this.seq;
    const c: Committed = { seq, ts: TS0 + seq * 1000, origin, cmd: prepared, events: applied(this.engine, prepared, seq) };
    this.committed.push(c);
    const out: Out[] = [];
    this.reports.build(c, (account, msg) => out.push({ account, msg }));
    this.md.apply(c);
    this.sent.push(...out);
    return out;
  }

  /** A FIX message from a session of `account`: its answer, or the reports of the command it became. */
  send(account: string, msg: FixMessage, marketDataOnly = false): Out[] {
    const r = this.entry.handle(msg, { account, marketDataOnly });
    if (r instanceof FixMessage) {
      const out = [{ account, msg: r }];
      this.sent.push(...out);
      return out;
    }
    return this.commit(r, `session:${account}`);
  }

  /** An OrderMassStatusRequest (AF) from a session of `account`: answered at once, as the server routes it. */
  massStatus(account: string, msg: FixMessage, marketDataOnly = false): FixMessage[] {
    const seq = this.seq;
    const out = this.entry.massStatus(msg, { account, marketDataOnly });
    assert.equal(this.seq, seq, 'AF never reaches the engine');
    this.sent.push(...out.map((m) => ({ account, msg: m })));
    return out;
  }
}

function only(out: Out[], account: string, type?: string): FixMessage[] {
  return out.filter((o) => o.account === account && (type === undefined || o.msg.msgType === type)).map((o) => o.msg);
}

function fieldsOf(m: FixMessage, tags: number[]): Record<number, string | undefined> {
  const r: Record<number, string | undefined> = {};
  for (const t of tags) r[t] = m.get(t);
  return r;
}

/** The report's fields a client acts on. */
function er(m: FixMessage): Record<string, string | undefined> {
  return {
    type: m.msgType, execType: m.get(Tag.ExecType), ordStatus: m.get(Tag.OrdStatus), clOrdId: m.get(Tag.ClOrdID),
    orig: m.get(Tag.OrigClOrdID), orderQty: m.get(Tag.OrderQty), lastPx: m.get(Tag.LastPx), lastQty: m.get(Tag.LastQty),
    leaves: m.get(Tag.LeavesQty), cum: m.get(Tag.CumQty), avgPx: m.get(Tag.AvgPx),
  };
}

/** A tag=value frame from `35=…|…|` (BodyLength and CheckSum computed here). */
function frameOf(fields: string): string {
  const body = fields.split('|').filter((p) => p !== '').map((p) => `${p}\x01`).join('');
  const head = `8=FIX.4.4\x019=${Buffer.byteLength(body)}\x01`;
  let sum = 0;
  for (const b of Buffer.from(head + body)) sum += b;
  return `${head}${body}10=${String(sum % 256).padStart(3, '0')}\x01`;
}

const ETH = { op: 'instrument', symbol: 'ETH', tickSize: '1', lotSize: '1', minQty: '1', maxQty: '1000' } as const;

function newOrder(clOrdId: string, side: string, qty: string, price?: string, extra: [number, string][] = []): FixMessage {
  const f: [number, string][] = [[Tag.ClOrdID, clOrdId], [Tag.Symbol, 'ETH'], [Tag.Side, side], [Tag.OrderQty, qty], [Tag.OrdType, price === undefined ? '1' : '2']];
  if (price !== undefined) f.push([Tag.Price, price]);
  return fix('D', [...f, ...extra]);
}

// --- values ------------------------------------------------------------------

test('TransactTime: epoch microseconds as UTCTimestamp with milliseconds, truncated', () => {
  assert.equal(utcTimestamp(TS0), '20240102-03:04:05.678');
  assert.equal(utcTimestamp(Date.UTC(1999, 11, 31, 23, 59, 59, 999) * 1000 + 999), '19991231-23:59:59.999');
  assert.equal(utcTimestamp(Date.UTC(2030, 5, 7, 8, 9, 10, 5) * 1000), '20300607-08:09:10.005');
});

test('AvgPx: exact when the division terminates, else half-even at the documented decimals; never a float', () => {
  const unit = (mantissa: number, scale: number, text: string) => ({ mantissa, scale, text });
  const tick1 = unit(1, 0, '1');
  const cent = unit(1, 2, '0.01');
  assert.equal(avgPx(0, 0, tick1), '0');
  assert.equal(avgPx(300, 3, tick1), '100');
  // 1 @ 100 + 2 @ 101: 302 / 3 = 100.666... (8 decimals beyond a tick of 1)
  assert.equal(AVGPX_EXTRA_DECIMALS, 8);
  assert.equal(avgPx(302, 3, tick1), '100.66666667');
  assert.equal(avgPx(301, 3, tick1), '100.33333333');
  // terminating but longer than the rounding would keep: exact
  assert.equal(avgPx(1, 1024, tick1), '0.0009765625');
  // 100.00000001 @ 65000.01 on tick 0.01, lot 1e-8: 6500001 ticks x 10000000001 lots > 2^53
  const n = 6_500_001n * 10_000_000_001n;
  assert.equal(avgPx(n, 10_000_000_001, cent), '65000.01');
  // two fills whose average is not a whole tick, notional past 2^53
  const n2 = 6_500_001n * 10_000_000_001n + 6_500_002n * 10_000_000_000n;
  // = 6500001.499999999975 ticks: 10 decimals (2 + 8) round it to 65000.0150000000
  assert.equal(avgPx(n2, 20_000_000_001, cent), '65000.015');
  assert.equal(avgPx(n2 - 1n, 20_000_000_001, cent), '65000.015');
  // 65000.01499999994975...: rounds down at the 10th decimal; 65000.01499949999975...
  assert.equal(avgPx(n2 - 100n, 20_000_000_001, cent), '65000.0149999999');
  assert.equal(avgPx(n2 - 1_000_000n, 20_000_000_001, cent), '65000.0149995');
});

test('AvgPx: the safe-integer path and the bigint path agree, and each result is exact or within half a unit', (t) => {
  const arb = fc.record({
    n: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.maxSafeNat()),
    q: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 2 ** 50 }), fc.constantFrom(1024, 3, 7, 2 ** 48, 2 ** 49 - 1, 2 ** 49, 3 * 2 ** 40)),
    mantissa: fc.constantFrom(1, 5, 25, 1),
    scale: fc.integer({ min: 0, max: 8 }),
  });
  assertProperty(t, fc.property(arb, ({ n, q, mantissa, scale }) => {
    const tick = { mantissa, scale, text: '' };
    const fast = avgPx(n, q, tick);
    assert.equal(fast, avgPx(BigInt(n), q, tick), `avgPx(${n}, ${q}, ${mantissa}e-${scale})`);
    const avg = dec(fast);
    const exact = { m: BigInt(n) * BigInt(mantissa), e: scale };
    const diff = sub({ m: avg.m * BigInt(q), e: avg.e }, exact);
    if (diff.m === 0n) return;
    assert.ok(!terminates(exact, { m: BigInt(q), e: 0 }), `${fast} is not exact for a terminating average`);
    assert.ok(avg.e <= scale + AVGPX_EXTRA_DECIMALS);
    assert.ok(cmp(abs(diff), { m: BigInt(q) * 5n, e: scale + AVGPX_EXTRA_DECIMALS + 1 }) <= 0, `${fast} off by more than half a unit`);
  }), { numRuns: 20_000 });
});

// --- lifecycle -----------------------------------------------------------------

test('fills on both sides: maker and taker each get their reports, partial then filled, LastPx/LastQty, exact AvgPx', () => {
  const gw = new Gateway();
  gw.commit(ETH, 'config');
  let out = gw.send('alice', newOrder('a1', '2', '10', '1600'));
  assert.deepEqual(only(out, 'alice').map(er), [{ type: '8', execType: '0', ordStatus: '0', clOrdId: 'a1', orig: undefined, orderQty: '10', lastPx: undefined, lastQty: undefined, leaves: '10', cum: '0', avgPx: '0' }]);
  const a1 = only(out, 'alice')[0];
  assert.deepEqual(fieldsOf(a1, [Tag.OrderID, Tag.ExecID, Tag.Side, Tag.Symbol, Tag.OrdType, Tag.Price, Tag.TimeInForce, Tag.Account, Tag.TransactTime]), {
    [Tag.OrderID]: '2', [Tag.ExecID]: '2.0', [Tag.Side]: '2', [Tag.Symbol]: 'ETH', [Tag.OrdType]: '2', [Tag.Price]: '1600',
    [Tag.TimeInForce]: '1', [Tag.Account]: 'alice', [Tag.TransactTime]: utcTimestamp(TS0 + 2000),
  });

  // bob takes 4: bob new + filled; alice (the maker, someone else's command) partially filled
  out = gw.send('bob', newOrder('b1', '1', '4', '1605'));
  assert.deepEqual(only(out, 'bob').map(er), [
    { type: '8', execType: '0', ordStatus: '0', clOrdId: 'b1', orig: undefined, orderQty: '4', lastPx: undefined, lastQty: undefined, leaves: '4', cum: '0', avgPx: '0' },
    { type: '8', execType: 'F', ordStatus: '2', clOrdId: 'b1', orig: undefined, orderQty: '4', lastPx: '1600', lastQty: '4', leaves: '0', cum: '4', avgPx: '1600' },
  ]);
  assert.deepEqual(only(out, 'alice').map(er), [
    { type: '8', execType: 'F', ordStatus: '1', clOrdId: 'a1', orig: undefined, orderQty: '10', lastPx: '1600', lastQty: '4', leaves: '6', cum: '4', avgPx: '1600' },
  ]);
  assert.equal(only(out, 'alice')[0].get(Tag.LastLiquidityInd), '1');
  assert.equal(only(out, 'bob')[1].get(Tag.LastLiquidityInd), '2');
  assert.equal(only(out, 'alice')[0].get(Tag.ExecID), '3.1.m');
  assert.equal(only(out, 'bob')[1].get(Tag.ExecID), '3.1');

  // alice adds 1601; bob sweeps both levels partially: alice's two orders, then bob rests the rest
  gw.send('alice', newOrder('a2', '2', '5', '1601'));
  out = gw.send('bob', newOrder('b2', '1', '13', '1601'));
  assert.deepEqual(only(out, 'alice').map((m) => [m.get(Tag.ClOrdID), m.get(Tag.OrdStatus), m.get(Tag.LastQty), m.get(Tag.CumQty), m.get(Tag.LeavesQty)]), [
    ['a1', '2', '6', '10', '0'], ['a2', '2', '5', '5', '0'],
  ]);
  assert.deepEqual(only(out, 'bob').map((m) => [m.get(Tag.ExecType), m.get(Tag.OrdStatus), m.get(Tag.LastPx), m.get(Tag.CumQty), m.get(Tag.LeavesQty), m.get(Tag.AvgPx)]), [
    ['0', '0', undefined, '0', '13', '0'],
    ['F', '1', '1600', '6', '7', '1600'],
    ['F', '1', '1601', '11', '2', '1600.45454545'], // 17605 / 11, not terminating
  ]);
  assert.equal(gw.tracker.find('bob', 'b2')?.leavesQty, 2);
  assert.equal(gw.tracker.find('alice', 'a1'), undefined);
});

test('100.00000001 @ 65000.01 on tick 0.01, lot 0.00000001: CumQty, LeavesQty and AvgPx exact past 2^53', () => {
  const gw = new Gateway();
  gw.commit({ op: 'instrument', symbol: 'BTC', tickSize: '0.01', lotSize: '0.00000001' }, 'config');
  const d = (id: string, side: '1' | '2', qty: string, px: string) => fix('D', [[Tag.ClOrdID, id], [Tag.Symbol, 'BTC'], [Tag.Side, side], [Tag.OrderQty, qty], [Tag.OrdType, '2'], [Tag.Price, px]]);
  gw.send('alice', d('s1', '2', '100.00000001', '65000.01'));
  gw.send('alice', d('s2', '2', '100', '65000.02'));
  let out = gw.send('bob', d('b1', '1', '300', '65000.02'));
  const bob = only(out, 'bob').map(er);
  assert.deepEqual(bob.slice(1).map((r) => [r.lastPx, r.lastQty, r.cum, r.leaves, r.avgPx]), [
    ['65000.01', '100.00000001', '100.00000001', '199.99999999', '65000.01'],
    // (6500001 x 10000000001 + 6500002 x 10000000000) / 20000000001 ticks = 6500001.499999999975 ticks, 10 decimals
    ['65000.02', '100', '200.00000001', '99.99999999', '65000.015'],
  ]);
  assert.deepEqual(only(out, 'alice').map(er).map((r) => [r.clOrdId, r.ordStatus, r.cum, r.avgPx]), [['s1', '2', '100.00000001', '65000.01'], ['s2', '2', '100', '65000.02']]);
  // the rest of bob is cancelled: LeavesQty 0, CumQty kept, AvgPx kept
  out = gw.send('bob', fix('F', [[Tag.OrigClOrdID, 'b1'], [Tag.ClOrdID, 'b1x'], [Tag.Symbol, 'BTC'], [Tag.Side, '1']]));
  assert.deepEqual(only(out, 'bob').map(er), [{ type: '8', execType: '4', ordStatus: '4', clOrdId: 'b1x', orig: 'b1', orderQty: '300', lastPx: undefined, lastQty: undefined, leaves: '0', cum: '200.00000001', avgPx: '65000.015' }]);
  assert.match(only(out, 'bob')[0].get(Tag.Text) ?? '', /^user: /);

  // an average with more decimals than rounding would keep is exact when it terminates: 9216000000001025 / 1024 ticks
  gw.commit({ op: 'instrument', symbol: 'BIG', tickSize: '1', lotSize: '1' }, 'config');
  const big = (id: string, side: '1' | '2', qty: string, px: string) => fix('D', [[Tag.ClOrdID, id], [Tag.Symbol, 'BIG'], [Tag.Side, side], [Tag.OrderQty, qty], [Tag.OrdType, '2'], [Tag.Price, px]]);
  gw.send('alice', big('k1', '2', '1023', '9000000000001'));
  gw.send('alice', big('k2', '2', '1', '9000000000002'));
  out = gw.send('bob', big('k3', '1', '1024', '9000000000002'));
  const n = 1023n * 9000000000001n + 9000000000002n;
  assert.ok(n > BigInt(Number.MAX_SAFE_INTEGER));
  assert.equal(`${n / 1024n}.${String((n % 1024n) * 10n ** 10n / 1024n).padStart(10, '0')}`, '9000000000001.0009765625');
  assert.equal(only(out, 'bob').at(-1)?.get(Tag.AvgPx), '9000000000001.0009765625');
});

test('cancel, replace keeping and losing priority, replace that trades, mass cancel, status', () => {
  const gw = new Gateway();
  gw.commit(ETH, 'config');
  gw.send('alice', newOrder('a1', '1', '10', '100'));
  gw.send('carol', newOrder('c1', '1', '10', '100'));
  // quantity down at the same price: keeps its place ahead of carol
  let out = gw.send('alice', fix('G', [[Tag.OrigClOrdID, 'a1'], [Tag.ClOrdID, 'a1b'], [Tag.Symbol, 'ETH'], [Tag.Side, '1'], [Tag.OrderQty, '8'], [Tag.OrdType, '2'], [Tag.Price, '100']]));
  assert.deepEqual(only(out, 'alice').map(er), [{ type: '8', execType: '5', ordStatus: '0', clOrdId: 'a1b', orig: 'a1', orderQty: '8', lastPx: undefined, lastQty: undefined, leaves: '8', cum: '0', avgPx: '0' }]);
  out = gw.send('bob', newOrder('b1', '2', '3', '100'));
  assert.equal(only(out, 'alice').length, 1, 'alice (kept priority) is hit first');
  assert.equal(only(out, 'carol').length, 0);
  // quantity up: loses priority; alice is now behind carol
  out = gw.send('alice', fix('G', [[Tag.OrigClOrdID, 'a1b'], [Tag.ClOrdID, 'a1c'], [Tag.Side, '1'], [Tag.OrderQty, '20'], [Tag.OrdType, '2']]));
  assert.deepEqual(only(out, 'alice').map(er), [{ type: '8', execType: '5', ordStatus: '1', clOrdId: 'a1c', orig: 'a1b', orderQty: '20', lastPx: undefined, lastQty: undefined, leaves: '17', cum: '3', avgPx: '100' }]);
  out = gw.send('bob', newOrder('b2', '2', '2', '100'));
  assert.deepEqual(only(out, 'carol').map(er).map((r) => [r.clOrdId, r.ordStatus, r.cum]), [['c1', '1', '2']]);
  assert.equal(only(out, 'alice').length, 0);
  // a replace whose new price crosses trades like a new aggressor: replaced, then fills
  gw.send('bob', newOrder('b3', '2', '5', '102'));
  out = gw.send('alice', fix('G', [[Tag.OrigClOrdID, 'a1c'], [Tag.ClOrdID, 'a1d'], [Tag.Side, '1'], [Tag.OrderQty, '20'], [Tag.OrdType, '2'], [Tag.Price, '102']]));
  assert.deepEqual(only(out, 'alice').map(er).map((r) => [r.execType, r.ordStatus, r.clOrdId, r.lastPx, r.lastQty, r.cum, r.leaves, r.avgPx]), [
    ['5', '1', 'a1d', undefined, undefined, '3', '17', '100'],
    ['F', '1', 'a1d', '102', '5', '8', '12', '101.25'],
  ]);
  assert.deepEqual(only(out, 'bob').map(er).map((r) => [r.clOrdId, r.ordStatus]), [['b3', '2']]);
  // status of a live order, and of an unknown one
  out = gw.send('alice', fix('H', [[Tag.ClOrdID, 'a1d'], [Tag.Side, '1'], [Tag.Symbol, 'ETH'], [Tag.OrdStatusReqID, 'q1']]));
  assert.deepEqual(only(out, 'alice').map(er), [{ type: '8', execType: 'I', ordStatus: '1', clOrdId: 'a1d', orig: undefined, orderQty: '20', lastPx: undefined, lastQty: undefined, leaves: '12', cum: '8', avgPx: '101.25' }]);
  assert.equal(only(out, 'alice')[0].get(Tag.OrdStatusReqID), 'q1');
  assert.equal(only(out, 'alice')[0].get(Tag.ExecID), '0');
  out = gw.send('bob', fix('H', [[Tag.ClOrdID, 'a1d'], [Tag.Side, '1'], [Tag.Symbol, 'ETH']]));
  assert.deepEqual([only(out, 'bob')[0].get(Tag.ExecType), only(out, 'bob')[0].get(Tag.OrdStatus)], ['I', '8'], "another account's order is unknown");
  // mass cancel: a cancel report per order (oldest first), then the summary
  gw.send('alice', newOrder('a2', '1', '1', '90'));
  gw.send('alice', fix('D', [[Tag.ClOrdID, 'a3'], [Tag.Symbol, 'ETH'], [Tag.Side, '2'], [Tag.OrderQty, '1'], [Tag.OrdType, '2'], [Tag.Price, '120']]));
  out = gw.send('alice', fix('q', [[Tag.ClOrdID, 'm1'], [Tag.MassCancelRequestType, '7']]));
  assert.deepEqual(only(out, 'alice').map((m) => [m.msgType, m.get(Tag.ExecType) ?? m.get(Tag.MassCancelResponse), m.get(Tag.ClOrdID), m.get(Tag.LeavesQty) ?? m.get(Tag.TotalAffectedOrders)]), [
    ['8', '4', 'a1d', '0'], ['8', '4', 'a2', '0'], ['8', '4', 'a3', '0'], ['r', '7', 'm1', '3'],
  ]);
  assert.match(only(out, 'alice')[0].get(Tag.Text) ?? '', /^mass: /);
  assert.equal(gw.tracker.openOrders('alice'), 0);
  out = gw.send('carol', fix('q', [[Tag.ClOrdID, 'm2'], [Tag.MassCancelRequestType, '1'], [Tag.Symbol, 'ETH']]));
  assert.deepEqual(only(out, 'carol').map((m) => [m.msgType, m.get(Tag.MassCancelRequestType), m.get(Tag.MassCancelResponse), m.get(Tag.TotalAffectedOrders), m.get(Tag.Symbol)]), [
    ['8', undefined, undefined, undefined, 'ETH'], ['r', '1', '1', '1', 'ETH'],
  ]);
});

test('OrderMassStatusRequest (AF): exactly the account\'s live orders, in orderId order, each as H answers it plus 584/911/912; by symbol; none; refusals', () => {
  const gw = new Gateway();
  gw.commit(ETH, 'config');
  gw.commit({ op: 'instrument', symbol: 'BTC', tickSize: '0.5', lotSize: '0.001', minQty: '0.001', maxQty: '100' }, 'config');
  const btc = (clOrdId: string, side: string, qty: string, price: string, extra: [number, string][] = []) =>
    fix('D', [[Tag.ClOrdID, clOrdId], [Tag.Symbol, 'BTC'], [Tag.Side, side], [Tag.OrderQty, qty], [Tag.OrdType, '2'], [Tag.Price, price], ...extra]);
  const af = (reqId: string, type: string, extra: [number, string][] = []) => fix('AF', [[Tag.MassStatusReqID, reqId], [Tag.MassStatusReqType, type], ...extra]);
  const h = (o: FixMessage) => fix('H', [[Tag.ClOrdID, o.get(Tag.ClOrdID) as string], [Tag.Side, o.get(Tag.Side) as string], [Tag.Symbol, o.get(Tag.Symbol) as string]]);
  const without = (m: FixMessage, tags: number[]) => m.fields.filter(([t]) => !tags.includes(t));

  // nothing live yet: the one "no orders" report
  let r = gw.massStatus('alice', af('s0', '7'));
  assert.equal(r.length, 1);
  assert.equal(r[0].toString(), new FixMessage([[35, '8'], [37, 'NONE'], [17, '0'], [150, 'I'], [39, '8'], [1, 'alice'], [54, '7'], [151, '0'], [14, '0'], [6, '0'],
    [60, utcTimestamp(TS0)], [584, 's0'], [911, '0'], [912, 'Y'], [58, 'no live orders']]).toString());

  gw.send('alice', newOrder('a1', '1', '10', '100'));                                  // partly filled below
  gw.send('alice', btc('a2', '2', '0.25', '60000.5', [[Tag.ExecInst, '6']]));           // post-only
  gw.send('alice', newOrder('a3', '2', '5', '120'));                                   // replaced below
  gw.send('alice', newOrder('a4', '1', '3', '90'));                                    // cancelled below
  gw.send('alice', newOrder('a5', '1', '2', '95'));                                    // filled below
  gw.send('bob', newOrder('b1', '1', '7', '85'));                                      // someone else's
  gw.send('bob', newOrder('b2', '2', '4', '100'));                                     // fills 4 of a1 (the best bid)
  gw.send('alice', fix('G', [[Tag.OrigClOrdID, 'a3'], [Tag.ClOrdID, 'a3b'], [Tag.Side, '2'], [Tag.OrderQty, '6'], [Tag.OrdType, '2'], [Tag.Price, '121']]));
  gw.send('alice', fix('F', [[Tag.OrigClOrdID, 'a4'], [Tag.ClOrdID, 'a4x'], [Tag.Side, '1']]));
  gw.send('bob', newOrder('b3', '2', '8', '95'));                                      // the rest of a1 (6) and all of a5 (2)
  gw.send('alice', newOrder('a6', '1', '1', '86'));
  gw.send('dave', newOrder('d1', '2', '1', '86'));                                     // a6 filled
  gw.send('alice', newOrder('a6', '1', '1', '81'));                                    // the ClOrdID is free again: a new order
  const live = gw.tracker.liveOrders('alice');
  assert.deepEqual(live.map((o) => [o.clOrdId, o.price]), [['a2', 120001], ['a3b', 121], ['a6', 81]], 'the engine\'s live orders of alice (prices in ticks)');

  r = gw.massStatus('alice', af('s1', '7'));
  assert.deepEqual(r.map((m) => [m.get(Tag.ClOrdID), m.get(Tag.OrderID), m.get(Tag.ExecType), m.get(Tag.OrdStatus), m.get(Tag.ExecID),
    m.get(Tag.MassStatusReqID), m.get(Tag.TotNumReports), m.get(Tag.LastRptRequested)]), [
    ['a2', String(live[0].orderId), 'I', '0', '0', 's1', '3', 'N'],
    ['a3b', String(live[1].orderId), 'I', '0', '0', 's1', '3', 'N'],
    ['a6', String(live[2].orderId), 'I', '0', '0', 's1', '3', 'Y'],
  ]);
  // each is H's answer for that order, plus the three mass-status fields at the end
  for (const m of r) {
    const status = gw.entry.handle(h(m), { account: 'alice', marketDataOnly: false }) as FixMessage;
    assert.deepEqual(without(m, [Tag.MassStatusReqID, Tag.TotNumReports, Tag.LastRptRequested]), status.fields, m.get(Tag.ClOrdID));
    assert.deepEqual(m.fields.slice(-3).map(([t]) => t), [584, 911, 912]);
  }
  assert.match(r[0].toString(), /\|37=\d+\|11=a2\|17=0\|150=I\|39=0\|1=alice\|55=BTC\|54=2\|38=0\.25\|40=2\|44=60000\.5\|59=1\|18=6\|151=0\.25\|14=0\|6=0\|60=/);

  // a partly filled order is listed with its fills (OrdStatus 1, CumQty, exact AvgPx)
  gw.send('bob', newOrder('b5', '2', '2', '121'));
  gw.send('bob', newOrder('b6', '1', '1', '121'));
  gw.send('bob', newOrder('b7', '1', '1', '122'));
  r = gw.massStatus('alice', af('s2', '1', [[Tag.Symbol, 'ETH']]));
  assert.deepEqual(r.map((m) => [m.get(Tag.ClOrdID), m.get(Tag.Symbol), m.get(Tag.OrdStatus), m.get(Tag.LeavesQty), m.get(Tag.CumQty), m.get(Tag.AvgPx),
    m.get(Tag.TotNumReports), m.get(Tag.LastRptRequested)]), [
    ['a3b', 'ETH', '1', '4', '2', '121', '2', 'N'],
    ['a6', 'ETH', '0', '1', '0', '0', '2', 'Y'],
  ]);
  r = gw.massStatus('alice', af('s3', '1', [[Tag.Symbol, 'BTC'], [Tag.Account, 'alice']]));
  assert.deepEqual(r.map((m) => [m.get(Tag.ClOrdID), m.get(Tag.TotNumReports), m.get(Tag.LastRptRequested)]), [['a2', '1', 'Y']]);
  // bob sees his own only; carol (nothing ever) and bob by a symbol he has nothing in get the "no orders" report
  assert.deepEqual(gw.massStatus('bob', af('s4', '7')).map((m) => [m.get(Tag.ClOrdID), m.get(Tag.LastRptRequested)]), [['b1', 'N'], ['b5', 'Y']]);
  r = gw.massStatus('bob', af('s5', '1', [[Tag.Symbol, 'BTC']]));
  assert.deepEqual(r.map((m) => [m.get(Tag.OrderID), m.get(Tag.ExecType), m.get(Tag.OrdStatus), m.get(Tag.Symbol), m.get(Tag.Side), m.get(Tag.TotNumReports), m.get(Tag.LastRptRequested), m.get(Tag.Text)]),
    [['NONE', 'I', '8', 'BTC', '7', '0', 'Y', 'no live orders in BTC']]);
  assert.equal(gw.massStatus('carol', af('s6', '7'))[0].get(Tag.OrderID), 'NONE');

  // refusals, each one BusinessMessageReject naming the request
  const j = (account: string, msg: FixMessage, mdOnly = false) => {
    const out = gw.massStatus(account, msg, mdOnly);
    assert.equal(out.length, 1);
    const m = out[0];
    assert.equal(m.msgType, 'j');
    return [m.get(Tag.RefMsgType), m.get(Tag.BusinessRejectRefID), m.get(Tag.BusinessRejectReason), m.get(Tag.Text)];
  };
  assert.deepEqual(j('viewer', af('v1', '7'), true), ['AF', 'v1', '6', 'account viewer is market-data-only: it cannot trade']);
  assert.deepEqual(j('alice', af('x1', '7', [[Tag.Account, 'bob']])), ['AF', 'x1', '6', 'Account (1) bob is not this session\'s account alice']);
  for (const type of ['2', '3', '4', '5', '6', '8']) {
    assert.deepEqual(j('alice', af('x2', type)), ['AF', 'x2', '0', `MassStatusReqType (585) ${type} is not supported; supported: 7 all orders, 1 orders of one Symbol (55)`]);
  }
  assert.deepEqual(j('alice', af('x3', '1')), ['AF', 'x3', '5', 'Symbol (55) is required with MassStatusReqType (585) 1']);
  assert.deepEqual(j('alice', af('x4', '1', [[Tag.Symbol, 'NOPE']])), ['AF', 'x4', '2', 'unknown symbol: NOPE']);
  assert.deepEqual(j('alice', af('x5', '7', [[Tag.Symbol, 'ETH']]))[2], '0');

  // the session layer: 584 and 585 are required, 585 is one of FIX's values, other AF fields are not taken
  const rejected = (body: string) => {
    const d = decodeTagValue(frameOf(`35=AF|49=alice|56=MATCHLOG|34=2|52=20240102-03:04:05.678|${body}`));
    assert.equal(d.ok, false);
    assert.ok(d.kind === 'reject', body);
    return [d.rejection.reason, d.rejection.refTagId];
  };
  assert.deepEqual(rejected('585=7|'), [1, 584]);
  assert.deepEqual(rejected('584=s|'), [1, 585]);
  assert.deepEqual(rejected('584=s|585=9|'), [5, 585]);
  assert.deepEqual(rejected('584=s|585=7|54=1|'), [2, 54]);
  assert.deepEqual(rejected('584=s|585=7|336=X|'), [2, 336]);
  assert.deepEqual(rejected('584=s|585=7|660=1|'), [0, 660]);
  const ok = decodeTagValue(frameOf('35=AF|49=alice|56=MATCHLOG|34=2|52=20240102-03:04:05.678|584=s|585=1|1=alice|55=ETH|'));
  assert.ok(ok.ok);
  // both encodings: the same request as FIX JSON decodes to the same message
  const json = decodeJson(JSON.stringify({ Header: { MsgType: 'AF', SenderCompID: 'alice', TargetCompID: 'MATCHLOG', MsgSeqNum: '2', SendingTime: '20240102-03:04:05.678' },
    Body: { MassStatusReqID: 's', MassStatusReqType: '1', Account: 'alice', Symbol: 'ETH' } }));
  assert.ok(json.ok);
  assert.deepEqual(json.msg.fields.filter(([t]) => t >= 584 || t === 1 || t === 55), ok.msg.fields.filter(([t]) => t >= 584 || t === 1 || t === 55));
  // and every report encodes and decodes in both (fields and values the dictionary has)
  for (const m of [...gw.massStatus('alice', af('e1', '7')), ...gw.massStatus('carol', af('e2', '7'))]) {
    const full = fix('8', []);
    for (const [t, v] of [[49, 'MATCHLOG'], [56, 'alice'], [34, '9'], [52, '20240102-03:04:05.678']] as [number, string][]) full.add(t, v);
    for (const [t, v] of m.fields.slice(1)) full.add(t, v);
    const back = decodeTagValue(encodeTagValue(full));
    assert.ok(back.ok, back.ok ? '' : JSON.stringify(back));
    const backJson = decodeJson(encodeJson(full));
    assert.ok(backJson.ok, backJson.ok ? '' : JSON.stringify(backJson));
  }
});

test('engine rejections: ExecutionReport 8/8 with OrdRejReason and the engine reason and text in Text', () => {
  const gw = new Gateway();
  gw.commit({ ...ETH, priceBand: '0.1', referencePrice: '100' }, 'config');
  gw.send('alice', newOrder('live', '1', '1', '100'));
  const cases: [FixMessage, string, RegExp][] = [
    [fix('D', [[Tag.ClOrdID, 'r1'], [Tag.Symbol, 'NOPE'], [Tag.Side, '1'], [Tag.OrderQty, '1'], [Tag.OrdType, '2'], [Tag.Price, '100']]), '1', /^unknown_symbol: unknown symbol NOPE/],
    [newOrder('live', '1', '1', '100'), '6', /^duplicate_clordid: /],
    [newOrder('r3', '1', '5000', '100'), '13', /^qty_out_of_range: /],
    [newOrder('r4', '1', '1', '100.5'), '99', /^off_tick: /],
    [newOrder('r5', '1', '1', '150'), '99', /^price_out_of_band: /],
    [newOrder('r6', '2', '1', '100', [[Tag.ExecInst, '6']]), '99', /^post_only_would_cross: /],
    [newOrder('r7', '1', 'abc', '100'), '99', /^invalid_order: /],
    [newOrder('r8', '1', '1', undefined, [[Tag.Price, '100']]), '99', /^invalid_order: a market order takes no price/],
  ];
  for (const [msg, code, text] of cases) {
    const out = gw.send('alice', msg);
    assert.equal(gw.committed.at(-1)?.cmd.op, 'new', 'an engine rejection is logged');
    const r = only(out, 'alice');
    assert.equal(r.length, 1, msg.toString());
    assert.deepEqual([r[0].get(Tag.ExecType), r[0].get(Tag.OrdStatus), r[0].get(Tag.OrdRejReason), r[0].get(Tag.OrderID), r[0].get(Tag.ClOrdID)],
      ['8', '8', code, 'NONE', msg.get(Tag.ClOrdID)], msg.toString());
    assert.match(r[0].get(Tag.Text) ?? '', text);
    assert.match(r[0].get(Tag.ExecID) ?? '', /^\d+\.0$/);
  }
  gw.commit({ op: 'halt', symbol: 'ETH' }, 'operator');
  const out = gw.send('alice', newOrder('r9', '1', '1', '100'));
  assert.equal(only(out, 'alice')[0].get(Tag.OrdRejReason), '2');
});

test('cancel rejects: unknown order (also another account\'s), a replace the engine refuses, CxlRejResponseTo 1 / 2', () => {
  const gw = new Gateway();
  gw.commit(ETH, 'config');
  gw.send('alice', newOrder('a1', '1', '5', '100'));
  const f = (orig: string, id: string) => fix('F', [[Tag.OrigClOrdID, orig], [Tag.ClOrdID, id], [Tag.Symbol, 'ETH'], [Tag.Side, '1']]);
  const g = (orig: string, id: string, qty: string, px: string) => fix('G', [[Tag.OrigClOrdID, orig], [Tag.ClOrdID, id], [Tag.Symbol, 'ETH'], [Tag.Side, '1'], [Tag.OrderQty, qty], [Tag.OrdType, '2'], [Tag.Price, px]]);
  const cxl = (m: FixMessage) => [m.msgType, m.get(Tag.OrderID), m.get(Tag.ClOrdID), m.get(Tag.OrigClOrdID), m.get(Tag.OrdStatus), m.get(Tag.CxlRejResponseTo), m.get(Tag.CxlRejReason)];
  assert.deepEqual(only(gw.send('alice', f('zz', 'x1')), 'alice').map(cxl), [['9', 'NONE', 'x1', 'zz', '8', '1', '1']]);
  assert.deepEqual(only(gw.send('bob', f('a1', 'x2')), 'bob').map(cxl), [['9', 'NONE', 'x2', 'a1', '8', '1', '1']]);
  assert.equal(gw.tracker.find('alice', 'a1')?.leavesQty, 5, "bob cannot cancel alice's order");
  const out = gw.send('alice', g('a1', 'x3', '5', '100.5'));
  assert.deepEqual(only(out, 'alice').map(cxl), [['9', '2', 'x3', 'a1', '0', '2', '99']]);
  assert.match(only(out, 'alice')[0].get(Tag.Text) ?? '', /^off_tick: /);
  gw.commit({ op: 'halt', symbol: 'ETH' }, 'operator');
  assert.deepEqual(only(gw.send('alice', g('a1', 'x4', '4', '100')), 'alice').map(cxl), [['9', '2', 'x4', 'a1', '0', '2', '2']]);
  assert.deepEqual(only(gw.send('alice', g('zz', 'x5', '4', '100')), 'alice').map(cxl), [['9', 'NONE', 'x5', 'zz', '8', '2', '1']]);
  // cancels are taken while halted
  assert.deepEqual(only(gw.send('alice', f('a1', 'x6')), 'alice').map(er).map((r) => [r.execType, r.ordStatus, r.orig]), [['4', '4', 'a1']]);
  // a second cancel of the same order: unknown (no longer live)
  assert.deepEqual(only(gw.send('alice', f('a1', 'x7')), 'alice').map(cxl), [['9', 'NONE', 'x7', 'a1', '8', '1', '1']]);
});

test('answers given by order entry itself: FIX values the engine lacks, limits, busy, market-data-only, unsupported types', () => {
  const gw = new Gateway({ maxOpenOrders: 2 });
  gw.commit(ETH, 'config');
  const seqBefore = () => gw.seq;
  const local = (account: string, msg: FixMessage, mdOnly = false) => {
    const s = seqBefore();
    const out = gw.send(account, msg, mdOnly);
    assert.equal(gw.seq, s, `${msg.toString()} must not reach the engine`);
    assert.equal(out.length, 1);
    return out[0].msg;
  };
  const rej = (m: FixMessage) => [m.msgType, m.get(Tag.ExecType), m.get(Tag.OrdStatus), m.get(Tag.OrdRejReason), m.get(Tag.ExecID)];
  let m = local('alice', newOrder('d1', '1', '1', '100', [[Tag.TimeInForce, '0']]));
  assert.deepEqual(rej(m), ['8', '8', '8', '11', '0']);
  assert.match(m.get(Tag.Text) ?? '', /Day is not supported/);
  assert.deepEqual(rej(local('alice', newOrder('d2', '1', '1', '100', [[Tag.Account, 'bob']]))), ['8', '8', '8', '99', '0']);
  m = local('alice', newOrder('d3', '5', '1', '100'));
  assert.deepEqual([...rej(m), m.get(Tag.Side)], ['8', '8', '8', '11', '0', '5']);
  assert.deepEqual(rej(local('alice', newOrder('bad id', '1', '1', '100'))), ['8', '8', '8', '99', '0']);
  assert.deepEqual(rej(local('alice', newOrder('d4', '1', '1', '100', [[Tag.ExecInst, 'G']]))), ['8', '8', '8', '11', '0']);
  assert.deepEqual(rej(local('alice', newOrder('d5', '1', '1', '100', [[Tag.MinQty, '1']]))), ['8', '8', '8', '11', '0']);
  // the account tag may repeat the session's account
  assert.equal(only(gw.send('alice', newOrder('ok1', '1', '1', '100', [[Tag.Account, 'alice']])), 'alice')[0].get(Tag.ExecType), '0');
  // open orders: one live, one in flight (submitted, not committed) = the limit of 2
  const inflight = gw.entry.handle(newOrder('ok2', '1', '1', '100'), { account: 'alice', marketDataOnly: false });
  assert.ok(!(inflight instanceof FixMessage));
  m = local('alice', newOrder('ok3', '1', '1', '100'));
  assert.deepEqual(rej(m), ['8', '8', '8', '3', '0']);
  assert.match(m.get(Tag.Text) ?? '', /open orders limit/);
  // the in-flight one is refused by the sequencer (busy): released, and answered "busy: retry later"
  m = gw.entry.submitFailed(inflight, new BusyError(8));
  assert.deepEqual([...rej(m), m.get(Tag.Text), m.get(Tag.ClOrdID)], ['8', '8', '8', '99', '0', BUSY_TEXT, 'ok2']);
  assert.equal(gw.tracker.openOrders('alice'), 1);
  m = gw.entry.submitFailed({ op: 'cancel', account: 'alice', clOrdId: 'c9', origClOrdId: 'ok1' }, new BusyError(8));
  assert.deepEqual([m.msgType, m.get(Tag.CxlRejResponseTo), m.get(Tag.OrdStatus), m.get(Tag.Text)], ['9', '1', '0', BUSY_TEXT]);
  m = gw.entry.submitFailed({ op: 'massCancel', account: 'alice', clOrdId: 'm9' }, new InvalidCommandError('x'));
  assert.deepEqual([m.msgType, m.get(Tag.MassCancelResponse), m.get(Tag.MassCancelRejectReason)], ['r', '0', '99']);
  // market-data-only accounts cannot trade; unsupported types; unsupported mass cancel type
  m = local('viewer', newOrder('v1', '1', '1', '100'), true);
  assert.deepEqual([m.msgType, m.get(Tag.BusinessRejectReason), m.get(Tag.RefMsgType), m.get(Tag.BusinessRejectRefID)], ['j', '6', 'D', 'v1']);
  m = local('alice', fix('AE', [[Tag.MsgSeqNum, '7']]));
  assert.deepEqual([m.msgType, m.get(Tag.BusinessRejectReason), m.get(Tag.RefSeqNum)], ['j', '3', '7']);
  m = local('alice', fix('q', [[Tag.ClOrdID, 'm3'], [Tag.MassCancelRequestType, '3']]));
  assert.deepEqual([m.msgType, m.get(Tag.MassCancelResponse), m.get(Tag.MassCancelRejectReason)], ['r', '0', '0']);
  // cancel-on-disconnect: a mass cancel of the account's live orders, no summary report
  const cod = gw.entry.cancelOnDisconnect('alice');
  assert.deepEqual(cod, { op: 'massCancel', account: 'alice' });
  const out = gw.commit(cod as Command);
  assert.deepEqual(only(out, 'alice').map((x) => [x.msgType, x.get(Tag.ExecType)]), [['8', '4']]);
  assert.equal(gw.entry.cancelOnDisconnect('alice'), null);
  // an order still on its way to the log counts: the mass cancel is sequenced after it
  assert.ok(!(gw.entry.handle(newOrder('dv1', '1', '1', '100'), { account: 'dave', marketDataOnly: false }) instanceof FixMessage));
  assert.deepEqual(gw.entry.cancelOnDisconnect('dave'), { op: 'massCancel', account: 'dave' });
});

// --- market data ----------------------------------------------------------------

type LevelMap = Map<string, { qty: string; orders: string }>;

/** A market-data client: rebuilds the book from W and X, checks RptSeq, and can be slow. */
class MdClient implements MdSink {
  readonly books = new Map<string, { bids: LevelMap; asks: LevelMap }>();
  readonly rpt = new Map<string, number>();
  readonly trades: string[] = [];
  readonly received: FixMessage[] = [];
  pending = 0;
  /** RptSeq must step by exactly 1 between updates (a full-depth, all-types subscriber). */
  constructor(readonly strict: boolean) {}

  backlog(): number {
    return this.pending;
  }

  send(msg: FixMessage): void {
    this.received.push(msg);
    if (msg.msgType === 'W') {
      const symbol = msg.get(Tag.Symbol) as string;
      const book = { bids: new Map(), asks: new Map() } as { bids: LevelMap; asks: LevelMap };
      this.books.set(symbol, book);
      // W carries no RptSeq (FIX 4.4): the next X entry sets it
      this.rpt.delete(symbol);
      assert.equal(msg.get(Tag.RptSeq), undefined);
      let type = '';
      let px = '';
      let size = '';
      for (const [t, v] of msg.fields) {
        if (t === Tag.MDEntryType) type = v;
        else if (t === Tag.MDEntryPx) px = v;
        else if (t === Tag.MDEntrySize) size = v;
        else if (t === Tag.NumberOfOrders) (type === '0' ? book.bids : book.asks).set(px, { qty: size, orders: v });
      }
      return;
    }
    if (msg.msgType !== 'X') return;
    let e: Map<number, string> | null = null;
    const flush = () => {
      if (e !== null) this.entry(e);
    };
    for (const [t, v] of msg.fields) {
      if (t === Tag.MDUpdateAction) {
        flush();
        e = new Map();
      }
      e?.set(t, v);
    }
    flush();
  }

  private entry(e: Map<number, string>): void {
    const symbol = e.get(Tag.Symbol) as string;
    const rpt = Number(e.get(Tag.RptSeq));
    const last = this.rpt.get(symbol);
    if (last !== undefined && this.strict) assert.equal(rpt, last + 1, `${symbol}: RptSeq ${rpt} after ${last}`);
    else if (last !== undefined) assert.ok(rpt >= last, `${symbol}: RptSeq ${rpt} after ${last}`);
    this.rpt.set(symbol, rpt);
    const type = e.get(Tag.MDEntryType);
    if (type === '2') {
      this.trades.push(`${symbol} ${e.get(Tag.MDEntryPx)} ${e.get(Tag.MDEntrySize)}`);
      return;
    }
    const book = this.books.get(symbol);
    assert.ok(book !== undefined, 'an X before its W');
    const side = type === '0' ? book.bids : book.asks;
    const px = e.get(Tag.MDEntryPx) as string;
    const action = e.get(Tag.MDUpdateAction);
    if (action === '2') assert.ok(side.delete(px), `delete of a level not there: ${px}`);
    else {
      assert.equal(side.has(px), action === '1', `${action === '1' ? 'change of a missing' : 'new of an existing'} level ${px}`);
      side.set(px, { qty: e.get(Tag.MDEntrySize) as string, orders: e.get(Tag.NumberOfOrders) as string });
    }
  }
}

function mdRequest(reqId: string, symbols: string[], depth: number, types: string[], type = '1'): FixMessage {
  const f: [number, string | number][] = [[Tag.MDReqID, reqId], [Tag.SubscriptionRequestType, type], [Tag.MarketDepth, depth], [Tag.MDUpdateType, '1'], [Tag.NoMDEntryTypes, types.length]];
  for (const t of types) f.push([Tag.MDEntryType, t]);
  f.push([Tag.NoRelatedSym, symbols.length]);
  for (const s of symbols) f.push([Tag.Symbol, s]);
  return fix('V', f);
}

/** The engine's book of `symbol` (its `book` view), in the client's form, top `depth` (0 all). */
function engineBook(engine: Engine, symbol: string, depth: number): { bids: LevelMap; asks: LevelMap } {
  const inst = engine.instrument(symbol);
  const book = engine.book(symbol);
  assert.ok(inst !== undefined && book !== undefined);
  const side = (s: Side): LevelMap => new Map(book.levels(s, depth === 0 ? ALL_LEVELS : depth)
    .map((l) => [inst.price(l.price), { qty: inst.qty(l.qty), orders: String(l.orders) }]));
  return { bids: side(BUY), asks: side(SELL) };
}

function assertSameBook(client: MdClient, engine: Engine, symbol: string, depth: number, sides: 'both' | 'bids', what: string): void {
  const want = engineBook(engine, symbol, depth);
  const got = client.books.get(symbol);
  assert.ok(got !== undefined, `${what}: no book for ${symbol}`);
  assert.deepEqual(new Map([...got.bids].sort()), new Map([...want.bids].sort()), `${what}: ${symbol} bids`);
  assert.deepEqual(new Map([...got.asks].sort()), sides === 'both' ? new Map([...want.asks].sort()) : new Map(), `${what}: ${symbol} asks`);
}

test('market data: snapshot then increments, depth-limited views see levels enter and leave, trades, RptSeq', () => {
  const gw = new Gateway();
  gw.commit(ETH, 'config');
  gw.send('alice', newOrder('a1', '1', '5', '100'));
  gw.send('alice', newOrder('a2', '1', '3', '99'));
  const full = new MdClient(true);
  const top1 = new MdClient(false);
  gw.md.request(full, mdRequest('r1', ['ETH'], 0, ['0', '1', '2']));
  gw.md.request(top1, mdRequest('r2', ['ETH'], 1, ['0', '1']));
  const w = full.received[0];
  assert.deepEqual(w.fields.slice(0, 5), [[35, 'W'], [Tag.MDReqID, 'r1'], [Tag.Symbol, 'ETH'], [Tag.NoMDEntries, '2'], [Tag.MDEntryType, '0']]);
  assert.deepEqual(top1.books.get('ETH')?.bids, new Map([['100', { qty: '5', orders: '1' }]]));
  // a better bid enters the top 1: new 101, delete 100
  gw.send('bob', newOrder('b1', '1', '2', '101'));
  const x = top1.received.at(-1) as FixMessage;
  assert.deepEqual(x.fields, [[35, 'X'], [Tag.NoMDEntries, '2'],
    [279, '0'], [269, '0'], [55, 'ETH'], [270, '101'], [271, '2'], [346, '1'], [83, '3'],
    [279, '2'], [269, '0'], [55, 'ETH'], [270, '100'], [83, '3']]);
  // it leaves again (cancelled): delete 101, new 100
  gw.send('bob', fix('F', [[Tag.OrigClOrdID, 'b1'], [Tag.ClOrdID, 'b1x'], [Tag.Side, '1']]));
  assert.deepEqual((top1.received.at(-1) as FixMessage).fields.slice(2).filter(([t]) => t === 279 || t === 270), [[279, '2'], [270, '101'], [279, '0'], [270, '100']]);
  // a change below the top 1 is not sent to it
  const n = top1.received.length;
  gw.send('carol', newOrder('c1', '1', '1', '99'));
  assert.equal(top1.received.length, n);
  // a trade: the full subscriber sees the trade and the level change, in the engine's order
  gw.send('bob', newOrder('b2', '2', '2', '100'));
  assert.deepEqual((full.received.at(-1) as FixMessage).fields.slice(2).filter(([t]) => t === 279 || t === 269 || t === 271 || t === 83),
    [[279, '0'], [269, '2'], [271, '2'], [83, '6'], [279, '1'], [269, '0'], [271, '3'], [83, '7']]);
  assert.deepEqual(full.trades, ['ETH 100 2']);
  for (const [c, d] of [[full, 0], [top1, 1]] as const) assertSameBook(c, gw.engine, 'ETH', d, 'both', `depth ${d}`);
  // unsubscribe: nothing more
  gw.md.request(full, mdRequest('r1', ['ETH'], 0, ['0'], '2'));
  const k = full.received.length;
  gw.send('bob', newOrder('b3', '2', '1', '130'));
  assert.equal(full.received.length, k);
});

test('market data refusals: unknown symbol (Y 0), unsupported depth, entry type, subscription type, update type', () => {
  const gw = new Gateway();
  gw.commit(ETH, 'config');
  const c = new MdClient(false);
  const y = (m: FixMessage) => {
    gw.md.request(c, m);
    const r = c.received.at(-1) as FixMessage;
    return [r.msgType, r.get(Tag.MDReqID), r.get(Tag.MDReqRejReason)];
  };
  assert.deepEqual(y(mdRequest('u1', ['ETH', 'NOPE'], 0, ['0'])), ['Y', 'u1', '0']);
  assert.equal(c.received.length, 1, 'all or nothing: no snapshot of ETH either');
  assert.deepEqual(y(mdRequest('u2', ['ETH'], -1, ['0'])), ['Y', 'u2', '5']);
  assert.deepEqual(y(mdRequest('u3', ['ETH'], 0, ['4'])), ['Y', 'u3', '8']);
  assert.deepEqual(y(mdRequest('u4', ['ETH'], 0, ['0'], '9')), ['Y', 'u4', '4']);
  const m = mdRequest('u5', ['ETH'], 0, ['0']);
  m.set(Tag.MDUpdateType, '0');
  assert.deepEqual(y(m), ['Y', 'u5', '6']);
  assert.deepEqual(y(mdRequest('u6', ['ETH'], 0, ['0'], '2')), ['Y', 'u6', undefined]);
  // a snapshot request: W, no subscription
  gw.md.request(c, mdRequest('s1', ['ETH'], 0, ['0', '1'], '0'));
  assert.equal((c.received.at(-1) as FixMessage).msgType, 'W');
  const k = c.received.length;
  gw.send('alice', newOrder('a1', '1', '1', '100'));
  assert.equal(c.received.length, k);
});

// --- instruments (SecurityList) ---------------------------------------------------

const BTC = { op: 'instrument', symbol: 'BTC-USD', tickSize: '0.5', lotSize: '0.0001', minQty: '0.0001', maxQty: '100' } as const;
const EUR = { op: 'instrument', symbol: 'EUR-USD', tickSize: '0.00001', lotSize: '1000', minQty: '2000' } as const;

function listRequest(reqId: string, type: string, extra: [number, string][] = []): FixMessage {
  return fix('x', [[Tag.SecurityReqID, reqId], [Tag.SecurityListRequestType, type], ...extra]);
}

/** The NoRelatedSym entries of a y, each as tag → value. */
function listEntries(y: FixMessage): Record<number, string>[] {
  const out: Record<number, string>[] = [];
  const f = y.fields;
  const at = f.findIndex(([t]) => t === Tag.NoRelatedSym);
  if (at < 0) return out;
  for (const [t, v] of f.slice(at + 1)) {
    if (t === Tag.Symbol) out.push({});
    (out.at(-1) as Record<number, string>)[t] = v;
  }
  assert.equal(out.length, Number(y.get(Tag.NoRelatedSym)));
  return out;
}

/** `y` with the header the session adds (MsgSeqNum, CompIDs, SendingTime), for the codecs. */
function withHeader(y: FixMessage, target = 'alice'): FixMessage {
  return new FixMessage([[35, y.msgType], [34, '99999999'], [49, 'MATCHLOG'], [52, '20240131-14:05:09.123'], [56, target], ...y.fields.slice(1)]);
}

/** A gateway started on an engine that already has BTC-USD and EUR-USD (they come from the snapshot). */
function listGateway(): { gw: Gateway; lists: SecurityLists } {
  const engine = createEngine();
  let seq = 0;
  for (const cmd of [EUR, BTC]) applied(engine, prepareCommand(cmd), ++seq);
  const gw = new Gateway({ engine, seq });
  return { gw, lists: new SecurityLists(gw.tracker.instruments, { idPrefix: 'g.' }) };
}

test('SecurityList: all instruments sorted by symbol with the engine\'s exact tick, lot, min and max; by symbol; the header fields', () => {
  const { lists } = listGateway();
  const all = lists.request(listRequest('s1', '4'));
  assert.equal(all.length, 1);
  const y = all[0];
  assert.equal(validate(withHeader(y)), undefined);
  assert.equal(
    y.toString(),
    '35=y|320=s1|322=g.1|560=0|393=2|893=Y|146=2'
      + '|55=BTC-USD|561=0.0001|562=0.0001|969=0.5|1140=100'
      + '|55=EUR-USD|561=1000|562=2000|969=0.00001',
  );
  // by symbol: the one entry, a new SecurityResponseID
  const one = lists.request(listRequest('s2', '0', [[Tag.Symbol, 'EUR-USD'], [Tag.SubscriptionRequestType, '0']]));
  assert.equal(one.length, 1);
  assert.deepEqual([one[0].get(320), one[0].get(322), one[0].get(560), one[0].get(393), one[0].get(893)], ['s2', 'g.2', '0', '1', 'Y']);
  assert.deepEqual(listEntries(one[0]), [{ 55: 'EUR-USD', 561: '1000', 562: '2000', 969: '0.00001' }]);
});

test('SecurityList refusals: unknown symbol 560=2 with no entries; types 1-3, a subscription, a type 0 without Symbol, a type 4 with one: 560=1', () => {
  const { lists } = listGateway();
  const answer = (m: FixMessage) => {
    const out = lists.request(m);
    assert.equal(out.length, 1);
    const y = out[0];
    assert.equal(y.has(Tag.NoRelatedSym), false, String(y));
    assert.deepEqual([y.get(320), y.get(393), y.get(893)], [m.get(320), '0', 'Y']);
    return y.get(Tag.SecurityRequestResult);
  };
  assert.equal(answer(listRequest('u1', '0', [[Tag.Symbol, 'NOPE']])), '2');
  assert.equal(answer(listRequest('u2', '0', [[Tag.Symbol, 'btc-usd']])), '2', 'symbols are case-sensitive');
  for (const type of ['1', '2', '3']) assert.equal(answer(listRequest(`t${type}`, type)), '1', `type ${type}`);
  assert.equal(answer(listRequest('u3', '4', [[Tag.SubscriptionRequestType, '1']])), '1');
  assert.equal(answer(listRequest('u4', '4', [[Tag.SubscriptionRequestType, '2']])), '1');
  assert.equal(answer(listRequest('u5', '0')), '1');
  assert.equal(answer(listRequest('u6', '4', [[Tag.Symbol, 'BTC-USD']])), '1');
  // an exchange without instruments has nothing to list
  assert.equal(new SecurityLists(new Gateway().tracker.instruments).request(listRequest('e', '4'))[0].get(560), '2');
});

test('SecurityList: an instrument created after the gateway started is listed (in its place), a refused one is not', () => {
  const { gw, lists } = listGateway();
  gw.commit({ op: 'instrument', symbol: 'ETH', tickSize: '0.01', lotSize: '0.001' }, 'config');
  // the same symbol again, another grid: the engine refuses it, the list keeps the first
  gw.commit({ op: 'instrument', symbol: 'BTC-USD', tickSize: '1', lotSize: '1' }, 'config');
  const [y] = lists.request(listRequest('s', '4'));
  assert.deepEqual(listEntries(y), [
    { 55: 'BTC-USD', 561: '0.0001', 562: '0.0001', 969: '0.5', 1140: '100' },
    { 55: 'ETH', 561: '0.001', 562: '0.001', 969: '0.01' },
    { 55: 'EUR-USD', 561: '1000', 562: '2000', 969: '0.00001' },
  ]);
  assert.equal(y.get(393), '3');
  const [eth] = lists.request(listRequest('s', '0', [[Tag.Symbol, 'ETH']]));
  assert.equal(eth.get(560), '0');
});

test('SecurityList fragments: a list past the budget comes in several y (same ids, TotNoRelatedSym, LastFragment N..Y); each within the frame limit', () => {
  const engine = createEngine();
  // 1500 instruments with 64-character symbols (half of them JSON-escaped) and long decimals: about 390 KB in FIX JSON
  let seq = 0;
  const symbols: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const symbol = `${String(i).padStart(4, '0')}${'"\\'.repeat(20)}`.padEnd(64, 'X');
    symbols.push(symbol);
    const cmd = { op: 'instrument', symbol, tickSize: '0.000000000000001', lotSize: '0.00000000000001', minQty: '0.00000000000007', maxQty: '89.9999999999999' } as const;
    assert.equal(applied(engine, prepareCommand(cmd), ++seq)[0].type, 'instrument');
  }
  const gw = new Gateway({ engine, seq });
  const lists = new SecurityLists(gw.tracker.instruments, { idPrefix: 'g.' });
  const parts = lists.request(listRequest('big', '4'));
  assert.ok(parts.length > 4, `${parts.length} fragments`);
  const seen: string[] = [];
  parts.forEach((y, k) => {
    assert.deepEqual([y.get(320), y.get(322), y.get(560), y.get(393), y.get(893)], ['big', 'g.1', '0', '1500', k === parts.length - 1 ? 'Y' : 'N']);
    const entries = listEntries(y);
    seen.push(...entries.map((e) => e[55]));
    const full = withHeader(y, 'x'.repeat(64));
    const tv = encodeTagValue(full);
    const json = encodeJson(full);
    assert.ok(Buffer.byteLength(tv) < DEFAULT_MAX_FRAME && Buffer.byteLength(json) < DEFAULT_MAX_FRAME, `fragment ${k}: ${tv.length} / ${json.length} bytes`);
    assert.ok(decodeTagValue(tv).ok && decodeJson(json).ok, `fragment ${k} decodes within the default limit`);
  });
  assert.deepEqual(seen, [...symbols].sort());
  // a small budget cuts a short list too; one entry always fits
  const { lists: small } = listGateway();
  const cut = small.request(listRequest('s', '4'));
  assert.equal(cut.length, 1);
  const tiny = new SecurityLists(listGateway().gw.tracker.instruments, { maxEntryBytes: 10 }).request(listRequest('s', '4'));
  assert.deepEqual(tiny.map((y) => [y.get(893), y.get(146), y.get(393), y.get(55)]), [['N', '1', '2', 'BTC-USD'], ['Y', '1', '2', 'EUR-USD']]);
});

test('conflation: a slow subscriber stops getting increments, then gets a fresh snapshot once drained', () => {
  const gw = new Gateway();
  gw.commit(ETH, 'config');
  const slow = new MdClient(false);
  gw.md.request(slow, mdRequest('s', ['ETH'], 0, ['0', '1', '2']));
  gw.send('alice', newOrder('a1', '1', '1', '100'));
  assert.equal((slow.received.at(-1) as FixMessage).msgType, 'X');
  slow.pending = 5000; // past the high-water mark (1000)
  const k = slow.received.length;
  for (let i = 0; i < 20; i++) gw.send('alice', newOrder(`b${i}`, '1', '1', String(80 + i)));
  assert.equal(slow.received.length, k, 'nothing is queued for a stalled subscriber');
  slow.pending = 500; // drained, but not below the low-water mark (100)
  gw.md.flush();
  assert.equal(slow.received.length, k);
  slow.pending = 50;
  gw.md.flush();
  const w = slow.received.at(-1) as FixMessage;
  assert.equal(w.msgType, 'W');
  assertSameBook(slow, gw.engine, 'ETH', 0, 'both', 'after conflation');
  // and increments resume, numbered as everyone's
  const rpt = gw.md.rptSeq('ETH');
  gw.send('alice', newOrder('c1', '1', '1', '101'));
  const x = slow.received.at(-1) as FixMessage;
  assert.deepEqual([x.msgType, x.get(Tag.RptSeq)], ['X', String(rpt + 1)]);
  assertSameBook(slow, gw.engine, 'ETH', 0, 'both', 'after resuming');
});

// --- random streams -----------------------------------------------------------

const SESSION_ACCOUNTS = new Set(['alice', 'bob', '!carol~']);
const TIF_FIX: Record<string, string> = { GTC: '1', IOC: '3', FOK: '4' };
const STP_FIX: Record<string, string> = { cancel_resting: '1', cancel_incoming: '2', cancel_both: '3' };

/** An engine command of the generator as the FIX message a client would send, or null for operator commands. */
function toFix(cmd: Command, n: number): { account: string; msg: FixMessage } | null {
  switch (cmd.op) {
    case 'new': {
      const f: [number, string][] = [[Tag.ClOrdID, cmd.clOrdId], [Tag.Symbol, cmd.symbol], [Tag.Side, cmd.side === 'buy' ? '1' : '2'], [Tag.OrderQty, cmd.qty],
        [Tag.OrdType, cmd.type === 'market' ? '1' : '2']];
      if (cmd.price !== undefined) f.push([Tag.Price, cmd.price]);
      if (cmd.tif !== undefined) f.push([Tag.TimeInForce, TIF_FIX[cmd.tif]]);
      if (cmd.postOnly) f.push([Tag.ExecInst, '6']);
      if (cmd.stp !== undefined) f.push([Tag.SelfTradePrevention, STP_FIX[cmd.stp]]);
      return { account: cmd.account, msg: fix('D', f) };
    }
    case 'cancel': {
      const f: [number, string][] = [[Tag.ClOrdID, cmd.clOrdId]];
      if (cmd.origClOrdId !== undefined) f.push([Tag.OrigClOrdID, cmd.origClOrdId]);
      if (cmd.orderId !== undefined) f.push([Tag.OrderID, String(cmd.orderId)]);
      return { account: cmd.account, msg: fix('F', f) };
    }
    case 'replace': {
      const f: [number, string][] = [[Tag.ClOrdID, cmd.clOrdId], [Tag.OrigClOrdID, cmd.origClOrdId ?? ''], [Tag.OrderQty, cmd.qty], [Tag.OrdType, '2']];
      if (cmd.price !== undefined) f.push([Tag.Price, cmd.price]);
      return { account: cmd.account, msg: fix('G', f) };
    }
    case 'massCancel':
      return { account: cmd.account, msg: fix('q', cmd.symbol === undefined ? [[Tag.ClOrdID, `m${n}`], [Tag.MassCancelRequestType, '7']] : [[Tag.ClOrdID, `m${n}`], [Tag.MassCancelRequestType, '1'], [Tag.Symbol, cmd.symbol]]) };
    default:
      return null;
  }
}

/** A decimal string as an integer and its scale. */
function dec(s: string): { m: bigint; e: number } {
  const i = s.indexOf('.');
  return i < 0 ? { m: BigInt(s), e: 0 } : { m: BigInt(s.slice(0, i) + s.slice(i + 1)), e: s.length - i - 1 };
}

/** What a client can check on its own: CumQty = the fills it was told of, AvgPx = their notional / CumQty. */
class FillLedger {
  private readonly fills = new Map<string, { qty: { m: bigint; e: number }; notional: { m: bigint; e: number } }>();

  check(account: string, m: FixMessage, tickScale: number): void {
    if (m.msgType !== '8' || m.get(Tag.OrderID) === 'NONE' || m.get(Tag.ExecID) === '0') return;
    const key = `${account} ${m.get(Tag.OrderID)}`;
    let f = this.fills.get(key);
    if (f === undefined) {
      f = { qty: { m: 0n, e: 0 }, notional: { m: 0n, e: 0 } };
      this.fills.set(key, f);
    }
    const lastQty = m.get(Tag.LastQty);
    if (lastQty !== undefined) {
      const q = dec(lastQty);
      const p = dec(m.get(Tag.LastPx) as string);
      f.qty = add(f.qty, q);
      f.notional = add(f.notional, { m: q.m * p.m, e: q.e + p.e });
    }
    const cum = dec(m.get(Tag.CumQty) as string);
    assert.equal(cmp(cum, f.qty), 0, `CumQty ${m.get(Tag.CumQty)} is not the sum of fills: ${m.toString()}`);
    const avg = dec(m.get(Tag.AvgPx) as string);
    if (f.qty.m === 0n) {
      assert.equal(avg.m, 0n);
      return;
    }
    // exact: avg * cum == notional; else rounded at tick + 8 decimals: |avg * cum - notional| <= cum / 2 ulp
    const lhs = { m: avg.m * cum.m, e: avg.e + cum.e };
    const diff = sub(lhs, f.notional);
    if (diff.m === 0n) return;
    assert.ok(!terminates(f.notional, cum), `AvgPx ${m.get(Tag.AvgPx)} is not exact, but the average terminates: ${m.toString()}`);
    const places = tickScale + AVGPX_EXTRA_DECIMALS;
    assert.ok(avg.e <= places, `AvgPx ${m.get(Tag.AvgPx)} is neither exact nor rounded at the documented place: ${m.toString()}`);
    const halfUlpTimesCum = { m: cum.m * 5n, e: cum.e + places + 1 };
    assert.ok(cmp(abs(diff), halfUlpTimesCum) <= 0, `AvgPx ${m.get(Tag.AvgPx)} is off by more than half a unit: ${m.toString()}`);
  }
}

/** True when a / b has a terminating decimal expansion. */
function terminates(a: { m: bigint; e: number }, b: { m: bigint; e: number }): boolean {
  let num = a.m * 10n ** BigInt(b.e);
  let den = b.m * 10n ** BigInt(a.e);
  for (let x = num, y = den; y !== 0n;) [x, y, num] = [y, x % y, y];
  den /= num;
  while (den % 2n === 0n) den /= 2n;
  while (den % 5n === 0n) den /= 5n;
  return den === 1n;
}

function align(a: { m: bigint; e: number }, b: { m: bigint; e: number }): [bigint, bigint, number] {
  const e = Math.max(a.e, b.e);
  return [a.m * 10n ** BigInt(e - a.e), b.m * 10n ** BigInt(e - b.e), e];
}
function add(a: { m: bigint; e: number }, b: { m: bigint; e: number }): { m: bigint; e: number } {
  const [x, y, e] = align(a, b);
  return { m: x + y, e };
}
function sub(a: { m: bigint; e: number }, b: { m: bigint; e: number }): { m: bigint; e: number } {
  const [x, y, e] = align(a, b);
  return { m: x - y, e };
}
function cmp(a: { m: bigint; e: number }, b: { m: bigint; e: number }): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}
function abs(a: { m: bigint; e: number }): { m: bigint; e: number } {
  return { m: a.m < 0n ? -a.m : a.m, e: a.e };
}

const SYMBOLS = INSTRUMENTS.map((c) => (c as { symbol: string }).symbol);
const TICK_SCALE: Record<string, number> = { AAA: 0, BBB: 2, CCC: 2, DDD: 0 };

/** Runs a stream through order entry, the engine, reports and market data; checks everything after every step. */
function runStream(cmds: Command[], check: boolean): Out[] {
  const gw = new Gateway();
  const full = new MdClient(true);
  const top1 = new MdClient(false);
  const top3bids = new MdClient(false);
  const slow = new MdClient(false);
  let late: MdClient | null = null;
  const ledger = new FillLedger();
  const execIds = new Set<string>();
  let restartAt = -1;
  let snapSeq = 0;
  let restarted: { tracker: OrderTracker; md: MarketData; reports: ReportBuilder } | null = null;
  for (let i = 0; i < cmds.length; i++) {
    const cmd = cmds[i];
    const before = gw.sent.length;
    const asFix = toFix(cmd, i);
    if (asFix === null) {
      if (cmd.op === 'instrument' || cmd.op === 'halt' || cmd.op === 'resume' || cmd.op === 'book') gw.commit(cmd, 'operator');
    } else if (SESSION_ACCOUNTS.has(asFix.account)) {
      // what order entry makes, the log's codec takes (else prepareCommand throws here)
      gw.send(asFix.account, asFix.msg);
    }
    if (cmd.op === 'instrument' && i === INSTRUMENTS.length - 1) {
      for (const [c, depth, types] of [[full, 0, ['0', '1', '2']], [top1, 1, ['0', '1']], [top3bids, 3, ['0']], [slow, 0, ['0', '1', '2']]] as const) {
        gw.md.request(c, mdRequest('r', SYMBOLS, depth, [...types]));
      }
      restartAt = INSTRUMENTS.length + Math.floor((cmds.length - INSTRUMENTS.length) / 2);
    }
    if (i === restartAt) {
      // a gateway started now, from the engine's snapshot, must agree with the one that ran from the start
      const snap = gw.engine.snapshot();
      const tracker = OrderTracker.fromSnapshot(snap);
      restarted = { tracker, md: MarketData.fromSnapshot(snap, tracker.instruments), reports: new ReportBuilder(tracker) };
      snapSeq = gw.seq;
      late = new MdClient(true);
      gw.md.request(late, mdRequest('late', SYMBOLS, 0, ['0', '1', '2']));
    }
    slow.pending = i % 11 < 4 ? 5000 : 0;
    if (!check) continue;
    for (let j = before; j < gw.sent.length; j++) {
      const { account, msg } = gw.sent[j];
      const id = msg.get(Tag.ExecID);
      if (id !== undefined && id !== '0') {
        assert.ok(!execIds.has(id), `ExecID ${id} twice`);
        execIds.add(id);
      }
      const symbol = msg.get(Tag.Symbol);
      if (symbol !== undefined && symbol in TICK_SCALE) ledger.check(account, msg, TICK_SCALE[symbol]);
    }
    // the tracker holds exactly the engine's resting orders
    const resting = gw.engine.snapshot().orders.map((o) => `${o.orderId} ${o.account} ${o.clOrdId} ${o.side === 'buy' ? 0 : 1} ${o.price} ${o.qty} ${o.leavesQty} ${o.cumQty} ${String(o.cumNotional)}`).sort();
    const tracked = [...gw.tracker.all()].map((o) => `${o.orderId} ${o.account} ${o.clOrdId} ${o.side} ${o.price} ${o.qty} ${o.leavesQty} ${o.cumQty} ${String(o.cumNotional)}`).sort();
    assert.deepEqual(tracked, resting, `step ${i}: tracker`);
    if (i < INSTRUMENTS.length - 1) continue;
    for (const symbol of SYMBOLS) {
      for (const side of [BUY, SELL] as const) {
        assert.deepEqual(gw.md.levels(symbol, side), gw.engine.book(symbol)?.levels(side, ALL_LEVELS), `step ${i}: ${symbol} level book`);
      }
      assertSameBook(full, gw.engine, symbol, 0, 'both', `step ${i} full`);
      assertSameBook(top1, gw.engine, symbol, 1, 'both', `step ${i} top 1`);
      assertSameBook(top3bids, gw.engine, symbol, 3, 'bids', `step ${i} top 3 bids`);
      if (late !== null) assertSameBook(late, gw.engine, symbol, 0, 'both', `step ${i} late joiner`);
    }
  }
  if (check) {
    slow.pending = 0;
    gw.md.flush();
    for (const symbol of SYMBOLS) assertSameBook(slow, gw.engine, symbol, 0, 'both', 'slow subscriber after draining');
    // the full subscriber saw every update: its RptSeq is the symbol's
    for (const symbol of SYMBOLS) assert.equal(full.rpt.get(symbol) ?? 0, gw.md.rptSeq(symbol));
    if (restarted !== null) {
      for (const c of gw.committed.filter((x) => x.seq > snapSeq)) {
        restarted.reports.build(c, () => {});
        restarted.md.apply(c);
      }
      const key = (t: OrderTracker) => [...t.all()].map((o) => JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).sort();
      assert.deepEqual(key(restarted.tracker), key(gw.tracker), 'a tracker started from a snapshot');
      for (const symbol of SYMBOLS) for (const side of [BUY, SELL] as const) assert.deepEqual(restarted.md.levels(symbol, side), gw.md.levels(symbol, side));
    }
  }
  return gw.sent;
}

test('random streams: reports, tracker, market data and RptSeq agree with the engine after every step; a second run is identical', (t) => {
  assertProperty(t, fc.property(streamArb(120), (cmds) => {
    const first = runStream(cmds, true);
    const second = runStream(cmds, false);
    assert.deepEqual(second.map((o) => `${o.account} ${o.msg.toString()}`), first.map((o) => `${o.account} ${o.msg.toString()}`));
  }), { numRuns: RUNS });
});
