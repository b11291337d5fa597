//! `ipvsadm -L --timeout` and `-L --daemon`.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::addr::ntop;
use crate::ipvs::model::{DaemonRole, SyncDaemon, Timeouts};

/// `Timeout (tcp tcpfin udp): 900 120 300` (values printed with `%d`).
pub fn write_timeouts(out: &mut dyn Write, t: &Timeouts) -> io::Result<()> {
    writeln!(
        out,
        "Timeout (tcp tcpfin udp): {} {} {}",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// One line per running daemon, in the order given (the kernel reports master first);
/// entries with neither role bit are skipped, as ipvsadm does.
pub fn write_daemons(out: &mut dyn Write, daemons: &[SyncDaemon]) -> io::Result<()> {
    for d in daemons {
        let role = match d.role() {
            Some(DaemonRole::Master) => "master",
            Some(DaemonRole::Backup) => "backup",
            None => continue,
        };
        let mut line = format!(
            "{role} sync daemon (mcast={}, syncid={}",
            d.mcast_ifn, d.syncid as i32
        );
        // Optional attributes are printed only when present and non-zero.
        if let Some(maxlen) = d.sync_maxlen.filter(|v| *v != 0) {
            let _ = write!(line, ", maxlen={maxlen}");
        }
        if let Some(group) = d.mcast_group {
            let _ = write!(line, ", group={}", ntop(group));
        }
        if let Some(port) = d.mcast_port.filter(|v| *v != 0) {
            let _ = write!(line, ", port={port}");
        }
        if let Some(ttl) = d.mcast_ttl.filter(|v| *v != 0) {
            let _ = write!(line, ", ttl={ttl}");
        }
        line.push_str(")\n");
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}
