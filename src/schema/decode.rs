//! A schema-1 document back into the model, or the JSON path of what is wrong with it.

use std::net::Ipv4Addr;

use super::{
    JsonDest, JsonService, JsonTunnel, SCHED_FLAG_NAMES, SCHEMA_VERSION, SchemaError, Table,
    schema_err,
};
use crate::ipvs::model::{
    AddressFamily, Dest, ForwardMethod, Netmask, Protocol, Scheduler, Service, ServiceEntry,
    ServiceFlags, ServiceKey, Tunnel, TunnelCsum, TunnelType,
};

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
