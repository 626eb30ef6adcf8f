// matchlog gen: the same arguments give the same bytes; the day looks like a
// trading day (session times, grid prices, cancels, accounts); bad options
// and a folder with a log in it are refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recover } from '../log/recovery.js';
import { zonedTime } from '../replay/surveillance/session.js';
import { matchlog } from './cli-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'matchlog-gen-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const DAY = ['--commands', '20000', '--symbols', '4', '--seed', '11', '--date', '2026-03-04'];

test('two runs with the same arguments write byte-identical files', () => {
  const a = join(root, 'a');
  const b = join(root, 'b');
  for (const dir of [a, b]) {
    const r = matchlog(['gen', '--out', dir, ...DAY]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /gen: 20,000 commands in [\d.]+ s \([\d,]+ commands\/s\)/);
  }
  const files = readdirSync(a).sort();
  assert.deepEqual(readdirSync(b).sort(), files);
  assert.ok(files.filter((f) => f.startsWith('snapshot-')).length >= 4, `periodic snapshots kept: ${files.join(' ')}`);
  for (const f of files) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs`);
  // another seed is another day
  const c = join(root, 'c');
  assert.equal(matchlog(['gen', '--out', c, ...DAY.slice(0, 5), '12', ...DAY.slice(6)]).status, 0);
  assert.ok(!readFileSync(join(a, files[0])).equals(readFileSync(join(c, files[0]))));
});

test('the day is a trading day: session times, grid prices, cancels, replaces, marketable orders, hundreds of accounts', () => {
  const dir = join(root, 'a');
  const open = zonedTime('2026-03-04', '09:30', 'America/New_York');
  const close = zonedTime('2026-03-04', '16:00', 'America/New_York');
  let lastTs = 0;
  let commands = 0;
  let rejected = 0;
  let replaced = 0;
  let market = 0;
  let marketable = 0;
  const firstOps: string[] = [];
  const accounts = new Set<string>();
  const ticks = new Set<string>();
  const fate = new Map<number, 'open' | 'filled' | 'cancelled'>();
  const halves = [0, 0, 0]; // first hour, middle, last hour
  recover({
    dir, readOnly: true, fromStart: true,
    onCommand: (rec, events) => {
      commands++;
      assert.ok(rec.ts >= lastTs, `ts ascending at seq ${rec.seq}`);
      assert.ok(rec.ts >= open && rec.ts < close, `seq ${rec.seq} at ${rec.ts} is inside the session`);
      lastTs = rec.ts;
      if (firstOps.length < 4) firstOps.push(rec.cmd.op);
      if (rec.cmd.op === 'instrument') ticks.add(rec.cmd.tickSize);
      if (rec.cmd.op === 'new' && rec.cmd.type === 'market') market++;
      halves[rec.ts < open + 3600e6 ? 0 : rec.ts >= close - 3600e6 ? 2 : 1]++;
      for (const e of events) {
        if (e.type === 'rejected') rejected++;
        if (e.type === 'replaced') replaced++;
        if (e.type === 'accepted') {
          accounts.add(e.account);
          if (e.ordType === 'limit' && e.tif === 'GTC') fate.set(e.orderId, 'open');
        }
        if (e.type === 'trade') {
          marketable++;
          if (fate.get(e.makerOrderId) === 'open') fate.set(e.makerOrderId, 'filled');
          if (fate.get(e.takerOrderId) === 'open') fate.set(e.takerOrderId, 'filled');
        }
        if (e.type === 'cancelled' && e.reason === 'user' && fate.get(e.orderId) === 'open') fate.set(e.orderId, 'cancelled');
      }
    },
  });
  assert.equal(commands, 20_000);
  assert.deepEqual(firstOps, ['instrument', 'instrument', 'instrument', 'instrument']);
  assert.ok(ticks.has('0.01') && ticks.has('0.5'), `varied grids: ${[...ticks].join(' ')}`);
  // an off-grid price or size would be rejected by the engine
  assert.ok(rejected < commands / 1000, `${rejected} rejects`);
  const fates = [...fate.values()];
  const cancelled = fates.filter((f) => f === 'cancelled').length;
  assert.ok(cancelled > fates.length / 2, `most limit orders cancelled before filling: ${cancelled} of ${fates.length}`);
  assert.ok(replaced > commands / 50, `${replaced} replaces`);
  assert.ok(market > commands / 100 && marketable > commands / 20, `${market} market orders, ${marketable} trades`);
  assert.ok(accounts.size >= 300, `${accounts.size} accounts`);
  // U-shaped: an hour at the open and the last hour each busier than an average midday hour
  const midHour = halves[1] / 4.5;
  assert.ok(halves[0] > 1.3 * midHour && halves[2] > 1.3 * midHour, `arrivals by hour: ${halves.join(' ')}`);
  const planted = JSON.parse(readFileSync(join(dir, 'planted.json'), 'utf8')) as { kind: string; account: string; seqs: number[] }[];
  assert.deepEqual([...new Set(planted.map((p) => p.kind))].sort(), ['marking-close', 'order-to-trade', 'spoofing', 'wash-trade']);
  for (const p of planted) assert.ok(typeof p.account === 'string' && p.seqs.length > 0);
  const related = JSON.parse(readFileSync(join(dir, 'related.json'), 'utf8')) as { groups: string[][] };
  for (const w of planted.filter((p) => p.kind === 'wash-trade') as unknown as { account: string; counterparty: string }[]) {
    assert.ok(related.groups.some((g) => g.includes(w.account) && g.includes(w.counterparty)));
  }
  assert.ok(related.groups.length > planted.filter((p) => p.kind === 'wash-trade').length, 'innocent related accounts too');
});

test('bad options and a folder holding anything are refused with a reason', () => {
  const missing = matchlog(['gen', '--out', join(root, 'x'), '--commands', '20000', '--symbols', '2', '--seed', '1']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--date is required/);
  const bad = matchlog(['gen', '--out', join(root, 'x'), '--commands', 'many', '--symbols', '2', '--seed', '1', '--date', '2026-03-04']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--commands must be an integer/);
  const few = matchlog(['gen', '--out', join(root, 'x'), '--commands', '500', '--symbols', '2', '--seed', '1', '--date', '2026-03-04']);
  assert.equal(few.status, 2);
  assert.match(few.stderr, /--commands must be an integer from 10000/);
  const date = matchlog(['gen', '--out', join(root, 'x'), ...DAY.slice(0, 6), '--date', '2026-02-30']);
  assert.equal(date.status, 1);
  assert.match(date.stderr, /does not exist/);
  const log = matchlog(['gen', '--out', join(root, 'a'), ...DAY]);
  assert.equal(log.status, 1);
  assert.match(log.stderr, /already holds a log/);
  const other = join(root, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'notes.txt'), 'mine');
  const notEmpty = matchlog(['gen', '--out', other, ...DAY]);
  assert.equal(notEmpty.status, 1);
  assert.match(notEmpty.stderr, /is not empty/);
  assert.deepEqual(readdirSync(other), ['notes.txt']);
});
