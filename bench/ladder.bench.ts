// Micro benchmark: TsLadder vs the Rust ladder on the same operation streams.
//   npx tsc -p tsconfig.json && node dist/bench/ladder.bench.js
//   (BENCH_ROUNDS, BENCH_REPS, BENCH_ONLY: see the end of this file)
// (build the addon first: node scripts/build-native.mjs). Engine-level numbers
// live in bench/engine.bench.ts; this isolates the ladder and its boundary cost.

import {
  BUY, FILL_CAPACITY, IO_HANDLE, IO_HEADER, IO_STOP, NO_LIMIT_BUY, SELL, STOP_FULL, type Ladder, type Side,
} from '../native/ladder.js';
import { createLadder, ladderInfo, nativeAvailable } from '../native/index.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

/** Order handles as the engine picks them (native/ladder.ts: the caller's): slot indexes, reused LIFO. */
class Ids {
  private readonly gone: number[] = [];
  private top = 0;
  alloc(): number {
    const h = this.gone.pop();
    return h === undefined ? this.top++ : h;
  }
  release(h: number): void {
    this.gone.push(h);
  }
}

// Every scenario works in book 0 of a ladder with one book (time() registers it).
const BOOK = 0;

interface Scenario {
  name: string;
  ops: number;
  /** untimed preparation */
  setup?(l: Ladder): void;
  /** returns a checksum so the work cannot be optimised away */
  run(l: Ladder): number;
  /** when set, run() times itself (only part of it counts) and adds the milliseconds here */
  selfTimed?: { ms: number };
}

const C = FILL_CAPACITY;

/** A market buy that takes the whole ask side, refilling the fill buffer as it goes; returns the quantity. */
function sweepAll(l: Ladder): number {
  let want = Number.MAX_SAFE_INTEGER;
  let total = 0;
  for (;;) {
    const n = l.match(BOOK, BUY, NO_LIMIT_BUY, want, 999, C, false, 0);
    const io = l.io;
    for (let k = 0; k < n; k++) {
      want -= io[IO_HEADER + k * 6 + 2];
      total += io[IO_HEADER + k * 6 + 2];
    }
    if (io[IO_STOP] !== STOP_FULL) return total;
  }
}

