// `matchlog apply` end to end, as a user runs it: a real process, stdin in, stdout out.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same input gives byte-identical output on the native and the TypeScript ladder', () => {
  const a = spawnSync(process.execPath, [bin, 'apply', '--hash'], { input: ISSUE_EXAMPLE, encoding: 'utf8', env: { ...process.env, MATCHLOG_NATIVE: '0' } });
  const b = spawnSync(process.execPath, [bin, 'apply', '--hash'], { input: ISSUE_EXAMPLE, encoding: 'utf8' });
  assert.equal(a.status, 0);
  assert.equal(a.stdout, b.stdout);
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
