//! matchlog native addon: the price-level ladder of one order book, and the
//! data directory's lock.
//!
//! `ladder` and `lock` are plain Rust (unit-tested by `cargo test`); `binding`
//! and `lock_binding` are the thin N-API layers that validate JS values,
//! convert them and never let a panic reach JS. The bindings are left out of
//! test builds so that the test binary does not need Node's N-API symbols.

pub mod ladder;
pub mod lock;

#[cfg(not(test))]
mod binding;
#[cfg(not(test))]
mod heap;
#[cfg(not(test))]
#[global_allocator]
static GLOBAL: heap::Counting = heap::Counting;
#[cfg(not(test))]
mod lock_binding;
