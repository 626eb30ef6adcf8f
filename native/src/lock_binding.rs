//! N-API layer of the data-directory lock (`lock.rs`): `lockAcquire(path, holder)`
//! answers a lock id, or null when another holder has the lock, and throws with
//! the OS error text (errno) on anything else; `lockRelease(id)` answers whether
//! it released something (a second call is a no-op).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::lock;

fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(Error::new(Status::GenericFailure, format!("native lock: internal error in {what}"))))
}

/// Opens `path` (created if missing), takes an exclusive non-blocking flock and keeps
/// the descriptor (close-on-exec) open until `lockRelease`; writes `holder` into the file.
#[napi]
pub fn lock_acquire(path: String, holder: String) -> Result<Option<u32>> {
    guarded("lockAcquire", || {
        lock::acquire(Path::new(&path), &holder)
            .map_err(|e| Error::new(Status::GenericFailure, format!("cannot lock {path}: {e}")))
    })
}

/// Empties the file and releases lock `id`; false when `id` is not held.
#[napi]
pub fn lock_release(id: u32) -> Result<bool> {
    guarded("lockRelease", || Ok(lock::release(id)))
}
