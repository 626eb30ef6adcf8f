// Pure-TypeScript price ladder: the fallback when the Rust addon is not built,
// and the reference the addon is tested against.
//
// Layout: orders and levels live in typed arrays (struct of arrays), so resting
// an order allocates no object. Orders are indexed by the caller's handle: per
// handle exactly qty (Float64), owner, next, prev and level (Int32), 24 bytes;
// level NIL means "not resting" (the side and the book are the level's). The
// arrays grow by doubling to fit the largest handle seen; there is no free list,
// the engine allocates handles. Each side of each book keeps its levels in an
// AVL tree keyed so that the best price is the minimum key (bids are keyed by
// -price), plus a Map from price to level for O(1) access to an existing level;
// per-book state is indexed by `bs` = book * 2 + side.
// Costs: best price O(1) (cached), add to an existing level O(1), cancel O(1)
// unless it empties a level, new or emptied level O(log L).

import {
  BUY, FILL_STRIDE, F_HANDLE, F_LEAVES, F_LEVEL_ORDERS, F_LEVEL_QTY, F_PRICE, F_QTY, IO_COUNT, IO_HANDLE,
  IO_HEADER, IO_LENGTH, IO_LEVEL_ORDERS, IO_LEVEL_QTY, IO_STOP, STOP_DONE, STOP_FULL, type Ladder, type Side,
} from './ladder.js';

const NIL = -1;
/** Handles are 0..MAX_HANDLE - 1 (native/ladder.ts; the Rust ladder's MAX_SLOTS). */
const MAX_HANDLE = 2 ** 31 - 1;

function grow<T extends Float64Array | Int32Array>(a: T, n: number): T {
  const b = new (a.constructor as { new (n: number): T })(n);
  b.set(a);
  return b;
}

// Errors are built out of line: the checks on the hot paths stay a compare or two.
function unknownHandle(h: number): Error {
  return new Error(`unknown order handle ${h}: no resting order has it`);
}

function badHandle(h: number): Error {
  return new Error(`invalid handle: ${h} (expected an integer in 0..2^31 - 2 that is not resting)`);
}

function levelOverflow(price: number): Error {
  return new Error(`level quantity at price ${price} would exceed 2^53 - 1`);
}

function badBook(book: number, side: number, books: number): Error {
  return new Error(`invalid book ${book} or side ${side} (books 0..${books - 1}, side 0 (buy) or 1 (sell))`);
}

export class TsLadder implements Ladder {
  readonly kind = 'ts';
  readonly io = new Float64Array(IO_LENGTH);

  // orders, by handle
  private oQty = new Float64Array(1024);
  private oOwner = new Int32Array(1024);
  private oNext = new Int32Array(1024);
  private oPrev = new Int32Array(1024);
  /** The order's level; NIL: the handle is not resting. */
  private oLevel = new Int32Array(1024).fill(NIL);
  private oCap = 1024;

  // levels, by level slot
  private lPrice = new Float64Array(256);
  /** book * 2 + side of the level */
  private lBs = new Int32Array(256);
  private lKey = new Float64Array(256);
  private lQty = new Float64Array(256);
  private lCount = new Int32Array(256);
  private lHead = new Int32Array(256);
  private lTail = new Int32Array(256);
  private lLeft = new Int32Array(256);
  private lRight = new Int32Array(256);
  private lHeight = new Int32Array(256);
  private lCap = 256;
  private lTop = 0;
  private lFree = NIL;

  // per side of each book, by bs = book * 2 + side
  private books = 0;
  private readonly root: number[] = [];
  private readonly bestLevel: number[] = [];
  private readonly byPrice: Map<number, number>[] = [];
  private readonly levels: number[] = [];
  /** resting orders per book */
  private readonly live: number[] = [];
  // explicit stack for in-order walks; AVL height stays far below 64 for 2^32 levels
  private readonly stack = new Int32Array(96);

  addBook(): number {
    for (let side = 0; side < 2; side++) {
      this.root.push(NIL);
      this.bestLevel.push(NIL);
      this.byPrice.push(new Map());
      this.levels.push(0);
    }
    this.live.push(0);
    return this.books++;
  }

  /** Throws unless `handle` may be rested now: an integer handle below MAX_HANDLE that is not resting. */
  private checkFree(handle: number): void {
    if ((handle | 0) !== handle || handle < 0 || handle >= MAX_HANDLE) throw badHandle(handle);
    if (handle < this.oCap && this.oLevel[handle] !== NIL) throw badHandle(handle);
  }

