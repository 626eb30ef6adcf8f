// The engine: (state, command) -> (state, events). Pure and single-threaded: no
// I/O, no clock, no randomness. Order ids are the sequence number of the command
// that created the order; trade ids are `${seq}.${n}`. Commands arrive as
// untrusted data (JSON, Avro), so every field is checked before it is used, and
// a field that is null counts as absent (as the log's codec treats it).

import { BUY, SELL, type Ladder, type LadderFactory, type Side } from '../native/ladder.js';
import { Accounts } from './accounts.js';
import { idHashOf } from './client-ids.js';
import { ID_WORDS } from './inline-ids.js';
import { Book, WALK_SELF, type BookOwner, type BookView } from './book.js';
import {
  CANCEL_FOK, CANCEL_IOC, CANCEL_MASS, CANCEL_NO_LIQUIDITY, CANCEL_STP, CANCEL_USER, EV_ACCEPTED, EV_INSTRUMENT,
  EV_REPLACED, EV_STATUS, EventBuffer,
} from './event-buffer.js';
import type {
  CancelCommand, Command, InstrumentCommand, MassCancelCommand, NewOrderCommand,
  ReplaceCommand,
} from './commands.js';
import type { CancelRejectReason, EngineEvent, RejectReason } from './events.js';
import { Hasher } from './hash.js';
import { OFF_GRID, decimalProblem, parseDecimal, unitsOf, type Parsed } from './decimal.js';
import { Instrument } from './instrument.js';
import { ID_RULE, idProblem, isId, isInteger } from './limits.js';
import { notionalFrom, notionalPlain } from './notional.js';
import { F_MARKET, F_POST_ONLY, Orders, TIF_FOK, TIF_GTC, flagsOf, flagsOfNames, tifCode } from './orders.js';
import type { EngineSnapshot, OrderState } from './snapshot.js';

// Explicit comparisons, not lookups in an object: a hostile "toString" or
// "__proto__" must not find something on Object.prototype.
function sideOf(v: unknown): Side | -1 {
  return v === 'buy' ? BUY : v === 'sell' ? SELL : -1;
}

/** The tif's code (orders.ts), -1 for anything else. */
function tifOf(v: unknown): number {
  return v === 'GTC' ? 0 : v === 'IOC' ? 1 : v === 'FOK' ? 2 : -1;
}

/** The stp mode's code (orders.ts), -1 for anything else. */
function stpOf(v: unknown): number {
  return v === 'cancel_resting' ? 0 : v === 'cancel_incoming' ? 1 : v === 'cancel_both' ? 2 : -1;
}

/** execute(): the order is registered with its account already. */
const REGISTERED = -2;
const DEFAULT_DEPTH = 10;
const MAX_DEPTH = 10_000;

// Parsed price and quantity of the command being applied: the form of a
// decimal is judged with the command's shape, its fit to the grid only once
// the instrument is known. The engine is single-threaded and not re-entrant.
const PRICE: Parsed = { m: 0, e: 0 };
const QTY: Parsed = { m: 0, e: 0 };

/** The first id problem among a command's ids, or null. */
function idsProblem(account: unknown, clOrdId: unknown, symbol: unknown): string | null {
  return idProblem(account, 'account') ?? idProblem(clOrdId, 'clOrdId') ?? idProblem(symbol, 'symbol');
}

/**
 * The shape of a cancel or replace request's identification; requestProblem()
 * says what is wrong. `found`: the request named a live order of its account,
 * so its account, its origClOrdId (when a string) and its symbol matched stored
 * keys, which are valid ids (see onNew): only its own clOrdId and an orderId
 * are left to check.
 */
function requestOk(c: CancelCommand | ReplaceCommand, found: boolean): boolean {
  if (!isId(c.clOrdId) || (c.orderId != null && !(isInteger(c.orderId) && c.orderId > 0))) return false;
  if (found && (c.origClOrdId == null || typeof c.origClOrdId === 'string')) return true;
  return isId(c.account) && (c.origClOrdId == null ? c.orderId != null : isId(c.origClOrdId)) && (c.symbol == null || isId(c.symbol));
}

