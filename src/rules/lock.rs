//! One apply at a time: an exclusive `flock` on a lock file (default under /run/lvsctl/).
//!
//! Two applies racing would each plan against a table the other is changing and could
//! undo each other's writes. The lock is advisory and held for the life of [`ApplyLock`];
//! the kernel drops it if the process dies, so a crash never leaves a stale lock behind.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Where the lock lives unless `--lock-file` says otherwise.
pub const DEFAULT_LOCK_FILE: &str = "/run/lvsctl/apply.lock";

#[derive(Debug, Error)]
pub enum LockError {
    #[error("another lvsctl apply is running (it holds {})", .0.display())]
    Busy(PathBuf),
    #[error("cannot open the lock file {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// Held while an apply runs; dropping it releases the lock.
#[derive(Debug)]
pub struct ApplyLock {
    _file: File,
}

/// Take the lock without waiting.
pub fn acquire(path: &Path) -> Result<ApplyLock, LockError> {
    let io_err = |source| LockError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io_err)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_err)?;
    match file.try_lock() {
        Ok(()) => Ok(ApplyLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(LockError::Busy(path.to_owned())),
        Err(TryLockError::Error(e)) => Err(io_err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("lvsctl-lock-{}", std::process::id()));
        let path = dir.join("apply.lock");
        let first = acquire(&path).unwrap();
        assert!(matches!(acquire(&path), Err(LockError::Busy(_))));
        drop(first);
        let again = acquire(&path).unwrap();
        drop(again);
        let _ = fs::remove_dir_all(dir);
    }
}
