//! `logfile="<facility>"`: messages to the local syslog daemon over `/dev/log`, written
//! directly (no C library, no crate).
//!
//! The datagram is what glibc's `syslog(3)` and Perl's Sys::Syslog put on that socket,
//! RFC 3164 without the host name: `<PRI>Mmm dd hh:mm:ss ident[pid]: message`, priority
//! `info` as ldirectord logs everything. The ident is `ldirectord` when we run under that
//! name, so existing syslog filters keep matching. If `/dev/log` is a stream socket
//! (some syslog-ng setups) the message is sent NUL-terminated over a connection, as glibc
//! does.

use std::io::Write;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::clock::Tm;

/// Where local syslog daemons listen.
pub const DEV_LOG: &str = "/dev/log";

/// `LOG_INFO`.
const SEVERITY_INFO: u8 = 6;

/// How long one send may wait for a syslog daemon that stopped reading (a full datagram
/// queue blocks the sender); the line then goes to stderr.
pub const SEND_LIMIT: Duration = Duration::from_secs(1);

/// The facility code of a syslog facility name; None for an unknown name.
pub fn facility_code(name: &str) -> Option<u8> {
    Some(match name {
        "kern" => 0,
        "user" => 1,
        "mail" => 2,
        "daemon" => 3,
        "auth" => 4,
        "syslog" => 5,
        "lpr" => 6,
        "news" => 7,
        "uucp" => 8,
        "cron" => 9,
        "authpriv" => 10,
        "ftp" => 11,
        "local0" => 16,
        "local1" => 17,
        "local2" => 18,
        "local3" => 19,
        "local4" => 20,
        "local5" => 21,
        "local6" => 22,
        "local7" => 23,
        _ => return None,
    })
}

/// One syslog destination.
#[derive(Debug, Clone)]
pub struct Syslog {
    pub facility: u8,
    pub ident: String,
    pub pid: u32,
    pub socket: PathBuf,
}

impl Syslog {
    /// `facility` by name; an unknown name logs as `user`, glibc's default facility
    /// (check-config already warned about it).
    pub fn new(facility: &str, ident: &str, socket: PathBuf) -> Self {
        Self {
            facility: facility_code(facility).unwrap_or(1),
            ident: ident.to_owned(),
            pid: std::process::id(),
            socket,
        }
    }

    /// The bytes of one message.
    pub fn datagram(&self, tm: &Tm, message: &str) -> Vec<u8> {
        let pri = u16::from(self.facility) * 8 + u16::from(SEVERITY_INFO);
        format!(
            "<{pri}>{} {}[{}]: {message}",
            tm.syslog_stamp(),
            self.ident,
            self.pid
        )
        .into_bytes()
    }

    /// Sends `message`; Err when no syslog daemon took it.
    pub fn send(&self, message: &str) -> std::io::Result<()> {
        let bytes = self.datagram(&Tm::local(SystemTime::now()), message);
        let dgram = UnixDatagram::unbound().and_then(|s| {
            s.set_write_timeout(Some(SEND_LIMIT))?;
            loop {
                match s.send_to(&bytes, &self.socket) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    other => break other,
                }
            }
        });
        match dgram {
            Ok(_) => Ok(()),
            // EPROTOTYPE: the socket is a stream socket.
            Err(e) if e.raw_os_error() == Some(libc::EPROTOTYPE) => {
                let mut s = UnixStream::connect(&self.socket)?;
                s.set_write_timeout(Some(SEND_LIMIT))?;
                let mut framed = bytes;
                framed.push(0);
                s.write_all(&framed)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn tm() -> Tm {
        Tm::utc(UNIX_EPOCH + Duration::from_secs(1_795_255_553))
    }

    #[test]
    fn rfc3164_datagram_is_byte_exact() {
        let mut s = Syslog::new("local3", "ldirectord", PathBuf::from(DEV_LOG));
        s.pid = 4242;
        assert_eq!(
            String::from_utf8(s.datagram(&tm(), "Added real server: 10.1.0.1:80 (10.0.0.1:80)"))
                .unwrap(),
            "<158>Nov 21 10:05:53 ldirectord[4242]: Added real server: 10.1.0.1:80 (10.0.0.1:80)"
        );
        s.facility = facility_code("daemon").unwrap();
        assert!(s.datagram(&tm(), "x").starts_with(b"<30>"));
        assert_eq!(Syslog::new("nonsense", "x", PathBuf::new()).facility, 1);
    }

    #[test]
    fn messages_reach_a_datagram_listener() {
        let dir = std::env::temp_dir().join(format!("lvsctl-syslog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let _ = std::fs::remove_file(&path);
        let rx = UnixDatagram::bind(&path).unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let s = Syslog::new("daemon", "lvsctl", path.clone());
        s.send("hello").unwrap();
        let mut buf = [0u8; 512];
        let n = crate::health::daemon::testutil::recv(&rx, &mut buf);
        let got = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(got.starts_with("<30>"), "{got}");
        assert!(
            got.ends_with(&format!(" lvsctl[{}]: hello", std::process::id())),
            "{got}"
        );
        drop(rx);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(s.send("nobody listens").is_err());
    }

    /// A syslog daemon that stopped reading fills its queue, and a plain send then waits
    /// forever; ours gives up after [`SEND_LIMIT`].
    #[test]
    fn a_syslog_that_stopped_reading_does_not_hold_the_sender() {
        let dir = std::env::temp_dir().join(format!("lvsctl-syslog-full-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let _ = std::fs::remove_file(&path);
        let rx = UnixDatagram::bind(&path).unwrap();
        let s = Syslog::new("daemon", "lvsctl", path.clone());
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let first_failure = (0..100_000).position(|_| s.send("x").is_err());
            let _ = done_tx.send(first_failure);
        });
        let first_failure = done_rx
            .recv_timeout(Duration::from_mins(1))
            .expect("a send waited for the full queue");
        assert!(first_failure.is_some(), "the queue never filled");
        drop(rx);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
