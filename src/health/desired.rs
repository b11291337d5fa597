//! What the kernel should hold for a configured virtual service: the IPVS objects the
//! reconciler compares with the live table. Pure; no state (which reals are up) is known
//! here — the reconciler picks from these.
//!
//! ldirectord programs the kernel through ipvsadm and therefore inherits ipvsadm's silent
//! rewrites, which a netlink client has to reproduce itself (docs/ldirectord-compat.md,
//! Kernel entries and ports): a DR or tunnel real of an address service always gets the
//! *service's* port in the kernel (an omitted port included); a NAT real with an omitted
//! port gets the service port too; for firewall-mark services the port is kept as written
//! (0 when omitted).

use crate::health::config::{Fallback, Forward, RealServer, VirtualService};
use crate::ipvs::model::{Dest, ForwardMethod, Scheduler, Service, ServiceFlags, ServiceKey};

/// The virtual service as `ipvsadm -A` would create it from ldirectord's arguments.
pub fn desired_service(v: &VirtualService) -> Service {
    let mut s = Service::new(v.key);
    s.scheduler = Scheduler::new(v.scheduler.as_str());
    if let Some(timeout) = v.persistent {
        s.flags.0 |= ServiceFlags::PERSISTENT;
        s.timeout = timeout;
        if let Some(mask) = v.netmask {
            s.netmask = mask;
        }
    }
    if v.ops {
        s.flags.0 |= ServiceFlags::ONEPACKET;
    }
    if let Some(flags) = &v.sched_flags {
        // A list ipvsadm would refuse (ldirectord's `ipvsadm -A ... -b LIST` would fail and
        // the service would not exist) sets no flag at all: the service still comes up, and
        // the config linter names the line (docs/ldirectord-compat.md, Virtual services).
        s.flags.0 |= sched_flag_bits(flags, &v.scheduler).unwrap_or(0);
    }
    s
}

/// A real server as the kernel entry should look when it is in service (configured
/// weight). The health state decides whether it is present, or present with weight 0.
pub fn desired_dest(v: &VirtualService, r: &RealServer) -> Dest {
    dest_in(v, v.key, r)
}

/// The services `v` stands for: a keepalived group's members, else its one key.
pub fn service_keys(v: &VirtualService) -> Vec<ServiceKey> {
    match group(v) {
        Some(members) => members.to_vec(),
        None => vec![v.key],
    }
}

fn group(v: &VirtualService) -> Option<&[ServiceKey]> {
    v.keepalived
        .as_ref()
        .map(|k| &k.group[..])
        .filter(|g| !g.is_empty())
}

/// The service `key` of `v` (one of [`service_keys`]): a group's members differ only by
/// their key, as keepalived fills each member's service from the one virtual server.
pub fn service_in(v: &VirtualService, key: ServiceKey) -> Service {
    let mut s = desired_service(v);
    s.key = key;
    s
}

/// `r`'s entry in the service `key` of `v` (one of [`service_keys`]).
pub fn dest_in(v: &VirtualService, key: ServiceKey, r: &RealServer) -> Dest {
    let mut d = Dest::new(r.addr, entry_port(v, key, r.forward, r.port));
    d.fwd = forward_method(r.forward);
    d.weight = i32::try_from(r.weight).unwrap_or(i32::MAX);
    d.l_threshold = r.lower_threshold;
    d.u_threshold = r.upper_threshold;
    d
}

/// The fallback server's entry: always weight 1, no thresholds (ldirectord's fixed values).
pub fn desired_fallback(v: &VirtualService, f: &Fallback) -> Dest {
    fallback_in(v, v.key, f)
}

/// The fallback's entry in the service `key` of `v` (one of [`service_keys`]).
pub fn fallback_in(v: &VirtualService, key: ServiceKey, f: &Fallback) -> Dest {
    let mut d = Dest::new(f.addr, entry_port(v, key, f.forward, f.port));
    d.fwd = forward_method(f.forward);
    d.weight = 1;
    d
}

fn entry_port(v: &VirtualService, key: ServiceKey, forward: Forward, port: u16) -> u16 {
    if group(v).is_some() {
        group_port(key, forward, port)
    } else {
        kernel_port(key, forward, port)
    }
}

/// The port keepalived 2.2.7 gives a real's (or the sorry server's) entry in a member of
/// a `virtual_server group` (`ipvs_group_cmd`): under NAT the port as written, 0 included
/// (keepalived does not give a group's real the service's port when it has none); with DR
/// or TUN the member's port, which is 0 for a firewall mark (a port written on the real
/// is ignored, with a warning when keepalived reads the file).
pub fn group_port(key: ServiceKey, forward: Forward, port: u16) -> u16 {
    match (forward, key) {
        (Forward::Masq, _) => port,
        (_, ServiceKey::Addr { port: vport, .. }) => vport,
        (_, ServiceKey::Fwmark { .. }) => 0,
    }
}

/// The port ipvsadm puts in the kernel for a real configured with `port`.
pub fn kernel_port(key: ServiceKey, forward: Forward, port: u16) -> u16 {
    match key {
        ServiceKey::Fwmark { .. } => port,
        ServiceKey::Addr { port: vport, .. } => match forward {
            Forward::Gate | Forward::Ipip => vport,
            Forward::Masq if port == 0 => vport,
            Forward::Masq => port,
        },
    }
}

pub fn forward_method(f: Forward) -> ForwardMethod {
    match f {
        Forward::Gate => ForwardMethod::Route,
        Forward::Masq => ForwardMethod::Masq,
        Forward::Ipip => ForwardMethod::Tunnel,
    }
}

/// The bits of ldirectord's `schedflags` list: ipvsadm's `-b` rules, from the shared
/// grammar. An empty value sets none, as `-b ''` does. Err is ipvsadm's message.
pub fn sched_flag_bits(list: &str, scheduler: &str) -> Result<u32, String> {
    if list.is_empty() {
        return Ok(0);
    }
    crate::ipvsadm::parse::finish::sched_flags(scheduler, list).map_err(|e| e.to_string())
}
