// The command line around the log: `matchlog start` runs until a signal, shuts
// down with a snapshot and recovers from it; `matchlog apply --log` appends
// through the sequencer and answers like plain `matchlog apply`.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listSnapshots, readLog, recover } from '../log/index.js';
import { tempDir } from './log-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));

function startOnce(dir: string, signal: NodeJS.Signals): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', '--data', dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let signalled = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no startup line:\n${out}\n${err}`)); }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!signalled && out.includes('exchange started')) {
        signalled = true; // once: a second signal during shutdown is the operator's "exit now"
        child.kill(signal);
      }
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

test('matchlog start: runs on defaults, stops cleanly on SIGTERM/SIGINT with a snapshot, recovers from it', async (t) => {
  const dir = join(tempDir(t), 'data');
  const first = await startOnce(dir, 'SIGTERM');
  assert.equal(first.code, 0, `${first.out}\n${first.err}`);
  assert.match(first.out, /exchange started: data .*data, recovered seq 0 from no snapshot, replayed 0 tail records/);
  assert.match(first.out, /symbols AAPL BTC-USD EUR-USD MSFT/);
  assert.match(first.out, /SIGTERM: shutting down/);
  const snaps = listSnapshots(dir);
  assert.equal(snaps.length, 1);
  const second = await startOnce(dir, 'SIGINT');
  assert.equal(second.code, 0, second.err);
  assert.match(second.out, new RegExp(`recovered seq ${snaps[0].seq} from snapshot .*${snaps[0].name} \\(seq ${snaps[0].seq}\\), replayed 0 tail records`));
  assert.match(second.out, /epoch 2/);
});

test('matchlog apply --log: appends through the sequencer, answers like plain apply, seq continues across runs', (t) => {
  const dir = tempDir(t);
  const inst = join(dir, 'instruments.json');
  writeFileSync(inst, JSON.stringify([{ symbol: 'AAPL', tickSize: '0.01', lotSize: '1' }]));
  const cmds = [
    { op: 'new', account: 'a', clOrdId: '1', symbol: 'AAPL', side: 'buy', type: 'limit', price: '10.00', qty: '5' },
    { op: 'new', account: 'b', clOrdId: '2', symbol: 'AAPL', side: 'sell', type: 'limit', price: '9.99', qty: '3' },
    { op: 'new', account: 'b', clOrdId: '3', symbol: 'AAPL', side: 'up', type: 'limit', price: '9.99', qty: '3' },
  ].map((c) => JSON.stringify(c)).join('\n') + '\nnot json\n';
  const log = join(dir, 'log');
  const run = (): string[] => {
    const r = spawnSync(process.execPath, [BIN, 'apply', '--log', log, '--instruments', inst, '--hash'], { input: cmds, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n');
  };
  const plain = spawnSync(process.execPath, [BIN, 'apply', '--instruments', inst], { input: cmds, encoding: 'utf8' });
  const types = (lines: string[]): string[] => lines.map((l) => (JSON.parse(l) as { type: string }).type);
  const a = run();
  assert.deepEqual(types(a).slice(0, -1), types(plain.stdout.trim().split('\n')));
  const hashLine = JSON.parse(a[a.length - 1]) as { seq: number; hash: string };
  assert.equal(hashLine.seq, 4); // the instrument took seq 1; the non-JSON line took none
  assert.match(a[a.length - 2], /"seq":0.*line 4: not JSON/);
  const b = run();
  const hash2 = JSON.parse(b[b.length - 1]) as { seq: number; hash: string };
  assert.equal(hash2.seq, 7); // the instrument exists: not created again
  const fresh = recover({ dir: log, readOnly: true, fromStart: true });
  assert.equal(fresh.engine.stateHash(), hash2.hash);
  assert.deepEqual([...readLog(log)].filter((r) => r.kind === 'command').map((r) => r.kind === 'command' && r.origin), Array(7).fill('apply'));
});
