import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  MALFORMED, OFF_GRID, TOO_LARGE, TOO_LONG, TOO_MANY_PLACES, TOO_PRECISE, decimalProblem, formatNotional, fromUnits,
  parseFraction, parseUnit, toUnits, type Unit,
} from '../engine/decimal.js';
import { addFill } from '../engine/notional.js';

function unit(text: string): Unit {
  const u = parseUnit(text);
  assert.ok(typeof u === 'object', `${text} is a unit`);
  return u;
}
import { assertProperty } from './property.js';

test('decimal strings convert exactly to ticks and back', () => {
  const tick = unit('0.05');
  assert.equal(toUnits('100.05', tick), 2001);
  assert.equal(toUnits('100.0500', tick), 2001);
  assert.equal(toUnits('.1', tick), 2);
  assert.equal(toUnits('100.03', tick), OFF_GRID);
  for (const bad of ['', '.', '1.', '1e3', '-1', '+1', ' 1', '1,5', '1..2', 'NaN'] as const) {
    assert.equal(toUnits(bad, tick), MALFORMED, bad);
  }
  assert.equal(toUnits(5 as unknown as string, tick), MALFORMED);
  assert.equal(fromUnits(2001, tick), '100.05');
  assert.equal(fromUnits(2000, tick), '100');
  assert.equal(fromUnits(1, unit('0.001')), '0.001');
  assert.equal(parseUnit('0'), 0);
  assert.equal(formatNotional(3 * 2001, tick, unit('10')), '3001.5');
});

test('each limit has its own result and a text that names it', () => {
  const cent = unit('0.01');
  assert.equal(toUnits('12345678901234567', cent), TOO_PRECISE);
  assert.equal(toUnits('1.0000000000000001', cent), TOO_PRECISE);
  assert.equal(toUnits('1.000000000000001', unit('0.000000000000001')), TOO_PRECISE, '16 digits');
  assert.equal(toUnits('1.00000000000001', unit('0.00000000000001')), 100000000000001, '15 digits');
  assert.equal(toUnits('100.0000000000000', cent), TOO_PRECISE, 'trailing zeros after the point count too');
  assert.equal(toUnits('0.000000000000001', unit('0.000000000000001')), 1, 'leading zeros are not significant');
  assert.equal(toUnits('1'.repeat(41), cent), TOO_LONG);
  assert.equal(toUnits('0'.repeat(39) + '1', unit('1')), 1, '40 characters are fine');
  // 15 digits, but 99,999,999,999,999,900 cents is more than 2^53-1 ticks
  assert.equal(toUnits('999999999999999', cent), TOO_LARGE);
  assert.equal(toUnits('90071992547409', cent), 9007199254740900);
  assert.equal(toUnits('90071992547410', cent), TOO_LARGE);
  assert.equal(toUnits('100000000000000000000', unit('1')), TOO_PRECISE, 'trailing zeros count as written');
  assert.equal(parseFraction('0.' + '0'.repeat(22) + '1'), TOO_MANY_PLACES);
  assert.deepEqual(parseFraction('0.' + '0'.repeat(21) + '1'), { num: 1, den: 1e22 });
  assert.equal(decimalProblem(TOO_PRECISE, 'price', '1.0000000000000001'), 'price 1.0000000000000001 has more than 15 significant digits');
  assert.equal(decimalProblem(TOO_LONG, 'qty', '1'.repeat(41)), 'qty is longer than 40 characters');
  assert.match(decimalProblem(TOO_LARGE, 'qty', '999999999999999', unit('0.00000001'), 'lot'), /^qty 999999999999999 exceeds 9007199254740991 \(2\^53-1\) lots of 0\.00000001$/);
  assert.match(decimalProblem(OFF_GRID, 'price', '1.001', cent, 'tick'), /not a multiple of tick size 0\.01/);
  assert.match(decimalProblem(MALFORMED, 'price', '1e3'), /decimal string .* got "1e3"/);
  assert.match(decimalProblem(TOO_MANY_PLACES, 'priceBand', '0.1'), /more than 22 decimal places/);
});

test('conversion beyond 2^53 steps is exact: a large value on a coarse unit', () => {
  // 99,999,999,999,999,900 hundredths is beyond 2^53, but only 3,999,999,999,999,996 ticks of 0.25
  assert.equal(toUnits('999999999999999', unit('0.25')), 3999999999999996);
  // off the grid is off the grid, even where the count would also be too large
  assert.equal(toUnits('999999999999999', unit('0.07')), OFF_GRID);
  assert.equal(toUnits('999999999999999', unit('0.03')), TOO_LARGE);
  // a tick with 30 decimal places and a price of 1: 10^30 steps, exact off-grid test first
  const fine = unit('0.000000000000000000000000000003');
  assert.equal(toUnits('1', fine), OFF_GRID);
  assert.equal(toUnits('0.000000000000000000000003', fine), 1_000_000);
});

test('formatting is exact for large mantissas and notionals', () => {
  const tick = unit('0.000123456789');
  const lot = unit('0.000987654321');
  // mantissa product 121932631112635269 is beyond 2^53: a float would round it
  assert.equal(formatNotional(1, tick, lot), '0.000000121932631112635269');
  assert.equal(formatNotional(10n ** 30n, unit('1'), unit('1')), '1' + '0'.repeat(30));
  assert.equal(fromUnits(Number.MAX_SAFE_INTEGER, unit('0.3')), '2702159776422297.3');
  // the example: 100.00000001 at 65000.01, tick 0.01, lot 0.00000001
  const n = addFill(0, toUnits('65000.01', unit('0.01')), toUnits('100.00000001', unit('0.00000001')));
  assert.equal(formatNotional(n, unit('0.01'), unit('0.00000001')), '6500001.0006500001');
});

test('any on-grid value round-trips', (t) => {
  assertProperty(t, fc.property(fc.constantFrom('1', '0.01', '0.25', '5', '0.0001', '0.00000003'), fc.integer({ min: 0, max: 1e12 }), (tick, n) => {
    const u = unit(tick);
    assert.equal(toUnits(fromUnits(n, u), u), n);
  }));
});
