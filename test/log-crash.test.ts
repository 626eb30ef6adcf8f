// kill -9 at random moments, restart, check: see test/log-crash.ts.
// test/soak.ts runs the same rig for 1,000 kill points.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recover } from '../log/index.js';
import { CrashRig } from './log-crash.js';
import { tempDir } from './log-helpers.js';

const ROUNDS = 24;

test(`acknowledged commands survive kill -9 at ${ROUNDS} random moments`, { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, 'matchlog-crash-');
  const seed = Number(process.env.MATCHLOG_CRASH_SEED ?? Date.now() % 100_000);
  const rig = new CrashRig(dir, seed);
  t.after(() => rig.cleanup());
  for (let i = 0; i < ROUNDS; i++) await rig.round();
  const s = rig.stats;
  t.diagnostic(`seed ${seed}: ${s.rounds} kills (${s.killedBeforeReady} during start-up), ${s.sent} sent, ${s.acked} acknowledged, ${s.refused} refused, log ends at seq ${s.lastSeq}`);
  assert.ok(s.acked > 0);
  // and a final start-up (with truncation of the torn tail) agrees with a fresh replay
  const r = recover({ dir, log: () => undefined });
  const fresh = recover({ dir, readOnly: true, fromStart: true });
  assert.equal(r.engine.stateHash(), fresh.engine.stateHash());
  assert.equal(r.lastSeq, s.lastSeq);
});
