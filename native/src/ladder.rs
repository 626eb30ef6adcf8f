//! Price ladder of a whole engine: every book (both sides of each), plain Rust,
//! no N-API types.
//!
//! The behaviour is specified in `native/ladder.ts` and referenced by the pure
//! TypeScript implementation `native/ts-ladder.ts`; this module must agree with
//! it on everything observable (fill order, quantities, level aggregates, stop
//! reasons, depth and priority order). Handles are the caller's (the engine's
//! order handles): it picks the handle of each order it rests, so both ladders
//! answer with the same numbers by construction.
//!
//! Layout: orders live in a slab (`Vec<Slot>`, 24 bytes a slot) indexed by
//! handle and grown (doubling) to fit the largest handle seen, linked into
//! per-level FIFO queues by intrusive `prev`/`next` indices; a slot whose level
//! is NIL is not resting. The book and side are the level's, not the slot's.
//! Each side of each book keeps its levels in a `BTreeMap<price, Level>`: asks
//! are walked from the first key, bids from the last.
//!
//! Every public method validates its inputs before touching any state, so an
//! `Err` leaves the ladder unchanged.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::fmt;

/// Largest integer a JS number holds exactly (2^53 - 1).
pub const MAX_SAFE: i64 = 9_007_199_254_740_991;
/// Largest owner id `add` accepts (TsLadder stores owners in an Int32Array).
pub const MAX_OWNER: i64 = i32::MAX as i64;
/// Largest number of order slots (handles are `0..MAX_SLOTS`, i.e. below 2^31 - 1).
pub const MAX_SLOTS: usize = i32::MAX as usize;
/// Largest number of books (their indexes are `0..MAX_BOOKS`).
pub const MAX_BOOKS: usize = i32::MAX as usize;

pub const STOP_DONE: f64 = -1.0;
pub const STOP_FULL: f64 = -2.0;
pub const FILL_STRIDE: usize = 6;
pub const F_HANDLE: usize = 0;
pub const F_PRICE: usize = 1;
pub const F_QTY: usize = 2;
pub const F_LEAVES: usize = 3;
pub const F_LEVEL_QTY: usize = 4;
pub const F_LEVEL_ORDERS: usize = 5;

/// Layout of the io buffer used by `match_io` (mirrors native/ladder.ts).
pub const IO_STOP: usize = 0;
pub const IO_COUNT: usize = 1;
pub const IO_HANDLE: usize = 2;
pub const IO_LEVEL_QTY: usize = 3;
pub const IO_LEVEL_ORDERS: usize = 4;
pub const IO_RESULT: usize = 5;
/// The native ladder's scratch (native/layout.ts IO_BEST): io[IO_BEST + side] holds the
/// best price of each side (NaN: empty) of book io[IO_BEST_BOOK], the one the last
/// add/remove/match touched, so `best()` of that book reads memory instead of
/// crossing; +Infinity once the ladder is poisoned.
pub const IO_BEST: usize = 6;
/// The book io[IO_BEST..IO_BEST + 2] describe (-1: none yet).
pub const IO_BEST_BOOK: usize = 8;
/// Operands of a call through the native hot function: the op at io[IO_ARGS], up to
/// 8 operands after it (io[IO_ARGS..IO_ARGS + IO_ARGC]).
pub const IO_ARGS: usize = 9;
pub const IO_ARGC: usize = 9;
pub const IO_HEADER: usize = 18;
/// Fill records the io buffer holds (native/ladder.ts FILL_CAPACITY).
pub const FILL_CAPACITY: usize = 256;
/// Doubles in the io buffer (native/ladder.ts IO_LENGTH).
pub const IO_LEN: usize = IO_HEADER + FILL_CAPACITY * FILL_STRIDE;

// Op codes of the hot function (io[IO_ARGS]); operands follow in io[IO_ARGS + 1..].
// Mirrored in native/layout.ts.
pub const OP_ADD: i64 = 1;
pub const OP_REMOVE: i64 = 2;
pub const OP_REDUCE: i64 = 3;
pub const OP_MATCH: i64 = 4;
pub const OP_FILLABLE: i64 = 5;
pub const OP_BEST: i64 = 6;
pub const OP_LEVEL_QTY: i64 = 7;
pub const OP_LEVEL_ORDERS: i64 = 8;
pub const OP_LEVEL_COUNT: i64 = 9;
pub const OP_ORDER_COUNT: i64 = 10;
pub const OP_QTY_OF: i64 = 11;
pub const OP_PRICE_OF: i64 = 12;
pub const OP_ADD_BOOK: i64 = 13;
/// The largest op code (codes are 1..=OP_MAX).
pub const OP_MAX: i64 = 13;

/// The op code `op` holds, or 0 when it is anything but an exact integer in 1..=OP_MAX
/// (NaN, infinities, fractions, -0, out of range). Decided on the bits with integer
/// compares, not by a float -> int -> float round trip: JS stores the op just before
/// the call and every call waits on this decision first (the conversions put ~10
/// cycles of latency there). An integer 1..=13 as a double has 48 low bits of zero
/// and a distinct top 16 bits (sign, exponent, 4 mantissa bits).
#[inline(always)]
pub fn op_code(op: f64) -> i64 {
    let b = op.to_bits();
    if b & 0x0000_FFFF_FFFF_FFFF != 0 {
        return 0;
    }
    match b >> 48 {
        0x3FF0 => 1,
        0x4000 => 2,
        0x4008 => 3,
        0x4010 => 4,
        0x4014 => 5,
        0x4018 => 6,
        0x401C => 7,
        0x4020 => 8,
        0x4022 => 9,
        0x4024 => 10,
        0x4026 => 11,
        0x4028 => 12,
        0x402A => 13,
        _ => 0,
    }
}

/// Version of the io layout and op protocol: bump it on any change to the
/// meaning of a slot or an op (a change that keeps every number the same but
/// alters what they mean), in step with native/layout.ts.
/// 2: one ladder per engine (book operands, caller-chosen handles, OP_ADD_BOOK).
pub const LAYOUT_VERSION: u32 = 2;

/// Every number the Rust and TypeScript sides must agree on, by the name the
/// TypeScript side gives it (native/ladder.ts, native/layout.ts). The addon
/// exports it as `layout()`; the loader refuses an addon whose table differs
/// from its own in any field (or that has none).
pub const LAYOUT: &[(&str, f64)] = &[
    ("LAYOUT_VERSION", LAYOUT_VERSION as f64),
    ("BUY", Side::Buy as i64 as f64),
    ("SELL", Side::Sell as i64 as f64),
    ("NO_LIMIT_BUY", MAX_SAFE as f64),
    ("NO_LIMIT_SELL", -MAX_SAFE as f64),
    ("STOP_DONE", STOP_DONE),
    ("STOP_FULL", STOP_FULL),
    ("IO_STOP", IO_STOP as f64),
    ("IO_COUNT", IO_COUNT as f64),
    ("IO_HANDLE", IO_HANDLE as f64),
    ("IO_LEVEL_QTY", IO_LEVEL_QTY as f64),
    ("IO_LEVEL_ORDERS", IO_LEVEL_ORDERS as f64),
    ("IO_RESULT", IO_RESULT as f64),
    ("IO_BEST", IO_BEST as f64),
    ("IO_BEST_BOOK", IO_BEST_BOOK as f64),
    ("IO_ARGS", IO_ARGS as f64),
    ("IO_HEADER", IO_HEADER as f64),
    ("FILL_STRIDE", FILL_STRIDE as f64),
    ("F_HANDLE", F_HANDLE as f64),
    ("F_PRICE", F_PRICE as f64),
    ("F_QTY", F_QTY as f64),
    ("F_LEAVES", F_LEAVES as f64),
    ("F_LEVEL_QTY", F_LEVEL_QTY as f64),
    ("F_LEVEL_ORDERS", F_LEVEL_ORDERS as f64),
    ("FILL_CAPACITY", FILL_CAPACITY as f64),
    ("IO_LENGTH", IO_LEN as f64),
    ("OP_ADD", OP_ADD as f64),
    ("OP_REMOVE", OP_REMOVE as f64),
    ("OP_REDUCE", OP_REDUCE as f64),
    ("OP_MATCH", OP_MATCH as f64),
    ("OP_FILLABLE", OP_FILLABLE as f64),
    ("OP_BEST", OP_BEST as f64),
    ("OP_LEVEL_QTY", OP_LEVEL_QTY as f64),
    ("OP_LEVEL_ORDERS", OP_LEVEL_ORDERS as f64),
    ("OP_LEVEL_COUNT", OP_LEVEL_COUNT as f64),
    ("OP_ORDER_COUNT", OP_ORDER_COUNT as f64),
    ("OP_QTY_OF", OP_QTY_OF as f64),
    ("OP_PRICE_OF", OP_PRICE_OF as f64),
    ("OP_ADD_BOOK", OP_ADD_BOOK as f64),
];

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Buy = 0,
    Sell = 1,
}

