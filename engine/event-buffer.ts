// The engine's events without objects: one reused buffer, a row per event, that
// apply() writes and the caller reads through the cursor before the next
// apply(). Numbers go into one Float64Array (a fixed stride per row), strings
// into one array of references (ids the command brought or the engine holds:
// storing a reference allocates nothing), and the rare payloads that are
// neither (a book's levels, a notional past 2^53-1) into a third array. A
// resting order's clOrdId is kept inline in the order slab (inline-ids.ts),
// not as a string: such an id is copied into the row as its words and made a
// string only if a reader asks for it. Plain event objects are made only at
// the edges that want them (toObject).
//
// Rows share slots by meaning; which slots an event uses is listed per type in
// engine/README.md ("Reading events"). A trade uses the order slots for its
// maker and the T_* slots for its taker.

import type { OrdTypeName, StpName, TifName } from './commands.js';
import type {
  CancelReason, CancelRejectReason, EngineEvent, LevelView, OrderView, RejectReason,
} from './events.js';
import type { Side } from '../native/ladder.js';
import type { Notional } from './notional.js';
import { isPostOnly, ordTypeName, stpName, tifName } from './orders.js';
import { ID_WORDS, inlineString } from './inline-ids.js';

/** Event type codes (`cursor.type`). */
export const EV_ACCEPTED = 1;
export const EV_REJECTED = 2;
export const EV_CANCELLED = 3;
export const EV_REPLACED = 4;
export const EV_CANCEL_REJECTED = 5;
export const EV_TRADE = 6;
export const EV_BOOK_DELTA = 7;
export const EV_BOOK = 8;
export const EV_MASS_CANCELLED = 9;
export const EV_INSTRUMENT = 10;
export const EV_STATUS = 11;

// numeric slots
const N_TYPE = 0;
const N_SEQ = 1;
const N_ORDER_ID = 2; // orderId; a trade's maker order id
const N_SIDE = 3; // side; a trade's aggressor
const N_FLAGS = 4; // the order's flags (see orders.ts): type, tif, post-only, stp
const N_PRICE = 5;
const N_QTY = 6;
const N_LEAVES = 7; // leavesQty; a trade's maker leaves
const N_CUM = 8; // cumQty; a trade's maker cumQty
const N_NOTIONAL = 9; // cumNotional (NaN: a bigint in the payload slot); a trade's maker's
const N_EXTRA = 10; // cancelledQty, a trade's number within its command, a level's order count, a mass cancel's count
const N_CODE = 11; // a reason or a status, as an index into the tables below
const N_T_ORDER_ID = 12;
const N_T_LEAVES = 13;
const N_T_CUM = 14;
const N_T_NOTIONAL = 15;
const NUM_STRIDE = 16;

// string slots
const S_ACCOUNT = 0; // account; a trade's maker account
const S_CLORDID = 1; // clOrdId; a trade's maker clOrdId
const S_SYMBOL = 2;
const S_ORIG = 3; // origClOrdId; a trade's taker clOrdId
const S_TEXT = 4; // a rejection's text; a trade's taker account
const STR_STRIDE = 5;

// id slots: a row's clOrdId (S_CLORDID) and origClOrdId (S_ORIG) as inline
// words when they came from the order slab (their string slot is then null)
export const ID_CLORDID = 0;
export const ID_ORIG = 1;
const ID_STRIDE = 2 * ID_WORDS;

/** Where an order's clOrdId comes from when it is not a string at hand: the order slab (orders.ts). */
export interface IdSlab {
  /** Copies order h's inline id words to dst[at..] and returns null, or returns its (long) id string. */
  copyClOrdId(h: number, dst: Int32Array, at: number): string | null;
}

// payload slots: [0] levels or the (maker's) bigint notional, [1] asks or the taker's bigint notional
const P_STRIDE = 2;

