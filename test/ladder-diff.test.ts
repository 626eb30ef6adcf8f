// Differential property test: TsLadder (the reference) and the Rust ladder run
// the same random operation sequences and must agree on everything observable:
// fills (order, price, qty, leaves, level aggregates), stop reasons, the rest of
// a walk's remainder, the level states add/remove/reduce leave in the io buffer,
// fillable, best, level aggregates, depth, priority order of handles, counts.
// Each ladder holds two books (one ladder per engine), and the caller picks the
// handles (as the engine does): the same handle goes to both, some reused soon
// after they left, some far beyond the rest (storage grows to fit). A model of
// which handle rests in which book and side checks that a walk only ever fills
// the opposite side of its own book and that every book lists exactly its own.
//
// Without the addon this test FAILS (CI always has Rust) unless MATCHLOG_NATIVE=0.
// DIFF_RUNS scales the number of sequences (default 3000); DIFF_SEED (or MATCHLOG_SEED)
// replays a run, and a failure prints the MATCHLOG_SEED=... MATCHLOG_PATH=... command
// that replays just the failing case (test/property.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BUY, FILL_STRIDE, F_HANDLE, F_LEAVES, IO_COUNT, IO_HANDLE, IO_HEADER, IO_LENGTH, IO_LEVEL_ORDERS, IO_LEVEL_QTY,
  IO_STOP, NO_LIMIT_BUY, NO_LIMIT_SELL, SELL, STOP_DONE, STOP_FULL, type Ladder, type Side,
} from '../native/ladder.js';
import { TsLadder } from '../native/ts-ladder.js';
import { createNativeLadder, ladderInfo, nativeAvailable, type NativeLadder } from '../native/index.js';
import { assertProperty, replayingOneCase } from './property.js';

const SENTINEL = 7.25; // pre-fills every output buffer: a write past what is reported shows up
const MID = 1000;
/** Books per ladder in these tests. */
const BOOKS = 2;

type Book = 0 | 1;

type Op =
  | { t: 'add'; book: Book; side: Side; off: number; qty: number; owner: number }
  | { t: 'burst'; book: Book; side: Side; start: number; levels: number; perLevel: number; step: number; qty: number; owners: number; seed: number }
  | { t: 'remove'; pick: number }
  | { t: 'reduce'; pick: number; frac: number }
  | { t: 'readd'; pick: number; book: Book }
  | { t: 'match'; book: Book; side: Side; limit: number | 'none'; want: number; owner: number; cap: number; rest: boolean }
  | { t: 'sweep'; book: Book; side: Side; limit: number | 'none'; want: number; owner: number; cap: number; rest: boolean }
  | { t: 'fillable'; book: Book; side: Side; limit: number | 'none'; want: number; owner: number; stop: boolean }
  | { t: 'depth'; book: Book; side: Side; n: number }
  | { t: 'query'; book: Book; side: Side; off: number; pick: number };

interface Scale {
  /** price offsets from MID are drawn from [-spread, spread] */
  spread: number;
  maxQty: number;
  owners: number;
}

class Pair {
  readonly ts = new TsLadder();
  readonly nat: NativeLadder = createNativeLadder();
  /** live handles (picks index into it) and each one's position in it */
  readonly live: number[] = [];
  private readonly pos = new Map<number, number>();
  /** book * 2 + side of each live handle */
  private readonly where = new Map<number, number>();
  /** handles that rested once and left: the next add may reuse one */
  private readonly gone: number[] = [];
  private nextHandle = 0;
  /** deterministic choice of handles (the op sequence alone decides a run) */
  private x = 0x9e3779b9;
  fills = 0;
  ownerStops = 0;
  fullStops = 0;
  rests = 0;
  maxLevels = 0;
  maxDepthAtLevel = 0;
  /** most price levels one sweep (match calls with the remainder) traded at */
  maxSwept = 0;
  private lastPrice = NaN;
  private swept = 0;

  constructor(private readonly base: number) {
    for (let b = 0; b < BOOKS; b++) {
      assert.equal(this.ts.addBook(), b, 'ts addBook numbers books in order');
      assert.equal(this.nat.addBook(), b, 'native addBook numbers books in order');
    }
  }