function requestProblem(c: CancelCommand | ReplaceCommand): string {
  const bad = idProblem(c.account, 'account') ?? idProblem(c.clOrdId, 'clOrdId');
  if (bad !== null) return bad;
  if (c.origClOrdId != null) {
    const b = idProblem(c.origClOrdId, 'origClOrdId');
    if (b !== null) return b;
  }
  if (c.orderId != null && (!isInteger(c.orderId) || c.orderId <= 0)) {
    return `orderId must be a positive integer up to 2^52, got ${typeof c.orderId === 'number' ? c.orderId : typeof c.orderId}`;
  }
  if (c.origClOrdId == null && c.orderId == null) return `${c.op} needs origClOrdId or orderId`;
  return symbolProblem(c.symbol) as string;
}

function symbolProblem(symbol: unknown): string | null {
  return symbol == null ? null : idProblem(symbol, 'symbol');
}

/** The text for a price or quantity that is not on the instrument's grid or beyond its limit. */
function gridProblem(code: number, what: 'price' | 'qty', value: unknown, inst: Instrument): string {
  return what === 'price' ? decimalProblem(code, what, value, inst.tick, 'tick') : decimalProblem(code, what, value, inst.lot, 'lot');
}

/** The text for an order whose resting quantity would take its price level past 2^53-1 lots. */
function levelProblem(qtyText: unknown, side: Side, priceText: unknown, inst: Instrument): string {
  return `qty ${String(qtyText)} would take the ${side === BUY ? 'buy' : 'sell'} level at ${String(priceText)} past ${Number.MAX_SAFE_INTEGER} (2^53-1) lots of ${inst.lot.text}`;
}

/** Why an order's terms fail the instrument's checks (the same reasons for a reject and a cancel reject). */
interface TermsProblem { reason: RejectReason; text: string }

export interface EngineOptions {
  /** Makes the engine's one ladder, shared by all its books (called once, by the constructor). */
  ladder: LadderFactory;
}

export class Engine {
  private readonly books = new Map<string, Book>();
  /** Books by their index (orders carry it). */
  private readonly byIndex: Book[] = [];
  private readonly orders = new Orders();
  private readonly accounts = new Accounts(this.orders);
  /**
   * The events of the last apply(), read through its cursor (event-buffer.ts);
   * valid until the next apply().
   */
  readonly events = new EventBuffer(this.orders);
  /** The one ladder every book of the engine shares (native/ladder.ts), by book index. */
  private readonly ladder: Ladder;
  /** The books' one way back into the account indexes (book.ts): only the engine changes them. */
  private readonly bookOwner: BookOwner = {
    names: this.accounts.names,
    finished: (h: number) => {
      this.accounts.remove(h);
      this.orders.free(h);
    },
  };
  /** The new order's clOrdId packed by idHashOf (inline-ids.ts): looked up and stored as words. */
  private readonly idWords = new Int32Array(ID_WORDS);
  /** What terms() converted, when it passed (fields, so that the common path allocates nothing). */
  private termPrice = 0;
  private termQty = 0;
  /** The book of the last new order (books are never removed, so the pair stays true). */
  private lastSymbol: unknown = undefined;
  private lastBook: Book | undefined = undefined;

  constructor(opts: EngineOptions) {
    this.ladder = opts.ladder();
  }

  /**
   * Applies one command stamped with `seq`. Its events go to `events` (the fast
   * path: no objects); with `out`, they are also appended to it as plain
   * objects. Returns the number of events.
   */
  apply(cmd: Command, seq: number, out?: EngineEvent[]): number {
    this.events.clear();
    if (cmd === null || typeof cmd !== 'object') {
      this.reject(seq, '', '', '', 'invalid_order', 'command must be an object');
    } else {
      switch (cmd.op) {
        case 'new': this.onNew(cmd, seq); break;
        case 'cancel': this.onCancel(cmd, seq); break;
        case 'replace': this.onReplace(cmd, seq); break;
        case 'massCancel': this.onMassCancel(cmd, seq); break;
        case 'halt': case 'resume': this.onStatus(cmd.symbol, cmd.op === 'halt', seq); break;
        case 'book': this.onBook(cmd.symbol, cmd.depth, seq); break;
        case 'instrument': this.onInstrument(cmd, seq); break;
        default: {
          const c = cmd as { op?: unknown; account?: unknown; clOrdId?: unknown; symbol?: unknown };
          this.reject(seq, c.account, c.clOrdId, c.symbol, 'invalid_order', `unknown op ${JSON.stringify(c.op)}`);
        }
      }
    }
    if (out !== undefined) this.events.appendTo(out);
    return this.events.length;
  }

  instrument(symbol: string): Instrument | undefined {
    return this.books.get(symbol)?.instrument;
  }

