// The addon counts its own heap (src/heap.rs), so that the engine's memory per
// resting order can be given all-in: JS heap + typed arrays + what the Rust
// ladder holds. The count must see the ladder's per-order storage (24 B a
// handle, grown by doubling) and nothing wildly more.
//
// Without the addon these tests FAIL unless MATCHLOG_NATIVE=0 (then they are skipped).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUY, SELL } from '../native/ladder.js';
import { createNativeLadder, ladderInfo, nativeAvailable, nativeHeapBytes } from '../native/index.js';

const available = nativeAvailable();
const skip = !available && process.env.MATCHLOG_NATIVE === '0' ? 'MATCHLOG_NATIVE=0: native ladder not tested' : false;

test('the addon\'s heap count sees a ladder\'s resting orders: 24 B a handle, doubling', { skip }, () => {
  assert.ok(available, `native ladder unavailable (${ladderInfo().reason}); run \`node scripts/build-native.mjs\``);
  const n = 100_000;
  const before = nativeHeapBytes();
  const ladder = createNativeLadder();
  const book = ladder.addBook();
  for (let h = 0; h < n; h++) ladder.add(book, h % 2 === 0 ? BUY : SELL, h % 2 === 0 ? 1000 - (h % 10) : 2000 + (h % 10), 5, h % 7, h);
  const grown = nativeHeapBytes() - before;
  assert.equal(ladder.orderCount(book), n);
  // slots for handles up to n (capacity a power of two: 131,072 x 24 B), 20 levels, two trees, two maps
  assert.ok(grown >= n * 24, `the count saw ${grown} B for ${n} orders: less than their slots`);
  assert.ok(grown <= 131_072 * 24 + 64 * 1024, `the count saw ${grown} B for ${n} orders: more than slots and 20 levels need`);
  for (let h = 0; h < n; h++) ladder.remove(h);
  assert.equal(ladder.orderCount(book), 0);
});
