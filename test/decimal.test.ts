import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MALFORMED, OFF_GRID, fromUnits, parseUnit, toUnits, formatNotional } from '../engine/decimal.js';
import { assertProperty } from './property.js';

test('decimal strings convert exactly to ticks and back', () => {
  const tick = parseUnit('0.05')!;
  assert.equal(toUnits('100.05', tick), 2001);
  assert.equal(toUnits('100.0500', tick), 2001);
  assert.equal(toUnits('.1', tick), 2);
  assert.equal(toUnits('100.03', tick), OFF_GRID);
  for (const bad of ['', '.', '1.', '1e3', '-1', '+1', ' 1', '1,5', '1..2', 'NaN', '12345678901234567'] as const) {
    assert.equal(toUnits(bad, tick), MALFORMED, bad);
  }
  assert.equal(toUnits(5 as unknown as string, tick), MALFORMED);
  assert.equal(fromUnits(2001, tick), '100.05');
  assert.equal(fromUnits(2000, tick), '100');
  assert.equal(fromUnits(1, parseUnit('0.001')!), '0.001');
  assert.equal(parseUnit('0'), null);
  assert.equal(formatNotional(3 * 2001, tick, parseUnit('10')!), '3001.5');
});

test('any on-grid value round-trips', (t) => {
  assertProperty(t, fc.property(fc.constantFrom('1', '0.01', '0.25', '5', '0.0001'), fc.integer({ min: 0, max: 1e12 }), (tick, n) => {
    const unit = parseUnit(tick)!;
    assert.equal(toUnits(fromUnits(n, unit), unit), n);
  }));
});
