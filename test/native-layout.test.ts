// The io layout and op codes are kept by hand on both sides (native/ladder.ts and
// native/layout.ts; native/src/ladder.rs LAYOUT): the addon exports its table
// (`layout()`) and the loader refuses an addon whose table differs, or that has none.
//
// The comparison is unit-tested directly; the loader end to end with stand-in
// addons (a CommonJS file wrapping the real addon with a wrong or no layout).
// Without the addon the tests that need it FAIL unless MATCHLOG_NATIVE=0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FILL_CAPACITY, FILL_STRIDE, IO_HEADER, IO_LENGTH } from '../native/ladder.js';
import { IO_ARGS, LAYOUT, layoutDifferences, layoutRefusal } from '../native/layout.js';
import { ladderInfo, nativeAddonFile, nativeAvailable } from '../native/index.js';
import { probeLadder, type LadderProbe } from './ladder-probe.js';

const available = nativeAvailable();
const skipNative = !available && process.env.MATCHLOG_NATIVE === '0' ? 'MATCHLOG_NATIVE=0: native ladder not tested' : false;

test('layoutRefusal: an identical layout passes', () => {
  assert.equal(layoutRefusal(LAYOUT), null);
  assert.equal(layoutRefusal({ ...LAYOUT }), null);
  assert.deepEqual(layoutDifferences({ ...LAYOUT }), []);
});

test('layoutRefusal: one differing field is named, with expected and found', () => {
  const reason = layoutRefusal({ ...LAYOUT, FILL_STRIDE: FILL_STRIDE + 1 });
  assert.ok(reason !== null);
  assert.match(reason, new RegExp(`\\(1 field: FILL_STRIDE expected ${FILL_STRIDE}, found ${FILL_STRIDE + 1}\\)`));
  assert.match(reason, /rebuild it/);
  assert.doesNotMatch(reason, /IO_HEADER|OP_/, 'only the differing field is named');
  // an op code
  assert.match(layoutRefusal({ ...LAYOUT, OP_MATCH: 14 }) ?? '', /OP_MATCH expected 4, found 14/);
  // the version alone (same numbers, another meaning): v1 is the one-ladder-per-book protocol
  assert.match(layoutRefusal({ ...LAYOUT, LAYOUT_VERSION: 1 }) ?? '', /LAYOUT_VERSION expected 2, found 1/);
  assert.deepEqual(layoutDifferences({ ...LAYOUT, IO_ARGS: 8 }), [{ field: 'IO_ARGS', expected: IO_ARGS, found: 8 }]);
  // an addon built before OP_ADD_BOOK and IO_BEST_BOOK lacks them: refused, both named
  const { OP_ADD_BOOK: _op, IO_BEST_BOOK: _bb, ...old } = LAYOUT;
  const oldReason = layoutRefusal(old) ?? '';
  assert.match(oldReason, /IO_BEST_BOOK expected 8, found nothing/);
  assert.match(oldReason, /OP_ADD_BOOK expected 13, found nothing/);
});

test('layoutRefusal: several differences, absent and extra fields, wrong types', () => {
  const { IO_RESULT: _gone, ...rest } = LAYOUT;
  const reason = layoutRefusal({ ...rest, STOP_DONE: -3, IO_EXTRA: 40, F_QTY: '2' }) ?? '';
  assert.match(reason, /4 fields/);
  assert.match(reason, /STOP_DONE expected -1, found -3/);
  assert.match(reason, /IO_RESULT expected 5, found nothing/);
  assert.match(reason, /IO_EXTRA expected nothing, found 40/);
  assert.match(reason, /F_QTY expected 2, found "2"/);
  assert.match(layoutRefusal({ ...LAYOUT, BUY: NaN }) ?? '', /BUY expected 0, found NaN/);
  // a layout that is not an object of numbers at all
  for (const bad of [null, 42, 'v1', [1, 2]]) assert.match(layoutRefusal(bad) ?? '', /layout\(\) answered .*rebuild it/);
});

test('layoutRefusal: an addon with no layout export', () => {
  assert.match(layoutRefusal(undefined) ?? '', /^the addon exports no layout: rebuild it/);
});

