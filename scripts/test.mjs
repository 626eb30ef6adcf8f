#!/usr/bin/env node
// `npm test`: build, then
//   1. every test file on the default path (the native ladder when it is built),
//   2. the engine suites again on the pure-TypeScript ladder (MATCHLOG_NATIVE=0),
//   3. the Rust unit tests (cargo test), when cargo is present,
// and a last line adding them up. Exit code non-zero if any step fails.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const totals = { passed: 0, failed: 0 };

/** Runs a step with its output shown live, counting what its runner reports. */
function run(cmd, args, env = {}) {
  console.log(`\n$ ${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}${cmd} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const text = tail + chunk.toString('utf8');
      const lines = text.split('\n');
      tail = lines.pop();
      for (const line of lines) count(line);
    });
    child.on('error', (e) => { console.error(`test: ${cmd}: ${e.message}`); resolve(false); });
    child.on('close', (code) => { count(tail); resolve(code === 0); });
  });
}

function count(line) {
  let m = /^ℹ (pass|fail) (\d+)$/.exec(line.trim());
  if (m) totals[m[1] === 'pass' ? 'passed' : 'failed'] += Number(m[2]);
  m = /^test result: \w+\. (\d+) passed; (\d+) failed/.exec(line.trim());
  if (m) { totals.passed += Number(m[1]); totals.failed += Number(m[2]); }
}

let ok = await run(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
if (ok) {
  const files = readdirSync(join(root, 'dist', 'test')).filter((f) => f.endsWith('.test.js')).sort().map((f) => join('dist', 'test', f));
  const engineFiles = files.filter((f) => /[/\\](engine-|decimal|apply-|lobster)/.test(f));
  const nodeTest = ['--test', '--test-concurrency=2', '--test-reporter=spec'];
  ok = (await run(process.execPath, [...nodeTest, ...files])) && ok;
  ok = (await run(process.execPath, [...nodeTest, ...engineFiles], { MATCHLOG_NATIVE: '0' })) && ok;
  const hasCargo = await new Promise((resolve) => {
    const c = spawn('cargo', ['--version'], { stdio: 'ignore' });
    c.on('error', () => resolve(false));
    c.on('close', (code) => resolve(code === 0));
  });
  if (hasCargo) ok = (await run('cargo', ['test', '--release', '--lib', '--tests', '--manifest-path', join('native', 'Cargo.toml')])) && ok;
  else console.warn('\ntest: cargo not found; the Rust unit tests were not run');
}
if (!ok && totals.failed === 0) totals.failed = 1; // a build or runner failure counts
console.log(`\nmatchlog: ${totals.passed} passed, ${totals.failed} failed`);
process.exit(ok ? 0 : 1);