  private checkBook(book: number, side: Side): void {
    if ((book | 0) !== book || book < 0 || book >= this.books || (side !== BUY && side !== 1)) throw badBook(book, side, this.books);
  }

  add(book: number, side: Side, price: number, qty: number, owner: number, handle: number): void {
    this.checkBook(book, side);
    this.checkFree(handle);
    this.checkRoom(book, side, price, qty);
    this.put(book, side, price, qty, owner, handle);
  }

  /** Throws unless `qty` more lots fit the level at `price` within 2^53 - 1 (as the native ladder refuses). */
  private checkRoom(book: number, side: Side, price: number, qty: number): void {
    const lv = this.byPrice[book * 2 + side].get(price);
    if (lv !== undefined && this.lQty[lv] > Number.MAX_SAFE_INTEGER - qty) throw levelOverflow(price);
  }

  /** add() once the arguments are checked. */
  private put(book: number, side: Side, price: number, qty: number, owner: number, h: number): void {
    const bs = book * 2 + side;
    let lv = this.byPrice[bs].get(price);
    if (lv === undefined) lv = this.newLevel(bs, price);
    if (h >= this.oCap) this.growOrders(h);
    this.oQty[h] = qty;
    this.oOwner[h] = owner;
    this.oLevel[h] = lv;
    this.oNext[h] = NIL;
    const tail = this.lTail[lv];
    this.oPrev[h] = tail;
    if (tail === NIL) this.lHead[lv] = h;
    else this.oNext[tail] = h;
    this.lTail[lv] = h;
    const io = this.io;
    io[IO_LEVEL_QTY] = this.lQty[lv] += qty;
    io[IO_LEVEL_ORDERS] = ++this.lCount[lv];
    io[IO_HANDLE] = h;
    this.live[book]++;
  }

  /** The level of a resting order; throws for any other handle (out of range or fractional reads undefined). */
  private levelOf(handle: number): number {
    const lv = this.oLevel[handle];
    if (!(lv >= 0)) throw unknownHandle(handle);
    return lv;
  }

  remove(handle: number): void {
    const lv = this.levelOf(handle);
    const io = this.io;
    const bs = this.lBs[lv];
    io[IO_LEVEL_QTY] = this.lQty[lv] -= this.oQty[handle];
    this.unlink(handle, lv, bs >> 1);
    const n = this.lCount[lv];
    io[IO_LEVEL_ORDERS] = n;
    if (n === 0) this.dropLevel(bs, lv);
  }

  reduce(handle: number, qty: number): void {
    const lv = this.levelOf(handle);
    const io = this.io;
    io[IO_LEVEL_QTY] = this.lQty[lv] -= this.oQty[handle] - qty;
    io[IO_LEVEL_ORDERS] = this.lCount[lv];
    this.oQty[handle] = qty;
  }

  best(book: number, side: Side): number {
    const lv = this.bestLevel[book * 2 + side];
    return lv === NIL ? NaN : this.lPrice[lv];
  }

  levelQty(book: number, side: Side, price: number): number {
    const lv = this.byPrice[book * 2 + side].get(price);
    return lv === undefined ? 0 : this.lQty[lv];
  }

  levelOrders(book: number, side: Side, price: number): number {
    const lv = this.byPrice[book * 2 + side].get(price);
    return lv === undefined ? 0 : this.lCount[lv];
  }

  levelCount(book: number, side: Side): number {
    return this.levels[book * 2 + side];
  }

  orderCount(book: number): number {
    return this.live[book];
  }

  qtyOf(handle: number): number {
    this.levelOf(handle);
    return this.oQty[handle];
  }

  priceOf(handle: number): number {
    return this.lPrice[this.levelOf(handle)];
  }

  fillable(book: number, side: Side, limit: number, want: number, owner: number, stopAtOwner: boolean): number {
    const opp = (1 - side) as Side;
    let sum = 0;
    let sp = this.pushLeft(this.root[book * 2 + opp], 0);
    while (sp > 0) {
      const lv = this.stack[--sp];
      const price = this.lPrice[lv];
      if (side === BUY ? price > limit : price < limit) return sum;
      for (let h = this.lHead[lv]; h !== NIL; h = this.oNext[h]) {
        if (this.oOwner[h] === owner) {
          if (stopAtOwner) return sum;
          continue;
        }
        sum += this.oQty[h];
        if (sum >= want) return want;
      }
      sp = this.pushLeft(this.lRight[lv], sp);
    }
    return sum;
  }

