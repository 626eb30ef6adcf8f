// Every live order of the engine, by handle, in slabs of typed arrays: no
// object per order. A handle is a slot index, handed out from a free list and
// reused once the order has left (filled, cancelled, or never rested). The
// handle is also the order's handle in the engine's one ladder (native/ladder.ts:
// the caller picks it), so no map between two handle spaces is kept. A
// million orders may rest at once, so a slot is kept small: three doubles,
// three int32s and a five-word key (the account, then the client order id
// inline: inline-ids.ts); what an order has filled lives in a side table
// (fills.ts), since most resting orders never trade (see engine/README.md
// for the bytes).
//
// flags: bit 0 market; bits 1-2 tif; bit 3 post-only; bits 4-5 stp; bit 6
// sell (the state hash mixes exactly these seven bits, so their layout is
// fixed); bit 7 resting (F_RESTING: in the ladder now; not hashed); bit 8
// filled (the order has a row in Fills; not hashed); the book's index from bit 9.

import type { OrdTypeName, StpName, TifName } from './commands.js';
import type { Side } from '../native/ladder.js';
import { Fills } from './fills.js';
import { grown } from './typed-arrays.js';
import type { Hasher } from './hash.js';
import {
  ID_WORDS, INLINE_ID_CHARS, hashInline, inlineEquals, inlineHash, inlineString, isInline, packId,
} from './inline-ids.js';
import type { Notional } from './notional.js';
import { idHashOf } from './client-ids.js';

