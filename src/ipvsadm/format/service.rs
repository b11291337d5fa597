//! The pieces of a service line that listings and `-S` share.
//!
//! ipvsadm prints values the kernel hands it without validation, so these functions accept
//! any model value (unknown protocol, odd netmask, empty PE name) and render it the way the
//! C code would.

use std::io::Write as _;
use std::net::Ipv4Addr;

use super::addr::{addrport, cut, services_proto};
use crate::ipvs::model::{AddressFamily, Dest, Service, ServiceFlags, ServiceKey};
use crate::names::Resolver;

/// Listings keep only this many bytes of an IPv4 service column (`svc_name[33] = 0`).
const SVC_CUT: usize = 33;
/// Listings keep only this many bytes of an IPv4 destination name (`dname[28] = 0`).
pub(super) const DEST_CUT: usize = 28;

/// The service column of the human listings: `TCP  host:port`, `FWM  5`, `FWM  5 IPv6`.
pub(super) fn listing_name(key: &ServiceKey, names: &dyn Resolver) -> Vec<u8> {
    match *key {
        ServiceKey::Fwmark { af, mark } => fwmark_text("FWM  ", " IPv6", af, mark),
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            let name = addrport(addr, port, protocol.services_name(), names);
            let mut col = format!("{:<4} ", protocol.listing_name()).into_bytes();
            col.extend_from_slice(&name);
            if addr.is_ipv6() {
                col
            } else {
                cut(col, SVC_CUT)
            }
        }
    }
}

/// The service selector of `-S` lines: `-t host:port`, `-f 5 -6`, never cut.
pub(super) fn rule_name(key: &ServiceKey, names: &dyn Resolver) -> Vec<u8> {
    match *key {
        ServiceKey::Fwmark { af, mark } => fwmark_text("-f ", " -6", af, mark),
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            let option = match protocol.services_name() {
                Some("tcp") => "-t",
                Some("udp") => "-u",
                Some("sctp") => "--sctp-service",
                _ => "--xxx-service",
            };
            let mut col = format!("{option} ").into_bytes();
            col.extend_from_slice(&addrport(addr, port, protocol.services_name(), names));
            col
        }
    }
}

/// ipvsadm prints fwmarks with `%d`, so marks of 2^31 and above come out negative.
fn fwmark_text(prefix: &str, v6_suffix: &str, af: AddressFamily, mark: u32) -> Vec<u8> {
    let suffix = if af == AddressFamily::Inet6 {
        v6_suffix
    } else {
        ""
    };
    format!("{prefix}{}{suffix}", mark as i32).into_bytes()
}

/// The destination name: resolved with the *service's* protocol (so fwmark dests keep
/// numeric ports), cut to 28 bytes in listings unless the destination is IPv6.
pub(super) fn dest_name(
    svc: &Service,
    dest: &Dest,
    names: &dyn Resolver,
    listing: bool,
) -> Vec<u8> {
    let name = addrport(
        dest.addr,
        dest.port,
        services_proto(svc.key.protocol()),
        names,
    );
    if listing && !dest.addr.is_ipv6() {
        cut(name, DEST_CUT)
    } else {
        name
    }
}

/// Scheduler-flag names joined with `,`; `None` when no scheduler-flag bit is set.
///
/// `Some("")` is real: bit 0x20 has no name for `sh`/`mh`, and ipvsadm then prints ` ()` in
/// listings and a bare `-b ` in `-S`.
pub(super) fn sched_flags(sched: &str, flags: ServiceFlags) -> Option<String> {
    if flags.sched_bits() == 0 {
        return None;
    }
    let named: &[(u32, &str)] = match sched {
        "sh" => &[
            (ServiceFlags::SCHED1, "sh-fallback"),
            (ServiceFlags::SCHED2, "sh-port"),
        ],
        "mh" => &[
            (ServiceFlags::SCHED1, "mh-fallback"),
            (ServiceFlags::SCHED2, "mh-port"),
        ],
        _ => &[
            (ServiceFlags::SCHED1, "flag-1"),
            (ServiceFlags::SCHED2, "flag-2"),
            (ServiceFlags::SCHED3, "flag-3"),
        ],
    };
    let parts: Vec<&str> = named
        .iter()
        .filter(|(bit, _)| flags.0 & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    Some(parts.join(","))
}

/// The persistence netmask, if ipvsadm would print one: a dotted quad for IPv4 services
/// (unless /32), a signed prefix for IPv6 ones (unless 128). Decided by the service's family
/// and the raw wire value, as the C code does.
pub(super) fn mask_text(svc: &Service) -> Option<String> {
    let raw = svc.netmask.wire_value();
    match svc.key.af() {
        AddressFamily::Inet => {
            (raw != u32::MAX).then(|| Ipv4Addr::from(raw.to_ne_bytes()).to_string())
        }
        AddressFamily::Inet6 => (raw != 128).then(|| (raw as i32).to_string()),
    }
}

/// The PE name when one is set (an empty name counts as none, like `pe_name[0]`).
pub(super) fn pe_name(svc: &Service) -> Option<&str> {
    svc.pe_name.as_deref().filter(|pe| !pe.is_empty())
}

/// Default-mode service line (also used by --thresholds/--persistent-conn/--tun-info),
/// without the newline: `SVC SCHED[ (FLAGS)][ persistent T[ mask M][ pe P]][ ops]`.
pub(super) fn push_default_line(line: &mut Vec<u8>, svc: &Service, names: &dyn Resolver) {
    line.extend_from_slice(&listing_name(&svc.key, names));
    line.push(b' ');
    line.extend_from_slice(svc.scheduler.as_str().as_bytes());
    if let Some(flags) = sched_flags(svc.scheduler.as_str(), svc.flags) {
        let _ = write!(line, " ({flags})");
    }
    if svc.flags.persistent() {
        let _ = write!(line, " persistent {}", svc.timeout);
        if let Some(mask) = mask_text(svc) {
            let _ = write!(line, " mask {mask}");
        }
        if let Some(pe) = pe_name(svc) {
            let _ = write!(line, " pe {pe}");
        }
    }
    if svc.flags.one_packet() {
        line.extend_from_slice(b" ops");
    }
}

/// ipvsadm masks the kernel's forwarding value with IP_VS_CONN_F_FWD_MASK before naming it.
pub(super) const fn fwd_code(dest: &Dest) -> u32 {
    dest.fwd.raw() & 0x7
}

/// Listing name of a forwarding method; glibc prints a NULL `%s` as `(null)`.
pub(super) const fn fwd_name(dest: &Dest) -> &'static str {
    match fwd_code(dest) {
        0 => "Masq",
        1 => "Local",
        2 => "Tunnel",
        3 => "Route",
        _ => "(null)",
    }
}

/// `-S` switch of a forwarding method (Local saves as `-g`, unknown as `(null)`).
pub(super) const fn fwd_switch(dest: &Dest) -> &'static str {
    match fwd_code(dest) {
        0 => "-m",
        2 => "-i",
        1 | 3 => "-g",
        _ => "(null)",
    }
}

/// True when ipvsadm treats the destination as tunnelling.
pub(super) const fn is_tunnel(dest: &Dest) -> bool {
    fwd_code(dest) == 2
}
