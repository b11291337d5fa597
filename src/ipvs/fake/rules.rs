//! The kernel's validation rules (Linux 6.1 `ip_vs_ctl.c`, `ip_vs_sync.c`) as pure functions.
//!
//! Each returns the errno the kernel would answer with, so the fake and its tests share one
//! statement of every rule. Where the kernel's answer depends on state the fake does not
//! model (which addresses are local, per-interface broadcast addresses), the rule follows
//! the common case and says so.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ipvs::model::{
    AddressFamily, DaemonRole, Dest, ForwardMethod, Netmask, Scheduler, Service, ServiceKey,
    Timeouts, TunnelType,
};

/// Jiffies per second of the Debian kernels we mirror.
pub const HZ: u32 = 250;
/// `INT_MAX / HZ`: the largest timeout SET_CONFIG accepts.
pub const MAX_TIMEOUT: u32 = i32::MAX as u32 / HZ;
/// `IP_VS_PENAME_MAXLEN`: the PE name policy limit (the scheduler's is 15).
pub const PE_NAME_MAX: usize = 16;
/// `IP_VS_IFNAME_MAXLEN - 1`: the interface name policy limit.
pub const IFNAME_MAX: usize = 15;
/// The only persistence engine a stock kernel ships.
pub const KNOWN_PES: [&str; 1] = ["sip"];

pub type Errno = i32;

/// Attribute policy checks the kernel makes before looking anything up: names longer than
/// their NLA_NUL_STRING limit fail the nested parse, which IPVS reports as EINVAL.
pub fn service_policy(svc: &Service) -> Result<(), Errno> {
    if svc.scheduler.as_str().len() > Scheduler::MAX_LEN {
        return Err(libc::EINVAL);
    }
    if svc
        .pe_name
        .as_ref()
        .is_some_and(|pe| pe.len() > PE_NAME_MAX)
    {
        return Err(libc::EINVAL);
    }
    Ok(())
}

/// What NEW_SERVICE and SET_SERVICE check once the service lookup is done: scheduler, PE
/// (both by exact, case-sensitive name; unknown means the module failed to load → ENOENT),
/// then the IPv6 prefix.
pub fn service_settings(svc: &Service) -> Result<(), Errno> {
    if !svc.scheduler.is_known() {
        return Err(libc::ENOENT);
    }
    if let Some(pe) = svc.pe_name.as_deref().filter(|pe| !pe.is_empty())
        && !KNOWN_PES.contains(&pe)
    {
        return Err(libc::ENOENT);
    }
    if svc.key.af() == AddressFamily::Inet6 {
        let prefix = svc.netmask.wire_value();
        if !(1..=128).contains(&prefix) {
            return Err(libc::EINVAL);
        }
    }
    Ok(())
}

/// The service as the kernel stores and reports it: a fwmark of 0 is not a fwmark (the
/// kernel then files a TCP service on the zero address and port), the HASHED flag is set,
/// the persistence timeout goes through its u32 jiffies field, the netmask through its raw
/// u32, and an empty PE name means none.
pub fn stored_service(svc: &Service) -> Service {
    let mut out = svc.clone();
    out.key = stored_key(&svc.key);
    out.flags.0 = svc.flags.0 | crate::ipvs::model::ServiceFlags::HASHED;
    out.timeout = svc.timeout.wrapping_mul(HZ) / HZ;
    out.netmask = Netmask::from_wire(out.key.af(), svc.netmask.wire_value());
    out.pe_name = svc.pe_name.clone().filter(|pe| !pe.is_empty());
    out
}

/// The key the kernel looks a service up by.
pub fn stored_key(key: &ServiceKey) -> ServiceKey {
    match *key {
        ServiceKey::Fwmark { af, mark: 0 } => ServiceKey::Addr {
            protocol: crate::ipvs::model::Protocol::Tcp,
            addr: af.unspecified(),
            port: 0,
        },
        other => other,
    }
}

/// The dest as stored: the forwarding code is masked with `IP_VS_CONN_F_FWD_MASK`.
pub fn stored_dest(dest: &Dest) -> Dest {
    let mut out = dest.clone();
    out.fwd = ForwardMethod::from_raw(dest.fwd.raw() & 0x7);
    out
}

/// The family check of NEW_DEST/SET_DEST (done before the dest lookup): a dest of the other
/// family needs tunnel forwarding and no running sync daemon.
pub fn dest_family(
    service_af: AddressFamily,
    dest: &Dest,
    sync_running: bool,
) -> Result<(), Errno> {
    if dest.af() == service_af {
        return Ok(());
    }
    if sync_running || stored_dest(dest).fwd != ForwardMethod::Tunnel {
        return Err(libc::EINVAL);
    }
    Ok(())
}

