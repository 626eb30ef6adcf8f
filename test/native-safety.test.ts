// Bad input to the native ladder throws a JS Error and leaves the ladder intact;
// nothing crashes the process. Also covers the loader (ladderInfo, MATCHLOG_NATIVE).
//
// Without the addon these tests FAIL unless MATCHLOG_NATIVE=0 (then they are skipped).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BUY, FILL_CAPACITY, FILL_STRIDE, IO_COUNT, IO_HANDLE, IO_HEADER, IO_LEVEL_ORDERS, IO_LEVEL_QTY, IO_STOP, SELL, STOP_DONE,
  STOP_FULL, type Side,
} from '../native/ladder.js';
import { createLadder, createNativeLadder, ladderFactory, ladderInfo, nativeAvailable, type NativeLadder } from '../native/index.js';
import { probeLadder } from './ladder-probe.js';

const available = nativeAvailable();
const skip = !available && process.env.MATCHLOG_NATIVE === '0' ? 'MATCHLOG_NATIVE=0: native ladder not tested' : false;

test('native addon is available', { skip }, () => {
  assert.ok(available, `native ladder unavailable (${ladderInfo().reason}); run \`node scripts/build-native.mjs\``);
});

/** A ladder with a small book: bids 99 (two orders), 98; ask 101. */
function book(): { l: NativeLadder; h: number[] } {
  const l = createNativeLadder();
  const h = [l.add(BUY, 99, 5, 1), l.add(BUY, 99, 3, 2), l.add(BUY, 98, 4, 1), l.add(SELL, 101, 7, 3)];
  return { l, h };
}

function snapshot(l: NativeLadder): string {
  const out = new Float64Array(30);
  const d = [BUY, SELL].map((s) => Array.from(out.subarray(0, l.depth(s as Side, 10, out) * 3)));
  return JSON.stringify({ d, b: l.handles(BUY), s: l.handles(SELL), n: l.orderCount() });
}

/** fn throws an Error whose message matches re, and the book did not change. */
function rejects(l: NativeLadder, fn: () => unknown, re: RegExp): void {
  const before = snapshot(l);
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, 'a JS Error');
    assert.match(e.message, re);
    return true;
  });
  assert.equal(snapshot(l), before, 'a rejected call changes nothing');
  l.check();
}

const BAD_NUMBERS = [NaN, Infinity, -Infinity, 1.5, -0.25, 2 ** 53, -(2 ** 53), 1e300];

test('add rejects bad side, price, qty and owner', { skip: !available }, () => {
  const { l } = book();
  for (const side of [2, -1, 0.5, NaN]) rejects(l, () => l.add(side as Side, 100, 1, 0), /side/);
  for (const p of BAD_NUMBERS) rejects(l, () => l.add(BUY, p, 1, 0), /price/);
  for (const q of [...BAD_NUMBERS, 0, -1]) rejects(l, () => l.add(BUY, 100, q, 0), /qty/);
  for (const o of [...BAD_NUMBERS, -1, 2 ** 31]) rejects(l, () => l.add(BUY, 100, 1, o), /owner/);
  // edge values are fine
  const h = l.add(SELL, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 2 ** 31 - 1);
  assert.equal(l.priceOf(h), Number.MAX_SAFE_INTEGER);
  assert.equal(l.qtyOf(h), Number.MAX_SAFE_INTEGER);
  // ...but a level total past 2^53 - 1 is refused rather than rounded
  rejects(l, () => l.add(SELL, Number.MAX_SAFE_INTEGER, 1, 0), /exceed/);
  const g = l.add(BUY, -Number.MAX_SAFE_INTEGER, 1, 0);
  assert.equal(l.priceOf(g), -Number.MAX_SAFE_INTEGER);
});

test('wrong argument types throw, never crash', { skip: !available }, () => {
  const { l } = book();
  const loose = l as unknown as Record<string, (...a: unknown[]) => unknown>;
  // add/remove/reduce/match pass their operands through the Float64Array io buffer:
  // a missing or non-numeric operand arrives as NaN and is refused like one
  rejects(l, () => loose.add.call(l, BUY), /./);
  rejects(l, () => loose.add.call(l, BUY, 'x', 1, 0), /price/);
  rejects(l, () => loose.match.call(l, BUY, 100, 1, 0), /cap/);
  rejects(l, () => loose.match.call(l, BUY, 100, 1, 0, {}, false), /cap/);
  rejects(l, () => loose.remove.call(l, {}), /./);
  rejects(l, () => loose.depth.call(l, BUY, 2, new Int32Array(6)), /./);
  rejects(l, () => loose.fillable.call(l, BUY, 'x', 1, 0, false), /limit/);
  rejects(l, () => loose.best.call(l, 'buy'), /side/);
  rejects(l, () => loose.handles.call({}, BUY), /./);
});

