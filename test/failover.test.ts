// Failover with real processes (see failover-trial.ts): kill -9 of a
// quorum-mode primary under load, manual promotion, nothing acknowledged is
// lost. Ten trials at random moments; `npm run soak:failover` runs a hundred.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failoverTrial } from './failover-trial.js';
import { prng, tempDir } from './log-helpers.js';

const TRIALS = 10;

test(`failover: kill -9 of a quorum primary under load, then promote; every acknowledged order survives (${TRIALS} trials)`, { timeout: 300_000 }, async (t) => {
  const rnd = prng(20261122);
  let acked = 0;
  for (let i = 0; i < TRIALS; i++) {
    const dir = tempDir(t, `matchlog-failover-${i}-`);
    // every other trial the replica lags when the primary dies
    const r = await failoverTrial(dir, rnd, 150 + Math.floor(rnd() * 600), i % 2 === 1 ? 100 + Math.floor(rnd() * 200) : 0);
    assert.deepEqual(r.problems, [], `trial ${i}`);
    assert.ok(r.acked > 0, `trial ${i}: the primary acknowledged orders before it died`);
    acked += r.acked;
  }
  assert.ok(acked > TRIALS * 10);
});
