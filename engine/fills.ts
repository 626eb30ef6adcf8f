// What the orders that have traded have filled so far: cumQty and the exact
// notional. Most resting orders never trade (a deep book is mostly orders
// waiting), so these live in rows of a side table keyed by order handle
// rather than in two doubles per order; an order's flag F_FILLED (orders.ts)
// says it has a row, so the common read of an unfilled order costs no lookup.

import { HandleTable, numHash } from './client-ids.js';
import { addFill, type Notional } from './notional.js';
import { grown } from './typed-arrays.js';

const NIL = -1;

export class Fills extends HandleTable {
  private cap = 0;
  private top = 0;
  private freeRow = NIL;
  /** The order handle of each row in use; for a free row, the next free row. */
  private owner = new Int32Array(0);
  cum = new Float64Array(0);
  /** Exact notional while <= 2^53-1; NaN: it is a bigint, in `big`. */
  private notional = new Float64Array(0);
  private readonly big = new Map<number, bigint>();

  constructor(initial = 256) {
    super();
    this.grow(initial);
  }

  private grow(cap: number): void {
    this.owner = grown(this.owner, cap);
    this.cum = grown(this.cum, cap);
    this.notional = grown(this.notional, cap);
    this.cap = cap;
  }

  protected hashOf(row: number): number {
    return numHash(this.owner[row]);
  }

  /** The row of order `h`, or -1. */
  find(h: number): number {
    const slots = this.slots;
    let i = numHash(h) & this.mask;
    for (;;) {
      const v = slots[i];
      if (v === 0) return NIL;
      if (this.owner[v - 1] === h) {
        this.lastSlot = i;
        return v - 1;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** A new row for order `h` (which has none): nothing filled yet. */
  add(h: number): number {
    let r: number;
    if (this.freeRow !== NIL) {
      r = this.freeRow;
      this.freeRow = this.owner[r];
    } else {
      if (this.top === this.cap) this.grow(this.cap * 2);
      r = this.top++;
    }
    this.owner[r] = h;
    this.cum[r] = 0;
    this.notional[r] = 0;
    this.insert(r);
    return r;
  }

  /** Gives back the row of order `h` (which has one). */
  release(h: number): void {
    const r = this.find(h);
    this.remove(r);
    if (this.notional[r] !== this.notional[r]) this.big.delete(r);
    this.owner[r] = this.freeRow;
    this.freeRow = r;
  }

  notionalAt(r: number): Notional {
    const v = this.notional[r];
    return v === v ? v : (this.big.get(r) as bigint);
  }

  setNotional(r: number, v: Notional): void {
    if (typeof v === 'number') {
      if (this.notional[r] !== this.notional[r]) this.big.delete(r);
      this.notional[r] = v;
    } else {
      this.notional[r] = NaN;
      this.big.set(r, v);
    }
  }

  /** Books one fill of `qty` at `price` into row `r`. */
  fill(r: number, price: number, qty: number): void {
    this.cum[r] += qty;
    this.setNotional(r, addFill(this.notionalAt(r), price, qty));
  }
}
