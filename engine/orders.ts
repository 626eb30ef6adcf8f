// Every live order of the engine, by handle, in slabs of typed arrays: no
// object per order. A handle is a slot index, handed out from a free list and
// reused once the order has left (filled, cancelled, or never rested). The
// handle is also the order's handle in the engine's one ladder (native/ladder.ts:
// the caller picks it), so no map between two handle spaces is kept. A million
// orders may rest at once, so a slot is kept small: five doubles, five int32s
// and a reference to the client order id (see engine/README.md for the bytes).
//
// flags: bit 0 market; bits 1-2 tif; bit 3 post-only; bits 4-5 stp; bit 6
// sell (the state hash mixes exactly these seven bits, so their layout is
// fixed); bit 7 resting (F_RESTING: in the ladder now; not hashed); the book
// index from bit 8.

import type { OrdTypeName, StpName, TifName } from './commands.js';
import type { Side } from '../native/ladder.js';
import { addFill, type Notional } from './notional.js';

export const F_MARKET = 1;
export const F_POST_ONLY = 8;
export const F_SELL = 64;
/** The order rests in the ladder (under its own handle). Engine state, not part of flagsOf(). */
export const F_RESTING = 128;
/** tif and stp codes, in the order of the flag bits. */
export const TIF_GTC = 0;
export const TIF_IOC = 1;
export const TIF_FOK = 2;
export const STP_CANCEL_RESTING = 0;
export const STP_CANCEL_INCOMING = 1;
export const STP_CANCEL_BOTH = 2;

const ORD_TYPES: readonly OrdTypeName[] = ['limit', 'market'];
const TIFS: readonly TifName[] = ['GTC', 'IOC', 'FOK'];
const STPS: readonly StpName[] = ['cancel_resting', 'cancel_incoming', 'cancel_both'];

/** The flags word of an order (bit 6 `side`; tif and stp by their codes). */
export function flagsOf(side: Side, market: boolean, tif: number, postOnly: boolean, stp: number): number {
  return (market ? F_MARKET : 0) | (tif << 1) | (postOnly ? F_POST_ONLY : 0) | (stp << 4) | (side << 6);
}

/** The flags word from the names an order carries in a snapshot (-1 for a name that is none of them). */
export function flagsOfNames(side: Side, ordType: OrdTypeName, tif: TifName, postOnly: boolean, stp: StpName): number {
  const t = TIFS.indexOf(tif);
  const s = STPS.indexOf(stp);
  return t < 0 || s < 0 || ORD_TYPES.indexOf(ordType) < 0 ? -1 : flagsOf(side, ordType === 'market', t, postOnly, s);
}

export function tifCode(flags: number): number {
  return (flags >> 1) & 3;
}

export function stpCode(flags: number): number {
  return (flags >> 4) & 3;
}

export function ordTypeName(flags: number): OrdTypeName {
  return ORD_TYPES[flags & F_MARKET];
}

export function tifName(flags: number): TifName {
  return TIFS[tifCode(flags)];
}

export function stpName(flags: number): StpName {
  return STPS[stpCode(flags)];
}

export function isPostOnly(flags: number): boolean {
  return (flags & F_POST_ONLY) !== 0;
}

const NIL = -1;

export class Orders {
  private cap = 0;
  /** Slots below top have been handed out at least once. */
  private top = 0;
  /** Head of the free slots, chained through `next`. */
  private freeHead = NIL;
  /** Orders holding a slot. */
  count = 0;

  orderId = new Float64Array(0);
  /** Limit price in ticks (0 for a market order). */
  price = new Float64Array(0);
  leaves = new Float64Array(0);
  cum = new Float64Array(0);
  /** Exact notional of the fills while <= 2^53-1; NaN: it is a bigint, in `big`. */
  notional = new Float64Array(0);
  /** Interned account (accounts.ts): also the ladder's owner number. */
  account = new Int32Array(0);
  /** The flags above in bits 0-6, F_RESTING in bit 7; the index of the order's book in the engine from bit 8 (bookOf). */
  flags = new Int32Array(0);
  /** The account's live orders, a doubly linked list (accounts.ts). */
  next = new Int32Array(0);
  prev = new Int32Array(0);
  /** The (account, clOrdId) hash the client-id table filed the order under (client-ids.ts). */
  idKey = new Int32Array(0);
  clOrdId: string[] = [];
  private readonly big = new Map<number, bigint>();

  constructor(initial = 1024) {
    this.grow(initial);
  }

  private grow(cap: number): void {
    const f64 = (a: Float64Array) => { const b = new Float64Array(cap); b.set(a); return b; };
    const i32 = (a: Int32Array) => { const b = new Int32Array(cap); b.set(a); return b; };
    this.orderId = f64(this.orderId);
    this.price = f64(this.price);
    this.leaves = f64(this.leaves);
    this.cum = f64(this.cum);
    this.notional = f64(this.notional);
    this.account = i32(this.account);
    this.flags = i32(this.flags);
    this.next = i32(this.next);
    this.prev = i32(this.prev);
    this.idKey = i32(this.idKey);
    for (let i = this.cap; i < cap; i++) this.clOrdId.push('');
    this.cap = cap;
  }

  /** A fresh slot for a new order (nothing filled yet, not resting). */
  alloc(orderId: number, account: number, clOrdId: string, book: number, flags: number, price: number, qty: number): number {
    let h: number;
    if (this.freeHead !== NIL) {
      h = this.freeHead;
      this.freeHead = this.next[h];
    } else {
      if (this.top === this.cap) this.grow(this.cap * 2);
      h = this.top++;
    }
    this.count++;
    this.orderId[h] = orderId;
    this.account[h] = account;
    this.clOrdId[h] = clOrdId;
    this.flags[h] = flags | (book << 8);
    this.price[h] = price;
    this.leaves[h] = qty;
    this.cum[h] = 0;
    this.notional[h] = 0;
    this.next[h] = NIL;
    this.prev[h] = NIL;
    return h;
  }

  /** Gives the slot back; the order's values stay readable until the slot is handed out again. */
  free(h: number): void {
    if (this.notional[h] !== this.notional[h]) this.big.delete(h);
    this.count--;
    this.next[h] = this.freeHead;
    this.freeHead = h;
  }

  /** The order's flags word (what the state hash mixes): bits 0-6, without F_RESTING. */
  flagsOf(h: number): number {
    return this.flags[h] & 0x7f;
  }

  resting(h: number): boolean {
    return (this.flags[h] & F_RESTING) !== 0;
  }

  bookOf(h: number): number {
    return this.flags[h] >> 8;
  }

  side(h: number): Side {
    return ((this.flags[h] >> 6) & 1) as Side;
  }

  qty(h: number): number {
    return this.cum[h] + this.leaves[h];
  }

  notionalOf(h: number): Notional {
    const v = this.notional[h];
    return v === v ? v : (this.big.get(h) as bigint);
  }

  setNotional(h: number, v: Notional): void {
    if (typeof v === 'number') {
      if (this.notional[h] !== this.notional[h]) this.big.delete(h);
      this.notional[h] = v;
    } else {
      this.notional[h] = NaN;
      this.big.set(h, v);
    }
  }

  /** Books one fill of `qty` at `price` into the order's cumQty and notional (leaves are the caller's). */
  fill(h: number, price: number, qty: number): void {
    this.cum[h] += qty;
    this.setNotional(h, addFill(this.notionalOf(h), price, qty));
  }
}