  private rnd(n: number): number {
    let x = this.x;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.x = x;
    return x % n;
  }

  /** A handle that is not resting, as an engine would pick it: mostly a recent one reused, else a new one. */
  private freshHandle(): number {
    const r = this.rnd(20);
    if (r < 12 && this.gone.length > 0) {
      const i = this.rnd(this.gone.length);
      const h = this.gone[i];
      this.gone[i] = this.gone[this.gone.length - 1];
      this.gone.pop();
      return h;
    }
    // now and then past the others: the ladders' storage must grow to fit it
    // (past its first 1,024 slots). Not far: thousands of pairs are made in one
    // synchronous run, and N-API finalizers only run once it yields, so every
    // native ladder's slots stay allocated until the test ends (ladder-shared
    // tests growth to handle 300,000 on its own)
    if (r === 19) this.nextHandle += 1 + this.rnd(300);
    return this.nextHandle++;
  }

  private pick(pick: number): number | undefined {
    return this.live.length === 0 ? undefined : this.live[pick % this.live.length];
  }

  private forget(h: number): void {
    const i = this.pos.get(h);
    assert.ok(i !== undefined, `handle ${h} was not resting`);
    const last = this.live.pop();
    assert.ok(last !== undefined);
    if (last !== h) {
      this.live[i] = last;
      this.pos.set(last, i);
    }
    this.pos.delete(h);
    this.where.delete(h);
    this.gone.push(h);
  }

  /**
   * Rest only where the engine would: owners are account numbers (< 2^31), and a
   * resting remainder small enough that no level total nears 2^53 (the native
   * ladder refuses, up front, a rest that could overflow its level).
   */
  private restOk(rest: boolean, want: number, owner: number): boolean {
    return rest && want <= 2 ** 46 && owner >= 0 && owner < 2 ** 31;
  }

  private limitOf(side: Side, limit: number | 'none'): number {
    if (limit === 'none') return side === BUY ? NO_LIMIT_BUY : NO_LIMIT_SELL;
    return this.base + limit;
  }

  add(book: Book, side: Side, price: number, qty: number, owner: number): void {
    const h = this.freshHandle();
    this.ts.add(book, side, price, qty, owner, h);
    this.nat.add(book, side, price, qty, owner, h);
    assert.equal(this.ts.io[IO_HANDLE], h, 'ts add: io handle');
    assert.equal(this.nat.io[IO_HANDLE], h, 'native add: io handle');
    this.levelState(book, side, price, `add(${book}, ${side}, ${price}, ${qty}, ${owner}, ${h})`);
    this.track(h, book, side);
  }

  /** Both ladders left the same level state in io, and it is the level's real state. */
  private levelState(book: Book, side: Side, price: number, ctx: string): void {
    const q = this.ts.io[IO_LEVEL_QTY];
    const n = this.ts.io[IO_LEVEL_ORDERS];
    assert.equal(this.nat.io[IO_LEVEL_QTY], q, `${ctx}: io level qty`);
    assert.equal(this.nat.io[IO_LEVEL_ORDERS], n, `${ctx}: io level orders`);
    assert.equal(this.ts.levelQty(book, side, price), q, `${ctx}: io level qty is the level's`);
    assert.equal(this.ts.levelOrders(book, side, price), n, `${ctx}: io level orders is the level's`);
  }

  private track(h: number, book: Book, side: Side): void {
    assert.ok(!this.pos.has(h), `handle ${h} rested twice`);
    this.where.set(h, book * 2 + side);
    this.pos.set(h, this.live.length);
    this.live.push(h);
  }

