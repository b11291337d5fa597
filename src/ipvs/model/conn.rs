//! Connections, as `/proc/net/ip_vs_conn` lists them.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// One row of `/proc/net/ip_vs_conn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// Protocol name exactly as the kernel printed it (`TCP`, `UDP`, `SCTP`, `IP`, ...).
    pub protocol: String,
    pub client_addr: IpAddr,
    pub client_port: u16,
    pub virtual_addr: IpAddr,
    pub virtual_port: u16,
    pub dest_addr: IpAddr,
    pub dest_port: u16,
    /// State name as printed by the kernel (`ESTABLISHED`, `SYN_RECV`, `UDP`, `NONE`, ...).
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u32,
    pub pe_name: Option<String>,
    pub pe_data: Option<String>,
}
