//! What the fake was asked to read, so a test can hold a face to a read budget (one dump
//! per refresh, no dest dump of a service it does not own) the way the write counters hold
//! it to a write budget.

use std::collections::HashMap;

use crate::ipvs::model::ServiceKey;

/// Calls of each [`Backend`](crate::ipvs::Backend) read method, failed ones included (a
/// request the kernel refused was still sent). [`Backend::entries`](crate::ipvs::Backend::entries)
/// counts once in `entries` and also as the requests it is made of on the kernel: one
/// `services` dump and one `dests` dump per service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCounts {
    /// GET_INFO.
    pub info: u64,
    /// GET_SERVICE dumps.
    pub services: u64,
    /// GET_SERVICE of one service.
    pub service: u64,
    /// GET_DEST dumps (see [`FakeBackend::dest_reads_of`](super::FakeBackend::dest_reads_of)
    /// for one service's share).
    pub dests: u64,
    /// Whole listings.
    pub entries: u64,
    /// GET_CONFIG.
    pub timeouts: u64,
    /// GET_DAEMON dumps.
    pub daemons: u64,
    /// Reads of the connection table.
    pub connections: u64,
    /// Reads of the global counters.
    pub global_stats: u64,
    /// Reads of the sysctls.
    pub sysctls: u64,
}

/// The counters and the per-service tally of GET_DEST dumps.
#[derive(Debug, Clone, Default)]
pub(super) struct Reads {
    pub counts: ReadCounts,
    dests_by_service: HashMap<ServiceKey, u64>,
}

impl Reads {
    pub fn dests(&mut self, key: &ServiceKey) {
        self.counts.dests += 1;
        *self.dests_by_service.entry(*key).or_default() += 1;
    }

    /// GET_DEST dumps of one service.
    pub fn dests_of(&self, key: &ServiceKey) -> u64 {
        self.dests_by_service.get(key).copied().unwrap_or(0)
    }
}
