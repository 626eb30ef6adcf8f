//! N-API layer. Two ways in:
//!
//! - the hot path: one plain N-API function `run()` for all ladders (`hot()`).
//!   Operands and results travel in the ladder's own io buffer, a Float64Array
//!   over memory this module allocated (`io()`): JS writes the ladder's id into the
//!   selector (a one-element Float64Array, also from `hot()`), the op code and
//!   operands to io[IO_ARGS..], calls, and reads the header and fill records back.
//!   A crossing makes no N-API call at all on success: no arguments read, no
//!   napi_unwrap, no object, no return value. Every scalar operation goes here.
//! - class `NativeLadder` methods for depth, handles and check: ordinary napi-rs
//!   glue, off the engine's per-command path.
//!
//! Both reach the same `Shared` (reference counted: the registry entry, the class
//! instance and the io ArrayBuffer each hold one count; the entry goes when the
//! class instance is collected, the buffer's count when the buffer is), so no path
//! can see freed memory whatever JS keeps or drops.

use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::ladder::{
    self, handle_arg, int_arg, new_handle_arg, price_arg, side_arg, Ladder, LadderError, FILL_CAPACITY, IO_ARGC, IO_ARGS,
    IO_BEST, IO_BEST_BOOK, IO_HANDLE, IO_LEN, IO_LEVEL_ORDERS, IO_LEVEL_QTY, IO_RESULT, MAX_SAFE, OP_ADD, OP_ADD_BOOK,
    OP_BEST, OP_FILLABLE, OP_LEVEL_COUNT, OP_LEVEL_ORDERS, OP_LEVEL_QTY, OP_MATCH, OP_ORDER_COUNT, OP_PRICE_OF, OP_QTY_OF,
    OP_REDUCE, OP_REMOVE,
};

fn js_err(e: LadderError) -> Error {
    Error::new(Status::InvalidArg, e.to_string())
}

/// Integer within +-(2^53 - 1), the range every price, limit and want lives in.
fn safe_int(arg: &'static str, v: f64) -> Result<i64> {
    int_arg(arg, v, -MAX_SAFE, MAX_SAFE, "an integer within +-(2^53 - 1)").map_err(js_err)
}

#[inline(always)]
fn safe_int_l(arg: &'static str, v: f64) -> ladder::Result<i64> {
    int_arg(arg, v, -MAX_SAFE, MAX_SAFE, "an integer within +-(2^53 - 1)")
}

// repr(C) on Core and Shared: what every crossing reads first (the io pointer, the
// RefCell flag, `poisoned`) sits together at the start of the allocation, one cache
// line, instead of wherever the compiler puts it around the Ladder.
#[repr(C)]
struct Core {
    /// Set when a panic was caught in a call that could mutate: the ladder may be
    /// half-updated, so every later call fails instead of answering wrongly.
    poisoned: bool,
    inner: Ladder,
    /// Bytes of `inner` reported to V8 as external memory: a ladder's slots grow
    /// with the largest handle, and V8 must see that to collect dead ladders in
    /// time (a test making thousands of them once ran a machine out of memory).
    reported: i64,
}

#[repr(C)]
struct Shared {
    /// IO_LEN doubles, owned here (freed when the last holder lets go).
    io: *mut f64,
    core: RefCell<Core>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: allocated in NativeLadder::new as a Box<[f64]> of IO_LEN elements.
        unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.io, IO_LEN))) };
    }
}

/// A napi_value handed back to JS as is.
pub struct Raw(sys::napi_value);

impl ToNapiValue for Raw {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::GenericFailure, format!("{what} failed (napi status {status})")))
    }
}

/// Finalizer of the io ArrayBuffer: drops its count.
unsafe extern "C" fn release_hint(env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    let shared = Rc::from_raw(hint as *const Shared);
    // the ladder is unreachable from JS now: its memory no longer counts against the heap
    if let Ok(mut core) = shared.core.try_borrow_mut() {
        let r = core.reported;
        core.reported = 0;
        if r != 0 {
            let mut total = 0i64;
            sys::napi_adjust_external_memory(env, -r, &mut total);
        }
    }
    drop(shared);
}

thread_local! {
    /// Live ladders by id, and the selector: the hot function finds its ladder here.
    /// An entry is removed when its `NativeLadder` class instance is collected; its
    /// memory lives on while the io ArrayBuffer still holds a count. `const` init:
    /// no lazy-initialisation check on the hot path.
    static LADDERS: RefCell<Registry> = const {
        RefCell::new(Registry { ladders: Vec::new(), free: Vec::new(), selector: None, sel: std::ptr::null() })
    };
}

