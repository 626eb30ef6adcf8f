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

/** A ladder with a small book 0 (bids 99 (two orders), 98; ask 101; handles 0-3) and an empty book 1. */
function book(): { l: NativeLadder; h: number[] } {
  const l = createNativeLadder();
  assert.equal(l.addBook(), 0);
  assert.equal(l.addBook(), 1);
  l.add(0, BUY, 99, 5, 1, 0);
  l.add(0, BUY, 99, 3, 2, 1);
  l.add(0, BUY, 98, 4, 1, 2);
  l.add(0, SELL, 101, 7, 3, 3);
  return { l, h: [0, 1, 2, 3] };
}

function snapshot(l: NativeLadder): string {
  const out = new Float64Array(30);
  const books = [0, 1].map((b) => {
    const d = [BUY, SELL].map((s) => Array.from(out.subarray(0, l.depth(b, s as Side, 10, out) * 3)));
    return { d, b: l.handles(b, BUY), s: l.handles(b, SELL), n: l.orderCount(b) };
  });
  return JSON.stringify(books);
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

test('add rejects bad book, side, price, qty, owner and handle', { skip: !available }, () => {
  const { l, h } = book();
  for (const b of [2, -1, 0.5, NaN, 2 ** 32]) rejects(l, () => l.add(b, BUY, 100, 1, 0, 10), /book/);
  for (const side of [2, -1, 0.5, NaN]) rejects(l, () => l.add(0, side as Side, 100, 1, 0, 10), /side/);
  for (const p of BAD_NUMBERS) rejects(l, () => l.add(0, BUY, p, 1, 0, 10), /price/);
  for (const q of [...BAD_NUMBERS, 0, -1]) rejects(l, () => l.add(0, BUY, 100, q, 0, 10), /qty/);
  for (const o of [...BAD_NUMBERS, -1, 2 ** 31]) rejects(l, () => l.add(0, BUY, 100, 1, o, 10), /owner/);
  for (const bad of [...BAD_NUMBERS, -1, 2 ** 31 - 1, 2 ** 32]) rejects(l, () => l.add(0, BUY, 100, 1, 0, bad), /handle/);
  // a handle that rests cannot be added again, in its own book or another
  for (const x of h) {
    rejects(l, () => l.add(0, BUY, 100, 1, 0, x), /handle/);
    rejects(l, () => l.add(1, SELL, 100, 1, 0, x), /handle/);
  }
  // edge values are fine
  l.add(0, SELL, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 2 ** 31 - 1, 10);
  assert.equal(l.priceOf(10), Number.MAX_SAFE_INTEGER);
  assert.equal(l.qtyOf(10), Number.MAX_SAFE_INTEGER);
  // ...but a level total past 2^53 - 1 is refused rather than rounded
  rejects(l, () => l.add(0, SELL, Number.MAX_SAFE_INTEGER, 1, 0, 11), /exceed/);
  l.add(0, BUY, -Number.MAX_SAFE_INTEGER, 1, 0, 11);
  assert.equal(l.priceOf(11), -Number.MAX_SAFE_INTEGER);
  // a handle far past the others: the slots grow to fit it
  l.add(1, BUY, 5, 1, 0, 100_000);
  assert.equal(l.qtyOf(100_000), 1);
  assert.equal(l.orderCount(1), 1);
  l.check();
});

test('wrong argument types throw, never crash', { skip: !available }, () => {
  const { l } = book();
  const loose = l as unknown as Record<string, (...a: unknown[]) => unknown>;
  // add/remove/reduce/match pass their operands through the Float64Array io buffer:
  // a missing or non-numeric operand arrives as NaN and is refused like one
  rejects(l, () => loose.add.call(l, 0, BUY), /./);
  rejects(l, () => loose.add.call(l, 0, BUY, 'x', 1, 0, 9), /price/);
  rejects(l, () => loose.add.call(l, 0, BUY, 100, 1, 0), /handle/);
  rejects(l, () => loose.add.call(l, 'x', BUY, 100, 1, 0, 9), /book/);
  rejects(l, () => loose.match.call(l, 0, BUY, 100, 1, 0), /cap/);
  rejects(l, () => loose.match.call(l, 0, BUY, 100, 1, 0, {}, false, 9), /cap/);
  rejects(l, () => loose.match.call(l, 0, BUY, 100, 1, 0, 1, true), /handle/);
  rejects(l, () => loose.remove.call(l, {}), /./);
  rejects(l, () => loose.depth.call(l, 0, BUY, 2, new Int32Array(6)), /./);
  rejects(l, () => loose.fillable.call(l, 0, BUY, 'x', 1, 0, false), /limit/);
  rejects(l, () => loose.best.call(l, 0, 'buy'), /side/);
  rejects(l, () => loose.handles.call({}, 0, BUY), /./);
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
  assert.equal(l.match(0, BUY, 101, 7, 9, FILL_CAPACITY, false, 0), 1);
  rejects(l, () => l.remove(h[3]), /handle/);
  rejects(l, () => l.qtyOf(h[3]), /handle/);
});

test('reduce outside 0 < qty <= current is rejected', { skip: !available }, () => {
  const { l, h } = book();
  for (const q of [0, -1, 6, 1.5, NaN, Infinity]) rejects(l, () => l.reduce(h[0], q), /qty|reduce/);
  l.reduce(h[0], 2);
  assert.equal(l.levelQty(0, BUY, 99), 5);
});

test('match and fillable reject bad numbers, caps, books and rest handles', { skip: !available }, () => {
  const { l, h } = book();
  const C = FILL_CAPACITY;
  for (const v of [NaN, 1.5, Infinity, 2 ** 53]) {
    rejects(l, () => l.match(0, SELL, v, 1, 0, C, false, 9), /limit/);
    rejects(l, () => l.match(0, SELL, 0, v, 0, C, false, 9), /want/);
    rejects(l, () => l.match(0, SELL, 0, 1, v, C, false, 9), /owner/);
    rejects(l, () => l.match(0, SELL, 0, 1, 0, v, false, 9), /cap/);
    rejects(l, () => l.fillable(0, SELL, v, 1, 0, false), /limit/);
    rejects(l, () => l.fillable(0, SELL, 0, v, 0, false), /want/);
  }
  for (const b of [2, -1, 0.5, NaN]) {
    rejects(l, () => l.match(b, SELL, 0, 1, 0, C, false, 9), /book/);
    rejects(l, () => l.fillable(b, SELL, 0, 1, 0, false), /book/);
  }
  rejects(l, () => l.match(0, 3 as Side, 0, 1, 0, C, false, 9), /side/);
  rejects(l, () => l.match(0, SELL, 0, 1, 0, C + 1, false, 9), /cap/);
  rejects(l, () => l.match(0, SELL, 0, 1, 0, -1, false, 9), /cap/);
  // resting needs an owner an account can have
  rejects(l, () => l.match(0, SELL, 200, 1, -1, C, true, 9), /owner/);
  rejects(l, () => l.match(0, SELL, 200, 1, 2 ** 31, C, true, 9), /owner/);
  // ...and a handle that is not resting: refused before the walk, even one the walk would free
  for (const bad of [h[0], h[3], -1, 0.5, NaN, 2 ** 31 - 1]) rejects(l, () => l.match(0, SELL, 98, 100, 9, C, true, bad), /handle/);
  // a rest that could push its level past 2^53 - 1 is refused before the walk
  l.add(0, SELL, 500, 2 ** 52, 0, 20);
  rejects(l, () => l.match(0, SELL, 500, 2 ** 52, 9, C, true, 21), /exceed/);
  // cap 0: a clean STOP_FULL answer, nothing written after the header
  const io = l.io;
  io.fill(-7, IO_HEADER);
  assert.equal(l.match(0, SELL, 0, 1, 0, 0, false, 9), 0);
  assert.equal(io[IO_STOP], STOP_FULL);
  assert.equal(io[IO_COUNT], 0);
  assert.equal(io[IO_HANDLE], -1);
  assert.ok(io.subarray(IO_HEADER).every((v) => v === -7));
  // cap 1: one record, then full
  assert.equal(l.match(0, SELL, 0, 100, 0, 1, true, 21), 1);
  assert.equal(io[IO_STOP], STOP_FULL);
  assert.equal(io[IO_HANDLE], -1, 'no rest when the walk did not end');
  assert.deepEqual(Array.from(io.subarray(IO_HEADER, IO_HEADER + FILL_STRIDE)), [0, 99, 5, 0, 3, 1]);
  assert.ok(io.subarray(IO_HEADER + FILL_STRIDE).every((v) => v === -7));
  // and the rest: the remainder rests at the limit under the handle given, its level state in the header
  assert.equal(l.match(0, SELL, 99, 100, 0, C, true, 21), 1);
  assert.equal(io[IO_STOP], STOP_DONE);
  assert.equal(io[IO_HANDLE], 21);
  assert.equal(l.qtyOf(21), 97);
  assert.equal(l.priceOf(21), 99);
  assert.equal(l.orderCount(1), 0, 'book 1 untouched');
  assert.deepEqual([io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS]], [97, 1]);
  l.check();
});