  match(book: number, side: Side, limit: number, want: number, owner: number, cap: number, rest: boolean, handle: number): number {
    this.checkBook(book, side);
    // the rest's handle is checked before the walk changes anything
    if (rest && want > 0) {
      this.checkRoom(book, side, limit, want);
      this.checkFree(handle);
    }
    const opp = (1 - side) as Side;
    const obs = book * 2 + opp;
    const fills = this.io;
    let n = 0;
    let stop = STOP_DONE;
    outer: while (want > 0) {
      const lv = this.bestLevel[obs];
      if (lv === NIL) break;
      const price = this.lPrice[lv];
      if (side === BUY ? price > limit : price < limit) break;
      let h = this.lHead[lv];
      while (h !== NIL && want > 0) {
        if (this.oOwner[h] === owner) { stop = h; break outer; }
        if (n === cap) { stop = STOP_FULL; break outer; }
        const avail = this.oQty[h];
        const q = avail < want ? avail : want;
        const leaves = avail - q;
        want -= q;
        this.oQty[h] = leaves;
        this.lQty[lv] -= q;
        const next = this.oNext[h];
        if (leaves === 0) this.unlink(h, lv, book);
        const o = IO_HEADER + n * FILL_STRIDE;
        fills[o + F_HANDLE] = h;
        fills[o + F_PRICE] = price;
        fills[o + F_QTY] = q;
        fills[o + F_LEAVES] = leaves;
        fills[o + F_LEVEL_QTY] = this.lQty[lv];
        fills[o + F_LEVEL_ORDERS] = this.lCount[lv];
        n++;
        h = next;
      }
      if (this.lCount[lv] === 0) this.dropLevel(obs, lv);
    }
    fills[IO_STOP] = stop;
    fills[IO_COUNT] = n;
    if (rest && stop === STOP_DONE && want > 0) this.put(book, side, limit, want, owner, handle);
    else fills[IO_HANDLE] = -1;
    return n;
  }

  depth(book: number, side: Side, n: number, out: Float64Array): number {
    let k = 0;
    let sp = this.pushLeft(this.root[book * 2 + side], 0);
    while (sp > 0 && k < n) {
      const lv = this.stack[--sp];
      out[k * 3] = this.lPrice[lv];
      out[k * 3 + 1] = this.lQty[lv];
      out[k * 3 + 2] = this.lCount[lv];
      k++;
      sp = this.pushLeft(this.lRight[lv], sp);
    }
    return k;
  }

  handles(book: number, side: Side): number[] {
    const out: number[] = [];
    let sp = this.pushLeft(this.root[book * 2 + side], 0);
    while (sp > 0) {
      const lv = this.stack[--sp];
      for (let h = this.lHead[lv]; h !== NIL; h = this.oNext[h]) out.push(h);
      sp = this.pushLeft(this.lRight[lv], sp);
    }
    return out;
  }

  // --- orders ---

  /** Grows the per-handle arrays (doubling) to hold handle `h`. */
  private growOrders(h: number): void {
    let n = this.oCap * 2;
    while (n <= h) n *= 2;
    if (n > MAX_HANDLE) n = MAX_HANDLE;
    this.oQty = grow(this.oQty, n);
    this.oOwner = grow(this.oOwner, n);
    this.oNext = grow(this.oNext, n);
    this.oPrev = grow(this.oPrev, n);
    const level = new Int32Array(n);
    level.set(this.oLevel);
    level.fill(NIL, this.oCap);
    this.oLevel = level;
    this.oCap = n;
  }

  /** Takes an order out of its level's queue: it no longer rests (level qty is the caller's). */
  private unlink(h: number, lv: number, book: number): void {
    const prev = this.oPrev[h];
    const next = this.oNext[h];
    if (prev === NIL) this.lHead[lv] = next;
    else this.oNext[prev] = next;
    if (next === NIL) this.lTail[lv] = prev;
    else this.oPrev[next] = prev;
    this.lCount[lv]--;
    this.live[book]--;
    this.oLevel[h] = NIL;
  }

  // --- levels ---

