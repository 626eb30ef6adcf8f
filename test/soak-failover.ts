// `npm run soak:failover`: the failover trial of failover.test.ts a hundred
// times (MATCHLOG_FAILOVER_TRIALS to change), every other one with the
// replica lagging when the primary dies. Prints the recovery time (kill -9 of
// the primary to the first order accepted on the promoted replica, manual
// promotion by `matchlog promote`) and promote-to-first-order, p50/p99.
// Stops at the first trial that loses, duplicates or renumbers an order, and
// keeps its data.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failoverTrial } from './failover-trial.js';
import { prng } from './log-helpers.js';

const total = Number(process.env.MATCHLOG_FAILOVER_TRIALS ?? 100);
const seed = Number(process.env.MATCHLOG_FAILOVER_SEED ?? Date.now() % 100_000);
const rnd = prng(seed);
const recovery: number[] = [];
const promote: number[] = [];
let acked = 0;
const started = Date.now();

function pct(xs: number[], p: number): string {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? '-' : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)].toFixed(0);
}

let exitCode = 0;
for (let i = 0; i < total; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-failover-soak-'));
  const r = await failoverTrial(dir, rnd, 150 + Math.floor(rnd() * 600), i % 2 === 1 ? 100 + Math.floor(rnd() * 200) : 0);
  if (r.problems.length > 0) {
    process.stderr.write(`soak:failover: trial ${i + 1} FAILED (seed ${seed}), data kept in ${dir}:\n  ${r.problems.join('\n  ')}\n`);
    exitCode = 1;
    break;
  }
  rmSync(dir, { recursive: true, force: true });
  recovery.push(r.recoveryMs);
  promote.push(r.promoteToOrderMs);
  acked += r.acked;
  if ((i + 1) % 10 === 0 || i + 1 === total) {
    process.stdout.write(`soak:failover: ${i + 1}/${total} trials ok, ${acked} acknowledged orders all found; recovery ms p50 ${pct(recovery, 50)} p99 ${pct(recovery, 99)}; `
      + `promote to first order ms p50 ${pct(promote, 50)} p99 ${pct(promote, 99)}; ${Math.round((Date.now() - started) / 1000)} s\n`);
  }
}
process.exitCode = exitCode;