test('add, remove and reduce leave the level state in io', { skip: !available }, () => {
  const { l, h } = book();
  const io = l.io;
  l.add(0, BUY, 99, 2, 4, 77);
  assert.deepEqual([io[IO_HANDLE], io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS]], [77, 10, 3]);
  // the same price in the other book is another level
  l.add(1, BUY, 99, 2, 4, 78);
  assert.deepEqual([io[IO_HANDLE], io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS]], [78, 2, 1]);
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
    x.addBook();
    x.add(0, BUY, 100, 5, 0, 0);
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
  rejects(l, () => l.depth(0, BUY, 2, new Float64Array(5)), /depth buffer too small/);
  rejects(l, () => l.depth(0, BUY, NaN, new Float64Array(6)), /n/);
  rejects(l, () => l.depth(0, BUY, 1.5, new Float64Array(6)), /n/);
  rejects(l, () => l.depth(2, BUY, 1, new Float64Array(6)), /book/);
  rejects(l, () => l.handles(2, BUY), /book/);
  // n larger than the levels: only what exists must fit
  assert.equal(l.depth(0, BUY, 1e15, new Float64Array(6)), 2);
  assert.equal(l.depth(0, BUY, -3, new Float64Array(0)), 0);
  assert.equal(l.depth(0, SELL, 5, new Float64Array(3)), 1);
  assert.equal(l.depth(1, SELL, 5, new Float64Array(0)), 0);
});

