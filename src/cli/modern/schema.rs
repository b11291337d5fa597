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

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ipvs::model::{
    AddressFamily, Dest, ForwardMethod, Netmask, Protocol, Rates, Scheduler, Service, ServiceEntry,
    ServiceFlags, ServiceKey, Stats, Tunnel, TunnelCsum, TunnelType,
};

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

fn protocol_name(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Fwmark { .. } => "fwmark".to_owned(),
        ServiceKey::Addr { protocol, .. } => match protocol {
            Protocol::Tcp => "tcp".to_owned(),
            Protocol::Udp => "udp".to_owned(),
            Protocol::Sctp => "sctp".to_owned(),
            Protocol::Other(n) => format!("proto-{n}"),
        },
    }
}

fn family_name(af: AddressFamily) -> &'static str {
    match af {
        AddressFamily::Inet => "inet",
        AddressFamily::Inet6 => "inet6",
    }
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

fn tunnel_json(fwd: ForwardMethod, t: Tunnel) -> Option<JsonTunnel> {
    (fwd == ForwardMethod::Tunnel).then(|| JsonTunnel {
        kind: match t.kind {
            TunnelType::Ipip => "ipip".to_owned(),
            TunnelType::Gue => "gue".to_owned(),
            TunnelType::Gre => "gre".to_owned(),
            TunnelType::Other(n) => format!("type-{n}"),
        },
        port: t.port,
        csum: match t.csum {
            TunnelCsum::NoCsum => "nocsum".to_owned(),
            TunnelCsum::Csum => "csum".to_owned(),
            TunnelCsum::RemCsum => "remcsum".to_owned(),
            TunnelCsum::Other(n) => format!("csum-{n}"),
        },
    })
}

fn netmask_text(mask: Netmask) -> String {
    match mask {
        Netmask::V4(m) => m.to_string(),
        Netmask::V6(p) => p.to_string(),
    }
}

impl From<&ServiceEntry> for JsonService {
    fn from(entry: &ServiceEntry) -> Self {
        let s = &entry.service;
        let (address, port, fwmark) = match s.key {
            ServiceKey::Addr { addr, port, .. } => (Some(addr), Some(port), None),
            ServiceKey::Fwmark { mark, .. } => (None, None, Some(mark)),
        };
        Self {
            protocol: protocol_name(&s.key),
            family: family_name(s.key.af()).to_owned(),
            address,
            port,
            fwmark,
            scheduler: s.scheduler.0.clone(),
            sched_flags: sched_flag_names(&s.scheduler.0, s.flags.sched_bits()),
            persistent: s.flags.persistent().then_some(s.timeout),
            netmask: Some(netmask_text(s.netmask)),
            pe: s.pe_name.clone(),
            one_packet: s.flags.one_packet(),
            stats: s.stats,
            rates: s.rates,
            real_servers: entry.dests.iter().map(JsonDest::from).collect(),
        }
    }
}

impl From<&Dest> for JsonDest {
    fn from(d: &Dest) -> Self {
        Self {
            address: d.addr,
            port: d.port,
            forward: forward_name(d.fwd),
            weight: d.weight,
            u_threshold: d.u_threshold,
            l_threshold: d.l_threshold,
            tunnel: tunnel_json(d.fwd, d.tunnel),
            active_conns: d.active_conns,
            inactive_conns: d.inact_conns,
            persistent_conns: d.persist_conns,
            stats: d.stats,
            rates: d.rates,
        }
    }
}

/// Render the live table as the versioned JSON document.
pub fn to_table(entries: &[ServiceEntry]) -> Table {
    Table {
        schema: SCHEMA_VERSION,
        services: entries.iter().map(JsonService::from).collect(),
    }
}

fn parse_family(path: &str, text: &str) -> Result<AddressFamily, SchemaError> {
    match text {
        "inet" => Ok(AddressFamily::Inet),
        "inet6" => Ok(AddressFamily::Inet6),
        other => Err(schema_err(
            format!("{path}.family"),
            format!("unknown family `{other}` (expected inet or inet6)"),
        )),
    }
}