  symbols(): string[] {
    return [...this.books.keys()].sort();
  }

  book(symbol: string): BookView | undefined {
    return this.books.get(symbol);
  }

  /**
   * Order slots in use. Between commands every one is a resting order: an
   * order that left without giving its slot back shows up here (tests check it).
   */
  slotsInUse(): number {
    return this.orders.count;
  }

  // --- commands ---

  private onInstrument(c: InstrumentCommand, seq: number): void {
    if (isId(c.symbol) && this.books.has(c.symbol)) {
      return this.reject(seq, '', '', c.symbol, 'invalid_order', `instrument ${c.symbol} already exists`);
    }
    const inst = Instrument.create(c);
    if (typeof inst === 'string') return this.reject(seq, '', '', c.symbol, 'invalid_order', inst);
    this.addInstrument(inst);
    this.events.status(EV_INSTRUMENT, seq, inst.symbol, inst.halted);
  }

  private addInstrument(inst: Instrument): Book {
    // the ladder numbers its books as the engine does (byIndex): orders carry that index
    const book = new Book(inst, this.ladder, this.ladder.addBook(), this.orders, this.bookOwner, this.events);
    this.books.set(inst.symbol, book);
    this.byIndex.push(book);
    return book;
  }

  private onNew(c: NewOrderCommand, seq: number): void {
    const { account, clOrdId, symbol } = c;
    // Only valid ids are ever stored (instruments, accounts, live client ids;
    // restore checks a snapshot's), so a key found in its map needs no scan:
    // the common order scans one id, its new clOrdId, instead of three.
    // most orders name the symbol the previous one did
    const book = symbol === this.lastSymbol ? this.lastBook : this.books.get(symbol);
    const known = this.accounts.peek(account);
    const idHash = idHashOf(clOrdId, this.idWords); // -1: not an id
    if (idHash < 0 || (known < 0 && !isId(account)) || (book === undefined && !isId(symbol))) {
      return this.reject(seq, account, clOrdId, symbol, 'invalid_order', idsProblem(account, clOrdId, symbol) as string);
    }
    const side = sideOf(c.side);
    if (side === -1) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', `side must be buy or sell, got ${JSON.stringify(c.side)}`);
    const market = c.type === 'market';
    if (!market && c.type !== 'limit') return this.reject(seq, account, clOrdId, symbol, 'invalid_order', `type must be limit or market, got ${JSON.stringify(c.type)}`);
    const tif = c.tif == null ? (market ? 1 : 0) : tifOf(c.tif);
    if (tif < 0) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', `tif must be GTC, IOC or FOK, got ${JSON.stringify(c.tif)}`);
    const stp = c.stp == null ? 0 : stpOf(c.stp);
    if (stp < 0) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', `stp must be cancel_resting, cancel_incoming or cancel_both, got ${JSON.stringify(c.stp)}`);
    if (c.postOnly != null && typeof c.postOnly !== 'boolean') return this.reject(seq, account, clOrdId, symbol, 'invalid_order', 'postOnly must be a boolean');
    const postOnly = c.postOnly === true;
    if (market) {
      if (c.price != null) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', 'a market order takes no price');
      if (postOnly) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', 'a market order cannot be post-only');
    } else {
      if (c.price == null) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', 'a limit order needs a price');
      const r = parseDecimal(c.price, PRICE);
      if (r < 0) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', decimalProblem(r, 'price', c.price));
      if (PRICE.m === 0) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', `price must be positive, got ${c.price}`);
    }
    if (postOnly && tif !== TIF_GTC) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', 'a post-only order must be GTC');
    const rq = parseDecimal(c.qty, QTY);
    if (rq < 0) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', decimalProblem(rq, 'qty', c.qty));
    if (book === undefined) return this.reject(seq, account, clOrdId, symbol, 'unknown_symbol', `unknown symbol ${symbol}`);
    this.lastSymbol = symbol;
    this.lastBook = book;
    const inst = book.instrument;
    if (inst.halted) return this.reject(seq, account, clOrdId, symbol, 'halted', `${symbol} is halted`);
    // a new limit order's price is always checked against the band: no price is kept
    const bad = this.terms(inst, c.price, !market, NaN, c.qty, -1);
    if (bad !== null) return this.reject(seq, account, clOrdId, symbol, bad.reason, bad.text);
    const price = market ? 0 : this.termPrice;
    const acct = known >= 0 ? known : this.accounts.intern(account);
    if (this.accounts.live(acct, clOrdId, idHash, this.idWords) >= 0) return this.reject(seq, account, clOrdId, symbol, 'duplicate_clordid', `clOrdId ${clOrdId} is already live for ${account}`);
    if (postOnly && book.crosses(side, price)) return this.reject(seq, account, clOrdId, symbol, 'post_only_would_cross', 'post-only order would take liquidity');
    // only a GTC limit order rests; its price level exists only if it cannot trade, so all of it would join
    if (!market && tif === TIF_GTC && book.overflows(side, price, this.termQty, 0)) return this.reject(seq, account, clOrdId, symbol, 'invalid_order', levelProblem(c.qty, side, c.price, inst));

    const h = this.orders.alloc(seq, acct, clOrdId, book.index, flagsOf(side, market, tif, postOnly, stp), price, this.termQty, this.idWords);
    book.orderEvent(EV_ACCEPTED, h, seq, clOrdId, this.termQty, '', 0, 0);
    if (tif === TIF_FOK && !book.canFill(h)) {
      book.cancelled(h, seq, clOrdId, CANCEL_FOK);
      this.orders.free(h);
      return;
    }
    this.execute(book, h, seq, idHash, clOrdId);
  }