  /** One match() call on both; compares io buffers; returns [fills, stop, filled qty]. */
  matchOnce(book: Book, side: Side, limit: number, want: number, owner: number, cap: number, rest: boolean): [number, number, number] {
    // everything after the header is pre-filled: a write past the reported records shows up
    this.ts.io.fill(SENTINEL, IO_HEADER);
    this.nat.io.fill(SENTINEL, IO_HEADER);
    // the handle a rest would take; when there is none it is given back below
    const h = this.freshHandle();
    const na = this.ts.match(book, side, limit, want, owner, cap, rest, h);
    const nb = this.nat.match(book, side, limit, want, owner, cap, rest, h);
    const fa = this.ts.io;
    const fb = this.nat.io;
    const ctx = `match(book=${book}, side=${side}, limit=${limit}, want=${want}, owner=${owner}, cap=${cap}, rest=${rest}, handle=${h})`;
    assert.equal(nb, na, `${ctx}: fill count`);
    assert.equal(fa[IO_COUNT], na, `${ctx}: ts io count`);
    assert.equal(fb[IO_COUNT], nb, `${ctx}: native io count`);
    const opp = book * 2 + (1 - side);
    const stop = fa[IO_STOP];
    assert.equal(fb[IO_STOP], stop, `${ctx}: stop reason or owner stop handle`);
    if (stop >= 0) {
      assert.equal(this.where.get(stop), opp, `${ctx}: the owner stop is in this book, opposite side`);
      assert.equal(this.ts.priceOf(stop), this.nat.priceOf(stop));
      this.ownerStops++;
    } else if (stop === STOP_FULL) this.fullStops++;
    let filled = 0;
    for (let i = 0; i < na; i++) {
      const o = IO_HEADER + i * FILL_STRIDE;
      const m = fa[o + F_HANDLE];
      for (let k = 0; k < FILL_STRIDE; k++) assert.equal(fb[o + k], fa[o + k], `${ctx}: fill ${i} field ${k}`);
      assert.equal(this.where.get(m), opp, `${ctx}: fill ${i}: maker ${m} rests on the opposite side of this book`);
      filled += fa[o + 2];
      if (fa[o + 1] !== this.lastPrice) {
        this.lastPrice = fa[o + 1];
        this.swept++;
      }
      if (fa[o + F_LEAVES] === 0) this.forget(m);
    }
    for (let i = IO_HEADER + na * FILL_STRIDE; i < IO_LENGTH; i++) {
      if (fb[i] !== SENTINEL) assert.fail(`${ctx}: native wrote past its fills at ${i}`);
      if (fa[i] !== SENTINEL) assert.fail(`${ctx}: ts wrote past its fills at ${i}`);
    }
    // the remainder rests exactly when asked, the walk ended DONE and quantity is left
    const left = want - filled;
    if (rest && stop === STOP_DONE && left > 0) {
      assert.equal(fa[IO_HANDLE], h, `${ctx}: ts rested under the handle given`);
      assert.equal(fb[IO_HANDLE], h, `${ctx}: native rested under the handle given`);
      assert.equal(this.ts.qtyOf(h), left, `${ctx}: rested qty`);
      assert.equal(this.nat.qtyOf(h), left, `${ctx}: native rested qty`);
      assert.equal(this.nat.priceOf(h), limit, `${ctx}: rested at the limit`);
      this.levelState(book, side, limit, `${ctx}: rest`);
      this.track(h, book, side);
      this.rests++;
    } else {
      assert.equal(fa[IO_HANDLE], -1, `${ctx}: ts did not rest`);
      assert.equal(fb[IO_HANDLE], -1, `${ctx}: native did not rest`);
      this.gone.push(h);
    }
    this.fills += na;
    return [na, stop, filled];
  }

