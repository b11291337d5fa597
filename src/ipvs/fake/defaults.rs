//! What a fresh Linux 6.1 network namespace reports before anyone configures it.

use crate::ipvs::model::{Info, Timeouts};

/// GET_INFO: IPVS 1.2.1, `conn_tab_bits` 12.
pub const INFO: Info = Info {
    version: 0x0001_0201,
    conn_tab_size: 4096,
};

/// GET_CONFIG of a fresh namespace: tcp 900 s, tcpfin 120 s, udp 300 s.
pub const TIMEOUTS: Timeouts = Timeouts {
    tcp: 900,
    tcp_fin: 120,
    udp: 300,
};

/// `/proc/sys/net/ipv4/vs/*` of a fresh namespace, captured in the Debian 6.1 VM (sorted;
/// `sync_threshold` really holds a tab).
pub const SYSCTLS: [(&str, &str); 29] = [
    ("am_droprate", "10"),
    ("amemthresh", "1024"),
    ("backup_only", "0"),
    ("cache_bypass", "0"),
    ("conn_reuse_mode", "1"),
    ("conntrack", "0"),
    ("drop_entry", "0"),
    ("drop_packet", "0"),
    ("expire_nodest_conn", "0"),
    ("expire_quiescent_template", "0"),
    ("ignore_tunneled", "0"),
    ("lblc_expiration", "86400"),
    ("lblcr_expiration", "86400"),
    ("nat_icmp_send", "0"),
    ("pmtu_disc", "1"),
    ("run_estimation", "1"),
    ("schedule_icmp", "0"),
    ("secure_tcp", "0"),
    ("sloppy_sctp", "0"),
    ("sloppy_tcp", "0"),
    ("snat_reroute", "1"),
    ("sync_persist_mode", "0"),
    ("sync_ports", "1"),
    ("sync_qlen_max", "3613"),
    ("sync_refresh_period", "0"),
    ("sync_retries", "0"),
    ("sync_sock_size", "0"),
    ("sync_threshold", "3\t50"),
    ("sync_version", "1"),
];