  /**
   * The one copy of the documented order of the instrument's checks on an
   * order's terms, for new and replace: price on the tick grid, quantity on
   * the lot grid, quantity within [min, max], more than what is already filled
   * (a replace; `filled` -1 for a new order), a price other than `keptPrice`
   * within the band. PRICE and QTY hold the already parsed decimals. Returns
   * the rejection, or null with the units in termPrice (keptPrice when
   * `hasPrice` is false) and termQty.
   */
  private terms(inst: Instrument, priceText: unknown, hasPrice: boolean, keptPrice: number, qtyText: unknown, filled: number): TermsProblem | null {
    let price = keptPrice;
    if (hasPrice) {
      price = unitsOf(PRICE, inst.tick);
      if (price < 0) return { reason: price === OFF_GRID ? 'off_tick' : 'invalid_order', text: gridProblem(price, 'price', priceText, inst) };
    }
    const qty = unitsOf(QTY, inst.lot);
    if (qty < 0) return { reason: qty === OFF_GRID ? 'off_lot' : 'invalid_order', text: gridProblem(qty, 'qty', qtyText, inst) };
    if (qty < inst.minQty || qty > inst.maxQty) return { reason: 'qty_out_of_range', text: `qty ${String(qtyText)} is outside [${inst.qty(inst.minQty)}, ${inst.qty(inst.maxQty)}]` };
    if (filled >= 0 && qty <= filled) return { reason: 'invalid_order', text: `qty ${String(qtyText)} does not exceed the filled quantity ${inst.qty(filled)}` };
    if (hasPrice && price !== keptPrice && inst.outOfBand(price)) return { reason: 'price_out_of_band', text: `price ${String(priceText)} is outside the price band` };
    this.termPrice = price;
    this.termQty = qty;
    return null;
  }

  /**
   * Runs an incoming (or re-priced) order against the book; rests or cancels what
   * is left. Only a resting order is registered with its account: `idHash` is
   * the new order's clOrdId hash (idHashOf), or REGISTERED for an order that
   * already is (a replaced one). An order that does not rest gives its slot back.
   * `clOrdId`: the order's (the command's).
   */
  private execute(book: Book, h: number, seq: number, idHash: number, clOrdId: string): void {
    const registered = idHash === REGISTERED;
    const o = this.orders;
    const walk = book.match(h, seq, clOrdId);
    if (o.leaves[h] === 0) {
      if (registered) this.accounts.remove(h);
      o.free(h);
      return;
    }
    const f = o.flags[h];
    const tif = tifCode(f);
    const market = (f & F_MARKET) !== 0;
    if (walk === WALK_SELF || market || tif !== TIF_GTC) {
      if (registered) this.accounts.remove(h);
      book.cancelled(h, seq, clOrdId, walk === WALK_SELF ? CANCEL_STP : tif === TIF_FOK ? CANCEL_FOK : market ? CANCEL_NO_LIQUIDITY : CANCEL_IOC);
      o.free(h);
      return;
    }
    if (!registered) this.accounts.add(h, idHash);
    book.rest(h, seq);
  }