  apply(op: Op): void {
    switch (op.t) {
      case 'add':
        this.add(op.book, op.side, this.base + op.off, op.qty, op.owner);
        break;
      case 'burst': {
        // many levels, several orders each: deep books and long sweeps
        let x = op.seed >>> 0 || 1;
        const rnd = (n: number): number => {
          x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
          return x % n;
        };
        const dir = op.side === BUY ? -1 : 1;
        for (let l = 0; l < op.levels; l++) {
          const price = this.base + op.start + dir * l * op.step;
          for (let k = 0; k < op.perLevel; k++) this.add(op.book, op.side, price, 1 + rnd(op.qty), rnd(op.owners));
        }
        break;
      }
      case 'remove': {
        const h = this.pick(op.pick);
        if (h === undefined) break;
        const bs = this.where.get(h) as number;
        const price = this.ts.priceOf(h);
        this.ts.remove(h);
        this.nat.remove(h);
        this.levelState((bs >> 1) as Book, (bs & 1) as Side, price, `remove(${h})`);
        this.forget(h);
        // and it is gone: both refuse it now
        assert.throws(() => this.ts.remove(h), /handle/, 'ts: remove of a handle that left');
        assert.throws(() => this.nat.remove(h), /handle/, 'native: remove of a handle that left');
        break;
      }
      case 'reduce': {
        const h = this.pick(op.pick);
        if (h === undefined) break;
        const cur = this.ts.qtyOf(h);
        if (cur < 2) break;
        const q = 1 + Math.floor(op.frac * (cur - 1)); // 0 < q < cur
        assert.ok(q > 0 && q < cur);
        const price = this.ts.priceOf(h);
        const bs = this.where.get(h) as number;
        this.ts.reduce(h, q);
        this.nat.reduce(h, q);
        this.levelState((bs >> 1) as Book, (bs & 1) as Side, price, `reduce(${h}, ${q})`);
        break;
      }
      case 'readd': {
        // a handle that rests cannot be added again, in its book or another: refused, nothing changes
        const h = this.pick(op.pick);
        if (h === undefined) break;
        assert.throws(() => this.ts.add(op.book, SELL, this.base, 1, 0, h), /handle/, `ts: add of resting handle ${h}`);
        assert.throws(() => this.nat.add(op.book, SELL, this.base, 1, 0, h), /handle/, `native: add of resting handle ${h}`);
        break;
      }
      case 'match':
        this.matchOnce(op.book, op.side, this.limitOf(op.side, op.limit), op.want, op.owner, op.cap, this.restOk(op.rest, op.want, op.owner));
        break;
      case 'sweep': {
        // the engine's loop: call again with the remainder while the buffer was full
        let want = op.want;
        const limit = this.limitOf(op.side, op.limit);
        this.lastPrice = NaN;
        this.swept = 0;
        while (want > 0) {
          const [n, stop, filled] = this.matchOnce(op.book, op.side, limit, want, op.owner, op.cap, this.restOk(op.rest, want, op.owner));
          want -= filled;
          if (stop !== STOP_FULL || n === 0) break; // n === 0: a zero-capacity buffer makes no progress
        }
        this.maxSwept = Math.max(this.maxSwept, this.swept);
        break;
      }
      case 'fillable': {
        const limit = this.limitOf(op.side, op.limit);
        assert.equal(
          this.nat.fillable(op.book, op.side, limit, op.want, op.owner, op.stop),
          this.ts.fillable(op.book, op.side, limit, op.want, op.owner, op.stop),
          `fillable(${op.book}, ${op.side}, ${limit}, ${op.want}, ${op.owner}, ${op.stop})`,
        );
        break;
      }
      case 'depth': {
        const a = new Float64Array(op.n * 3 + 2).fill(SENTINEL);
        const b = new Float64Array(op.n * 3 + 2).fill(SENTINEL);
        assert.equal(this.nat.depth(op.book, op.side, op.n, b), this.ts.depth(op.book, op.side, op.n, a), `depth(${op.book}, ${op.side}, ${op.n})`);
        assert.deepEqual(b, a, `depth(${op.book}, ${op.side}, ${op.n}) contents`);
        break;
      }
      case 'query': {
        const p = this.base + op.off;
        assert.equal(this.nat.levelQty(op.book, op.side, p), this.ts.levelQty(op.book, op.side, p), `levelQty(${op.book}, ${op.side}, ${p})`);
        assert.equal(this.nat.levelOrders(op.book, op.side, p), this.ts.levelOrders(op.book, op.side, p), `levelOrders(${op.book}, ${op.side}, ${p})`);
        const h = this.pick(op.pick);
        if (h !== undefined) {
          assert.equal(this.nat.qtyOf(h), this.ts.qtyOf(h), 'qtyOf');
          assert.equal(this.nat.priceOf(h), this.ts.priceOf(h), 'priceOf');
        }
        break;
      }
    }
  }