const CANCEL_REASONS: CancelReason[] = ['user', 'ioc', 'fok', 'no_liquidity', 'stp', 'mass'];
const REJECT_REASONS: CancelRejectReason[] = [
  'unknown_symbol', 'halted', 'off_tick', 'off_lot', 'qty_out_of_range', 'price_out_of_band',
  'duplicate_clordid', 'post_only_would_cross', 'invalid_order', 'unknown_order',
];

export const CANCEL_USER = 0;
export const CANCEL_IOC = 1;
export const CANCEL_FOK = 2;
export const CANCEL_NO_LIQUIDITY = 3;
export const CANCEL_STP = 4;
export const CANCEL_MASS = 5;

/** The code of a reject or cancel-reject reason. */
export function rejectCode(r: CancelRejectReason): number {
  return REJECT_REASONS.indexOf(r);
}

/**
 * The events of the last apply(): `length` rows, read through `at(i)` and the
 * getters (no allocation), or as plain objects through `toObject()`. Valid
 * until the engine applies its next command.
 */
export class EventBuffer {
  /** Rows written by the last apply(). */
  length = 0;
  private cap = 64;
  private num = new Float64Array(64 * NUM_STRIDE);
  private str: (string | null)[] = new Array<string | null>(64 * STR_STRIDE).fill('');
  private ids = new Int32Array(64 * ID_STRIDE);
  private pay: unknown[] = new Array<unknown>(64 * P_STRIDE).fill(undefined);
  /** The row the getters read (at()). */
  private n = 0;
  private s = 0;
  private p = 0;
  private i = 0;

  /** `slab`: the orders whose ids slabClOrdId() copies (none: events hold strings only). */
  constructor(private readonly slab: IdSlab | null = null) {}

  // --- writing (the engine's) ---

  /** Starts a command's events. */
  clear(): void {
    this.length = 0;
  }

  /** Opens the next row of `type` and returns its numeric base; strings and payloads go to this.s/this.p. */
  private row(type: number, seq: number): number {
    if (this.length === this.cap) this.grow();
    const i = this.length++;
    const n = i * NUM_STRIDE;
    this.num[n + N_TYPE] = type;
    this.num[n + N_SEQ] = seq;
    this.s = i * STR_STRIDE;
    this.p = i * P_STRIDE;
    this.i = i * ID_STRIDE;
    return n;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const num = new Float64Array(cap * NUM_STRIDE);
    num.set(this.num);
    this.num = num;
    for (let i = this.cap * STR_STRIDE; i < cap * STR_STRIDE; i++) this.str.push('');
    for (let i = this.cap * P_STRIDE; i < cap * P_STRIDE; i++) this.pay.push(undefined);
    const ids = new Int32Array(cap * ID_STRIDE);
    ids.set(this.ids);
    this.ids = ids;
    this.cap = cap;
  }

  private notional(slot: number, p: number, v: Notional): void {
    if (typeof v === 'number') {
      this.num[slot] = v;
    } else {
      this.num[slot] = NaN;
      this.pay[p] = v;
    }
  }

  /**
   * An order event (accepted, cancelled, replaced): the order's state as every
   * order event reports it. `extra`: cancelledQty; `code`: a cancel reason.
   */
  order(type: number, seq: number, orderId: number, account: string, clOrdId: string, symbol: string, side: number, flags: number,
    price: number, qty: number, leaves: number, cum: number, notional: Notional, orig: string, extra: number, code: number): void {
    const n = this.row(type, seq);
    const num = this.num;
    num[n + N_ORDER_ID] = orderId;
    num[n + N_SIDE] = side;
    num[n + N_FLAGS] = flags;
    num[n + N_PRICE] = price;
    num[n + N_QTY] = qty;
    num[n + N_LEAVES] = leaves;
    num[n + N_CUM] = cum;
    this.notional(n + N_NOTIONAL, this.p, notional);
    num[n + N_EXTRA] = extra;
    num[n + N_CODE] = code;
    const s = this.s;
    const str = this.str;
    str[s + S_ACCOUNT] = account;
    str[s + S_CLORDID] = clOrdId;
    str[s + S_SYMBOL] = symbol;
    str[s + S_ORIG] = orig;
  }

