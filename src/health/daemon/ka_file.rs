//! keepalived's FILE_CHECK at the daemon's edge: reading the tracked file as keepalived
//! reads it, and learning of its changes from the kernel (inotify) as keepalived does,
//! so a real's state and weight follow the file at once rather than at the next check.
//! The rules are crate::health::state::keepalived_file's.
//!
//! keepalived resolves the file's path once, when it reads its configuration (symbolic
//! links followed; a file that does not exist yet is named in its resolved directory),
//! and watches that directory for the file's name: a write closed, a move onto the name,
//! a deletion or a move away. A file replaced through a symbolic link that is changed
//! later is not followed, by keepalived or by the daemon.

use std::ffi::OsString;
use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc::UnboundedSender;

use super::registry::Report;
use super::tasks::CheckJob;
use crate::health::check::Outcome;
use crate::health::config::KeepalivedFile;
use crate::health::state::keepalived_file::{FileChecker, Settings, Verdict, parse_value};

/// How long a watch that could not be set up waits before it is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// The file's value as keepalived's `process_track_file` reads it: the first 127 bytes,
/// without waiting on a FIFO; a file that cannot be opened or read, or is empty, is 0.
pub fn read_value(path: &Path) -> Option<i64> {
    let Ok(mut f) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    else {
        return Some(0);
    };
    let mut buf = [0u8; 127];
    match f.read(&mut buf) {
        Ok(n) if n > 0 => parse_value(&buf[..n]),
        _ => Some(0),
    }
}

/// The checker as keepalived starts it, from the file as it is now.
pub fn start(f: &KeepalivedFile) -> FileChecker {
    FileChecker::start(settings(f), read_value(&resolve(&f.path)))
}

fn settings(f: &KeepalivedFile) -> Settings {
    Settings {
        weight: f.weight,
        reverse: f.reverse,
    }
}

/// keepalived's resolution of the path: the file's real path when it exists, else its
/// name in its directory's real path (the path as given when that fails too).
pub fn resolve(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(dir), path.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => path.to_path_buf(),
    }
}

/// What an event says of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// Written (closed after writing) or moved onto its name: read it.
    Written,
    /// Deleted or moved away: the value 0.
    Gone,
}

/// An inotify watch of the file's directory, for the file's name.
struct Watch {
    fd: AsyncFd<OwnedFd>,
    name: OsString,
}

impl Watch {
    fn new(file: &Path) -> io::Result<Self> {
        let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
            return Err(io::Error::other("no directory and file name"));
        };
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
        inotify::add_watch(
            &fd,
            dir,
            WatchFlags::CLOSE_WRITE | WatchFlags::DELETE | WatchFlags::MOVE,
        )?;
        // tokio deprecates `new` for descriptors that may be closed or replaced behind its
        // back; an OwnedFd it owns cannot be, which is what its unsafe `register` asks.
        #[allow(deprecated)]
        let fd = AsyncFd::new(fd)?;
        Ok(Self {
            fd,
            name: name.to_owned(),
        })
    }

    /// The next batch of changes of the file, in the order they came.
    async fn changes(&self) -> io::Result<Vec<Change>> {
        loop {
            let mut guard = self.fd.readable().await?;
            let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
            let mut reader = inotify::Reader::new(self.fd.get_ref(), &mut buf);
            let mut out = Vec::new();
            loop {
                match reader.next() {
                    Ok(e) => {
                        let flags = e.events();
                        let ours = e
                            .file_name()
                            .is_some_and(|n| n.to_bytes() == self.name.as_bytes());
                        if !ours || flags.contains(ReadFlags::ISDIR) {
                            continue;
                        }
                        if flags.intersects(ReadFlags::DELETE | ReadFlags::MOVED_FROM) {
                            out.push(Change::Gone);
                        } else if flags.intersects(ReadFlags::CLOSE_WRITE | ReadFlags::MOVED_TO) {
                            out.push(Change::Written);
                        }
                    }
                    Err(rustix::io::Errno::AGAIN) => {
                        guard.clear_ready();
                        break;
                    }
                    Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
        }
    }
}

/// The FILE_CHECK's task: a report with the checker's state and weight at start (the
/// registry started the slot from the same file; a change in between is caught up so),
/// then one for each change of the file that moves either, as keepalived handles each
/// event in turn. A watch that cannot be set up is reported once as a local fault, which
/// keeps the real as it is, and tried again every second, the file read each time.
pub async fn run(job: CheckJob, tx: UnboundedSender<Report>, file: KeepalivedFile) {
    let path = resolve(&file.path);
    let mut watch = Watch::new(&path);
    let mut checker = FileChecker::start(settings(&file), read_value(&path));
    let send = |checker: &FileChecker, outcome: Option<Outcome>, verdict| {
        let report = Report {
            id: job.id,
            checker: job.checker,
            generation: job.generation,
            outcome: outcome.unwrap_or_else(|| state(checker, &path)),
            maintenance: false,
            at: SystemTime::now(),
            duration: Duration::ZERO,
            verdict,
            weight: Some(checker.added()),
        };
        tx.send(report).is_ok()
    };
    let initial = if checker.is_up() {
        Verdict::Up
    } else {
        Verdict::Down
    };
    if !send(&checker, None, Some(initial)) {
        return;
    }
    // Moves the checker by one value; false once nobody listens.
    let apply = |checker: &mut FileChecker, value: Option<i64>| {
        let before = checker.added();
        let step = checker.observe(value);
        step.verdict.is_none() && step.added == before || send(checker, None, step.verdict)
    };
    let mut faulted = false;
    loop {
        let changes = match &watch {
            Ok(w) => w.changes().await,
            Err(e) => {
                if !faulted {
                    faulted = true;
                    let why = format!("cannot watch {}: {e}", path.display());
                    if !send(&checker, Some(Outcome::LocalFault(why)), None) {
                        return;
                    }
                }
                tokio::time::sleep(RETRY).await;
                watch = Watch::new(&path);
                if watch.is_ok() {
                    faulted = false;
                    // Back to the real's state, as read now.
                    if !send(&checker, None, None) {
                        return;
                    }
                }
                if !apply(&mut checker, read_value(&path)) {
                    return;
                }
                continue;
            }
        };
        match changes {
            Ok(changes) => {
                for change in changes {
                    let value = match change {
                        Change::Gone => Some(0),
                        Change::Written => read_value(&path),
                    };
                    if !apply(&mut checker, value) {
                        return;
                    }
                }
            }
            Err(e) => watch = Err(e),
        }
    }
}

/// The report's outcome for the checker's state.
fn state(checker: &FileChecker, path: &Path) -> Outcome {
    if checker.is_up() {
        Outcome::Up
    } else {
        Outcome::Down(format!("tracked file {} in fault", path.display()))
    }
}

#[cfg(test)]
#[path = "ka_file_tests.rs"]
mod tests;
