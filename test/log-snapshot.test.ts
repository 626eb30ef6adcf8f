// Snapshot files across schema versions: version 1 (cumNotional a long) still
// reads through avsc's resolver, and version 2 keeps notionals of any size exactly.

import avro from 'avsc';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createEngine, formatEvent, restoreEngine, type Command, type Engine, type EngineSnapshot } from '../engine/index.js';
import { SYNC_SIZE, encodeHeader, longSize, writeLong } from '../log/container.js';
import { SNAPSHOT_SCHEMA_VERSION, snapshotSchemaJson } from '../log/schema.js';
import { readSnapshot, writeSnapshotSync } from '../log/snapshot.js';
import { applied } from './engine-helpers.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-snapshot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function run(cmds: Command[], engine: Engine = createEngine(), from = 1): Engine {
  cmds.forEach((c, i) => {
    for (const e of applied(engine, c, from + i)) assert.ok(e.type !== 'rejected' && e.type !== 'cancelRejected', JSON.stringify(formatEvent(e, engine)));
  });
  return engine;
}

const order = (account: string, clOrdId: string, side: 'buy' | 'sell', price: string, qty: string): Command =>
  ({ op: 'new', account, clOrdId, symbol: 'BIG', side, type: 'limit', price, qty, tif: 'GTC' });

test('a version 1 snapshot file (cumNotional a long) still reads, through the resolver', (t) => {
  const engine = run([
    { op: 'instrument', symbol: 'BIG', tickSize: '0.01', lotSize: '1', priceBand: '0.5', referencePrice: '100' },
    order('m', 'a', 'sell', '100.25', '10'),
    order('t', 'b', 'buy', '100.25', '3'),
    order('m', 'c', 'buy', '99', '4'),
  ]);
  const snap = engine.snapshot();
  const v1Text = readFileSync(new URL('../../log/schema/snapshot.v1.avsc', import.meta.url), 'utf8');
  const v1Json = JSON.stringify(JSON.parse(v1Text));
  assert.notEqual(v1Json, snapshotSchemaJson, 'the current schema is another version');
  assert.equal(SNAPSHOT_SCHEMA_VERSION, 2);
  const v1 = avro.Type.forSchema(JSON.parse(v1Text) as avro.Schema);
  const optional = ['minQty', 'maxQty', 'priceBand', 'referencePrice', 'status'] as const;
  const data = v1.toBuffer({
    seq: 4, ts: 40, epoch: 1, hash: engine.stateHash(), stateVersion: 1,
    instruments: snap.instruments.map((i) => ({ ...i, ...Object.fromEntries(optional.map((k) => [k, i[k] ?? null])) })),
    orders: snap.orders,
  });
  const sync = Buffer.alloc(SYNC_SIZE, 0x5a);
  const prefix = Buffer.alloc(longSize(1) + longSize(data.length));
  writeLong(prefix, writeLong(prefix, 0, 1), data.length);
  const path = join(tempDir(t), 'snapshot-00000000000000000004.avro');
  writeFileSync(path, Buffer.concat([encodeHeader(v1Json, { 'matchlog.kind': 'snapshot', 'matchlog.version': '1' }, sync), prefix, data, sync]));

  const back = readSnapshot(path);
  assert.equal(back.seq, 4);
  assert.equal(back.state.version, 2);
  assert.deepStrictEqual(back.state.orders, snap.orders);
  assert.equal(back.state.orders.find((o) => o.clOrdId === 'a')?.cumNotional, 30075); // 10025 ticks x 3 lots
  assert.equal(restoreEngine(back.state).stateHash(), back.hash);
});

test('a notional beyond 2^64 survives a version 2 snapshot exactly, and trading goes on from it', (t) => {
  const setup: Command[] = [
    { op: 'instrument', symbol: 'BIG', tickSize: '1', lotSize: '1' },
    order('m', 'a', 'sell', '900000000000000', '900000000000000'),
    order('t', 'b', 'buy', '900000000000000', '100000'),
    order('t', 'c', 'buy', '900000000000000', '12345'),
    order('m', 'small', 'sell', '900000000000001', '5'),
  ];
  const engine = run(setup);
  const snap = engine.snapshot();
  const big = snap.orders.find((o) => o.clOrdId === 'a');
  assert.equal(big?.cumNotional, '101110500000000000000', '9e14 x 112,345 is past 2^64 and kept as digits');
  assert.ok(BigInt(big.cumNotional) > 2n ** 64n);
  assert.equal(snap.orders.find((o) => o.clOrdId === 'small')?.cumNotional, 0);
  JSON.stringify(snap); // plain data: no bigint in a snapshot

  const dir = tempDir(t);
  const path = writeSnapshotSync(dir, { seq: setup.length, ts: 1, epoch: 1, hash: engine.stateHash(), state: snap });
  const back = readSnapshot(path);
  assert.deepStrictEqual(back.state, snap as EngineSnapshot);
  const restored = restoreEngine(back.state);
  assert.equal(restored.stateHash(), engine.stateHash());

  const more = order('t', 'd', 'buy', '900000000000000', '1');
  const a = applied(engine, more, 99).map((e) => formatEvent(e, engine));
  const b = applied(restored, more, 99).map((e) => formatEvent(e, restored));
  assert.deepStrictEqual(b, a);
  const trade = a.find((e) => e.type === 'trade');
  assert.equal(trade?.makerCumNotional, '101111400000000000000');
  assert.equal(restored.stateHash(), engine.stateHash());
});

test('the state hash sees the notional alone, on both sides of 2^53, and equal states hash equal', () => {
  // a buy takes 25 at `first`, 25 at `last`, and rests 50: two such states differ only in its cumNotional
  const state = (first: string, last: string) => run([
    { op: 'instrument', symbol: 'BIG', tickSize: '1', lotSize: '1' },
    order('m', 'a', 'sell', first, '25'),
    order('m', 'b', 'sell', last, '25'),
    order('t', 'c', 'buy', last, '100'),
  ]);
  const hash = (first: string, last: string) => state(first, last).stateHash();
  assert.equal(typeof state('10', '15').book('BIG')?.orders(0)[0].cumNotional, 'number');
  assert.equal(hash('10', '15'), hash('10', '15'));
  assert.notEqual(hash('10', '15'), hash('11', '15'));
  const big = state('900000000000001', '900000000000005');
  assert.equal(typeof big.book('BIG')?.orders(0)[0].cumNotional, 'bigint');
  assert.equal(hash('900000000000001', '900000000000005'), big.stateHash());
  assert.notEqual(hash('900000000000002', '900000000000005'), big.stateHash());
  // a snapshot restore (digits back to bigint) hashes like the original
  assert.equal(restoreEngine(JSON.parse(JSON.stringify(big.snapshot())) as EngineSnapshot).stateHash(), big.stateHash());
});
