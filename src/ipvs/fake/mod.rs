//! An in-memory IPVS that behaves like the kernel, for tests without root.
//!
//! [`FakeBackend`] answers every [`Backend`] call with the errnos, defaults and listing
//! shapes of Linux 6.1 (the rules live in `rules`, one function per kernel check, so each
//! can be read against `ip_vs_ctl.c`). On top of that it has test hooks the kernel lacks:
//! traffic counters and connections can be set so formatting and dashboard tests show
//! traffic, failures can be scripted, every applied write is logged and counted so a
//! test can assert that a no-op apply wrote nothing, and every read is counted so a test
//! can assert what a refresh or a cycle asked the kernel. [`SharedFake`] lets a test keep
//! the fake while the code under test owns it as a backend.
//!
//! Known differences from a real kernel, all deliberate: services list in insertion order
//! within the address and fwmark groups (the kernel uses hash order), deleted dests are not
//! kept in a trash list, and the fake knows no local addresses (so link-local IPv6 dests are
//! always refused and per-interface broadcast addresses always accepted).

mod conns;
mod daemons;
mod defaults;
mod inject;
mod reads;
mod rules;
mod seed;
mod shared;
mod table;

use std::path::Path;

pub use daemons::FakeInterface;
pub use reads::ReadCounts;
pub use rules::{HZ, MAX_TIMEOUT};
pub use shared::SharedFake;

use crate::ipvs::backend::{self, Backend, Op};
use crate::ipvs::error::{IpvsError, OpKind, Result};
use crate::ipvs::model::{
    Connection, Dest, DestKey, GlobalStats, Info, Rates, Service, ServiceEntry, ServiceKey, Stats,
    SyncDaemon, Timeouts,
};
use crate::ipvs::procfs;

/// The in-memory kernel. `FakeBackend::new()` is a fresh network namespace: no services,
/// default timeouts, no daemons, interfaces `lo` and `eth0`.
#[derive(Debug)]
pub struct FakeBackend {
    table: table::Table,
    daemons: daemons::Daemons,
    timeouts: Timeouts,
    interfaces: Vec<FakeInterface>,
    connections: Vec<Connection>,
    /// `connections()` cycles through the rows until the sink stops it.
    endless_connections: bool,
    global: GlobalStats,
    sysctls: Vec<(String, String)>,
    injector: inject::Injector,
    submitted: u64,
    /// Calls of `apply` (batches), so tests can tell batched from one-by-one submission.
    apply_calls: u64,
    applied: Vec<Op>,
    reads: reads::Reads,
}

impl Default for FakeBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeBackend {
    pub fn new() -> Self {
        Self {
            table: table::Table::default(),
            daemons: daemons::Daemons::default(),
            timeouts: defaults::TIMEOUTS,
            interfaces: FakeInterface::defaults(),
            connections: Vec::new(),
            endless_connections: false,
            global: GlobalStats::default(),
            sysctls: defaults::SYSCTLS
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            injector: inject::Injector::default(),
            submitted: 0,
            apply_calls: 0,
            applied: Vec::new(),
            reads: reads::Reads::default(),
        }
    }

    /// A fake whose sync daemons may bind only to these interfaces (others are ENODEV).
    pub fn with_interfaces(interfaces: Vec<FakeInterface>) -> Self {
        Self {
            interfaces,
            ..Self::new()
        }
    }

    /// One kernel write, with the kernel's errno on failure.
    fn write(&mut self, op: &Op) -> std::result::Result<(), rules::Errno> {
        let sync_running = self.daemons.any_running();
        match op {
            Op::AddService(svc) => self.table.add_service(svc),
            Op::EditService(svc) => self.table.edit_service(svc),
            Op::DelService(key) => self.table.del_service(key),
            Op::AddDest(key, dest) => self.table.add_dest(key, dest, sync_running),
            Op::EditDest(key, dest) => self.table.edit_dest(key, dest, sync_running),
            Op::DelDest(key, dest) => self.table.del_dest(key, dest),
            Op::Zero(Some(key)) => self.table.zero_service(key),
            Op::Zero(None) => {
                self.table.zero_all();
                self.global = GlobalStats::default();
                Ok(())
            }
            Op::Flush => {
                self.table.flush();
                Ok(())
            }
            Op::SetTimeouts(t) => {
                rules::timeouts(t)?;
                self.timeouts = rules::merged_timeouts(self.timeouts, t);
                Ok(())
            }
            Op::StartDaemon(d) => {
                let mixed = self.table.has_mixed_family_dests();
                self.daemons.start(d, &self.interfaces, mixed)
            }
            Op::StopDaemon(role, _syncid) => self.daemons.stop(*role),
        }
    }

