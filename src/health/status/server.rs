//! The socket side: one JSON document per connection, then close. The socket file is mode
//! 0600, and a directory the daemon creates for it 0700: health state and reasons are for
//! root only. Clients are taken as `accept` says (a task each, deadlines, a cap).
//!
//! `--socket PATH` may name any path, so the daemon touches only what is its own: it makes
//! the missing directories (and only those get mode 0700: `--socket /run/x.sock` leaves
//! /run as it is), and it removes a leftover socket file at PATH, but never a regular file,
//! a directory or a symbolic link, nor a socket another process still listens on.

use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use super::StatusReport;
use super::accept::{Log, spawn_accept_loop, within};
use super::counters::Counters;

/// The requests for a status document, answered by the event loop.
pub type Ask = mpsc::UnboundedSender<oneshot::Sender<Arc<StatusReport>>>;

/// How long a connection waits for the event loop's document (it answers between two of
/// its turns; a kernel cycle is the longest of those).
pub const ASK_LIMIT: Duration = Duration::from_secs(10);

/// Serves status documents obtained from the event loop through `ask`. Returns an error
/// only if the socket cannot be set up; the caller logs it and runs without the API.
pub fn serve(
    path: &Path,
    ask: Ask,
    log: Log,
    counters: Arc<Counters>,
) -> io::Result<tokio::task::JoinHandle<()>> {
    if let Some(dir) = path.parent() {
        create_private_dirs(dir)?;
    }
    clear_stale_socket(path)?;
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    let what = format!("status socket {}", path.display());
    let last = Arc::new(Mutex::new(None));
    Ok(spawn_accept_loop(listener, what, log, counters, move |s| {
        answer(s, ask.clone(), Arc::clone(&last))
    }))
}

/// The last document sent and its JSON: clients that got the same snapshot (it is shared
/// by every request waiting at one turn of the event loop) share one serialisation too, so
/// a hundred clients connecting at once cost one.
type LastBody = Arc<Mutex<Option<(Arc<StatusReport>, Arc<Vec<u8>>)>>>;

/// One document, written within the deadline; a client that does not read it in time is
/// closed.
async fn answer(mut stream: UnixStream, ask: Ask, last: LastBody) {
    let Some(report) = ask_loop(&ask).await else {
        return;
    };
    let body = {
        let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
        match &*last {
            Some((seen, body)) if Arc::ptr_eq(seen, &report) => Arc::clone(body),
            _ => {
                let mut body = serde_json::to_vec(&*report).unwrap_or_default();
                body.push(b'\n');
                let body = Arc::new(body);
                *last = Some((report, Arc::clone(&body)));
                body
            }
        }
    };
    let _ = within(stream.write_all(&body)).await;
    let _ = within(stream.shutdown()).await;
}

/// The event loop's current document; None when it is gone or too slow to answer.
pub async fn ask_loop(ask: &Ask) -> Option<Arc<StatusReport>> {
    let (tx, rx) = oneshot::channel();
    ask.send(tx).ok()?;
    tokio::time::timeout(ASK_LIMIT, rx).await.ok()?.ok()
}

/// Creates the missing directories of `dir` with mode 0700; existing ones are left alone.
fn create_private_dirs(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at.filter(|d| !d.as_os_str().is_empty()) {
        match std::fs::metadata(d) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("{} is not a directory", d.display()),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                missing.push(d);
                at = d.parent();
            }
            Err(e) => return Err(e),
        }
    }
    for d in missing.into_iter().rev() {
        match std::fs::DirBuilder::new().mode(0o700).create(d) {
            // The umask may have taken bits away; the mode is ours to set on our own dirs.
            Ok(()) => std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))?,
            // Made by someone else meanwhile: theirs, not changed.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Removes a socket file left at `path` by a daemon that is gone; refuses anything else.
fn clear_stale_socket(path: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "something that is not a socket is in the way (not removed)",
        ));
    }
    if listened_on(path) {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "another process listens on this socket",
        ));
    }
    std::fs::remove_file(path)
}

/// Whether a process accepts connections on the socket at `path`. The connect does not
/// block: a listener with a full backlog counts as listening.
fn listened_on(path: &Path) -> bool {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let Ok(sock) = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    ) else {
        return false;
    };
    let Ok(addr) = SocketAddrUnix::new(path) else {
        return false;
    };
    match rustix::net::connect(&sock, &addr) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::INPROGRESS,
    }
}

/// Removes the socket at `path` when the daemon stops, if it is still a socket.
pub fn remove_socket(path: &Path) {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
