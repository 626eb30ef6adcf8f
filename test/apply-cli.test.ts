// `matchlog apply` end to end, as a user runs it: a real process, stdin in, stdout out.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { INSTRUMENT, SYMBOL, mixedWorkload } from '../bench/workload.js';
import type { Command } from '../engine/index.js';
import { whereIn } from '../log/json-file.js';
import { ladderInfo, nativeAvailable } from '../native/index.js';
import { deepBook, deepBookCommands } from './command-gen.js';

const bin = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));

function apply(input: string, args: string[] = []): { events: Record<string, unknown>[]; status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'apply', ...args], { input, encoding: 'utf8' });
  const events = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { events, status: r.status, stderr: r.stderr };
}

const ISSUE_EXAMPLE = [
  '{"op":"instrument","symbol":"ETH_XBT","tickSize":"1","lotSize":"1","minQty":"1","maxQty":"1000000","priceBand":"0.1","referencePrice":"1600"}',
  '{"op":"new","account":"alice","clOrdId":"101","symbol":"ETH_XBT","side":"sell","type":"limit","price":"1600","qty":"7","tif":"GTC","postOnly":false,"stp":"cancel_resting"}',
  '{"op":"new","account":"bob","clOrdId":"9","symbol":"ETH_XBT","side":"buy","type":"market","qty":"3","tif":"IOC"}',
  '',
  '{"op":"replace","account":"alice","clOrdId":"101b","origClOrdId":"101","symbol":"ETH_XBT","price":"1580","qty":"7"}',
  '{"op":"cancel","account":"alice","clOrdId":"c1","origClOrdId":"101b","symbol":"ETH_XBT"}',
  '{"op":"halt","symbol":"ETH_XBT"}',
  '{"op":"resume","symbol":"ETH_XBT"}',
  '{"op":"book","symbol":"ETH_XBT","depth":10}',
  '{"op":"massCancel","account":"alice","symbol":"ETH_XBT"}',
].join('\n');

test('apply honours the documented format: seq per non-blank line, decimal strings, event names', () => {
  const { events, status } = apply(ISSUE_EXAMPLE + '\n', ['--hash']);
  assert.equal(status, 0);
  const summary = events.map((e) => `${e.seq}:${e.type}${e.reason ? ':' + e.reason : ''}`);
  assert.deepEqual(summary, [
    '1:instrument', '2:accepted', '2:bookDelta', '3:accepted', '3:trade', '3:bookDelta',
    '4:replaced', '4:bookDelta', '4:bookDelta', '5:cancelled:user', '5:bookDelta', '6:status', '7:status', '8:book', '9:massCancelled', '9:stateHash',
  ]);
  const trade = events[4];
  assert.equal(trade.price, '1600');
  assert.equal(trade.qty, '3');
  assert.equal(trade.makerClOrdId, '101');
  assert.equal(trade.takerAccount, 'bob');
  assert.equal(events[1].ordType, 'limit');
  assert.equal(events[3].ordType, 'market');
  assert.equal(events[9].leavesQty, '0');
  assert.equal(events[9].cancelledQty, '4');
  assert.equal(events[9].qty, '7');
  assert.match(String(events.at(-1)!.hash), /^[0-9a-f]{16}$/);
});

test('a malformed line is rejected naming the line, and the run goes on', () => {
  const { events, status } = apply('{"op":"instrument","symbol":"X","tickSize":"0.5","lotSize":"1"}\nnot json\n\n{"op":"new","account":"a","clOrdId":"1","symbol":"X","side":"buy","type":"limit","price":"1.25","qty":"1","tif":"GTC"}\n[1,2]\n{"op":"new","account":"a","clOrdId":"2","symbol":"X","side":"buy","type":"limit","price":"1.5","qty":"1","tif":"GTC"}\n');
  assert.equal(status, 0);
  assert.equal(events[1].type, 'rejected');
  assert.equal(events[1].reason, 'invalid_order');
  assert.match(String(events[1].text), /^line 2: not JSON/);
  assert.equal(events[2].reason, 'off_tick');
  assert.match(String(events[2].text), /^line 4: /);
  assert.match(String(events[3].text), /^line 5: /);
  assert.equal(events[4].type, 'accepted');
  assert.equal(events[4].seq, 5);
});