  private onCancel(c: CancelCommand, seq: number): void {
    const h = this.findOwn(c);
    if (!requestOk(c, h >= 0)) return this.reject(seq, c.account, c.clOrdId, c.symbol, 'invalid_order', requestProblem(c));
    if (h < 0) return this.unknownOrder(c, seq);
    this.cancel(h, seq, c.clOrdId, CANCEL_USER);
  }

  /**
   * Takes a resting order off its book for good: the cancelled event, its level's
   * delta (unless `delta` is false: more of that level goes in this command), its
   * slot back (`clOrdId`: as Book.cancelled).
   */
  private cancel(h: number, seq: number, clOrdId: string | null, reason: number, delta = true): void {
    const o = this.orders;
    const book = this.byIndex[o.bookOf(h)];
    book.take(h);
    this.accounts.remove(h);
    book.cancelled(h, seq, clOrdId, reason);
    if (delta) book.delta(o.side(h), o.price[h], seq);
    o.free(h);
  }

  /** The live order a cancel or replace names, if it is the account's (any field may still be malformed); -1 if none. */
  private findOwn(c: CancelCommand | ReplaceCommand): number {
    const h = this.accounts.find(c.account, c.origClOrdId, c.orderId);
    return h < 0 || (c.symbol != null && c.symbol !== this.byIndex[this.orders.bookOf(h)].instrument.symbol) ? -1 : h;
  }

  private unknownOrder(c: CancelCommand | ReplaceCommand, seq: number): void {
    const what = c.origClOrdId != null ? `origClOrdId ${c.origClOrdId}` : `orderId ${c.orderId}`;
    this.cancelReject(seq, c, -1, 'unknown_order', `no live order with ${what} for ${c.account}`);
  }

  private onReplace(c: ReplaceCommand, seq: number): void {
    const h = this.findOwn(c);
    if (!requestOk(c, h >= 0)) return this.reject(seq, c.account, c.clOrdId, c.symbol, 'invalid_order', requestProblem(c));
    // malformed new terms are invalid_order whether or not the order exists
    if (c.price != null) {
      const r = parseDecimal(c.price, PRICE);
      if (r < 0) return this.cancelReject(seq, c, h, 'invalid_order', decimalProblem(r, 'price', c.price));
      if (PRICE.m === 0) return this.cancelReject(seq, c, h, 'invalid_order', `price must be positive, got ${c.price}`);
    }
    const rq = parseDecimal(c.qty, QTY);
    if (rq < 0) return this.cancelReject(seq, c, h, 'invalid_order', decimalProblem(rq, 'qty', c.qty));
    if (h < 0) return this.unknownOrder(c, seq);
    const o = this.orders;
    const book = this.byIndex[o.bookOf(h)];
    const inst = book.instrument;
    if (inst.halted) return this.cancelReject(seq, c, h, 'halted', `${inst.symbol} is halted`);
    const oldPrice = o.price[h];
    // the band applies to a new price only: a resting order keeps its price through a band move
    const cum = o.cumOf(h);
    const bad = this.terms(inst, c.price, c.price != null, oldPrice, c.qty, cum);
    if (bad !== null) return this.cancelReject(seq, c, h, bad.reason, bad.text);
    const price = this.termPrice;
    // findOwn found it by this very string when the request named one
    const origClOrdId = typeof c.origClOrdId === 'string' ? c.origClOrdId : o.clOrdIdOf(h);
    const acct = o.accountOf(h);
    if (c.clOrdId !== origClOrdId && this.accounts.live(acct, c.clOrdId) >= 0) return this.cancelReject(seq, c, h, 'duplicate_clordid', `clOrdId ${c.clOrdId} is already live for ${this.accounts.names[acct]}`);
    const side = o.side(h);
    if ((o.flags[h] & F_POST_ONLY) !== 0 && price !== oldPrice && book.crosses(side, price)) return this.cancelReject(seq, c, h, 'post_only_would_cross', 'post-only order would take liquidity');
    const leaves = this.termQty - cum;
    // a replace that rests anew (price change or more quantity) joins the level at `price` (minus itself when it is already there)
    if ((price !== oldPrice || leaves > o.leaves[h]) && book.overflows(side, price, leaves, price === oldPrice ? o.leaves[h] : 0)) {
      return this.cancelReject(seq, c, h, 'invalid_order', levelProblem(c.qty, side, inst.price(price), inst));
    }

    this.accounts.rename(h, c.clOrdId);
    if (price === oldPrice && leaves <= o.leaves[h]) {
      // same price, not more: the order keeps its place in the queue
      if (leaves < o.leaves[h]) book.reduce(h, leaves);
      book.orderEvent(EV_REPLACED, h, seq, c.clOrdId, leaves, origClOrdId, 0, 0);
      book.delta(side, price, seq);
      return;
    }
    book.take(h);
    o.price[h] = price;
    o.leaves[h] = leaves;
    book.orderEvent(EV_REPLACED, h, seq, c.clOrdId, leaves, origClOrdId, 0, 0);
    if (price !== oldPrice) book.delta(side, oldPrice, seq);
    this.execute(book, h, seq, REGISTERED, c.clOrdId);
  }

