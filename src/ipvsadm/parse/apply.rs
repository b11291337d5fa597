//! Reading one option into the parse state: duplicate check, value validation with
//! ipvsadm's exact message, and the effects that depend on the order of the options (a
//! service protocol chosen earlier decides how a later port name resolves).
//!
//! Errors are raised the moment the option is read, so the first bad option on the line
//! wins, as in ipvsadm.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::address;
use super::entry::{Entry, RawMask, truncate_bytes};
use super::error::Failure;
use super::numbers::{self, atoi, number_in};
use super::table::{OptId, Role, Tracked};
use super::tokenizer::OptToken;
use crate::ipvs::model::{AddressFamily, ForwardMethod, Protocol, ServiceFlags, TunnelType};
use crate::names::Resolver;

/// Longest persistence / connection timeout ipvsadm accepts (31 days).
pub const MAX_TIMEOUT: i64 = 2_678_400;
/// `-p` without a value.
pub const DEFAULT_PERSISTENCE: u32 = 360;
/// Byte limits of ipvsadm's fixed buffers.
const SCHED_NAME_MAX: usize = 15;
const IFNAME_MAX: usize = 15;
const PE_NAME_MAX: usize = 16;
const SCHED_FLAGS_MAX: usize = 127;

/// Applies one non-command option. Commands after the first are rejected by the caller.
pub fn apply(
    entry: &mut Entry,
    tok: &OptToken<'_>,
    resolver: &dyn Resolver,
) -> Result<(), Failure> {
    if let Role::Tracked(t) = tok.spec.role {
        if entry.given.contains(t) {
            return Err(Failure::Duplicate(t));
        }
        entry.given.insert(t);
    }
    let value = tok.value.unwrap_or("");
    match tok.spec.id {
        OptId::TcpService => service(entry, Protocol::Tcp, value, resolver),
        OptId::UdpService => service(entry, Protocol::Udp, value, resolver),
        OptId::SctpService => service(entry, Protocol::Sctp, value, resolver),
        OptId::FwmarkService => {
            entry.svc_af = Some(AddressFamily::Inet);
            entry.protocol = Some(Protocol::Tcp);
            entry.fwmark =
                numbers::fwmark(value).ok_or_else(|| Failure::Fwmark(value.to_owned()))?;
            Ok(())
        }
        OptId::Netmask => netmask(entry, value, resolver),
        OptId::RealServer => {
            let hp =
                address::host_port(value, entry.protocol, resolver).ok_or(Failure::RealServer)?;
            entry.dest_addr = Some(hp.addr);
            entry.dest_port = hp.port.unwrap_or(entry.svc_port);
            Ok(())
        }
        OptId::Ipv6 => {
            if entry.fwmark == 0 {
                return Err(Failure::Ipv6BeforeFwmark);
            }
            entry.svc_af = Some(AddressFamily::Inet6);
            entry.netmask = RawMask::V6(128);
            Ok(())
        }
        OptId::McastGroup => {
            entry.mcast_group = Some(mcast_group(value)?);
            Ok(())
        }
        id => service_setting(entry, id, tok.value)
            .or_else(|| dest_setting(entry, id, value))
            .or_else(|| daemon_setting(entry, id, value))
            .unwrap_or_else(|| {
                set_format_flag(entry, tok.spec.role);
                Ok(())
            }),
    }
}

/// Scheduler, persistence, OPS, PE and scheduler flags; `None` if `id` is none of them.
fn service_setting(
    entry: &mut Entry,
    id: OptId,
    value: Option<&str>,
) -> Option<Result<(), Failure>> {
    let text = value.unwrap_or("");
    match id {
        OptId::Scheduler => entry.scheduler = truncate_bytes(text, SCHED_NAME_MAX),
        OptId::Persistent => {
            entry.flags |= ServiceFlags::PERSISTENT;
            entry.timeout = match value {
                None => DEFAULT_PERSISTENCE,
                Some(v) => match timeout_value(v, 1) {
                    Ok(t) => t,
                    Err(e) => return Some(Err(e)),
                },
            };
        }
        OptId::Ops => entry.flags |= ServiceFlags::ONEPACKET,
        OptId::Pe => entry.pe_name = truncate_bytes(text, PE_NAME_MAX),
        OptId::SchedFlags => entry.sched_flags = truncate_bytes(text, SCHED_FLAGS_MAX),
        _ => return None,
    }
    Some(Ok(()))
}

/// Forwarding method, weight, thresholds and tunnel settings of a real server.
fn dest_setting(entry: &mut Entry, id: OptId, value: &str) -> Option<Result<(), Failure>> {
    let result =
        match id {
            OptId::Masquerading => {
                entry.fwd = ForwardMethod::Masq;
                Ok(())
            }
            OptId::Ipip => {
                entry.fwd = ForwardMethod::Tunnel;
                Ok(())
            }
            OptId::Gatewaying => {
                entry.fwd = ForwardMethod::Route;
                Ok(())
            }
            OptId::Weight => {
                int_value(value, 0, i32::MAX.into(), Failure::Weight).map(|w| entry.weight = w)
            }
            OptId::UThreshold => int_value(value, 0, i32::MAX.into(), Failure::UThreshold)
                .map(|n| entry.u_threshold = n),
            OptId::LThreshold => int_value(value, 0, i32::MAX.into(), Failure::LThreshold)
                .map(|n| entry.l_threshold = n),
            OptId::TunType => tunnel_type(value).map(|t| entry.tun_type = t),
            OptId::TunPort => {
                int_value(value, 1, 65535, Failure::TunnelPort).map(|p| entry.tun_port = p)
            }
            OptId::TunNoCsum => Ok(()),
            OptId::TunCsum => {
                entry.tun_flags |= 1;
                Ok(())
            }
            OptId::TunRemCsum => {
                entry.tun_flags |= 2;
                Ok(())
            }
            _ => return None,
        };
    Some(result)
}

