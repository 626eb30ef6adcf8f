// `npm run soak:failover`: the failover trial of failover.test.ts a hundred
// times (MATCHLOG_FAILOVER_TRIALS to change), every other one with the
// replica lagging when the primary dies. Prints the recovery time (kill -9 of
// the primary to the first order accepted on the promoted replica) and
// promote-to-first-order, p50/p99: first with manual promotion (`matchlog
// promote` as soon as the kill is seen), then through a real etcd with a 1 s
// lease (MATCHLOG_FAILOVER_ETCD=0 to skip; needs the etcd-server package).
// Stops at the first trial that loses, duplicates or renumbers an order, and
// keeps its data.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd } from './etcd-helpers.js';
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

async function series(label: string, coordinator: string | null): Promise<boolean> {
  recovery.length = 0;
  promote.length = 0;
  acked = 0;
  for (let i = 0; i < total; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'matchlog-failover-soak-'));
    const r = await failoverTrial(dir, rnd, 150 + Math.floor(rnd() * 600), i % 2 === 1 ? 100 + Math.floor(rnd() * 200) : 0, coordinator);
    if (r.problems.length > 0) {
      process.stderr.write(`soak:failover (${label}): trial ${i + 1} FAILED (seed ${seed}), data kept in ${dir}:\n  ${r.problems.join('\n  ')}\n`);
      return false;
    }
    rmSync(dir, { recursive: true, force: true });
    recovery.push(r.recoveryMs);
    promote.push(r.promoteToOrderMs);
    acked += r.acked;
    if ((i + 1) % 10 === 0 || i + 1 === total) {
      process.stdout.write(`soak:failover (${label}): ${i + 1}/${total} trials ok, ${acked} acknowledged orders all found; recovery ms p50 ${pct(recovery, 50)} p99 ${pct(recovery, 99)}`
        + `${coordinator === null ? `; promote to first order ms p50 ${pct(promote, 50)} p99 ${pct(promote, 99)}` : ''}; ${Math.round((Date.now() - started) / 1000)} s\n`);
    }
  }
  return true;
}

let ok = await series('manual promote', null);
if (ok && process.env.MATCHLOG_FAILOVER_ETCD !== '0') {
  const etcd = await startEtcd();
  try {
    // one etcd for all trials: each trial's nodes are gone (and their leases lapsed or revoked) before the next starts
    ok = await series('etcd, 1 s lease', etcd.url);
  } finally {
    await etcd.stop();
  }
}
process.exitCode = ok ? 0 : 1;
