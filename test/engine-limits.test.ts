// Decimal and id limits, and the one rule the engine and the log share: the
// plain engine (`matchlog apply`) and the logged exchange (`matchlog apply
// --log`) accept and refuse exactly the same commands.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { createEngine, formatEvent, restoreEngine, type Command, type Engine, type EngineEvent } from '../engine/index.js';
import { COMMAND_OPS, InvalidCommandError, prepareCommand } from '../log/index.js';
import { applied } from './engine-helpers.js';

const RUNS = Number(process.env.MATCHLOG_PROPERTY_RUNS ?? 3000);

const SETUP: Command[] = [
  { op: 'instrument', symbol: 'X', tickSize: '0.01', lotSize: '1', priceBand: '0.5', referencePrice: '10' },
  { op: 'instrument', symbol: 'Y', tickSize: '1', lotSize: '0.5' },
  { op: 'new', account: 'a', clOrdId: '1', symbol: 'X', side: 'buy', type: 'limit', price: '10', qty: '5' },
  { op: 'new', account: 'b', clOrdId: '2', symbol: 'X', side: 'sell', type: 'limit', price: '10.5', qty: '5' },
  { op: 'new', account: 'a', clOrdId: '3', symbol: 'Y', side: 'sell', type: 'limit', price: '7', qty: '2.5' },
];

function fresh(): Engine {
  const e = createEngine();
  SETUP.forEach((c, i) => e.apply(c, i + 1));
  return e;
}

/** Strings that break a limit somewhere: lone surrogates, control characters, space, non-ASCII, too long. */
const NASTY = ['\ud800', 'a\udc00b', '\udfff\ud800', 'x'.repeat(2000), 'x'.repeat(65), 'x'.repeat(64), '', ' ', 'a b', '\u0000', 'a\nb', '\t',
  '\u007f', 'caf\u00e9', '\u{1F600}', '1'.repeat(41), '1.0000000000000001', '999999999999999', 'toString', '__proto__'];

/** Plausible values per field, so that a command is often valid but for one field. */
const VALID: Record<string, unknown[]> = {
  account: ['a', 'b'], clOrdId: ['1', '2', '9'], origClOrdId: ['1', '2', '3'], orderId: [3, 4, 5, 99], symbol: ['X', 'Y', 'Z'],
  side: ['buy', 'sell'], type: ['limit', 'market'], price: ['10', '10.01', '10.5', '7', '0'], qty: ['1', '2', '2.5'],
  tif: ['GTC', 'IOC', 'FOK'], postOnly: [false, true], stp: ['cancel_resting', 'cancel_both'], depth: [1, 5],
  tickSize: ['0.01', '1'], lotSize: ['1'], minQty: ['1'], maxQty: ['100'], priceBand: ['0.1'], referencePrice: ['10'], status: ['open', 'halted'],
};

const FIELDS = Object.keys(VALID);
const broken = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 70 }) },
  { weight: 2, arbitrary: fc.constantFrom(null, undefined, -0, 0, 1.5, -3, 2 ** 52, 2 ** 53, true, 'buy', {}, []) },
  { weight: 1, arbitrary: fc.anything() },
);

/** A command of some op with every field plausible, then a few fields dropped, a few null (the log drops those) and a few broken. */
const rawCommand = fc.record({
  op: fc.constantFrom(...COMMAND_OPS, 'nope', 'new', 'new', 'cancel', 'replace'),
  base: fc.record(Object.fromEntries(FIELDS.map((k) => [k, fc.constantFrom(...VALID[k])]))),
  drop: fc.subarray(FIELDS, { maxLength: 4 }),
  nulls: fc.subarray(FIELDS, { maxLength: 4 }),
  bad: fc.array(fc.tuple(fc.constantFrom(...FIELDS), broken), { maxLength: 2 }),
}).map(({ op, base, drop, nulls, bad }) => {
  const o: Record<string, unknown> = { op, ...base };
  for (const k of drop) delete o[k];
  for (const k of nulls) o[k] = null;
  for (const [k, v] of bad) o[k] = v;
  return o;
});

const label = (e: EngineEvent) => `${e.type}:${'reason' in e ? e.reason : ''}`;

