// `matchlog replay` against the live run that wrote the log: the events of a
// replay are the events `matchlog apply --log` printed, the book as of any seq
// or time is the book of an engine fed the same commands up to there (with and
// without snapshots), an order's life is every event naming it, the summary's
// sums are the sums of the trades, and nothing in the folder changes.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { createEngine, formatEvent, restoreEngine, type Command, type ExternalEvent } from '../engine/index.js';
import { listSegments, listSnapshots, readLog } from '../log/index.js';
import { bookAt } from '../replay/book-at.js';
import { logBounds, timesOfSeqs } from '../replay/history.js';
import { stretches } from '../replay/parallel.js';
import { encodeSnapshot } from '../log/snapshot.js';
import { readSnapshot } from '../log/index.js';
import { formatTime } from '../replay/time.js';
import { BIN, matchlog, matchlogAsync } from './cli-helpers.js';
import { asCsvRow, avroRows, csvRows, parquetRows } from './export-readers.js';
import { Flow, TEST_INSTRUMENTS, prng, segmentBlocks, tempDir } from './log-helpers.js';
import { scalesOf } from '../replay/export/columns.js';

const N = 6000;

interface Day {
  dir: string;
  /** What apply --log printed, one object per event, in order. */
  live: ExternalEvent[];
  /** Every command in the log with its seq and ts. */
  commands: { seq: number; ts: number; cmd: Command }[];
}

function cli(args: string[], input?: string): { code: number | null; out: string; err: string } {
  const r = matchlog(args, input);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A log written by `matchlog apply --log` with small segments and frequent snapshots and checkpoints. */
function makeDay(): Day {
  const root = mkdtempSync(join(tmpdir(), 'matchlog-replay-'));
  const dir = join(root, 'log');
  const inst = join(root, 'instruments.json');
  const config = join(root, 'config.json');
  writeFileSync(inst, JSON.stringify(TEST_INSTRUMENTS));
  writeFileSync(config, JSON.stringify({ segmentBytes: 60_000, snapshotEvery: 1000, keepSnapshots: 100, checkpointEvery: 333, maxBlockRecords: 64 }));
  const flow = new Flow(prng(99), 'r');
  const lines: string[] = [];
  for (let i = 0; i < N; i++) lines.push(JSON.stringify(flow.next()));
  // several runs: each start writes an epoch record, each close a snapshot
  const live: ExternalEvent[] = [];
  for (let part = 0; part < 3; part++) {
    const r = cli(['apply', '--log', dir, '--instruments', inst, '--config', config], lines.slice(part * N / 3, (part + 1) * N / 3).join('\n') + '\n');
    assert.equal(r.code, 0, r.err);
    for (const l of r.out.split('\n')) if (l !== '') live.push(JSON.parse(l) as ExternalEvent);
  }
  const commands: Day['commands'] = [];
  for (const rec of readLog(dir)) if (rec.kind === 'command') commands.push({ seq: rec.seq, ts: rec.ts, cmd: rec.cmd });
  return { dir, live, commands };
}

/** A copy of the day's log to damage, removed with the test. */
function copyOf(t: TestContext, d: Day, prefix: string): string {
  const copy = join(tempDir(t, `${prefix}-`), 'log');
  cpSync(d.dir, copy, { recursive: true });
  return copy;
}

/** apply prefixes texts with the input line, which the log does not hold. */
function withoutLine(e: ExternalEvent): ExternalEvent {
  if ((e.type === 'rejected' || e.type === 'cancelRejected') && typeof e.text === 'string') return { ...e, text: e.text.replace(/^line \d+: /, '') };
  return e;
}

function jsonl(out: string): ExternalEvent[] {
  return out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as ExternalEvent);
}

function folderState(dir: string): string {
  return readdirSync(dir).sort().map((f) => {
    const s = statSync(join(dir, f));
    return `${f} ${s.size} ${s.mtimeMs}`;
  }).join('\n');
}

let shared: Day | null = null;
/** One log for the whole file, made on first use (a few seconds), removed at the end. */
function day(_t: TestContext): Day {
  shared ??= makeDay();
  return shared;
}
after(() => {
  if (shared !== null) rmSync(dirname(shared.dir), { recursive: true, force: true });
});

