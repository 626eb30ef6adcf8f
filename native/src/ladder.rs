//! Price-level ladder of one order book (both sides): plain Rust, no N-API types.
//!
//! The behaviour is specified in `native/ladder.ts` and referenced by the pure
//! TypeScript implementation `native/ts-ladder.ts`; this module must agree with
//! it on everything observable (fill order, quantities, level aggregates, stop
//! reasons, depth and priority order). Handle numbers may differ in principle,
//! but the slab below allocates them exactly like TsLadder does (LIFO free list,
//! then the next never-used slot), so in practice they are the same.
//!
//! Layout: orders live in a slab (`Vec<Slot>`) indexed by handle, linked into
//! per-level FIFO queues by intrusive `prev`/`next` indices. Each side keeps its
//! levels in a `BTreeMap<price, Level>`: asks are walked from the first key,
//! bids from the last.
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
/// Largest number of order slots (handles are `0..MAX_SLOTS`).
pub const MAX_SLOTS: usize = i32::MAX as usize;

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
/// best price of each side (NaN: empty) as of the last add/remove/reduce/match, so
/// `best()` reads memory instead of crossing; +Infinity once the ladder is poisoned.
pub const IO_BEST: usize = 6;
/// Operands of a call through the native hot function (io[IO_ARGS..IO_ARGS + 8]).
pub const IO_ARGS: usize = 8;
pub const IO_HEADER: usize = 16;
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
/// The largest op code (codes are 1..=OP_MAX).
pub const OP_MAX: i64 = 12;

/// The op code `op` holds, or 0 when it is anything but an exact integer in 1..=OP_MAX
/// (NaN, infinities, fractions, -0, out of range). Decided on the bits with integer
/// compares, not by a float -> int -> float round trip: JS stores the op just before
/// the call and every call waits on this decision first (the conversions put ~10
/// cycles of latency there). An integer 1..=12 as a double has 48 low bits of zero
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
        _ => 0,
    }
}

/// Version of the io layout and op protocol: bump it on any change to the
/// meaning of a slot or an op (a change that keeps every number the same but
/// alters what they mean), in step with native/layout.ts.
pub const LAYOUT_VERSION: u32 = 1;

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
    /// The handle does not name a resting order (never issued or already gone).
    UnknownHandle(String),
    /// reduce() with a quantity that is not in 0 < qty <= current.
    BadReduce { handle: u32, qty: i64, current: i64 },
    /// The level's aggregate quantity would leave the JS safe-integer range.
    LevelOverflow { price: i64 },
    /// The output buffer cannot hold what the call must write.
    BufferTooSmall { arg: &'static str, needed: usize, got: usize },
    /// No more order slots.
    Full,
}

impl fmt::Display for LadderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LadderError::BadNumber { arg, value, expected } => {
                write!(f, "invalid {arg}: {value} (expected {expected})")
            }
            LadderError::UnknownHandle(h) => write!(f, "unknown order handle {h}: no resting order has it"),
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
            LadderError::Full => write!(f, "ladder full: too many resting orders"),
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

#[derive(Clone, Copy, Debug)]
struct Slot {
    qty: i64,
    /// 0..=MAX_OWNER (the price is the level's)
    owner: i32,
    prev: u32,
    /// Next order in the level's queue; for a free slot, the next free slot.
    next: u32,
    /// Index of its level in `Ladder::levels`.
    level: u32,
    side: Side,
    live: bool,
}

