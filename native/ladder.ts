// The boundary between the TypeScript engine and the price-level arithmetic.
// Two implementations honour it: TsLadder (pure TypeScript) and the Rust addon.
// They must agree exactly, so every rule that shapes an outcome lives here in
// prose and nowhere else decides it differently.
//
// One Ladder serves a whole engine: every book (instrument) of it, each with
// both sides. The engine creates one ladder (its LadderFactory is called once
// per engine) and registers its books with addBook(), which numbers them
// 0, 1, 2, ... in order: that number is the engine's own book index, and every
// book-scoped call takes it first. Books never see each other's orders: a walk,
// a query or a count in one book reads that book's levels only.
//
// Prices are integer ticks, quantities integer lots, both within +-2^53 (JS safe
// integers, i64 in Rust). Orders are addressed by the ENGINE's order handles:
// the caller chooses the handle of an order it rests (add, or match with `rest`),
// a non-negative integer below 2^31 - 1 that no resting order has now, and the
// ladder answers fills and self-trade stops with those same handles, so no map
// between two handle spaces is needed. The ladder keeps no free list (the engine
// allocates handles); its per-order storage is indexed by handle and grows, by
// doubling, to fit the largest handle it has seen, so handles should be dense
// (slot indexes). A handle is resting from the add (or the match that rested it)
// until remove, or the walk that fills it away; only then may it be added again.
// remove, reduce, qtyOf and priceOf of a handle that is not resting, and add of
// one that is, are refused with an error and change nothing.
// A level's aggregate quantity stays within 2^53 - 1: an add, or a match that
// would rest (judged on its whole `want`, before the walk), that could take the
// level it joins past that is refused with an error and changes nothing (the
// engine rejects such an order before it reaches the ladder).
// `owner` is a small non-negative integer the engine assigns to each account;
// the ladder uses it only to stop an aggressor before it would trade with its
// own account (self-trade prevention).

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
export const IO_HANDLE = 2; //       add: the handle rested; match: the handle it rested the remainder under, or -1
export const IO_LEVEL_QTY = 3; //    add/remove/reduce (and a match that rested): the level's
export const IO_LEVEL_ORDERS = 4; // aggregate quantity and order count after the call (0, 0: level gone)
/** io[IO_RESULT .. IO_HEADER) is the implementation's scratch (the native ladder passes operands and answers there). */
export const IO_RESULT = 5;
/** Fill records start here (the native ladder's scratch needs io[IO_RESULT .. 18): see layout.ts). */
export const IO_HEADER = 18;

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

  /** Registers a book (both sides empty) and returns its index: 0 for the first, then 1, 2, ... */
  addBook(): number;

  /**
   * Rests an order under `handle` (chosen by the caller: an integer in 0..2^31 - 2
   * that is not resting now, else an error) at the back of the FIFO queue of its
   * price level in `book`. io[IO_HANDLE] = handle; io[IO_LEVEL_QTY],
   * io[IO_LEVEL_ORDERS] = the level after.
   */
  add(book: number, side: Side, price: number, qty: number, owner: number, handle: number): void;
  /** Takes a resting order out of its book; io[IO_LEVEL_*] = its level after (0, 0 when emptied). */
  remove(handle: number): void;
  /** Lowers a resting order's quantity (0 < qty < current) without losing its place; io[IO_LEVEL_*] = its level after. */
  reduce(handle: number, qty: number): void;

  /** Best price of a side of a book (highest bid, lowest ask), or NaN when the side is empty. */
  best(book: number, side: Side): number;
  /** Aggregate resting quantity at a price, 0 if no level. */
  levelQty(book: number, side: Side, price: number): number;
  /** Number of orders at a price, 0 if no level. */
  levelOrders(book: number, side: Side, price: number): number;
  /** Number of price levels on a side of a book. */
  levelCount(book: number, side: Side): number;
  /** Number of resting orders in a book (both sides). */
  orderCount(book: number): number;

  /** Quantity and price of a resting order (handles are global: no book). */
  qtyOf(handle: number): number;
  priceOf(handle: number): number;

  /**
   * How much an aggressor on `side` of `book` limited to `limit` could fill, at
   * most `want`, walking the opposite side of that book best price first, FIFO in
   * a level. Orders of `owner` are skipped when `stopAtOwner` is false; when true,
   * the count stops at the first one (what an aggressor that would be cancelled
   * there could get).
   */
  fillable(book: number, side: Side, limit: number, want: number, owner: number, stopAtOwner: boolean): number;

  /**
   * The walk: trades an aggressor on `side` of `book` limited to `limit` against
   * the opposite side of that book (never another book's), best price first,
   * FIFO within a level, never past `limit`, until `want` is filled, the side is
   * exhausted, `cap` fills are written (0 <= cap <= FILL_CAPACITY) or the next
   * resting order belongs to `owner`. Before each fill the checks run in this
   * order: is the next resting order `owner`'s (stop, io[IO_STOP] = its handle),
   * have `cap` fills been written (stop, STOP_FULL). Fully filled makers leave the
   * book (their handles stop resting); a partially filled one keeps its place
   * with less quantity. Writes the stop reason to io[IO_STOP], the count to
   * io[IO_COUNT] and one record per fill from io[IO_HEADER]; returns the count.
   *
   * Then, when `rest` is true, the stop is STOP_DONE and quantity is left
   * (want minus what filled > 0), that remainder rests exactly as
   * add(book, side, limit, left, owner, handle) would: io[IO_HANDLE] = handle and
   * io[IO_LEVEL_*] = its level after. Otherwise io[IO_HANDLE] = -1. With `rest`
   * and want > 0, `handle` must be one add would accept (checked before the walk:
   * an error changes nothing); without, it is ignored.
   * (The engine passes rest for a GTC limit order, so one call walks and rests.)
   */
  match(book: number, side: Side, limit: number, want: number, owner: number, cap: number, rest: boolean, handle: number): number;

  /** Best `n` levels of a side of a book into out as [price, qty, orders] triples; returns how many. */
  depth(book: number, side: Side, n: number, out: Float64Array): number;
  /** Handles of all orders of a side of a book in priority order (best price first, FIFO). */
  handles(book: number, side: Side): ArrayLike<number>;
}

/** Makes the engine's one ladder (called once per engine). */
export type LadderFactory = () => Ladder;