test('replay: the log has several segments, snapshots and epochs (so the cases below mean something)', (t) => {
  const d = day(t);
  assert.ok(listSegments(d.dir).length >= 3, 'segments');
  assert.ok(listSnapshots(d.dir).length >= 4, 'snapshots');
  assert.equal(d.commands.length, N + TEST_INSTRUMENTS.length);
  assert.ok(d.live.some((e) => e.type === 'trade') && d.live.some((e) => e.type === 'replaced') && d.live.some((e) => e.type === 'rejected'));
});

test('replay --events: the events the live run printed, each with its command\'s seq and time', (t) => {
  const d = day(t);
  const before = folderState(d.dir);
  const r = cli(['replay', d.dir, '--events', '--format', 'jsonl']);
  assert.equal(r.code, 0, r.err);
  // the instruments were created by --instruments, whose events apply does not print
  const rows = jsonl(r.out).filter((e) => (e.seq as number) > TEST_INSTRUMENTS.length);
  const tsOf = new Map(d.commands.map((c) => [c.seq, c.ts]));
  assert.equal(rows.length, d.live.length);
  for (let i = 0; i < rows.length; i++) {
    const { ts, ...rest } = rows[i];
    assert.equal(ts, formatTime(tsOf.get(rest.seq as number) as number), `row ${i}`);
    assert.deepEqual(rest, withoutLine(d.live[i]), `row ${i}`);
  }
  assert.match(r.err, /replay: [\d,]+ events in [\d.]+ s/);
  // filters: a window of seqs, one symbol, one account, some types
  const from = 2000;
  const to = 4000;
  const f = cli(['replay', d.dir, '--events', '--format', 'jsonl', '--from', String(from), '--to', String(to), '--symbol', 'MSFT', '--account', 'acct1',
    '--type', 'trade,accepted', '--type', 'cancelled']);
  assert.equal(f.code, 0, f.err);
  const want = d.live.map(withoutLine).filter((e) => (e.seq as number) >= from && (e.seq as number) <= to && e.symbol === 'MSFT'
    && ['trade', 'accepted', 'cancelled'].includes(e.type as string)
    && (e.account === 'acct1' || e.makerAccount === 'acct1' || e.takerAccount === 'acct1'));
  assert.ok(want.length > 10);
  assert.deepEqual(jsonl(f.out).map(({ ts: _ts, ...rest }) => rest), want);
  // by time: --from T is the first command at or after T; T is a snapshot's time, so replay may not start from that snapshot
  const snap = listSnapshots(d.dir).find((x) => x.seq > 2500) as { seq: number };
  const mid = d.commands.find((c) => c.seq === snap.seq) as Day['commands'][number];
  const byTime = jsonl(cli(['replay', d.dir, '--events', '--format', 'jsonl', '--from', formatTime(mid.ts), '--type', 'accepted']).out);
  const firstAtT = d.commands.find((c) => c.ts >= mid.ts)?.seq as number;
  assert.deepEqual(byTime.map((e) => e.seq), d.live.filter((e) => e.type === 'accepted' && (e.seq as number) >= firstAtT).map((e) => e.seq));
  assert.equal(folderState(d.dir), before, 'replay wrote into the log folder');
});

test('replay --events: CSV, Parquet and Avro files read back (csv-parse, apache-arrow, avsc) equal the JSONL export', async (t) => {
  const d = day(t);
  const out = tempDir(t, 'matchlog-replay-export-');
  const file = (f: string) => join(out, `events.${f}`);
  for (const f of ['jsonl', 'csv', 'parquet', 'avro']) {
    const r = cli(['replay', d.dir, '--events', '--format', f, '--out', file(f), '--from', '1000', '--to', '3000']);
    assert.equal(r.code, 0, r.err);
  }
  const rows = jsonl(readFileSync(file('jsonl'), 'utf8'));
  assert.ok(rows.length > 1000);
  const micros = new Map(d.commands.map((c) => [formatTime(c.ts), c.ts]));
  const typed = rows.map((e) => ({ ...e, ts: micros.get(e.ts as string) }));
  assert.deepEqual(csvRows(file('csv')), rows.map((e) => asCsvRow(e)));
  const scales = scalesOf(TEST_INSTRUMENTS);
  const parquet = parquetRows(file('parquet'), scales);
  assert.equal(parquet.length, typed.length);
  parquet.forEach((row, i) => assert.deepEqual(row, typed[i], `parquet row ${i}`));
  const avroOut = await avroRows(file('avro'));
  assert.equal(avroOut.length, typed.length);
  avroOut.forEach((row, i) => assert.deepEqual(row, typed[i], `avro row ${i}`));
  // parquet and avro are binary: no --out, no run
  assert.equal(cli(['replay', d.dir, '--events', '--format', 'parquet']).code, 2);
});

