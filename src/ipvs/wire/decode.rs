//! Replies, decoded with ipvsadm's rules (docs/ipvsadm-compat.md, Replies).
//!
//! Required attributes missing → [`WireError`] (ipvsadm fails the whole listing with EINVAL
//! in that case); optional ones get ipvsadm's defaults; attributes we do not know are
//! skipped. STATS64 is preferred over STATS; a stats nest that is present must carry all
//! ten counters.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::WireError;
use super::attr::{addr_of, be16_of, string_of, u8_of, u16_of, u32_of, u64_of};
use super::consts::{CmdAttr, DaemonAttr, DestAttr, InfoAttr, StatsAttr, SvcAttr};
use super::index::AttrIndex;
use crate::ipvs::model::{
    AddressFamily, Dest, ForwardMethod, Info, Netmask, Protocol, Rates, Scheduler, Service,
    ServiceFlags, ServiceKey, Stats, SyncDaemon, Timeouts, Tunnel, TunnelCsum, TunnelType,
};

/// The top-level attributes of a genl message body (after its 4-byte genl header).
fn top_level(genl: &[u8]) -> Result<AttrIndex<'_>, WireError> {
    AttrIndex::new(genl.get(4..).ok_or(WireError::Truncated)?)
}

/// Attributes of the nest `which` inside the genl body.
fn nested<'a>(
    genl: &'a [u8],
    which: CmdAttr,
    name: &'static str,
) -> Result<AttrIndex<'a>, WireError> {
    AttrIndex::new(top_level(genl)?.need(which, name)?)
}

fn family(raw_af: u16) -> Result<AddressFamily, WireError> {
    AddressFamily::from_raw(raw_af).ok_or(WireError::UnknownFamily(raw_af))
}

/// One service message of a GET_SERVICE reply or dump.
pub fn decode_service(genl: &[u8]) -> Result<Service, WireError> {
    let h = nested(genl, CmdAttr::Service, "SERVICE")?;
    let af = family(u16_of(h.need(SvcAttr::Af, "AF")?, "AF")?)?;
    let key = if let Some(mark) = h.get(SvcAttr::Fwmark) {
        ServiceKey::Fwmark {
            af,
            mark: u32_of(mark, "FWMARK")?,
        }
    } else {
        ServiceKey::Addr {
            protocol: Protocol::from_raw(u16_of(
                h.need(SvcAttr::Protocol, "PROTOCOL")?,
                "PROTOCOL",
            )?),
            addr: addr_of(h.need(SvcAttr::Addr, "ADDR")?, af, "ADDR")?,
            port: be16_of(h.need(SvcAttr::Port, "PORT")?, "PORT")?,
        }
    };
    let sched = h.need(SvcAttr::SchedName, "SCHED_NAME")?;
    let netmask = u32_of(h.need(SvcAttr::Netmask, "NETMASK")?, "NETMASK")?;
    let timeout = u32_of(h.need(SvcAttr::Timeout, "TIMEOUT")?, "TIMEOUT")?;
    let flags_raw = h.need(SvcAttr::Flags, "FLAGS")?;
    let flags = u32_of(flags_raw, "FLAGS")? & u32_of(flags_raw.get(4..).unwrap_or(&[]), "FLAGS")?;
    let pe_name = h.get(SvcAttr::PeName).map(string_of);
    let (stats, rates) = stats_of(&h, SvcAttr::Stats64, SvcAttr::Stats)?;
    Ok(Service {
        key,
        scheduler: Scheduler::new(string_of(sched)),
        flags: ServiceFlags(flags),
        timeout,
        netmask: Netmask::from_wire(af, netmask),
        pe_name,
        stats,
        rates,
    })
}

/// Counters from the 64-bit nest when present, else from the 32-bit one, else zero.
fn stats_of<T: Into<u16>>(
    h: &AttrIndex<'_>,
    st64: T,
    st32: T,
) -> Result<(Stats, Rates), WireError> {
    if let Some(p) = h.get(st64) {
        stats_from_attrs(p, true)
    } else if let Some(p) = h.get(st32) {
        stats_from_attrs(p, false)
    } else {
        Ok((Stats::default(), Rates::default()))
    }
}

/// A STATS (`wide == false`: u32 counters and rates, u64 bytes) or STATS64 (all u64) nest.
pub fn stats_from_attrs(payload: &[u8], wide: bool) -> Result<(Stats, Rates), WireError> {
    let h = AttrIndex::new(payload)?;
    let get = |t: StatsAttr, name: &'static str, is_bytes: bool| -> Result<u64, WireError> {
        let p = h.need(t, name)?;
        if wide || is_bytes {
            u64_of(p, name)
        } else {
            u32_of(p, name).map(u64::from)
        }
    };
    let stats = Stats {
        conns: get(StatsAttr::Conns, "CONNS", false)?,
        inpkts: get(StatsAttr::Inpkts, "INPKTS", false)?,
        outpkts: get(StatsAttr::Outpkts, "OUTPKTS", false)?,
        inbytes: get(StatsAttr::Inbytes, "INBYTES", true)?,
        outbytes: get(StatsAttr::Outbytes, "OUTBYTES", true)?,
    };
    let rates = Rates {
        cps: get(StatsAttr::Cps, "CPS", false)?,
        inpps: get(StatsAttr::Inpps, "INPPS", false)?,
        outpps: get(StatsAttr::Outpps, "OUTPPS", false)?,
        inbps: get(StatsAttr::Inbps, "INBPS", false)?,
        outbps: get(StatsAttr::Outbps, "OUTBPS", false)?,
    };
    Ok((stats, rates))
}

