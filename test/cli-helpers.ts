// Running the `matchlog` command as an outsider does, from tests: the built
// bin/matchlog.js in a child process, outside the test runner's context.

import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));

/** The environment without the runner's context (a child `node --test` would report into ours). */
export function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** `matchlog ARGS` to completion, with `input` on stdin. */
export function matchlog(args: string[], input = ''): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: childEnv(), timeout: 120_000, maxBuffer: 1 << 28 });
}

/** `matchlog ARGS` without blocking the test (another process runs beside it), with `input` on stdin if given. */
export function matchlogAsync(args: string[], input?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: childEnv() });
    if (input !== undefined) child.stdin?.end(input);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}
