//! Where log lines go, in ldirectord's formats (docs/ldirectord-compat.md, Logging), so
//! existing log scrapers keep working:
//!
//! * a file (`logfile="/path"`, default `/var/log/ldirectord.log`):
//!   `[<ctime>|<config name>|<pid>] <message>`, opened per line so logrotate needs no signal;
//! * syslog (`logfile="<facility>"`): the message alone, ident `ldirectord[pid]` (or
//!   `lvsctl[pid]` when not run as `ldirectord`), priority info;
//! * `supervised=yes`: `[<ctime>] <message>` on stdout;
//! * `-d`: what ldirectord prints in debug mode (`$DEBUG` = 3): `ld_log` first hands the
//!   message to `ld_debug(2, …)`, which prints `DEBUG2: <message>`, then prints the bare
//!   message — two lines on stderr per message, no time stamp;
//! * `--foreground` (ours, for systemd): the file format on stderr (journald adds its own
//!   stamp).
//!
//! Times are local (`localtime_r`), like Perl's `localtime`. A detached daemon has no
//! stderr, so nothing may be dropped there: when the file cannot be written the line goes to
//! syslog (`daemon` facility), and only if that fails too to stderr.
//!
//! Lines are written by a thread of their own, never by the caller: a log file on a hung
//! NFS mount, a FIFO nobody reads, a syslog daemon that stopped reading `/dev/log` or a
//! journal that stopped reading stderr would otherwise stall the event loop, which then
//! stops answering the status socket and sending the systemd watchdog. The time stamp is
//! taken when the line is logged. At most [`QUEUE`] lines wait; beyond that lines are
//! dropped and counted, and the count is logged once the writer catches up. A file is
//! opened with `O_NOFOLLOW`, so a symbolic link planted in place of the log file is not
//! written through.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime};

use super::clock::ctime;
use super::syslog::Syslog;
use crate::health::config::LogTarget;

/// Where the process's own streams lead, which decides whether the config's logfile is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// Detached: use the configured logfile.
    None,
    /// `--foreground`: stderr in the file format (the journal under systemd).
    Stderr,
    /// `-d`: stderr in ldirectord's debug format.
    Debug,
    /// `supervised=yes`: stdout, daemontools style.
    Supervised,
}

#[derive(Debug, Clone)]
pub enum Sink {
    Stderr,
    Debug,
    Stdout,
    File(PathBuf),
    Syslog(Syslog),
}

/// Lines waiting for the writer at most; more are dropped (and counted).
pub const QUEUE: usize = 4096;
/// How long [`Logger::flush`] waits for the writer.
pub const FLUSH_LIMIT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Logger {
    pub sink: Sink,
    pub name: String,
    pub pid: u32,
    /// Used when the file cannot be written.
    pub fallback: Syslog,
    writer: Arc<Writer>,
}

/// One line for the writer thread: where it goes and what it says.
#[derive(Debug)]
struct Entry {
    sink: Sink,
    name: String,
    pid: u32,
    fallback: Syslog,
    message: String,
    at: SystemTime,
}

#[derive(Debug)]
enum Job {
    Write(Box<Entry>),
    /// Answered once everything queued before it is written.
    Flush(mpsc::Sender<()>),
}

/// The queue to the writer thread, shared by a logger and its clones; the thread ends when
/// the last of them is dropped, after writing what is queued.
#[derive(Debug)]
struct Writer {
    tx: mpsc::SyncSender<Job>,
    dropped: Arc<AtomicU64>,
}