struct Registry {
    ladders: Vec<Option<Rc<Shared>>>,
    free: Vec<u32>,
    /// The selector of this thread, made by the first `hot()`.
    selector: Option<Rc<Selector>>,
    /// Its cell (null until then), kept here so the hot path reaches the id in one
    /// load from the registry rather than through the Rc's allocation.
    sel: *const f64,
}

/// The selector: one double JS writes the ladder id into before it calls `run()`
/// (a Float64Array of length 1 over this memory, handed out by `hot()`). Passing the
/// id as an argument instead costs napi_get_cb_info + napi_get_value_double, about
/// 8-10 ns of a ~30 ns crossing; a store into a typed array costs ~1 ns.
struct Selector {
    /// One f64, owned here (freed when the last holder lets go: the registry, or an
    /// ArrayBuffer JS still keeps after the thread's registry is gone).
    cell: *mut f64,
}

impl Drop for Selector {
    fn drop(&mut self) {
        // SAFETY: allocated in `hot` as a Box<f64>.
        unsafe { drop(Box::from_raw(self.cell)) };
    }
}

/// Finalizer of the selector's ArrayBuffer: drops its count.
unsafe extern "C" fn release_selector(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    drop(Rc::from_raw(hint as *const Selector));
}

// What a crossing ended with, decided while the registry is borrowed; the JS
// exception (which allocates, so may run a GC and with it finalizers that want the
// registry) is thrown only after the borrow is released. A plain byte on purpose:
// it comes back through catch_unwind and the registry closure in a register; a
// larger value (a Result carrying the error) went through the stack and cost a
// store-forwarding stall of ~5 ns per call.
const DONE: u8 = 0;
const FAILED: u8 = 1;
const NO_LADDER: u8 = 2;
const REENTRANT: u8 = 3;
const POISON: u8 = 4;
const PANICKED: u8 = 5;

/// The hot function `run()`, one for all ladders (so the JS call site that calls it
/// stays monomorphic): reads the ladder id from the selector, the op and its operands
/// from that ladder's io buffer, runs it, writes the results there. No N-API call at
/// all on success: no arguments are read, nothing is returned.
unsafe extern "C" fn hot_cb(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
    let mut err: Option<LadderError> = None;
    let mut panic_msg = String::new();
    let mut id = f64::NAN;
    let mut grown: i64 = 0;
    let outcome = LADDERS.with(|r| {
        let Ok(r) = r.try_borrow() else { return REENTRANT };
        if r.sel.is_null() {
            return NO_LADDER;
        }
        // SAFETY: `sel` is the cell of `r.selector`, which the registry holds (it is set
        // once with it and never cleared); JS is single-threaded and blocked in this call.
        id = *r.sel;
        // NaN, negatives, fractions and huge values all fail the round trip or the bounds
        let i = id as u32;
        let shared = match r.ladders.get(i as usize) {
            Some(Some(s)) if i as f64 == id => s,
            _ => return NO_LADDER,
        };
        let Ok(mut core) = shared.core.try_borrow_mut() else { return REENTRANT };
        if core.poisoned {
            return POISON;
        }
        // SAFETY: the io memory lives while `shared` does (the registry holds it for this
        // whole closure); JS is single-threaded and blocked in this call, so nothing else
        // reads or writes it now.
        let io = std::slice::from_raw_parts_mut(shared.io, IO_LEN);
        let inner = &mut core.inner;
        let err = &mut err;
        match catch_unwind(AssertUnwindSafe(move || match run(inner, io) {
            Ok(()) => DONE,
            Err(e) => {
                *err = Some(e);
                FAILED
            }
        })) {
            Ok(code) => {
                let now = core.inner.heap_bytes() as i64;
                grown = now - core.reported;
                core.reported = now;
                code
            }
            Err(p) => {
                core.poisoned = true;
                // the published best prices may be stale now: +Infinity sends best() to
                // the crossing, which refuses the poisoned ladder
                let io = std::slice::from_raw_parts_mut(shared.io, IO_LEN);
                io[IO_BEST] = f64::INFINITY;
                io[IO_BEST + 1] = f64::INFINITY;
                panic_msg = panic_message(p);
                PANICKED
            }
        }
    });
    if grown != 0 {
        let mut total = 0i64;
        sys::napi_adjust_external_memory(env, grown, &mut total);
    }
    if outcome != DONE {
        hot_failed(env, outcome, err, id, &panic_msg);
    }
    null_mut()
}

