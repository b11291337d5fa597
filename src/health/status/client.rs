//! Reading daemons' status sockets: for `lvsctl health status` and for `lvsctl top`.

use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{RealState, SOCKET_DIR, StatusReport};
use crate::tui::{HealthMap, HealthSource, HealthState, HealthStatus};

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

/// Every health daemon's socket under [`SOCKET_DIR`], merged: the `lvsctl top` source.
#[derive(Debug, Clone)]
pub struct SocketHealth {
    pub dir: PathBuf,
}

impl Default for SocketHealth {
    fn default() -> Self {
        Self {
            dir: PathBuf::from(SOCKET_DIR),
        }
    }
}

impl HealthSource for SocketHealth {
    fn statuses(&mut self) -> HealthMap {
        let mut map = HealthMap::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return map;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_socket = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("health.") && Path::new(n).extension().is_some_and(|e| e == "sock")
            });
            if !is_socket {
                continue;
            }
            let Ok(report) = query(&path) else { continue };
            for v in report.virtuals {
                for real in v.reals {
                    let state = match real.state {
                        RealState::Up => HealthState::Up,
                        RealState::Down | RealState::Maintenance
                            if real.kernel_weight == Some(0) =>
                        {
                            HealthState::Quiesced
                        }
                        RealState::Down | RealState::Maintenance => HealthState::Down,
                        RealState::Pending => HealthState::Unknown,
                    };
                    map.insert(
                        (v.service, real.dest),
                        HealthStatus {
                            state,
                            last_result: Some(real.reason.unwrap_or_else(|| "ok".to_owned())),
                            latency: real.last_duration_ms.map(Duration::from_millis),
                        },
                    );
                }
            }
        }
        map
    }
}