impl Writer {
    fn start() -> Self {
        let (tx, rx) = mpsc::sync_channel::<Job>(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = dropped.clone();
        // Without a thread the receiver is gone, and `send` writes on the caller's thread.
        let _ = std::thread::Builder::new()
            .name("log".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    match job {
                        Job::Write(entry) => {
                            write(&entry);
                            let n = lost.swap(0, Ordering::Relaxed);
                            if n > 0 {
                                write(&Entry {
                                    message: format!(
                                        "{n} log lines were dropped: the log could not be written fast enough"
                                    ),
                                    at: SystemTime::now(),
                                    ..*entry
                                });
                            }
                        }
                        Job::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            });
        Self { tx, dropped }
    }

    fn send(&self, entry: Entry) {
        match self.tx.try_send(Job::Write(Box::new(entry))) {
            Ok(()) | Err(mpsc::TrySendError::Disconnected(Job::Flush(_))) => {}
            Err(mpsc::TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::TrySendError::Disconnected(Job::Write(entry))) => write(&entry),
        }
    }

    fn flush(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let (done, wait) = mpsc::channel();
        let mut job = Job::Flush(done);
        loop {
            match self.tx.try_send(job) {
                Ok(()) => break,
                Err(mpsc::TrySendError::Disconnected(_)) => return true,
                Err(mpsc::TrySendError::Full(back)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    job = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        wait.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }
}

impl Logger {
    /// `ident` is the syslog program name; `syslog_socket` normally [`super::syslog::DEV_LOG`].
    pub fn new(
        name: &str,
        target: &LogTarget,
        console: Console,
        ident: &str,
        syslog_socket: PathBuf,
    ) -> Self {
        let sink = match (console, target) {
            (Console::Stderr, _) => Sink::Stderr,
            (Console::Debug, _) => Sink::Debug,
            (Console::Supervised, _) => Sink::Stdout,
            (Console::None, LogTarget::File(p)) => Sink::File(p.clone()),
            (Console::None, LogTarget::Syslog(f)) => {
                Sink::Syslog(Syslog::new(f, ident, syslog_socket.clone()))
            }
        };
        Self {
            sink,
            name: name.to_owned(),
            pid: std::process::id(),
            fallback: Syslog::new("daemon", ident, syslog_socket),
            writer: Arc::new(Writer::start()),
        }
    }

    /// The same logger writing to the `logfile` of a reloaded configuration.
    pub fn retarget(&self, target: &LogTarget) -> Self {
        let mut next = self.clone();
        next.sink =
            match (&self.sink, target) {
                (Sink::File(_) | Sink::Syslog(_), LogTarget::File(p)) => Sink::File(p.clone()),
                (Sink::File(_) | Sink::Syslog(_), LogTarget::Syslog(f)) => Sink::Syslog(
                    Syslog::new(f, &self.fallback.ident, self.fallback.socket.clone()),
                ),
                (other, _) => other.clone(),
            };
        next
    }

    /// The file-format line for `message` at `now`.
    pub fn line_at(&self, now: SystemTime, message: &str) -> String {
        file_line(now, &self.name, self.pid, message)
    }

    pub fn line(&self, message: &str) -> String {
        self.line_at(SystemTime::now(), message)
    }

    /// Queues `message` for the writer thread; never waits.
    pub fn log(&self, message: &str) {
        self.writer.send(Entry {
            sink: self.sink.clone(),
            name: self.name.clone(),
            pid: self.pid,
            fallback: self.fallback.clone(),
            message: message.trim_end_matches('\n').to_owned(),
            at: SystemTime::now(),
        });
    }

    /// Waits (at most [`FLUSH_LIMIT`]) until every line logged so far is written; false
    /// when the writer did not get there in time.
    pub fn flush(&self) -> bool {
        self.writer.flush(FLUSH_LIMIT)
    }
}

fn file_line(at: SystemTime, name: &str, pid: u32, message: &str) -> String {
    format!("[{}|{name}|{pid}] {message}", ctime(at))
}

/// Writes one line where it goes (on the writer thread).
fn write(e: &Entry) {
    let message = e.message.as_str();
    match &e.sink {
        Sink::Stderr => stderr(&file_line(e.at, &e.name, e.pid, message)),
        Sink::Debug => {
            let _ = std::io::stderr().write_all(debug_lines(message).as_bytes());
        }
        Sink::Stdout => {
            // A closed stdout must not take the daemon down (println! would panic).
            let _ = writeln!(std::io::stdout(), "[{}] {message}", ctime(e.at));
        }
        Sink::File(p) => {
            let line = file_line(e.at, &e.name, e.pid, message);
            let ok = append(p).and_then(|mut f| writeln!(f, "{line}"));
            if ok.is_err() && e.fallback.send(message).is_err() {
                stderr(&line);
            }
        }
        Sink::Syslog(s) => {
            if s.send(message).is_err() {
                stderr(&file_line(e.at, &e.name, e.pid, message));
            }
        }
    }
}

/// `path` opened for appending (created 0644 when missing), never through a symbolic link:
/// the log and monitor files usually live in directories others may write to.
pub fn append(path: &Path) -> std::io::Result<std::fs::File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// What ldirectord -d writes to stderr for one `ld_log` message (both lines).
pub fn debug_lines(message: &str) -> String {
    let message = message.trim_end_matches('\n');
    format!("DEBUG2: {message}\n{message}\n")
}

/// Like eprintln!, without its panic when stderr is gone.
fn stderr(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