test('replay --events --threads: stretches between snapshots replayed on worker threads give the same bytes; a false snapshot stops it', (t) => {
  const d = day(t);
  const out = tempDir(t, 'matchlog-replay-threads-');
  const variants: string[][] = [[], ['--from', '1500', '--to', '5200'], ['--symbol', 'AAPL', '--account', 'acct2', '--type', 'trade,cancelled'],
    ['--from', formatTime(d.commands[2500].ts)]];
  for (const format of ['jsonl', 'csv']) {
    for (const v of variants) {
      const one = cli(['replay', d.dir, '--events', '--format', format, '--threads', '1', ...v]);
      assert.equal(one.code, 0, one.err);
      for (const threads of v.length === 0 ? ['2', '3'] : ['2']) {
        const file = join(out, `events.${threads}.${format}`);
        const many = cli(['replay', d.dir, '--events', '--format', format, '--threads', threads, '--out', file, ...v]);
        assert.equal(many.code, 0, many.err);
        assert.equal(readFileSync(file, 'utf8'), one.out, `${format} ${threads} threads ${v.join(' ')}`);
        assert.equal(/([\d,]+) events in/.exec(many.err)?.[1], /([\d,]+) events in/.exec(one.err)?.[1]);
      }
    }
  }
  assert.ok(stretches(logBounds(d.dir), {}, 1000).length >= 4, 'the day is cut into stretches');
  // a snapshot of another state (with a hash of its own) in the middle: the chain check names it
  const copy = copyOf(t, d, 'matchlog-replay-false-snapshot');
  const parts = stretches(logBounds(copy), {}, 1000);
  const cut = parts[1].toSeq as number;
  const file = listSnapshots(copy).find((x) => x.seq === cut) as { path: string };
  const snap = readSnapshot(file.path);
  const state = { ...snap.state, orders: snap.state.orders.slice(1) };
  writeFileSync(file.path, encodeSnapshot({ ...snap, state, hash: restoreEngine(state).stateHash() }));
  const bad = cli(['replay', copy, '--events', '--format', 'jsonl', '--threads', '3', '--out', join(out, 'bad.jsonl')]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, new RegExp(`snapshot snapshot-0*${cut}\\.avro holds a state \\(hash [0-9a-f]+\\) other than the log's after seq ${cut}`));
  assert.equal(existsSync(join(out, 'bad.jsonl')), false, 'a failed export leaves no file');
});

/** The book of an engine fed the log's commands up to `seq`, formatted as replay prints it. */
function referenceBook(d: Day, seq: number, symbol: string) {
  const engine = createEngine();
  for (const c of d.commands) {
    if (c.seq > seq) break;
    engine.apply(c.cmd, c.seq);
  }
  const book = engine.book(symbol);
  assert.ok(book);
  const inst = book.instrument;
  const orders = (side: 0 | 1) => book.orders(side).map((o) => ({ orderId: o.orderId, account: o.account, clOrdId: o.clOrdId, price: inst.price(o.price), leavesQty: inst.qty(o.leavesQty) }));
  const e = formatEvent({ type: 'book', seq, symbol, bids: book.levels(0, 10_000), asks: book.levels(1, 10_000) }, engine);
  return { e, bidOrders: orders(0), askOrders: orders(1) };
}