const scenarios: Scenario[] = [
  {
    name: 'boundary toll: reduce to the same qty (1 order)',
    ops: 1_000_000,
    run(l) {
      l.add(BOOK, BUY, 1000, 50, 1, 0);
      for (let i = 0; i < 1_000_000; i++) l.reduce(0, 50);
      return l.io[4];
    },
  },
  {
    name: 'engine-like: match-or-rest GTC + cancel (~1k resting)',
    ops: 400_000,
    run(l) {
      const rnd = rng(5);
      const ids = new Ids();
      const live: number[] = [];
      const alive = new Uint8Array(1 << 16);
      let sum = 0;
      for (let i = 0; i < 200_000; i++) {
        const side = rnd(2) as Side;
        // mostly passive, 10% crossing by up to 2 ticks
        const px = side === BUY ? 999 - rnd(50) + (rnd(10) === 0 ? 3 : 0) : 1001 + rnd(50) - (rnd(10) === 0 ? 3 : 0);
        const t = ids.alloc();
        const n = l.match(BOOK, side, px, 1 + rnd(20), rnd(8), C, true, t);
        const io = l.io;
        sum += n;
        for (let k = 0; k < n; k++) {
          if (io[IO_HEADER + k * 6 + 3] === 0) {
            const m = io[IO_HEADER + k * 6];
            alive[m] = 0;
            ids.release(m);
          }
        }
        if (io[IO_HANDLE] >= 0) { live.push(t); alive[t] = 1; } else ids.release(t);
        if (live.length > 1000 || (live.length > 0 && rnd(3) === 0)) {
          const k = rnd(live.length);
          const x = live[k];
          live[k] = live[live.length - 1];
          live.pop();
          if (alive[x] === 1) { l.remove(x); alive[x] = 0; ids.release(x); sum += x; }
        }
      }
      return sum;
    },
  },
  {
    name: 'rest + cancel (5k resting, 200 levels)',
    ops: 400_000,
    run(l) {
      const rnd = rng(1);
      const live: number[] = [];
      let sum = 0;
      for (let i = 0; i < 5000; i++) {
        l.add(BOOK, (i & 1) as Side, (i & 1 ? 1001 : 999) + (i & 1 ? 1 : -1) * rnd(100), 1 + rnd(100), rnd(50), i);
        live.push(i);
      }
      for (let i = 0; i < 200_000; i++) {
        const k = rnd(live.length);
        l.remove(live[k]);
        const side = rnd(2) as Side;
        // the freed handle is the next one handed out (LIFO), as in the engine
        l.add(BOOK, side, (side ? 1001 : 999) + (side ? 1 : -1) * rnd(100), 1 + rnd(100), rnd(50), live[k]);
        sum += live[k];
      }
      return sum;
    },
  },
  {
    name: 'aggress: small takes at the touch (refilled)',
    ops: 400_000,
    run(l) {
      const rnd = rng(2);
      const ids = new Ids();
      let sum = 0;
      for (let i = 0; i < 2000; i++) l.add(BOOK, SELL, 1000 + rnd(20), 1 + rnd(100), rnd(50), ids.alloc());
      for (let i = 0; i < 200_000; i++) {
        const n = l.match(BOOK, BUY, 1010, 1 + rnd(60), 99, C, false, 0);
        sum += n;
        let refill = 0;
        for (let k = 0; k < n; k++) {
          if (l.io[IO_HEADER + k * 6 + 3] === 0) {
            ids.release(l.io[IO_HEADER + k * 6]);
            refill++;
          }
        }
        for (let k = 0; k < refill; k++) l.add(BOOK, SELL, 1000 + rnd(20), 1 + rnd(100), rnd(50), ids.alloc());
        sum += l.fillable(BOOK, BUY, 1005, 100, 7, true);
      }
      return sum;
    },
  },
  {
    name: 'sweep: 100k orders over 500 levels, buffer refills',
    ops: 100_000 * 2,
    run(l) {
      const rnd = rng(3);
      for (let i = 0; i < 100_000; i++) l.add(BOOK, SELL, 1000 + rnd(500), 1 + rnd(10), rnd(50), i);
      return sweepAll(l);
    },
  },
  deepSweep(),
  {
    name: 'walk only: 1 match call, 20k fills over 200 levels',
    ops: 20_000,
    setup(l) {
      const rnd = rng(6);
      for (let i = 0; i < 20_000; i++) l.add(BOOK, SELL, 1000 + (i % 200), 1 + rnd(10), rnd(50), i);
    },
    run(l) {
      return sweepAll(l);
    },
  },
  {
    name: 'queries: best, levelQty, depth(10)',
    ops: 600_000,
    run(l) {
      const rnd = rng(4);
      const out = new Float64Array(30);
      for (let i = 0; i < 3000; i++) l.add(BOOK, (i & 1) as Side, (i & 1 ? 1001 : 999) + (i & 1 ? 1 : -1) * rnd(50), 1 + rnd(100), 0, i);
      let sum = 0;
      for (let i = 0; i < 200_000; i++) {
        sum += l.best(BOOK, BUY) + l.levelQty(BOOK, SELL, 1001 + rnd(50)) + l.depth(BOOK, BUY, 10, out);
      }
      return sum;
    },
  },
];

/**
 * The deep sweep of the goal: 100 levels x 10 orders rested (untimed), then one market
 * order walks all 1,000 of them through match() (cap FILL_CAPACITY, so 4 calls), the
 * caller reading every fill back. Only the sweeps are timed; ops = fills.
 */
