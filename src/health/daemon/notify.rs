//! systemd's readiness and watchdog protocol (`sd_notify(3)`): datagrams to
//! `$NOTIFY_SOCKET`. A few lines of std instead of a crate.
//!
//! The environment is read once, at the command-line edge ([`Notifier::from_env`]), and
//! the daemon gets a plain value, so tests can point it at their own socket.

use std::ffi::OsString;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Where to send state changes, and how often the watchdog wants a ping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notifier {
    /// `$NOTIFY_SOCKET`: a path, or `@name` for an abstract socket.
    pub socket: Option<OsString>,
    /// Half the period systemd set (`$WATCHDOG_USEC`), as sd_watchdog_enabled advises.
    pub watchdog: Option<Duration>,
}

impl Notifier {
    /// From `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` (the watchdog is ours only
    /// when WATCHDOG_PID is unset or names this process).
    pub fn from_env() -> Self {
        let pid_ok = std::env::var("WATCHDOG_PID")
            .ok()
            .is_none_or(|p| p.trim() == std::process::id().to_string());
        let usec = std::env::var("WATCHDOG_USEC").ok();
        Self {
            socket: std::env::var_os("NOTIFY_SOCKET").filter(|s| !s.is_empty()),
            watchdog: usec
                .as_deref()
                .and_then(watchdog_interval)
                .filter(|_| pid_ok),
        }
    }

    /// Sends `state` (e.g. `READY=1`); errors are ignored because a missing supervisor
    /// must not stop the daemon.
    pub fn notify(&self, state: &str) {
        let Some(path) = &self.socket else {
            return;
        };
        let Ok(sock) = UnixDatagram::unbound() else {
            return;
        };
        let bytes = path.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            if let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(name) {
                let _ = sock.send_to_addr(state.as_bytes(), &addr);
            }
        } else {
            let _ = sock.send_to(state.as_bytes(), path);
        }
    }
}

/// Half of a `WATCHDOG_USEC` value; None for 0 or garbage.
pub fn watchdog_interval(usec: &str) -> Option<Duration> {
    let usec: u64 = usec.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::linux::net::SocketAddrExt;

    #[test]
    fn watchdog_interval_is_half_the_period() {
        assert_eq!(watchdog_interval("30000000"), Some(Duration::from_secs(15)));
        assert_eq!(watchdog_interval("0"), None);
        assert_eq!(watchdog_interval("x"), None);
    }

    #[test]
    fn datagrams_reach_path_and_abstract_sockets() {
        let dir = std::env::temp_dir().join(format!("lvsctl-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let _ = std::fs::remove_file(&path);
        let rx = UnixDatagram::bind(&path).unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let n = Notifier {
            socket: Some(path.clone().into_os_string()),
            watchdog: None,
        };
        n.notify("READY=1");
        let mut buf = [0u8; 64];
        let len = crate::health::daemon::testutil::recv(&rx, &mut buf);
        assert_eq!(&buf[..len], b"READY=1");

        let name = format!("lvsctl-notify-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let arx = UnixDatagram::bind_addr(&addr).unwrap();
        arx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let n = Notifier {
            socket: Some(format!("@{name}").into()),
            watchdog: None,
        };
        n.notify("WATCHDOG=1");
        let len = crate::health::daemon::testutil::recv(&arx, &mut buf);
        assert_eq!(&buf[..len], b"WATCHDOG=1");
        Notifier::default().notify("READY=1"); // no socket: nothing happens
        let _ = std::fs::remove_dir_all(&dir);
    }
}
