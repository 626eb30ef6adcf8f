#!/usr/bin/env node
// `npm test`: build, then
//   1. every test file on the default path (the native ladder when it is built),
//   2. the engine suites again on the pure-TypeScript ladder (MATCHLOG_NATIVE=0),
//   3. the Rust unit tests (cargo test), when cargo is present.
// Each step prints node's (or cargo's) own summary; the exit code is non-zero
// if any step fails.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, env = {}) => {
  console.log(`\n$ ${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
};

if (!run(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'])) process.exit(1);

const testDir = join(root, 'dist', 'test');
const files = readdirSync(testDir).filter((f) => f.endsWith('.test.js')).sort().map((f) => join('dist', 'test', f));
const engineFiles = files.filter((f) => /[/\\](engine-|decimal|apply-|lobster)/.test(f));
const nodeTest = ['--test', '--test-concurrency=2', '--test-reporter=spec'];

let ok = run(process.execPath, [...nodeTest, ...files]);
ok = run(process.execPath, [...nodeTest, ...engineFiles], { MATCHLOG_NATIVE: '0' }) && ok;

const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.status === 0) ok = run('cargo', ['test', '--release', '--manifest-path', join('native', 'Cargo.toml')]) && ok;
else console.warn('\ntest: cargo not found; the Rust unit tests were not run');

process.exit(ok ? 0 : 1);
