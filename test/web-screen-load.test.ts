// The trading screen under a fast book: 1,000 market-data updates a second for
// a minute, measured in the browser. Printed: the update rate the page got,
// its frame times (requestAnimationFrame intervals) and its JS heap after a
// forced GC every 10 s. Asserted: the page kept up (every RptSeq applied, no
// gap, the ladder equal to the engine's book at the end), it kept drawing, and
// its heap did not grow over the minute (the tape, the chart and the reject
// list are bounded). Frame times are printed, not asserted: a shared CI
// machine's scheduler is not the page's doing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewOrderCommand } from '../engine/index.js';
import { assertLadder, launchBrowser, logOn, openPage, PASSWORDS, startVenue, waitText } from './web-helpers.js';
import { prng } from './log-helpers.js';

const SECONDS = Number(process.env.MATCHLOG_WEB_LOAD_SECONDS ?? '60');
const PER_SECOND = 1000;

test(`the screen keeps up with ${PER_SECOND} market-data updates/s for ${SECONDS} s: frame times printed, no heap growth`, { timeout: (SECONDS + 60) * 1000 }, async (t) => {
  const v = await startVenue(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, `${v.http}/`);
  await logOn(page, 'alice', PASSWORDS.alice);
  await waitText(page, '#md-status', (s) => /snapshot of AAPL/.test(s), 'subscribed');
  const cdp = await page.createCDPSession();
  const heap = async (): Promise<number> => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  await page.evaluate(() => {
    const w = globalThis as unknown as { frameTimes: number[] };
    w.frameTimes = [];
    let last = performance.now();
    const loop = (now: number): void => {
      w.frameTimes.push(now - last);
      last = now;
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });

  // two market makers: quotes on both sides, cancels of the oldest, now and then a trade
  const rnd = prng(12);
  const live: { account: string; clOrdId: string }[] = [];
  let n = 0;
  let pending: Promise<unknown>[] = [];
  const step = (): void => {
    const i = n++;
    if (live.length > 150 && i % 2 === 0) {
      const o = live.shift() as { account: string; clOrdId: string };
      pending.push(v.ex.submit({ op: 'cancel', account: o.account, clOrdId: `x${i}`, origClOrdId: o.clOrdId, symbol: 'AAPL' }, 'load'));
      return;
    }
    const buy = rnd() < 0.5;
    const account = buy ? 'mm-bid' : 'mm-ask';
    const cross = i % 97 === 0; // a marketable order: a trade on the tape
    const off = 1 + Math.floor(rnd() * 40);
    const cents = buy ? 19_000 - off + (cross ? 60 : 0) : 19_000 + off - (cross ? 60 : 0);
    const cmd: NewOrderCommand = {
      op: 'new', account, clOrdId: `o${i}`, symbol: 'AAPL', side: buy ? 'buy' : 'sell', type: 'limit',
      price: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`, qty: String(1 + Math.floor(rnd() * 20)), tif: cross ? 'IOC' : 'GTC',
    };
    pending.push(v.ex.submit(cmd, 'load'));
    if (!cross) live.push({ account, clOrdId: cmd.clOrdId });
  };
  const rpt0 = v.gw.md.rptSeq('AAPL');
  const heaps: number[] = [];
  const start = Date.now();
  for (let s = 0; s < SECONDS; s++) {
    // 10 commands every 10 ms: one update each (a level changed), and a trade's two now and then
    for (let k = 0; k < 100; k++) {
      const due = start + s * 1000 + k * 10;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (let j = 0; j < PER_SECOND / 100; j++) step();
    }
    if (s % 10 === 9 || s === 0) heaps.push(await heap());
    await Promise.all(pending);
    pending = [];
  }
  const elapsed = (Date.now() - start) / 1000;
  const updates = v.gw.md.rptSeq('AAPL') - rpt0;
  // the page applied every update: its RptSeq is the gateway's, and it never saw a gap
  await waitText(page, '#md-status', (s) => s === `RptSeq ${v.gw.md.rptSeq('AAPL')}`, 'the page caught up', 15_000);
  await assertLadder(page, v, 'AAPL', 'a minute of quotes');
  const frames = await page.evaluate(() => (globalThis as unknown as { frameTimes: number[] }).frameTimes);
  const sorted = [...frames].sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const mib = (b: number): string => (b / 1048576).toFixed(2);
  console.log(`web load: ${updates} market-data updates in ${elapsed.toFixed(1)} s = ${Math.round(updates / elapsed)}/s to the page; `
    + `${frames.length} frames (${(frames.length / elapsed).toFixed(1)}/s), frame time p50 ${q(0.5).toFixed(1)} p95 ${q(0.95).toFixed(1)} `
    + `p99 ${q(0.99).toFixed(1)} max ${sorted[sorted.length - 1].toFixed(1)} ms, ${frames.filter((f) => f > 50).length} frames over 50 ms; `
    + `JS heap after GC (MiB) ${heaps.map(mib).join(' ')}`);
  assert.ok(updates >= PER_SECOND * SECONDS * 0.9, `the load generator made ${updates} updates`);
  assert.ok(frames.length >= elapsed * 10, `the page kept drawing: ${frames.length} frames in ${elapsed.toFixed(0)} s`);
  // no growth over the minute: the heap after 60 s within 2 MiB of the heap after 10 s
  const grew = heaps[heaps.length - 1] - heaps[1];
  assert.ok(grew < 2 * 1048576, `the JS heap grew ${mib(grew)} MiB under load (${heaps.map(mib).join(' ')})`);
  assert.deepEqual(problems, []);
});