  /** Compares the whole observable state, book by book, and each book against the model. */
  compareAll(): void {
    let total = 0;
    for (let book = 0; book < BOOKS; book++) {
      const count = this.ts.orderCount(book);
      assert.equal(this.nat.orderCount(book), count, `orderCount(${book})`);
      total += count;
      for (const side of [BUY, SELL] as const) {
        assert.equal(this.nat.best(book, side), this.ts.best(book, side), `best(${book}, ${side})`); // NaN equals NaN here
        const levels = this.ts.levelCount(book, side);
        assert.equal(this.nat.levelCount(book, side), levels, `levelCount(${book}, ${side})`);
        this.maxLevels = Math.max(this.maxLevels, levels);
        const a = new Float64Array(levels * 3);
        const b = new Float64Array(levels * 3);
        assert.equal(this.ts.depth(book, side, levels, a), levels);
        assert.equal(this.nat.depth(book, side, levels, b), levels);
        assert.deepEqual(b, a, `full depth(${book}, ${side})`);
        for (let i = 0; i < levels; i++) this.maxDepthAtLevel = Math.max(this.maxDepthAtLevel, a[i * 3 + 2]);
        const hs = Array.from(this.ts.handles(book, side));
        assert.deepEqual(Array.from(this.nat.handles(book, side)), hs, `handles(${book}, ${side}) priority order`);
        // exactly the handles the model says rest there
        const mine = this.live.filter((h) => this.where.get(h) === book * 2 + side).sort((x, y) => x - y);
        assert.deepEqual([...hs].sort((x, y) => x - y), mine, `handles(${book}, ${side}) are that book's and side's`);
      }
    }
    assert.equal(total, this.live.length, 'orderCount vs live handles');
  }
}

// ---- generators ----

const side = fc.constantFrom<Side>(BUY, SELL);
const book = fc.constantFrom<Book>(0, 1);

function opArb(s: Scale): fc.Arbitrary<Op> {
  const off = fc.integer({ min: -s.spread, max: s.spread });
  const limit = fc.oneof({ arbitrary: off, weight: 4 }, { arbitrary: fc.constant<'none'>('none'), weight: 1 });
  const owner = fc.integer({ min: 0, max: s.owners });
  const want = fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: s.maxQty * 3 }), weight: 5 },
    { arbitrary: fc.integer({ min: -2, max: 0 }), weight: 1 },
    { arbitrary: fc.constant(Number.MAX_SAFE_INTEGER), weight: 1 },
  );
  const cap = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 3 }), weight: 3 },
    { arbitrary: fc.integer({ min: 4, max: 40 }), weight: 2 },
    { arbitrary: fc.constant(256), weight: 1 },
  );
  return fc.oneof(
    { arbitrary: fc.record({ t: fc.constant<'add'>('add'), book, side, off, qty: fc.integer({ min: 1, max: s.maxQty }), owner }), weight: 30 },
    {
      arbitrary: fc.record({
        t: fc.constant<'burst'>('burst'),
        book,
        side,
        start: off,
        levels: fc.integer({ min: 1, max: 150 }),
        perLevel: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 20, max: 60 })),
        step: fc.integer({ min: 1, max: 3 }),
        qty: fc.integer({ min: 1, max: s.maxQty }),
        owners: fc.integer({ min: 1, max: s.owners + 1 }),
        seed: fc.integer({ min: 1, max: 0x7fffffff }),
      }),
      weight: 2,
    },
    { arbitrary: fc.record({ t: fc.constant<'remove'>('remove'), pick: fc.nat() }), weight: 10 },
    { arbitrary: fc.record({ t: fc.constant<'reduce'>('reduce'), pick: fc.nat(), frac: fc.double({ min: 0, max: 0.999, noNaN: true }) }), weight: 6 },
    { arbitrary: fc.record({ t: fc.constant<'readd'>('readd'), pick: fc.nat(), book }), weight: 2 },
    { arbitrary: fc.record({ t: fc.constant<'match'>('match'), book, side, limit, want, owner, cap, rest: fc.boolean() }), weight: 12 },
    { arbitrary: fc.record({ t: fc.constant<'sweep'>('sweep'), book, side, limit, want, owner, cap, rest: fc.boolean() }), weight: 5 },
    {
      arbitrary: fc.record({ t: fc.constant<'fillable'>('fillable'), book, side, limit, want, owner, stop: fc.boolean() }),
      weight: 8,
    },
    { arbitrary: fc.record({ t: fc.constant<'depth'>('depth'), book, side, n: fc.integer({ min: 0, max: 12 }) }), weight: 4 },
    { arbitrary: fc.record({ t: fc.constant<'query'>('query'), book, side, off, pick: fc.nat() }), weight: 6 },
  );
}

