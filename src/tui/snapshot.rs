//! What the collector thread hands to the UI: plain, owned values, so the UI never touches
//! the backend and rendering is a pure function of them.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use crate::ipvs::{
    Connection, Dest, DestKey, GlobalStats, Info, IpvsError, Service, ServiceEntry, ServiceKey,
    SyncDaemon, Timeouts,
};
use crate::tui::health::HealthMap;

/// One refresh: what it read of the IPVS tables and everything around them.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Monotonic time of the poll since the collector started: rates are computed from
    /// counter deltas over this, never from wall-clock time.
    pub at: Duration,
    pub read: TableRead,
    /// `/proc/net/ip_vs_stats`; `None` when it could not be read (the header says so).
    pub global: Option<GlobalStats>,
    pub details: Details,
    pub health: HealthMap,
    /// Host and port names, filled only when names (not `-n`) are shown; `None` when no
    /// new name was learnt since the last snapshot.
    pub names: Option<Names>,
    /// Nothing has moved for a while (no packet, no rate in `/proc/net/ip_vs_stats`): the
    /// collector reads the screen's rows less often until something does.
    pub idle: bool,
}

/// What one refresh read of the service table. At 10,000 services a refresh never reads
/// the whole table: it reads the services and real servers of the rows on screen, and a
/// slice of the rest within a CPU budget (see `collector`); [`crate::tui::table::Table`]
/// puts the reads together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableRead {
    /// The GET_SERVICE dump: every service, in kernel order; `None` when not read.
    pub listing: Option<Vec<Service>>,
    /// Services read one by one (the rows on screen when the dump was not read); `None`
    /// for one that no longer exists.
    pub services: Vec<(ServiceKey, Option<Service>)>,
    /// Real servers read: those of the rows on screen, and the sweep's slice.
    pub dests: Vec<(ServiceKey, Vec<Dest>)>,
}

impl TableRead {
    /// A read of the whole table (a small one, a test's, the demo's).
    pub fn whole(entries: Vec<ServiceEntry>) -> Self {
        let mut listing = Vec::with_capacity(entries.len());
        let mut dests = Vec::with_capacity(entries.len());
        for e in entries {
            dests.push((e.service.key, e.dests));
            listing.push(e.service);
        }
        Self {
            listing: Some(listing),
            services: Vec::new(),
            dests,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.listing.is_none() && self.services.is_empty() && self.dests.is_empty()
    }
}

/// The slow-changing facts shown in the Details view, read only while it is visible (a
/// score of files and queries per poll). Each part fails on its own: a missing sysctl
/// directory must not hide the timeouts.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub info: Option<Result<Info, String>>,
    pub timeouts: Option<Result<Timeouts, String>>,
    pub daemons: Option<Result<Vec<SyncDaemon>, String>>,
    pub sysctls: Option<Result<Vec<(String, String)>, String>>,
}

impl Details {
    /// Nothing was read (the Details view was not visible).
    pub fn is_empty(&self) -> bool {
        self.info.is_none()
            && self.timeouts.is_none()
            && self.daemons.is_none()
            && self.sysctls.is_none()
    }
}

/// Resolved names, looked up on the collector thread (DNS may block for seconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub hosts: HashMap<IpAddr, String>,
    /// Keyed by (port, protocol name as in `/etc/services`).
    pub ports: HashMap<(u16, &'static str), String>,
}

impl Names {
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.ports.is_empty()
    }
}

/// The part of `/proc/net/ip_vs_conn` the Connections view asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnSnapshot {
    /// The query generation this answers; stale answers are dropped by the UI.
    pub generation: u64,
    /// Matching rows, at most the query's cap, in proc-file order.
    pub rows: Vec<Connection>,
    /// Rows read from the kernel so far.
    pub seen: u64,
    /// Rows matching the query (may exceed `rows.len()`).
    pub matched: u64,
    pub by_state: BTreeMap<String, u64>,
    pub by_dest: BTreeMap<DestKey, u64>,
    /// False while the read is still streaming in.
    pub complete: bool,
    /// `rows` continue the previous answer of the same read (a streamed read sends each
    /// row once); false when they replace whatever is shown.
    pub append: bool,
    /// Rows the whole table held when it was last read to the end, for the progress of a
    /// read under way (`None` before the first complete read).
    pub total: Option<u64>,
    /// When this read started (collector time, as [`Snapshot::at`]): a read of a big table
    /// on a slow kernel takes minutes, and the view says how old a finished one is.
    pub started: Duration,
}

/// Why the collector could not produce a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectError {
    /// IPVS cannot be reached at all: not root, or the module is missing.
    Unavailable { errno: i32, message: String },
    /// A poll failed; the previous snapshot stays on screen.
    Poll(String),
}

impl CollectError {
    /// Classify a failed poll: unreachable IPVS and missing privileges never fix
    /// themselves between two polls, so they replace the view; anything else is shown in
    /// the status line over the last good data.
    pub fn from_ipvs(err: &IpvsError) -> Self {
        let permission = matches!(err.errno(), libc::EPERM | libc::EACCES);
        if matches!(err, IpvsError::Unavailable { .. }) || permission {
            Self::unavailable(err)
        } else {
            Self::Poll(err.to_string())
        }
    }

    /// The backend could not even be created.
    pub fn unavailable(err: &IpvsError) -> Self {
        Self::Unavailable {
            errno: err.errno(),
            message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::OpKind;

    #[test]
    fn permission_and_unreachable_errors_replace_the_view_others_do_not() {
        let eperm = IpvsError::Kernel {
            op: OpKind::GetServices,
            errno: libc::EPERM,
        };
        assert!(matches!(
            CollectError::from_ipvs(&eperm),
            CollectError::Unavailable {
                errno: libc::EPERM,
                ..
            }
        ));
        let missing = IpvsError::Unavailable {
            errno: libc::ENOPROTOOPT,
        };
        assert!(matches!(
            CollectError::from_ipvs(&missing),
            CollectError::Unavailable { .. }
        ));
        let busy = IpvsError::Kernel {
            op: OpKind::GetDests,
            errno: libc::EBUSY,
        };
        assert!(matches!(
            CollectError::from_ipvs(&busy),
            CollectError::Poll(_)
        ));
        assert!(matches!(
            CollectError::unavailable(&busy),
            CollectError::Unavailable {
                errno: libc::EBUSY,
                ..
            }
        ));
    }
}
