// The trading screen (gateway/web/) in a real headless Chromium, end to end:
// served by the gateway with a strict CSP, logged on over fix.json, a trader's
// day in a few steps (rest, get filled by someone else, take liquidity, modify,
// cancel, get refused), with the ladder checked against the engine's `book`
// after every step, a lost market-data update detected and repaired, a
// wrong password told in words, and a reload that finds the trader's live
// orders again (OrderMassStatusRequest) and cancels one of them.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { FixClient } from '../gateway/client.js';
import { CONTENT_SECURITY_POLICY } from '../gateway/web-assets.js';
import { assertLadder, launchBrowser, logOn, openPage, PASSWORDS, startVenue, textOf, waitText, type Venue } from './web-helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function bobClient(v: Venue, t: { after(fn: () => unknown): void }): Promise<FixClient> {
  const bob = await FixClient.connect({ url: v.fix, account: 'bob', password: PASSWORDS.bob, protocol: 'fix.4.4' });
  t.after(() => bob.close());
  return bob;
}

/** An exchange, alice logged on in the browser, bob on a FIX client beside her. */
async function aliceWithBob(t: TestContext): Promise<{ v: Venue; page: Page; problems: string[]; bob: FixClient }> {
  const v = await startVenue(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, `${v.http}/`);
  const bob = await bobClient(v, t);
  await logOn(page, 'alice', PASSWORDS.alice);
  await waitText(page, '#conn-state', (s) => s === 'logged on', 'logged on');
  return { v, page, problems, bob };
}

async function bobRests(bob: FixClient, side: 'buy' | 'sell', qty: string, price: string): Promise<void> {
  const id = bob.newOrder({ symbol: 'AAPL', side, qty, price });
  const r = await bob.nextReport(id);
  assert.equal(r.get(150), '0', `bob's ${side} ${qty} @ ${price} rests: ${r.toString()}`);
}

