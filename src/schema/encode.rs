//! The model as a schema-1 document.

use super::{
    JsonDest, JsonService, JsonTunnel, SCHEMA_VERSION, Table, forward_name, sched_flag_names,
};
use crate::ipvs::model::{
    AddressFamily, Dest, ForwardMethod, Netmask, Protocol, ServiceEntry, ServiceKey, Tunnel,
    TunnelCsum, TunnelType,
};

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