interface Stats {
  sequences: number;
  ops: number;
  fills: number;
  ownerStops: number;
  fullStops: number;
  rests: number;
  maxLevels: number;
  maxOrdersAtLevel: number;
  maxSwept: number;
}

function newStats(): Stats {
  return { sequences: 0, ops: 0, fills: 0, ownerStops: 0, fullStops: 0, rests: 0, maxLevels: 0, maxOrdersAtLevel: 0, maxSwept: 0 };
}

function runSequence(base: number, ops: Op[], stats: Stats, compareEvery: number): void {
  const p = new Pair(base);
  ops.forEach((op, i) => {
    p.apply(op);
    // small books after every op, big ones (bursts) every few ops: full compares are O(book)
    if (p.live.length < 400 || i % compareEvery === compareEvery - 1) p.compareAll();
  });
  p.compareAll();
  p.nat.check();
  stats.sequences++;
  stats.ops += ops.length;
  stats.fills += p.fills;
  stats.ownerStops += p.ownerStops;
  stats.fullStops += p.fullStops;
  stats.rests += p.rests;
  stats.maxLevels = Math.max(stats.maxLevels, p.maxLevels);
  stats.maxOrdersAtLevel = Math.max(stats.maxOrdersAtLevel, p.maxDepthAtLevel);
  stats.maxSwept = Math.max(stats.maxSwept, p.maxSwept);
}

const RUNS = Number(process.env.DIFF_RUNS ?? 3000);
const SEED = process.env.DIFF_SEED === undefined ? undefined : Number(process.env.DIFF_SEED);

const available = nativeAvailable();
const skipReason = !available && process.env.MATCHLOG_NATIVE === '0'
  ? `native ladder not tested: MATCHLOG_NATIVE=0 (${ladderInfo().reason})`
  : false;

test('native addon is available for the differential test', { skip: skipReason }, () => {
  assert.ok(
    available,
    `the native ladder is not built or does not load (${ladderInfo().reason}). ` +
      'Run `node scripts/build-native.mjs`, or set MATCHLOG_NATIVE=0 to skip the native tests.',
  );
});

const scales: Array<{ name: string; base: number; scale: Scale; share: number; maxOps: number; every: number }> = [
  // tight book: few levels, many orders per level, frequent crosses and owner stops
  { name: 'tight book', base: MID, scale: { spread: 6, maxQty: 20, owners: 3 }, share: 0.35, maxOps: 120, every: 4 },
  // wide book: many levels, long sweeps
  // deep levels: bursts of up to 60 orders per level on a handful of prices
  { name: 'deep levels', base: MID, scale: { spread: 3, maxQty: 10, owners: 8 }, share: 0.15, maxOps: 100, every: 5 },
  { name: 'wide book', base: MID, scale: { spread: 400, maxQty: 50, owners: 6 }, share: 0.25, maxOps: 80, every: 4 },
  // big numbers: prices near -2^53 (negative ticks) and quantities near 2^40
  {
    name: 'large values',
    base: -(2 ** 53) + 10_000,
    scale: { spread: 300, maxQty: 2 ** 40, owners: 2 },
    share: 0.1,
    maxOps: 60,
    every: 3,
  },
  { name: 'large values (high prices)', base: 2 ** 53 - 10_000, scale: { spread: 300, maxQty: 2 ** 40, owners: 2 }, share: 0.1, maxOps: 60, every: 3 },
];

