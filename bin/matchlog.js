#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('matchlog: dist/ is missing; run `npm install` (or `npm run build`) first\n');
  process.exit(2);
}
await import(main.href);