#[cold]
#[inline(never)]
unsafe fn hot_failed(env: sys::napi_env, outcome: u8, err: Option<LadderError>, id: f64, panic_msg: &str) {
    match (outcome, err) {
        (FAILED, Some(e)) => throw(env, &e.to_string()),
        (NO_LADDER, _) => throw(env, &format!("native ladder: no live ladder with id {id}")),
        (REENTRANT, _) => throw(env, "native ladder: re-entrant call"),
        (POISON, _) => throw(env, POISONED),
        _ => throw(env, panic_msg),
    }
}

unsafe fn throw(env: sys::napi_env, msg: &str) {
    let mut bytes = msg.as_bytes().to_vec();
    bytes.retain(|&b| b != 0);
    bytes.push(0);
    sys::napi_throw_error(env, std::ptr::null(), bytes.as_ptr() as *const std::os::raw::c_char);
}

// Operands by op (io[IO_ARGS + 1..]); `book` first wherever the op is book-scoped:
//   ADD book side price qty owner handle      MATCH book side limit want owner cap rest handle
//   REMOVE handle    REDUCE handle qty        FILLABLE book side limit want owner stopAtOwner
//   BEST/LEVEL_COUNT book side    LEVEL_QTY/LEVEL_ORDERS book side price    ORDER_COUNT book
//   QTY_OF/PRICE_OF handle        ADD_BOOK (none: the new book's index in io[IO_RESULT])
#[inline(always)]
fn run(l: &mut Ladder, io: &mut [f64]) -> ladder::Result<()> {
    let a: [f64; IO_ARGC] = io[IO_ARGS..IO_ARGS + IO_ARGC].try_into().expect("io args");
    let op = a[0];
    // NaN, fractions and out-of-range codes all fall to the error arm
    match ladder::op_code(op) {
        OP_MATCH => {
            let book = l.book_arg(a[1])?;
            let side = side_arg(a[2])?;
            let limit = safe_int_l("limit", a[3])?;
            let want = safe_int_l("want", a[4])?;
            let owner = safe_int_l("owner", a[5])?;
            let cap = int_arg("cap", a[6], 0, FILL_CAPACITY as i64, "an integer in 0..256")? as usize;
            let rest = a[7] != 0.0;
            // the handle matters only to a rest (ladder.ts): otherwise it is not read
            let h = if rest && want > 0 { new_handle_arg(a[8])? } else { 0 };
            let r = l.match_io(book, side, limit, want, owner, cap, rest, h, io);
            best_out(l, io, book); // whatever the outcome: true either way
            r?;
        }
        OP_ADD => {
            let book = l.book_arg(a[1])?;
            let side = side_arg(a[2])?;
            let price = price_arg("price", a[3])?;
            let qty = int_arg("qty", a[4], 1, MAX_SAFE, "an integer in 1..2^53 - 1")?;
            let owner = int_arg("owner", a[5], 0, ladder::MAX_OWNER, "an integer in 0..2^31 - 1")?;
            let h = new_handle_arg(a[6])?;
            l.add(book, side, price, qty, owner, h)?;
            io[IO_HANDLE] = h as f64;
            level_out(l, io);
            best_out(l, io, book);
        }
        OP_REMOVE => {
            let book = l.remove(handle_arg(a[1])?)?;
            level_out(l, io);
            best_out(l, io, book);
        }
        OP_REDUCE => {
            let h = handle_arg(a[1])?;
            let qty = int_arg("qty", a[2], 1, MAX_SAFE, "an integer in 1..2^53 - 1")?;
            l.reduce(h, qty)?;
            level_out(l, io);
        }
        OP_FILLABLE => {
            let book = l.book_arg(a[1])?;
            let side = side_arg(a[2])?;
            let limit = safe_int_l("limit", a[3])?;
            let want = safe_int_l("want", a[4])?;
            let owner = safe_int_l("owner", a[5])?;
            io[IO_RESULT] = l.fillable(book, side, limit, want, owner, a[6] != 0.0) as f64;
        }
        OP_BEST => io[IO_RESULT] = l.best(l.book_arg(a[1])?, side_arg(a[2])?).map_or(f64::NAN, |p| p as f64),
        OP_LEVEL_QTY => io[IO_RESULT] = l.level_qty(l.book_arg(a[1])?, side_arg(a[2])?, price_arg("price", a[3])?) as f64,
        OP_LEVEL_ORDERS => {
            io[IO_RESULT] = l.level_orders(l.book_arg(a[1])?, side_arg(a[2])?, price_arg("price", a[3])?) as f64
        }
        OP_LEVEL_COUNT => io[IO_RESULT] = l.level_count(l.book_arg(a[1])?, side_arg(a[2])?) as f64,
        OP_ORDER_COUNT => io[IO_RESULT] = l.order_count(l.book_arg(a[1])?) as f64,
        OP_QTY_OF => io[IO_RESULT] = l.qty_of(handle_arg(a[1])?)? as f64,
        OP_PRICE_OF => io[IO_RESULT] = l.price_of(handle_arg(a[1])?)? as f64,
        OP_ADD_BOOK => io[IO_RESULT] = l.add_book()? as f64,
        _ => return Err(LadderError::BadNumber { arg: "op", value: format!("{op}"), expected: "an op code 1..13" }),
    }
    Ok(())
}

