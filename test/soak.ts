// `npm run soak`: the crash rig of test/log-crash.ts for 1,000 kill -9 points
// (MATCHLOG_SOAK_ROUNDS to change). A fresh data directory every 100 rounds
// keeps recovery times, and so the run, bounded.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrashRig } from './log-crash.js';

const total = Number(process.env.MATCHLOG_SOAK_ROUNDS ?? 1000);
const perDir = 100;
const seed0 = Number(process.env.MATCHLOG_CRASH_SEED ?? Date.now() % 100_000);
const started = Date.now();
let done = 0;
let acked = 0;
let exitCode = 0;
for (let d = 0; done < total; d++) {
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-soak-'));
  const rig = new CrashRig(dir, seed0 + d);
  try {
    for (let i = 0; i < perDir && done < total; i++, done++) await rig.round();
    acked += rig.stats.acked;
    process.stdout.write(`soak: ${done}/${total} kills ok (seed ${seed0 + d}: log at seq ${rig.stats.lastSeq}, ${rig.stats.killedBeforeReady} kills during start-up), ${Math.round((Date.now() - started) / 1000)} s\n`);
  } catch (e) {
    process.stderr.write(`soak: FAILED after ${done} kills, seed ${seed0 + d}, data kept in ${dir}\n${(e as Error).stack}\n`);
    exitCode = 1;
    rig.cleanup();
    break;
  }
  rig.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
if (exitCode === 0) process.stdout.write(`soak: ${done} kill -9 points, ${acked} acknowledged commands, all durable and replayed to the same hash\n`);
process.exitCode = exitCode;
