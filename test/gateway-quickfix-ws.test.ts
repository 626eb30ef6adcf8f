// The QuickFIX FIX 4.4 acceptance scripts against the real gateway: a
// `matchlog start --reset-on-disconnect` process (the acceptance server's
// setting: every connection starts at MsgSeqNum 1), the runner of
// test/gateway-quickfix.test.ts pointed at it over WebSocket with
// MATCHLOG_FIX_URL. Real time: the heartbeat scripts wait out HeartBtInt.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './log-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));
const RUNNER = fileURLToPath(new URL('./gateway-quickfix.test.js', import.meta.url));

test('every QuickFIX acceptance script over WebSocket against matchlog start', { timeout: 300_000 }, async (t) => {
  const dir = join(tempDir(t, 'matchlog-qf-'), 'data');
  const server = spawn(process.execPath, [BIN, 'start', '--data', dir, '--listen', '127.0.0.1:0', '--reset-on-disconnect'], {
    stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, MATCHLOG_LOG_LEVEL: 'silent' },
  });
  const exited = new Promise<void>((resolve) => server.on('close', () => resolve()));
  // the process goes before its data folder (the folder's own cleanup runs after this test's end)
  t.after(async () => {
    if (server.exitCode === null) server.kill('SIGKILL');
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /gateway (ws:\/\/\S+\/fix)/.exec(out);
      if (m !== null) resolve(m[1]);
    });
    server.on('close', () => reject(new Error(`matchlog start exited: ${out}`)));
  });
  const password = /^alice (\S+)$/m.exec(readFileSync(join(dir, 'demo-credentials.txt'), 'utf8'))?.[1] ?? '';
  // a runner of its own: without NODE_TEST_CONTEXT it reports in plain TAP, not to this runner
  const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
  const runner = spawn(process.execPath, ['--test', '--test-reporter=tap', RUNNER], {
    env: { ...env, MATCHLOG_FIX_URL: url, MATCHLOG_FIX_ACCOUNT: 'alice', MATCHLOG_FIX_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  runner.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  runner.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((resolve) => runner.on('close', resolve));
  const failed = out.split('\n').filter((l) => /^not ok /.test(l));
  const passed = Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0);
  t.diagnostic(`${passed} scripts passed over ${url}`);
  assert.deepEqual(failed, [], out.slice(-4000));
  assert.equal(code, 0, out.slice(-4000));
  assert.ok(passed >= 58, `${passed} scripts ran`);
  server.kill('SIGTERM');
  await exited;
});