    fn read(&mut self, kind: OpKind) -> Result<()> {
        match self.injector.take_read(kind) {
            Some(errno) => Err(IpvsError::Kernel { op: kind, errno }),
            None => Ok(()),
        }
    }
}

/// Test hooks: traffic, connections and sysctls a test wants the fake to report.
impl FakeBackend {
    /// Replace the interfaces sync daemons may bind to.
    pub fn set_interfaces(&mut self, interfaces: Vec<FakeInterface>) {
        self.interfaces = interfaces;
    }

    /// Rows `connections()` will return, in this order.
    pub fn set_connections(&mut self, connections: Vec<Connection>) {
        self.connections = connections;
    }

    /// Load connections from an `ip_vs_conn`-format file (e.g. a captured fixture).
    pub fn load_connections(&mut self, path: &Path) -> Result<procfs::ScanSummary> {
        let mut rows = Vec::new();
        let summary = procfs::for_each_connection_counted(path, &mut |c| {
            rows.push(c);
            true
        })?;
        self.connections = rows;
        Ok(summary)
    }

    /// Make `connections()` go round the rows forever (until the sink says stop): a
    /// stand-in for a million-row table on a slow kernel.
    pub fn set_endless_connections(&mut self, endless: bool) {
        self.endless_connections = endless;
    }

    pub fn set_global_stats(&mut self, stats: GlobalStats) {
        self.global = stats;
    }

    /// Replace the sysctls (kept sorted by name, as the real reader returns them).
    pub fn set_sysctls(&mut self, mut sysctls: Vec<(String, String)>) {
        sysctls.sort();
        self.sysctls = sysctls;
    }

    /// Set a service's counters and rates; false when the service does not exist.
    pub fn set_service_traffic(&mut self, key: &ServiceKey, stats: Stats, rates: Rates) -> bool {
        let Some(entry) = self.table.find_mut(key) else {
            return false;
        };
        entry.service.stats = stats;
        entry.service.rates = rates;
        true
    }

    /// Set a dest's counters and rates; false when the service or dest does not exist.
    pub fn set_dest_traffic(
        &mut self,
        key: &ServiceKey,
        dest: &DestKey,
        stats: Stats,
        rates: Rates,
    ) -> bool {
        let Some(d) = self.table.dest_mut(key, dest) else {
            return false;
        };
        d.stats = stats;
        d.rates = rates;
        true
    }

    /// Set a dest's active, inactive and persistent connection counts.
    pub fn set_dest_conns(
        &mut self,
        key: &ServiceKey,
        dest: &DestKey,
        (active, inactive, persistent): (u32, u32, u32),
    ) -> bool {
        let Some(d) = self.table.dest_mut(key, dest) else {
            return false;
        };
        d.active_conns = active;
        d.inact_conns = inactive;
        d.persist_conns = persistent;
        true
    }
}

/// Test hooks: scripted failures and the write log.
impl FakeBackend {
    /// Make write number `number` fail with `errno`. Writes are numbered from 0 in the
    /// order they are submitted to `apply` (failed ones included); see [`Self::ops_submitted`].
    pub fn fail_op_number(&mut self, number: u64, errno: i32) {
        self.injector.fail_number(number, errno);
    }

    /// Make the next write that `predicate` accepts fail with `errno` (once).
    pub fn fail_next_op_matching(
        &mut self,
        predicate: impl FnMut(&Op) -> bool + Send + 'static,
        errno: i32,
    ) {
        self.injector.fail_matching(Box::new(predicate), errno);
    }

    /// Make the next read of this kind (`GetServices`, `GetService`, `GetDests`, `GetInfo`,
    /// `GetTimeouts`, `GetDaemons`) fail with `errno` (once).
    pub fn fail_next_read(&mut self, kind: OpKind, errno: i32) {
        self.injector.fail_read(kind, errno);
    }