test('replay --book: as of a random seq equals an engine fed the commands up to it, with and without snapshots', (t) => {
  const d = day(t);
  const b = logBounds(d.dir);
  let fromSnapshot = 0;
  fc.assert(fc.property(fc.integer({ min: TEST_INSTRUMENTS.length, max: b.lastSeq }), fc.constantFrom('AAPL', 'MSFT'), (seq, symbol) => {
    const ref = referenceBook(d, seq, symbol);
    for (const snapshots of [true, false]) {
      const r = bookAt(b, { symbol, at: { seq }, depth: Infinity, orders: true, snapshots });
      if (r.snapshot !== null) fromSnapshot++;
      assert.equal(snapshots || r.snapshot === null, true);
      const { ts, ...book } = r.book;
      assert.deepEqual(book, ref.e);
      assert.equal(ts, formatTime(d.commands.find((c) => c.seq === seq)?.ts as number));
      const strip = (o: { orderId: number; account: string; clOrdId: string; price: string; leavesQty: string }) =>
        ({ orderId: o.orderId, account: o.account, clOrdId: o.clOrdId, price: o.price, leavesQty: o.leavesQty });
      assert.deepEqual(r.bidOrders?.map(strip), ref.bidOrders);
      assert.deepEqual(r.askOrders?.map(strip), ref.askOrders);
      // an order's time is the time of the command that created it
      for (const o of [...(r.bidOrders ?? []), ...(r.askOrders ?? [])]) {
        assert.equal(o.time, formatTime(d.commands.find((c) => c.seq === o.orderId)?.ts as number));
      }
    }
  }), { numRuns: 12, seed: 7 });
  assert.ok(fromSnapshot >= 6, `snapshots were used ${fromSnapshot} times`);
});

test('replay: the time of any command seq, found through block keys (order entry times)', (t) => {
  const d = day(t);
  const times = timesOfSeqs(logBounds(d.dir), d.commands.map((c) => c.seq));
  assert.equal(times.size, d.commands.length);
  for (const c of d.commands) assert.equal(times.get(c.seq), c.ts, `seq ${c.seq}`);
});

test('replay --book --at TIME: the state after the last command at or before that time; the CLI prints the book event shape', (t) => {
  const d = day(t);
  const c = d.commands[4321];
  const last = [...d.commands].reverse().find((x) => x.ts <= c.ts) as Day['commands'][number];
  const r = cli(['replay', d.dir, '--book', 'AAPL', '--at', formatTime(c.ts), '--json']);
  assert.equal(r.code, 0, r.err);
  const got = JSON.parse(r.out) as ExternalEvent;
  assert.equal(got.seq, last.seq);
  const { ts: _ts, ...book } = got;
  assert.deepEqual(book, referenceBook(d, last.seq, 'AAPL').e);
  const text = cli(['replay', d.dir, '--book', 'AAPL', '--at', String(last.seq), '--depth', '3', '--orders']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, new RegExp(`^AAPL as of seq ${last.seq} \\(`));
  assert.match(text.out, /bids in priority order \(\d+\):/);
});

