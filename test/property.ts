// Running a fast-check property so that a failure can be reproduced: every run
// uses a seed (MATCHLOG_SEED, else a fresh random one), and a failure reports
// the seed, the shrink path, the failing assertion, the counterexample and the
// command line that replays exactly that case:
//
//   MATCHLOG_SEED=<seed> MATCHLOG_PATH=<path> node --test --test-name-pattern '<test>' dist/test/<file>.test.js

import fc from 'fast-check';
import { relative } from 'node:path';
import type { TestContext } from 'node:test';

/** Longest counterexample printed; the seed and path replay it in full. */
const MAX_SHOWN = 4000;

function envSeed(): number | undefined {
  const s = process.env.MATCHLOG_SEED;
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new Error(`MATCHLOG_SEED must be an integer, got ${JSON.stringify(s)}`);
  return n;
}

/** A regular expression matching exactly `s`, quoted for a POSIX shell. */
const pattern = (s: string) => `'^${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/'/g, `'\\''`)}$'`;

/** True when MATCHLOG_SEED and MATCHLOG_PATH replay one case: coverage counts over many runs do not apply. */
export function replayingOneCase(): boolean {
  return envSeed() !== undefined && !!process.env.MATCHLOG_PATH;
}

/**
 * fc.assert with a known seed. MATCHLOG_SEED fixes it (and MATCHLOG_PATH, with
 * it, replays one shrunk case); else `params.seed` if given; else each run
 * draws a new seed.
 */
export function assertProperty<Ts>(t: TestContext, property: fc.IProperty<Ts>, params: fc.Parameters<Ts> = {}): void {
  const fixed = envSeed();
  const seed = fixed ?? params.seed ?? (Math.random() * 0x100000000) | 0;
  const path = fixed !== undefined && process.env.MATCHLOG_PATH ? process.env.MATCHLOG_PATH : undefined;
  const details = fc.check(property, { ...params, seed, ...(path === undefined ? {} : { path }) });
  if (!details.failed) return;
  const file = process.argv[1] ? relative(process.cwd(), process.argv[1]) : '<the test file>';
  const shown = details.counterexample === null ? '(none: the property threw outside a run)' : fc.stringify(details.counterexample);
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const err = new Error([
    `property failed after ${details.numRuns} run(s), shrunk ${details.numShrinks} time(s): seed ${details.seed}, path ${details.counterexamplePath ?? '(none)'}`,
    `reproduce: MATCHLOG_SEED=${details.seed} MATCHLOG_PATH=${details.counterexamplePath ?? ''} node --test --test-name-pattern ${pattern(t.name)} ${file}`,
    `error: ${cause}`,
    `counterexample: ${shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)} ... (${shown.length} characters; the command above replays it)` : shown}`,
  ].join('\n'));
  if (details.errorInstance instanceof Error) err.cause = details.errorInstance;
  throw err;
}