  private newLevel(bs: number, price: number): number {
    let lv: number;
    if (this.lFree !== NIL) {
      lv = this.lFree;
      this.lFree = this.lLeft[lv];
    } else {
      if (this.lTop === this.lCap) {
        const n = this.lCap * 2;
        this.lPrice = grow(this.lPrice, n);
        this.lBs = grow(this.lBs, n);
        this.lKey = grow(this.lKey, n);
        this.lQty = grow(this.lQty, n);
        this.lCount = grow(this.lCount, n);
        this.lHead = grow(this.lHead, n);
        this.lTail = grow(this.lTail, n);
        this.lLeft = grow(this.lLeft, n);
        this.lRight = grow(this.lRight, n);
        this.lHeight = grow(this.lHeight, n);
        this.lCap = n;
      }
      lv = this.lTop++;
    }
    const key = (bs & 1) === BUY ? -price : price;
    this.lPrice[lv] = price;
    this.lBs[lv] = bs;
    this.lKey[lv] = key;
    this.lQty[lv] = 0;
    this.lCount[lv] = 0;
    this.lHead[lv] = NIL;
    this.lTail[lv] = NIL;
    this.lLeft[lv] = NIL;
    this.lRight[lv] = NIL;
    this.lHeight[lv] = 1;
    this.root[bs] = this.insert(this.root[bs], lv);
    const b = this.bestLevel[bs];
    if (b === NIL || key < this.lKey[b]) this.bestLevel[bs] = lv;
    this.byPrice[bs].set(price, lv);
    this.levels[bs]++;
    return lv;
  }

  private dropLevel(bs: number, lv: number): void {
    this.root[bs] = this.erase(this.root[bs], this.lKey[lv]);
    this.byPrice[bs].delete(this.lPrice[lv]);
    this.levels[bs]--;
    if (this.bestLevel[bs] === lv) {
      let m = this.root[bs];
      if (m !== NIL) while (this.lLeft[m] !== NIL) m = this.lLeft[m];
      this.bestLevel[bs] = m;
    }
    this.lLeft[lv] = this.lFree;
    this.lFree = lv;
  }

  private pushLeft(n: number, sp: number): number {
    while (n !== NIL) {
      this.stack[sp++] = n;
      n = this.lLeft[n];
    }
    return sp;
  }

  // --- AVL tree over level slots ---

  private h(n: number): number {
    return n === NIL ? 0 : this.lHeight[n];
  }

  private fix(n: number): void {
    const a = this.h(this.lLeft[n]);
    const b = this.h(this.lRight[n]);
    this.lHeight[n] = (a > b ? a : b) + 1;
  }

  private rotRight(y: number): number {
    const x = this.lLeft[y];
    this.lLeft[y] = this.lRight[x];
    this.lRight[x] = y;
    this.fix(y);
    this.fix(x);
    return x;
  }

  private rotLeft(x: number): number {
    const y = this.lRight[x];
    this.lRight[x] = this.lLeft[y];
    this.lLeft[y] = x;
    this.fix(x);
    this.fix(y);
    return y;
  }

  private balance(n: number): number {
    this.fix(n);
    const bf = this.h(this.lLeft[n]) - this.h(this.lRight[n]);
    if (bf > 1) {
      const l = this.lLeft[n];
      if (this.h(this.lLeft[l]) < this.h(this.lRight[l])) this.lLeft[n] = this.rotLeft(l);
      return this.rotRight(n);
    }
    if (bf < -1) {
      const r = this.lRight[n];
      if (this.h(this.lRight[r]) < this.h(this.lLeft[r])) this.lRight[n] = this.rotRight(r);
      return this.rotLeft(n);
    }
    return n;
  }

  private insert(n: number, node: number): number {
    if (n === NIL) return node;
    if (this.lKey[node] < this.lKey[n]) this.lLeft[n] = this.insert(this.lLeft[n], node);
    else this.lRight[n] = this.insert(this.lRight[n], node);
    return this.balance(n);
  }

  private erase(n: number, key: number): number {
    if (n === NIL) return NIL;
    const k = this.lKey[n];
    if (key < k) this.lLeft[n] = this.erase(this.lLeft[n], key);
    else if (key > k) this.lRight[n] = this.erase(this.lRight[n], key);
    else {
      const l = this.lLeft[n];
      const r = this.lRight[n];
      if (l === NIL) return r;
      if (r === NIL) return l;
      let m = r;
      while (this.lLeft[m] !== NIL) m = this.lLeft[m];
      this.lRight[m] = this.eraseMin(r);
      this.lLeft[m] = l;
      return this.balance(m);
    }
    return this.balance(n);
  }

  private eraseMin(n: number): number {
    if (this.lLeft[n] === NIL) return this.lRight[n];
    this.lLeft[n] = this.eraseMin(this.lLeft[n]);
    return this.balance(n);
  }
}