test('replay --order: an order\'s whole life by id and by ACCOUNT:CLORDID, each event with its time', (t) => {
  const d = day(t);
  // an order that was replaced and then traded
  const replaced = d.live.find((e) => e.type === 'replaced' && d.live.some((x) => x.type === 'trade' && (x.makerOrderId === e.orderId || x.takerOrderId === e.orderId) && (x.seq as number) > (e.seq as number)));
  assert.ok(replaced, 'no replaced order that trades later');
  const id = replaced.orderId as number;
  const want = d.live.map(withoutLine).filter((e) => e.orderId === id || e.makerOrderId === id || e.takerOrderId === id);
  const byId = cli(['replay', d.dir, '--order', String(id), '--json']);
  assert.equal(byId.code, 0, byId.err);
  const life = JSON.parse(byId.out) as { orderId: number; account: string; state: string; rows: ExternalEvent[] };
  assert.equal(life.orderId, id);
  assert.deepEqual(life.rows.map(({ ts: _ts, ...rest }) => rest), want);
  const end = want[want.length - 1];
  const state = end.type === 'cancelled' ? 'cancelled'
    : end.type === 'trade' && ((end.makerOrderId === id && end.makerLeavesQty === '0') || (end.takerOrderId === id && end.takerLeavesQty === '0')) ? 'filled' : 'live';
  assert.equal(life.state, state);
  // every order of the day: its state is where its last event leaves it
  for (const o of d.live.filter((e) => e.type === 'accepted').slice(0, 400).filter((_, i) => i % 40 === 0)) {
    const oid = o.orderId as number;
    const last = d.live.filter((e) => e.orderId === oid || e.makerOrderId === oid || e.takerOrderId === oid).pop() as ExternalEvent;
    const got = JSON.parse(cli(['replay', d.dir, '--order', String(oid), '--json']).out) as { state: string; rows: ExternalEvent[] };
    assert.deepEqual(got.rows[got.rows.length - 1].seq, last.seq, `order ${oid}`);
    if (last.type === 'trade') assert.equal(got.state, (last.makerOrderId === oid ? last.makerLeavesQty : last.takerLeavesQty) === '0' ? 'filled' : 'live', `order ${oid}`);
  }
  const first = want[0];
  // the first clOrdId, before the replace, finds the same order
  const byClient = cli(['replay', d.dir, '--order', `${String(first.account)}:${String(first.clOrdId)}`, '--json']);
  assert.equal(byClient.code, 0, byClient.err);
  const lives = jsonl(byClient.out) as unknown as { orderId: number; rows: ExternalEvent[] }[];
  const same = lives.find((l) => l.orderId === id);
  assert.ok(same);
  assert.deepEqual(same.rows.map(({ ts: _ts, ...rest }) => rest), want);
  const text = cli(['replay', d.dir, '--order', String(id)]);
  assert.match(text.out, new RegExp(`^order #${id} of ${String(first.account)}: `));
  assert.match(text.out, /\n {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z {2}seq \d+ +accepted/);
});

test('replay --summary: trades, volume, notional, OHLC and per-account counts equal the live run\'s events', (t) => {
  const d = day(t);
  const r = cli(['replay', d.dir, '--summary', '--json']);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as { symbols: Record<string, string | number | null>[]; accounts: Record<string, string | number | null>[] };
  for (const sym of ['AAPL', 'MSFT']) {
    const trades = d.live.filter((e) => e.type === 'trade' && e.symbol === sym);
    const got = s.symbols.find((x) => x.symbol === sym);
    assert.ok(got);
    assert.equal(got.trades, trades.length);
    const scale = sym === 'AAPL' ? 100 : 20;
    const lots = trades.reduce((n, e) => n + Number(e.qty), 0);
    assert.equal(Number(got.volume), lots);
    const notional = trades.reduce((n, e) => n + Math.round(Number(e.price) * scale) * Number(e.qty), 0) / scale;
    assert.equal(Number(got.notional), notional);
    assert.equal(got.open, trades[0].price);
    assert.equal(got.close, trades[trades.length - 1].price);
    assert.equal(Number(got.high), Math.max(...trades.map((e) => Number(e.price))));
    assert.equal(got.orders, d.live.filter((e) => e.type === 'accepted' && e.symbol === sym).length);
  }
  for (const a of s.accounts) {
    const fills = d.live.filter((e) => e.type === 'trade' && (e.makerAccount === a.account || e.takerAccount === a.account)).length;
    const stp = d.live.filter((e) => e.type === 'cancelled' && e.reason === 'stp' && e.account === a.account).length;
    assert.equal(a.trades, fills, String(a.account));
    assert.equal(a.stpHits, stp, String(a.account));
  }
  const window = JSON.parse(cli(['replay', d.dir, '--summary', '--json', '--from', '3000', '--to', '3999']).out) as { commands: number };
  assert.equal(window.commands, 1000);
});

test('replay: clear errors for an unknown symbol, account or type, a moment outside the log, a damaged file', (t) => {
  const d = day(t);
  const b = logBounds(d.dir);
  const cases: [string[], RegExp][] = [
    [['--book', 'NOPE', '--at', '100'], /unknown symbol NOPE: the log defines AAPL, MSFT/],
    [['--book', 'AAPL', '--at', '2001-01-01T00:00:00Z'], /--at 2001-01-01T00:00:00\.000000Z is outside the log, which runs from .* to /],
    [['--book', 'AAPL', '--at', String(b.lastSeq + 1)], new RegExp(`--at ${b.lastSeq + 1}: the log holds seqs 1\\.\\.${b.lastSeq}`)],
    [['--book', 'AAPL', '--at', 'yesterday'], /--at "yesterday" is neither a seq nor an ISO-8601 time/],
    [['--events', '--format', 'jsonl', '--account', 'nobody'], /unknown account nobody/],
    [['--events', '--format', 'jsonl', '--symbol', 'NOPE'], /unknown symbol NOPE/],
    [['--events', '--format', 'jsonl', '--type', 'trades'], /--type trades: unknown event type/],
    [['--order', 'acct1:no-such-id'], /no order acct1:no-such-id in the log/],
    // --from after --to is a mistake, not an empty history (it used to print nothing, or a summary of nothing, and exit 0)
    [['--events', '--format', 'jsonl', '--from', '500', '--to', '100'], /--from seq 500 is after --to seq 100: the range is empty/],
    [['--summary', '--from', formatTime(b.lastTs), '--to', formatTime(b.firstTs)], /--from \S+Z is after --to \S+Z: the range is empty/],
    [['--summary', '--from', String(b.lastSeq), '--to', formatTime(b.firstTs)], new RegExp(`--from seq ${b.lastSeq} is after --to \\S+Z: the range is empty`)],
    // an output that cannot be opened is named, and nothing is removed
    [['--events', '--format', 'csv', '--out', d.dir], /EISDIR: illegal operation on a directory, open/],
  ];
  for (const [args, re] of cases) {
    const r = cli(['replay', d.dir, ...args]);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re, args.join(' '));
    assert.doesNotMatch(r.err, /\n\s+at /, 'a stack trace');
  }
  const surveil = cli(['surveil', d.dir, '--from', '500', '--to', '100']);
  assert.equal(surveil.code, 1, surveil.err);
  assert.match(surveil.err, /--from seq 500 is after --to seq 100: the range is empty/);
  assert.ok(listSegments(d.dir).length >= 3, 'the log folder is still there');
  assert.equal(cli(['replay', d.dir, '--book', 'AAPL']).code, 2);
  assert.equal(cli(['replay', d.dir, '--events', '--format', 'xml']).code, 2);
  // a flipped byte in a middle segment: the file and the offset of its block
  const copy = copyOf(t, d, 'matchlog-replay-damage');
  const seg = listSegments(copy)[1];
  const blk = segmentBlocks(seg.path).blocks[3];
  const bytes = readFileSync(seg.path);
  bytes[blk.offset + 40] ^= 0xff;
  writeFileSync(seg.path, bytes);
  const r = cli(['replay', copy, '--summary']);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`log damaged: ${seg.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at byte offset ${blk.offset}: `));
});