for (const s of scales) {
  test(`TsLadder and the native ladder agree: ${s.name}`, { skip: !available }, (t) => {
    const stats = newStats();
    const numRuns = Math.max(20, Math.round(RUNS * s.share));
    const t0 = performance.now();
    assertProperty(
      t,
      fc.property(fc.array(opArb(s.scale), { minLength: 1, maxLength: s.maxOps, size: 'max' }), (ops) => {
        runSequence(s.base, ops, stats, s.every);
      }),
      { numRuns, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    const ms = performance.now() - t0;
    // fast-check counts shrinking runs too; on success it is exactly numRuns sequences
    console.log(
      `ladder-diff ${s.name}: ${stats.sequences} sequences, ${stats.ops} ops, ${stats.fills} fills, ` +
        `${stats.ownerStops} owner stops, ${stats.fullStops} buffer-full stops, ${stats.rests} rests, max ${stats.maxLevels} levels, ` +
        `max ${stats.maxOrdersAtLevel} orders at a level, max ${stats.maxSwept} levels in one sweep, ${ms.toFixed(0)} ms`,
    );
    if (!replayingOneCase()) assert.ok(stats.fills > 0 && stats.fullStops > 0 && stats.ownerStops > 0 && stats.rests > 0, 'the generators reach every stop reason and rest');
  });
}

// Long deterministic sequences on one deep book: thousands of ops per ladder, engine-like flow
// (rest, cancel, replace down, aggress with the sweep loop and a full-size buffer).
test('TsLadder and the native ladder agree: long engine-like runs', { skip: !available }, () => {
  const t0 = performance.now();
  const stats = newStats();
  for (let seed = 1; seed <= 40; seed++) {
    let x = seed * 2654435761 >>> 0 || 1;
    const rnd = (n: number): number => {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      return x % n;
    };
    const p = new Pair(MID);
    let ops = 0;
    for (let i = 0; i < 2500; i++) {
      const r = rnd(100);
      const sd = rnd(2) as Side;
      const bk: Book = rnd(4) === 0 ? 1 : 0; // a deep book 0 and a thinner book 1 in the same ladder
      let op: Op;
      if (r < 62) {
        // rest on own side of the mid: many orders per level near the touch
        const off = (sd === BUY ? -1 : 1) * (1 + Math.min(rnd(150), rnd(150), rnd(150)));
        op = { t: 'add', book: bk, side: sd, off, qty: 1 + rnd(100), owner: rnd(21) };
      } else if (r < 74) op = { t: 'remove', pick: rnd(1 << 30) };
      else if (r < 80) op = { t: 'reduce', pick: rnd(1 << 30), frac: rnd(1000) / 1000 };
      else if (r < 92) {
        const limit = rnd(10) === 0 ? 'none' : (sd === BUY ? 1 : -1) * rnd(60);
        const want = 1 + (rnd(40) === 0 ? rnd(60000) : rnd(300));
        op = { t: 'sweep', book: bk, side: sd, limit, want, owner: rnd(25), cap: rnd(3) === 0 ? 256 : 1 + rnd(8), rest: rnd(2) === 0 };
      } else if (r < 97) {
        op = { t: 'fillable', book: bk, side: sd, limit: (sd === BUY ? 1 : -1) * rnd(60), want: 1 + rnd(2000), owner: rnd(25), stop: rnd(2) === 0 };
      } else op = { t: 'depth', book: bk, side: sd, n: rnd(30) };
      p.apply(op);
      ops++;
      if (i % 50 === 49) p.compareAll();
    }
    p.compareAll();
    p.nat.check();
    stats.sequences++;
    stats.ops += ops;
    stats.fills += p.fills;
    stats.fullStops += p.fullStops;
    stats.ownerStops += p.ownerStops;
    stats.rests += p.rests;
    stats.maxLevels = Math.max(stats.maxLevels, p.maxLevels);
    stats.maxOrdersAtLevel = Math.max(stats.maxOrdersAtLevel, p.maxDepthAtLevel);
    stats.maxSwept = Math.max(stats.maxSwept, p.maxSwept);
  }
  console.log(
    `ladder-diff long runs: ${stats.sequences} sequences, ${stats.ops} ops, ${stats.fills} fills, ` +
      `${stats.ownerStops} owner stops, ${stats.fullStops} buffer-full stops, ${stats.rests} rests, max ${stats.maxLevels} levels, ` +
      `max ${stats.maxOrdersAtLevel} orders at a level, max ${stats.maxSwept} levels in one sweep, ${(performance.now() - t0).toFixed(0)} ms`,
  );
});

// Deterministic deep sweeps: 300 levels with up to 40 orders each, owner orders
// sprinkled in, swept with buffers of 1, 2, 7 and 256 records and several limits.
test('TsLadder and the native ladder agree: deterministic 300-level sweeps', { skip: !available }, () => {
  for (const side of [BUY, SELL] as const) {
    for (const cap of [1, 2, 7, 256]) {
      for (const limit of ['none', 150, 299] as const) {
        const p = new Pair(MID);
        const rest = (1 - side) as Side;
        const dir = rest === SELL ? 1 : -1;
        // book 0 holds a book the sweeps in book 1 would take too, were books not kept apart
        p.apply({ t: 'burst', book: 0, side: rest, start: dir, levels: 50, perLevel: 2, step: 1, qty: 30, owners: 40, seed: 3 });
        p.apply({ t: 'burst', book: 1, side: rest, start: dir, levels: 300, perLevel: 1 + (cap % 5), step: 1, qty: 30, owners: 40, seed: cap * 7 + 1 });
        for (let l = 0; l < 300; l += 3) p.apply({ t: 'add', book: 1, side: rest, off: dir * (1 + l), qty: 1 + (l % 40), owner: 1 + (l % 39) });
        const book0 = p.ts.orderCount(0);
        p.compareAll();
        const lim = limit === 'none' ? 'none' : dir * limit;
        p.apply({ t: 'fillable', book: 1, side, limit: lim, want: Number.MAX_SAFE_INTEGER, owner: 1000, stop: true });
        p.apply({ t: 'sweep', book: 1, side, limit: lim, want: Number.MAX_SAFE_INTEGER, owner: 1000, cap, rest: false });
        p.compareAll();
        assert.ok(p.maxSwept >= (limit === 'none' ? 300 : limit), `swept ${p.maxSwept} levels`);
        // and again with an owner that is in the way somewhere
        p.apply({ t: 'burst', book: 1, side: rest, start: dir, levels: 200, perLevel: 3, step: 1, qty: 30, owners: 40, seed: 99 });
        p.apply({ t: 'sweep', book: 1, side, limit: lim, want: Number.MAX_SAFE_INTEGER, owner: 17, cap, rest: false });
        p.compareAll();
        // a sweep that rests its remainder past the last level
        p.apply({ t: 'burst', book: 1, side: rest, start: dir, levels: 120, perLevel: 2, step: 1, qty: 30, owners: 40, seed: 5 });
        p.apply({ t: 'sweep', book: 1, side, limit: lim, want: 120 * 2 * 30 + 7, owner: 1000, cap, rest: true });
        p.compareAll();
        assert.equal(p.ts.orderCount(0), book0, 'book 0 untouched by the sweeps in book 1');
        assert.equal(p.nat.orderCount(0), book0, 'native: book 0 untouched by the sweeps in book 1');
        p.nat.check();
      }
    }
  }
});

// The same interface object shape: every Ladder method exists on the native instance.
test('the native ladder has every Ladder method', { skip: !available }, () => {
  const l: Ladder = createNativeLadder();
  assert.equal(l.kind, 'native');
  const methods: Array<keyof Ladder> = [
    'addBook', 'add', 'remove', 'reduce', 'best', 'levelQty', 'levelOrders', 'levelCount', 'orderCount',
    'qtyOf', 'priceOf', 'fillable', 'match', 'depth', 'handles',
  ];
  for (const m of methods) assert.equal(typeof l[m], 'function', m);
  assert.ok(l.io instanceof Float64Array && l.io.length === IO_LENGTH, 'io buffer');
  assert.equal(l.addBook(), 0);
  assert.ok(Number.isNaN(l.best(0, BUY)) && Number.isNaN(l.best(0, SELL)));
});