test('--instruments loads a file; a bad file is named in a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-apply-'));
  try {
    const good = join(dir, 'instruments.json');
    writeFileSync(good, JSON.stringify([{ symbol: 'X', tickSize: '1', lotSize: '1' }]));
    const ok = apply('{"op":"new","account":"a","clOrdId":"1","symbol":"X","side":"buy","type":"limit","price":"10","qty":"1","tif":"GTC"}\n', ['--instruments', good]);
    assert.equal(ok.events[0].type, 'accepted');
    assert.equal(ok.events[0].seq, 1);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[{"symbol":"X","tickSize":"0","lotSize":"1"}]');
    const r = apply('', ['--instruments', bad]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad\.json.*tickSize/);
    const missing = apply('', ['--instruments', join(dir, 'nope.json')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.json/);
    // a syntax error names the line and column, as an editor takes them
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '[\n  {"symbol": "X",\n   "tickSize": "1",,\n  }\n]\n');
    const s = apply('', ['--instruments', broken]);
    assert.equal(s.status, 2);
    assert.match(s.stderr, /broken\.json:3:20: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The environment of a child that must run the given ladder (MATCHLOG_NATIVE=1 fails rather than fall back). */
function ladderEnv(native: '0' | '1', extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MATCHLOG_NATIVE: native, ...extra };
  if (!('MATCHLOG_NATIVE_ADDON' in extra)) delete env.MATCHLOG_NATIVE_ADDON;
  return env;
}

/** The README's example, then 3,000 commands of the benchmark's mixed flow, two deep sweeps with self-trade prevention and a mass cancel. */
function matchingSession(): string {
  const cmds: Command[] = [INSTRUMENT, ...mixedWorkload(3000, 11).commands];
  for (const [i, side, stp] of [[0, 'sell', 'cancel_resting'], [1, 'buy', 'cancel_both']] as const) {
    const orders = deepBook({
      symbol: SYMBOL, side, count: 320, levels: 23, tag: `deep${i}.`, qty: (j) => String(1 + (j % 3)),
      price: (level) => String(side === 'sell' ? 10_300 + level : 9_700 - level),
      // the sweeper's own orders are few, so that runs of fills outlast the 256-fill buffer
      account: (j) => (j % 150 === 149 ? 'sweeper' : `a${1 + (j % 3)}`),
    });
    cmds.push(...deepBookCommands(SYMBOL, side, orders),
      { op: 'new', account: 'sweeper', clOrdId: `sweep${i}`, symbol: SYMBOL, side: side === 'sell' ? 'buy' : 'sell', type: 'market', qty: '100000', tif: 'IOC', stp });
  }
  cmds.push({ op: 'massCancel', account: 'a1', symbol: SYMBOL });
  return [...readmeExample(), ...cmds.map((c) => JSON.stringify(c))].join('\n') + '\n';
}

const skipNative = !nativeAvailable() && process.env.MATCHLOG_NATIVE === '0' ? `MATCHLOG_NATIVE=0 (${ladderInfo().reason})` : false;

test('the same input gives byte-identical output on the native and the TypeScript ladder', { skip: skipNative }, () => {
  assert.ok(nativeAvailable(), `the native ladder does not load: ${ladderInfo().reason}`);
  // which ladder each environment runs, as matchlog itself reports it
  const info = (native: '0' | '1') => spawnSync(process.execPath, [bin, 'info'], { encoding: 'utf8', env: ladderEnv(native) }).stdout;
  assert.match(info('0'), /^price ladder: ts$/m);
  assert.match(info('1'), /^price ladder: native$/m);
  // and MATCHLOG_NATIVE=1 cannot quietly run the TypeScript ladder instead: without the addon apply refuses
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-apply-'));
  try {
    const refused = spawnSync(process.execPath, [bin, 'apply'], { input: readmeExample().join('\n'), encoding: 'utf8', env: ladderEnv('1', { MATCHLOG_NATIVE_ADDON: join(dir, 'missing.node') }) });
    assert.equal(refused.status, 1);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /MATCHLOG_NATIVE=1 but the native ladder is unavailable/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const input = matchingSession();
  const ts = spawnSync(process.execPath, [bin, 'apply', '--hash'], { input, encoding: 'utf8', env: ladderEnv('0'), maxBuffer: 1 << 28 });
  const native = spawnSync(process.execPath, [bin, 'apply', '--hash'], { input, encoding: 'utf8', env: ladderEnv('1'), maxBuffer: 1 << 28 });
  assert.equal(ts.status, 0, ts.stderr);
  assert.equal(native.status, 0, native.stderr);
  if (ts.stdout !== native.stdout) assert.equal(native.stdout, ts.stdout, 'native and TS ladders disagree');

  // real matching happened: trades, sweeps past the 256-fill buffer, every kind of cancel, replaces
  const events = ts.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const count = (pred: (e: Record<string, unknown>) => boolean) => events.filter(pred).length;
  const tradesPerSeq = new Map<unknown, number>();
  for (const e of events) if (e.type === 'trade') tradesPerSeq.set(e.seq, (tradesPerSeq.get(e.seq) ?? 0) + 1);
  assert.ok(count((e) => e.type === 'trade') > 1000, 'trades');
  assert.ok(Math.max(...tradesPerSeq.values()) > 256, 'a command with more fills than the ladder buffer holds');
  for (const reason of ['user', 'stp', 'mass', 'no_liquidity', 'ioc']) assert.ok(count((e) => e.type === 'cancelled' && e.reason === reason) > 0, `cancelled:${reason}`);
  assert.ok(count((e) => e.type === 'replaced') > 50, 'replaces');
  assert.match(String(events.at(-1)!.hash), /^[0-9a-f]{16}$/);
});

/** The non-blank lines of the example in README's "`matchlog apply`: JSON lines" section. */
function readmeExample(): string[] {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const at = readme.indexOf('### `matchlog apply`: JSON lines');
  assert.ok(at >= 0, 'README has the apply section');
  const block = /```\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, 'the section has an example block');
  return block[1].split('\n').filter((l) => l.trim() !== '');
}

test("README's apply example is one session in which every line does what it shows", () => {
  const lines = readmeExample();
  const cmds = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const { events, status } = apply(lines.join('\n') + '\n');
  assert.equal(status, 0);
  assert.deepEqual(events.filter((e) => e.type === 'rejected' || e.type === 'cancelRejected'), []);
  // what each line is there to show, and the events that show it
  const shows = (c: Record<string, unknown>): [string, string[]] => {
    switch (c.op) {
      case 'new': return c.type === 'market' ? ['a marketable order', ['accepted', 'trade']] : ['a resting order', ['accepted', 'bookDelta']];
      case 'cancel': return typeof c.orderId === 'number' ? ['a cancel by orderId', ['cancelled']] : ['a cancel by origClOrdId', ['cancelled']];
      case 'replace': return ['a replace', ['replaced']];
      case 'massCancel': return ['a mass cancel', ['cancelled', 'massCancelled']];
      case 'halt': case 'resume': return [String(c.op), ['status']];
      default: return [String(c.op), [String(c.op)]];
    }
  };
  const shown = new Set<string>();
  cmds.forEach((c, i) => {
    const [what, types] = shows(c);
    const got = events.filter((e) => e.seq === i + 1);
    for (const t of types) assert.ok(got.some((e) => e.type === t), `line ${i + 1} (${what}): no ${t} in ${JSON.stringify(got.map((e) => e.type))}`);
    if (c.op === 'cancel' && typeof c.orderId === 'number') assert.equal(got[0].orderId, c.orderId);
    if (c.op === 'halt' || c.op === 'resume') assert.equal(got[0].status, c.op === 'halt' ? 'halted' : 'open');
    shown.add(what);
  });
  assert.equal(cmds[0].op, 'instrument', 'the instrument comes first');
  assert.deepEqual([...shown].sort(), ['a cancel by orderId', 'a cancel by origClOrdId', 'a marketable order', 'a mass cancel', 'a replace', 'a resting order', 'book', 'halt', 'instrument', 'resume']);
});

test('matchlog info: --help prints the usage and exits 0; an unknown option exits 2 with the usage', () => {
  const help = spawnSync(process.execPath, [bin, 'info', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: matchlog info/);
  assert.doesNotMatch(help.stdout, /price ladder:/, '--help does not run the command');
  for (const bad of [['--bogus'], ['extra']]) {
    const r = spawnSync(process.execPath, [bin, 'info', ...bad], { encoding: 'utf8' });
    assert.equal(r.status, 2, bad.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^matchlog info: .*\nusage: matchlog info/);
  }
  const plain = spawnSync(process.execPath, [bin, 'info'], { encoding: 'utf8' });
  assert.equal(plain.status, 0);
  assert.match(plain.stdout, /^price ladder: (native|ts)\nwhy: /);
  assert.match(plain.stdout, /^default: the native ladder is the default .*mixed workload/m, 'info says why the default ladder is the default');
});

test('money is exact end to end: AvgPx inputs of a 100.00000001 @ 65000.01 trade', () => {
  const { events, status } = apply([
    '{"op":"instrument","symbol":"BTC-USD","tickSize":"0.01","lotSize":"0.00000001"}',
    '{"op":"new","account":"m","clOrdId":"a","symbol":"BTC-USD","side":"sell","type":"limit","price":"65000.01","qty":"100.00000001"}',
    '{"op":"new","account":"t","clOrdId":"b","symbol":"BTC-USD","side":"buy","type":"market","qty":"100.00000001"}',
  ].join('\n') + '\n', ['--hash']);
  assert.equal(status, 0);
  const trade = events.find((e) => e.type === 'trade')!;
  assert.equal(trade.takerCumNotional, '6500001.0006500001');
  assert.equal(trade.makerCumNotional, '6500001.0006500001');
  assert.equal(trade.takerCumQty, '100.00000001');
});

test('whereIn turns a JSON.parse position into line:column, first line and past the end included', () => {
  assert.equal(whereIn('{"a":}', 'Unexpected token } in JSON at position 5'), ':1:6');
  assert.equal(whereIn('{\n"a":\n}', 'Unexpected token } in JSON at position 7'), ':3:1');
  assert.equal(whereIn('{\n\n"a"', 'Unexpected end of JSON input at position 99'), ':3:4');
  // the offending character is the newline itself: it belongs to the line it ends
  assert.equal(whereIn('"abc\n"', 'Bad control character in string literal in JSON at position 4'), ':1:5');
  assert.equal(whereIn('x', 'Unexpected end of JSON input'), '');
});
