//! One apply at a time: an exclusive `flock` on a lock file (default
//! /run/lock/lvsctl-apply.lock).
//!
//! Two applies racing would each plan against a table the other is changing and could
//! undo each other's writes. The lock is advisory and held for the life of [`ApplyLock`];
//! the kernel drops it if the process dies, so a crash never leaves a stale lock behind.
//! A second apply does not wait: it fails at once with [`LockError::Busy`], having read
//! nothing and written nothing.
//!
//! Where it lives matters. It used to be /run/lvsctl/apply.lock, but /run/lvsctl is the
//! health unit's `RuntimeDirectory=`, which systemd deletes when that unit stops: the file
//! of a held lock could vanish under a running apply, and the next apply would lock a new
//! file of the same name and run alongside it. /run/lock is the system's directory for
//! lock files, which no unit owns.
//!
//! /run/lock is writable by every user (mode 1777), so the file is opened the way a file
//! in a shared directory must be: a symlink planted at the path is refused (`O_NOFOLLOW`)
//! rather than followed to a file of the attacker's choosing, a FIFO or device there cannot
//! block or be written (`O_NONBLOCK`, then "a regular file" is checked), and a file owned by
//! another user is refused — whoever owns it could hold the lock forever.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Where the lock lives unless `--lock-file` says otherwise.
pub const DEFAULT_LOCK_FILE: &str = "/run/lock/lvsctl-apply.lock";

#[derive(Debug, Error)]
pub enum LockError {
    #[error("another lvsctl apply is running (it holds {})", .0.display())]
    Busy(PathBuf),
    #[error("cannot open the lock file {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("refusing the lock file {}: {why}", path.display())]
    Unsafe { path: PathBuf, why: String },
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
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => LockError::Unsafe {
                path: path.to_owned(),
                why: "it is a symbolic link".to_owned(),
            },
            _ => io_err(e),
        })?;
    let meta = file.metadata().map_err(io_err)?;
    let unsafe_because = |why: String| LockError::Unsafe {
        path: path.to_owned(),
        why,
    };
    if !meta.file_type().is_file() {
        return Err(unsafe_because("it is not a regular file".to_owned()));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(unsafe_because(format!(
            "it belongs to uid {}, not to this user (uid {me})",
            meta.uid()
        )));
    }
    match file.try_lock() {
        Ok(()) => Ok(ApplyLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(LockError::Busy(path.to_owned())),
        Err(TryLockError::Error(e)) => Err(io_err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lvsctl-lock-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn second_holder_is_refused_until_the_first_lets_go() {
        let dir = dir("busy");
        let path = dir.join("apply.lock");
        let first = acquire(&path).unwrap();
        assert!(matches!(acquire(&path), Err(LockError::Busy(_))));
        drop(first);
        let again = acquire(&path).unwrap();
        drop(again);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn the_default_is_outside_any_units_runtime_directory() {
        assert!(DEFAULT_LOCK_FILE.starts_with("/run/lock/"));
    }

    #[test]
    fn a_symlink_at_the_path_is_refused_and_its_target_untouched() {
        let dir = dir("symlink");
        let target = dir.join("target");
        let path = dir.join("apply.lock");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let err = acquire(&path).unwrap_err();
        assert!(err.to_string().contains("it is a symbolic link"), "{err}");
        assert!(!target.exists(), "the link was not followed");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_fifo_at_the_path_is_refused_without_blocking() {
        let dir = dir("fifo");
        let path = dir.join("apply.lock");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        let err = acquire(&path).unwrap_err();
        // Opening a FIFO without a reader for writing, non-blocking, fails with ENXIO.
        assert!(
            matches!(&err, LockError::Io { source, .. } if source.raw_os_error() == Some(libc::ENXIO))
                || err.to_string().contains("not a regular file"),
            "{err}"
        );
        let _ = fs::remove_dir_all(dir);
    }
}