impl Side {
    #[inline]
    fn idx(self) -> usize {
        self as usize
    }
    #[inline]
    fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LadderError {
    /// A numeric argument is NaN, infinite, fractional or out of range.
    BadNumber { arg: &'static str, value: String, expected: &'static str },
    /// The handle does not name a resting order (never rested or already gone).
    UnknownHandle(String),
    /// add (or a resting match) under a handle that is resting already.
    HandleResting(u32),
    /// The book index names no book of this ladder.
    UnknownBook(String),
    /// reduce() with a quantity that is not in 0 < qty <= current.
    BadReduce { handle: u32, qty: i64, current: i64 },
    /// The level's aggregate quantity would leave the JS safe-integer range.
    LevelOverflow { price: i64 },
    /// The output buffer cannot hold what the call must write.
    BufferTooSmall { arg: &'static str, needed: usize, got: usize },
    /// No more books.
    Full,
}

impl fmt::Display for LadderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LadderError::BadNumber { arg, value, expected } => {
                write!(f, "invalid {arg}: {value} (expected {expected})")
            }
            LadderError::UnknownHandle(h) => write!(f, "unknown order handle {h}: no resting order has it"),
            LadderError::HandleResting(h) => write!(f, "order handle {h} is resting already: it cannot be added again"),
            LadderError::UnknownBook(b) => write!(f, "unknown book {b}: addBook() has not registered it"),
            LadderError::BadReduce { handle, qty, current } => write!(
                f,
                "invalid reduce of handle {handle} to {qty}: the new quantity must satisfy 0 < qty <= {current}"
            ),
            LadderError::LevelOverflow { price } => {
                write!(f, "level quantity at price {price} would exceed 2^53 - 1")
            }
            LadderError::BufferTooSmall { arg, needed, got } => {
                write!(f, "{arg} buffer too small: needs at least {needed} elements, has {got}")
            }
            LadderError::Full => write!(f, "ladder full: too many books"),
        }
    }
}

impl std::error::Error for LadderError {}

pub type Result<T> = std::result::Result<T, LadderError>;

fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity".to_string() } else { "-Infinity".to_string() }
    } else {
        format!("{v}")
    }
}

/// An integral f64 in [min, max] as i64, or a `BadNumber` error.
/// Inlined on every operand of every call: the fast path is a few compares, the
/// error (which formats a String) is built out of line.
#[inline(always)]
pub fn int_arg(arg: &'static str, v: f64, min: i64, max: i64, expected: &'static str) -> Result<i64> {
    // The range test runs on f64 first: `as i64` saturates, so NaN/inf must not get through.
    // (`as i64` round trip instead of trunc(): trunc is a libm call on baseline x86-64)
    if v >= min as f64 && v <= max as f64 && (v as i64) as f64 == v {
        let i = v as i64;
        if i >= min && i <= max {
            return Ok(i);
        }
    }
    Err(bad_number(arg, v, expected))
}

#[cold]
#[inline(never)]
fn bad_number(arg: &'static str, v: f64, expected: &'static str) -> LadderError {
    LadderError::BadNumber { arg, value: fmt_num(v), expected }
}

#[inline(always)]
pub fn side_arg(v: f64) -> Result<Side> {
    if v == 0.0 {
        Ok(Side::Buy)
    } else if v == 1.0 {
        Ok(Side::Sell)
    } else {
        Err(bad_number("side", v, "0 (buy) or 1 (sell)"))
    }
}

#[inline(always)]
pub fn price_arg(arg: &'static str, v: f64) -> Result<i64> {
    int_arg(arg, v, -MAX_SAFE, MAX_SAFE, "an integer within +-(2^53 - 1)")
}

#[inline(always)]
pub fn handle_arg(v: f64) -> Result<u32> {
    if v >= 0.0 && v < MAX_SLOTS as f64 && (v as u32) as f64 == v {
        Ok(v as u32)
    } else {
        Err(unknown_handle(v))
    }
}

#[cold]
#[inline(never)]
fn unknown_handle(v: f64) -> LadderError {
    LadderError::UnknownHandle(fmt_num(v))
}

/// The handle to rest an order under: an integer in 0..MAX_SLOTS (whether it is
/// resting already is the ladder's check).
#[inline(always)]
pub fn new_handle_arg(v: f64) -> Result<u32> {
    if v >= 0.0 && v < MAX_SLOTS as f64 && (v as u32) as f64 == v {
        Ok(v as u32)
    } else {
        Err(bad_number("handle", v, "an integer in 0..2^31 - 2"))
    }
}

/// One order slot, by handle. 24 bytes: at a million resting orders every byte
/// here is a megabyte, so the side and the book live in the `Level`.
#[derive(Clone, Copy, Debug)]
struct Slot {
    qty: i64,
    /// 0..=MAX_OWNER (the price is the level's)
    owner: i32,
    prev: u32,
    /// Next order in the level's queue.
    next: u32,
    /// Index of its level in `Ladder::levels`; NIL: the handle is not resting.
    level: u32,
}

const EMPTY: Slot = Slot { qty: 0, owner: 0, prev: NIL, next: NIL, level: NIL };

#[derive(Clone, Copy, Debug)]
struct Level {
    price: i64,
    qty: i64,
    head: u32,
    tail: u32,
    count: u32,
    /// The book and side the level belongs to (remove finds its book through it).
    book: u32,
    side: Side,
}

