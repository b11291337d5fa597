//! The one door to the kernel: every face of lvsctl talks to IPVS through [`Backend`].
//!
//! Writes are expressed as [`Op`] values and submitted in bulk with [`Backend::apply`], so
//! the netlink implementation can batch them (many messages per `sendmsg`) and still report
//! each kernel error against the operation that caused it. Reads are whole dumps because
//! that is what the kernel offers cheaply.

use crate::ipvs::error::{IpvsError, OpKind, Result};
use crate::ipvs::model::{
    Connection, DaemonRole, Dest, DestKey, GlobalStats, Info, Service, ServiceEntry, ServiceKey,
    SyncDaemon, Timeouts,
};

/// One kernel write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// NEW_SERVICE.
    AddService(Service),
    /// SET_SERVICE: a full replacement of scheduler, flags, timeout, netmask and PE.
    EditService(Service),
    /// DEL_SERVICE (its real servers go with it).
    DelService(ServiceKey),
    /// NEW_DEST.
    AddDest(ServiceKey, Dest),
    /// SET_DEST: a full replacement of forwarding, weight, thresholds and tunnel.
    EditDest(ServiceKey, Dest),
    /// DEL_DEST.
    DelDest(ServiceKey, DestKey),
    /// ZERO: one service's counters, or all counters when `None`.
    Zero(Option<ServiceKey>),
    /// FLUSH: delete every service.
    Flush,
    /// SET_CONFIG: 0 in a field leaves that timeout unchanged.
    SetTimeouts(Timeouts),
    /// NEW_DAEMON.
    StartDaemon(SyncDaemon),
    /// DEL_DAEMON.
    StopDaemon(DaemonRole, u32),
}

impl Op {
    pub fn kind(&self) -> OpKind {
        match self {
            Self::AddService(_) => OpKind::AddService,
            Self::EditService(_) => OpKind::EditService,
            Self::DelService(_) => OpKind::DelService,
            Self::AddDest(..) => OpKind::AddDest,
            Self::EditDest(..) => OpKind::EditDest,
            Self::DelDest(..) => OpKind::DelDest,
            Self::Zero(_) => OpKind::Zero,
            Self::Flush => OpKind::Flush,
            Self::SetTimeouts(_) => OpKind::SetTimeouts,
            Self::StartDaemon(_) => OpKind::StartDaemon,
            Self::StopDaemon(..) => OpKind::StopDaemon,
        }
    }
}

/// Opens a backend, on the thread that will use it: a netlink socket belongs to the network
/// namespace of the thread that opened it, and backends are not `Sync`.
///
/// Its contract: it may be called again after a failure (IPVS unreachable until someone
/// runs `modprobe ip_vs`, a backend dropped after a socket error), and each call tries
/// afresh. That is why it is `FnMut`; callers that need only one backend call it once.
pub type BackendFactory =
    Box<dyn FnMut() -> std::result::Result<Box<dyn Backend>, IpvsError> + Send>;

/// Everything lvsctl needs from IPVS. Implemented by the netlink backend (the real kernel)
/// and by [`crate::ipvs::fake::FakeBackend`] (in memory, same errnos and defaults).
pub trait Backend {
    /// GET_INFO.
    fn info(&mut self) -> Result<Info>;

    /// GET_INFO as answered when the backend was opened. ipvsadm asks once at start-up and
    /// prints that answer in the header of `-L`; a backend that asked while connecting
    /// returns it without another request (the version and the table size are fixed while
    /// the module stays loaded). Others ask now.
    fn opening_info(&mut self) -> Result<Info> {
        self.info()
    }

    /// GET_SERVICE dump, in kernel order.
    fn services(&mut self) -> Result<Vec<Service>>;

    /// GET_SERVICE for one service; ESRCH when it does not exist.
    fn service(&mut self, key: &ServiceKey) -> Result<Service>;