fn parse_key(path: &str, s: &JsonService) -> Result<ServiceKey, SchemaError> {
    let af = parse_family(path, &s.family)?;
    if s.protocol == "fwmark" {
        let mark = s
            .fwmark
            .ok_or_else(|| schema_err(format!("{path}.fwmark"), "fwmark service without a mark"))?;
        if mark == 0 {
            return Err(schema_err(
                format!("{path}.fwmark"),
                "fwmark must be 1 or more",
            ));
        }
        return Ok(ServiceKey::Fwmark { af, mark });
    }
    let protocol = match s.protocol.as_str() {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        other => {
            return Err(schema_err(
                format!("{path}.protocol"),
                format!("unknown protocol `{other}` (expected tcp, udp, sctp or fwmark)"),
            ));
        }
    };
    let addr = s
        .address
        .ok_or_else(|| schema_err(format!("{path}.address"), "missing address"))?;
    if AddressFamily::of(&addr) != af {
        return Err(schema_err(
            format!("{path}.address"),
            format!("address {addr} is not of family {}", s.family),
        ));
    }
    let port = s
        .port
        .ok_or_else(|| schema_err(format!("{path}.port"), "missing port"))?;
    Ok(ServiceKey::Addr {
        protocol,
        addr,
        port,
    })
}

fn parse_netmask(
    path: &str,
    af: AddressFamily,
    text: Option<&str>,
) -> Result<Netmask, SchemaError> {
    let Some(text) = text else {
        return Ok(Netmask::default_for(af));
    };
    let bad = || {
        schema_err(
            format!("{path}.netmask"),
            format!("invalid netmask `{text}`"),
        )
    };
    match af {
        AddressFamily::Inet => text.parse::<Ipv4Addr>().map(Netmask::V4).map_err(|_| bad()),
        AddressFamily::Inet6 => match text.parse::<u32>() {
            Ok(p) if (1..=128).contains(&p) => Ok(Netmask::V6(p)),
            _ => Err(bad()),
        },
    }
}

fn parse_sched_flags(path: &str, scheduler: &str, names: &[String]) -> Result<u32, SchemaError> {
    let mut bits = 0;
    for name in names {
        let known = SCHED_FLAG_NAMES.iter().find(|(n, _)| n == name);
        let fits = match name.as_str() {
            n if n.starts_with("sh-") => scheduler == "sh",
            n if n.starts_with("mh-") => scheduler == "mh",
            _ => true,
        };
        match known {
            Some((_, bit)) if fits => bits |= bit,
            Some(_) => {
                return Err(schema_err(
                    format!("{path}.sched_flags"),
                    format!("flag `{name}` does not apply to scheduler `{scheduler}`"),
                ));
            }
            None => {
                return Err(schema_err(
                    format!("{path}.sched_flags"),
                    format!("unknown scheduler flag `{name}`"),
                ));
            }
        }
    }
    Ok(bits)
}

fn parse_forward(path: &str, text: &str) -> Result<ForwardMethod, SchemaError> {
    match text {
        "masq" => Ok(ForwardMethod::Masq),
        "route" => Ok(ForwardMethod::Route),
        "tunnel" => Ok(ForwardMethod::Tunnel),
        "local" => Ok(ForwardMethod::Local),
        other => Err(schema_err(
            format!("{path}.forward"),
            format!("unknown forwarding method `{other}` (expected masq, route or tunnel)"),
        )),
    }
}

fn parse_tunnel(path: &str, t: Option<&JsonTunnel>) -> Result<Tunnel, SchemaError> {
    let Some(t) = t else {
        return Ok(Tunnel::default());
    };
    let kind = match t.kind.as_str() {
        "ipip" => TunnelType::Ipip,
        "gue" => TunnelType::Gue,
        "gre" => TunnelType::Gre,
        other => {
            return Err(schema_err(
                format!("{path}.tunnel.type"),
                format!("unknown tunnel type `{other}` (expected ipip, gue or gre)"),
            ));
        }
    };
    let csum = match t.csum.as_str() {
        "nocsum" => TunnelCsum::NoCsum,
        "csum" => TunnelCsum::Csum,
        "remcsum" => TunnelCsum::RemCsum,
        other => {
            return Err(schema_err(
                format!("{path}.tunnel.csum"),
                format!("unknown tunnel checksum mode `{other}`"),
            ));
        }
    };
    Ok(Tunnel {
        kind,
        port: t.port,
        csum,
    })
}