test('unknown, freed and out-of-range handles are rejected', { skip: !available }, () => {
  const { l, h } = book();
  l.remove(h[1]);
  for (const bad of [h[1], 4, 1000, 2 ** 32, -1, 0.5, NaN, Infinity, 1e300]) {
    rejects(l, () => l.remove(bad), /handle/);
    rejects(l, () => l.reduce(bad, 1), /handle/);
    rejects(l, () => l.qtyOf(bad), /handle/);
    rejects(l, () => l.priceOf(bad), /handle/);
  }
  // a maker filled away is gone too
  assert.equal(l.match(BUY, 101, 7, 9, FILL_CAPACITY, false), 1);
  rejects(l, () => l.remove(h[3]), /handle/);
});

test('reduce outside 0 < qty <= current is rejected', { skip: !available }, () => {
  const { l, h } = book();
  for (const q of [0, -1, 6, 1.5, NaN, Infinity]) rejects(l, () => l.reduce(h[0], q), /qty|reduce/);
  l.reduce(h[0], 2);
  assert.equal(l.levelQty(BUY, 99), 5);
});

test('match and fillable reject bad numbers and caps', { skip: !available }, () => {
  const { l } = book();
  const C = FILL_CAPACITY;
  for (const v of [NaN, 1.5, Infinity, 2 ** 53]) {
    rejects(l, () => l.match(SELL, v, 1, 0, C, false), /limit/);
    rejects(l, () => l.match(SELL, 0, v, 0, C, false), /want/);
    rejects(l, () => l.match(SELL, 0, 1, v, C, false), /owner/);
    rejects(l, () => l.match(SELL, 0, 1, 0, v, false), /cap/);
    rejects(l, () => l.fillable(SELL, v, 1, 0, false), /limit/);
    rejects(l, () => l.fillable(SELL, 0, v, 0, false), /want/);
  }
  rejects(l, () => l.match(3 as Side, 0, 1, 0, C, false), /side/);
  rejects(l, () => l.match(SELL, 0, 1, 0, C + 1, false), /cap/);
  rejects(l, () => l.match(SELL, 0, 1, 0, -1, false), /cap/);
  // resting needs an owner an account can have
  rejects(l, () => l.match(SELL, 200, 1, -1, C, true), /owner/);
  rejects(l, () => l.match(SELL, 200, 1, 2 ** 31, C, true), /owner/);
  // a rest that could push its level past 2^53 - 1 is refused before the walk
  l.add(SELL, 500, 2 ** 52, 0);
  rejects(l, () => l.match(SELL, 500, 2 ** 52, 9, C, true), /exceed/);
  // cap 0: a clean STOP_FULL answer, nothing written after the header
  const io = l.io;
  io.fill(-7, IO_HEADER);
  assert.equal(l.match(SELL, 0, 1, 0, 0, false), 0);
  assert.equal(io[IO_STOP], STOP_FULL);
  assert.equal(io[IO_COUNT], 0);
  assert.equal(io[IO_HANDLE], -1);
  assert.ok(io.subarray(IO_HEADER).every((v) => v === -7));
  // cap 1: one record, then full
  assert.equal(l.match(SELL, 0, 100, 0, 1, true), 1);
  assert.equal(io[IO_STOP], STOP_FULL);
  assert.equal(io[IO_HANDLE], -1, 'no rest when the walk did not end');
  assert.deepEqual(Array.from(io.subarray(IO_HEADER, IO_HEADER + FILL_STRIDE)), [0, 99, 5, 0, 3, 1]);
  assert.ok(io.subarray(IO_HEADER + FILL_STRIDE).every((v) => v === -7));
  // and the rest: the remainder rests at the limit, its level state in the header
  assert.equal(l.match(SELL, 99, 100, 0, C, true), 1);
  assert.equal(io[IO_STOP], STOP_DONE);
  assert.ok(io[IO_HANDLE] >= 0);
  assert.equal(l.qtyOf(io[IO_HANDLE]), 97);
  assert.equal(l.priceOf(io[IO_HANDLE]), 99);
  assert.deepEqual([io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS]], [97, 1]);
  l.check();
});

test('add, remove and reduce leave the level state in io', { skip: !available }, () => {
  const { l, h } = book();
  const io = l.io;
  const g = l.add(BUY, 99, 2, 4);
  assert.deepEqual([io[IO_HANDLE], io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS]], [g, 10, 3]);
  l.reduce(h[0], 1);
  assert.deepEqual([io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS]], [6, 3]);
  l.remove(h[2]);
  assert.deepEqual([io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS]], [0, 0]);
  assert.equal(l.io, io, 'the same buffer for the ladder\'s life');
});

test('the io buffer and the ladder outlive each other safely', { skip: !available }, () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  // keep only the io buffers: the ladders behind them may be collected, the memory may not
  const kept: Float64Array[] = [];
  for (let i = 0; i < 200; i++) {
    const x = createNativeLadder();
    x.add(BUY, 100, 5, 0);
    kept.push(x.io);
  }
  gc?.();
  for (const io of kept) {
    io[IO_HEADER] = 1;
    assert.equal(io[IO_LEVEL_QTY], 5);
  }
});