/// One dest message of a GET_DEST dump; `service_af` is the default when the kernel does
/// not report ADDR_FAMILY (kernels before 3.18).
pub fn decode_dest(genl: &[u8], service_af: AddressFamily) -> Result<Dest, WireError> {
    let h = nested(genl, CmdAttr::Dest, "DEST")?;
    let af = match h.get(DestAttr::AddrFamily) {
        Some(p) => family(u16_of(p, "ADDR_FAMILY")?)?,
        None => service_af,
    };
    let u32_req = |t: DestAttr, name: &'static str| u32_of(h.need(t, name)?, name);
    let tunnel = Tunnel {
        kind: TunnelType::from_raw(
            h.get(DestAttr::TunType)
                .map_or(Ok(0), |p| u8_of(p, "TUN_TYPE"))?,
        ),
        port: h
            .get(DestAttr::TunPort)
            .map_or(Ok(0), |p| be16_of(p, "TUN_PORT"))?,
        csum: TunnelCsum::from_raw(
            h.get(DestAttr::TunFlags)
                .map_or(Ok(0), |p| u16_of(p, "TUN_FLAGS"))?,
        ),
    };
    let (stats, rates) = stats_of(&h, DestAttr::Stats64, DestAttr::Stats)?;
    Ok(Dest {
        addr: addr_of(h.need(DestAttr::Addr, "ADDR")?, af, "ADDR")?,
        port: be16_of(h.need(DestAttr::Port, "PORT")?, "PORT")?,
        fwd: ForwardMethod::from_raw(u32_req(DestAttr::FwdMethod, "FWD_METHOD")?),
        weight: u32_req(DestAttr::Weight, "WEIGHT")? as i32,
        u_threshold: u32_req(DestAttr::UThresh, "U_THRESH")?,
        l_threshold: u32_req(DestAttr::LThresh, "L_THRESH")?,
        tunnel,
        active_conns: u32_req(DestAttr::ActiveConns, "ACTIVE_CONNS")?,
        inact_conns: u32_req(DestAttr::InactConns, "INACT_CONNS")?,
        persist_conns: u32_req(DestAttr::PersistConns, "PERSIST_CONNS")?,
        stats,
        rates,
    })
}

/// One message of a GET_DAEMON dump.
pub fn decode_daemon(genl: &[u8]) -> Result<SyncDaemon, WireError> {
    let h = nested(genl, CmdAttr::Daemon, "DAEMON")?;
    let opt = |t: DaemonAttr| h.get(t);
    let group = if let Some(p) = opt(DaemonAttr::McastGroup6) {
        let b: [u8; 16] =
            p.get(..16)
                .and_then(|s| s.try_into().ok())
                .ok_or(WireError::BadLength {
                    attr: "MCAST_GROUP6",
                    len: p.len(),
                })?;
        Some(IpAddr::V6(Ipv6Addr::from(b)))
    } else if let Some(p) = opt(DaemonAttr::McastGroup) {
        let b: [u8; 4] =
            p.get(..4)
                .and_then(|s| s.try_into().ok())
                .ok_or(WireError::BadLength {
                    attr: "MCAST_GROUP",
                    len: p.len(),
                })?;
        Some(IpAddr::V4(Ipv4Addr::from(b)))
    } else {
        None
    };
    Ok(SyncDaemon {
        state: u32_of(h.need(DaemonAttr::State, "STATE")?, "STATE")?,
        mcast_ifn: string_of(h.need(DaemonAttr::McastIfn, "MCAST_IFN")?),
        syncid: u32_of(h.need(DaemonAttr::SyncId, "SYNC_ID")?, "SYNC_ID")?,
        sync_maxlen: opt(DaemonAttr::SyncMaxlen)
            .map(|p| u16_of(p, "SYNC_MAXLEN"))
            .transpose()?,
        mcast_group: group,
        mcast_port: opt(DaemonAttr::McastPort)
            .map(|p| u16_of(p, "MCAST_PORT"))
            .transpose()?,
        mcast_ttl: opt(DaemonAttr::McastTtl)
            .map(|p| u8_of(p, "MCAST_TTL"))
            .transpose()?,
    })
}

/// GET_CONFIG reply: every attribute optional (missing → 0), as in ipvsadm.
pub fn decode_timeouts(genl: &[u8]) -> Result<Timeouts, WireError> {
    let h = top_level(genl)?;
    let get = |t: CmdAttr, name: &'static str| h.get(t).map_or(Ok(0), |p| u32_of(p, name));
    Ok(Timeouts {
        tcp: get(CmdAttr::TimeoutTcp, "TIMEOUT_TCP")?,
        tcp_fin: get(CmdAttr::TimeoutTcpFin, "TIMEOUT_TCP_FIN")?,
        udp: get(CmdAttr::TimeoutUdp, "TIMEOUT_UDP")?,
    })
}

/// GET_INFO reply: VERSION and CONN_TAB_SIZE are both required.
pub fn decode_info(genl: &[u8]) -> Result<Info, WireError> {
    // The info reply's attributes use their own numbering (IPVS_INFO_ATTR_*), so the body
    // is parsed past the 4-byte genl header directly.
    let h = top_level(genl)?;
    Ok(Info {
        version: u32_of(h.need(InfoAttr::Version, "VERSION")?, "VERSION")?,
        conn_tab_size: u32_of(
            h.need(InfoAttr::ConnTabSize, "CONN_TAB_SIZE")?,
            "CONN_TAB_SIZE",
        )?,
    })
}
