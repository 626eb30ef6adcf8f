// The trading screen under test: an exchange with its gateway on a free port
// (in this process, so the engine's `book` can be asked after every step), a
// headless Chromium (Debian's, driven by puppeteer-core) and the page's view
// of the ladder, read from the DOM as a trader would read it.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { formatEvent } from '../engine/index.js';
import { fromUnits, toUnits } from '../engine/decimal.js';
import { Exchange } from '../log/index.js';
import { AccountStore } from '../gateway/accounts.js';
import { Gateway } from '../gateway/server.js';
import { tempDir } from './log-helpers.js';

/** Debian's package `chromium` (`.ci/run` installs it); MATCHLOG_CHROMIUM names another. */
export const CHROMIUM = process.env.MATCHLOG_CHROMIUM ?? '/usr/bin/chromium';

export const PASSWORDS = { alice: 'alice-password-1', bob: 'bob-password-2' } as const;

export interface Venue {
  ex: Exchange;
  gw: Gateway;
  /** http://127.0.0.1:PORT */
  http: string;
  /** ws://127.0.0.1:PORT/fix */
  fix: string;
}

export async function startVenue(t: TestContext): Promise<Venue> {
  const dir = join(tempDir(t, 'matchlog-web-'), 'data');
  const ex = await Exchange.open({ dataDir: dir, log: () => undefined });
  // cheap scrypt: the tests log on many times; the real parameters are the accounts tests' business
  const accounts = AccountStore.load(join(dir, 'accounts.json'), { scrypt: { N: 1024, r: 8, p: 1, keyLength: 32 } });
  for (const [name, pw] of Object.entries(PASSWORDS)) await accounts.add(name, pw, { marketDataOnly: false });
  const gw = await Gateway.start({ exchange: ex, listen: { host: '127.0.0.1', port: 0 }, accounts, sessionsDir: join(dir, 'sessions') });
  t.after(async () => {
    await gw.close();
    await ex.close();
  });
  return { ex, gw, fix: gw.url, http: gw.url.replace(/^ws/, 'http').replace(/\/fix$/, '') };
}

export async function launchBrowser(t: TestContext): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: install the Debian package chromium (.ci/run does) or set MATCHLOG_CHROMIUM`);
  const profile = mkdtempSync(join(tmpdir(), 'matchlog-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    // the machine's network is closed: Chromium's own background traffic is switched off
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--window-size=1400,1000'],
    defaultViewport: { width: 1400, height: 1000 },
  });
  // the profile goes once the browser has closed (it writes to it until then)
  t.after(async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return browser;
}

/** A page whose console errors, CSP refusals and uncaught errors are collected into `problems`. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems };
}

export async function logOn(page: Page, account: string, password: string): Promise<void> {
  await page.$eval('#logon-account', (e, v) => { (e as HTMLInputElement).value = v; }, account);
  await page.$eval('#logon-password', (e, v) => { (e as HTMLInputElement).value = v; }, password);
  await page.click('#logon-submit');
}

export async function textOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (e) => e.textContent ?? '');
}

/** Waits until `selector`'s text satisfies `pred`; fails with what the page showed. */
export async function waitText(page: Page, selector: string, pred: (text: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await page.$eval(selector, (e) => e.textContent ?? '').catch(() => '<missing>');
    if (pred(last)) return last;
    if (Date.now() > deadline) assert.fail(`${what}: ${selector} shows ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface LadderLevel {
  price: string;
  qty: string;
  orders: number;
  cum: string;
}

/** The ladder as shown: both sides best first, each level's price, size, cumulative size and order count. */
export async function pageLadder(page: Page): Promise<{ bids: LadderLevel[]; asks: LadderLevel[] }> {
  const rows = await page.$$eval('#ladder tr[data-price]', (trs) => trs.map((tr) => {
    const side = (tr as HTMLElement).dataset.side ?? '';
    const cell = (c: string): string => tr.querySelector(`.${side}-${c}`)?.textContent ?? '';
    return { side, price: (tr as HTMLElement).dataset.price ?? '', qty: cell('size'), orders: Number(cell('orders')), cum: cell('cum') };
  }));
  const level = (r: (typeof rows)[number]): LadderLevel => ({ price: r.price, qty: r.qty, orders: r.orders, cum: r.cum });
  return {
    bids: rows.filter((r) => r.side === 'bid').map(level),
    asks: rows.filter((r) => r.side === 'ask').map(level).reverse(), // shown worst on top, best next to the spread
  };
}

/** The engine's `book` (through the log, as any command), as the ladder should show it: top 10, cumulative sizes added exactly. */
export async function engineLadder(v: Venue, symbol: string): Promise<{ bids: LadderLevel[]; asks: LadderLevel[] }> {
  const ack = await v.ex.submit({ op: 'book', symbol, depth: 10 }, 'test:book');
  const ev = formatEvent(ack.events[0], v.ex.engine) as unknown as { type: string; bids: { price: string; qty: string; orders: number }[]; asks: { price: string; qty: string; orders: number }[] };
  assert.equal(ev.type, 'book');
  const inst = v.ex.engine.instrument(symbol);
  assert.ok(inst !== undefined, symbol);
  const lot = inst.lot;
  const withCum = (ls: { price: string; qty: string; orders: number }[]): LadderLevel[] => {
    let cum = 0;
    return ls.map((l) => {
      cum += toUnits(l.qty, lot);
      return { price: l.price, qty: l.qty, orders: l.orders, cum: fromUnits(cum, lot) };
    });
  };
  return { bids: withCum(ev.bids), asks: withCum(ev.asks) };
}

/** The ladder equals the engine's book (within `timeoutMs`: the page draws on its next frame). */
export async function assertLadder(page: Page, v: Venue, symbol: string, step: string, timeoutMs = 10_000): Promise<void> {
  const want = await engineLadder(v, symbol);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await pageLadder(page);
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    if (Date.now() > deadline) assert.deepEqual(got, want, `the ladder after "${step}" differs from the engine's book`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
