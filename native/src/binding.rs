//! N-API layer: the `NativeLadder` class. One call per engine command: prices
//! and quantities cross as JS numbers (f64, validated to be integers within
//! +-(2^53 - 1)), fills and depth are written into Float64Arrays owned by JS.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::ladder::{self, handle_arg, int_arg, price_arg, side_arg, Ladder, LadderError, MAX_SAFE};

fn js_err(e: LadderError) -> Error {
    Error::new(Status::InvalidArg, e.to_string())
}

/// Integer within +-(2^53 - 1), the range every price, limit and want lives in.
fn safe_int(arg: &'static str, v: f64) -> Result<i64> {
    int_arg(arg, v, -MAX_SAFE, MAX_SAFE, "an integer within +-(2^53 - 1)").map_err(js_err)
}

#[napi]
pub struct NativeLadder {
    inner: Ladder,
    /// Set when a panic was caught in a call that could mutate: the ladder may be
    /// half-updated, so every later call fails instead of answering wrongly.
    poisoned: bool,
}

impl NativeLadder {
    fn read<T>(&self, f: impl FnOnce(&Ladder) -> ladder::Result<T>) -> Result<T> {
        if self.poisoned {
            return Err(poisoned());
        }
        match catch_unwind(AssertUnwindSafe(|| f(&self.inner))) {
            Ok(r) => r.map_err(js_err),
            Err(p) => Err(panic_error(p)),
        }
    }

    fn write<T>(&mut self, f: impl FnOnce(&mut Ladder) -> ladder::Result<T>) -> Result<T> {
        if self.poisoned {
            return Err(poisoned());
        }
        match catch_unwind(AssertUnwindSafe(|| f(&mut self.inner))) {
            Ok(r) => r.map_err(js_err),
            Err(p) => {
                self.poisoned = true;
                Err(panic_error(p))
            }
        }
    }
}

fn poisoned() -> Error {
    Error::new(
        Status::GenericFailure,
        "native ladder is unusable after an internal error (a Rust panic was caught earlier)",
    )
}

fn panic_error(p: Box<dyn std::any::Any + Send>) -> Error {
    let msg = if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    };
    Error::new(Status::GenericFailure, format!("native ladder internal error: {msg}"))
}

#[napi]
impl NativeLadder {
    #[napi(constructor)]
    pub fn new() -> Self {
        NativeLadder { inner: Ladder::new(), poisoned: false }
    }

    #[napi(getter)]
    pub fn kind(&self) -> &'static str {
        "native"
    }

    #[napi]
    pub fn add(&mut self, side: f64, price: f64, qty: f64, owner: f64) -> Result<u32> {
        let side = side_arg(side).map_err(js_err)?;
        let price = price_arg("price", price).map_err(js_err)?;
        let qty = int_arg("qty", qty, 1, MAX_SAFE, "an integer in 1..2^53 - 1").map_err(js_err)?;
        let owner = int_arg("owner", owner, 0, ladder::MAX_OWNER, "an integer in 0..2^31 - 1").map_err(js_err)?;
        self.write(|l| l.add(side, price, qty, owner))
    }

    #[napi]
    pub fn remove(&mut self, handle: f64) -> Result<()> {
        let h = handle_arg(handle).map_err(js_err)?;
        self.write(|l| l.remove(h))
    }

    #[napi]
    pub fn reduce(&mut self, handle: f64, qty: f64) -> Result<()> {
        let h = handle_arg(handle).map_err(js_err)?;
        let qty = int_arg("qty", qty, 1, MAX_SAFE, "an integer in 1..2^53 - 1").map_err(js_err)?;
        self.write(|l| l.reduce(h, qty))
    }

    #[napi]
    pub fn best(&self, side: f64) -> Result<f64> {
        let side = side_arg(side).map_err(js_err)?;
        self.read(|l| Ok(l.best(side).map_or(f64::NAN, |p| p as f64)))
    }

    #[napi]
    pub fn level_qty(&self, side: f64, price: f64) -> Result<f64> {
        let side = side_arg(side).map_err(js_err)?;
        let price = price_arg("price", price).map_err(js_err)?;
        self.read(|l| Ok(l.level_qty(side, price) as f64))
    }

    #[napi]
    pub fn level_orders(&self, side: f64, price: f64) -> Result<f64> {
        let side = side_arg(side).map_err(js_err)?;
        let price = price_arg("price", price).map_err(js_err)?;
        self.read(|l| Ok(l.level_orders(side, price) as f64))
    }

    #[napi]
    pub fn level_count(&self, side: f64) -> Result<f64> {
        let side = side_arg(side).map_err(js_err)?;
        self.read(|l| Ok(l.level_count(side) as f64))
    }

    #[napi]
    pub fn order_count(&self) -> Result<f64> {
        self.read(|l| Ok(l.order_count() as f64))
    }

    #[napi]
    pub fn qty_of(&self, handle: f64) -> Result<f64> {
        let h = handle_arg(handle).map_err(js_err)?;
        self.read(|l| l.qty_of(h).map(|q| q as f64))
    }

    #[napi]
    pub fn price_of(&self, handle: f64) -> Result<f64> {
        let h = handle_arg(handle).map_err(js_err)?;
        self.read(|l| l.price_of(h).map(|p| p as f64))
    }

    #[napi]
    pub fn fillable(&self, side: f64, limit: f64, want: f64, owner: f64, stop_at_owner: bool) -> Result<f64> {
        let side = side_arg(side).map_err(js_err)?;
        let limit = safe_int("limit", limit)?;
        let want = safe_int("want", want)?;
        let owner = safe_int("owner", owner)?;
        self.read(|l| Ok(l.fillable(side, limit, want, owner, stop_at_owner) as f64))
    }

    /// The walk; writes the stop reason to fills[0] and one record per fill after it.
    #[napi(js_name = "match")]
    pub fn match_(&mut self, side: f64, limit: f64, want: f64, owner: f64, mut fills: Float64ArraySlice<'_>) -> Result<u32> {
        // SAFETY: JS is single-threaded and blocked in this call; the view is not kept.
        let fills: &mut [f64] = unsafe { fills.as_mut() };
        let side = side_arg(side).map_err(js_err)?;
        let limit = safe_int("limit", limit)?;
        let want = safe_int("want", want)?;
        let owner = safe_int("owner", owner)?;
        self.write(|l| l.match_into(side, limit, want, owner, fills).map(|n| n as u32))
    }

    #[napi]
    pub fn depth(&self, side: f64, n: f64, mut out: Float64ArraySlice<'_>) -> Result<u32> {
        // SAFETY: as in match_.
        let out: &mut [f64] = unsafe { out.as_mut() };
        let side = side_arg(side).map_err(js_err)?;
        let n = safe_int("n", n)?.max(0) as usize;
        self.read(|l| l.depth(side, n, out).map(|k| k as u32))
    }

    #[napi]
    pub fn handles(&self, side: f64) -> Result<Vec<u32>> {
        let side = side_arg(side).map_err(js_err)?;
        self.read(|l| Ok(l.handles(side)))
    }

    /// Verifies every internal invariant (slow; for tests). Throws on a violation.
    #[napi]
    pub fn check(&self) -> Result<()> {
        if self.poisoned {
            return Err(poisoned());
        }
        self.inner.check().map_err(|m| Error::new(Status::GenericFailure, m))
    }
}

impl Default for NativeLadder {
    fn default() -> Self {
        Self::new()
    }
}
