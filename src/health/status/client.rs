//! Reading daemons' status sockets: for `lvsctl health status` and for `lvsctl top`.

use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::StatusReport;

/// One status document from the daemon listening on `path`.
pub fn query(path: &Path) -> std::io::Result<StatusReport> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut body = Vec::new();
    stream.read_to_end(&mut body)?;
    serde_json::from_slice(&body).map_err(std::io::Error::other)
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
                real.reason.as_deref().unwrap_or(""),
            );
        }
    }
    out
}
