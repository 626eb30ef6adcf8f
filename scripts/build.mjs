#!/usr/bin/env node
// `npm install` / `npm ci` run this (the `prepare` script): compile the
// TypeScript into dist/, then build the Rust ladder. A missing Rust toolchain
// is a warning (the pure-TypeScript ladder serves), a TypeScript error is not.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

if (!existsSync(tsc)) {
  console.error('build: typescript is not installed; run `npm install` (dev dependencies are needed to build)');
  process.exit(1);
}
const ts = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (ts.status !== 0) process.exit(ts.status ?? 1);

const native = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { stdio: 'inherit' });
process.exit(native.status ?? 1);
