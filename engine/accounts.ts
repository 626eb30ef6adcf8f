// Who owns which live order: client order ids are unique per account among its
// live orders, and an account can only reach its own orders.

import type { Order } from './order.js';

export class Accounts {
  private readonly owners = new Map<string, number>();
  private readonly live = new Map<string, Map<string, Order>>();
  private readonly byId = new Map<number, Order>();

  /** A small integer per account, for the ladder's self-trade check. */
  owner(account: string): number {
    let o = this.owners.get(account);
    if (o === undefined) {
      o = this.owners.size;
      this.owners.set(account, o);
    }
    return o;
  }

  add(order: Order): void {
    let m = this.live.get(order.account);
    if (m === undefined) {
      m = new Map();
      this.live.set(order.account, m);
    }
    m.set(order.clOrdId, order);
    this.byId.set(order.orderId, order);
  }

  remove(order: Order): void {
    this.live.get(order.account)?.delete(order.clOrdId);
    this.byId.delete(order.orderId);
  }

  rename(order: Order, clOrdId: string): void {
    const m = this.live.get(order.account);
    m?.delete(order.clOrdId);
    order.clOrdId = clOrdId;
    m?.set(clOrdId, order);
  }

  hasLive(account: string, clOrdId: string): boolean {
    return this.live.get(account)?.has(clOrdId) ?? false;
  }

  /** The account's live order by client id or order id; undefined for anyone else's. */
  find(account: string, origClOrdId: unknown, orderId: unknown): Order | undefined {
    if (typeof origClOrdId === 'string') return this.live.get(account)?.get(origClOrdId);
    if (typeof orderId === 'number') {
      const o = this.byId.get(orderId);
      return o !== undefined && o.account === account ? o : undefined;
    }
    return undefined;
  }

  /** Live orders of an account, oldest order id first (the order is deterministic). */
  ordersOf(account: string, symbol: string | undefined): Order[] {
    const m = this.live.get(account);
    if (m === undefined) return [];
    const out: Order[] = [];
    for (const o of m.values()) if (symbol === undefined || o.instrument.symbol === symbol) out.push(o);
    return out.sort((a, b) => a.orderId - b.orderId);
  }
}