async function ordersShown(page: Page): Promise<string[][]> {
  return page.$$eval('#orders tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 9).map((td) => td.textContent ?? '')));
}

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: got ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function fillTicket(page: Page, o: { side?: 'buy' | 'sell'; type?: 'limit' | 'market'; price?: string; qty: string; tif?: 'GTC' | 'IOC' | 'FOK'; postOnly?: boolean }): Promise<void> {
  await page.click(o.side === 'sell' ? 'label.side.sell' : 'label.side.buy');
  await page.select('#ticket-type', o.type === 'market' ? '1' : '2');
  if (o.price !== undefined) await page.$eval('#ticket-price', (e, v) => { (e as HTMLInputElement).value = v; }, o.price);
  await page.$eval('#ticket-qty', (e, v) => { (e as HTMLInputElement).value = v; }, o.qty);
  await page.select('#ticket-tif', { GTC: '1', IOC: '3', FOK: '4' }[o.tif ?? 'GTC']);
  const checked = await page.$eval('#ticket-post-only', (e) => (e as HTMLInputElement).checked);
  if (checked !== (o.postOnly === true)) await page.click('#ticket-post-only');
  await page.click('#ticket-submit');
}

test('served by the gateway: content types, a strict CSP, no inline script or style, nothing from elsewhere, only the page\'s files', async (t) => {
  const v = await startVenue(t);
  const res = await fetch(`${v.http}/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
  assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|\*|https?:/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const html = await res.text();
  // every script is a file of this server; no inline script, handler or style
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1], /\bsrc="\/[^"/]/, `a script without a same-origin src: ${m[0]}`);
    assert.equal(m[2].trim(), '', 'an inline script');
  }
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'an inline event handler');
  assert.doesNotMatch(html, /\sstyle=|<style/i, 'an inline style');
  const types: Record<string, string> = {
    '/app.css': 'text/css; charset=utf-8', '/gateway/web/app.js': 'text/javascript; charset=utf-8',
    '/engine/decimal.js': 'text/javascript; charset=utf-8', '/gateway/book-view.js': 'text/javascript; charset=utf-8',
    '/favicon.svg': 'image/svg+xml',
  };
  for (const [path, type] of Object.entries(types)) {
    const r = await fetch(`${v.http}${path}`);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('content-type'), type, path);
    // (an SVG's xmlns names a namespace, not something to fetch)
    const body = (await r.text()).replace(/xmlns="[^"]*"/g, '');
    // works offline: nothing is fetched from another origin
    assert.doesNotMatch(body, /\b(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, `${path} names another origin`);
    const again = await fetch(`${v.http}${path}`, { headers: { 'if-none-match': r.headers.get('etag') ?? '' } });
    assert.equal(again.status, 304, `${path} revalidates`);
  }
  // only the page's files: not the server's modules, the sources, the data or anything by a trick path
  for (const path of ['/gateway/server.js', '/gateway/accounts.js', '/gateway/web/app.ts', '/app.ts', '/fix-session.ts', '/package.json', '/../package.json',
    '/%2e%2e/package.json', '/gateway/web/app.js.map', '/accounts.json', '/log/exchange.js']) {
    const r = await fetch(`${v.http}${path}`);
    assert.equal(r.status, 404, `${path} must not be served`);
    await r.arrayBuffer();
  }
  const head = await fetch(`${v.http}/`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal((await head.text()), '');
  assert.equal((await fetch(`${v.http}/`, { method: 'POST' })).status, 405);
});

test('a wrong password is refused, and the page says so in words', async (t) => {
  const v = await startVenue(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, `${v.http}/`);
  assert.equal(await page.$eval('#logon-url', (e) => (e as HTMLInputElement).value), v.fix, 'the log-on form points at this gateway');
  await logOn(page, 'alice', 'not-her-password');
  await waitText(page, '#logon-error', (s) => /unknown account or wrong password/.test(s), 'the refusal is shown');
  assert.equal(await textOf(page, '#conn-state'), 'disconnected');
  assert.equal(await page.$eval('#screen', (e) => (e as HTMLElement).hidden), true, 'nothing of the exchange is shown');
  // the right password then works from the same form
  await logOn(page, 'alice', PASSWORDS.alice);
  await waitText(page, '#conn-state', (s) => s === 'logged on', 'logged on');
  assert.equal(await textOf(page, '#logon-error'), '');
  assert.deepEqual(problems, []);
});

test('a trader\'s session: rest, filled by another client, take liquidity at two prices (exact AvgPx), modify, cancel, a reject in words; the ladder equals the engine\'s book after every step', async (t) => {
  const { v, page, problems, bob } = await aliceWithBob(t);
  assert.equal(await textOf(page, '#account'), 'alice');
  // the symbol picker lists the exchange's instruments (SecurityList), the first one subscribed
  const symbols = await page.$$eval('#symbol option', (os) => os.map((o) => (o as HTMLOptionElement).value));
  assert.deepEqual(symbols, ['AAPL', 'BTC-USD', 'EUR-USD', 'MSFT']);
  await waitText(page, '#instrument', (s) => s === 'tick 0.01 · lot 1 · min 1', 'the instrument\'s grid');
  await waitText(page, '#md-status', (s) => /snapshot of AAPL|RptSeq/.test(s), 'subscribed');
  await assertLadder(page, v, 'AAPL', 'subscribing');

  // 1. a resting buy: in my orders and in the ladder
  await fillTicket(page, { side: 'buy', price: '190.05', qty: '10' });
  const rest = await waitFor(() => ordersShown(page), (rows) => rows.length === 1, 'my resting order');
  assert.deepEqual(rest[0].slice(1), ['AAPL', 'buy', '190.05', '10', '10', '0', '0', 'new']);
  await assertLadder(page, v, 'AAPL', 'a resting buy');
  await waitText(page, '#latency', (s) => /^\d+\.\d ms$/.test(s), 'the latency of the last report');
  const seq = Number(await textOf(page, '#exchange-seq'));
  assert.ok(seq > 0, 'the exchange\'s seq is shown');

  // 2. another (non-browser) client sells into it: a fill, the tape, AvgPx
  const hit = bob.newOrder({ symbol: 'AAPL', side: 'sell', qty: '4', price: '190.05' });
  await bob.nextReport(hit);
  await waitFor(() => page.$$eval('#fills tr', (trs) => trs.length), (n) => n === 1, 'one fill');
  const fill = await page.$eval('#fills tr', (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''));
  assert.deepEqual(fill.slice(2), ['AAPL', 'buy', '190.05', '4', '4', '190.05', 'maker']);
  const tape = await waitFor(() => page.$$eval('#tape tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''))),
    (rows) => rows.length === 1, 'the tape');
  assert.match(tape[0][0], /^\d\d:\d\d:\d\d\.\d{3}$/, 'the trade\'s time');
  assert.deepEqual(tape[0].slice(1), ['190.05', '4', 'sell']);
  assert.equal(await textOf(page, '#last-trade'), '190.05');
  await waitFor(() => ordersShown(page), (rows) => rows[0]?.[5] === '6', 'leaves 6');
  assert.deepEqual((await ordersShown(page))[0].slice(5), ['6', '4', '190.05', 'partially filled']);
  await assertLadder(page, v, 'AAPL', 'a partial fill');
  assert.ok(Number(await textOf(page, '#exchange-seq')) > seq, 'the seq moved');

  // 3. bob offers at two prices; clicking a price fills the ticket; alice lifts both: AvgPx exact
  await bobRests(bob, 'sell', '2', '190.20');
  await bobRests(bob, 'sell', '1', '190.30');
  await assertLadder(page, v, 'AAPL', 'two offers');
  assert.equal(await textOf(page, '#spread'), '0.15');
  await page.click('#ladder tr[data-side="ask"][data-price="190.3"] td.px');
  assert.equal(await page.$eval('#ticket-price', (e) => (e as HTMLInputElement).value), '190.30', 'a click on the ladder fills the price');
  assert.equal(await page.$eval('#ticket-buy', (e) => (e as HTMLInputElement).checked), true, 'and buys the offer');
  await page.$eval('#ticket-qty', (e) => { (e as HTMLInputElement).value = '3'; });
  await page.click('#ticket-submit');
  const fills = await waitFor(() => page.$$eval('#fills tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(2).map((td) => td.textContent ?? ''))),
    (rows) => rows.length === 3, 'two more fills');
  // 2 @ 190.20 then 1 @ 190.30: 570.70 / 3 = 190.23333…, rounded to 8 places beyond the tick's (gateway/README.md)
  assert.deepEqual(fills[0], ['AAPL', 'buy', '190.3', '1', '3', '190.2333333333', 'taker']);
  assert.deepEqual(fills[1], ['AAPL', 'buy', '190.2', '2', '2', '190.2', 'taker']);
  const tape3 = await waitFor(() => page.$$eval('#tape tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent ?? ''))),
    (rows) => rows.length === 3, 'the tape');
  assert.deepEqual(tape3, [['190.30', '1', 'buy'], ['190.20', '2', 'buy'], ['190.05', '4', 'sell']]);
  await assertLadder(page, v, 'AAPL', 'lifting two offers');

  // 4. modify the resting order: new price and quantity (the new total, the fill included)
  await page.click('#orders tr button.modify');
  await page.$eval('#modify-price', (e) => { (e as HTMLInputElement).value = '190.02'; });
  await page.$eval('#modify-qty', (e) => { (e as HTMLInputElement).value = '8'; });
  await page.click('#modify-submit');
  const modified = await waitFor(() => ordersShown(page), (rows) => rows[0]?.[3] === '190.02', 'the modified order');
  assert.deepEqual(modified[0].slice(1), ['AAPL', 'buy', '190.02', '8', '4', '4', '190.05', 'partially filled']);
  await assertLadder(page, v, 'AAPL', 'a modify');

  // 5. cancel it
  await page.click('#orders tr button.cancel');
  await waitFor(() => ordersShown(page), (rows) => rows.length === 0, 'no live order');
  await assertLadder(page, v, 'AAPL', 'a cancel');

  // 6. refused: off the tick grid, the exchange's reason in words
  await fillTicket(page, { side: 'sell', price: '190.001', qty: '1' });
  const reject = await waitText(page, '#rejects li', (s) => s.includes('190.001'), 'the reject');
  assert.match(reject, /price is not on the tick grid: price 190\.001 is not a multiple of tick size 0\.01/);
  // and the ticket's own check: no order is sent without a quantity
  await fillTicket(page, { side: 'buy', price: '190', qty: 'ten' });
  assert.match(await textOf(page, '#ticket-error'), /quantity must be a decimal number/);
  await assertLadder(page, v, 'AAPL', 'a reject');

  // a market order for more than there is: filled where it can, the rest cancelled, all shown
  await bobRests(bob, 'sell', '5', '190.40');
  await fillTicket(page, { side: 'buy', type: 'market', qty: '7', tif: 'IOC' });
  await waitFor(() => page.$$eval('#fills tr', (trs) => trs.length), (n) => n === 4, 'the market order\'s fill');
  assert.deepEqual((await ordersShown(page)), [], 'an IOC remainder does not rest');
  await assertLadder(page, v, 'AAPL', 'a market order');

  await screenshot(page, v, bob);
  assert.deepEqual(problems, [], 'no console error, no CSP refusal');
});

test('after a reload, my orders are back (OrderMassStatusRequest after Logon) and can be cancelled from the reloaded page', async (t) => {
  const { v, page, problems, bob } = await aliceWithBob(t);
  await waitText(page, '#md-status', (s) => /snapshot of AAPL|RptSeq/.test(s), 'subscribed');
  // nothing live yet: the "no orders" answer lists nothing and refuses nothing
  await assertLadder(page, v, 'AAPL', 'subscribing');
  assert.deepEqual(await ordersShown(page), []);
  assert.equal(await page.$$eval('#rejects li', (lis) => lis.length), 0, 'no reject shown for the "no orders" answer');

  // two resting orders, one of them partly filled by bob
  await fillTicket(page, { side: 'buy', price: '189.50', qty: '10' });
  await waitFor(() => ordersShown(page), (rows) => rows.length === 1, 'the first order');
  await fillTicket(page, { side: 'sell', price: '190.75', qty: '4', postOnly: true });
  await waitFor(() => ordersShown(page), (rows) => rows.length === 2, 'the second order');
  const hit = bob.newOrder({ symbol: 'AAPL', side: 'sell', qty: '3', price: '189.50' });
  await bob.nextReport(hit);
  await waitFor(() => ordersShown(page), (rows) => rows[0]?.[5] === '7', 'leaves 7');
  const before = await ordersShown(page);
  assert.deepEqual(before.map((r) => r.slice(1)), [
    ['AAPL', 'buy', '189.5', '10', '7', '3', '189.5', 'partially filled'],
    ['AAPL', 'sell', '190.75', '4', '4', '0', '0', 'new · post-only'],
  ]);
  await assertLadder(page, v, 'AAPL', 'two resting orders');

  // the page is reloaded: it knows nothing, it logs on again (ResetSeqNumFlag=Y) and asks for its orders
  await page.reload({ waitUntil: 'load' });
  assert.equal(await page.$eval('#screen', (e) => (e as HTMLElement).hidden), true, 'a fresh page');
  // one session per account: the old WebSocket is closed on pagehide; should the gateway still see it, the Logon is refused — try again
  const refusals: string[] = [];
  for (let attempt = 0; ; attempt++) {
    await logOn(page, 'alice', PASSWORDS.alice);
    const state = await waitText(page, '#conn-state', (s) => s === 'logged on' || s === 'disconnected', 'logged on again');
    if (state === 'logged on') break;
    refusals.push(await textOf(page, '#logon-error'));
    assert.ok(attempt < 20, `the logon after the reload kept being refused: ${refusals.join(' / ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (refusals.length > 0) t.diagnostic(`logon refused ${refusals.length}x after the reload: ${refusals.join(' / ')}`);
  await waitText(page, '#md-status', (s) => /snapshot of AAPL|RptSeq/.test(s), 'subscribed again');
  const after = await waitFor(() => ordersShown(page), (rows) => rows.length === 2, 'my orders after the reload');
  assert.deepEqual(after, before, 'the same orders, ClOrdIDs, prices, leaves, fills and status as before the reload');
  assert.equal(await page.$$eval('#rejects li', (lis) => lis.length), 0, 'no reject');
  await assertLadder(page, v, 'AAPL', 'after the reload');

  // cancel the partly filled one from the reloaded page: by the ClOrdID the old page gave it
  await page.click(`#orders tr[data-cl-ord-id="${before[0][0]}"] button.cancel`);
  const left = await waitFor(() => ordersShown(page), (rows) => rows.length === 1, 'one order left');
  assert.deepEqual(left, [before[1]]);
  await assertLadder(page, v, 'AAPL', 'a cancel from the reloaded page');
  // and the engine agrees: alice's buy is gone, her post-only sell rests
  const book = v.ex.engine.book('AAPL');
  assert.ok(book !== undefined);
  assert.deepEqual([...book.orders(0), ...book.orders(1)].filter((o) => o.account === 'alice').map((o) => o.clOrdId), [before[1][0]]);
  assert.deepEqual(problems, [], 'no console error, no CSP refusal');
});

/** Fills the book for a picture; MATCHLOG_UPDATE_SCREENSHOT=1 writes it where the README shows it. */
async function screenshot(page: Page, v: Venue, bob: FixClient): Promise<void> {
  const levels: [('buy' | 'sell'), string, string][] = [
    ['sell', '30', '190.55'], ['sell', '12', '190.50'], ['sell', '25', '190.47'], ['sell', '8', '190.45'], ['sell', '40', '190.60'],
    ['buy', '15', '190.35'], ['buy', '9', '190.33'], ['buy', '22', '190.30'], ['buy', '35', '190.25'], ['buy', '18', '190.20'],
  ];
  for (const [side, qty, price] of levels) await bobRests(bob, side, qty, price);
  await fillTicket(page, { side: 'buy', price: '190.28', qty: '12' });
  await fillTicket(page, { side: 'sell', price: '190.52', qty: '6', postOnly: true });
  await waitFor(() => ordersShown(page), (rows) => rows.length === 2, 'two resting orders');
  await assertLadder(page, v, 'AAPL', 'the book for the picture');
  const file = process.env.MATCHLOG_UPDATE_SCREENSHOT === '1' ? join(ROOT, 'docs', 'trading-screen.png') : join(ROOT, 'dist', 'trading-screen.png');
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  assert.ok(readFileSync(file).length > 10_000, 'a picture was taken');
}

test('a lost market-data update is detected from RptSeq, shown, and repaired with a fresh snapshot', async (t) => {
  const v = await startVenue(t);
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  // the network loses one frame: the next X after window.dropOneX is set never reaches the page
  await page.evaluateOnNewDocument(() => {
    const Native = WebSocket;
    class Lossy extends Native {
      override set onmessage(fn: ((ev: MessageEvent) => void) | null) {
        super.onmessage = fn === null ? null : (ev: MessageEvent) => {
          const w = globalThis as unknown as { dropOneX?: boolean; droppedX?: number };
          if (w.dropOneX === true && typeof ev.data === 'string' && ev.data.includes('"MsgType":"X"')) {
            w.dropOneX = false;
            w.droppedX = (w.droppedX ?? 0) + 1;
            return;
          }
          fn(ev);
        };
      }
    }
    (globalThis as unknown as { WebSocket: typeof WebSocket }).WebSocket = Lossy;
  });
  await page.goto(`${v.http}/`);
  const bob = await bobClient(v, t);
  await logOn(page, 'alice', PASSWORDS.alice);
  await waitText(page, '#md-status', (s) => /snapshot of AAPL/.test(s), 'subscribed');
  await bobRests(bob, 'buy', '5', '189.90');
  await assertLadder(page, v, 'AAPL', 'before the loss');
  await page.evaluate(() => { (globalThis as unknown as { dropOneX: boolean }).dropOneX = true; });
  await bobRests(bob, 'buy', '7', '189.80'); // lost on the way
  await bobRests(bob, 'sell', '3', '190.10'); // shows the gap
  await waitFor(() => page.$eval('#md-status', (e) => (e as HTMLElement).dataset.state ?? ''), (s) => s === 'gap', 'the gap is shown');
  assert.match(await textOf(page, '#md-status'), /market data gap: RptSeq \d+ expected, \d+ received; fresh snapshot requested/);
  assert.equal(await page.evaluate(() => (globalThis as unknown as { droppedX: number }).droppedX), 1);
  // the fresh snapshot brings the lost level back
  await assertLadder(page, v, 'AAPL', 'the snapshot after the gap');
  await bobRests(bob, 'sell', '2', '190.20');
  await waitFor(() => page.$eval('#md-status', (e) => (e as HTMLElement).dataset.state ?? ''), (s) => s === 'recovered', 'recovered');
  await assertLadder(page, v, 'AAPL', 'after the gap');
  assert.deepEqual(problems, []);
});