/// Sync daemon settings (the multicast group is handled by the caller).
fn daemon_setting(entry: &mut Entry, id: OptId, value: &str) -> Option<Result<(), Failure>> {
    let result = match id {
        OptId::McastInterface => {
            entry.mcast_ifn = truncate_bytes(value, IFNAME_MAX);
            Ok(())
        }
        OptId::SyncId => int_value(value, 0, 255, Failure::SyncId).map(|n| entry.syncid = n),
        OptId::McastPort => {
            int_value(value, 1, 65535, Failure::McastPort).map(|n| entry.mcast_port = Some(n))
        }
        OptId::McastTtl => {
            int_value(value, 1, 255, Failure::McastTtl).map(|n| entry.mcast_ttl = Some(n))
        }
        OptId::SyncMaxlen => int_value(value, 1, 65535 - 20 - 8, Failure::SyncMaxlen)
            .map(|n| entry.sync_maxlen = Some(n)),
        _ => return None,
    };
    Some(result)
}

fn tunnel_type(value: &str) -> Result<TunnelType, Failure> {
    match value {
        "ipip" => Ok(TunnelType::Ipip),
        "gue" => Ok(TunnelType::Gue),
        "gre" => Ok(TunnelType::Gre),
        _ => Err(Failure::TunnelType),
    }
}

/// Listing switches only record that they were given.
fn set_format_flag(entry: &mut Entry, role: Role) {
    let Role::Tracked(t) = role else { return };
    let slot = match t {
        Tracked::Numeric => &mut entry.numeric,
        Tracked::Stats => &mut entry.stats,
        Tracked::Rate => &mut entry.rate,
        Tracked::Thresholds => &mut entry.thresholds,
        Tracked::PersistentConn => &mut entry.persistent_conn,
        Tracked::NoSort => &mut entry.nosort,
        Tracked::Exact => &mut entry.exact,
        Tracked::TunInfo => &mut entry.tun_info,
        _ => return,
    };
    *slot = true;
}

fn service(
    entry: &mut Entry,
    proto: Protocol,
    value: &str,
    resolver: &dyn Resolver,
) -> Result<(), Failure> {
    entry.protocol = Some(proto);
    let hp = address::host_port(value, Some(proto), resolver).ok_or(Failure::ServiceAddress)?;
    entry.svc_addr = Some(hp.addr);
    entry.svc_af = Some(AddressFamily::of(&hp.addr));
    if hp.addr.is_ipv6() {
        entry.netmask = RawMask::V6(128);
    }
    if let Some(port) = hp.port {
        entry.svc_port = port;
    }
    Ok(())
}

/// `-M`, read by the address family known so far: IPv6 → `atoi` prefix, else an IPv4
/// mask (`inet_aton` or a host name).
fn netmask(entry: &mut Entry, value: &str, resolver: &dyn Resolver) -> Result<(), Failure> {
    if entry.svc_af == Some(AddressFamily::Inet6) {
        let prefix = atoi(value) as u32;
        if !(1..=128).contains(&prefix) {
            return Err(Failure::Netmask6);
        }
        entry.netmask = RawMask::V6(prefix);
    } else {
        let mask = address::ipv4_host(value, resolver).ok_or(Failure::Netmask4)?;
        entry.netmask = RawMask::V4(mask.octets());
    }
    Ok(())
}

/// A timeout in `min..=2678400` seconds (`-p` and `--set`).
pub fn timeout_value(value: &str, min: i64) -> Result<u32, Failure> {
    number_in(value, min, MAX_TIMEOUT)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Failure::TimeoutValue(value.to_owned()))
}

fn int_value<T: TryFrom<i64>>(value: &str, min: i64, max: i64, err: Failure) -> Result<T, Failure> {
    number_in(value, min, max)
        .and_then(|n| T::try_from(n).ok())
        .ok_or(err)
}

/// `--mcast-group`: a `:` means IPv6 (must be ff00::/8), else strict dotted quad in
/// 224.0.0.0/4.
fn mcast_group(value: &str) -> Result<IpAddr, Failure> {
    if value.contains(':') {
        value
            .parse::<Ipv6Addr>()
            .ok()
            .filter(Ipv6Addr::is_multicast)
            .map(IpAddr::V6)
            .ok_or_else(|| Failure::McastGroup6(value.to_owned()))
    } else {
        numbers::inet_pton4(value)
            .map(Ipv4Addr::from)
            .filter(Ipv4Addr::is_multicast)
            .map(IpAddr::V4)
            .ok_or_else(|| Failure::McastGroup4(value.to_owned()))
    }
}