fn parse_dest(path: &str, d: &JsonDest) -> Result<Dest, SchemaError> {
    let mut dest = Dest::new(d.address, d.port);
    dest.fwd = parse_forward(path, &d.forward)?;
    if d.weight < 0 {
        return Err(schema_err(
            format!("{path}.weight"),
            "weight must be 0 or more",
        ));
    }
    dest.weight = d.weight;
    dest.u_threshold = d.u_threshold;
    dest.l_threshold = d.l_threshold;
    dest.tunnel = parse_tunnel(path, d.tunnel.as_ref())?;
    Ok(dest)
}

/// Turn a JSON document back into model entries (configuration only: counters are kept as
/// given, which rules files leave at zero).
pub fn from_table(table: &Table) -> Result<Vec<ServiceEntry>, SchemaError> {
    if table.schema != SCHEMA_VERSION {
        return Err(schema_err(
            "schema".to_owned(),
            format!(
                "unsupported schema version {} (this lvsctl reads {SCHEMA_VERSION})",
                table.schema
            ),
        ));
    }
    table
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let path = format!("services[{i}]");
            let key = parse_key(&path, s)?;
            let mut service = Service::new(key);
            service.scheduler = Scheduler::new(s.scheduler.clone());
            let mut flags = parse_sched_flags(&path, &s.scheduler, &s.sched_flags)?;
            if let Some(timeout) = s.persistent {
                flags |= ServiceFlags::PERSISTENT;
                service.timeout = timeout;
            }
            if s.one_packet {
                flags |= ServiceFlags::ONEPACKET;
            }
            service.flags = ServiceFlags(flags);
            service.netmask = parse_netmask(&path, key.af(), s.netmask.as_deref())?;
            service.pe_name.clone_from(&s.pe);
            service.stats = s.stats;
            service.rates = s.rates;
            let dests = s
                .real_servers
                .iter()
                .enumerate()
                .map(|(j, d)| parse_dest(&format!("{path}.real_servers[{j}]"), d))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ServiceEntry { service, dests })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn sample() -> Vec<ServiceEntry> {
        let key = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 19)),
            port: 80,
        };
        let mut svc = Service::new(key);
        svc.scheduler = Scheduler::new("sh");
        svc.flags = ServiceFlags(
            ServiceFlags::PERSISTENT | ServiceFlags::ONEPACKET | ServiceFlags::SCHED2 | 0x2,
        );
        svc.timeout = 10;
        svc.netmask = Netmask::V4(Ipv4Addr::new(255, 255, 255, 0));
        svc.pe_name = Some("sip".to_owned());
        let mut tun = Dest::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 5)), 80);
        tun.fwd = ForwardMethod::Tunnel;
        tun.tunnel = Tunnel {
            kind: TunnelType::Gue,
            port: 6080,
            csum: TunnelCsum::RemCsum,
        };
        let mut masq = Dest::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 2)), 8080);
        masq.fwd = ForwardMethod::Masq;
        masq.weight = 0;
        let v6 = Service::new(ServiceKey::Fwmark {
            af: AddressFamily::Inet6,
            mark: 2,
        });
        vec![
            ServiceEntry {
                service: svc,
                dests: vec![tun, masq],
            },
            ServiceEntry {
                service: v6,
                dests: vec![Dest::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0)],
            },
        ]
    }

    #[test]
    fn json_round_trip_keeps_configuration() {
        let entries = sample();
        let text = serde_json::to_string(&to_table(&entries)).unwrap();
        let back = from_table(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(back.len(), 2);
        for (a, b) in entries.iter().zip(&back) {
            assert!(a.service.same_config(&b.service), "{a:?} vs {b:?}");
            for (x, y) in a.dests.iter().zip(&b.dests) {
                assert!(x.same_config(y));
            }
        }
    }

    #[test]
    fn json_shape_is_stable() {
        insta::assert_json_snapshot!(to_table(&sample()));
    }

    #[test]
    fn bad_documents_name_the_field() {
        let mut table = to_table(&sample());
        table.services[0].real_servers[1].forward = "nat".to_owned();
        let err = from_table(&table).unwrap_err();
        assert_eq!(err.path, "services[0].real_servers[1].forward");
        let mut table = to_table(&sample());
        table.services[0].sched_flags = vec!["mh-port".to_owned()];
        assert_eq!(
            from_table(&table).unwrap_err().path,
            "services[0].sched_flags"
        );
        let mut table = to_table(&sample());
        table.schema = 7;
        assert_eq!(from_table(&table).unwrap_err().path, "schema");
    }
}
