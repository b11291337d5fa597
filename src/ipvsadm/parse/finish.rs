//! Everything ipvsadm does after the last option was read, in its order (so the first
//! error reported is ipvsadm's), ending in the typed command.

use std::net::{IpAddr, Ipv4Addr};

use super::apply::timeout_value;
use super::command::{IpvsadmCommand, ListMode, ListRequest, ListTarget};
use super::compat;
use super::entry::Entry;
use super::error::Failure;
use super::table::{Command, Tracked};
use crate::ipvs::model::{
    AddressFamily, DaemonRole, Dest, ForwardMethod, Protocol, Scheduler, Service, ServiceFlags,
    ServiceKey, SyncDaemon, Timeouts, Tunnel, TunnelCsum,
};

const DEFAULT_SCHEDULER: &str = "wlc";
const DEFAULT_MCAST_IFN: &str = "eth0";

/// Runs the post-option checks and builds the command.
pub fn finish(mut entry: Entry, positionals: &[&str]) -> Result<IpvsadmCommand, Failure> {
    let mut rest = positionals;
    if entry.cmd == Command::Set {
        let [tcp, fin, udp, tail @ ..] = rest else {
            return Err(Failure::SetNeedsThree);
        };
        entry.timeouts = (
            timeout_value(tcp, 0)?,
            timeout_value(fin, 0)?,
            timeout_value(udp, 0)?,
        );
        rest = tail;
    }
    if let Some(extra) = rest.first() {
        return Err(Failure::UnexpectedArgument((*extra).to_owned()));
    }
    if !entry.sched_flags.is_empty() {
        let bits = sched_flags(&entry.scheduler, &entry.sched_flags)?;
        entry.flags = (entry.flags & !ServiceFlags::SCHED_MASK) | bits;
    }
    compat::check_command(entry.cmd, entry.given)?;
    match entry.cmd {
        Command::AddService | Command::EditService => service_checks(&mut entry)?,
        Command::StartDaemon if entry.mcast_ifn.is_empty() => {
            DEFAULT_MCAST_IFN.clone_into(&mut entry.mcast_ifn);
        }
        Command::AddServer | Command::EditServer => dest_checks(&mut entry)?,
        Command::List => compat::check_list_extra(entry.given)?,
        _ => {}
    }
    Ok(build(&entry))
}

/// `-b`: comma-separated flags for the scheduler given with `-s` (wlc when none).
///
/// Deliberate difference: ipvsadm 1.31 dereferences a null token and crashes (SIGSEGV) on
/// a value made only of commas (`-b ,`). We never crash: such a value is reported as
/// ``invalid scheduler flag `,'`` (the whole value quoted) with exit status 2.
pub fn sched_flags(scheduler: &str, value: &str) -> Result<u32, Failure> {
    let sched = if scheduler.is_empty() {
        DEFAULT_SCHEDULER
    } else {
        scheduler
    };
    let mut items = value.split(',').filter(|s| !s.is_empty()).peekable();
    if items.peek().is_none() {
        return Err(Failure::InvalidSchedFlag(value.to_owned()));
    }
    let mut bits = 0;
    for item in items {
        let (bit, needs) = match item {
            "flag-1" => (ServiceFlags::SCHED1, None),
            "flag-2" => (ServiceFlags::SCHED2, None),
            "flag-3" => (ServiceFlags::SCHED3, None),
            "sh-fallback" => (ServiceFlags::SCHED1, Some("sh")),
            "sh-port" => (ServiceFlags::SCHED2, Some("sh")),
            "mh-fallback" => (ServiceFlags::SCHED1, Some("mh")),
            "mh-port" => (ServiceFlags::SCHED2, Some("mh")),
            _ => return Err(Failure::InvalidSchedFlag(item.to_owned())),
        };
        if needs.is_some_and(|s| s != sched) {
            return Err(Failure::IncompatibleSchedFlag(item.to_owned()));
        }
        bits |= bit;
    }
    Ok(bits)
}

/// `-A`/`-E`: port 0 needs persistence, OPS needs UDP, default scheduler.
fn service_checks(entry: &mut Entry) -> Result<(), Failure> {
    let persistent = entry.flags & ServiceFlags::PERSISTENT != 0;
    if entry.fwmark == 0 && entry.svc_port == 0 && !persistent {
        return Err(Failure::ZeroPort);
    }
    let ops = entry.flags & ServiceFlags::ONEPACKET != 0;
    if ops && entry.fwmark == 0 && entry.protocol != Some(Protocol::Udp) {
        return Err(Failure::OpsNotUdp);
    }
    if entry.scheduler.is_empty() {
        DEFAULT_SCHEDULER.clone_into(&mut entry.scheduler);
    }
    Ok(())
}