describe('the plain engine and the log accept and refuse the same commands', () => {
  test('whatever the codec refuses, the engine rejects as invalid_order with no state change; the rest apply alike', () => {
    fc.assert(fc.property(fc.array(fc.oneof({ weight: 20, arbitrary: rawCommand }, { weight: 1, arbitrary: fc.anything() }), { minLength: 1, maxLength: 6 }), (raws) => {
      const plain = fresh();
      const logged = fresh();
      raws.forEach((raw, i) => {
        const seq = SETUP.length + 1 + i;
        let norm: Command | undefined;
        try {
          norm = prepareCommand(raw);
        } catch (e) {
          assert.ok(e instanceof InvalidCommandError, String(e));
        }
        const before = plain.stateHash();
        const got = applied(plain, raw as Command, seq);
        if (norm === undefined) {
          assert.deepEqual(got.map(label), [got[0]?.type === 'cancelRejected' ? 'cancelRejected:invalid_order' : 'rejected:invalid_order'], `refused by the codec: ${String(JSON.stringify(raw))}`);
          assert.equal(plain.stateHash(), before, 'a refused command changes nothing');
        } else {
          // what the log applies (nulls and unknown fields dropped) acts exactly as the raw command
          assert.deepStrictEqual(got, applied(logged, norm, seq), String(JSON.stringify(raw)));
        }
        assert.equal(plain.stateHash(), logged.stateHash());
      });
    }), { numRuns: RUNS });
  });

  const bin = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));

  test('matchlog apply and matchlog apply --log both refuse a lone surrogate and a 2,000-character clOrdId', () => {
    const order = (clOrdId: string) => JSON.stringify({ op: 'new', account: 'a', clOrdId, symbol: 'X', side: 'buy', type: 'limit', price: '10', qty: '1' });
    const input = [
      JSON.stringify({ op: 'instrument', symbol: 'X', tickSize: '0.01', lotSize: '1' }),
      order('ok-1'),
      order('\ud800'), // JSON.stringify writes the lone surrogate as the escape \ud800
      order('c'.repeat(2000)),
      '{"op":"new","account":"a","clOrdId":"\\udc00x","symbol":"X","side":"buy","type":"limit","price":"10","qty":"1"}',
      order('ok-2'),
    ].join('\n') + '\n';
    const dir = mkdtempSync(join(tmpdir(), 'matchlog-limits-'));
    try {
      const outcome = (args: string[]) => {
        const r = spawnSync(process.execPath, [bin, 'apply', ...args], { input, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const events = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
        return events.filter((e) => e.type === 'accepted' || e.type === 'rejected')
          .map((e) => `${String(e.type)}:${String(e.reason ?? e.clOrdId)}`);
      };
      const want = ['accepted:ok-1', 'rejected:invalid_order', 'rejected:invalid_order', 'rejected:invalid_order', 'accepted:ok-2'];
      assert.deepEqual(outcome([]), want);
      assert.deepEqual(outcome(['--log', join(dir, 'log')]), want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('limits answer with a text that names them', () => {
  const engine = fresh();
  let seq = 100;
  const reject = (cmd: Record<string, unknown>): string => {
    const [e, ...rest] = applied(engine, cmd as unknown as Command, ++seq).map((x) => formatEvent(x, engine));
    assert.equal(rest.length, 0);
    assert.ok(e.type === 'rejected' || e.type === 'cancelRejected', JSON.stringify(e));
    return `${String(e.reason)}: ${String(e.text)}`;
  };
  const order = (extra: Record<string, unknown>) => ({ op: 'new', account: 'a', clOrdId: 'n', symbol: 'X', side: 'buy', type: 'limit', price: '10', qty: '1', ...extra });

  test('decimals', () => {
    assert.equal(reject(order({ price: '1.0000000000000001' })), 'invalid_order: price 1.0000000000000001 has more than 15 significant digits');
    assert.equal(reject(order({ qty: '1'.repeat(41) })), 'invalid_order: qty is longer than 40 characters');
    assert.equal(reject(order({ qty: '90071992547409930' })), 'invalid_order: qty 90071992547409930 has more than 15 significant digits');
    assert.equal(reject(order({ price: '999999999999999' })), 'invalid_order: price 999999999999999 exceeds 9007199254740991 (2^53-1) ticks of 0.01');
    assert.equal(reject(order({ price: '1e3' })), 'invalid_order: price must be a decimal string (digits with at most one point, such as "12.5"), got "1e3"');
    assert.equal(reject(order({ price: '0.00' })), 'invalid_order: price must be positive, got 0.00');
    assert.equal(reject(order({ price: '10.001' })), 'off_tick: price 10.001 is not a multiple of tick size 0.01');
    assert.equal(reject({ op: 'replace', account: 'a', clOrdId: 'r', origClOrdId: '1', qty: '1.0000000000000001' }),
      'invalid_order: qty 1.0000000000000001 has more than 15 significant digits');
    assert.match(reject({ op: 'instrument', symbol: 'W', tickSize: '0.00000000000000001', lotSize: '1', priceBand: '0.' + '0'.repeat(22) + '1' }),
      /^invalid_order: priceBand 0\.0+1 has more than 22 decimal places$/);
  });

  test('ids, integers and the order of checks: shape first', () => {
    assert.equal(reject(order({ clOrdId: 'c'.repeat(65) })), 'invalid_order: clOrdId is longer than 64 characters; an id is 1 to 64 printable ASCII characters (0x21-0x7E, no space)');
    assert.match(reject(order({ account: 'a\ud800' })), /^invalid_order: account has character U\+D800 at position 2; an id is 1 to 64/);
    assert.match(reject(order({ symbol: 'X Y' })), /^invalid_order: symbol has character U\+0020 at position 2/);
    assert.match(reject(order({ clOrdId: '' })), /^invalid_order: clOrdId is empty/);
    assert.match(reject({ op: 'cancel', account: 'a', clOrdId: 'c', origClOrdId: '1', orderId: 1.5 }), /^invalid_order: orderId must be a positive integer up to 2\^52, got 1\.5/);
    assert.match(reject({ op: 'massCancel', account: 'a', clOrdId: 'm'.repeat(65) }), /^invalid_order: clOrdId is longer than 64/);
    assert.match(reject({ op: 'book', symbol: 'X', depth: 2 ** 53 }), /^invalid_order: depth must be a positive integer up to 2\^52/);
    // a malformed field wins over an unknown symbol, a halted book or an unknown order
    assert.match(reject(order({ symbol: 'NOPE', qty: '1\ud800' })), /^invalid_order: qty must be a decimal string/);
    assert.match(reject({ op: 'replace', account: 'a', clOrdId: 'r', origClOrdId: 'nope', price: 'x', qty: '1' }), /^invalid_order: price must be a decimal string/);
    assert.match(reject({ op: 'halt', symbol: '\u0000' }), /^invalid_order: symbol has character U\+0000/);
    assert.match(reject({ op: 'halt', symbol: 'NOPE' }), /^unknown_symbol/);
    // a rejection echoes only ids within the rule
    const [e] = applied(engine, { op: 'new', account: 'a', clOrdId: 'x'.repeat(2000), symbol: 'X', side: 'buy', type: 'limit', price: '10', qty: '1' }, ++seq);
    assert.ok(e.type === 'rejected' && e.clOrdId === '' && e.account === 'a' && e.symbol === 'X');
  });

  test('a snapshot whose ids break the rule is refused (the engine trusts every id it stores)', () => {
    const snap = fresh().snapshot();
    snap.orders[0].clOrdId = 'has space';
    assert.throws(() => restoreEngine(snap), /account and clOrdId must be 1 to 64 printable ASCII/);
  });

  test('null is absent, as in the log: defaults apply', () => {
    const evs = applied(engine, { op: 'new', account: 'a', clOrdId: 'nul', symbol: 'X', side: 'buy', type: 'market', qty: '1', price: null, tif: null, stp: null, postOnly: null } as unknown as Command, ++seq);
    assert.ok(evs[0].type === 'accepted' && evs[0].tif === 'IOC' && evs[0].stp === 'cancel_resting', JSON.stringify(evs[0]));
  });
});
