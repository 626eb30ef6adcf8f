// The engine benchmark's peer workload must make matchlog and nodejs-order-book
// do the same work: every cancel/replace names a live order, self-trade
// prevention never fires, and both end in the same book.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderBook } from 'nodejs-order-book';
import { createEngine, type EngineEvent } from '../engine/index.js';
import { createLadder, nativeAvailable } from '../native/index.js';
import { peerShape, runPeer } from '../bench/peer.js';
import { BUYERS, diffShapes, engineShape, INSTRUMENT, mixedWorkload, SELLERS } from '../bench/workload.js';

const N = 30_000;

for (const kind of nativeAvailable() ? ['ts', 'native'] as const : ['ts'] as const) {
  test(`bench workload on the ${kind} ladder: live targets only, no STP, same end book as the peer`, () => {
    for (const seed of [1, 2]) {
      const w = mixedWorkload(N, seed);
      assert.equal(w.commands.length, N);
      const engine = createEngine(() => createLadder(kind));
      engine.apply(INSTRUMENT, 0);
      const out: EngineEvent[] = [];
      const kinds: Record<string, number> = {};
      for (let i = 0; i < w.commands.length; i++) {
        const c = w.commands[i];
        kinds[c.op] = (kinds[c.op] ?? 0) + 1;
        if (c.op === 'new') assert.ok((c.side === 'buy' ? BUYERS : SELLERS).includes(c.account), `step ${i}: ${c.side} by ${c.account}`);
        out.length = 0;
        engine.apply(c, i + 1, out);
        for (const e of out) {
          assert.notEqual(e.type, 'rejected', `step ${i} rejected`);
          assert.notEqual(e.type, 'cancelRejected', `step ${i}: cancel/replace of an order that is not live`);
          if (e.type === 'cancelled') assert.notEqual(e.reason, 'stp', `step ${i}: self-trade prevention fired`);
        }
        if (c.op === 'cancel') assert.ok(out.some((e) => e.type === 'cancelled' && e.reason === 'user'), `step ${i}: cancel did not cancel`);
        if (c.op === 'replace') {
          const r = out.find((e) => e.type === 'replaced');
          assert.ok(r !== undefined, `step ${i}: replace did not replace`);
        }
      }
      assert.ok((kinds.cancel ?? 0) > N / 5 && (kinds.replace ?? 0) > N / 40, JSON.stringify(kinds));
      const ob = new OrderBook();
      assert.equal(runPeer(ob, w.steps, 0, w.steps.length), 0, 'the peer missed steps');
      assert.deepEqual(diffShapes(engineShape(engine, w.peerId), peerShape(ob), 'matchlog', 'peer'), []);
    }
  });
}

test('a peer that skips one cancel ends in a different book, and the diff says so', () => {
  const w = mixedWorkload(5_000);
  const engine = createEngine(() => createLadder('ts'));
  engine.apply(INSTRUMENT, 0);
  w.commands.forEach((c, i) => engine.apply(c, i + 1));
  let skip = w.steps.length - 1;
  while (w.steps[skip].k !== 'cancel') skip--;
  const ob = new OrderBook();
  runPeer(ob, w.steps, 0, skip);
  runPeer(ob, w.steps, skip + 1, w.steps.length);
  const diff = diffShapes(engineShape(engine, w.peerId), peerShape(ob), 'matchlog', 'peer');
  assert.ok(diff.some((d) => d.startsWith('resting orders: matchlog')), diff.join('\n'));
});
