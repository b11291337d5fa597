//! The JSON shape of `lvsctl list --json` (and of JSON rules files): documented, versioned
//! and stable, independent of how the in-memory model happens to be laid out.
//!
//! Schema version 1:
//! ```text
//! { "schema": 1,
//!   "services": [ {
//!       "protocol": "tcp"|"udp"|"sctp"|"fwmark"|"proto-N",
//!       "family": "inet"|"inet6",
//!       "address": "10.0.0.1" | null (fwmark), "port": 80 | null (fwmark),
//!       "fwmark": 5 | null,
//!       "scheduler": "wlc", "sched_flags": ["sh-port", ...],
//!       "persistent": 360 | null (seconds), "netmask": "255.255.255.0" | "64",
//!       "pe": "sip" | null, "one_packet": false,
//!       "stats": {conns,inpkts,outpkts,inbytes,outbytes}, "rates": {cps,inpps,outpps,inbps,outbps},
//!       "real_servers": [ {
//!           "address": "192.168.1.1", "port": 80,
//!           "forward": "masq"|"route"|"tunnel"|"local"|"bypass"|"fwd-N",
//!           "weight": 1, "u_threshold": 0, "l_threshold": 0,
//!           "tunnel": {"type": "ipip"|"gue"|"gre", "port": 0, "csum": "nocsum"|"csum"|"remcsum"} | null,
//!           "active_conns": 0, "inactive_conns": 0, "persistent_conns": 0,
//!           "stats": {...}, "rates": {...} } ] } ] }
//! ```
//! Counters and rates are optional on input (rules files omit them).
//!
//! [`to_table`] writes a table in this shape (`encode`); [`from_table`] reads one back and
//! says which field is wrong when it cannot (`decode`). `lvsctl list --json` writes it;
//! JSON rules files are read with it.

mod decode;
mod encode;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ipvs::model::{ForwardMethod, Rates, ServiceFlags, Stats};

pub use decode::from_table;
pub use encode::to_table;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub schema: u32,
    pub services: Vec<JsonService>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonService {
    pub protocol: String,
    pub family: String,
    pub address: Option<IpAddr>,
    pub port: Option<u16>,
    pub fwmark: Option<u32>,
    pub scheduler: String,
    #[serde(default)]
    pub sched_flags: Vec<String>,
    pub persistent: Option<u32>,
    pub netmask: Option<String>,
    pub pe: Option<String>,
    #[serde(default)]
    pub one_packet: bool,
    #[serde(default)]
    pub stats: Stats,
    #[serde(default)]
    pub rates: Rates,
    #[serde(default)]
    pub real_servers: Vec<JsonDest>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonDest {
    pub address: IpAddr,
    pub port: u16,
    pub forward: String,
    pub weight: i32,
    #[serde(default)]
    pub u_threshold: u32,
    #[serde(default)]
    pub l_threshold: u32,
    pub tunnel: Option<JsonTunnel>,
    #[serde(default)]
    pub active_conns: u32,
    #[serde(default)]
    pub inactive_conns: u32,
    #[serde(default)]
    pub persistent_conns: u32,
    #[serde(default)]
    pub stats: Stats,
    #[serde(default)]
    pub rates: Rates,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonTunnel {
    #[serde(rename = "type")]
    pub kind: String,
    pub port: u16,
    pub csum: String,
}

/// A JSON document that does not describe a valid table, with the JSON path of the culprit.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{path}: {message}")]
pub struct SchemaError {
    pub path: String,
    pub message: String,
}

fn schema_err(path: String, message: impl Into<String>) -> SchemaError {
    SchemaError {
        path,
        message: message.into(),
    }
}

const SCHED_FLAG_NAMES: [(&str, u32); 7] = [
    ("flag-1", ServiceFlags::SCHED1),
    ("flag-2", ServiceFlags::SCHED2),
    ("flag-3", ServiceFlags::SCHED3),
    ("sh-fallback", ServiceFlags::SCHED1),
    ("sh-port", ServiceFlags::SCHED2),
    ("mh-fallback", ServiceFlags::SCHED1),
    ("mh-port", ServiceFlags::SCHED2),
];

/// Scheduler-flag names as ipvsadm shows them for this scheduler.
pub fn sched_flag_names(scheduler: &str, bits: u32) -> Vec<String> {
    let names: [(&str, u32); 3] = match scheduler {
        "sh" => [("sh-fallback", 0x08), ("sh-port", 0x10), ("", 0x20)],
        "mh" => [("mh-fallback", 0x08), ("mh-port", 0x10), ("", 0x20)],
        _ => [("flag-1", 0x08), ("flag-2", 0x10), ("flag-3", 0x20)],
    };
    names
        .iter()
        .filter(|(name, bit)| !name.is_empty() && bits & bit != 0)
        .map(|(name, _)| (*name).to_owned())
        .collect()
}

pub fn forward_name(fwd: ForwardMethod) -> String {
    match fwd {
        ForwardMethod::Masq => "masq".to_owned(),
        ForwardMethod::Local => "local".to_owned(),
        ForwardMethod::Tunnel => "tunnel".to_owned(),
        ForwardMethod::Route => "route".to_owned(),
        ForwardMethod::Bypass => "bypass".to_owned(),
        ForwardMethod::Other(n) => format!("fwd-{n}"),
    }
}

#[cfg(test)]
mod tests;
