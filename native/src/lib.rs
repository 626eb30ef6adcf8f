//! matchlog native addon: the price-level ladder of one order book.
//!
//! `ladder` is plain Rust (unit-tested by `cargo test`); `binding` is the thin
//! N-API layer that validates JS numbers, converts them and never lets a panic
//! reach JS. The binding is left out of test builds so that the test binary
//! does not need Node's N-API symbols.

pub mod ladder;

#[cfg(not(test))]
mod binding;