test('replay: a snapshot of another log, or one that does not restore to its hash, is named and passed over', (t) => {
  const d = day(t);
  const copy = copyOf(t, d, 'matchlog-replay-foreign');
  const snaps = listSnapshots(copy);
  const target = snaps[snaps.length - 2];
  const snap = readSnapshot(target.path);
  writeFileSync(target.path, encodeSnapshot({ ...snap, logId: 'f'.repeat(32) }));
  const other = snaps[snaps.length - 3];
  const bad = readSnapshot(other.path);
  writeFileSync(other.path, encodeSnapshot({ ...bad, hash: '0123456789abcdef' }));
  const at = String(target.seq + 5);
  const r = cli(['replay', copy, '--book', 'AAPL', '--at', at, '--json']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`${target.name.replace('.', '\\.')} belongs to another log \\(f{32}\\); not used`));
  assert.match(r.err, new RegExp(`${other.name.replace('.', '\\.')} does not restore to its recorded hash; not used`));
  const { ts: _ts, ...book } = JSON.parse(r.out) as ExternalEvent;
  assert.deepEqual(book, referenceBook(d, Number(at), 'AAPL').e);
});

test('replay: a torn tail (a block being written) is not history', (t) => {
  const d = day(t);
  const copy = copyOf(t, d, 'matchlog-replay-torn');
  const segs = listSegments(copy);
  const last = segs[segs.length - 1];
  const { blocks } = segmentBlocks(last.path);
  const whole = readFileSync(last.path);
  const lastBlock = blocks[blocks.length - 1];
  // half of a copy of the last block, as a crash mid-write leaves it
  appendFileSync(last.path, whole.subarray(lastBlock.offset, lastBlock.offset + Math.floor((lastBlock.end - lastBlock.offset) / 2)));
  const a = cli(['replay', d.dir, '--summary', '--json']);
  const b = cli(['replay', copy, '--summary', '--json']);
  assert.equal(b.code, 0, b.err);
  assert.equal(b.out, a.out);
  // a block being written is normal beside a live exchange: nothing to warn about
  assert.doesNotMatch(b.err, /cut short|damaged|missing/);
});

