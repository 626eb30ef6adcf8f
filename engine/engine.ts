// The engine: (state, command) -> (state, events). Pure and single-threaded: no
// I/O, no clock, no randomness. Order ids are the sequence number of the command
// that created the order; trade ids are `${seq}.${n}`. Commands arrive as
// untrusted data (JSON, Avro), so every field is checked before it is used, and
// a field that is null counts as absent (as the log's codec treats it).

import { BUY, SELL, type LadderFactory, type Side } from '../native/ladder.js';
import { Accounts } from './accounts.js';
import { Book, WALK_SELF, type BookView } from './book.js';
import type {
  CancelCommand, Command, InstrumentCommand, MassCancelCommand, NewOrderCommand, OrdTypeName,
  ReplaceCommand, StpName, TifName,
} from './commands.js';
import type { CancelRejectReason, EngineEvent, RejectReason } from './events.js';
import { Hasher } from './hash.js';
import { OFF_GRID, decimalProblem, parseDecimal, unitsOf, type Parsed } from './decimal.js';
import { Instrument } from './instrument.js';
import { ID_RULE, idProblem, isId, isInteger } from './limits.js';
import { notionalFrom, notionalPlain } from './notional.js';
import { Order } from './order.js';
import type { EngineSnapshot, OrderState } from './snapshot.js';
import { acceptedEvent, cancelledEvent, replacedEvent } from './views.js';

// Explicit comparisons, not lookups in an object: a hostile "toString" or
// "__proto__" must not find something on Object.prototype.
function sideOf(v: unknown): Side | -1 {
  return v === 'buy' ? BUY : v === 'sell' ? SELL : -1;
}

function tifOf(v: unknown): TifName | null {
  return v === 'GTC' || v === 'IOC' || v === 'FOK' ? v : null;
}

function stpOf(v: unknown): StpName | null {
  return v === 'cancel_resting' || v === 'cancel_incoming' || v === 'cancel_both' ? v : null;
}
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

/** Why an order's terms fail the instrument's checks (the same reasons for a reject and a cancel reject). */
interface TermsProblem { reason: RejectReason; text: string }

export interface EngineOptions {
  ladder: LadderFactory;
}

export class Engine {
  private readonly books = new Map<string, Book>();
  private readonly accounts = new Accounts();
  /** A resting order the book's walk ended leaves its account's indexes (one hook for every book). */
  private readonly finished = (order: Order): void => this.accounts.remove(order);
  private readonly ladder: LadderFactory;
  /** What terms() converted, when it passed (fields, so that the common path allocates nothing). */
  private termPrice = 0;
  private termQty = 0;

  constructor(opts: EngineOptions) {
    this.ladder = opts.ladder;
  }

