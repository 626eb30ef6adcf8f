// matchlog surveil over generated days: every planted pattern found on
// several seeds, false alarms counted, --json shape, config errors, and
// nothing written into the folder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchlog } from './cli-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'matchlog-surveil-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const SEEDS = [21, 22, 23];
const day = (seed: number): string => join(root, `day-${seed}`);

test.before(() => {
  for (const seed of SEEDS) {
    const r = matchlog(['gen', '--out', day(seed), '--commands', '20000', '--symbols', '4', '--seed', String(seed), '--date', '2026-03-05']);
    assert.equal(r.status, 0, r.stderr);
  }
});

/** Names, sizes and mtimes of everything in a folder. */
function listing(dir: string): string[] {
  return readdirSync(dir).sort().map((f) => {
    const s = statSync(join(dir, f));
    return `${f} ${s.size} ${s.mtimeMs}`;
  });
}

test('every planted pattern is found on several seeds; false alarms are counted', () => {
  for (const seed of SEEDS) {
    const before = listing(day(seed));
    const r = matchlog(['surveil', day(seed)]);
    assert.equal(r.status, 0, r.stderr);
    const m = /planted: (\d+)\/(\d+) found \(recall (\d+)%\); false alarms: (\d+) of (\d+) alerts/.exec(r.stdout);
    assert.ok(m !== null, r.stdout);
    assert.equal(m[1], m[2], `seed ${seed}: ${r.stdout}`);
    assert.ok(Number(m[2]) >= 8, `seed ${seed}: a few of each kind planted`);
    assert.ok(Number(m[4]) <= Number(m[5]));
    for (const kind of ['spoofing', 'order-to-trade', 'wash-trade', 'marking-close']) assert.match(r.stdout, new RegExp(`^  ${kind}: (\\d+)/\\1 found`, 'm'));
    assert.match(r.stdout, /^spoofing ACC\d+ \S+ \d{4}-\d\d-\d\dT[\d:.]+Z \.\. /m);
    assert.match(r.stdout, /^\d+ alerts? over 20,000 commands$/m);
    // read-only: nothing created, changed or touched
    assert.deepEqual(listing(day(seed)), before);
  }
});

test('--json prints one array of alerts with kind, account and evidence; the score goes to stderr', () => {
  const r = matchlog(['surveil', day(SEEDS[0]), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const alerts = JSON.parse(r.stdout) as Record<string, unknown>[];
  assert.ok(Array.isArray(alerts) && alerts.length >= 8);
  for (const a of alerts) {
    assert.equal(typeof a.kind, 'string');
    assert.equal(typeof a.account, 'string');
    assert.ok(Array.isArray(a.seqs) && (a.seqs as unknown[]).every((s) => Number.isInteger(s)));
    assert.match(a.from as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(a.to as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  }
  assert.deepEqual([...new Set(alerts.map((a) => a.kind))].sort(), ['marking-close', 'order-to-trade', 'spoofing', 'wash-trade']);
  assert.ok(alerts.filter((a) => a.kind === 'wash-trade').every((a) => typeof a.counterparty === 'string'));
  assert.match(r.stderr, /planted: \d+\/\d+ found/);
});

test('--from/--to limit the alerts to a range (seq or ISO time)', () => {
  const early = matchlog(['surveil', day(SEEDS[0]), '--json', '--to', '2026-03-05T15:00:00Z']);
  assert.equal(early.status, 0, early.stderr);
  const alerts = JSON.parse(early.stdout) as { kind: string; to: string }[];
  assert.ok(alerts.every((a) => a.kind !== 'marking-close' && a.to <= '2026-03-05T15:00:00.000000Z'), early.stdout);
  const bySeq = matchlog(['surveil', day(SEEDS[0]), '--from', '19000', '--json']);
  assert.equal(bySeq.status, 0, bySeq.stderr);
  assert.ok((JSON.parse(bySeq.stdout) as { kind: string }[]).some((a) => a.kind === 'marking-close'));
  const bad = matchlog(['surveil', day(SEEDS[0]), '--from', 'yesterday']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--from "yesterday" is neither a seq nor an ISO-8601 time/);
});

test('a config file overrides thresholds; an unknown key is refused naming the file', () => {
  const strict = join(root, 'strict.json');
  writeFileSync(strict, JSON.stringify({ orderToTrade: { minOrders: 1_000_000 } }));
  const r = matchlog(['surveil', day(SEEDS[0]), '--json', '--config', strict]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok((JSON.parse(r.stdout) as { kind: string }[]).every((a) => a.kind !== 'order-to-trade'));
  assert.match(r.stderr, /order-to-trade: 0\/2 found/);
  const typo = join(root, 'typo.json');
  writeFileSync(typo, JSON.stringify({ spoofing: { largeQtyMultiplier: 4 } }));
  const t = matchlog(['surveil', day(SEEDS[0]), '--config', typo]);
  assert.equal(t.status, 1);
  assert.match(t.stderr, new RegExp(`${typo.replace(/[.]/g, '\\.')}: unknown setting spoofing\\.largeQtyMultiplier`));
  const section = join(root, 'section.json');
  writeFileSync(section, JSON.stringify({ layering: {} }));
  assert.match(matchlog(['surveil', day(SEEDS[0]), '--config', section]).stderr, /section\.json: unknown setting layering/);
  const broken = join(root, 'broken.json');
  writeFileSync(broken, '{"spoofing": ');
  const b = matchlog(['surveil', day(SEEDS[0]), '--config', broken]);
  assert.equal(b.status, 1);
  assert.match(b.stderr, /broken\.json: /);
  const none = matchlog(['surveil', join(root, 'nowhere')]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no such folder/);
});
