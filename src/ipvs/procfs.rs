//! Readers for `/proc/net/ip_vs_conn`, `/proc/net/ip_vs_stats` and `/proc/sys/net/ipv4/vs/`.
//!
//! (Signatures fixed by the foundation skeleton; bodies to be written.)

use std::path::Path;

use crate::ipvs::error::{IpvsError, Result};
use crate::ipvs::model::{Connection, GlobalStats};

pub const CONN_PATH: &str = "/proc/net/ip_vs_conn";
pub const STATS_PATH: &str = "/proc/net/ip_vs_stats";
pub const SYSCTL_DIR: &str = "/proc/sys/net/ipv4/vs";

fn unimplemented_here(path: &Path) -> IpvsError {
    IpvsError::Proc {
        path: path.display().to_string(),
        message: "reader not implemented yet".to_owned(),
    }
}

/// Stream the rows of an `ip_vs_conn`-format file into `sink` (which returns false to stop).
pub fn for_each_connection(
    path: &Path,
    _sink: &mut dyn FnMut(Connection) -> bool,
) -> Result<()> {
    Err(unimplemented_here(path))
}

/// Parse an `ip_vs_stats`-format file.
pub fn read_global_stats(path: &Path) -> Result<GlobalStats> {
    Err(unimplemented_here(path))
}

/// Read every file of a sysctl directory as (name, trimmed value), sorted by name.
pub fn read_sysctls(dir: &Path) -> Result<Vec<(String, String)>> {
    Err(unimplemented_here(dir))
}
