// Who owns which live order: client order ids are unique per account among its
// live orders, and an account can only reach its own orders. One lookup of the
// account per command; the order keeps a reference to its account after that.

import { Hasher } from './hash.js';
import type { Order } from './order.js';

export class Account {
  /** Live orders by client order id. */
  readonly live = new Map<string, Order>();
  /**
   * Live orders by order id, built the first time this account cancels or
   * replaces by orderId and kept from then on. Clients name their orders by
   * clOrdId; an index every order pays for but few use costs ~40 bytes per
   * resting order.
   */
  byId: Map<number, Order> | null = null;
  /** The name's hash, computed once: the state hash mixes it in for every order. */
  readonly nameHash: number;
  constructor(readonly name: string, /** a small integer for the ladder's self-trade check */ readonly owner: number) {
    this.nameHash = new Hasher().str(name).word32();
  }
}

export class Accounts {
  private readonly accounts = new Map<string, Account>();

  /** The account if it exists (any key: a miss creates nothing). */
  peek(name: unknown): Account | undefined {
    return this.accounts.get(name as string);
  }

  get(name: string): Account {
    let a = this.accounts.get(name);
    if (a === undefined) {
      a = new Account(name, this.accounts.size);
      this.accounts.set(name, a);
    }
    return a;
  }

  add(order: Order): void {
    const a = order.acct;
    a.live.set(order.clOrdId, order);
    if (a.byId !== null) a.byId.set(order.orderId, order);
  }

  remove(order: Order): void {
    const a = order.acct;
    a.live.delete(order.clOrdId);
    if (a.byId !== null) a.byId.delete(order.orderId);
  }

  rename(order: Order, clOrdId: string): void {
    order.acct.live.delete(order.clOrdId);
    order.clOrdId = clOrdId;
    order.acct.live.set(clOrdId, order);
  }

  /** The account's live order by client id or order id; undefined for anyone else's. */
  find(account: string, origClOrdId: unknown, orderId: unknown): Order | undefined {
    if (typeof origClOrdId === 'string') return this.accounts.get(account)?.live.get(origClOrdId);
    if (typeof orderId === 'number') {
      const a = this.accounts.get(account);
      if (a === undefined) return undefined;
      if (a.byId === null) {
        a.byId = new Map();
        for (const o of a.live.values()) a.byId.set(o.orderId, o);
      }
      return a.byId.get(orderId);
    }
    return undefined;
  }

  /** Live orders of an account, oldest order id first (the order is deterministic). */
  ordersOf(account: string, symbol: string | undefined): Order[] {
    const a = this.accounts.get(account);
    if (a === undefined) return [];
    const out: Order[] = [];
    for (const o of a.live.values()) if (symbol === undefined || o.instrument.symbol === symbol) out.push(o);
    return out.sort((x, y) => x.orderId - y.orderId);
  }
}