test('queries reject bad book, side and price', { skip: !available }, () => {
  const { l } = book();
  for (const s of [2, -1, NaN, 0.5]) {
    rejects(l, () => l.best(0, s as Side), /side/);
    rejects(l, () => l.levelCount(0, s as Side), /side/);
    rejects(l, () => l.handles(0, s as Side), /side/);
    rejects(l, () => l.levelQty(0, s as Side, 99), /side/);
  }
  for (const b of [2, -1, NaN, 0.5, 2 ** 40]) {
    rejects(l, () => l.best(b, BUY), /book/);
    rejects(l, () => l.levelCount(b, BUY), /book/);
    rejects(l, () => l.levelQty(b, BUY, 99), /book/);
    rejects(l, () => l.levelOrders(b, BUY, 99), /book/);
    rejects(l, () => l.orderCount(b), /book/);
  }
  for (const p of [NaN, 1.5, 2 ** 53]) {
    rejects(l, () => l.levelQty(0, BUY, p), /price/);
    rejects(l, () => l.levelOrders(0, BUY, p), /price/);
  }
  const fresh = createNativeLadder();
  assert.throws(() => fresh.best(0, BUY), /book/, 'no book yet');
  fresh.addBook();
  assert.ok(Number.isNaN(fresh.best(0, BUY)));
  assert.equal(l.levelQty(0, BUY, 1234), 0);
  assert.equal(l.levelOrders(0, BUY, 99), 2);
  assert.equal(l.levelOrders(1, BUY, 99), 0);
});

test('a ladder keeps working after many rejected calls, and is garbage collected', { skip: !available }, () => {
  const { l, h } = book();
  for (let i = 0; i < 10000; i++) {
    assert.throws(() => l.remove(1000 + i));
  }
  assert.equal(l.match(0, SELL, 0, 100, 9, FILL_CAPACITY, false, 0), 3);
  assert.equal(l.io[IO_STOP], STOP_DONE);
  assert.equal(l.orderCount(0), 1);
  assert.equal(l.qtyOf(h[3]), 7);
  // many short-lived ladders: their memory goes with them (run with --expose-gc for a real check)
  const gc = (globalThis as { gc?: () => void }).gc;
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 2000; i++) {
    const x = createNativeLadder();
    x.addBook();
    for (let k = 0; k < 200; k++) x.add(0, (k & 1) as Side, 100 + (k % 17), 1 + k, k % 5, k);
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
    l.addBook();
    let errors = 0;
    for (const f of [() => l.remove(5), () => l.add(0, 0, NaN, 1, 0, 0), () => l.match(0, 0, 1, 1, 0, 1e9, false, 0),
                     () => l.depth(0, 0, 1, null), () => l.reduce(-1, 1), () => l.qtyOf(2 ** 40), () => l.best(7, 0),
                     () => { l.add(0, 0, 1, 1, 0, 3); l.add(0, 1, 9, 1, 0, 3); }]) {
      try { f(); } catch (e) { if (e instanceof Error) errors++; }
    }
    console.log(errors);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '8');
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