  trade(seq: number, tradeNo: number, symbol: string, price: number, qty: number, aggressor: number,
    mOrderId: number, mAccount: string, mClOrdId: string, mLeaves: number, mCum: number, mNotional: Notional,
    tOrderId: number, tAccount: string, tClOrdId: string, tLeaves: number, tCum: number, tNotional: Notional): void {
    const n = this.row(EV_TRADE, seq);
    const num = this.num;
    num[n + N_EXTRA] = tradeNo;
    num[n + N_PRICE] = price;
    num[n + N_QTY] = qty;
    num[n + N_SIDE] = aggressor;
    num[n + N_ORDER_ID] = mOrderId;
    num[n + N_LEAVES] = mLeaves;
    num[n + N_CUM] = mCum;
    this.notional(n + N_NOTIONAL, this.p, mNotional);
    num[n + N_T_ORDER_ID] = tOrderId;
    num[n + N_T_LEAVES] = tLeaves;
    num[n + N_T_CUM] = tCum;
    this.notional(n + N_T_NOTIONAL, this.p + 1, tNotional);
    const s = this.s;
    const str = this.str;
    str[s + S_SYMBOL] = symbol;
    str[s + S_ACCOUNT] = mAccount;
    str[s + S_CLORDID] = mClOrdId;
    str[s + S_TEXT] = tAccount;
    str[s + S_ORIG] = tClOrdId;
  }

  /**
   * Sets the last row's clOrdId (ID_CLORDID) or origClOrdId (ID_ORIG) to order
   * h's, copied from the slab: nothing is allocated, the string is built only
   * if a reader asks (the getters).
   */
  slabClOrdId(which: number, h: number): void {
    const at = this.i + which * ID_WORDS;
    this.str[this.s + (which === ID_CLORDID ? S_CLORDID : S_ORIG)] = (this.slab as IdSlab).copyClOrdId(h, this.ids, at);
  }

  bookDelta(seq: number, symbol: string, side: number, price: number, qty: number, orders: number): void {
    const n = this.row(EV_BOOK_DELTA, seq);
    const num = this.num;
    num[n + N_SIDE] = side;
    num[n + N_PRICE] = price;
    num[n + N_QTY] = qty;
    num[n + N_EXTRA] = orders;
    this.str[this.s + S_SYMBOL] = symbol;
  }

  rejected(seq: number, account: string, clOrdId: string, symbol: string, reason: RejectReason, text: string): void {
    const n = this.row(EV_REJECTED, seq);
    this.num[n + N_CODE] = rejectCode(reason);
    const s = this.s;
    this.str[s + S_ACCOUNT] = account;
    this.str[s + S_CLORDID] = clOrdId;
    this.str[s + S_SYMBOL] = symbol;
    this.str[s + S_TEXT] = text;
  }

  cancelRejected(seq: number, account: string, clOrdId: string, origClOrdId: string, orderId: number, symbol: string,
    reason: CancelRejectReason, text: string): void {
    const n = this.row(EV_CANCEL_REJECTED, seq);
    this.num[n + N_ORDER_ID] = orderId;
    this.num[n + N_CODE] = rejectCode(reason);
    const s = this.s;
    this.str[s + S_ACCOUNT] = account;
    this.str[s + S_CLORDID] = clOrdId;
    this.str[s + S_ORIG] = origClOrdId;
    this.str[s + S_SYMBOL] = symbol;
    this.str[s + S_TEXT] = text;
  }

  massCancelled(seq: number, account: string, clOrdId: string, symbol: string, count: number): void {
    const n = this.row(EV_MASS_CANCELLED, seq);
    this.num[n + N_EXTRA] = count;
    const s = this.s;
    this.str[s + S_ACCOUNT] = account;
    this.str[s + S_CLORDID] = clOrdId;
    this.str[s + S_SYMBOL] = symbol;
  }