    /// Forget every pending scripted failure.
    pub fn clear_failures(&mut self) {
        self.injector.clear();
    }

    /// Writes submitted so far, failed ones included (the number the next write gets).
    pub fn ops_submitted(&self) -> u64 {
        self.submitted
    }

    /// How many times `apply` was called (one call is one batch on the real backend).
    pub fn apply_calls(&self) -> u64 {
        self.apply_calls
    }

    /// Writes the kernel accepted, in order.
    pub fn applied_ops(&self) -> &[Op] {
        &self.applied
    }

    /// Number of writes the kernel accepted: 0 after a no-op apply.
    pub fn writes_applied(&self) -> usize {
        self.applied.len()
    }

    /// Forget the applied-writes log (e.g. after seeding the fake with an initial table).
    pub fn reset_write_log(&mut self) {
        self.applied.clear();
    }

    /// Reads answered so far, per [`Backend`] read method.
    pub fn reads(&self) -> ReadCounts {
        self.reads.counts
    }

    /// GET_DEST dumps of one service so far.
    pub fn dest_reads_of(&self, key: &ServiceKey) -> u64 {
        self.reads.dests_of(key)
    }
}

impl Backend for FakeBackend {
    fn info(&mut self) -> Result<Info> {
        self.reads.counts.info += 1;
        self.read(OpKind::GetInfo)?;
        Ok(defaults::INFO)
    }

    fn services(&mut self) -> Result<Vec<Service>> {
        self.reads.counts.services += 1;
        self.read(OpKind::GetServices)?;
        Ok(self.table.listing().map(|e| e.service.clone()).collect())
    }

    fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        self.reads.counts.service += 1;
        self.read(OpKind::GetService)?;
        self.table
            .find(key)
            .map(|e| e.service.clone())
            .ok_or(IpvsError::Kernel {
                op: OpKind::GetService,
                errno: libc::ESRCH,
            })
    }

    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>> {
        self.reads.dests(key);
        self.read(OpKind::GetDests)?;
        Ok(self
            .table
            .find(key)
            .map(|e| e.dests.clone())
            .unwrap_or_default())
    }

    fn entries(&mut self) -> Result<Vec<ServiceEntry>> {
        self.reads.counts.entries += 1;
        backend::entries_one_by_one(self)
    }

    fn timeouts(&mut self) -> Result<Timeouts> {
        self.reads.counts.timeouts += 1;
        self.read(OpKind::GetTimeouts)?;
        Ok(self.timeouts)
    }

    fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        self.reads.counts.daemons += 1;
        self.read(OpKind::GetDaemons)?;
        Ok(self.daemons.listing())
    }

    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        self.apply_calls += 1;
        ops.iter()
            .map(|op| {
                let number = self.submitted;
                self.submitted += 1;
                let outcome = match self.injector.take_write(number, op) {
                    Some(errno) => Err(errno),
                    None => self.write(op),
                };
                match outcome {
                    Ok(()) => {
                        self.applied.push(op.clone());
                        Ok(())
                    }
                    Err(errno) => Err(IpvsError::Kernel {
                        op: op.kind(),
                        errno,
                    }),
                }
            })
            .collect()
    }

    fn connections(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
        self.reads.counts.connections += 1;
        // Endless over no rows would spin forever without calling the sink.
        let rounds = if self.endless_connections && !self.connections.is_empty() {
            usize::MAX
        } else {
            1
        };
        for c in std::iter::repeat_n(&self.connections, rounds).flatten() {
            if !sink(c.clone()) {
                break;
            }
        }
        Ok(())
    }

    fn open_connections(&mut self) -> Result<Box<dyn backend::ConnStream>> {
        self.reads.counts.connections += 1;
        Ok(Box::new(conns::FakeConns {
            rows: self.connections.clone(),
            next: 0,
            endless: self.endless_connections,
        }))
    }

    fn global_stats(&mut self) -> Result<GlobalStats> {
        self.reads.counts.global_stats += 1;
        Ok(self.global)
    }

    fn sysctls(&mut self) -> Result<Vec<(String, String)>> {
        self.reads.counts.sysctls += 1;
        Ok(self.sysctls.clone())
    }
}

#[cfg(test)]
mod tests;