test('depth rejects a buffer smaller than the levels it must write', { skip: !available }, () => {
  const { l } = book();
  rejects(l, () => l.depth(BUY, 2, new Float64Array(5)), /depth buffer too small/);
  rejects(l, () => l.depth(BUY, NaN, new Float64Array(6)), /n/);
  rejects(l, () => l.depth(BUY, 1.5, new Float64Array(6)), /n/);
  // n larger than the levels: only what exists must fit
  assert.equal(l.depth(BUY, 1e15, new Float64Array(6)), 2);
  assert.equal(l.depth(BUY, -3, new Float64Array(0)), 0);
  assert.equal(l.depth(SELL, 5, new Float64Array(3)), 1);
});

test('queries reject bad side and price', { skip: !available }, () => {
  const { l } = book();
  for (const s of [2, -1, NaN, 0.5]) {
    rejects(l, () => l.best(s as Side), /side/);
    rejects(l, () => l.levelCount(s as Side), /side/);
    rejects(l, () => l.handles(s as Side), /side/);
    rejects(l, () => l.levelQty(s as Side, 99), /side/);
  }
  for (const p of [NaN, 1.5, 2 ** 53]) {
    rejects(l, () => l.levelQty(BUY, p), /price/);
    rejects(l, () => l.levelOrders(BUY, p), /price/);
  }
  assert.ok(Number.isNaN(createNativeLadder().best(BUY)));
  assert.equal(l.levelQty(BUY, 1234), 0);
  assert.equal(l.levelOrders(BUY, 99), 2);
});

test('a ladder keeps working after many rejected calls, and is garbage collected', { skip: !available }, () => {
  const { l, h } = book();
  for (let i = 0; i < 10000; i++) {
    assert.throws(() => l.remove(1000 + i));
  }
  assert.equal(l.match(SELL, 0, 100, 9, FILL_CAPACITY, false), 3);
  assert.equal(l.io[IO_STOP], STOP_DONE);
  assert.equal(l.orderCount(), 1);
  assert.equal(l.qtyOf(h[3]), 7);
  // many short-lived ladders: their memory goes with them (run with --expose-gc for a real check)
  const gc = (globalThis as { gc?: () => void }).gc;
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 2000; i++) {
    const x = createNativeLadder();
    for (let k = 0; k < 200; k++) x.add((k & 1) as Side, 100 + (k % 17), 1 + k, k % 5);
    if (gc && i % 100 === 0) gc();
  }
  gc?.();
  const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(grown < 200, `rss grew by ${grown.toFixed(0)} MiB`);
});

test('a thrown error does not kill a child process either (no abort on bad input)', { skip: !available }, () => {
  const index = fileURLToPath(new URL('../native/index.js', import.meta.url));
  const script = `
    import { createNativeLadder } from ${JSON.stringify(index)};
    const l = createNativeLadder();
    let errors = 0;
    for (const f of [() => l.remove(5), () => l.add(0, NaN, 1, 0), () => l.match(0, 1, 1, 0, 1e9, false),
                     () => l.depth(0, 1, null), () => l.reduce(-1, 1), () => l.qtyOf(2 ** 40)]) {
      try { f(); } catch (e) { if (e instanceof Error) errors++; }
    }
    console.log(errors);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '6');
});

test('loader: createLadder kinds, ladderFactory and MATCHLOG_NATIVE', { skip: !available }, () => {
  assert.equal(createLadder('ts').kind, 'ts');
  assert.equal(createLadder('native').kind, 'native');
  const probe = probeLadder;
  const parse = (s: string): { info: { path: string; reason: string; addon?: string }; kind: string } => JSON.parse(s);
  const def = probe({ MATCHLOG_NATIVE: '' });
  assert.equal(def.status, 0, def.err);
  assert.equal(parse(def.out).kind, 'native');
  assert.equal(parse(def.out).info.path, 'native');
  assert.match(parse(def.out).info.addon ?? '', /\.node$/);
  const off = parse(probe({ MATCHLOG_NATIVE: '0' }).out);
  assert.equal(off.kind, 'ts');
  assert.equal(off.info.path, 'ts');
  assert.match(off.info.reason, /MATCHLOG_NATIVE=0/);
  const missing = parse(probe({ MATCHLOG_NATIVE: '1', MATCHLOG_NATIVE_ADDON: '/nonexistent/matchlog.node' }).out);
  assert.match(missing.kind, /^threw: .*MATCHLOG_NATIVE=1/);
  assert.equal(missing.info.path, 'ts');
  const fallback = parse(probe({ MATCHLOG_NATIVE: '', MATCHLOG_NATIVE_ADDON: '/nonexistent/matchlog.node' }).out);
  assert.equal(fallback.kind, 'ts');
  assert.match(fallback.info.reason, /not built/);
  // a file that is not an addon: a clear reason, TS fallback, no crash
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-'));
  const junk = join(dir, 'matchlog.node');
  writeFileSync(junk, 'not a shared library');
  const bogus = parse(probe({ MATCHLOG_NATIVE: '', MATCHLOG_NATIVE_ADDON: junk }).out);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(bogus.kind, 'ts');
  assert.match(bogus.info.reason, /failed to load/);
  // and ladderFactory in this process agrees with ladderInfo
  assert.equal(ladderFactory()().kind, ladderInfo().path);
});