  /** EV_INSTRUMENT or EV_STATUS. */
  status(type: number, seq: number, symbol: string, halted: boolean): void {
    const n = this.row(type, seq);
    this.num[n + N_CODE] = halted ? 1 : 0;
    this.str[this.s + S_SYMBOL] = symbol;
  }

  book(seq: number, symbol: string, bids: LevelView[], asks: LevelView[]): void {
    this.row(EV_BOOK, seq);
    this.str[this.s + S_SYMBOL] = symbol;
    this.pay[this.p] = bids;
    this.pay[this.p + 1] = asks;
  }

  // --- the cursor (anyone's) ---

  /** Points the getters at row `i` (0 <= i < length); returns this. */
  at(i: number): this {
    this.n = i * NUM_STRIDE;
    this.s = i * STR_STRIDE;
    this.p = i * P_STRIDE;
    this.i = i * ID_STRIDE;
    return this;
  }

  /** EV_* */
  get type(): number { return this.num[this.n + N_TYPE]; }
  get seq(): number { return this.num[this.n + N_SEQ]; }
  /** Order events, cancel rejects; a trade's maker order. */
  get orderId(): number { return this.num[this.n + N_ORDER_ID]; }
  /** Order events, book deltas; a trade's aggressor. */
  get side(): Side { return this.num[this.n + N_SIDE] as Side; }
  /** Ticks: order events (0 for a market order), trades, book deltas. */
  get price(): number { return this.num[this.n + N_PRICE]; }
  /** Lots: an order's total quantity, a trade's quantity, a level's new aggregate quantity. */
  get qty(): number { return this.num[this.n + N_QTY]; }
  /** Order events; a trade's maker. */
  get leavesQty(): number { return this.num[this.n + N_LEAVES]; }
  get cumQty(): number { return this.num[this.n + N_CUM]; }
  get cumNotional(): Notional { return this.notionalAt(this.n + N_NOTIONAL, this.p); }
  get ordType(): OrdTypeName { return ordTypeName(this.num[this.n + N_FLAGS]); }
  get tif(): TifName { return tifName(this.num[this.n + N_FLAGS]); }
  get postOnly(): boolean { return isPostOnly(this.num[this.n + N_FLAGS]); }
  get stp(): StpName { return stpName(this.num[this.n + N_FLAGS]); }
  /** A cancel's cancelled quantity. */
  get cancelledQty(): number { return this.num[this.n + N_EXTRA]; }
  /** A book delta's order count at the level. */
  get orders(): number { return this.num[this.n + N_EXTRA]; }
  /** A mass cancel's count. */
  get count(): number { return this.num[this.n + N_EXTRA]; }
  /** A trade's number within its command: the trade id is `${seq}.${tradeNo}`. */
  get tradeNo(): number { return this.num[this.n + N_EXTRA]; }
  get cancelReason(): CancelReason { return CANCEL_REASONS[this.num[this.n + N_CODE]]; }
  get rejectReason(): CancelRejectReason { return REJECT_REASONS[this.num[this.n + N_CODE]]; }
  /** Instrument and status events. */
  get halted(): boolean { return this.num[this.n + N_CODE] === 1; }
  get account(): string { return this.str[this.s + S_ACCOUNT] as string; }
  /** Built from the slab's words when the engine copied it from there (allocates: read it only if needed). */
  get clOrdId(): string { return this.id(S_CLORDID, ID_CLORDID); }
  get symbol(): string { return this.str[this.s + S_SYMBOL] as string; }
  get origClOrdId(): string { return this.id(S_ORIG, ID_ORIG); }
  get text(): string { return this.str[this.s + S_TEXT] as string; }
  get takerOrderId(): number { return this.num[this.n + N_T_ORDER_ID]; }
  get takerAccount(): string { return this.str[this.s + S_TEXT] as string; }
  get takerClOrdId(): string { return this.id(S_ORIG, ID_ORIG); }