/// Multiply-rotate hasher (FxHash) for the price index: prices are trusted
/// integers from the engine, so no DoS-resistant hashing is needed.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl Hasher for Fx {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    #[inline]
    fn write_i64(&mut self, v: i64) {
        self.0 = (self.0.rotate_left(5) ^ v as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap = HashMap<i64, u32, BuildHasherDefault<Fx>>;

/// One side of one book: its levels ordered by price (for walks) and hashed by price (for add).
#[derive(Debug)]
struct SideBook {
    /// price -> level index; bids are walked from the last key, asks from the first
    tree: BTreeMap<i64, u32>,
    index: FxMap,
    /// best level index, NIL when the side is empty
    best: u32,
}

impl Default for SideBook {
    fn default() -> Self {
        SideBook { tree: BTreeMap::new(), index: FxMap::default(), best: NIL }
    }
}

#[derive(Debug, Default)]
pub struct Ladder {
    /// By handle; grown (doubling) to fit the largest handle seen.
    slots: Vec<Slot>,
    levels: Vec<Level>,
    level_free: Vec<u32>,
    /// By book: index 0 = bids, 1 = asks.
    books: Vec<[SideBook; 2]>,
    /// Resting orders by book.
    live: Vec<usize>,
    /// [qty, orders] of the level the last add/remove/reduce touched (0, 0: gone)
    last: (i64, u32),
}

/// Takes `h` out of its level's queue: it stops resting. The level's quantity and
/// the book's live count are the caller's business.
#[inline]
fn unlink(slots: &mut [Slot], lv: &mut Level, h: u32) {
    let (prev, next) = {
        let s = &slots[h as usize];
        (s.prev, s.next)
    };
    if prev == NIL {
        lv.head = next;
    } else {
        slots[prev as usize].next = next;
    }
    if next == NIL {
        lv.tail = prev;
    } else {
        slots[next as usize].prev = prev;
    }
    lv.count -= 1;
    slots[h as usize].level = NIL;
}

/// Is `a` a better price than `b` for resting orders on `side`?
#[inline]
fn better(side: Side, a: i64, b: i64) -> bool {
    match side {
        Side::Buy => a > b,
        Side::Sell => a < b,
    }
}

/// Forgets an emptied level: out of the tree and the index, slot freed, best moved on.
#[inline]
fn drop_level(book: &mut SideBook, levels: &[Level], level_free: &mut Vec<u32>, side: Side, li: u32) {
    let price = levels[li as usize].price;
    book.index.remove(&price);
    level_free.push(li);
    if book.best == li {
        // the best level is the tree's first (asks) or last (bids) entry: pop it
        // without a search from the root, then read the next one
        book.best = match side {
            Side::Buy => {
                book.tree.pop_last();
                book.tree.last_key_value()
            }
            Side::Sell => {
                book.tree.pop_first();
                book.tree.first_key_value()
            }
        }
        .map_or(NIL, |(_, &l)| l);
    } else {
        book.tree.remove(&price);
    }
}

impl Ladder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a book (both sides empty); returns its index (0, 1, 2, ... in order).
    pub fn add_book(&mut self) -> Result<u32> {
        if self.books.len() >= MAX_BOOKS {
            return Err(LadderError::Full);
        }
        self.books.push([SideBook::default(), SideBook::default()]);
        self.live.push(0);
        Ok((self.books.len() - 1) as u32)
    }

    /// Bytes held by the per-handle slots and the levels: what grows with the
    /// largest handle and the number of levels (reported to V8 by the binding).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>() + self.levels.capacity() * std::mem::size_of::<Level>()
    }

    pub fn book_count(&self) -> usize {
        self.books.len()
    }

    /// A book operand: an integer naming a registered book. Every book-scoped query
    /// takes a book checked here (they index without a check of their own).
    #[inline(always)]
    pub fn book_arg(&self, v: f64) -> Result<usize> {
        if v >= 0.0 && v < self.books.len() as f64 && (v as u32) as f64 == v {
            Ok(v as usize)
        } else {
            Err(unknown_book(v))
        }
    }

    fn slot(&self, h: u32) -> Result<&Slot> {
        match self.slots.get(h as usize) {
            Some(s) if s.level != NIL => Ok(s),
            _ => Err(LadderError::UnknownHandle(h.to_string())),
        }
    }

    /// Refuses a handle that is out of range or resting already.
    #[inline]
    fn check_free(&self, h: u32) -> Result<()> {
        if h as usize >= MAX_SLOTS {
            return Err(bad_number("handle", h as f64, "an integer in 0..2^31 - 2"));
        }
        match self.slots.get(h as usize) {
            Some(s) if s.level != NIL => Err(LadderError::HandleResting(h)),
            _ => Ok(()),
        }
    }

    #[inline]
    fn check_book(&self, book: usize) -> Result<()> {
        if book < self.books.len() {
            Ok(())
        } else {
            Err(LadderError::UnknownBook(book.to_string()))
        }
    }

    #[inline]
    fn level_at(&self, book: usize, side: Side, price: i64) -> Option<&Level> {
        self.books[book][side.idx()].index.get(&price).map(|&li| &self.levels[li as usize])
    }

    /// Rests an order under handle `h` (not resting now) at the back of its level's FIFO queue in `book`.
    pub fn add(&mut self, book: usize, side: Side, price: i64, qty: i64, owner: i64, h: u32) -> Result<()> {
        self.check_book(book)?;
        if !(-MAX_SAFE..=MAX_SAFE).contains(&price) {
            return Err(LadderError::BadNumber {
                arg: "price",
                value: price.to_string(),
                expected: "an integer within +-(2^53 - 1)",
            });
        }
        if !(1..=MAX_SAFE).contains(&qty) {
            return Err(LadderError::BadNumber {
                arg: "qty",
                value: qty.to_string(),
                expected: "an integer in 1..2^53 - 1",
            });
        }
        if !(0..=MAX_OWNER).contains(&owner) {
            return Err(LadderError::BadNumber {
                arg: "owner",
                value: owner.to_string(),
                expected: "an integer in 0..2^31 - 1",
            });
        }
        self.check_free(h)?;
        let found = self.books[book][side.idx()].index.get(&price).copied();
        if let Some(li) = found {
            if self.levels[li as usize].qty > MAX_SAFE - qty {
                return Err(LadderError::LevelOverflow { price });
            }
        }
        self.put(book, side, price, qty, owner, h, found);
        Ok(())
    }

    /// add() once every argument is checked; `found`: the level at `price`, if any.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn put(&mut self, book: usize, side: Side, price: i64, qty: i64, owner: i64, h: u32, found: Option<u32>) {
        if h as usize >= self.slots.len() {
            // doubling, so that handles handed out in order cost amortised O(1)
            let n = (h as usize + 1).max(self.slots.len() * 2).max(1024).min(MAX_SLOTS);
            self.slots.resize(n, EMPTY);
        }
        let li = match found {
            Some(li) => li,
            None => self.new_level(book, side, price),
        };
        let lv = &mut self.levels[li as usize];
        let tail = lv.tail;
        self.slots[h as usize] = Slot { qty, owner: owner as i32, prev: tail, next: NIL, level: li };
        if tail == NIL {
            lv.head = h;
        } else {
            self.slots[tail as usize].next = h;
        }
        lv.tail = h;
        lv.qty += qty;
        lv.count += 1;
        self.last = (lv.qty, lv.count);
        self.live[book] += 1;
    }

    fn new_level(&mut self, book: usize, side: Side, price: i64) -> u32 {
        let lv = Level { price, qty: 0, head: NIL, tail: NIL, count: 0, book: book as u32, side };
        let li = match self.level_free.pop() {
            Some(li) => {
                self.levels[li as usize] = lv;
                li
            }
            None => {
                self.levels.push(lv);
                (self.levels.len() - 1) as u32
            }
        };
        let sb = &mut self.books[book][side.idx()];
        sb.tree.insert(price, li);
        sb.index.insert(price, li);
        if sb.best == NIL || better(side, price, self.levels[sb.best as usize].price) {
            sb.best = li;
        }
        li
    }

    /// Takes a resting order out of its book; returns the book.
    pub fn remove(&mut self, h: u32) -> Result<usize> {
        let s = *self.slot(h)?;
        let lv = &mut self.levels[s.level as usize];
        let (book, side) = (lv.book as usize, lv.side);
        lv.qty -= s.qty;
        unlink(&mut self.slots, lv, h);
        self.live[book] -= 1;
        self.last = (lv.qty, lv.count);
        if lv.count == 0 {
            drop_level(&mut self.books[book][side.idx()], &self.levels, &mut self.level_free, side, s.level);
        }
        Ok(book)
    }

    /// Lowers a resting order's quantity without losing its place (0 < qty <= current).
    pub fn reduce(&mut self, h: u32, qty: i64) -> Result<()> {
        let s = *self.slot(h)?;
        if qty <= 0 || qty > s.qty {
            return Err(LadderError::BadReduce { handle: h, qty, current: s.qty });
        }
        let lv = &mut self.levels[s.level as usize];
        lv.qty -= s.qty - qty;
        self.last = (lv.qty, lv.count);
        self.slots[h as usize].qty = qty;
        Ok(())
    }

    /// [qty, orders] of the level the last add, remove or reduce touched, after it.
    pub fn last_level(&self) -> (i64, u32) {
        self.last
    }

    // Queries: `book` must name a registered book (book_arg), else they panic.

    pub fn best(&self, book: usize, side: Side) -> Option<i64> {
        let b = self.books[book][side.idx()].best;
        if b == NIL {
            None
        } else {
            Some(self.levels[b as usize].price)
        }
    }

    pub fn level_qty(&self, book: usize, side: Side, price: i64) -> i64 {
        self.level_at(book, side, price).map_or(0, |l| l.qty)
    }

    pub fn level_orders(&self, book: usize, side: Side, price: i64) -> u32 {
        self.level_at(book, side, price).map_or(0, |l| l.count)
    }

    pub fn level_count(&self, book: usize, side: Side) -> usize {
        self.books[book][side.idx()].tree.len()
    }

    /// Resting orders of a book (both sides).
    pub fn order_count(&self, book: usize) -> usize {
        self.live[book]
    }

    pub fn qty_of(&self, h: u32) -> Result<i64> {
        Ok(self.slot(h)?.qty)
    }

    pub fn price_of(&self, h: u32) -> Result<i64> {
        let s = self.slot(h)?;
        Ok(self.levels[s.level as usize].price)
    }

    pub fn side_of(&self, h: u32) -> Result<Side> {
        let s = self.slot(h)?;
        Ok(self.levels[s.level as usize].side)
    }

    pub fn book_of(&self, h: u32) -> Result<usize> {
        let s = self.slot(h)?;
        Ok(self.levels[s.level as usize].book as usize)
    }

    /// Levels of a side of a book, best first.
    fn levels(&self, book: usize, side: Side) -> Box<dyn Iterator<Item = (i64, &Level)> + '_> {
        let tree = &self.books[book][side.idx()].tree;
        let levels = &self.levels;
        match side {
            Side::Buy => Box::new(tree.iter().rev().map(move |(&p, &li)| (p, &levels[li as usize]))),
            Side::Sell => Box::new(tree.iter().map(move |(&p, &li)| (p, &levels[li as usize]))),
        }
    }

    #[inline]
    fn beyond(side: Side, price: i64, limit: i64) -> bool {
        match side {
            Side::Buy => price > limit,
            Side::Sell => price < limit,
        }
    }

    /// What an aggressor on `side` of `book` limited to `limit` could fill, at most `want`
    /// (same walk and same arithmetic as TsLadder.fillable, including want <= 0).
    pub fn fillable(&self, book: usize, side: Side, limit: i64, want: i64, owner: i64, stop_at_owner: bool) -> i64 {
        // statically dispatched walk order (`levels()` boxes its iterator: an allocation per call)
        let tree = &self.books[book][side.opposite().idx()].tree;
        match side {
            Side::Buy => self.fillable_over(tree.values(), side, limit, want, owner, stop_at_owner),
            Side::Sell => self.fillable_over(tree.values().rev(), side, limit, want, owner, stop_at_owner),
        }
    }

    #[inline(always)]
    fn fillable_over<'a>(&self, order: impl Iterator<Item = &'a u32>, side: Side, limit: i64, want: i64, owner: i64, stop_at_owner: bool) -> i64 {
        // i128: a sum of many 2^53 quantities must not overflow before it reaches want
        let want = want as i128;
        let mut sum: i128 = 0;
        for &li in order {
            let lv = &self.levels[li as usize];
            if Self::beyond(side, lv.price, limit) {
                return sum as i64;
            }
            let mut h = lv.head;
            while h != NIL {
                let s = &self.slots[h as usize];
                if s.owner as i64 == owner {
                    if stop_at_owner {
                        return sum as i64;
                    }
                } else {
                    sum += s.qty as i128;
                    if sum >= want {
                        return want as i64;
                    }
                }
                h = s.next;
            }
        }
        sum as i64
    }

    /// The walk in `book` (see `Ladder.match` in native/ladder.ts), without a rest.
    /// `fills` must hold at least the header slot; it holds (len - 1) / FILL_STRIDE records.
    pub fn match_into(&mut self, book: usize, side: Side, limit: i64, want: i64, owner: i64, fills: &mut [f64]) -> Result<usize> {
        self.check_book(book)?;
        if fills.is_empty() {
            return Err(LadderError::BufferTooSmall { arg: "fills", needed: 1, got: 0 });
        }
        let cap = (fills.len() - 1) / FILL_STRIDE;
        let (n, stop, _) = self.walk(book, side, limit, want, owner, fills, 1, cap);
        fills[0] = stop;
        Ok(n)
    }

    /// The engine's call (see `Ladder.match` in native/ladder.ts): the walk in `book`,
    /// at most `cap` fills written from `io[IO_HEADER]`, then, when `rest` is set, the
    /// walk ended with STOP_DONE and quantity is left, that remainder rests at `limit`
    /// under handle `h`. Header: io[IO_STOP] stop reason, io[IO_COUNT] fills,
    /// io[IO_HANDLE] `h` when it rested or -1, io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS]
    /// its level after. Every check runs before anything changes (a rest that could
    /// overflow its level or names a handle that is resting is refused up front,
    /// judged on the whole `want`); without a rest `h` is ignored.
    #[allow(clippy::too_many_arguments)]
    pub fn match_io(&mut self, book: usize, side: Side, limit: i64, want: i64, owner: i64, cap: usize, rest: bool, h: u32, io: &mut [f64]) -> Result<usize> {
        self.check_book(book)?;
        let room = io.len().saturating_sub(IO_HEADER) / FILL_STRIDE;
        if io.len() < IO_HEADER || cap > room {
            let needed = IO_HEADER + cap.saturating_mul(FILL_STRIDE);
            return Err(LadderError::BufferTooSmall { arg: "io", needed, got: io.len() });
        }
        // the level a remainder would join: looked up once, before the walk, which
        // empties levels of the other side only, so it still holds after it
        let mut found = None;
        if rest && want > 0 {
            if !(0..=MAX_OWNER).contains(&owner) {
                return Err(LadderError::BadNumber {
                    arg: "owner",
                    value: owner.to_string(),
                    expected: "an integer in 0..2^31 - 1 (to rest)",
                });
            }
            found = self.books[book][side.idx()].index.get(&limit).copied();
            if let Some(li) = found {
                if self.levels[li as usize].qty > MAX_SAFE - want {
                    return Err(LadderError::LevelOverflow { price: limit });
                }
            }
            self.check_free(h)?;
        }
        let (n, stop, left) = self.walk(book, side, limit, want, owner, io, IO_HEADER, cap);
        io[IO_STOP] = stop;
        io[IO_COUNT] = n as f64;
        if rest && stop == STOP_DONE && left > 0 {
            self.put(book, side, limit, left, owner, h, found);
            io[IO_HANDLE] = h as f64;
            io[IO_LEVEL_QTY] = self.last.0 as f64;
            io[IO_LEVEL_ORDERS] = self.last.1 as f64;
        } else {
            io[IO_HANDLE] = -1.0;
        }
        Ok(n)
    }

    /// The walk itself, in `book` only: fills written as records from `out[base]`,
    /// at most `cap`. Returns (fills, stop reason, quantity left of `want`).
    ///
    /// Orders always leave a level from its head, so the inner loop keeps the level's
    /// head, quantity and count and the book's live count in locals and writes them
    /// back once per level (the general `unlink` went through memory for each of them
    /// on every fill); records are written through `chunks_exact_mut` (no bounds
    /// check per field).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn walk(&mut self, book: usize, side: Side, limit: i64, mut want: i64, owner: i64, out: &mut [f64], base: usize, cap: usize) -> (usize, f64, i64) {
        let opp = side.opposite();
        let Ladder { slots, levels, level_free, books, live, .. } = self;
        let sb = &mut books[book][opp.idx()];
        let mut n = 0usize;
        let mut stop = STOP_DONE;
        let mut recs = out[base..base + cap * FILL_STRIDE].chunks_exact_mut(FILL_STRIDE);
        let mut live_n = live[book];
        while want > 0 {
            let li = sb.best;
            if li == NIL {
                break;
            }
            let lv = &mut levels[li as usize];
            let price = lv.price;
            if Self::beyond(side, price, limit) {
                break;
            }
            let pricef = price as f64;
            let (mut head, mut lqty, mut lcount) = (lv.head, lv.qty, lv.count);
            while head != NIL && want > 0 {
                let s = &mut slots[head as usize];
                if s.owner as i64 == owner {
                    stop = head as f64;
                    break;
                }
                let Some(rec) = recs.next() else {
                    stop = STOP_FULL;
                    break;
                };
                let avail = s.qty;
                let h = head;
                let (q, leaves) = if avail <= want {
                    // filled: the head leaves the queue and stops resting
                    head = s.next;
                    s.qty = 0;
                    s.level = NIL;
                    live_n -= 1;
                    lcount -= 1;
                    (avail, 0)
                } else {
                    s.qty = avail - want;
                    (want, avail - want)
                };
                want -= q;
                lqty -= q;
                rec[F_HANDLE] = h as f64;
                rec[F_PRICE] = pricef;
                rec[F_QTY] = q as f64;
                rec[F_LEAVES] = leaves as f64;
                rec[F_LEVEL_QTY] = lqty as f64;
                rec[F_LEVEL_ORDERS] = lcount as f64;
                n += 1;
            }
            lv.head = head;
            lv.qty = lqty;
            lv.count = lcount;
            if head == NIL {
                lv.tail = NIL;
            } else {
                slots[head as usize].prev = NIL;
            }
            if lcount == 0 {
                drop_level(sb, levels, level_free, opp, li);
            }
            if stop != STOP_DONE {
                break;
            }
        }
        live[book] = live_n;
        (n, stop, want)
    }

    /// Best `n` levels of a side of a book into `out` as [price, qty, orders] triples.
    /// `out` must hold 3 * min(n, levelCount) values.
    pub fn depth(&self, book: usize, side: Side, n: usize, out: &mut [f64]) -> Result<usize> {
        let k = n.min(self.level_count(book, side));
        let needed = k.saturating_mul(3);
        if out.len() < needed {
            return Err(LadderError::BufferTooSmall { arg: "depth", needed, got: out.len() });
        }
        for (i, (price, lv)) in self.levels(book, side).take(k).enumerate() {
            out[i * 3] = price as f64;
            out[i * 3 + 1] = lv.qty as f64;
            out[i * 3 + 2] = lv.count as f64;
        }
        Ok(k)
    }

    /// Handles of a side of a book in priority order: best price first, FIFO in a level.
    pub fn handles(&self, book: usize, side: Side) -> Vec<u32> {
        let mut out = Vec::new();
        for (_, lv) in self.levels(book, side) {
            let mut h = lv.head;
            while h != NIL {
                out.push(h);
                h = self.slots[h as usize].next;
            }
        }
        out
    }

    /// Checks every internal invariant; for tests.
    pub fn check(&self) -> std::result::Result<(), String> {
        let mut seen = 0usize;
        let mut tree_levels = 0usize;
        if self.live.len() != self.books.len() {
            return Err("live counts and books disagree".into());
        }
        for (b, sides) in self.books.iter().enumerate() {
            let mut in_book = 0usize;
            for side in [Side::Buy, Side::Sell] {
                let sb = &sides[side.idx()];
                if sb.index.len() != sb.tree.len() {
                    return Err("price index and tree disagree".into());
                }
                tree_levels += sb.tree.len();
                let want_best = self.levels(b, side).next().map(|(p, _)| p);
                if self.best(b, side) != want_best {
                    return Err(format!("book {b}: cached best {:?} is not {:?}", self.best(b, side), want_best));
                }
                for (&price, &li) in &sb.tree {
                    let lv = &self.levels[li as usize];
                    if sb.index.get(&price) != Some(&li) || lv.price != price || self.level_free.contains(&li) {
                        return Err(format!("book {b}: level {price} badly indexed"));
                    }
                    if lv.book as usize != b || lv.side != side {
                        return Err(format!("book {b}: level {price} says book {} side {:?}", lv.book, lv.side));
                    }
                    if lv.count == 0 {
                        return Err(format!("book {b}: empty level {price} kept"));
                    }
                    let (mut h, mut prev, mut n, mut q) = (lv.head, NIL, 0u32, 0i64);
                    while h != NIL {
                        let s = &self.slots[h as usize];
                        if s.prev != prev || s.qty <= 0 || s.level != li {
                            return Err(format!("book {b}: bad slot {h} in level {price}"));
                        }
                        n += 1;
                        q += s.qty;
                        prev = h;
                        h = s.next;
                    }
                    if prev != lv.tail || n != lv.count || q != lv.qty {
                        return Err(format!("book {b}: level {price} aggregates disagree"));
                    }
                    in_book += n as usize;
                }
            }
            if in_book != self.live[b] {
                return Err(format!("book {b}: live count {} but {in_book} orders in its queues", self.live[b]));
            }
            seen += in_book;
        }
        if self.slots.iter().filter(|s| s.level != NIL).count() != seen {
            return Err("resting slots outside any queue".into());
        }
        if self.level_free.len() + tree_levels != self.levels.len() {
            return Err("level slots leaked".into());
        }
        Ok(())
    }
}