export const F_MARKET = 1;
export const F_POST_ONLY = 8;
export const F_SELL = 64;
/** The order rests in the ladder (under its own handle). Engine state, not part of flagsOf(). */
export const F_RESTING = 128;
/** The order has filled something: it has a row in Fills. */
const F_FILLED = 256;
const BOOK_SHIFT = 9;
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
/** Words per order in Orders.ids: the account, then the clOrdId. */
const KEY_STRIDE = 1 + ID_WORDS;

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
  /** The flags above in bits 0-6, F_RESTING in bit 7, F_FILLED in bit 8; the index of the order's book in the engine from bit 9 (bookOf). */
  flags = new Int32Array(0);
  /** The account's live orders, a doubly linked list (accounts.ts). */
  next = new Int32Array(0);
  prev = new Int32Array(0);
  /**
   * Each order's key, KEY_STRIDE words from h * KEY_STRIDE: its interned account
   * (accounts.ts; also the ladder's owner number), then its clOrdId in ID_WORDS
   * words (inline-ids.ts; the first 0 for a long one). Side by side because the
   * client-id table hashes and compares exactly these: one cache line, not two.
   */
  private ids = new Int32Array(0);
  /** The clOrdIds longer than INLINE_ID_CHARS, by handle (rare: they cost a map entry). */
  private readonly longIds = new Map<number, string>();
  /** cumQty and notional of the orders with F_FILLED. */
  private readonly fills = new Fills();

  constructor(initial = 1024) {
    this.grow(initial);
  }

  private grow(cap: number): void {
    this.orderId = grown(this.orderId, cap);
    this.price = grown(this.price, cap);
    this.leaves = grown(this.leaves, cap);
    this.flags = grown(this.flags, cap);
    this.next = grown(this.next, cap);
    this.prev = grown(this.prev, cap);
    this.ids = grown(this.ids, cap * KEY_STRIDE);
    this.cap = cap;
  }

  /** A fresh slot for a new order (nothing filled yet, not resting). */
  alloc(orderId: number, account: number, clOrdId: string, book: number, flags: number, price: number, qty: number, words?: Int32Array): number {
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
    this.ids[h * KEY_STRIDE] = account;
    if (words !== undefined && words[0] !== 0) {
      // idHashOf packed them already
      const at = h * KEY_STRIDE + 1;
      this.ids[at] = words[0];
      this.ids[at + 1] = words[1];
      this.ids[at + 2] = words[2];
      this.ids[at + 3] = words[3];
    } else {
      this.storeClOrdId(h, clOrdId);
    }
    this.flags[h] = flags | (book << BOOK_SHIFT);
    this.price[h] = price;
    this.leaves[h] = qty;
    this.next[h] = NIL;
    this.prev[h] = NIL;
    return h;
  }

  /**
   * Gives the slot back. Its price, leaves, flags and an inline clOrdId stay
   * readable until the slot is handed out again; its fill row (cumOf and
   * notionalOf read 0 at once) and a long clOrdId go now: write its events first.
   */
  free(h: number): void {
    if ((this.flags[h] & F_FILLED) !== 0) {
      this.fills.release(h);
      this.flags[h] &= ~F_FILLED;
    }
    if (!isInline(this.ids, h * KEY_STRIDE + 1)) this.longIds.delete(h);
    this.count--;
    this.next[h] = this.freeHead;
    this.freeHead = h;
  }

  /** The order's interned account (accounts.ts), also its owner number in the ladder. */
  accountOf(h: number): number {
    return this.ids[h * KEY_STRIDE];
  }

  /** The order's flags word (what the state hash mixes): bits 0-6, without F_RESTING. */
  flagsOf(h: number): number {
    return this.flags[h] & 0x7f;
  }

  bookOf(h: number): number {
    return this.flags[h] >> BOOK_SHIFT;
  }

  side(h: number): Side {
    return ((this.flags[h] >> 6) & 1) as Side;
  }

  // --- the client order id ---

  /** Long clOrdIds held (a check that none outlives its order or its rename). */
  longIdCount(): number {
    return this.longIds.size;
  }

  /** Gives a live order a new clOrdId (a valid id): a replace. */
  setClOrdId(h: number, clOrdId: string): void {
    if (!isInline(this.ids, h * KEY_STRIDE + 1)) this.longIds.delete(h);
    this.storeClOrdId(h, clOrdId);
  }

  private storeClOrdId(h: number, clOrdId: string): void {
    const at = h * KEY_STRIDE + 1;
    if (clOrdId.length <= INLINE_ID_CHARS) {
      packId(clOrdId, this.ids, at);
    } else {
      this.ids[at] = 0;
      this.longIds.set(h, clOrdId);
    }
  }

  /** The order's clOrdId as a string (an inline one is built: for the edges, not the hot paths). */
  clOrdIdOf(h: number): string {
    const at = h * KEY_STRIDE + 1;
    return isInline(this.ids, at) ? inlineString(this.ids, at) : this.longIds.get(h) as string;
  }

  /** Whether the order's clOrdId is `s`. */
  clOrdIdIs(h: number, s: string): boolean {
    const at = h * KEY_STRIDE + 1;
    return isInline(this.ids, at) ? inlineEquals(this.ids, at, s) : this.longIds.get(h) === s;
  }

  /** Whether the order's clOrdId is the inline id packed in `words` (by idHashOf). */
  clOrdIdWordsAre(h: number, words: Int32Array): boolean {
    const at = h * KEY_STRIDE + 1;
    const ids = this.ids;
    return ids[at] === words[0] && ids[at + 1] === words[1] && ids[at + 2] === words[2] && ids[at + 3] === words[3];
  }

  /** idHashOf(the order's clOrdId), without building the string. */
  clOrdIdHash(h: number): number {
    const at = h * KEY_STRIDE + 1;
    return isInline(this.ids, at) ? inlineHash(this.ids, at) : idHashOf(this.longIds.get(h));
  }

  /** Feeds the clOrdId to `hasher` as hasher.str(clOrdId) would. */
  hashClOrdId(h: number, hasher: Hasher): void {
    const at = h * KEY_STRIDE + 1;
    if (isInline(this.ids, at)) hashInline(hasher, this.ids, at);
    else hasher.str(this.longIds.get(h) as string);
  }

  /**
   * Copies the clOrdId's words to dst[at, at + ID_WORDS) and returns null, or
   * returns a long id's string (event-buffer.ts: events carry ids without building strings).
   */
  copyClOrdId(h: number, dst: Int32Array, at: number): string | null {
    const src = h * KEY_STRIDE + 1;
    const ids = this.ids;
    if (!isInline(ids, src)) return this.longIds.get(h) as string;
    dst[at] = ids[src];
    dst[at + 1] = ids[src + 1];
    dst[at + 2] = ids[src + 2];
    dst[at + 3] = ids[src + 3];
    return null;
  }

  // --- what the order has filled ---

  cumOf(h: number): number {
    return (this.flags[h] & F_FILLED) === 0 ? 0 : this.fills.cum[this.fills.find(h)];
  }

  notionalOf(h: number): Notional {
    return (this.flags[h] & F_FILLED) === 0 ? 0 : this.fills.notionalAt(this.fills.find(h));
  }

  qty(h: number): number {
    return this.cumOf(h) + this.leaves[h];
  }

  /** Sets what an order has filled (a restored one). */
  setFilled(h: number, cum: number, notional: Notional): void {
    if (cum === 0 && notional === 0 && (this.flags[h] & F_FILLED) === 0) return;
    const r = this.rowOf(h);
    this.fills.cum[r] = cum;
    this.fills.setNotional(r, notional);
  }

  private rowOf(h: number): number {
    if ((this.flags[h] & F_FILLED) !== 0) return this.fills.find(h);
    this.flags[h] |= F_FILLED;
    return this.fills.add(h);
  }

  /**
   * Books one fill of `qty` at `price` into the order's cumQty and notional
   * (leaves are the caller's). Returns the order's fill row, valid until the
   * next fill or free: read it with filledCum/filledNotional.
   */
  fill(h: number, price: number, qty: number): number {
    const r = this.rowOf(h);
    this.fills.fill(r, price, qty);
    return r;
  }

  filledCum(row: number): number {
    return this.fills.cum[row];
  }

  filledNotional(row: number): Notional {
    return this.fills.notionalAt(row);
  }
}