/// Checks of NEW_DEST/SET_DEST made before the dest lookup, in the kernel's order.
pub fn dest_settings(dest: &Dest) -> Result<(), Errno> {
    if dest.weight < 0 || dest.l_threshold > dest.u_threshold {
        return Err(libc::ERANGE);
    }
    if dest.tunnel.kind == TunnelType::Gue && dest.tunnel.port == 0 {
        return Err(libc::EINVAL);
    }
    Ok(())
}

/// NEW_DEST's address check (made only for new dests, after the EEXIST check): IPv4 must
/// route as unicast or local, IPv6 must be unicast and not link-local. The fake knows no
/// interface but `lo`: link-local IPv6 dests are always refused, and the subnet broadcast
/// addresses of other interfaces (which the kernel refuses) are accepted.
pub fn dest_address(addr: &IpAddr) -> Result<(), Errno> {
    let ok = match addr {
        IpAddr::V4(a) => ipv4_routes_as_unicast(*a),
        IpAddr::V6(a) => ipv6_unicast_not_link_local(*a),
    };
    if ok { Ok(()) } else { Err(libc::EINVAL) }
}

/// `inet_addr_type` with only `lo` configured: 0.0.0.0 and 255.255.255.255 are broadcast,
/// so is lo's 127.255.255.255, 224.0.0.0/4 is multicast, everything else unicast or local
/// (observed on 6.1: 0.1.2.3 and 240.0.0.1 are accepted).
fn ipv4_routes_as_unicast(a: Ipv4Addr) -> bool {
    const LO_BROADCAST: Ipv4Addr = Ipv4Addr::new(127, 255, 255, 255);
    !a.is_unspecified() && !a.is_broadcast() && !a.is_multicast() && a != LO_BROADCAST
}

/// `ipv6_addr_type`: multicast, `::` and IPv4-mapped addresses are not unicast; fe80::/10
/// is link-local.
fn ipv6_unicast_not_link_local(a: Ipv6Addr) -> bool {
    let s = a.segments();
    let multicast = s[0] & 0xff00 == 0xff00;
    let link_local = s[0] & 0xffc0 == 0xfe80;
    let any = a.is_unspecified();
    let mapped = a.to_ipv4_mapped().is_some();
    !(multicast || link_local || any || mapped)
}

/// SET_CONFIG: every value must fit `0..=INT_MAX/HZ`; checked before anything changes.
pub fn timeouts(t: &Timeouts) -> Result<(), Errno> {
    if [t.tcp, t.tcp_fin, t.udp].iter().any(|&v| v > MAX_TIMEOUT) {
        return Err(libc::EINVAL);
    }
    Ok(())
}

/// Merge a SET_CONFIG into the current values: 0 keeps the current value.
pub fn merged_timeouts(current: Timeouts, set: &Timeouts) -> Timeouts {
    let pick = |new: u32, old: u32| if new == 0 { old } else { new };
    Timeouts {
        tcp: pick(set.tcp, current.tcp),
        tcp_fin: pick(set.tcp_fin, current.tcp_fin),
        udp: pick(set.udp, current.udp),
    }
}

/// The role encoded in a NEW_DAEMON state value; anything but exactly 1 or 2 is EINVAL.
pub fn daemon_role(state: u32) -> Result<DaemonRole, Errno> {
    match state {
        1 => Ok(DaemonRole::Master),
        2 => Ok(DaemonRole::Backup),
        _ => Err(libc::EINVAL),
    }
}

/// The multicast group check of NEW_DAEMON.
pub fn daemon_group(group: Option<&IpAddr>) -> Result<(), Errno> {
    match group {
        Some(IpAddr::V4(g)) if !g.is_multicast() => Err(libc::EINVAL),
        Some(IpAddr::V6(g)) if !g.is_multicast() => Err(libc::EINVAL),
        _ => Ok(()),
    }
}

/// The sync message size the kernel settles on: masters assume a 1500-byte MTU, backups
/// use the interface MTU clamped to 1500..=65535; the IP+UDP header is subtracted and a
/// requested size is clamped to (1 for masters, 1024 for backups)..=that.
pub fn daemon_maxlen(
    role: DaemonRole,
    ipv6_group: bool,
    if_mtu: u32,
    requested: Option<u16>,
) -> u16 {
    let (mtu, min) = match role {
        DaemonRole::Master => (1500, 1),
        DaemonRole::Backup => (if_mtu.clamp(1500, 65535), 1024),
    };
    let header = if ipv6_group { 40 + 8 } else { 20 + 8 };
    let max = mtu - header;
    let len = match requested {
        Some(n) if n != 0 => u32::from(n).clamp(min, max),
        _ => max,
    };
    len as u16
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