  private id(slot: number, which: number): string {
    const v = this.str[this.s + slot];
    return v !== null ? v : inlineString(this.ids, this.i + which * ID_WORDS);
  }
  get takerLeavesQty(): number { return this.num[this.n + N_T_LEAVES]; }
  get takerCumQty(): number { return this.num[this.n + N_T_CUM]; }
  get takerCumNotional(): Notional { return this.notionalAt(this.n + N_T_NOTIONAL, this.p + 1); }

  private notionalAt(slot: number, p: number): Notional {
    const v = this.num[slot];
    return v === v ? v : (this.pay[p] as bigint);
  }

  /** The event at the cursor as a plain object, exactly as the engine's events have always been shaped. */
  toObject(): EngineEvent {
    const seq = this.seq;
    switch (this.type) {
      case EV_ACCEPTED:
        return { ...this.orderView('accepted'), postOnly: this.postOnly, stp: this.stp };
      case EV_CANCELLED:
        return { ...this.orderView('cancelled'), cancelledQty: this.cancelledQty, origClOrdId: this.origClOrdId, reason: this.cancelReason };
      case EV_REPLACED:
        return { ...this.orderView('replaced'), origClOrdId: this.origClOrdId };
      case EV_TRADE:
        return {
          type: 'trade', seq, tradeId: `${seq}.${this.tradeNo}`, symbol: this.symbol, price: this.price, qty: this.qty,
          aggressor: this.side,
          makerOrderId: this.orderId, makerAccount: this.account, makerClOrdId: this.clOrdId,
          makerLeavesQty: this.leavesQty, makerCumQty: this.cumQty, makerCumNotional: this.cumNotional,
          takerOrderId: this.takerOrderId, takerAccount: this.takerAccount, takerClOrdId: this.takerClOrdId,
          takerLeavesQty: this.takerLeavesQty, takerCumQty: this.takerCumQty, takerCumNotional: this.takerCumNotional,
        };
      case EV_BOOK_DELTA:
        return { type: 'bookDelta', seq, symbol: this.symbol, side: this.side, price: this.price, qty: this.qty, orders: this.orders };
      case EV_REJECTED:
        return {
          type: 'rejected', seq, account: this.account, clOrdId: this.clOrdId, symbol: this.symbol,
          reason: this.rejectReason as RejectReason, text: this.text,
        };
      case EV_CANCEL_REJECTED:
        return {
          type: 'cancelRejected', seq, account: this.account, clOrdId: this.clOrdId, origClOrdId: this.origClOrdId,
          orderId: this.orderId, symbol: this.symbol, reason: this.rejectReason, text: this.text,
        };
      case EV_MASS_CANCELLED:
        return { type: 'massCancelled', seq, account: this.account, clOrdId: this.clOrdId, symbol: this.symbol, count: this.count };
      case EV_INSTRUMENT:
        return { type: 'instrument', seq, symbol: this.symbol, status: this.halted ? 'halted' : 'open' };
      case EV_STATUS:
        return { type: 'status', seq, symbol: this.symbol, status: this.halted ? 'halted' : 'open' };
      case EV_BOOK:
        return { type: 'book', seq, symbol: this.symbol, bids: this.pay[this.p] as LevelView[], asks: this.pay[this.p + 1] as LevelView[] };
      default:
        throw new Error(`event buffer: no event of type ${this.type} at this row`);
    }
  }

  /** The fields every order event starts with, in their order. */
  private orderView<T extends string>(type: T): OrderView & { type: T } {
    return {
      type, seq: this.seq, orderId: this.orderId, account: this.account, clOrdId: this.clOrdId,
      symbol: this.symbol, side: this.side, ordType: this.ordType, tif: this.tif, price: this.price,
      qty: this.qty, leavesQty: this.leavesQty, cumQty: this.cumQty, cumNotional: this.cumNotional,
    };
  }

  /** Appends every event of the last apply() to `out` as plain objects. */
  appendTo(out: EngineEvent[]): void {
    for (let i = 0; i < this.length; i++) out.push(this.at(i).toObject());
  }
}
