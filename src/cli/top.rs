//! `lvsctl top` wired up: the kernel, names from the local files, and every health
//! daemon's status socket as the dashboard's health source; or, with `--demo`, the
//! dashboard's own simulated director.
//!
//! The dashboard (`tui`) and the health checker (`health`) know nothing of each other: the
//! checker publishes status reports, the dashboard shows a `HealthMap`, and the adapter
//! between the two, [`SocketHealth`], lives here where both are wired.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::backend;
use crate::cli::modern::args::TopArgs;
use crate::health::status::{RealState, SOCKET_DIR, query};
use crate::tui::{self, HealthMap, HealthSource, HealthState, HealthStatus};

/// `lvsctl top`.
pub fn top_main(args: &TopArgs) -> anyhow::Result<ExitCode> {
    let interval = tui::parse_interval(&args.interval)
        .map_err(|e| anyhow::anyhow!("invalid --interval `{}`: {e}", args.interval))?;
    let sources = if args.demo {
        tui::demo::sources()
    } else {
        let factory: crate::ipvs::BackendFactory = Box::new(backend::open);
        tui::Sources {
            factory,
            health: Box::new(SocketHealth::default()),
            resolver: Box::new(crate::names::FilesResolver::load()),
        }
    };
    let options = tui::TopOptions {
        demo: args.demo,
        ..tui::options(interval, args.read_only, args.numeric)
    };
    tui::run_with(sources, options)?;
    Ok(ExitCode::SUCCESS)
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
