//! The pid file as the daemon holds it: one daemon per configuration, and nothing written
//! through a link someone else planted.
//!
//! The daemon opens its pid file without following symbolic links (`O_NOFOLLOW`; a FIFO
//! or device in its place is refused too), takes an exclusive `flock` on it for its whole
//! life, and only then truncates it and writes its pid: a second daemon for the same
//! configuration finds the lock taken and does not start, however the two were started
//! (two `start`s at once, a `--foreground` one beside a detached one). The file is removed
//! when the daemon ends, while it still holds the lock.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PidFileError {
    /// Another process holds the lock: a daemon for this configuration runs.
    #[error("{path} is locked by a running daemon{}", pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked { path: PathBuf, pid: Option<i32> },
    #[error("cannot use the pid file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// The locked pid file of this process; dropping it removes the file.
#[derive(Debug)]
pub struct PidFile {
    file: File,
    path: PathBuf,
}

impl PidFile {
    /// Opens (creating it mode 0644) and locks `path`, then writes this process's pid.
    pub fn acquire(path: &Path) -> Result<Self, PidFileError> {
        let io = |source| PidFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = open(path, true).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(PidFileError::Locked {
                    path: path.to_path_buf(),
                    pid: read_pid(&mut file),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only the file this process locked: a file put there since is somebody else's.
        let ours = self.file.metadata().ok();
        let there = std::fs::symlink_metadata(&self.path).ok();
        if let (Some(a), Some(b)) = (ours, there)
            && (a.dev(), a.ino()) == (b.dev(), b.ino())
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A daemon that holds the pid file's lock, and the pid it wrote there (None while it has
/// not written it yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<i32>,
}

/// The daemon holding the lock of the pid file at `path`; None when nobody does (or there
/// is no such file).
pub fn locked_by(path: &Path) -> Option<Holder> {
    let mut file = open(path, false).ok()?;
    match file.try_lock_shared() {
        Err(std::fs::TryLockError::WouldBlock) => Some(Holder {
            pid: read_pid(&mut file),
        }),
        _ => None,
    }
}

/// The pid file opened read-write (created when `create`), never through a symbolic link,
/// and only if it is a regular file.
fn open(path: &Path, create: bool) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(create)
        .create(create)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(file)
}

fn read_pid(file: &mut File) -> Option<i32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lvsctl-pidfile-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn one_holder_at_a_time_and_the_file_goes_with_it() {
        let dir = temp("lock");
        let path = dir.join("d.pid");
        std::fs::write(&path, "999999\n").unwrap();
        assert!(locked_by(&path).is_none(), "a stale file is not locked");
        let held = PidFile::acquire(&path).unwrap();
        let me = std::process::id() as i32;
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{me}\n"));
        assert_eq!(locked_by(&path), Some(Holder { pid: Some(me) }));
        match PidFile::acquire(&path) {
            Err(PidFileError::Locked { pid, .. }) => assert_eq!(pid, Some(me)),
            other => panic!("a second daemon: {other:?}"),
        }
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{me}\n"),
            "the loser did not truncate the file"
        );
        drop(held);
        assert!(!path.exists());
        assert!(locked_by(&path).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A link planted where the pid file goes (pointing at a file root cares about) is
    /// neither followed nor replaced; neither is a FIFO.
    #[test]
    fn planted_links_and_fifos_are_refused() {
        let dir = temp("planted");
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let link = dir.join("d.pid");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(matches!(
            PidFile::acquire(&link),
            Err(PidFileError::Io { .. })
        ));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let fifo = dir.join("f.pid");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(PidFile::acquire(&fifo).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