test('replay, surveil: a newest segment cut short that a snapshot or index vouches for is named (file, offset, last seq), not a shorter history', (t) => {
  const d = day(t);
  const esc = (x: string): string => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // mid-block (what a crash leaves at the end) and at a block boundary: the index entries and the closing snapshot
  // past the cut say those commands were acknowledged, so neither is the torn write of a live exchange
  for (const midBlock of [true, false]) {
    const copy = copyOf(t, d, 'matchlog-replay-cut');
    const segs = listSegments(copy);
    const last = segs[segs.length - 1];
    const { blocks } = segmentBlocks(last.path);
    const k = Math.floor(blocks.length / 2);
    const end = blocks[k].offset;
    const lastSeq = blocks[k - 1].lastSeq;
    truncateSync(last.path, midBlock ? end + 7 : end);
    const before = folderState(copy);
    const where = new RegExp(`log damaged: ${esc(last.path)} at byte offset ${end}: the log ends at seq ${lastSeq}, but .*acknowledged are missing.*would end early, after seq ${lastSeq}`);
    for (const args of [['replay', copy, '--summary', '--json'], ['replay', copy, '--events', '--format', 'jsonl'], ['replay', copy, '--order', '5'], ['surveil', copy]]) {
      const r = cli(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, where, args.join(' '));
      assert.doesNotMatch(r.err, /\n\s+at /, 'a stack trace');
      assert.equal(r.out, '', args.join(' '));
    }
    // verify says the same of the folder
    assert.equal(cli(['verify', copy]).code, 1);
    // a range that ends before the cut is whole: it is given, with a note
    const upTo = cli(['replay', copy, '--summary', '--json', '--to', String(lastSeq)]);
    assert.equal(upTo.code, 0, upTo.err);
    assert.equal(upTo.out, cli(['replay', d.dir, '--summary', '--json', '--to', String(lastSeq)]).out);
    assert.match(upTo.err, new RegExp(`note: ${esc(last.path)} is cut short at byte offset ${end}, after seq ${lastSeq} `));
    const book = cli(['replay', copy, '--book', 'AAPL', '--at', String(lastSeq), '--json']);
    assert.equal(book.code, 0, book.err);
    assert.match(book.err, /is cut short at byte offset/);
    const surveil = cli(['surveil', copy, '--to', String(lastSeq)]);
    assert.equal(surveil.code, 0, surveil.err);
    assert.match(surveil.err, /is cut short at byte offset/);
    assert.equal(folderState(copy), before);
  }
});

test('replay beside a running exchange: each run sees a committed prefix of the history, and nothing is written', async (t) => {
  const root = tempDir(t, 'matchlog-replay-live-');
  const dir = join(root, 'log');
  const inst = join(root, 'instruments.json');
  writeFileSync(inst, JSON.stringify(TEST_INSTRUMENTS));
  const writer = spawn(process.execPath, [BIN, 'apply', '--log', dir, '--instruments', inst], { stdio: ['pipe', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => writer.on('close', resolve));
  const flow = new Flow(prng(5), 'live');
  const prefixes: ExternalEvent[][] = [];
  try {
    // rounds go on (up to 30) until three replays ran and one of them mid-stream: on a loaded machine the writer may lag
    const midStream = () => prefixes.some((p) => p.length > 0);
    for (let round = 0; round < 30 && !(round >= 6 && prefixes.length >= 3 && midStream()); round++) {
      const lines: string[] = [];
      for (let i = 0; i < 400; i++) lines.push(JSON.stringify(flow.next()));
      writer.stdin.write(lines.join('\n') + '\n');
      await new Promise((r) => setTimeout(r, 150));
      if (listSegments(dir).length === 0) continue;
      const r = await cliAsync(['replay', dir, '--events', '--format', 'jsonl']);
      assert.equal(r.code, 0, r.err);
      prefixes.push(jsonl(r.out));
    }
  } finally {
    writer.stdin.end();
    assert.equal(await exited, 0);
  }
  const before = folderState(dir);
  const all = jsonl((await cliAsync(['replay', dir, '--events', '--format', 'jsonl'])).out);
  assert.ok(prefixes.length >= 3 && prefixes.some((p) => p.length > 0 && p.length < all.length), 'no replay ran mid-stream');
  for (const p of prefixes) assert.deepEqual(p, all.slice(0, p.length));
  assert.equal(folderState(dir), before);
});

const cliAsync = matchlogAsync;