#[derive(Clone, Copy, Debug)]
struct Level {
    price: i64,
    qty: i64,
    head: u32,
    tail: u32,
    count: u32,
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

/// One side's levels: ordered by price (for walks) and hashed by price (for add).
#[derive(Debug, Default)]
struct Book {
    /// price -> level index; bids are walked from the last key, asks from the first
    tree: BTreeMap<i64, u32>,
    index: FxMap,
    /// best level index, NIL when the side is empty
    best: u32,
}

#[derive(Debug)]
pub struct Ladder {
    slots: Vec<Slot>,
    free: Option<u32>,
    live: usize,
    levels: Vec<Level>,
    level_free: Vec<u32>,
    /// index 0 = bids, 1 = asks
    sides: [Book; 2],
    /// [qty, orders] of the level the last add/remove/reduce touched (0, 0: gone)
    last: (i64, u32),
}

impl Default for Ladder {
    fn default() -> Self {
        Ladder {
            slots: Vec::new(),
            free: None,
            live: 0,
            levels: Vec::new(),
            level_free: Vec::new(),
            sides: [Book { best: NIL, ..Book::default() }, Book { best: NIL, ..Book::default() }],
            last: (0, 0),
        }
    }
}

/// Takes `h` out of its level's queue and puts its slot on the free list.
/// The level's quantity is the caller's business.
#[inline]
fn unlink(slots: &mut [Slot], free: &mut Option<u32>, live: &mut usize, lv: &mut Level, h: u32) {
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
    *live -= 1;
    let s = &mut slots[h as usize];
    s.live = false;
    s.next = free.unwrap_or(NIL);
    *free = Some(h);
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
fn drop_level(book: &mut Book, levels: &[Level], level_free: &mut Vec<u32>, side: Side, li: u32) {
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

    fn slot(&self, h: u32) -> Result<&Slot> {
        match self.slots.get(h as usize) {
            Some(s) if s.live => Ok(s),
            _ => Err(LadderError::UnknownHandle(h.to_string())),
        }
    }

    #[inline]
    fn level_at(&self, side: Side, price: i64) -> Option<&Level> {
        self.sides[side.idx()].index.get(&price).map(|&li| &self.levels[li as usize])
    }

    /// Rests an order at the back of its level's FIFO queue; returns its handle.
    pub fn add(&mut self, side: Side, price: i64, qty: i64, owner: i64) -> Result<u32> {
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
        let found = self.sides[side.idx()].index.get(&price).copied();
        if let Some(li) = found {
            if self.levels[li as usize].qty > MAX_SAFE - qty {
                return Err(LadderError::LevelOverflow { price });
            }
        }
        if self.free.is_none() && self.slots.len() >= MAX_SLOTS {
            return Err(LadderError::Full);
        }
        let li = match found {
            Some(li) => li,
            None => self.new_level(side, price),
        };
        let h = match self.free {
            Some(h) => {
                let next = self.slots[h as usize].next;
                self.free = if next == NIL { None } else { Some(next) };
                h
            }
            None => {
                self.slots.push(Slot { qty: 0, owner: 0, prev: NIL, next: NIL, level: NIL, side, live: false });
                (self.slots.len() - 1) as u32
            }
        };
        let lv = &mut self.levels[li as usize];
        let tail = lv.tail;
        self.slots[h as usize] = Slot { qty, owner: owner as i32, prev: tail, next: NIL, level: li, side, live: true };
        if tail == NIL {
            lv.head = h;
        } else {
            self.slots[tail as usize].next = h;
        }
        lv.tail = h;
        lv.qty += qty;
        lv.count += 1;
        self.last = (lv.qty, lv.count);
        self.live += 1;
        Ok(h)
    }

    fn new_level(&mut self, side: Side, price: i64) -> u32 {
        let lv = Level { price, qty: 0, head: NIL, tail: NIL, count: 0 };
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
        let book = &mut self.sides[side.idx()];
        book.tree.insert(price, li);
        book.index.insert(price, li);
        if book.best == NIL || better(side, price, self.levels[book.best as usize].price) {
            book.best = li;
        }
        li
    }

    /// Takes a resting order out of the book.
    pub fn remove(&mut self, h: u32) -> Result<()> {
        let s = *self.slot(h)?;
        let lv = &mut self.levels[s.level as usize];
        lv.qty -= s.qty;
        unlink(&mut self.slots, &mut self.free, &mut self.live, lv, h);
        self.last = (lv.qty, lv.count);
        if lv.count == 0 {
            drop_level(&mut self.sides[s.side.idx()], &self.levels, &mut self.level_free, s.side, s.level);
        }
        Ok(())
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

    pub fn best(&self, side: Side) -> Option<i64> {
        let b = self.sides[side.idx()].best;
        if b == NIL {
            None
        } else {
            Some(self.levels[b as usize].price)
        }
    }

    pub fn level_qty(&self, side: Side, price: i64) -> i64 {
        self.level_at(side, price).map_or(0, |l| l.qty)
    }

    pub fn level_orders(&self, side: Side, price: i64) -> u32 {
        self.level_at(side, price).map_or(0, |l| l.count)
    }

    pub fn level_count(&self, side: Side) -> usize {
        self.sides[side.idx()].tree.len()
    }

    pub fn order_count(&self) -> usize {
        self.live
    }

    pub fn qty_of(&self, h: u32) -> Result<i64> {
        Ok(self.slot(h)?.qty)
    }

    pub fn price_of(&self, h: u32) -> Result<i64> {
        let s = self.slot(h)?;
        Ok(self.levels[s.level as usize].price)
    }

    pub fn side_of(&self, h: u32) -> Result<Side> {
        Ok(self.slot(h)?.side)
    }

    /// Levels of a side, best first.
    fn levels(&self, side: Side) -> Box<dyn Iterator<Item = (i64, &Level)> + '_> {
        let tree = &self.sides[side.idx()].tree;
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

    /// What an aggressor on `side` limited to `limit` could fill, at most `want`
    /// (same walk and same arithmetic as TsLadder.fillable, including want <= 0).
    pub fn fillable(&self, side: Side, limit: i64, want: i64, owner: i64, stop_at_owner: bool) -> i64 {
        // statically dispatched walk order (`levels()` boxes its iterator: an allocation per call)
        let tree = &self.sides[side.opposite().idx()].tree;
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

    /// The walk (see `Ladder.match` in native/ladder.ts). `fills` must hold at
    /// least the header slot; it holds (len - 1) / FILL_STRIDE records.
    pub fn match_into(&mut self, side: Side, limit: i64, want: i64, owner: i64, fills: &mut [f64]) -> Result<usize> {
        if fills.is_empty() {
            return Err(LadderError::BufferTooSmall { arg: "fills", needed: 1, got: 0 });
        }
        let cap = (fills.len() - 1) / FILL_STRIDE;
        let (n, stop, _) = self.walk(side, limit, want, owner, fills, 1, cap);
        fills[0] = stop;
        Ok(n)
    }

    /// The engine's call (see `Ladder.match` in native/ladder.ts): the walk, at most
    /// `cap` fills written from `io[IO_HEADER]`, then, when `rest` is set, the walk
    /// ended with STOP_DONE and quantity is left, that remainder rests at `limit`.
    /// Header: io[IO_STOP] stop reason, io[IO_COUNT] fills, io[IO_HANDLE] the new
    /// resting handle or -1, io[IO_LEVEL_QTY], io[IO_LEVEL_ORDERS] its level after.
    /// Every check runs before anything changes (a rest that could overflow its
    /// level or find no slot is refused up front, judged on the whole `want`).
    #[allow(clippy::too_many_arguments)]
    pub fn match_io(&mut self, side: Side, limit: i64, want: i64, owner: i64, cap: usize, rest: bool, io: &mut [f64]) -> Result<usize> {
        let room = io.len().saturating_sub(IO_HEADER) / FILL_STRIDE;
        if io.len() < IO_HEADER || cap > room {
            let needed = IO_HEADER + cap.saturating_mul(FILL_STRIDE);
            return Err(LadderError::BufferTooSmall { arg: "io", needed, got: io.len() });
        }
        if rest && want > 0 {
            if !(0..=MAX_OWNER).contains(&owner) {
                return Err(LadderError::BadNumber {
                    arg: "owner",
                    value: owner.to_string(),
                    expected: "an integer in 0..2^31 - 1 (to rest)",
                });
            }
            if let Some(lv) = self.level_at(side, limit) {
                if lv.qty > MAX_SAFE - want {
                    return Err(LadderError::LevelOverflow { price: limit });
                }
            }
            if self.free.is_none() && self.slots.len() >= MAX_SLOTS {
                return Err(LadderError::Full);
            }
        }
        let (n, stop, left) = self.walk(side, limit, want, owner, io, IO_HEADER, cap);
        io[IO_STOP] = stop;
        io[IO_COUNT] = n as f64;
        if rest && stop == STOP_DONE && left > 0 {
            let h = self.add(side, limit, left, owner)?;
            io[IO_HANDLE] = h as f64;
            io[IO_LEVEL_QTY] = self.last.0 as f64;
            io[IO_LEVEL_ORDERS] = self.last.1 as f64;
        } else {
            io[IO_HANDLE] = -1.0;
        }
        Ok(n)
    }

    /// The walk itself: fills written as records from `out[base]`, at most `cap`.
    /// Returns (fills, stop reason, quantity left of `want`).
    ///
    /// Orders always leave a level from its head, so the inner loop keeps the level's
    /// head, quantity and count, the free list and the live count in locals and writes
    /// them back once per level (the general `unlink` went through memory for each of
    /// them on every fill); records are written through `chunks_exact_mut` (no bounds
    /// check per field).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn walk(&mut self, side: Side, limit: i64, mut want: i64, owner: i64, out: &mut [f64], base: usize, cap: usize) -> (usize, f64, i64) {
        let opp = side.opposite();
        let Ladder { slots, free, live, levels, level_free, sides, .. } = self;
        let book = &mut sides[opp.idx()];
        let mut n = 0usize;
        let mut stop = STOP_DONE;
        let mut recs = out[base..base + cap * FILL_STRIDE].chunks_exact_mut(FILL_STRIDE);
        let mut free_head = free.unwrap_or(NIL);
        let mut live_n = *live;
        while want > 0 {
            let li = book.best;
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
                    // filled: the head leaves the queue and its slot goes on the free list
                    head = s.next;
                    s.qty = 0;
                    s.live = false;
                    s.next = free_head;
                    free_head = h;
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
                drop_level(book, levels, level_free, opp, li);
            }
            if stop != STOP_DONE {
                break;
            }
        }
        *free = if free_head == NIL { None } else { Some(free_head) };
        *live = live_n;
        (n, stop, want)
    }

    /// Best `n` levels of a side into `out` as [price, qty, orders] triples.
    /// `out` must hold 3 * min(n, levelCount) values.
    pub fn depth(&self, side: Side, n: usize, out: &mut [f64]) -> Result<usize> {
        let k = n.min(self.level_count(side));
        let needed = k.saturating_mul(3);
        if out.len() < needed {
            return Err(LadderError::BufferTooSmall { arg: "depth", needed, got: out.len() });
        }
        for (i, (price, lv)) in self.levels(side).take(k).enumerate() {
            out[i * 3] = price as f64;
            out[i * 3 + 1] = lv.qty as f64;
            out[i * 3 + 2] = lv.count as f64;
        }
        Ok(k)
    }

    /// Handles of a side in priority order: best price first, FIFO in a level.
    pub fn handles(&self, side: Side) -> Vec<u32> {
        let mut out = Vec::new();
        for (_, lv) in self.levels(side) {
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
        for side in [Side::Buy, Side::Sell] {
            let book = &self.sides[side.idx()];
            if book.index.len() != book.tree.len() {
                return Err("price index and tree disagree".into());
            }
            let want_best = self.levels(side).next().map(|(p, _)| p);
            if self.best(side) != want_best {
                return Err(format!("cached best {:?} is not {:?}", self.best(side), want_best));
            }
            for (&price, &li) in &book.tree {
                let lv = &self.levels[li as usize];
                if book.index.get(&price) != Some(&li) || lv.price != price || self.level_free.contains(&li) {
                    return Err(format!("level {price} badly indexed"));
                }
                if lv.count == 0 {
                    return Err(format!("empty level {price} kept"));
                }
                let (mut h, mut prev, mut n, mut q) = (lv.head, NIL, 0u32, 0i64);
                while h != NIL {
                    let s = &self.slots[h as usize];
                    if !s.live || s.side != side || s.prev != prev || s.qty <= 0 || s.level != li {
                        return Err(format!("bad slot {h} in level {price}"));
                    }
                    n += 1;
                    q += s.qty;
                    prev = h;
                    h = s.next;
                }
                if prev != lv.tail || n != lv.count || q != lv.qty {
                    return Err(format!("level {price} aggregates disagree"));
                }
                seen += n as usize;
            }
        }
        if seen != self.live || self.slots.iter().filter(|s| s.live).count() != self.live {
            return Err("live count disagrees".into());
        }
        let mut free = 0usize;
        let mut f = self.free.unwrap_or(NIL);
        while f != NIL {
            if self.slots[f as usize].live || free > self.slots.len() {
                return Err("bad free list".into());
            }
            free += 1;
            f = self.slots[f as usize].next;
        }
        if free + self.live != self.slots.len() {
            return Err("slots leaked".into());
        }
        if self.level_free.len() + self.sides[0].tree.len() + self.sides[1].tree.len() != self.levels.len() {
            return Err("level slots leaked".into());
        }
        Ok(())
    }
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

    #[test]
    fn slot_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
    }

    #[test]
    fn add_and_aggregates() {
        let mut l = Ladder::new();
        let a = l.add(B, 100, 5, 1).unwrap();
        let b = l.add(B, 100, 7, 2).unwrap();
        let c = l.add(B, 101, 1, 3).unwrap();
        let d = l.add(S, 105, 4, 4).unwrap();
        assert_eq!((a, b, c, d), (0, 1, 2, 3));
        assert_eq!(l.best(B), Some(101));
        assert_eq!(l.best(S), Some(105));
        assert_eq!(l.level_qty(B, 100), 12);
        assert_eq!(l.level_orders(B, 100), 2);
        assert_eq!(l.level_qty(B, 99), 0);
        assert_eq!(l.level_count(B), 2);
        assert_eq!(l.order_count(), 4);
        assert_eq!(l.handles(B), vec![c, a, b]);
        assert_eq!(l.handles(S), vec![d]);
        l.check().unwrap();
    }

    #[test]
    fn empty_best_is_none() {
        let l = Ladder::new();
        assert_eq!(l.best(B), None);
        assert_eq!(l.best(S), None);
    }

    #[test]
    fn remove_reuses_slots_lifo_like_ts() {
        let mut l = Ladder::new();
        let a = l.add(S, 10, 1, 0).unwrap();
        let b = l.add(S, 11, 1, 0).unwrap();
        l.remove(a).unwrap();
        l.remove(b).unwrap();
        assert_eq!(l.level_count(S), 0);
        assert_eq!(l.best(S), None);
        assert_eq!(l.add(S, 12, 1, 0).unwrap(), b);
        assert_eq!(l.add(S, 12, 1, 0).unwrap(), a);
        assert_eq!(l.add(S, 12, 1, 0).unwrap(), 2);
        l.check().unwrap();
    }

    #[test]
    fn freed_handle_is_rejected() {
        let mut l = Ladder::new();
        let a = l.add(S, 10, 1, 0).unwrap();
        l.remove(a).unwrap();
        assert!(matches!(l.remove(a), Err(LadderError::UnknownHandle(_))));
        assert!(l.qty_of(a).is_err());
        assert!(l.price_of(99).is_err());
        assert!(l.reduce(a, 1).is_err());
    }

    #[test]
    fn reduce_keeps_place() {
        let mut l = Ladder::new();
        let a = l.add(S, 10, 5, 0).unwrap();
        let b = l.add(S, 10, 5, 0).unwrap();
        l.reduce(a, 2).unwrap();
        assert_eq!(l.level_qty(S, 10), 7);
        assert_eq!(l.handles(S), vec![a, b]);
        assert!(l.reduce(a, 0).is_err());
        assert!(l.reduce(a, 3).is_err());
        l.reduce(a, 2).unwrap();
        l.check().unwrap();
    }

    #[test]
    fn match_walks_best_first_fifo() {
        let mut l = Ladder::new();
        let a = l.add(S, 101, 5, 1).unwrap();
        let b = l.add(S, 100, 3, 2).unwrap();
        let c = l.add(S, 100, 4, 3).unwrap();
        let mut f = buf(16);
        let n = l.match_into(B, 101, 9, 9, &mut f).unwrap();
        assert_eq!(n, 3);
        assert_eq!(f[0], STOP_DONE);
        assert_eq!(rec(&f, 0), [b as f64, 100.0, 3.0, 0.0, 4.0, 1.0]);
        assert_eq!(rec(&f, 1), [c as f64, 100.0, 4.0, 0.0, 0.0, 0.0]);
        assert_eq!(rec(&f, 2), [a as f64, 101.0, 2.0, 3.0, 3.0, 1.0]);
        assert_eq!(l.best(S), Some(101));
        assert_eq!(l.qty_of(a).unwrap(), 3);
        assert_eq!(l.level_count(S), 1);
        l.check().unwrap();
    }

    #[test]
    fn match_respects_limit_and_sell_side() {
        let mut l = Ladder::new();
        l.add(B, 100, 5, 1).unwrap();
        l.add(B, 99, 5, 1).unwrap();
        let mut f = buf(4);
        let n = l.match_into(S, 100, 50, 9, &mut f).unwrap();
        assert_eq!(n, 1);
        assert_eq!(f[0], STOP_DONE);
        assert_eq!(l.best(B), Some(99));
        let n = l.match_into(S, -MAX_SAFE, 50, 9, &mut f).unwrap();
        assert_eq!(n, 1);
        assert_eq!(l.best(B), None);
        l.check().unwrap();
    }

    #[test]
    fn match_own_order_stops_before_full() {
        let mut l = Ladder::new();
        let a = l.add(S, 100, 1, 1).unwrap();
        let b = l.add(S, 100, 1, 7).unwrap();
        l.add(S, 100, 1, 1).unwrap();
        let mut f = buf(1);
        let n = l.match_into(B, 100, 10, 7, &mut f).unwrap();
        assert_eq!(n, 1);
        assert_eq!(f[0], b as f64, "own order is checked before capacity");
        assert_eq!(rec(&f, 0)[0], a as f64);
        // capacity 0: full before anything
        let mut f0 = vec![0.0; 3];
        assert_eq!(l.match_into(B, 100, 10, 9, &mut f0).unwrap(), 0);
        assert_eq!(f0[0], STOP_FULL);
        // a full buffer stops, then the remainder continues
        let mut f1 = buf(1);
        l.add(S, 101, 1, 1).unwrap();
        l.remove(b).unwrap();
        assert_eq!(l.match_into(B, 200, 10, 9, &mut f1).unwrap(), 1);
        assert_eq!(f1[0], STOP_FULL);
        assert_eq!(l.match_into(B, 200, 9, 9, &mut f1).unwrap(), 1);
        assert_eq!(f1[0], STOP_DONE);
        assert_eq!(l.order_count(), 0);
        l.check().unwrap();
    }

    #[test]
    fn match_want_zero_and_empty_buffer() {
        let mut l = Ladder::new();
        l.add(S, 100, 1, 1).unwrap();
        let mut f = buf(1);
        f[0] = 5.0;
        assert_eq!(l.match_into(B, 100, 0, 1, &mut f).unwrap(), 0);
        assert_eq!(f[0], STOP_DONE);
        assert!(l.match_into(B, 100, 1, 2, &mut []).is_err());
        assert_eq!(l.order_count(), 1);
    }

    #[test]
    fn fillable_semantics() {
        let mut l = Ladder::new();
        l.add(S, 100, 5, 1).unwrap();
        l.add(S, 100, 5, 2).unwrap();
        l.add(S, 101, 5, 1).unwrap();
        assert_eq!(l.fillable(B, 101, 100, 9, false), 15);
        assert_eq!(l.fillable(B, 100, 100, 9, false), 10);
        assert_eq!(l.fillable(B, 101, 7, 9, false), 7);
        assert_eq!(l.fillable(B, 101, 100, 2, false), 10);
        assert_eq!(l.fillable(B, 101, 100, 2, true), 5);
        assert_eq!(l.fillable(B, 101, 100, 1, true), 0);
        assert_eq!(l.fillable(B, 99, 100, 9, false), 0);
        assert_eq!(l.fillable(S, 0, 100, 9, false), 0);
        // literal TS arithmetic for want <= 0
        assert_eq!(l.fillable(B, 101, 0, 9, false), 0);
        assert_eq!(l.fillable(B, 101, -3, 9, false), -3);
    }

    #[test]
    fn depth_order_and_buffer_check() {
        let mut l = Ladder::new();
        for p in [5, 3, 9, 1] {
            l.add(B, p, p, 0).unwrap();
            l.add(B, p, 1, 0).unwrap();
        }
        let mut out = vec![0.0; 9];
        assert_eq!(l.depth(B, 3, &mut out).unwrap(), 3);
        assert_eq!(out, vec![9.0, 10.0, 2.0, 5.0, 6.0, 2.0, 3.0, 4.0, 2.0]);
        assert_eq!(l.depth(B, 100, &mut [0.0; 12]).unwrap(), 4);
        assert!(l.depth(B, 4, &mut out).is_err());
        assert_eq!(l.depth(S, 4, &mut []).unwrap(), 0);
    }

    #[test]
    fn input_validation() {
        let mut l = Ladder::new();
        assert!(l.add(B, 1, 0, 0).is_err());
        assert!(l.add(B, 1, -1, 0).is_err());
        assert!(l.add(B, 1, 1, -1).is_err());
        assert!(l.add(B, MAX_SAFE + 1, 1, 0).is_err());
        l.add(B, 1, MAX_SAFE, 0).unwrap();
        assert_eq!(l.add(B, 1, 1, 0), Err(LadderError::LevelOverflow { price: 1 }));
        l.check().unwrap();
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

    /// A naive model: Vec of (handle, side, price, qty, owner, seq), priority by sort.
    #[test]
    fn random_ops_against_naive_model() {
        #[derive(Clone, Copy)]
        struct O {
            h: u32,
            side: Side,
            price: i64,
            qty: i64,
            owner: i64,
            seq: u64,
        }
        fn ordered(m: &[O], side: Side) -> Vec<O> {
            let mut v: Vec<O> = m.iter().copied().filter(|o| o.side == side).collect();
            v.sort_by_key(|o| (if side == Side::Buy { -o.price } else { o.price }, o.seq));
            v
        }
        for seed in 1..200u64 {
            let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut l = Ladder::new();
            let mut m: Vec<O> = Vec::new();
            let mut seq = 0u64;
            for _ in 0..300 {
                let side = if r.below(2) == 0 { B } else { S };
                match r.below(10) {
                    0..=4 => {
                        let price = 100 + r.below(12) as i64 - 6 + if side == B { -3 } else { 3 };
                        let qty = 1 + r.below(20) as i64;
                        let owner = r.below(4) as i64;
                        let h = l.add(side, price, qty, owner).unwrap();
                        seq += 1;
                        m.push(O { h, side, price, qty, owner, seq });
                    }
                    5 if !m.is_empty() => {
                        let i = r.below(m.len() as u64) as usize;
                        l.remove(m[i].h).unwrap();
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
                        let expect_fillable = {
                            let mut sum = 0;
                            let mut res = None;
                            for o in ordered(&m, side.opposite()) {
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
                        assert_eq!(l.fillable(side, limit, want, owner, true), expect_fillable);
                        let mut f = buf(cap);
                        let n = l.match_into(side, limit, want, owner, &mut f).unwrap();
                        // model walk
                        let mut left = want;
                        let mut k = 0;
                        let mut stop = STOP_DONE;
                        for o in ordered(&m, side.opposite()) {
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
                            let rc = rec(&f, k);
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
                            let lq: i64 = m.iter().filter(|x| x.side == o.side && x.price == o.price).map(|x| x.qty).sum();
                            let lc = m.iter().filter(|x| x.side == o.side && x.price == o.price).count();
                            assert_eq!(rc[F_LEVEL_QTY], lq as f64);
                            assert_eq!(rc[F_LEVEL_ORDERS], lc as f64);
                            k += 1;
                        }
                        assert_eq!(n, k);
                        assert_eq!(f[0], stop);
                    }
                }
                l.check().unwrap();
                assert_eq!(l.order_count(), m.len());
                for s in [B, S] {
                    let hs: Vec<u32> = ordered(&m, s).iter().map(|o| o.h).collect();
                    assert_eq!(l.handles(s), hs);
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
        for op in [0.0, -0.0, 0.5, 1.5, 12.5, 13.0, -1.0, f64::NAN, -f64::NAN, f64::INFINITY, 1.0 + f64::EPSILON,
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
        // header slots distinct, below the operands; operands (op + 7) below the fills
        let mut header: Vec<usize> =
            vec![IO_STOP, IO_COUNT, IO_HANDLE, IO_LEVEL_QTY, IO_LEVEL_ORDERS, IO_RESULT, IO_BEST, IO_BEST + 1];
        header.sort_unstable();
        header.dedup();
        assert_eq!(header.len(), 8);
        assert!(header.iter().all(|&h| h < IO_ARGS));
        assert!(IO_ARGS + 8 <= IO_HEADER);
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