    /// GET_SERVICE of each of the services `keys`, answered in that order; `None` for one
    /// that does not exist. Much cheaper than the dump for a few services of a big table:
    /// each answer is one hash lookup in the kernel, where every round of the dump walks the
    /// table from its start. The netlink backend pipelines the requests; this default sends
    /// them one by one.
    fn services_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Option<Service>>> {
        keys.iter()
            .map(|k| match self.service(k) {
                Ok(s) => Ok(Some(s)),
                Err(IpvsError::Kernel {
                    errno: libc::ESRCH, ..
                }) => Ok(None),
                Err(e) => Err(e),
            })
            .collect()
    }

    /// GET_DEST dump of one service, in kernel order (newest first). Empty, not an error,
    /// when the service does not exist (that is what the kernel does).
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>>;

    /// GET_DEST dumps of the services `keys`, answered in that order (empty for a service
    /// that does not exist). For a face that needs the real servers of some services, not
    /// all: `lvsctl top` reads those of the rows on screen. The netlink backend pipelines
    /// the dumps as [`Backend::entries`] does; this default does them one by one.
    fn dests_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Vec<Dest>>> {
        keys.iter().map(|k| self.dests(k)).collect()
    }

    /// Every service with its real servers, in kernel order. The netlink backend pipelines
    /// the per-service dest dumps; this default does them one by one.
    fn entries(&mut self) -> Result<Vec<ServiceEntry>> {
        entries_one_by_one(self)
    }

    /// GET_CONFIG.
    fn timeouts(&mut self) -> Result<Timeouts>;

    /// GET_DAEMON dump: zero, one or two daemons.
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>>;

    /// Submit writes in order. The result has one entry per op, in the same order; a
    /// failing op does not stop the ones after it (callers that want to stop at the first
    /// error submit smaller slices).
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>>;

    /// Convenience for a single write.
    fn apply_one(&mut self, op: &Op) -> Result<()> {
        self.apply(std::slice::from_ref(op)).pop().unwrap_or(Ok(()))
    }

    /// Rows of `/proc/net/ip_vs_conn`, passed to `sink` one by one so a million-row table
    /// is never held in memory unless the caller wants it. `sink` returns false to stop.
    fn connections(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<()>;

    /// Start a read of the connection table that the caller may pause between rows and go
    /// on with later (a dashboard reads a million rows in slices between its refreshes).
    /// This default reads the whole table at once and hands it out from memory.
    fn open_connections(&mut self) -> Result<Box<dyn ConnStream>> {
        let mut rows = Vec::new();
        self.connections(&mut |c| {
            rows.push(c);
            true
        })?;
        Ok(Box::new(rows.into_iter()))
    }

    /// `/proc/net/ip_vs_stats`.
    fn global_stats(&mut self) -> Result<GlobalStats>;

    /// The IPVS sysctls (`/proc/sys/net/ipv4/vs/*`) as (name, value) pairs, sorted by name.
    fn sysctls(&mut self) -> Result<Vec<(String, String)>>;
}

/// A read of the connection table in progress ([`Backend::open_connections`]).
pub trait ConnStream {
    /// Pass rows to `sink` until it returns false (the read pauses after that row) or the
    /// table ends. True while rows may be left.
    fn read(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<bool>;
}

impl ConnStream for std::vec::IntoIter<Connection> {
    fn read(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<bool> {
        for c in self.by_ref() {
            if !sink(c) {
                return Ok(self.len() > 0);
            }
        }
        Ok(false)
    }
}

impl ConnStream for crate::ipvs::procfs::ConnFile {
    fn read(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<bool> {
        Self::read(self, sink)
    }
}

/// The listing as one GET_SERVICE dump and one GET_DEST dump per service, sent one after
/// another: what [`Backend::entries`] does unless a backend can do better.
pub fn entries_one_by_one<B: Backend + ?Sized>(backend: &mut B) -> Result<Vec<ServiceEntry>> {
    let services = backend.services()?;
    let mut out = Vec::with_capacity(services.len());
    for service in services {
        let dests = backend.dests(&service.key)?;
        out.push(ServiceEntry { service, dests });
    }
    Ok(out)
}