  private onMassCancel(c: MassCancelCommand, seq: number): void {
    const bad = idProblem(c.account, 'account') ?? symbolProblem(c.symbol) ?? (c.clOrdId == null ? null : idProblem(c.clOrdId, 'clOrdId'));
    if (bad !== null) return this.reject(seq, c.account, c.clOrdId, c.symbol, 'invalid_order', bad);
    const symbol = c.symbol ?? undefined;
    // an unknown symbol is in scope of no order (-2)
    const scope = symbol === undefined ? -1 : this.books.get(symbol)?.index ?? -2;
    const hs = this.accounts.ordersOf(c.account, scope);
    // one delta per level, after the last cancel there (its final state), as in a walk
    const o = this.orders;
    const last = new Map<string, number>();
    for (let i = 0; i < hs.length; i++) last.set(`${o.bookOf(hs[i])} ${o.side(hs[i])} ${o.price[hs[i]]}`, i);
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i];
      this.cancel(h, seq, null, CANCEL_MASS, last.get(`${o.bookOf(h)} ${o.side(h)} ${o.price[h]}`) === i);
    }
    this.events.massCancelled(seq, c.account, c.clOrdId ?? '', symbol ?? '', hs.length);
  }

  private onStatus(symbol: unknown, halt: boolean, seq: number): void {
    const bad = idProblem(symbol, 'symbol');
    if (bad !== null) return this.reject(seq, '', '', symbol, 'invalid_order', bad);
    const inst = this.books.get(symbol as string)?.instrument;
    if (inst === undefined) return this.reject(seq, '', '', symbol, 'unknown_symbol', `unknown symbol ${symbol as string}`);
    inst.halted = halt;
    this.events.status(EV_STATUS, seq, inst.symbol, halt);
  }

  private onBook(symbol: unknown, depth: unknown, seq: number): void {
    const bad = idProblem(symbol, 'symbol');
    if (bad !== null) return this.reject(seq, '', '', symbol, 'invalid_order', bad);
    const d = depth == null ? DEFAULT_DEPTH : isInteger(depth) && depth > 0 ? Math.min(depth, MAX_DEPTH) : -1;
    if (d < 0) return this.reject(seq, '', '', symbol, 'invalid_order', `depth must be a positive integer up to 2^52 (at most ${MAX_DEPTH} levels are shown)`);
    const book = this.books.get(symbol as string);
    if (book === undefined) return this.reject(seq, '', '', symbol, 'unknown_symbol', `unknown symbol ${symbol as string}`);
    this.events.book(seq, book.instrument.symbol, book.levels(BUY, d), book.levels(SELL, d));
  }

  /** Echoes only ids within the rules: a rejection never carries a hostile string further. */
  private reject(seq: number, account: unknown, clOrdId: unknown, symbol: unknown, reason: RejectReason, text: string): void {
    this.events.rejected(seq, isId(account) ? account : '', isId(clOrdId) ? clOrdId : '', isId(symbol) ? symbol : '', reason, text);
  }

  /** `h`: the order the request named, -1 if none was found. */
  private cancelReject(seq: number, c: CancelCommand | ReplaceCommand, h: number, reason: CancelRejectReason, text: string): void {
    const o = this.orders;
    this.events.cancelRejected(seq, c.account, c.clOrdId,
      typeof c.origClOrdId === 'string' ? c.origClOrdId : h >= 0 ? o.clOrdIdOf(h) : '',
      h >= 0 ? o.orderId[h] : typeof c.orderId === 'number' ? c.orderId : 0,
      h >= 0 ? this.byIndex[o.bookOf(h)].instrument.symbol : typeof c.symbol === 'string' ? c.symbol : '',
      reason, text);
  }

  // --- state ---

  /** A stable hash of the whole state: instruments, then every resting order in priority order. */
  stateHash(): string {
    const h = new Hasher();
    const o = this.orders;
    for (const symbol of this.symbols()) {
      const book = this.books.get(symbol) as Book;
      const inst = book.instrument;
      h.str(symbol).str(inst.tick.text).str(inst.lot.text).num(inst.minQty).num(inst.maxQty)
        .num(inst.bandNum).num(inst.bandDen).num(inst.referencePrice).num(inst.lastPrice).num(inst.halted ? 1 : 0);
      for (const side of [BUY, SELL] as const) {
        const hs = book.handles(side);
        h.num(hs.length);
        for (const x of hs) {
          // flags carry side, type, tif, post-only and STP; qty is cumQty + leavesQty
          h.num(o.orderId[x]).word(this.accounts.nameHash[o.accountOf(x)]);
          o.hashClOrdId(x, h);
          h.word(o.flagsOf(x)).num(o.price[x]).num(o.leaves[x]).num(o.cumOf(x)).int(o.notionalOf(x));
        }
      }
    }
    return h.hex();
  }

  /** The full state as plain data: instruments, then resting orders in priority order. */
  snapshot(): EngineSnapshot {
    const instruments = [];
    const orders: OrderState[] = [];
    for (const symbol of this.symbols()) {
      const book = this.books.get(symbol) as Book;
      const inst = book.instrument;
      instruments.push({ ...inst.spec(), lastPrice: inst.lastPrice });
      for (const side of [BUY, SELL] as const) {
        for (const o of book.orders(side)) {
          orders.push({
            orderId: o.orderId, account: o.account, clOrdId: o.clOrdId, symbol, side: side === BUY ? 'buy' : 'sell',
            ordType: o.ordType, tif: o.tif, price: o.price, qty: o.qty, leavesQty: o.leavesQty, cumQty: o.cumQty,
            cumNotional: notionalPlain(o.cumNotional), postOnly: o.postOnly, stp: o.stp,
          });
        }
      }
    }
    return { version: 2, instruments, orders };
  }

  /** An engine holding exactly the state of `snap`. */
  static restore(snap: EngineSnapshot, opts: EngineOptions): Engine {
    if (snap.version !== 1 && snap.version !== 2) throw new Error(`snapshot: unsupported engine state version ${String(snap.version)}`);
    const e = new Engine(opts);
    for (const spec of snap.instruments) {
      const inst = Instrument.create(spec);
      if (typeof inst === 'string') throw new Error(`snapshot instrument ${spec.symbol}: ${inst}`);
      inst.lastPrice = spec.lastPrice;
      e.addInstrument(inst);
    }
    const o = e.orders;
    for (const s of snap.orders) {
      const book = e.books.get(s.symbol);
      if (book === undefined) throw new Error(`snapshot order ${s.orderId}: unknown symbol ${s.symbol}`);
      // the engine relies on every stored id being valid (see onNew)
      if (!isId(s.account) || !isId(s.clOrdId)) throw new Error(`snapshot order ${s.orderId}: account and clOrdId must be ${ID_RULE}`);
      if (s.qty !== s.cumQty + s.leavesQty) throw new Error(`snapshot order ${s.orderId}: qty ${s.qty} != cumQty ${s.cumQty} + leavesQty ${s.leavesQty}`);
      const notional = notionalFrom(s.cumNotional);
      if (notional === null) throw new Error(`snapshot order ${s.orderId}: cumNotional ${String(s.cumNotional)} is not a non-negative integer`);
      const acct = e.accounts.intern(s.account);
      if (e.accounts.live(acct, s.clOrdId) >= 0) throw new Error(`snapshot order ${s.orderId}: clOrdId ${s.clOrdId} is already live for ${s.account}`);
      const side: Side = s.side === 'buy' ? BUY : SELL;
      const flags = flagsOfNames(side, s.ordType, s.tif, s.postOnly === true, s.stp);
      if (flags < 0) throw new Error(`snapshot order ${s.orderId}: ordType, tif or stp is not one the engine knows`);
      const h = o.alloc(s.orderId, acct, s.clOrdId, book.index, flags, s.price, s.leavesQty);
      o.setFilled(h, s.cumQty, notional);
      e.accounts.add(h);
      book.rest(h, 0);
    }
    e.events.clear();
    return e;
  }
}
