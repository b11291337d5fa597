//! The status API: a JSON document per daemon, served on a root-only unix socket, read by
//! `lvsctl health status` and by `lvsctl top` (through `cli::top::SocketHealth`).
//!
//! The schema (docs/ldirectord-compat.md, Status socket and metrics): per virtual {label, up
//! count, fallback active}, per real {state, kernel and configured weight, consecutive
//! successes/failures, last check time, duration and reason}, and the fault counters.
//! `snapshot` builds it from the registry; nothing here runs a check. `server` and `metrics`
//! serve it through `accept`, which keeps slow or idle clients from stalling anyone.

mod accept;
mod client;
mod counters;
mod metrics;
mod server;
#[cfg(test)]
mod test_support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

pub use accept::{DEADLINE, Log, MAX_CLIENTS};
pub use client::{query, render_table};
pub use counters::{Counters, FaultCounts};
pub use metrics::{render_metrics, serve_metrics};
pub use server::{Ask, remove_socket, serve};

use crate::health::check::reason;
use crate::health::config::key_label;
use crate::health::daemon::registry::Registry;
use crate::health::desired::{dest_in, fallback_in, service_keys};
use crate::health::state::Health;
use crate::ipvs::model::{DestKey, ServiceKey};

/// Where a daemon for configuration `name` listens.
pub fn socket_path(name: &str) -> PathBuf {
    PathBuf::from(format!("{SOCKET_DIR}/health.{name}.sock"))
}

/// Directory of every daemon's socket (one daemon per configuration).
pub const SOCKET_DIR: &str = "/run/lvsctl";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub config: String,
    pub pid: u32,
    pub virtuals: Vec<VirtualStatus>,
    /// Local trouble counted since the daemon started (absent from older daemons).
    #[serde(default)]
    pub faults: FaultCounts,
}

impl StatusReport {
    /// The report with every reason escaped and capped ([`reason::clean`]): what a client
    /// prints, whatever daemon wrote the document.
    #[must_use]
    pub fn cleaned(mut self) -> Self {
        for real in self.virtuals.iter_mut().flat_map(|v| v.reals.iter_mut()) {
            if let Some(why) = real.reason.as_mut()
                && !reason::is_clean(why)
            {
                *why = reason::clean(why);
            }
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualStatus {
    pub service: ServiceKey,
    pub label: String,
    pub up: usize,
    pub fallback_active: bool,
    pub reals: Vec<RealStatus>,
}

/// `pending` until the first check result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RealState {
    Up,
    Down,
    Maintenance,
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealStatus {
    pub dest: DestKey,
    pub state: RealState,
    /// None when the entry is not in the kernel.
    pub kernel_weight: Option<i32>,
    pub configured_weight: u32,
    pub successes: u32,
    pub failures: u32,
    /// Milliseconds since the Unix epoch.
    pub last_check_ms: Option<u64>,
    pub last_duration_ms: Option<u64>,
    pub reason: Option<String>,
}

/// The status document for `registry`, with the kernel weights of the last cycle and the
/// fault counters.
#[allow(clippy::implicit_hasher)] // only ever called with the daemon's map
pub fn snapshot(
    config: &str,
    registry: &Registry,
    weights: &HashMap<(ServiceKey, DestKey), i32>,
    counters: &Counters,
) -> StatusReport {
    let virtuals = registry
        .virtuals
        .iter()
        .flat_map(|vs| {
            // A keepalived group is shown as its member services, each with the group's
            // reals (one check each, so the same state and counts in every member) and the
            // kernel weight of the real's entry in that member.
            let members = service_keys(&vs.v);
            let single = members.len() == 1;
            members.into_iter().map(move |key| (vs, key, single))
        })
        .map(|(vs, key, single)| {
            let reals: Vec<RealStatus> = vs
                .reals
                .iter()
                .map(|s| {
                    let dest = if single {
                        s.dest.key()
                    } else {
                        dest_in(&vs.v, key, &s.real).key()
                    };
                    let state = match (s.maintenance, s.health.map(|h| h.health)) {
                        (true, _) => RealState::Maintenance,
                        (false, None) => RealState::Pending,
                        (false, Some(Health::Up)) => RealState::Up,
                        (false, Some(Health::Down)) => RealState::Down,
                    };
                    let last = s.last.as_ref();
                    RealStatus {
                        dest,
                        state,
                        kernel_weight: weights.get(&(key, dest)).copied(),
                        configured_weight: s.real.weight,
                        successes: s.health.map_or(0, |h| h.successes),
                        failures: s.health.map_or(0, |h| h.failures),
                        last_check_ms: last.and_then(|l| {
                            l.at.duration_since(UNIX_EPOCH)
                                .ok()
                                .map(|d| d.as_millis() as u64)
                        }),
                        last_duration_ms: last.map(|l| l.duration.as_millis() as u64),
                        reason: last.and_then(|l| l.reason.as_deref().map(reason::clean)),
                    }
                })
                .collect();
            let fallback_active = vs.v.fallback.as_ref().is_some_and(|f| {
                let d = fallback_in(&vs.v, key, f);
                weights.contains_key(&(key, d.key())) && !reals.iter().any(|r| r.dest == d.key())
            });
            VirtualStatus {
                service: key,
                label: key_label(key),
                up: reals.iter().filter(|r| r.state == RealState::Up).count(),
                fallback_active,
                reals,
            }
        })
        .collect();
    StatusReport {
        config: config.to_owned(),
        pid: std::process::id(),
        virtuals,
        faults: counters.values(),
    }
}
