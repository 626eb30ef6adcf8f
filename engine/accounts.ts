// Accounts interned to small integers (the ladder's owner number for self-trade
// prevention is the same integer), and who owns which live order: client
// order ids are unique per account among its live orders, and an account can
// only reach its own orders. Only the engine changes these indexes.

import { ClientIds, OrderIds, idHashOf } from './client-ids.js';
import { Hasher } from './hash.js';
import { ID_WORDS } from './inline-ids.js';
import type { Orders } from './orders.js';

const NIL = -1;

export class Accounts {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  /** Each name's hash, computed once: the state hash mixes it in for every order. */
  readonly nameHash: number[] = [];
  /** Each account's live orders: a list through Orders.next/prev, newest last. */
  private head: number[] = [];
  private tail: number[] = [];
  private readonly byClOrdId: ClientIds;
  private byOrderId: OrderIds | null = null;
  /** A looked-up clOrdId's packed words (idHashOf), compared instead of its characters. */
  private readonly words = new Int32Array(ID_WORDS);

  constructor(private readonly orders: Orders) {
    this.byClOrdId = new ClientIds(orders);
  }

  /** The account's number if it exists, else -1 (any key: a miss creates nothing). */
  peek(name: unknown): number {
    const a = this.ids.get(name as string);
    return a === undefined ? NIL : a;
  }

  /** The account's number, interning a new name. */
  intern(name: string): number {
    let a = this.ids.get(name);
    if (a === undefined) {
      a = this.names.length;
      this.ids.set(name, a);
      this.names.push(name);
      this.nameHash.push(new Hasher().str(name).word32());
      this.head.push(NIL);
      this.tail.push(NIL);
    }
    return a;
  }

  /**
   * Registers a live order (it has its account and clOrdId in the slabs);
   * `idHash`: its clOrdId's idHashOf, when the caller has it.
   */
  add(h: number, idHash = -1): void {
    const o = this.orders;
    const a = o.accountOf(h);
    const t = this.tail[a];
    o.prev[h] = t;
    o.next[h] = NIL;
    if (t === NIL) this.head[a] = h;
    else o.next[t] = h;
    this.tail[a] = h;
    if (idHash < 0) this.byClOrdId.insert(h);
    else this.byClOrdId.insert(h, ClientIds.hash(a, idHash));
    if (this.byOrderId !== null) this.byOrderId.insert(h);
  }

  remove(h: number): void {
    const o = this.orders;
    const a = o.accountOf(h);
    const p = o.prev[h];
    const n = o.next[h];
    if (p === NIL) this.head[a] = n;
    else o.next[p] = n;
    if (n === NIL) this.tail[a] = p;
    else o.prev[n] = p;
    this.byClOrdId.remove(h);
    if (this.byOrderId !== null) this.byOrderId.remove(h);
  }

  rename(h: number, clOrdId: string): void {
    this.byClOrdId.remove(h);
    this.orders.setClOrdId(h, clOrdId);
    this.byClOrdId.insert(h);
  }

  /**
   * The live order of account `a` with `clOrdId` (a valid id), or -1. `idHash`
   * and `words`: what idHashOf gave for it, when the caller has them.
   */
  live(a: number, clOrdId: string, idHash = -1, words?: Int32Array): number {
    if (idHash < 0) return this.byClOrdId.find(a, clOrdId, idHashOf(clOrdId, this.words), this.words);
    return this.byClOrdId.find(a, clOrdId, idHash, words);
  }

  /** The account's live order by client id or order id; -1 for anyone else's. */
  find(account: unknown, origClOrdId: unknown, orderId: unknown): number {
    const a = this.peek(account);
    if (a === NIL) return NIL;
    if (typeof origClOrdId === 'string') {
      // a malformed id is no stored id: it finds nothing (the request's checks word the reason)
      const ih = idHashOf(origClOrdId, this.words);
      return ih < 0 ? NIL : this.byClOrdId.find(a, origClOrdId, ih, this.words);
    }
    if (typeof orderId === 'number') {
      if (this.byOrderId === null) {
        const ids = new OrderIds(this.orders);
        for (let b = 0; b < this.head.length; b++) for (let h = this.head[b]; h !== NIL; h = this.orders.next[h]) ids.insert(h);
        this.byOrderId = ids;
      }
      const h = this.byOrderId.find(orderId);
      return h !== NIL && this.orders.accountOf(h) === a ? h : NIL;
    }
    return NIL;
  }

  /** Live orders of an account (of one book, or all for -1), oldest order id first (deterministic). */
  ordersOf(account: unknown, book: number): number[] {
    const a = this.peek(account);
    const out: number[] = [];
    if (a === NIL) return out;
    const o = this.orders;
    for (let h = this.head[a]; h !== NIL; h = o.next[h]) if (book < 0 || o.bookOf(h) === book) out.push(h);
    return out.sort((x, y) => o.orderId[x] - o.orderId[y]);
  }
}