/// Publishes both best prices of `book` in io[IO_BEST..IO_BEST + 2] and the book in
/// io[IO_BEST_BOOK] (index.ts `best()` of that book reads them without crossing). Every
/// op that can change a best price (add, remove, match; reduce never does) ends here
/// with the book it touched; an op that fails changes nothing, so they stay true.
#[inline(always)]
fn best_out(l: &Ladder, io: &mut [f64], book: usize) {
    io[IO_BEST] = l.best(book, ladder::Side::Buy).map_or(f64::NAN, |p| p as f64);
    io[IO_BEST + 1] = l.best(book, ladder::Side::Sell).map_or(f64::NAN, |p| p as f64);
    io[IO_BEST_BOOK] = book as f64;
}

#[inline(always)]
fn level_out(l: &Ladder, io: &mut [f64]) {
    let (q, n) = l.last_level();
    io[IO_LEVEL_QTY] = q as f64;
    io[IO_LEVEL_ORDERS] = n as f64;
}

const POISONED: &str = "native ladder is unusable after an internal error (a Rust panic was caught earlier)";

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let msg = if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    };
    format!("native ladder internal error: {msg}")
}

/// Bytes the addon's heap holds now (heap.rs): the native share of the engine's memory.
#[napi]
pub fn heap_bytes() -> f64 {
    crate::heap::live_bytes() as f64
}

#[napi]
pub struct NativeLadder {
    shared: Rc<Shared>,
    id: u32,
}

impl Drop for NativeLadder {
    fn drop(&mut self) {
        let id = self.id;
        let _ = LADDERS.try_with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                r.ladders[id as usize] = None;
                r.free.push(id);
            }
        });
    }
}

impl NativeLadder {
    fn read<T>(&self, f: impl FnOnce(&Ladder) -> ladder::Result<T>) -> Result<T> {
        let core = self
            .shared
            .core
            .try_borrow()
            .map_err(|_| Error::new(Status::GenericFailure, "native ladder: re-entrant call"))?;
        if core.poisoned {
            return Err(Error::new(Status::GenericFailure, POISONED));
        }
        match catch_unwind(AssertUnwindSafe(|| f(&core.inner))) {
            Ok(r) => r.map_err(js_err),
            Err(p) => Err(Error::new(Status::GenericFailure, panic_message(p))),
        }
    }
}

#[napi]
impl NativeLadder {
    #[napi(constructor)]
    pub fn new() -> Self {
        let mut buf = vec![0.0f64; IO_LEN];
        buf[IO_BEST] = f64::NAN; // no book yet: nothing published
        buf[IO_BEST + 1] = f64::NAN;
        buf[IO_BEST_BOOK] = -1.0;
        let io = Box::into_raw(buf.into_boxed_slice()) as *mut f64;
        let shared = Rc::new(Shared { io, core: RefCell::new(Core { poisoned: false, inner: Ladder::new(), reported: 0 }) });
        let id = LADDERS.with(|r| {
            let mut r = r.borrow_mut();
            match r.free.pop() {
                Some(id) => {
                    r.ladders[id as usize] = Some(shared.clone());
                    id
                }
                None => {
                    r.ladders.push(Some(shared.clone()));
                    (r.ladders.len() - 1) as u32
                }
            }
        });
        NativeLadder { shared, id }
    }

