//! Reading daemons' status sockets: for `lvsctl health status` and for `lvsctl top`.

use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::StatusReport;
use crate::health::check::reason;

/// One status document from the daemon listening on `path`.
pub fn query(path: &Path) -> std::io::Result<StatusReport> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut body = Vec::new();
    stream.read_to_end(&mut body)?;
    serde_json::from_slice::<StatusReport>(&body)
        .map(StatusReport::cleaned)
        .map_err(std::io::Error::other)
}

/// A plain table for terminals.
pub fn render_table(r: &StatusReport) -> String {
    let mut out = String::new();
    for v in &r.virtuals {
        let _ = writeln!(
            out,
            "{}  up {}/{}{}",
            v.label,
            v.up,
            v.reals.len(),
            if v.fallback_active {
                "  fallback active"
            } else {
                ""
            }
        );
        for real in &v.reals {
            let weight = real
                .kernel_weight
                .map_or_else(|| "-".to_owned(), |w| w.to_string());
            let _ = writeln!(
                out,
                "  {:<24} {:<11} weight {:>5}/{:<5} ok {:<4} fail {:<4} {}{}",
                real.dest.to_string(),
                format!("{:?}", real.state).to_lowercase(),
                weight,
                real.configured_weight,
                real.successes,
                real.failures,
                real.last_duration_ms
                    .map_or_else(String::new, |ms| format!("{ms} ms ")),
                real.reason
                    .as_deref()
                    .map(reason::clean)
                    .unwrap_or_default(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::status::{RealState, RealStatus, VirtualStatus};
    use crate::ipvs::model::{DestKey, Protocol, ServiceKey};

    fn report(reason: &str) -> StatusReport {
        StatusReport {
            config: "t.cf".into(),
            pid: 1,
            virtuals: vec![VirtualStatus {
                service: ServiceKey::Addr {
                    protocol: Protocol::Tcp,
                    addr: "192.0.2.1".parse().unwrap(),
                    port: 80,
                },
                label: "192.0.2.1:80".into(),
                up: 0,
                fallback_active: false,
                reals: vec![RealStatus {
                    dest: DestKey {
                        addr: "10.0.0.1".parse().unwrap(),
                        port: 80,
                    },
                    state: RealState::Down,
                    kernel_weight: None,
                    configured_weight: 1,
                    successes: 0,
                    failures: 1,
                    last_check_ms: None,
                    last_duration_ms: Some(3),
                    reason: Some(reason.into()),
                }],
            }],
            faults: crate::health::status::FaultCounts::default(),
        }
    }

    /// A reason a real server wrote (terminal escapes, a forged second line, megabytes)
    /// prints as one escaped, capped line, whatever the daemon put into the document.
    #[test]
    fn hostile_reasons_print_escaped_and_capped() {
        let hostile = format!("HTTP/1.1 500 \x1b[2J\r\nforged line{}", "x".repeat(5000));
        let table = render_table(&report(&hostile));
        assert_eq!(table.lines().count(), 2, "{table}");
        assert!(!table.contains('\x1b') && !table.contains('\r'), "{table}");
        assert!(
            table.contains("HTTP/1.1 500 \\x1b[2J\\r\\nforged line"),
            "{table}"
        );
        assert!(table.len() < 700, "{}", table.len());
        let cleaned = report(&hostile).cleaned();
        let why = cleaned.virtuals[0].reals[0].reason.clone().unwrap();
        assert!(why.len() <= reason::MAX_REASON && why.ends_with(reason::CUT));
        assert_eq!(report("fine").cleaned(), report("fine"));
    }
}
