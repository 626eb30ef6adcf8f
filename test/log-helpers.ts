// Shared by the log tests: temp dirs, a seeded PRNG, command generators
// (fast-check arbitraries and a cheap random stream), block layout of a segment.

import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Command } from '../engine/index.js';
import { parseHeader, readBlock } from '../log/container.js';
import { decodeBlock } from '../log/records.js';
import { recordReader } from '../log/schema.js';

/** A fresh directory under the OS temp dir, removed after the test. */
export function tempDir(t: TestContext, prefix = 'matchlog-log-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export { prng } from '../gen/prng.js';

// --- fast-check arbitraries: every command type, optional fields present or absent ---

// Avro has no -0: the codec turns it into 0 before the engine sees it
const text = fc.string({ unit: 'binary', maxLength: 24 }).filter((s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed());
const decimal = fc.oneof(fc.constantFrom('1', '0.01', '100.25', '1e3', '-5', ''), text);
/** Ids (account, clOrdId, origClOrdId, symbol) within the rule the codec holds them to (engine/limits.ts). */
const id = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 64 });
const long = fc.integer({ min: -(2 ** 52), max: 2 ** 52 }).chain((n) => fc.constantFrom(n, -n, 0, 1, 12345, 2 ** 52, -(2 ** 52))).map((v) => v + 0);

function rec<T>(req: Record<string, fc.Arbitrary<unknown>>, opt: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<T> {
  return fc.record({ ...req, ...opt }, { requiredKeys: Object.keys(req) }).map((o) => ({ ...o })) as unknown as fc.Arbitrary<T>;
}

export const arbCommand: fc.Arbitrary<Command> = fc.oneof(
  rec<Command>({ op: fc.constant('instrument'), symbol: id, tickSize: decimal, lotSize: decimal },
    { minQty: decimal, maxQty: decimal, priceBand: decimal, referencePrice: decimal, status: fc.oneof(fc.constantFrom('open', 'halted'), text) }),
  rec<Command>({ op: fc.constant('new'), account: id, clOrdId: id, symbol: id, side: fc.oneof(fc.constantFrom('buy', 'sell'), text), type: fc.oneof(fc.constantFrom('limit', 'market'), text), qty: decimal },
    { price: decimal, tif: fc.constantFrom('GTC', 'IOC', 'FOK', 'DAY'), postOnly: fc.boolean(), stp: fc.constantFrom('cancel_resting', 'cancel_incoming', 'cancel_both', 'x') }),
  rec<Command>({ op: fc.constant('cancel'), account: id, clOrdId: id }, { origClOrdId: id, orderId: long, symbol: id }),
  rec<Command>({ op: fc.constant('replace'), account: id, clOrdId: id, qty: decimal }, { origClOrdId: id, orderId: long, symbol: id, price: decimal }),
  rec<Command>({ op: fc.constant('massCancel'), account: id }, { symbol: id, clOrdId: id }),
  rec<Command>({ op: fc.constantFrom('halt', 'resume'), symbol: id }, {}),
  rec<Command>({ op: fc.constant('book'), symbol: id }, { depth: long }),
);

// --- a cheap random order flow for crash and replay tests ---

export const TEST_INSTRUMENTS = [
  { symbol: 'AAPL', tickSize: '0.01', lotSize: '1', priceBand: '0.2', referencePrice: '100.00' },
  { symbol: 'MSFT', tickSize: '0.05', lotSize: '10', referencePrice: '50.00' },
];

/** Mostly valid order flow that trades, cancels and replaces; some commands the engine rejects. */
export class Flow {
  private live: { account: string; clOrdId: string; symbol: string }[] = [];
  private n = 0;

  constructor(private readonly rnd: () => number, private readonly tag: string) {}

  next(): Command {
    const r = this.rnd();
    const id = `${this.tag}-${++this.n}`;
    const account = `acct${Math.floor(this.rnd() * 5)}`;
    if (r < 0.62 || this.live.length === 0) {
      const aapl = this.rnd() < 0.7;
      const symbol = aapl ? 'AAPL' : 'MSFT';
      const side = this.rnd() < 0.5 ? 'buy' : 'sell';
      const price = aapl ? (95 + Math.floor(this.rnd() * 1000) / 100).toFixed(2) : (48 + Math.floor(this.rnd() * 80) * 0.05).toFixed(2);
      const qty = aapl ? String(1 + Math.floor(this.rnd() * 50)) : String(10 * (1 + Math.floor(this.rnd() * 5)));
      const market = this.rnd() < 0.05;
      const cmd: Command = market
        ? { op: 'new', account, clOrdId: id, symbol, side, type: 'market', qty }
        : { op: 'new', account, clOrdId: id, symbol, side, type: 'limit', price, qty, ...(this.rnd() < 0.1 ? { tif: 'IOC' as const } : {}) };
      if (!market) this.live.push({ account, clOrdId: id, symbol });
      if (this.live.length > 400) this.live.splice(0, 200);
      return cmd;
    }
    const pick = this.live[Math.floor(this.rnd() * this.live.length)];
    if (r < 0.8) {
      this.live.splice(this.live.indexOf(pick), 1);
      return { op: 'cancel', account: pick.account, clOrdId: id, origClOrdId: pick.clOrdId };
    }
    if (r < 0.92) {
      const orig = pick.clOrdId;
      pick.clOrdId = id;
      return { op: 'replace', account: pick.account, clOrdId: id, origClOrdId: orig, qty: pick.symbol === 'AAPL' ? String(1 + Math.floor(this.rnd() * 60)) : '20' };
    }
    if (r < 0.95) return { op: 'new', account, clOrdId: id, symbol: 'AAPL', side: 'up' as 'buy', type: 'limit', price: '100.001', qty: '1' };
    if (r < 0.97) return { op: 'book', symbol: 'AAPL', depth: 5 };
    if (r < 0.985) return { op: 'massCancel', account, symbol: 'MSFT', clOrdId: id };
    return { op: this.rnd() < 0.5 ? 'halt' : 'resume', symbol: 'MSFT' };
  }
}

export interface BlockInfo { offset: number; end: number; lastSeq: number; commands: number }

/** The whole blocks of a segment file, in order, with the last command seq each ends at. */
export function segmentBlocks(path: string): { headerEnd: number; blocks: BlockInfo[] } {
  const buf = readFileSync(path);
  const h = parseHeader(buf);
  if (typeof h === 'string') throw new Error(h);
  const blocks: BlockInfo[] = [];
  let p = h.end;
  let lastSeq = 0;
  while (p < buf.length) {
    const f = readBlock(buf, p, h.sync);
    if (typeof f === 'string') break;
    const recs = decodeBlock(buf, f, recordReader.resolver(h.schema));
    const cmds = recs.filter((r) => r.kind === 'command');
    if (cmds.length > 0) lastSeq = cmds[cmds.length - 1].seq;
    blocks.push({ offset: p, end: f.end, lastSeq, commands: cmds.length });
    p = f.end;
  }
  return { headerEnd: h.end, blocks };
}
