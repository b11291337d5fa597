//! What IPVS holds once per network namespace rather than per service: its version,
//! the connection timeouts and the connection-sync daemons.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// GET_INFO: the IPVS version and the connection hash table size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// Encoded as the kernel does: `(major << 16) | (minor << 8) | patch`.
    pub version: u32,
    pub conn_tab_size: u32,
}

impl Info {
    pub fn version_triple(&self) -> (u32, u32, u32) {
        (
            (self.version >> 16) & 0xff,
            (self.version >> 8) & 0xff,
            self.version & 0xff,
        )
    }
}

/// Connection timeouts in seconds (`--set tcp tcpfin udp`). In a SET request 0 means
/// "leave unchanged".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// Role of a connection-sync daemon (`IP_VS_STATE_MASTER` / `IP_VS_STATE_BACKUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DaemonRole {
    Master,
    Backup,
}

impl DaemonRole {
    pub const fn raw(self) -> u32 {
        match self {
            Self::Master => 1,
            Self::Backup => 2,
        }
    }
}

/// A connection-synchronisation daemon. Optional fields are the ones the kernel fills with
/// defaults when they are not sent (and the ones ipvsadm prints only when present).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDaemon {
    /// Raw IPVS_DAEMON_ATTR_STATE bits as reported (1 master, 2 backup).
    pub state: u32,
    pub mcast_ifn: String,
    pub syncid: u32,
    pub sync_maxlen: Option<u16>,
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: Option<u16>,
    pub mcast_ttl: Option<u8>,
}

impl SyncDaemon {
    pub fn new(role: DaemonRole, mcast_ifn: impl Into<String>, syncid: u32) -> Self {
        Self {
            state: role.raw(),
            mcast_ifn: mcast_ifn.into(),
            syncid,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        }
    }

    /// The role ipvsadm reports: the master bit is checked first.
    pub fn role(&self) -> Option<DaemonRole> {
        if self.state & DaemonRole::Master.raw() != 0 {
            Some(DaemonRole::Master)
        } else if self.state & DaemonRole::Backup.raw() != 0 {
            Some(DaemonRole::Backup)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_role_prefers_master_bit() {
        let mut d = SyncDaemon::new(DaemonRole::Backup, "eth0", 0);
        assert_eq!(d.role(), Some(DaemonRole::Backup));
        d.state = 3;
        assert_eq!(d.role(), Some(DaemonRole::Master));
    }
}

/// Whether the kernel is estimating rates (the CPS/PPS/BPS columns of `--rate` and the
/// dashboard), read from the IPVS sysctls. Kernels differ here:
/// - 5.10 has no switch: rates are always estimated;
/// - 6.1 has `run_estimation` (0 stops every estimator, and the rates read as 0);
/// - 6.12 also runs its estimators on kernel threads bound to `est_cpulist`, and an empty
///   list stops them as surely as `run_estimation = 0`.
///
/// The estimator is also what folds the per-CPU counters into the totals a dump reports, so
/// while it is off the counters stand still too (seen on 6.1 and 6.12:
/// tests/kernel_matrix.rs). A 0 or a frozen counter is ambiguous without this, so the modern
/// faces say which it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum RateEstimation {
    On,
    /// Off, with the sysctl that turned it off (`run_estimation = 0`).
    Off(String),
}

impl RateEstimation {
    /// From the (name, value) pairs of `/proc/sys/net/ipv4/vs/` (names without the path).
    pub fn from_sysctls(sysctls: &[(String, String)]) -> Self {
        let get = |name: &str| {
            sysctls
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.trim())
        };
        if get("run_estimation") == Some("0") {
            return Self::Off("run_estimation = 0".to_owned());
        }
        if get("est_cpulist") == Some("") {
            return Self::Off("est_cpulist is empty".to_owned());
        }
        Self::On
    }
}

#[cfg(test)]
mod rate_estimation_tests {
    use super::RateEstimation;

    fn sysctls(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn each_kernel_generation_says_whether_rates_are_estimated() {
        // 5.10: no switch at all.
        assert_eq!(
            RateEstimation::from_sysctls(&sysctls(&[("amemthresh", "1024")])),
            RateEstimation::On
        );
        // 6.1: run_estimation.
        assert_eq!(
            RateEstimation::from_sysctls(&sysctls(&[("run_estimation", "1")])),
            RateEstimation::On
        );
        assert_eq!(
            RateEstimation::from_sysctls(&sysctls(&[("run_estimation", "0")])),
            RateEstimation::Off("run_estimation = 0".into())
        );
        // 6.12: also the estimator threads' CPU list.
        assert_eq!(
            RateEstimation::from_sysctls(&sysctls(&[
                ("est_cpulist", "0-1"),
                ("run_estimation", "1")
            ])),
            RateEstimation::On
        );
        assert_eq!(
            RateEstimation::from_sysctls(&sysctls(&[("est_cpulist", ""), ("run_estimation", "1")])),
            RateEstimation::Off("est_cpulist is empty".into())
        );
    }
}
