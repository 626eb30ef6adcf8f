// The hot function's protocol (src/binding.rs, native/index.ts): the ladder id travels
// in a selector shared by all ladders of a thread, the best prices of the book last
// touched are published in the io scratch (IO_BEST, IO_BEST_BOOK) so that best() of that
// book does not cross, and match hands back an int32.
// The addon must refuse whatever JS leaves in the selector that names no live ladder,
// and the published best prices must always be what the crossing would answer.
//
// Without the addon these tests FAIL unless MATCHLOG_NATIVE=0 (then they are skipped).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { BUY, FILL_CAPACITY, NO_LIMIT_BUY, NO_LIMIT_SELL, SELL, type Side } from '../native/ladder.js';
import { IO_ARGS, IO_BEST, IO_BEST_BOOK, OP_ADD_BOOK, OP_BEST, OP_ORDER_COUNT } from '../native/layout.js';
import { TsLadder } from '../native/ts-ladder.js';
import { createNativeLadder, ladderInfo, nativeAddonFile, nativeAvailable } from '../native/index.js';

const available = nativeAvailable();
const skip = !available && process.env.MATCHLOG_NATIVE === '0' ? 'MATCHLOG_NATIVE=0: native ladder not tested' : false;

test('native addon is available', { skip }, () => {
  assert.ok(available, `native ladder unavailable (${ladderInfo().reason}); run \`node scripts/build-native.mjs\``);
});

interface RawAddon {
  NativeLadder: new () => { id: number; io(): Float64Array };
  hot(): { run: () => void; selector: Float64Array };
}

function addon(): RawAddon {
  const file = nativeAddonFile();
  assert.ok(file !== undefined);
  return createRequire(import.meta.url)(file) as RawAddon;
}

test('hot(): every selector it hands out is the same memory', { skip: skip || !available }, () => {
  const m = addon();
  const a = m.hot();
  const b = m.hot();
  assert.equal(a.selector.length, 1);
  a.selector[0] = 12345;
  assert.equal(b.selector[0], 12345);
  // and it drives the ladder it names
  const l = new m.NativeLadder();
  const io = l.io();
  b.selector[0] = l.id;
  io[IO_ARGS] = OP_ADD_BOOK;
  a.run();
  assert.equal(io[5], 0, 'the first book is book 0');
  io[IO_ARGS] = OP_ORDER_COUNT;
  io[IO_ARGS + 1] = 0;
  a.run();
  assert.equal(io[5], 0);
  // a book that was never added is refused
  io[IO_ARGS + 1] = 1;
  assert.throws(() => a.run(), /unknown book 1/);
});

test('a selector naming no live ladder is refused, never followed', { skip: skip || !available }, () => {
  const m = addon();
  const { run, selector } = m.hot();
  const l = new m.NativeLadder();
  const io = l.io();
  selector[0] = l.id;
  io[IO_ARGS] = OP_ADD_BOOK;
  run();
  io[IO_ARGS] = OP_BEST;
  io[IO_ARGS + 1] = 0;
  io[IO_ARGS + 2] = BUY;
  for (const bad of [NaN, -1, -0.5, 0.5, l.id + 0.25, 2 ** 32, 2 ** 32 + l.id, 1e300, Infinity, -Infinity, 1e6]) {
    selector[0] = bad;
    assert.throws(() => run(), /no live ladder/, `selector ${bad}`);
  }
  selector[0] = l.id;
  run();
  assert.ok(Number.isNaN(io[5]));
});

test('published best prices equal the crossing and TsLadder after every operation, in each book', { skip: skip || !available }, () => {
  const nat = createNativeLadder();
  const ts = new TsLadder();
  const io = nat.io;
  assert.ok(Number.isNaN(io[IO_BEST]) && Number.isNaN(io[IO_BEST + 1]) && io[IO_BEST_BOOK] === -1, 'a new ladder: nothing published');
  for (let b = 0; b < 3; b++) {
    assert.equal(nat.addBook(), b);
    assert.equal(ts.addBook(), b);
  }
  let x = 42;
  const rnd = (n: number): number => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % n;
  };
  let next = 0;
  const books = [0, 1, 2];
  for (let i = 0; i < 5000; i++) {
    const book = rnd(3);
    // both ladders hold the same orders under the same handles (the caller's)
    const hs = books.flatMap((b) => [...Array.from(nat.handles(b, BUY)), ...Array.from(nat.handles(b, SELL))]);
    assert.deepEqual(hs, books.flatMap((b) => [...ts.handles(b, BUY), ...ts.handles(b, SELL)]));
    const r = rnd(10);
    if (r < 4 || hs.length === 0) {
      const side = rnd(2) as Side;
      const price = side === BUY ? 100 - rnd(20) : 101 + rnd(20);
      const q = 1 + rnd(9);
      const o = rnd(5);
      nat.add(book, side, price, q, o, next);
      ts.add(book, side, price, q, o, next);
      next++;
    } else if (r < 7) {
      const h = hs[rnd(hs.length)];
      nat.remove(h);
      ts.remove(h);
    } else {
      const side = rnd(2) as Side;
      const limit = rnd(4) === 0 ? (side === BUY ? NO_LIMIT_BUY : NO_LIMIT_SELL) : (side === BUY ? 100 + rnd(20) : 101 - rnd(20));
      const want = 1 + rnd(60);
      const o = rnd(5);
      const rest = rnd(2) === 0;
      const n = nat.match(book, side, limit, want, o, FILL_CAPACITY, rest, next);
      assert.equal(n, n | 0, 'match hands back an int32');
      assert.equal(n, ts.match(book, side, limit, want, o, FILL_CAPACITY, rest, next));
      next++;
    }
    assert.ok(io[IO_BEST_BOOK] >= 0 && io[IO_BEST_BOOK] < 3, 'the touched book is published');
    const touched = io[IO_BEST_BOOK];
    for (const b of books) {
      for (const s of [BUY, SELL] as Side[]) {
        const got = nat.best(b, s);
        assert.ok(Object.is(got, ts.best(b, s)), `step ${i}: best(${b}, ${s}) ${got} vs ts ${ts.best(b, s)}`);
        if (b === touched) assert.ok(Object.is(io[IO_BEST + s], got), `step ${i}: published best of book ${b}`);
      }
    }
  }
});

test('best() with a bad side or book still throws (it takes the crossing)', { skip: skip || !available }, () => {
  const l = createNativeLadder();
  l.addBook();
  l.add(0, BUY, 10, 1, 0, 0);
  for (const s of [2, -1, NaN, 0.5]) assert.throws(() => l.best(0, s as Side), /side/);
  for (const b of [1, -1, NaN, 0.5]) assert.throws(() => l.best(b, BUY), /book/);
  assert.equal(l.best(0, BUY), 10);
  assert.ok(Number.isNaN(l.best(0, SELL)));
});