    /// This ladder's id, the argument of the hot function.
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }

    #[napi(getter)]
    pub fn kind(&self) -> &'static str {
        "native"
    }

    /// The io buffer: a Float64Array over this ladder's own memory (IO_LEN doubles).
    #[napi]
    pub fn io(&self, env: Env) -> Result<Raw> {
        let raw = env.raw();
        let hint = Rc::into_raw(self.shared.clone()) as *mut c_void;
        let mut ab = null_mut();
        // SAFETY: the memory lives as long as the Rc count the finalizer releases.
        let st = unsafe {
            sys::napi_create_external_arraybuffer(
                raw,
                self.shared.io as *mut c_void,
                IO_LEN * 8,
                Some(release_hint),
                hint,
                &mut ab,
            )
        };
        if st != sys::Status::napi_ok {
            unsafe { drop(Rc::from_raw(hint as *const Shared)) };
            return Err(Error::new(Status::GenericFailure, format!("napi_create_external_arraybuffer failed ({st})")));
        }
        let mut ta = null_mut();
        check(
            unsafe { sys::napi_create_typedarray(raw, sys::TypedarrayType::float64_array, IO_LEN, ab, 0, &mut ta) },
            "napi_create_typedarray",
        )?;
        Ok(Raw(ta))
    }

    #[napi]
    pub fn depth(&self, book: f64, side: f64, n: f64, mut out: Float64ArraySlice<'_>) -> Result<u32> {
        // SAFETY: JS is single-threaded and blocked in this call; the view is not kept.
        let out: &mut [f64] = unsafe { out.as_mut() };
        let side = side_arg(side).map_err(js_err)?;
        let n = safe_int("n", n)?.max(0) as usize;
        self.read(|l| l.depth(l.book_arg(book)?, side, n, out).map(|k| k as u32))
    }

    #[napi]
    pub fn handles(&self, book: f64, side: f64) -> Result<Uint32Array> {
        // one typed array, not a JS array filled element by element (napi_set_element per order)
        let side = side_arg(side).map_err(js_err)?;
        self.read(|l| Ok(l.handles(l.book_arg(book)?, side))).map(Uint32Array::new)
    }

    /// Verifies every internal invariant (slow; for tests). Throws on a violation.
    #[napi]
    pub fn check(&self) -> Result<()> {
        self.read(|l| Ok(l.check()))?.map_err(|m| Error::new(Status::GenericFailure, m))
    }
}

/// The hot function and its selector, `{ run, selector }` (the loader asks once):
/// JS writes a ladder's id to `selector[0]`, the op to that ladder's io[IO_ARGS..],
/// and calls `run()` (see native/index.ts).
#[napi]
pub fn hot(env: Env) -> Result<Raw> {
    let raw = env.raw();
    let mut f = null_mut();
    let name = b"run";
    check(
        unsafe { sys::napi_create_function(raw, name.as_ptr() as *const _, 3, Some(hot_cb), null_mut(), &mut f) },
        "napi_create_function",
    )?;
    let sel = LADDERS.with(|r| {
        let mut r = r.borrow_mut();
        let sel = r.selector.get_or_insert_with(|| Rc::new(Selector { cell: Box::into_raw(Box::new(f64::NAN)) })).clone();
        r.sel = sel.cell;
        sel
    });
    let cell = sel.cell;
    let hint = Rc::into_raw(sel) as *mut c_void;
    let mut ab = null_mut();
    // SAFETY: the memory lives as long as the Rc count the finalizer releases.
    let st = unsafe { sys::napi_create_external_arraybuffer(raw, cell as *mut c_void, 8, Some(release_selector), hint, &mut ab) };
    if st != sys::Status::napi_ok {
        unsafe { drop(Rc::from_raw(hint as *const Selector)) };
        return Err(Error::new(Status::GenericFailure, format!("napi_create_external_arraybuffer failed ({st})")));
    }
    let mut ta = null_mut();
    check(
        unsafe { sys::napi_create_typedarray(raw, sys::TypedarrayType::float64_array, 1, ab, 0, &mut ta) },
        "napi_create_typedarray",
    )?;
    let mut obj = null_mut();
    check(unsafe { sys::napi_create_object(raw, &mut obj) }, "napi_create_object")?;
    check(unsafe { sys::napi_set_named_property(raw, obj, c"run".as_ptr(), f) }, "napi_set_named_property")?;
    check(unsafe { sys::napi_set_named_property(raw, obj, c"selector".as_ptr(), ta) }, "napi_set_named_property")?;
    Ok(Raw(obj))
}

impl Default for NativeLadder {
    fn default() -> Self {
        Self::new()
    }
}

/// The io layout and op codes this build speaks (`ladder::LAYOUT`): name -> number.
/// The loader (native/index.ts) compares it with native/ladder.ts and native/layout.ts
/// and refuses the addon on any difference.
#[napi]
pub fn layout() -> std::collections::BTreeMap<String, f64> {
    ladder::LAYOUT.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
}