test('LAYOUT is the constants of native/ladder.ts', () => {
  assert.equal(LAYOUT.IO_LENGTH, IO_HEADER + FILL_CAPACITY * FILL_STRIDE);
  assert.equal(LAYOUT.IO_LENGTH, IO_LENGTH);
  assert.equal(LAYOUT.FILL_STRIDE, FILL_STRIDE);
  assert.ok(Object.isFrozen(LAYOUT));
  // op codes 1..n, each once
  const ops = Object.entries(LAYOUT).filter(([k]) => k.startsWith('OP_')).map(([, v]) => v).sort((a, b) => a - b);
  assert.deepEqual(ops, ops.map((_, i) => i + 1));
});

test('native addon is available', { skip: skipNative }, () => {
  assert.ok(available, `native ladder unavailable (${ladderInfo().reason}); run \`node scripts/build-native.mjs\``);
});

test('the built addon exports exactly the TypeScript layout', { skip: !available }, () => {
  const file = nativeAddonFile();
  assert.ok(file !== undefined);
  const m: unknown = createRequire(import.meta.url)(file);
  assert.ok(typeof m === 'object' && m !== null && 'layout' in m && typeof m.layout === 'function', 'layout() exported');
  const found: unknown = m.layout();
  assert.deepEqual(found, { ...LAYOUT });
  assert.equal(layoutRefusal(found), null);
});

test('loader: a wrong or missing layout is refused, with the reason in ladderInfo and `matchlog info`', { skip: !available }, () => {
  const real = nativeAddonFile() ?? '';
  const cli = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-layout-'));
  try {
    // stand-ins for the addon: the real one, with another layout or none
    const standIn = (name: string, layout: string | null): string => {
      const file = join(dir, name);
      writeFileSync(file, `const real = require(${JSON.stringify(real)});
module.exports = { NativeLadder: real.NativeLadder, hot: real.hot${layout === null ? '' : `, layout: ${layout}`} };\n`);
      return file;
    };
    const wrong = standIn('wrong.cjs', `() => ({ ...real.layout(), FILL_STRIDE: ${FILL_STRIDE + 1} })`);
    const none = standIn('none.cjs', null);
    const throws = standIn('throws.cjs', `() => { throw new Error('boom'); }`);
    const same = standIn('same.cjs', `() => real.layout()`);

    const probe = (addon: string, native: string): ReturnType<LadderProbe['parsed']> => {
      const r = probeLadder({ MATCHLOG_NATIVE: native, MATCHLOG_NATIVE_ADDON: addon });
      assert.equal(r.status, 0, r.err);
      return r.parsed();
    };

    // the stand-in mechanism itself loads when the layout matches
    assert.equal(probe(same, '').kind, 'native');

    const field = new RegExp(`refused .*wrong\\.cjs: .*FILL_STRIDE expected ${FILL_STRIDE}, found ${FILL_STRIDE + 1}`);
    const fallback = probe(wrong, '');
    assert.equal(fallback.kind, 'ts', 'falls back to the TypeScript ladder');
    assert.equal(fallback.info.path, 'ts');
    assert.match(fallback.info.reason, /^falling back to the TypeScript ladder: /);
    assert.match(fallback.info.reason, field);
    assert.equal(fallback.info.addon, wrong);
    const required = probe(wrong, '1');
    assert.match(required.kind, /^threw: matchlog: MATCHLOG_NATIVE=1 but the native ladder is unavailable: refused /);
    assert.match(required.kind, field);
    assert.match(required.info.reason, /MATCHLOG_NATIVE=1 .*ladderFactory\(\) throws/);

    const old = probe(none, '');
    assert.equal(old.kind, 'ts');
    assert.match(old.info.reason, /refused .*none\.cjs: the addon exports no layout: rebuild it/);
    assert.match(probe(none, '1').kind, /^threw: .*the addon exports no layout/);
    assert.match(probe(throws, '').info.reason, /refused .*throws\.cjs: the addon's layout\(\) threw \(boom\)/);

    // `matchlog info` shows the reason
    const info = spawnSync(process.execPath, [cli, 'info'], {
      encoding: 'utf8',
      env: { ...process.env, MATCHLOG_NATIVE: '', MATCHLOG_NATIVE_ADDON: wrong },
    });
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /^price ladder: ts$/m);
    assert.match(info.stdout, new RegExp(`^why: .*FILL_STRIDE expected ${FILL_STRIDE}, found ${FILL_STRIDE + 1}`, 'm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