function deepSweep(): Scenario {
  const ROUNDS = 400;
  const timer = { ms: 0 };
  return {
    name: 'deep sweep: 100 levels x 10 orders, 1k fills (timed)',
    ops: ROUNDS * 1000,
    selfTimed: timer,
    run(l) {
      const rnd = rng(7);
      let sum = 0;
      for (let r = 0; r < ROUNDS; r++) {
        // each sweep takes every order, so the same 1,000 handles serve every round
        for (let p = 0; p < 100; p++) for (let k = 0; k < 10; k++) l.add(BOOK, SELL, 1000 + p, 1 + rnd(10), rnd(50), p * 10 + k);
        const t0 = performance.now();
        sum += sweepAll(l);
        timer.ms += performance.now() - t0;
      }
      return sum;
    },
  };
}

function time(kind: 'ts' | 'native', s: Scenario, reps: number): { ms: number; check: number } {
  let best = Infinity;
  let check = 0;
  for (let rep = 0; rep < reps; rep++) {
    const l = createLadder(kind);
    l.addBook();
    s.setup?.(l);
    if (s.selfTimed) s.selfTimed.ms = 0;
    const t0 = performance.now();
    check = s.run(l);
    best = Math.min(best, s.selfTimed ? s.selfTimed.ms : performance.now() - t0);
  }
  return { ms: best, check };
}

// Each ladder kind runs in its own child process (a call site that has seen both
// ladder classes is polymorphic, which taxes whichever kind runs second, and the
// engine never mixes them), and the children alternate over several rounds, so a
// neighbour's CPU-heavy work hits both kinds alike and shows up as a range.
//   BENCH_ROUNDS (default 3) rounds of one child per kind, BENCH_REPS (default 7)
//   repetitions per scenario in a child (its best counts), BENCH_ONLY=substring.
interface Row { name: string; ms: number; check: number }
const only = process.env.BENCH_ONLY ?? '';
const picked = scenarios.filter((s) => s.name.includes(only));
const child = process.env.LADDER_BENCH_KIND;
if (child === 'ts' || child === 'native') {
  const reps = Number(process.env.BENCH_REPS ?? 7);
  for (const s of picked) console.log(JSON.stringify({ name: s.name, ...time(child, s, reps) } satisfies Row));
} else {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const kinds: Array<'ts' | 'native'> = nativeAvailable() ? ['ts', 'native'] : ['ts'];
  console.log(`ladder micro benchmark (${ladderInfo().reason}); each kind in its own process, ` +
    `${rounds} alternating rounds, best of ${process.env.BENCH_REPS ?? 7} per round; ns per op, best [range over rounds]`);
  const got = new Map<string, Map<string, Row[]>>(); // kind -> scenario -> one row per round
  for (const k of kinds) got.set(k, new Map());
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 === 0 ? kinds : [...kinds].reverse()) {
      const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
        encoding: 'utf8', env: { ...process.env, LADDER_BENCH_KIND: k },
      });
      if (out.status !== 0) throw new Error(`${k} child failed: ${out.stderr}`);
      for (const line of out.stdout.trim().split('\n')) {
        const row = JSON.parse(line) as Row;
        const per = got.get(k)!;
        per.set(row.name, [...(per.get(row.name) ?? []), row]);
      }
    }
  }
  const f = (x: number): string => x.toFixed(1);
  for (const s of picked) {
    const per = kinds.map((k) => got.get(k)!.get(s.name)!.map((row) => (row.ms * 1e6) / s.ops));
    const checks = new Set(kinds.flatMap((k) => got.get(k)!.get(s.name)!.map((row) => row.check)));
    if (checks.size !== 1) throw new Error(`${s.name}: checksums differ (${[...checks].join(', ')})`);
    const line = kinds.map((k, i) => `${k} ${f(Math.min(...per[i]))} [${f(Math.min(...per[i]))}-${f(Math.max(...per[i]))}]`).join('   ');
    let ratio = '';
    if (kinds.length === 2) {
      const each = per[0].map((t, i) => t / per[1][i]); // per round: ts / native
      ratio = `   native/ts speed ${(Math.min(...per[0]) / Math.min(...per[1])).toFixed(2)}x ` +
        `[${Math.min(...each).toFixed(2)}-${Math.max(...each).toFixed(2)}]`;
    }
    console.log(`${s.name.padEnd(56)} ${line}${ratio}`);
  }
}
