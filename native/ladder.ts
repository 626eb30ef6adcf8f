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

/** Values in io[IO_STOP] after match(): why the walk stopped. */
export const STOP_DONE = -1; // quantity satisfied, limit reached or side empty
export const STOP_FULL = -2; // `cap` fills written: call match() again with the remainder
// any value >= 0 is the handle of the first resting order of `owner` in the way

// The io buffer: each ladder owns one Float64Array (`Ladder.io`, IO_LENGTH doubles)
// that add/remove/reduce/match write their results into, so the engine reads
// level states and fills from plain memory instead of calling back in. Only
// add/remove/reduce/match write the slots below (queries never do), each
// overwriting what the previous one left.
export const IO_STOP = 0; //         match: why the walk stopped (STOP_* or an owner's handle)
export const IO_COUNT = 1; //        match: number of fill records written
export const IO_HANDLE = 2; //       add: the new handle; match: the rested handle, or -1
export const IO_LEVEL_QTY = 3; //    add/remove/reduce (and a match that rested): the level's
export const IO_LEVEL_ORDERS = 4; // aggregate quantity and order count after the call (0, 0: level gone)
/** io[IO_RESULT .. IO_HEADER) is the implementation's scratch (the native ladder passes operands and answers there). */
export const IO_RESULT = 5;
/** Fill records start here. */
export const IO_HEADER = 16;

/** Doubles per fill record in the io buffer, from IO_HEADER on. */
export const FILL_STRIDE = 6;
// record i starts at IO_HEADER + i * FILL_STRIDE:
//   +0 maker handle   +1 price   +2 fill qty   +3 maker leaves after the fill
//   +4 level qty after the fill   +5 level order count after the fill
export const F_HANDLE = 0;
export const F_PRICE = 1;
export const F_QTY = 2;
export const F_LEAVES = 3;
export const F_LEVEL_QTY = 4;
export const F_LEVEL_ORDERS = 5;

/** Fill records the io buffer holds: the largest `cap` of match(); a longer walk takes several calls. */
export const FILL_CAPACITY = 256;
export const IO_LENGTH = IO_HEADER + FILL_CAPACITY * FILL_STRIDE;

export interface Ladder {
  /** 'ts' or 'native': which implementation this is. */
  readonly kind: string;
  /** The io buffer (IO_LENGTH doubles) results are written to; the same object for the ladder's life. */
  readonly io: Float64Array;

  /**
   * Rests an order at the back of the FIFO queue of its price level. Returns its
   * handle (also in io[IO_HANDLE]); io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS] = the level after.
   */
  add(side: Side, price: number, qty: number, owner: number): number;
  /** Takes a resting order out of the book; io[IO_LEVEL_*] = its level after (0, 0 when emptied). */
  remove(handle: number): void;
  /** Lowers a resting order's quantity (0 < qty < current) without losing its place; io[IO_LEVEL_*] = its level after. */
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
   * is filled, the side is exhausted, `cap` fills are written (0 <= cap <=
   * FILL_CAPACITY) or the next resting order belongs to `owner`. Before each fill
   * the checks run in this order: is the next resting order `owner`'s (stop,
   * io[IO_STOP] = its handle), have `cap` fills been written (stop, STOP_FULL).
   * Fully filled makers leave the book; a partially filled one keeps its place
   * with less quantity. Writes the stop reason to io[IO_STOP], the count to
   * io[IO_COUNT] and one record per fill from io[IO_HEADER]; returns the count.
   *
   * Then, when `rest` is true, the stop is STOP_DONE and quantity is left
   * (want minus what filled > 0), that remainder rests exactly as
   * add(side, limit, left, owner) would: io[IO_HANDLE] = its handle and
   * io[IO_LEVEL_*] = its level after. Otherwise io[IO_HANDLE] = -1.
   * (The engine passes rest for a GTC limit order, so one call walks and rests.)
   */
  match(side: Side, limit: number, want: number, owner: number, cap: number, rest: boolean): number;

  /** Best `n` levels of a side into out as [price, qty, orders] triples; returns how many. */
  depth(side: Side, n: number, out: Float64Array): number;
  /** Handles of all orders of a side in priority order (best price first, FIFO). */
  handles(side: Side): ArrayLike<number>;
}

export type LadderFactory = () => Ladder;
