// The whole engine on the native ladder and on the TypeScript ladder, fed the
// benchmark's realistic mixed workload and a deep-sweep workload: every event,
// byte for byte, and the state hash every 1,000 commands must agree.
// Without the addon this test FAILS (CI always has Rust) unless MATCHLOG_NATIVE=0.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mixedWorkload, INSTRUMENT, SYMBOL } from '../bench/workload.js';
import { createEngine, formatEvent, type Command, type Engine } from '../engine/index.js';
import { createLadder, ladderInfo, nativeAvailable } from '../native/index.js';
import { applied } from './engine-helpers.js';

const skip = !nativeAvailable() && process.env.MATCHLOG_NATIVE === '0' ? `MATCHLOG_NATIVE=0 (${ladderInfo().reason})` : false;

function compare(commands: Command[]): number {
  assert.ok(nativeAvailable(), `the native ladder does not load: ${ladderInfo().reason}`);
  const engines: [Engine, Engine] = [createEngine(() => createLadder('native')), createEngine(() => createLadder('ts'))];
  for (const e of engines) e.apply(INSTRUMENT, 0);
  let events = 0;
  for (let i = 0; i < commands.length; i++) {
    const seq = i + 1;
    const [a, b] = engines.map((e) => JSON.stringify(applied(e, commands[i], seq).map((x) => formatEvent(x, e))));
    if (a !== b) assert.equal(a, b, `seq ${seq}: ${JSON.stringify(commands[i])}`);
    events += a.length;
    if (seq % 1000 === 0) assert.equal(engines[0].stateHash(), engines[1].stateHash(), `state hash at seq ${seq}`);
  }
  assert.equal(engines[0].stateHash(), engines[1].stateHash());
  return events;
}

test('native and TS ladders: identical events and hashes on 150,000 commands of the mixed workload', { skip }, () => {
  assert.ok(compare(mixedWorkload(150_000, 7).commands) > 0);
});

test('native and TS ladders: identical events on sweeps across 150 levels with self-trade stops', { skip }, () => {
  const cmds: Command[] = [];
  let id = 0;
  for (let round = 0; round < 30; round++) {
    for (let lvl = 0; lvl < 150; lvl++) {
      for (let k = 0; k < 3; k++) {
        cmds.push({ op: 'new', account: `m${(lvl + k + round) % 5}`, clOrdId: `s${id++}`, symbol: SYMBOL, side: 'sell', type: 'limit', price: String(10_000 + lvl), qty: String(1 + ((lvl * 7 + k) % 9)), tif: 'GTC' });
      }
    }
    const stp = (['cancel_resting', 'cancel_incoming', 'cancel_both'] as const)[round % 3];
    cmds.push({ op: 'new', account: 'm0', clOrdId: `t${id++}`, symbol: SYMBOL, side: 'buy', type: 'market', qty: '5000', tif: 'IOC', stp });
    cmds.push({ op: 'massCancel', account: `m${round % 5}` });
  }
  assert.ok(compare(cmds) > 0);
});