#[cold]
#[inline(never)]
fn unknown_book(v: f64) -> LadderError {
    LadderError::UnknownBook(fmt_num(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Side = Side::Buy;
    const S: Side = Side::Sell;

    fn buf(cap: usize) -> Vec<f64> {
        vec![0.0; 1 + cap * FILL_STRIDE]
    }

    fn rec(fills: &[f64], i: usize) -> [f64; 6] {
        let o = 1 + i * FILL_STRIDE;
        fills[o..o + 6].try_into().unwrap()
    }

    /// A ladder with book 0 registered, resting orders under handles 0, 1, 2, ...
    /// in the order they are added (as a caller with its own counter would).
    struct One {
        l: Ladder,
        next: u32,
    }

    impl One {
        fn new() -> Self {
            let mut l = Ladder::new();
            assert_eq!(l.add_book().unwrap(), 0);
            One { l, next: 0 }
        }
        fn add(&mut self, side: Side, price: i64, qty: i64, owner: i64) -> Result<u32> {
            let h = self.next;
            self.l.add(0, side, price, qty, owner, h)?;
            self.next += 1;
            Ok(h)
        }
    }

    #[test]
    fn slot_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 24);
    }

    #[test]
    fn add_and_aggregates() {
        let mut o = One::new();
        let a = o.add(B, 100, 5, 1).unwrap();
        let b = o.add(B, 100, 7, 2).unwrap();
        let c = o.add(B, 101, 1, 3).unwrap();
        let d = o.add(S, 105, 4, 4).unwrap();
        let l = &o.l;
        assert_eq!(l.best(0, B), Some(101));
        assert_eq!(l.best(0, S), Some(105));
        assert_eq!(l.level_qty(0, B, 100), 12);
        assert_eq!(l.level_orders(0, B, 100), 2);
        assert_eq!(l.level_qty(0, B, 99), 0);
        assert_eq!(l.level_count(0, B), 2);
        assert_eq!(l.order_count(0), 4);
        assert_eq!(l.handles(0, B), vec![c, a, b]);
        assert_eq!(l.handles(0, S), vec![d]);
        assert_eq!(l.side_of(d).unwrap(), S);
        assert_eq!(l.book_of(d).unwrap(), 0);
        l.check().unwrap();
    }

    #[test]
    fn empty_best_is_none() {
        let o = One::new();
        assert_eq!(o.l.best(0, B), None);
        assert_eq!(o.l.best(0, S), None);
    }

    #[test]
    fn the_caller_chooses_handles_and_storage_grows_to_fit() {
        let mut l = Ladder::new();
        l.add_book().unwrap();
        l.add(0, S, 10, 1, 0, 7).unwrap();
        l.add(0, S, 10, 2, 0, 100_000).unwrap();
        l.add(0, S, 11, 3, 0, 3).unwrap();
        assert_eq!(l.handles(0, S), vec![7, 100_000, 3]);
        assert_eq!(l.qty_of(100_000).unwrap(), 2);
        assert!(l.slots.len() > 100_000);
        // a handle that is resting cannot be added again, in any book; nothing changes
        l.add_book().unwrap();
        assert_eq!(l.add(0, B, 5, 1, 0, 7), Err(LadderError::HandleResting(7)));
        assert_eq!(l.add(1, B, 5, 1, 0, 100_000), Err(LadderError::HandleResting(100_000)));
        assert!(matches!(l.add(0, B, 5, 1, 0, MAX_SLOTS as u32), Err(LadderError::BadNumber { arg: "handle", .. })));
        assert_eq!(l.level_count(0, B), 0);
        assert_eq!(l.order_count(1), 0);
        // once it left, the same handle rests again (anywhere)
        l.remove(7).unwrap();
        assert!(l.qty_of(7).is_err());
        l.add(1, B, 5, 9, 0, 7).unwrap();
        assert_eq!(l.book_of(7).unwrap(), 1);
        assert_eq!(l.qty_of(7).unwrap(), 9);
        // a maker filled away is no longer resting: its handle may be reused
        let mut f = buf(4);
        assert_eq!(l.match_into(0, B, 10, 1, 9, &mut f).unwrap(), 1);
        assert!(l.qty_of(100_000).is_ok(), "partially filled: still resting");
        assert_eq!(l.match_into(0, B, 10, 1, 9, &mut f).unwrap(), 1);
        assert!(l.qty_of(100_000).is_err(), "filled away");
        l.add(0, B, 1, 1, 0, 100_000).unwrap();
        l.check().unwrap();
    }

    #[test]
    fn books_do_not_see_each_other() {
        let mut l = Ladder::new();
        assert_eq!(l.add_book().unwrap(), 0);
        assert_eq!(l.add_book().unwrap(), 1);
        assert_eq!(l.add_book().unwrap(), 2);
        // book 1 holds asks that any buy in book 0 would take
        l.add(1, S, 100, 5, 1, 10).unwrap();
        l.add(1, S, 101, 5, 1, 11).unwrap();
        l.add(0, S, 102, 5, 1, 20).unwrap();
        assert_eq!(l.best(0, S), Some(102));
        assert_eq!(l.best(1, S), Some(100));
        assert_eq!(l.best(2, S), None);
        assert_eq!(l.level_qty(0, S, 100), 0);
        assert_eq!(l.level_count(1, S), 2);
        assert_eq!((l.order_count(0), l.order_count(1), l.order_count(2)), (1, 2, 0));
        assert_eq!(l.fillable(0, B, i64::MAX, 100, 9, false), 5);
        assert_eq!(l.fillable(2, B, i64::MAX, 100, 9, false), 0);
        let mut io = vec![0.0; IO_LEN];
        // a market buy in book 0 takes book 0's ask only, then rests in book 0
        assert_eq!(l.match_io(0, B, 102, 8, 9, FILL_CAPACITY, true, 30, &mut io).unwrap(), 1);
        assert_eq!(io[IO_HEADER + F_HANDLE], 20.0);
        assert_eq!(io[IO_HANDLE], 30.0);
        assert_eq!(l.best(0, B), Some(102));
        assert_eq!(l.best(1, B), None);
        assert_eq!(l.order_count(1), 2);
        assert_eq!(l.handles(1, S), vec![10, 11]);
        // and the same walk in an empty book fills nothing
        assert_eq!(l.match_io(2, B, MAX_SAFE, 8, 9, FILL_CAPACITY, false, 0, &mut io).unwrap(), 0);
        assert_eq!(l.order_count(1), 2);
        // a removal in one book leaves the other's level alone
        l.add(0, S, 100, 1, 1, 40).unwrap();
        l.remove(40).unwrap();
        assert_eq!(l.level_qty(1, S, 100), 5);
        // unknown books are refused
        assert_eq!(l.add(3, S, 1, 1, 0, 50), Err(LadderError::UnknownBook("3".into())));
        assert!(l.match_into(7, B, 1, 1, 0, &mut buf(1)).is_err());
        assert!(l.book_arg(3.0).is_err());
        assert!(l.book_arg(-1.0).is_err());
        assert!(l.book_arg(0.5).is_err());
        assert!(l.book_arg(f64::NAN).is_err());
        assert_eq!(l.book_arg(2.0).unwrap(), 2);
        l.check().unwrap();
    }

    #[test]
    fn removed_handle_is_rejected() {
        let mut o = One::new();
        let a = o.add(S, 10, 1, 0).unwrap();
        let l = &mut o.l;
        l.remove(a).unwrap();
        assert!(matches!(l.remove(a), Err(LadderError::UnknownHandle(_))));
        assert!(l.qty_of(a).is_err());
        assert!(l.price_of(99).is_err());
        assert!(l.price_of(5000).is_err());
        assert!(l.reduce(a, 1).is_err());
        assert_eq!(l.level_count(0, S), 0);
        assert_eq!(l.best(0, S), None);
    }

    #[test]
    fn reduce_keeps_place() {
        let mut o = One::new();
        let a = o.add(S, 10, 5, 0).unwrap();
        let b = o.add(S, 10, 5, 0).unwrap();
        let l = &mut o.l;
        l.reduce(a, 2).unwrap();
        assert_eq!(l.level_qty(0, S, 10), 7);
        assert_eq!(l.handles(0, S), vec![a, b]);
        assert!(l.reduce(a, 0).is_err());
        assert!(l.reduce(a, 3).is_err());
        l.reduce(a, 2).unwrap();
        l.check().unwrap();
    }

    #[test]
    fn match_walks_best_first_fifo() {
        let mut o = One::new();
        let a = o.add(S, 101, 5, 1).unwrap();
        let b = o.add(S, 100, 3, 2).unwrap();
        let c = o.add(S, 100, 4, 3).unwrap();
        let l = &mut o.l;
        let mut f = buf(16);
        let n = l.match_into(0, B, 101, 9, 9, &mut f).unwrap();
        assert_eq!(n, 3);
        assert_eq!(f[0], STOP_DONE);
        assert_eq!(rec(&f, 0), [b as f64, 100.0, 3.0, 0.0, 4.0, 1.0]);
        assert_eq!(rec(&f, 1), [c as f64, 100.0, 4.0, 0.0, 0.0, 0.0]);
        assert_eq!(rec(&f, 2), [a as f64, 101.0, 2.0, 3.0, 3.0, 1.0]);
        assert_eq!(l.best(0, S), Some(101));
        assert_eq!(l.qty_of(a).unwrap(), 3);
        assert_eq!(l.level_count(0, S), 1);
        assert_eq!(l.order_count(0), 1);
        l.check().unwrap();
    }

    #[test]
    fn match_respects_limit_and_sell_side() {
        let mut o = One::new();
        o.add(B, 100, 5, 1).unwrap();
        o.add(B, 99, 5, 1).unwrap();
        let l = &mut o.l;
        let mut f = buf(4);
        let n = l.match_into(0, S, 100, 50, 9, &mut f).unwrap();
        assert_eq!(n, 1);
        assert_eq!(f[0], STOP_DONE);
        assert_eq!(l.best(0, B), Some(99));
        let n = l.match_into(0, S, -MAX_SAFE, 50, 9, &mut f).unwrap();
        assert_eq!(n, 1);
        assert_eq!(l.best(0, B), None);
        l.check().unwrap();
    }

    #[test]
    fn match_own_order_stops_before_full() {
        let mut o = One::new();
        let a = o.add(S, 100, 1, 1).unwrap();
        let b = o.add(S, 100, 1, 7).unwrap();
        o.add(S, 100, 1, 1).unwrap();
        let mut f = buf(1);
        let n = o.l.match_into(0, B, 100, 10, 7, &mut f).unwrap();
        assert_eq!(n, 1);
        assert_eq!(f[0], b as f64, "own order is checked before capacity");
        assert_eq!(rec(&f, 0)[0], a as f64);
        // capacity 0: full before anything
        let mut f0 = vec![0.0; 3];
        assert_eq!(o.l.match_into(0, B, 100, 10, 9, &mut f0).unwrap(), 0);
        assert_eq!(f0[0], STOP_FULL);
        // a full buffer stops, then the remainder continues
        let mut f1 = buf(1);
        o.add(S, 101, 1, 1).unwrap();
        o.l.remove(b).unwrap();
        assert_eq!(o.l.match_into(0, B, 200, 10, 9, &mut f1).unwrap(), 1);
        assert_eq!(f1[0], STOP_FULL);
        assert_eq!(o.l.match_into(0, B, 200, 9, 9, &mut f1).unwrap(), 1);
        assert_eq!(f1[0], STOP_DONE);
        assert_eq!(o.l.order_count(0), 0);
        o.l.check().unwrap();
    }

    #[test]
    fn match_rests_under_the_callers_handle_checked_up_front() {
        let mut o = One::new();
        let a = o.add(S, 100, 2, 1).unwrap();
        let l = &mut o.l;
        let mut io = vec![0.0; IO_LEN];
        // a handle that is resting is refused before the walk: nothing filled
        assert_eq!(l.match_io(0, B, 100, 5, 9, FILL_CAPACITY, true, a, &mut io), Err(LadderError::HandleResting(a)));
        assert_eq!(l.qty_of(a).unwrap(), 2);
        // without a rest the handle is not looked at
        assert_eq!(l.match_io(0, B, 99, 5, 9, FILL_CAPACITY, false, a, &mut io).unwrap(), 0);
        assert_eq!(io[IO_HANDLE], -1.0);
        // the maker's handle is free once it is filled away, so the taker may take it over
        assert_eq!(l.match_io(0, B, 100, 5, 9, FILL_CAPACITY, true, 500, &mut io).unwrap(), 1);
        assert_eq!(io[IO_HANDLE], 500.0);
        assert_eq!((io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS]), (3.0, 1.0));
        assert_eq!(l.qty_of(500).unwrap(), 3);
        assert_eq!(l.price_of(500).unwrap(), 100);
        assert!(l.qty_of(a).is_err());
        l.check().unwrap();
    }

    #[test]
    fn match_want_zero_and_empty_buffer() {
        let mut o = One::new();
        o.add(S, 100, 1, 1).unwrap();
        let l = &mut o.l;
        let mut f = buf(1);
        f[0] = 5.0;
        assert_eq!(l.match_into(0, B, 100, 0, 1, &mut f).unwrap(), 0);
        assert_eq!(f[0], STOP_DONE);
        assert!(l.match_into(0, B, 100, 1, 2, &mut []).is_err());
        assert_eq!(l.order_count(0), 1);
    }

    #[test]
    fn fillable_semantics() {
        let mut o = One::new();
        o.add(S, 100, 5, 1).unwrap();
        o.add(S, 100, 5, 2).unwrap();
        o.add(S, 101, 5, 1).unwrap();
        let l = &o.l;
        assert_eq!(l.fillable(0, B, 101, 100, 9, false), 15);
        assert_eq!(l.fillable(0, B, 100, 100, 9, false), 10);
        assert_eq!(l.fillable(0, B, 101, 7, 9, false), 7);
        assert_eq!(l.fillable(0, B, 101, 100, 2, false), 10);
        assert_eq!(l.fillable(0, B, 101, 100, 2, true), 5);
        assert_eq!(l.fillable(0, B, 101, 100, 1, true), 0);
        assert_eq!(l.fillable(0, B, 99, 100, 9, false), 0);
        assert_eq!(l.fillable(0, S, 0, 100, 9, false), 0);
        // literal TS arithmetic for want <= 0
        assert_eq!(l.fillable(0, B, 101, 0, 9, false), 0);
        assert_eq!(l.fillable(0, B, 101, -3, 9, false), -3);
    }

    #[test]
    fn depth_order_and_buffer_check() {
        let mut o = One::new();
        for p in [5, 3, 9, 1] {
            o.add(B, p, p, 0).unwrap();
            o.add(B, p, 1, 0).unwrap();
        }
        let l = &o.l;
        let mut out = vec![0.0; 9];
        assert_eq!(l.depth(0, B, 3, &mut out).unwrap(), 3);
        assert_eq!(out, vec![9.0, 10.0, 2.0, 5.0, 6.0, 2.0, 3.0, 4.0, 2.0]);
        assert_eq!(l.depth(0, B, 100, &mut [0.0; 12]).unwrap(), 4);
        assert!(l.depth(0, B, 4, &mut out).is_err());
        assert_eq!(l.depth(0, S, 4, &mut []).unwrap(), 0);
    }

    #[test]
    fn input_validation() {
        let mut o = One::new();
        assert!(o.add(B, 1, 0, 0).is_err());
        assert!(o.add(B, 1, -1, 0).is_err());
        assert!(o.add(B, 1, 1, -1).is_err());
        assert!(o.add(B, MAX_SAFE + 1, 1, 0).is_err());
        o.add(B, 1, MAX_SAFE, 0).unwrap();
        assert_eq!(o.add(B, 1, 1, 0), Err(LadderError::LevelOverflow { price: 1 }));
        o.l.check().unwrap();
        assert!(int_arg("x", f64::NAN, 0, 10, "").is_err());
        assert!(int_arg("x", f64::INFINITY, 0, i64::MAX, "").is_err());
        assert!(int_arg("x", 1.5, 0, 10, "").is_err());
        assert!(int_arg("x", 11.0, 0, 10, "").is_err());
        assert_eq!(int_arg("x", -0.0, 0, 10, "").unwrap(), 0);
        assert_eq!(price_arg("p", -9007199254740991.0).unwrap(), -MAX_SAFE);
        assert!(price_arg("p", 9007199254740992.0).is_err());
        assert!(side_arg(2.0).is_err());
        assert!(side_arg(f64::NAN).is_err());
        assert!(handle_arg(-1.0).is_err());
        assert!(handle_arg(1e300).is_err());
        assert_eq!(handle_arg(3.0).unwrap(), 3);
        assert!(new_handle_arg(-1.0).is_err());
        assert!(new_handle_arg(0.5).is_err());
        assert!(new_handle_arg(MAX_SLOTS as f64).is_err());
        assert_eq!(new_handle_arg((MAX_SLOTS - 1) as f64).unwrap(), (MAX_SLOTS - 1) as u32);
    }

    /// Small deterministic PRNG (xorshift64*) so the test needs no crates.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A naive model: Vec of (handle, book, side, price, qty, owner, seq), priority by sort.
    /// Two books share the ladder; handles are drawn at random from those not resting
    /// (anywhere in 0..3000, so storage grows by jumps), as an engine's would be reused.
    #[test]
    fn random_ops_against_naive_model() {
        #[derive(Clone, Copy)]
        struct O {
            h: u32,
            book: usize,
            side: Side,
            price: i64,
            qty: i64,
            owner: i64,
            seq: u64,
        }
        fn ordered(m: &[O], book: usize, side: Side) -> Vec<O> {
            let mut v: Vec<O> = m.iter().copied().filter(|o| o.book == book && o.side == side).collect();
            v.sort_by_key(|o| (if side == Side::Buy { -o.price } else { o.price }, o.seq));
            v
        }
        for seed in 1..200u64 {
            let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut l = Ladder::new();
            l.add_book().unwrap();
            l.add_book().unwrap();
            let mut m: Vec<O> = Vec::new();
            let mut seq = 0u64;
            let free_handle = |r: &mut Rng, m: &[O]| loop {
                let h = r.below(3000) as u32;
                if !m.iter().any(|o| o.h == h) {
                    return h;
                }
            };
            for _ in 0..300 {
                let side = if r.below(2) == 0 { B } else { S };
                let book = r.below(2) as usize;
                match r.below(10) {
                    0..=4 => {
                        let price = 100 + r.below(12) as i64 - 6 + if side == B { -3 } else { 3 };
                        let qty = 1 + r.below(20) as i64;
                        let owner = r.below(4) as i64;
                        let h = free_handle(&mut r, &m);
                        l.add(book, side, price, qty, owner, h).unwrap();
                        seq += 1;
                        m.push(O { h, book, side, price, qty, owner, seq });
                        // and the same handle again is refused
                        assert_eq!(l.add(1 - book, side, price, qty, owner, h), Err(LadderError::HandleResting(h)));
                    }
                    5 if !m.is_empty() => {
                        let i = r.below(m.len() as u64) as usize;
                        assert_eq!(l.remove(m[i].h).unwrap(), m[i].book);
                        m.remove(i);
                    }
                    6 if !m.is_empty() => {
                        let i = r.below(m.len() as u64) as usize;
                        if m[i].qty > 1 {
                            let q = 1 + r.below(m[i].qty as u64 - 1) as i64;
                            l.reduce(m[i].h, q).unwrap();
                            m[i].qty = q;
                        }
                    }
                    _ => {
                        let limit = 100 + r.below(16) as i64 - 8;
                        let want = 1 + r.below(80) as i64;
                        let owner = r.below(6) as i64;
                        let cap = r.below(5) as usize;
                        let rest = r.below(2) == 0;
                        let rest_h = free_handle(&mut r, &m);
                        let expect_fillable = {
                            let mut sum = 0;
                            let mut res = None;
                            for o in ordered(&m, book, side.opposite()) {
                                if Ladder::beyond(side, o.price, limit) {
                                    break;
                                }
                                if o.owner == owner {
                                    break;
                                }
                                sum += o.qty;
                                if sum >= want {
                                    res = Some(want);
                                    break;
                                }
                            }
                            res.unwrap_or(sum)
                        };
                        assert_eq!(l.fillable(book, side, limit, want, owner, true), expect_fillable);
                        let mut io = vec![0.0; IO_HEADER + cap * FILL_STRIDE];
                        let n = l.match_io(book, side, limit, want, owner, cap, rest, rest_h, &mut io).unwrap();
                        // model walk
                        let mut left = want;
                        let mut k = 0;
                        let mut stop = STOP_DONE;
                        for o in ordered(&m, book, side.opposite()) {
                            if left == 0 || Ladder::beyond(side, o.price, limit) {
                                break;
                            }
                            if o.owner == owner {
                                stop = o.h as f64;
                                break;
                            }
                            if k == cap {
                                stop = STOP_FULL;
                                break;
                            }
                            let q = o.qty.min(left);
                            left -= q;
                            let at = IO_HEADER + k * FILL_STRIDE;
                            let rc = &io[at..at + FILL_STRIDE];
                            assert_eq!(rc[F_HANDLE], o.h as f64);
                            assert_eq!(rc[F_PRICE], o.price as f64);
                            assert_eq!(rc[F_QTY], q as f64);
                            assert_eq!(rc[F_LEAVES], (o.qty - q) as f64);
                            let mi = m.iter().position(|x| x.h == o.h).unwrap();
                            if o.qty == q {
                                m.remove(mi);
                            } else {
                                m[mi].qty -= q;
                            }
                            let at_level = |x: &&O| x.book == o.book && x.side == o.side && x.price == o.price;
                            let lq: i64 = m.iter().filter(at_level).map(|x| x.qty).sum();
                            let lc = m.iter().filter(at_level).count();
                            assert_eq!(rc[F_LEVEL_QTY], lq as f64);
                            assert_eq!(rc[F_LEVEL_ORDERS], lc as f64);
                            k += 1;
                        }
                        assert_eq!(n, k);
                        assert_eq!(io[IO_STOP], stop);
                        if rest && stop == STOP_DONE && left > 0 {
                            assert_eq!(io[IO_HANDLE], rest_h as f64);
                            seq += 1;
                            m.push(O { h: rest_h, book, side, price: limit, qty: left, owner, seq });
                        } else {
                            assert_eq!(io[IO_HANDLE], -1.0);
                        }
                    }
                }
                l.check().unwrap();
                for b in 0..2 {
                    assert_eq!(l.order_count(b), m.iter().filter(|o| o.book == b).count());
                    for s in [B, S] {
                        let hs: Vec<u32> = ordered(&m, b, s).iter().map(|o| o.h).collect();
                        assert_eq!(l.handles(b, s), hs);
                    }
                }
            }
        }
    }

    #[test]
    fn op_code_is_the_exact_integer_test() {
        let reference = |op: f64| if op >= 1.0 && op <= OP_MAX as f64 && (op as i64) as f64 == op { op as i64 } else { 0 };
        // every double whose 48 low bits are zero (all the ones op_code can accept), both signs
        for top in 0u64..=0xFFFF {
            let op = f64::from_bits(top << 48);
            assert_eq!(op_code(op), reference(op), "top bits {top:#x} ({op})");
        }
        for op in [0.0, -0.0, 0.5, 1.5, 12.5, 13.0, 13.5, 14.0, -1.0, f64::NAN, -f64::NAN, f64::INFINITY, 1.0 + f64::EPSILON,
                   12.0 - 1e-12, 2f64.powi(53), f64::MIN_POSITIVE, f64::from_bits(1.0f64.to_bits() | 1)] {
            assert_eq!(op_code(op), reference(op), "{op}");
        }
        for k in 1..=OP_MAX {
            assert_eq!(op_code(k as f64), k);
        }
    }

    #[test]
    fn layout_is_consistent() {
        let get = |k: &str| LAYOUT.iter().find(|(n, _)| *n == k).map(|(_, v)| *v).expect(k);
        // every name once
        let mut names: Vec<&str> = LAYOUT.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a name appears twice in LAYOUT");
        // header slots distinct, below the operands; operands (op + 8) below the fills
        let mut header: Vec<usize> = vec![
            IO_STOP, IO_COUNT, IO_HANDLE, IO_LEVEL_QTY, IO_LEVEL_ORDERS, IO_RESULT, IO_BEST, IO_BEST + 1, IO_BEST_BOOK,
        ];
        header.sort_unstable();
        header.dedup();
        assert_eq!(header.len(), 9);
        assert!(header.iter().all(|&h| h < IO_ARGS));
        assert!(IO_ARGS + IO_ARGC <= IO_HEADER);
        // fill fields distinct, within the stride
        let mut f = vec![F_HANDLE, F_PRICE, F_QTY, F_LEAVES, F_LEVEL_QTY, F_LEVEL_ORDERS];
        f.sort_unstable();
        f.dedup();
        assert_eq!(f.len(), 6);
        assert!(f.iter().all(|&x| x < FILL_STRIDE));
        assert_eq!(get("IO_LENGTH"), (IO_HEADER + FILL_CAPACITY * FILL_STRIDE) as f64);
        // op codes: exactly 1..=OP_MAX, each once
        let mut ops: Vec<i64> =
            LAYOUT.iter().filter(|(n, _)| n.starts_with("OP_")).map(|(_, v)| *v as i64).collect();
        ops.sort_unstable();
        assert_eq!(ops, (1..=OP_MAX).collect::<Vec<_>>());
        // stop codes negative (a handle is >= 0), sides as side_arg reads them
        assert!(STOP_DONE < 0.0 && STOP_FULL < 0.0 && STOP_DONE != STOP_FULL);
        assert_eq!(side_arg(get("BUY")).unwrap(), Side::Buy);
        assert_eq!(side_arg(get("SELL")).unwrap(), Side::Sell);
        assert_eq!(get("NO_LIMIT_BUY"), 9_007_199_254_740_991.0);
        assert_eq!(get("NO_LIMIT_SELL"), -9_007_199_254_740_991.0);
        // every value a JS number holds exactly
        assert!(LAYOUT.iter().all(|(_, v)| v.fract() == 0.0 && v.abs() <= MAX_SAFE as f64));
    }
}
