//! The data directory's lock: an exclusive, non-blocking `flock` on a file
//! (`DIR/LOCK`), held for as long as the file stays open. The kernel drops it
//! when the process dies, however it dies, and two open file descriptions of
//! the file cannot both hold it (not even two in one process), so there is no
//! stale lock to judge and no take-over to race.
//!
//! Plain Rust (no N-API types; `lock_binding.rs` exposes it). The file is
//! opened by `std::fs`, which sets `O_CLOEXEC`: a child process started while
//! the lock is held does not inherit the descriptor, so it cannot keep the lock
//! alive after its parent is gone.
//!
//! The file is never removed: unlinking a lock file while others may have it
//! open lets two processes lock two different inodes under one name.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Mutex;

/// A held lock. Dropping it closes the file, which releases the lock.
#[derive(Debug)]
pub struct FileLock {
    file: File,
}

impl FileLock {
    /// Opens `path` (created if missing, never truncated before the lock is
    /// held) and takes an exclusive lock without waiting. `Ok(None)`: another
    /// open file description holds it. On success the file's content is
    /// replaced by `holder` (the pid, for the refusal message of the next one).
    pub fn try_acquire(path: &Path, holder: &str) -> io::Result<Option<FileLock>> {
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(e),
        }
        let mut lock = FileLock { file };
        lock.write_holder(holder)?;
        Ok(Some(lock))
    }

    fn write_holder(&mut self, holder: &str) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(holder.as_bytes())
    }

    /// Empties the file (the pid in it no longer means anything) and releases
    /// the lock. The file stays.
    pub fn release(self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
        // dropping `self.file` closes it
    }

    #[cfg(unix)]
    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.file.as_raw_fd()
    }
}

/// Held locks by id, for the N-API layer (a JS number is all JS keeps).
/// Process-wide: every thread that loads the addon shares it.
static HELD: Mutex<Registry> = Mutex::new(Registry { next: 1, held: None });

struct Registry {
    next: u32,
    held: Option<HashMap<u32, FileLock>>,
}

/// `FileLock::try_acquire`, keeping the lock under a fresh id (never 0, never reused).
pub fn acquire(path: &Path, holder: &str) -> io::Result<Option<u32>> {
    let Some(lock) = FileLock::try_acquire(path, holder)? else { return Ok(None) };
    let mut r = HELD.lock().unwrap_or_else(|p| p.into_inner());
    let id = r.next;
    r.next = r.next.checked_add(1).unwrap_or(1);
    r.held.get_or_insert_with(HashMap::new).insert(id, lock);
    Ok(Some(id))
}

/// Releases lock `id`; false when it is not held (unknown or already released).
pub fn release(id: u32) -> bool {
    let lock = HELD.lock().unwrap_or_else(|p| p.into_inner()).held.as_mut().and_then(|m| m.remove(&id));
    match lock {
        Some(l) => {
            l.release();
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("matchlog-lock-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn creates_the_file_writes_the_holder_and_excludes_a_second_description() {
        let d = temp_dir("excl");
        let p = d.join("LOCK");
        let a = FileLock::try_acquire(&p, "1234").unwrap().expect("first lock");
        assert_eq!(fs::read_to_string(&p).unwrap(), "1234");
        // flock is per open file description: a second open in this process is refused too
        assert!(FileLock::try_acquire(&p, "5678").unwrap().is_none());
        assert_eq!(fs::read_to_string(&p).unwrap(), "1234", "a refused attempt must not touch the file");
        a.release();
        assert_eq!(fs::read_to_string(&p).unwrap(), "", "release empties the file");
        let b = FileLock::try_acquire(&p, "5678").unwrap().expect("free again after release");
        assert_eq!(fs::read_to_string(&p).unwrap(), "5678");
        drop(b); // dropping releases as well
        assert!(FileLock::try_acquire(&p, "9").unwrap().is_some());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_stale_file_does_not_matter() {
        let d = temp_dir("stale");
        let p = d.join("LOCK");
        fs::write(&p, "1\nsome longer leftover text").unwrap();
        let a = FileLock::try_acquire(&p, "42").unwrap().expect("content is never trusted");
        assert_eq!(fs::read_to_string(&p).unwrap(), "42");
        a.release();
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn errors_carry_the_errno_text() {
        let d = temp_dir("err");
        let e = FileLock::try_acquire(&d.join("missing").join("LOCK"), "1").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("os error 2"), "{e}");
        fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_descriptor_is_close_on_exec() {
        let d = temp_dir("cloexec");
        let a = FileLock::try_acquire(&d.join("LOCK"), "1").unwrap().unwrap();
        // /proc/self/fdinfo/N: "flags:\t0...": octal open flags, O_CLOEXEC = 02000000
        let info = fs::read_to_string(format!("/proc/self/fdinfo/{}", a.raw_fd())).unwrap();
        let flags = info.lines().find_map(|l| l.strip_prefix("flags:")).unwrap().trim();
        let flags = u32::from_str_radix(flags, 8).unwrap();
        assert_ne!(flags & 0o2000000, 0, "O_CLOEXEC missing: {info}");
        a.release();
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn ids_release_once() {
        let d = temp_dir("ids");
        let p = d.join("LOCK");
        let id = acquire(&p, "1").unwrap().expect("free");
        assert_ne!(id, 0);
        assert_eq!(acquire(&p, "2").unwrap(), None);
        assert!(release(id));
        assert!(!release(id), "a second release of the same id is a no-op");
        let id2 = acquire(&p, "3").unwrap().expect("free again");
        assert_ne!(id2, id, "ids are not reused");
        assert!(release(id2));
        fs::remove_dir_all(&d).unwrap();
    }
}
