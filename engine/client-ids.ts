// Live orders by (account, clOrdId) and, once anyone asks, by orderId: open
// addressing with linear probing over one Int32Array of order handles, so a
// lookup, an insert and a delete allocate nothing. The keys live in the order
// slabs (orders.ts); a slot holds handle + 1 (0: empty). Deletion shifts the
// following entries back instead of leaving tombstones, so a long-lived book
// never degrades.

import type { Orders } from './orders.js';

import { INLINE_ID_CHARS, wordsHash } from './inline-ids.js';
import { ID_FIRST, ID_LAST, MAX_ID_LENGTH } from './limits.js';

/**
 * The hash of an id as a non-negative 31-bit number, or -1 when `v` is not an
 * id (limits.ts: the same rule as isId). One pass both validates a command's
 * clOrdId and hashes it for the lookups that follow. An id short enough to be
 * stored inline is packed into its words as it is scanned and hashed as
 * those (inline-ids.ts), so a stored one re-hashes without a string; a longer
 * one is hashed by its characters. With `words`, the packed words go there
 * (word 0 is 0 for a long id): a lookup then compares words, and a new order
 * stores them, without a second pass over the string.
 */
export function idHashOf(v: unknown, words?: Int32Array): number {
  if (typeof v !== 'string') return -1;
  const n = v.length;
  if (n === 0 || n > MAX_ID_LENGTH) return -1;
  if (n <= INLINE_ID_CHARS) {
    let w0 = 0;
    let w1 = 0;
    let w2 = 0;
    let w3 = 0;
    for (let i = 0; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c < ID_FIRST || c > ID_LAST) return -1;
      const b = c << ((i & 3) << 3);
      if (i < 4) w0 |= b;
      else if (i < 8) w1 |= b;
      else if (i < 12) w2 |= b;
      else w3 |= b;
    }
    if (words !== undefined) {
      words[0] = w0;
      words[1] = w1;
      words[2] = w2;
      words[3] = w3;
    }
    return wordsHash(w0, w1, w2, w3);
  }
  // a long id: its words say so (word 0 is 0)
  if (words !== undefined) words[0] = 0;
  let h = n;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < ID_FIRST || c > ID_LAST) return -1;
    // x31 + c: a shift and a subtract per character; keyHash mixes the result
    h = ((h << 5) - h + c) | 0;
  }
  return h >>> 1;
}

/** The table hash of (account, clOrdId) from the clOrdId's idHashOf. */
function keyHash(account: number, idHash: number): number {
  const h = Math.imul(idHash ^ Math.imul(account, 0x9e3779b1), 0x85ebca6b);
  return h ^ (h >>> 15);
}

export function numHash(v: number): number {
  // order ids are integers below 2^53: mix both halves
  const hi = (v / 4294967296) | 0;
  const h = Math.imul((v | 0) ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
  return h ^ (h >>> 16);
}

/**
 * An open-addressing set of handles whose keys live elsewhere (hashOf says
 * where): the tables of this file and the fill rows (fills.ts).
 */
export abstract class HandleTable {
  protected slots = new Int32Array(1024);
  protected mask = 1023;
  private size = 0;

  protected abstract hashOf(h: number): number;

  /** `hash`: hashOf(h) when the caller has it already. */
  insert(h: number, hash = this.hashOf(h)): void {
    if ((this.size + 1) * 2 > this.slots.length) this.resize(this.slots.length * 2);
    this.place(h, hash);
    this.size++;
  }

  private place(h: number, hash: number): void {
    const slots = this.slots;
    let i = hash & this.mask;
    while (slots[i] !== 0) i = (i + 1) & this.mask;
    slots[i] = h + 1;
  }

  /** The slot where find() last found an entry: removing that entry needs no hash. */
  protected lastSlot = 0;

  remove(h: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = this.lastSlot;
    if (slots[i] !== h + 1) i = this.hashOf(h) & mask;
    while (slots[i] !== h + 1) {
      if (slots[i] === 0) return;
      i = (i + 1) & mask;
    }
    this.size--;
    // backward shift: move up every following entry whose home is not between the hole and it
    let hole = i;
    for (;;) {
      i = (i + 1) & mask;
      const v = slots[i];
      if (v === 0) break;
      const home = this.hashOf(v - 1) & mask;
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        slots[hole] = v;
        hole = i;
      }
    }
    slots[hole] = 0;
  }

  private resize(n: number): void {
    const old = this.slots;
    this.slots = new Int32Array(n);
    this.mask = n - 1;
    for (let i = 0; i < old.length; i++) if (old[i] !== 0) this.place(old[i] - 1, this.hashOf(old[i] - 1));
  }
}

/** Live orders by (account, clOrdId): client order ids are unique per account among its live orders. */
export class ClientIds extends HandleTable {
  constructor(private readonly orders: Orders) {
    super();
  }

  /** Re-hashed from the slab (deletes and resizes): an inline id hashes from its words, no string needed. */
  protected hashOf(h: number): number {
    return keyHash(this.orders.accountOf(h), this.orders.clOrdIdHash(h));
  }

  /** The hash insert() takes for an order of `account` whose clOrdId has `idHash` (idHashOf). */
  static hash(account: number, idHash: number): number {
    return keyHash(account, idHash);
  }

  /**
   * The live order of `account` with `clOrdId` (whose idHashOf is `idHash`), or -1.
   * `words`: what idHashOf wrote for it, when the caller has them (a few compares instead of a scan).
   */
  find(account: number, clOrdId: string, idHash: number, words?: Int32Array): number {
    const slots = this.slots;
    const o = this.orders;
    const inline = words !== undefined && words[0] !== 0;
    let i = keyHash(account, idHash) & this.mask;
    for (;;) {
      const v = slots[i];
      if (v === 0) return -1;
      const h = v - 1;
      if (o.accountOf(h) === account && (inline ? o.clOrdIdWordsAre(h, words) : o.clOrdIdIs(h, clOrdId))) {
        this.lastSlot = i;
        return h;
      }
      i = (i + 1) & this.mask;
    }
  }
}

/**
 * Live orders by order id. Clients name their orders by clOrdId; this index
 * is built the first time anyone cancels or replaces by orderId and kept from
 * then on, so that engines that never see one do not pay for it.
 */
export class OrderIds extends HandleTable {
  constructor(private readonly orders: Orders) {
    super();
  }

  protected hashOf(h: number): number {
    return numHash(this.orders.orderId[h]);
  }

  find(orderId: number): number {
    const slots = this.slots;
    const o = this.orders;
    let i = numHash(orderId) & this.mask;
    for (;;) {
      const v = slots[i];
      if (v === 0) return -1;
      if (o.orderId[v - 1] === orderId) {
        this.lastSlot = i;
        return v - 1;
      }
      i = (i + 1) & this.mask;
    }
  }
}