/// `-a`/`-e`: DR/TUN use the service port, family mismatch only for tunnels, tunnel
/// options only for tunnels and per tunnel type.
fn dest_checks(entry: &mut Entry) -> Result<(), Failure> {
    let tunnel = entry.fwd == ForwardMethod::Tunnel;
    if entry.fwmark == 0 && (tunnel || entry.fwd == ForwardMethod::Route) {
        entry.dest_port = entry.svc_port;
    }
    let dest_af = entry.dest_addr.as_ref().map(AddressFamily::of);
    if dest_af != entry.svc_af && !tunnel {
        return Err(Failure::FamilyMismatch);
    }
    let tun_opts = [
        Tracked::TunType,
        Tracked::TunPort,
        Tracked::TunNoCsum,
        Tracked::TunCsum,
        Tracked::TunRemCsum,
    ];
    if entry.given.any(&tun_opts) && !tunnel {
        return Err(Failure::TunnelOptionsWithoutTunnel);
    }
    compat::check_tunnel(entry.tun_type, entry.given)
}

fn service_key(entry: &Entry) -> ServiceKey {
    let af = entry.svc_af.unwrap_or(AddressFamily::Inet);
    if entry.fwmark != 0 {
        ServiceKey::Fwmark {
            af,
            mark: entry.fwmark,
        }
    } else {
        ServiceKey::Addr {
            protocol: entry.protocol.unwrap_or(Protocol::Tcp),
            addr: entry.svc_addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            port: entry.svc_port,
        }
    }
}

fn service(entry: &Entry) -> Service {
    let key = service_key(entry);
    Service {
        scheduler: Scheduler::new(entry.scheduler.clone()),
        flags: ServiceFlags(entry.flags),
        timeout: entry.timeout,
        netmask: entry.netmask.for_family(key.af()),
        pe_name: (!entry.pe_name.is_empty()).then(|| entry.pe_name.clone()),
        ..Service::new(key)
    }
}

fn dest(entry: &Entry) -> Dest {
    let addr = entry.dest_addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    Dest {
        fwd: entry.fwd,
        weight: entry.weight,
        u_threshold: entry.u_threshold,
        l_threshold: entry.l_threshold,
        tunnel: Tunnel {
            kind: entry.tun_type,
            port: entry.tun_port,
            csum: TunnelCsum::from_raw(entry.tun_flags),
        },
        ..Dest::new(addr, entry.dest_port)
    }
}

fn list_request(entry: &Entry) -> ListRequest {
    let g = entry.given;
    let target = if g.contains(Tracked::Connection) {
        ListTarget::Connections
    } else if g.contains(Tracked::ServiceAddress) {
        ListTarget::Service(service_key(entry))
    } else if g.contains(Tracked::Timeout) {
        ListTarget::Timeouts
    } else if g.contains(Tracked::Daemon) {
        ListTarget::Daemons
    } else {
        ListTarget::All
    };
    let mode = [
        (entry.stats, ListMode::Stats),
        (entry.rate, ListMode::Rate),
        (entry.thresholds, ListMode::Thresholds),
        (entry.persistent_conn, ListMode::PersistentConn),
        (entry.tun_info, ListMode::TunInfo),
    ]
    .into_iter()
    .find_map(|(on, mode)| on.then_some(mode))
    .unwrap_or_default();
    ListRequest {
        target,
        mode,
        numeric: entry.numeric,
        exact: entry.exact,
        nosort: entry.nosort,
        persistent_conn: entry.persistent_conn,
    }
}

fn build(entry: &Entry) -> IpvsadmCommand {
    let role = entry.daemon_role.unwrap_or(DaemonRole::Master);
    match entry.cmd {
        Command::AddService => IpvsadmCommand::AddService(service(entry)),
        Command::EditService => IpvsadmCommand::EditService(service(entry)),
        Command::DelService => IpvsadmCommand::DelService(service_key(entry)),
        Command::Flush => IpvsadmCommand::Flush,
        Command::List => IpvsadmCommand::List(list_request(entry)),
        Command::AddServer => IpvsadmCommand::AddDest(service_key(entry), dest(entry)),
        Command::EditServer => IpvsadmCommand::EditDest(service_key(entry), dest(entry)),
        Command::DelServer => IpvsadmCommand::DelDest(service_key(entry), dest(entry).key()),
        Command::Set => IpvsadmCommand::SetTimeouts(Timeouts {
            tcp: entry.timeouts.0,
            tcp_fin: entry.timeouts.1,
            udp: entry.timeouts.2,
        }),
        Command::StartDaemon => IpvsadmCommand::StartDaemon(SyncDaemon {
            sync_maxlen: entry.sync_maxlen,
            mcast_group: entry.mcast_group,
            mcast_port: entry.mcast_port,
            mcast_ttl: entry.mcast_ttl,
            ..SyncDaemon::new(role, entry.mcast_ifn.clone(), entry.syncid)
        }),
        Command::StopDaemon => IpvsadmCommand::StopDaemon(role, entry.syncid),
        Command::Restore => IpvsadmCommand::Restore,
        Command::Save => IpvsadmCommand::Save {
            numeric: entry.numeric,
        },
        Command::Zero => IpvsadmCommand::Zero(
            entry
                .given
                .contains(Tracked::ServiceAddress)
                .then(|| service_key(entry)),
        ),
    }
}
