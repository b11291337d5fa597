//! The typed result of parsing one ipvsadm command line.
//!
//! Everything here is already validated and defaulted the way ipvsadm does it (wlc
//! scheduler, 360 s persistence, DR forwarding, port forcing for DR/TUN real servers…), so
//! an executor only maps each variant onto one backend call or one listing.

use crate::ipvs::model::{DaemonRole, Dest, DestKey, Service, ServiceKey, SyncDaemon, Timeouts};

/// One ipvsadm command, ready to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpvsadmCommand {
    /// `-A`: create the service.
    AddService(Service),
    /// `-E`: replace every setting of the service (unspecified ones are defaults again).
    EditService(Service),
    /// `-D`.
    DelService(ServiceKey),
    /// `-C`.
    Flush,
    /// `-R`: read command lines from stdin (see [`super::restore_lines`]).
    Restore,
    /// `-S`.
    Save { numeric: bool },
    /// `-a`.
    AddDest(ServiceKey, Dest),
    /// `-e`: replace every setting of the real server.
    EditDest(ServiceKey, Dest),
    /// `-d`.
    DelDest(ServiceKey, DestKey),
    /// `-L`/`-l`, or no arguments at all.
    List(ListRequest),
    /// `-Z`: one service, or every service when `None`.
    Zero(Option<ServiceKey>),
    /// `--set TCP TCPFIN UDP` (0 = leave unchanged).
    SetTimeouts(Timeouts),
    /// `--start-daemon`.
    StartDaemon(SyncDaemon),
    /// `--stop-daemon ROLE` with the `--syncid` given (0 by default).
    StopDaemon(DaemonRole, u32),
    /// `-h`: print usage to stdout, exit 0 (the rest of the line is ignored).
    Help,
    /// `-v`: print the version to stdout, exit 0.
    Version,
}

/// What a listing shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListTarget {
    /// The whole table, with its header line.
    #[default]
    All,
    /// One service (`-L -t …`): no header; unknown service is an error.
    Service(ServiceKey),
    /// `-c`: the connection table.
    Connections,
    /// `--timeout`.
    Timeouts,
    /// `--daemon`.
    Daemons,
}

/// Which columns a service listing shows: the formatter's type, so the parser's choice
/// (ipvsadm's precedence of stats, rate, thresholds, persistent-conn, tun-info) feeds the
/// formatter directly.
pub use crate::ipvsadm::format::ListMode;

/// A listing request (`-L` and friends).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListRequest {
    pub target: ListTarget,
    pub mode: ListMode,
    /// `-n`: no name lookups.
    pub numeric: bool,
    /// `-X/--exact`: no K/M/G scaling.
    pub exact: bool,
    /// `--nosort`: kernel order.
    pub nosort: bool,
    /// `--persistent-conn` as given (with `-c` it adds the persistence-engine columns even
    /// though the service-listing mode may say otherwise).
    pub persistent_conn: bool,
}
