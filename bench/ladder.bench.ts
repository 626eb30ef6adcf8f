// Micro benchmark: TsLadder vs the Rust ladder on the same operation streams.
//   npx tsc -p tsconfig.json && node dist/bench/ladder.bench.js
// (build the addon first: node scripts/build-native.mjs). Engine-level numbers
// live in bench/engine.bench.ts; this isolates the ladder and its boundary cost.

import { BUY, FILL_BUFFER_LENGTH, NO_LIMIT_BUY, SELL, STOP_FULL, type Ladder, type Side } from '../native/ladder.js';
import { createLadder, ladderInfo, nativeAvailable } from '../native/index.js';

function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

interface Scenario {
  name: string;
  ops: number;
  run(l: Ladder): number; // returns a checksum so the work cannot be optimised away
}

const fills = new Float64Array(FILL_BUFFER_LENGTH);

const scenarios: Scenario[] = [
  {
    name: 'rest + cancel (5k resting, 200 levels)',
    ops: 400_000,
    run(l) {
      const rnd = rng(1);
      const live: number[] = [];
      let sum = 0;
      for (let i = 0; i < 5000; i++) live.push(l.add((i & 1) as Side, (i & 1 ? 1001 : 999) + (i & 1 ? 1 : -1) * rnd(100), 1 + rnd(100), rnd(50)));
      for (let i = 0; i < 200_000; i++) {
        const k = rnd(live.length);
        l.remove(live[k]);
        const side = rnd(2) as Side;
        live[k] = l.add(side, (side ? 1001 : 999) + (side ? 1 : -1) * rnd(100), 1 + rnd(100), rnd(50));
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
      let sum = 0;
      for (let i = 0; i < 2000; i++) l.add(SELL, 1000 + rnd(20), 1 + rnd(100), rnd(50));
      for (let i = 0; i < 200_000; i++) {
        const n = l.match(BUY, 1010, 1 + rnd(60), 99, fills);
        sum += n;
        for (let k = 0; k < n; k++) if (fills[1 + k * 6 + 3] === 0) l.add(SELL, 1000 + rnd(20), 1 + rnd(100), rnd(50));
        sum += l.fillable(BUY, 1005, 100, 7, true);
      }
      return sum;
    },
  },
  {
    name: 'sweep: 100k orders over 500 levels, buffer refills',
    ops: 100_000 * 2,
    run(l) {
      const rnd = rng(3);
      for (let i = 0; i < 100_000; i++) l.add(SELL, 1000 + rnd(500), 1 + rnd(10), rnd(50));
      let want = Number.MAX_SAFE_INTEGER;
      let total = 0;
      for (;;) {
        const n = l.match(BUY, NO_LIMIT_BUY, want, 999, fills);
        for (let k = 0; k < n; k++) {
          want -= fills[1 + k * 6 + 2];
          total += fills[1 + k * 6 + 2];
        }
        if (fills[0] !== STOP_FULL) break;
      }
      return total;
    },
  },
  {
    name: 'queries: best, levelQty, depth(10)',
    ops: 600_000,
    run(l) {
      const rnd = rng(4);
      const out = new Float64Array(30);
      for (let i = 0; i < 3000; i++) l.add((i & 1) as Side, (i & 1 ? 1001 : 999) + (i & 1 ? 1 : -1) * rnd(50), 1 + rnd(100), 0);
      let sum = 0;
      for (let i = 0; i < 200_000; i++) {
        sum += l.best(BUY) + l.levelQty(SELL, 1001 + rnd(50)) + l.depth(BUY, 10, out);
      }
      return sum;
    },
  },
];

function time(kind: 'ts' | 'native', s: Scenario): { ms: number; check: number } {
  let best = Infinity;
  let check = 0;
  for (let rep = 0; rep < 5; rep++) {
    const l = createLadder(kind);
    const t0 = performance.now();
    check = s.run(l);
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, check };
}

console.log(`ladder micro benchmark (${ladderInfo().reason}); best of 5`);
const kinds: Array<'ts' | 'native'> = nativeAvailable() ? ['ts', 'native'] : ['ts'];
for (const s of scenarios) {
  const r = kinds.map((k) => ({ k, ...time(k, s) }));
  const line = r.map((x) => `${x.k} ${x.ms.toFixed(1)} ms (${((s.ops / x.ms) * 1000 / 1e6).toFixed(2)} Mop/s)`).join('   ');
  const ratio = r.length === 2 ? `   native/ts speed ${(r[0].ms / r[1].ms).toFixed(2)}x` : '';
  if (r.length === 2 && r[0].check !== r[1].check) throw new Error(`${s.name}: checksums differ (${r[0].check} vs ${r[1].check})`);
  console.log(`${s.name.padEnd(52)} ${line}${ratio}`);
}