  /** Applies one command stamped with `seq`, appending its events to `out`. */
  apply(cmd: Command, seq: number, out: EngineEvent[] = []): EngineEvent[] {
    if (cmd === null || typeof cmd !== 'object') {
      this.reject(out, seq, '', '', '', 'invalid_order', 'command must be an object');
      return out;
    }
    switch (cmd.op) {
      case 'new': this.onNew(cmd, seq, out); break;
      case 'cancel': this.onCancel(cmd, seq, out); break;
      case 'replace': this.onReplace(cmd, seq, out); break;
      case 'massCancel': this.onMassCancel(cmd, seq, out); break;
      case 'halt': case 'resume': this.onStatus(cmd.symbol, cmd.op === 'halt', seq, out); break;
      case 'book': this.onBook(cmd.symbol, cmd.depth, seq, out); break;
      case 'instrument': this.onInstrument(cmd, seq, out); break;
      default: {
        const c = cmd as { op?: unknown; account?: unknown; clOrdId?: unknown; symbol?: unknown };
        this.reject(out, seq, c.account, c.clOrdId, c.symbol, 'invalid_order',
          `unknown op ${JSON.stringify(c.op)}`);
      }
    }
    return out;
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

  // --- commands ---

  private onInstrument(c: InstrumentCommand, seq: number, out: EngineEvent[]): void {
    if (isId(c.symbol) && this.books.has(c.symbol)) {
      this.reject(out, seq, '', '', c.symbol, 'invalid_order', `instrument ${c.symbol} already exists`);
      return;
    }
    const inst = Instrument.create(c);
    if (typeof inst === 'string') {
      this.reject(out, seq, '', '', c.symbol, 'invalid_order', inst);
      return;
    }
    this.addInstrument(inst);
    out.push({ type: 'instrument', seq, symbol: inst.symbol, status: inst.halted ? 'halted' : 'open' });
  }

  private addInstrument(inst: Instrument): Book {
    const book = new Book(inst, this.ladder(), this.finished);
    this.books.set(inst.symbol, book);
    return book;
  }

  private onNew(c: NewOrderCommand, seq: number, out: EngineEvent[]): void {
    const { account, clOrdId, symbol } = c;
    // Only valid ids are ever stored (instruments, accounts, live client ids;
    // restore checks a snapshot's), so a key found in its map needs no scan:
    // the common order scans one id, its new clOrdId, instead of three.
    const book = this.books.get(symbol);
    const known = this.accounts.peek(account);
    if (!isId(clOrdId) || (known === undefined && !isId(account)) || (book === undefined && !isId(symbol))) {
      return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', idsProblem(account, clOrdId, symbol) as string);
    }
    const side = sideOf(c.side);
    if (side === -1) return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', `side must be buy or sell, got ${JSON.stringify(c.side)}`);
    const ordType: OrdTypeName | undefined = c.type === 'limit' || c.type === 'market' ? c.type : undefined;
    if (ordType === undefined) return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', `type must be limit or market, got ${JSON.stringify(c.type)}`);
    const tif = c.tif == null ? (ordType === 'market' ? 'IOC' : 'GTC') : tifOf(c.tif);
    if (tif === null) return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', `tif must be GTC, IOC or FOK, got ${JSON.stringify(c.tif)}`);
    const stp = c.stp == null ? 'cancel_resting' : stpOf(c.stp);
    if (stp === null) return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', `stp must be cancel_resting, cancel_incoming or cancel_both, got ${JSON.stringify(c.stp)}`);
    if (c.postOnly != null && typeof c.postOnly !== 'boolean') return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', 'postOnly must be a boolean');
    const postOnly = c.postOnly === true;
    if (ordType === 'market') {
      if (c.price != null) return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', 'a market order takes no price');
      if (postOnly) return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', 'a market order cannot be post-only');
    } else {
      if (c.price == null) return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', 'a limit order needs a price');
      const r = parseDecimal(c.price, PRICE);
      if (r < 0) return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', decimalProblem(r, 'price', c.price));
      if (PRICE.m === 0) return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', `price must be positive, got ${c.price}`);
    }
    if (postOnly && tif !== 'GTC') return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', 'a post-only order must be GTC');
    const rq = parseDecimal(c.qty, QTY);
    if (rq < 0) return this.reject(out, seq, account, clOrdId, symbol, 'invalid_order', decimalProblem(rq, 'qty', c.qty));
    if (book === undefined) return this.reject(out, seq, account, clOrdId, symbol, 'unknown_symbol', `unknown symbol ${symbol}`);
    const inst = book.instrument;
    if (inst.halted) return this.reject(out, seq, account, clOrdId, symbol, 'halted', `${symbol} is halted`);
    // a new limit order's price is always checked against the band: no price is kept
    const bad = this.terms(inst, c.price, ordType === 'limit', NaN, c.qty, -1);
    if (bad !== null) return this.reject(out, seq, account, clOrdId, symbol, bad.reason, bad.text);
    const price = ordType === 'limit' ? this.termPrice : 0;
    const qty = this.termQty;
    const acct = known ?? this.accounts.get(account);
    if (acct.live.has(clOrdId)) return this.reject(out, seq, account, clOrdId, symbol, 'duplicate_clordid', `clOrdId ${clOrdId} is already live for ${account}`);
    if (postOnly && book.crosses(side, price)) return this.reject(out, seq, account, clOrdId, symbol, 'post_only_would_cross', 'post-only order would take liquidity');

    const order = new Order(seq, acct, clOrdId, book, side, ordType, tif, price, qty, postOnly, stp);
    out.push(acceptedEvent(order, seq));
    if (tif === 'FOK' && !book.canFill(order)) {
      out.push(cancelledEvent(order, seq, clOrdId, 'fok'));
      return;
    }
    this.execute(book, order, seq, out, false);
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
   * is left. Only a resting order is registered with its account (`registered`
   * says whether it already is, as a replaced order is).
   */
  private execute(book: Book, order: Order, seq: number, out: EngineEvent[], registered: boolean): void {
    const walk = book.match(order, seq, out);
    if (order.leavesQty === 0) {
      if (registered) this.accounts.remove(order);
      return;
    }
    if (walk === WALK_SELF || order.ordType === 'market' || order.tif !== 'GTC') {
      if (registered) this.accounts.remove(order);
      const reason = walk === WALK_SELF ? 'stp' : order.tif === 'FOK' ? 'fok' : order.ordType === 'market' ? 'no_liquidity' : 'ioc';
      out.push(cancelledEvent(order, seq, order.clOrdId, reason));
      return;
    }
    if (!registered) this.accounts.add(order);
    book.rest(order, seq, out);
  }

  private onCancel(c: CancelCommand, seq: number, out: EngineEvent[]): void {
    const order = this.findOwn(c);
    if (!requestOk(c, order !== undefined)) return this.reject(out, seq, c.account, c.clOrdId, c.symbol, 'invalid_order', requestProblem(c));
    if (order === undefined) return this.unknownOrder(c, seq, out);
    const book = order.book;
    book.take(order);
    this.accounts.remove(order);
    out.push(cancelledEvent(order, seq, c.clOrdId, 'user'));
    book.delta(order.side, order.price, seq, out);
  }

  /** The live order a cancel or replace names, if it is the account's (any field may still be malformed). */
  private findOwn(c: CancelCommand | ReplaceCommand): Order | undefined {
    const order = this.accounts.find(c.account, c.origClOrdId, c.orderId);
    return order === undefined || (c.symbol != null && c.symbol !== order.instrument.symbol) ? undefined : order;
  }

  private unknownOrder(c: CancelCommand | ReplaceCommand, seq: number, out: EngineEvent[]): void {
    const what = c.origClOrdId != null ? `origClOrdId ${c.origClOrdId}` : `orderId ${c.orderId}`;
    this.cancelReject(out, seq, c, undefined, 'unknown_order', `no live order with ${what} for ${c.account}`);
  }

  private onReplace(c: ReplaceCommand, seq: number, out: EngineEvent[]): void {
    const found = this.findOwn(c);
    if (!requestOk(c, found !== undefined)) return this.reject(out, seq, c.account, c.clOrdId, c.symbol, 'invalid_order', requestProblem(c));
    // malformed new terms are invalid_order whether or not the order exists
    if (c.price != null) {
      const r = parseDecimal(c.price, PRICE);
      if (r < 0) return this.cancelReject(out, seq, c, found, 'invalid_order', decimalProblem(r, 'price', c.price));
      if (PRICE.m === 0) return this.cancelReject(out, seq, c, found, 'invalid_order', `price must be positive, got ${c.price}`);
    }
    const rq = parseDecimal(c.qty, QTY);
    if (rq < 0) return this.cancelReject(out, seq, c, found, 'invalid_order', decimalProblem(rq, 'qty', c.qty));
    if (found === undefined) return this.unknownOrder(c, seq, out);
    const order = found;
    const book = order.book;
    const inst = book.instrument;
    if (inst.halted) return this.cancelReject(out, seq, c, order, 'halted', `${inst.symbol} is halted`);
    // the band applies to a new price only: a resting order keeps its price through a band move
    const bad = this.terms(inst, c.price, c.price != null, order.price, c.qty, order.cumQty);
    if (bad !== null) return this.cancelReject(out, seq, c, order, bad.reason, bad.text);
    const price = this.termPrice;
    const qty = this.termQty;
    if (c.clOrdId !== order.clOrdId && order.acct.live.has(c.clOrdId)) return this.cancelReject(out, seq, c, order, 'duplicate_clordid', `clOrdId ${c.clOrdId} is already live for ${order.account}`);
    if (order.postOnly && price !== order.price && book.crosses(order.side, price)) return this.cancelReject(out, seq, c, order, 'post_only_would_cross', 'post-only order would take liquidity');

    const origClOrdId = order.clOrdId;
    const leaves = qty - order.cumQty;
    this.accounts.rename(order, c.clOrdId);
    if (price === order.price && leaves <= order.leavesQty) {
      // same price, not more: the order keeps its place in the queue
      if (leaves < order.leavesQty) book.reduce(order, leaves);
      out.push(replacedEvent(order, seq, origClOrdId));
      book.delta(order.side, price, seq, out);
      return;
    }
    const oldPrice = order.price;
    book.take(order);
    order.price = price;
    order.leavesQty = leaves;
    out.push(replacedEvent(order, seq, origClOrdId));
    if (price !== oldPrice) book.delta(order.side, oldPrice, seq, out);
    this.execute(book, order, seq, out, true);
  }

  private onMassCancel(c: MassCancelCommand, seq: number, out: EngineEvent[]): void {
    const bad = idProblem(c.account, 'account') ?? symbolProblem(c.symbol) ?? (c.clOrdId == null ? null : idProblem(c.clOrdId, 'clOrdId'));
    if (bad !== null) return this.reject(out, seq, c.account, c.clOrdId, c.symbol, 'invalid_order', bad);
    const symbol = c.symbol ?? undefined;
    const orders = this.accounts.ordersOf(c.account, symbol);
    for (const order of orders) {
      const book = order.book;
      book.take(order);
      this.accounts.remove(order);
      out.push(cancelledEvent(order, seq, order.clOrdId, 'mass'));
      book.delta(order.side, order.price, seq, out);
    }
    out.push({ type: 'massCancelled', seq, account: c.account, clOrdId: c.clOrdId ?? '', symbol: symbol ?? '', count: orders.length });
  }

  private onStatus(symbol: unknown, halt: boolean, seq: number, out: EngineEvent[]): void {
    const bad = idProblem(symbol, 'symbol');
    if (bad !== null) return this.reject(out, seq, '', '', symbol, 'invalid_order', bad);
    const inst = this.books.get(symbol as string)?.instrument;
    if (inst === undefined) return this.reject(out, seq, '', '', symbol, 'unknown_symbol', `unknown symbol ${symbol as string}`);
    inst.halted = halt;
    out.push({ type: 'status', seq, symbol: inst.symbol, status: halt ? 'halted' : 'open' });
  }

  private onBook(symbol: unknown, depth: unknown, seq: number, out: EngineEvent[]): void {
    const bad = idProblem(symbol, 'symbol');
    if (bad !== null) return this.reject(out, seq, '', '', symbol, 'invalid_order', bad);
    const d = depth == null ? DEFAULT_DEPTH : isInteger(depth) && depth > 0 ? Math.min(depth, MAX_DEPTH) : -1;
    if (d < 0) return this.reject(out, seq, '', '', symbol, 'invalid_order', `depth must be a positive integer up to 2^52 (at most ${MAX_DEPTH} levels are shown)`);
    const book = this.books.get(symbol as string);
    if (book === undefined) return this.reject(out, seq, '', '', symbol, 'unknown_symbol', `unknown symbol ${symbol as string}`);
    out.push({ type: 'book', seq, symbol: book.instrument.symbol, bids: book.levels(BUY, d), asks: book.levels(SELL, d) });
  }

  /** Echoes only ids within the rules: a rejection never carries a hostile string further. */
  private reject(out: EngineEvent[], seq: number, account: unknown, clOrdId: unknown, symbol: unknown, reason: RejectReason, text: string): void {
    out.push({
      type: 'rejected', seq, account: isId(account) ? account : '', clOrdId: isId(clOrdId) ? clOrdId : '',
      symbol: isId(symbol) ? symbol : '', reason, text,
    });
  }

  private cancelReject(out: EngineEvent[], seq: number, c: CancelCommand | ReplaceCommand, order: Order | undefined, reason: CancelRejectReason, text: string): void {
    out.push({
      type: 'cancelRejected', seq, account: c.account, clOrdId: c.clOrdId,
      origClOrdId: typeof c.origClOrdId === 'string' ? c.origClOrdId : order?.clOrdId ?? '',
      orderId: order?.orderId ?? (typeof c.orderId === 'number' ? c.orderId : 0),
      symbol: order?.instrument.symbol ?? (typeof c.symbol === 'string' ? c.symbol : ''),
      reason, text,
    });
  }

  // --- state ---

  /** A stable hash of the whole state: instruments, then every resting order in priority order. */
  stateHash(): string {
    const h = new Hasher();
    for (const symbol of this.symbols()) {
      const book = this.books.get(symbol) as Book;
      const inst = book.instrument;
      h.str(symbol).str(inst.tick.text).str(inst.lot.text).num(inst.minQty).num(inst.maxQty)
        .num(inst.bandNum).num(inst.bandDen).num(inst.referencePrice).num(inst.lastPrice).num(inst.halted ? 1 : 0);
      for (const side of [BUY, SELL] as const) {
        const orders = book.orders(side);
        h.num(orders.length);
        for (const o of orders) {
          // flags carry side, type, tif, post-only and STP; qty is cumQty + leavesQty
          h.num(o.orderId).word(o.acct.nameHash).str(o.clOrdId).word(o.flags).num(o.price)
            .num(o.leavesQty).num(o.cumQty).int(o.cumNotional);
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
    for (const s of snap.orders) {
      const book = e.books.get(s.symbol);
      if (book === undefined) throw new Error(`snapshot order ${s.orderId}: unknown symbol ${s.symbol}`);
      // the engine relies on every stored id being valid (see onNew)
      if (!isId(s.account) || !isId(s.clOrdId)) throw new Error(`snapshot order ${s.orderId}: account and clOrdId must be ${ID_RULE}`);
      const o = new Order(s.orderId, e.accounts.get(s.account), s.clOrdId, book,
        s.side === 'buy' ? BUY : SELL, s.ordType, s.tif, s.price, s.qty, s.postOnly, s.stp);
      if (s.qty !== s.cumQty + s.leavesQty) throw new Error(`snapshot order ${s.orderId}: qty ${s.qty} != cumQty ${s.cumQty} + leavesQty ${s.leavesQty}`);
      o.leavesQty = s.leavesQty;
      o.cumQty = s.cumQty;
      const notional = notionalFrom(s.cumNotional);
      if (notional === null) throw new Error(`snapshot order ${s.orderId}: cumNotional ${String(s.cumNotional)} is not a non-negative integer`);
      o.cumNotional = notional;
      e.accounts.add(o);
      book.rest(o, 0, []);
    }
    return e;
  }
}
