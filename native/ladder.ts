// The boundary between the TypeScript engine and the price-level arithmetic.
// Two implementations honour it: TsLadder (pure TypeScript) and the Rust addon.
// They must agree exactly, so every rule that shapes an outcome lives here in
// prose and nowhere else decides it differently.
//
// A Ladder holds both sides of one book. Prices are integer ticks, quantities
// integer lots, both within +-2^53 (JS safe integers, i64 in Rust). Orders are
// addressed by a handle the ladder hands out (a slot index, reused after the
// order leaves). `owner` is a small non-negative integer the engine assigns to
// each account; the ladder uses it only to stop an aggressor before it would
// trade with its own account (self-trade prevention).

export const BUY = 0;
export const SELL = 1;
export type Side = 0 | 1;

/** Limit that lets an aggressor walk every level (market orders). */
export const NO_LIMIT_BUY = Number.MAX_SAFE_INTEGER;
export const NO_LIMIT_SELL = -Number.MAX_SAFE_INTEGER;

/** Values in fills[0] after match(): why the walk stopped. */
export const STOP_DONE = -1; // quantity satisfied, limit reached or side empty
export const STOP_FULL = -2; // the fill buffer is full: call match() again with the remainder
// any value >= 0 is the handle of the first resting order of `owner` in the way

/** Doubles per fill record in the fill buffer, after the one-slot header. */
export const FILL_STRIDE = 6;
// record i starts at 1 + i * FILL_STRIDE:
//   +0 maker handle   +1 price   +2 fill qty   +3 maker leaves after the fill
//   +4 level qty after the fill   +5 level order count after the fill
export const F_HANDLE = 0;
export const F_PRICE = 1;
export const F_QTY = 2;
export const F_LEAVES = 3;
export const F_LEVEL_QTY = 4;
export const F_LEVEL_ORDERS = 5;

/** Fill records the engine's buffer holds; a longer walk takes several calls. */
export const FILL_CAPACITY = 256;
export const FILL_BUFFER_LENGTH = 1 + FILL_CAPACITY * FILL_STRIDE;

export interface Ladder {
  /** 'ts' or 'native': which implementation this is. */
  readonly kind: string;

  /** Rests an order at the back of the FIFO queue of its price level. Returns its handle. */
  add(side: Side, price: number, qty: number, owner: number): number;
  /** Takes a resting order out of the book. */
  remove(handle: number): void;
  /** Lowers a resting order's quantity (0 < qty < current) without losing its place. */
  reduce(handle: number, qty: number): void;

  /** Best price of a side (highest bid, lowest ask), or NaN when the side is empty. */
  best(side: Side): number;
  /** Aggregate resting quantity at a price, 0 if no level. */
  levelQty(side: Side, price: number): number;
  /** Number of orders at a price, 0 if no level. */
  levelOrders(side: Side, price: number): number;
  /** Number of price levels on a side. */
  levelCount(side: Side): number;
  /** Number of resting orders in the whole book. */
  orderCount(): number;

  /** Quantity, price and side of a resting order. */
  qtyOf(handle: number): number;
  priceOf(handle: number): number;

  /**
   * How much an aggressor on `side` limited to `limit` could fill, at most `want`,
   * walking the opposite side best price first, FIFO in a level. Orders of `owner`
   * are skipped when `stopAtOwner` is false; when true, the count stops at the
   * first one (what an aggressor that would be cancelled there could get).
   */
  fillable(side: Side, limit: number, want: number, owner: number, stopAtOwner: boolean): number;

  /**
   * The walk: trades an aggressor on `side` limited to `limit` against the opposite
   * side, best price first, FIFO within a level, never past `limit`, until `want`
   * is filled, the side is exhausted, the buffer is full or the next resting order
   * belongs to `owner`. Before each fill the checks run in this order: is the next
   * resting order `owner`'s (stop, fills[0] = its handle), is the buffer full
   * (stop, fills[0] = STOP_FULL). The buffer holds (fills.length - 1) / FILL_STRIDE
   * records. Fully filled makers leave the book; a partially filled one
   * keeps its place with less quantity. Writes the stop reason to fills[0] (see
   * STOP_*) and one record per fill after it; returns the number of fills.
   */
  match(side: Side, limit: number, want: number, owner: number, fills: Float64Array): number;

  /** Best `n` levels of a side into out as [price, qty, orders] triples; returns how many. */
  depth(side: Side, n: number, out: Float64Array): number;
  /** Handles of all orders of a side in priority order (best price first, FIFO). */
  handles(side: Side): number[];
}

export type LadderFactory = () => Ladder;
