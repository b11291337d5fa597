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

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

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

#[derive(Debug, Clone)]
pub struct Logger {
    pub sink: Sink,
    pub name: String,
    pub pid: u32,
    /// Used when the file cannot be written.
    pub fallback: Syslog,
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
        format!("[{}|{}|{}] {message}", ctime(now), self.name, self.pid)
    }

    pub fn line(&self, message: &str) -> String {
        self.line_at(SystemTime::now(), message)
    }

    pub fn log(&self, message: &str) {
        let message = message.trim_end_matches('\n');
        match &self.sink {
            Sink::Stderr => stderr(&self.line(message)),
            Sink::Debug => {
                let _ = std::io::stderr().write_all(debug_lines(message).as_bytes());
            }
            Sink::Stdout => {
                // A closed stdout must not take the daemon down (println! would panic).
                let _ = writeln!(
                    std::io::stdout(),
                    "[{}] {message}",
                    ctime(SystemTime::now())
                );
            }
            Sink::File(p) => {
                let line = self.line(message);
                let ok = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .and_then(|mut f| writeln!(f, "{line}"));
                if ok.is_err() && self.fallback.send(message).is_err() {
                    stderr(&line);
                }
            }
            Sink::Syslog(s) => {
                if s.send(message).is_err() {
                    stderr(&self.line(message));
                }
            }
        }
    }
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
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;
    use std::time::Duration;

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lvsctl-log-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn file_lines_have_ldirectords_layout_and_append() {
        let dir = temp("file");
        let file = dir.join("ld.log");
        let target = LogTarget::File(file.clone());
        let log = Logger::new(
            "web.cf",
            &target,
            Console::None,
            "ldirectord",
            dir.join("x"),
        );
        log.log("one");
        log.log("two\n");
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let pid = std::process::id();
        for (line, msg) in lines.iter().zip(["one", "two"]) {
            // `[Sat Nov 21 10:05:53 2026|web.cf|pid] msg`
            assert_eq!(&line[0..1], "[");
            assert_eq!(&line[25..], format!("|web.cf|{pid}] {msg}"), "{line}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unwritable_logfile_falls_back_to_syslog_and_a_facility_logs_there() {
        let dir = temp("fallback");
        let sock = dir.join("devlog");
        let rx = UnixDatagram::bind(&sock).unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 256];

        let target = LogTarget::File(dir.join("no/such/dir/ld.log"));
        let log = Logger::new(
            "ldirectord",
            &target,
            Console::None,
            "ldirectord",
            sock.clone(),
        );
        log.log("lost?");
        let n = crate::health::daemon::testutil::recv(&rx, &mut buf);
        let got = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(got.starts_with("<30>"), "daemon.info: {got}");
        assert!(got.ends_with("]: lost?"), "{got}");

        let log = log.retarget(&LogTarget::Syslog("local0".into()));
        log.log("via syslog");
        let n = crate::health::daemon::testutil::recv(&rx, &mut buf);
        let got = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(got.starts_with("<134>"), "local0.info: {got}");
        assert!(
            got.ends_with(&format!(" ldirectord[{}]: via syslog", std::process::id())),
            "{got}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `ld_log` with `$opt_d`: `ld_debug(2, $message)` prints `DEBUG2: $message`, then
    /// `print STDERR "$message\n"`.
    #[test]
    fn debug_mode_prints_ldirectords_two_lines() {
        assert_eq!(
            debug_lines("Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 1)\n"),
            "DEBUG2: Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 1)\n\
             Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 1)\n"
        );
        let target = LogTarget::File(PathBuf::from("/nonexistent/ld.log"));
        let d = Logger::new("x", &target, Console::Debug, "lvsctl", PathBuf::new());
        assert!(matches!(d.sink, Sink::Debug));
        assert!(matches!(d.retarget(&target).sink, Sink::Debug));
    }

    #[test]
    fn console_modes_ignore_the_logfile() {
        let target = LogTarget::Syslog("local0".into());
        let fg = Logger::new("x", &target, Console::Stderr, "lvsctl", PathBuf::new());
        assert!(matches!(fg.sink, Sink::Stderr));
        assert!(matches!(fg.retarget(&target).sink, Sink::Stderr));
        let sup = Logger::new("x", &target, Console::Supervised, "lvsctl", PathBuf::new());
        assert!(matches!(sup.sink, Sink::Stdout));
    }
}
