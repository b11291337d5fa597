//! Traffic counters and rate estimators, per service, per real server and in total.

use serde::{Deserialize, Serialize};

/// Packet and byte counters. Always 64-bit here; the kernel's 32-bit STATS block is widened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
}

/// The kernel's rate estimators (2-second EWMA, per second).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rates {
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// Totals from `/proc/net/ip_vs_stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalStats {
    pub stats: Stats,
    pub rates: Rates,
}
