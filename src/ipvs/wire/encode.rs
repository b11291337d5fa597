//! Requests, built exactly as ipvsadm 1.31 builds them (spec §6.4).
//!
//! Three shapes of SERVICE block exist because ipvsadm sends three: the full block for
//! NEW/SET_SERVICE, an identity block (empty scheduler, flags 0/~0, timeout 0, default
//! netmask) for everything that only names a service, and the bare key (AF + FWMARK or
//! PROTOCOL/ADDR/PORT) for GET_DEST dumps. Single-service GET_SERVICE is the identity block
//! with NETMASK 0.

use std::io::Cursor;

use neli::ToBytes;
use neli::genl::{Genlmsghdr, GenlmsghdrBuilder, Nlattr};
use neli::types::{Buffer, GenlBuffer};

use super::WireError;
use super::attr::{attr, inet_addr, nest};
use super::consts::{CmdAttr, DaemonAttr, DestAttr, GENL_VERSION, IpvsCmd, SvcAttr};
use super::frame::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, push_message};
use crate::ipvs::backend::Op;
use crate::ipvs::model::{
    AddressFamily, DaemonRole, Dest, Service, ServiceFlags, ServiceKey, SyncDaemon, Timeouts,
};

type Attr<T> = Nlattr<T, Buffer>;

/// One request: genl command plus the serialised genl header and attributes. The netlink
/// header (family id, seq, pid) is added when it is framed into a send buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub cmd: IpvsCmd,
    pub dump: bool,
    pub payload: Vec<u8>,
}

impl Request {
    /// ipvsadm asks for an ACK on every request, dumps included (the kernel sends none after
    /// a dump that started, but does send the error when a dump cannot start, e.g. EBUSY).
    pub fn flags(&self) -> u16 {
        NLM_F_REQUEST | NLM_F_ACK | if self.dump { NLM_F_DUMP } else { 0 }
    }

    /// Frame this request into `out`.
    pub fn push(&self, out: &mut Vec<u8>, family: u16, seq: u32, pid: u32) {
        push_message(out, family, self.flags(), seq, pid, &self.payload);
    }

    fn new(cmd: IpvsCmd, attrs: Vec<Attr<CmdAttr>>, dump: bool) -> Result<Self, WireError> {
        let genl: Genlmsghdr<IpvsCmd, CmdAttr> = GenlmsghdrBuilder::default()
            .cmd(cmd)
            .version(GENL_VERSION)
            .attrs(attrs.into_iter().collect::<GenlBuffer<_, _>>())
            .build()
            .map_err(|e| WireError::Neli(e.to_string()))?;
        let mut out = Cursor::new(Vec::new());
        genl.to_bytes(&mut out)
            .map_err(|e| WireError::Neli(e.to_string()))?;
        Ok(Self {
            cmd,
            dump,
            payload: out.into_inner(),
        })
    }
}

/// Map a write to its request.
pub fn encode_op(op: &Op) -> Result<Request, WireError> {
    use IpvsCmd as C;
    match op {
        Op::AddService(s) => Request::new(C::NewService, vec![service_full(s)?], false),
        Op::EditService(s) => Request::new(C::SetService, vec![service_full(s)?], false),
        Op::DelService(k) => Request::new(C::DelService, vec![service_identity(k)?], false),
        Op::AddDest(k, d) => dest_request(C::NewDest, k, d),
        Op::EditDest(k, d) => dest_request(C::SetDest, k, d),
        Op::DelDest(k, dk) => {
            // ipvsadm sends the whole dest block with `-a` defaults; the kernel looks at the
            // identity only.
            let d = Dest::new(dk.addr, dk.port);
            dest_request(C::DelDest, k, &d)
        }
        Op::Zero(None) => Request::new(C::Zero, Vec::new(), false),
        Op::Zero(Some(k)) => Request::new(C::Zero, vec![service_identity(k)?], false),
        Op::Flush => Request::new(C::Flush, Vec::new(), false),
        Op::SetTimeouts(t) => Request::new(C::SetConfig, timeout_attrs(t)?, false),
        Op::StartDaemon(d) => Request::new(C::NewDaemon, vec![daemon_full(d)?], false),
        Op::StopDaemon(role, syncid) => {
            Request::new(C::DelDaemon, vec![daemon_stop(*role, *syncid)?], false)
        }
    }
}

pub fn get_info() -> Result<Request, WireError> {
    Request::new(IpvsCmd::GetInfo, Vec::new(), false)
}

pub fn get_timeouts() -> Result<Request, WireError> {
    Request::new(IpvsCmd::GetConfig, Vec::new(), false)
}

pub fn get_daemons() -> Result<Request, WireError> {
    Request::new(IpvsCmd::GetDaemon, Vec::new(), true)
}

pub fn get_services() -> Result<Request, WireError> {
    Request::new(IpvsCmd::GetService, Vec::new(), true)
}

/// Single-service GET_SERVICE ("do"): the identity block with NETMASK 0, as ipvsadm sends.
pub fn get_service(key: &ServiceKey) -> Result<Request, WireError> {
    let svc = nest(CmdAttr::Service, &identity_attrs(key, 0)?)?;
    Request::new(IpvsCmd::GetService, vec![svc], false)
}

/// GET_DEST dump of one service: the bare key.
pub fn get_dests(key: &ServiceKey) -> Result<Request, WireError> {
    let svc = nest(CmdAttr::Service, &key_attrs(key)?)?;
    Request::new(IpvsCmd::GetDest, vec![svc], true)
}

fn key_attrs(key: &ServiceKey) -> Result<Vec<Attr<SvcAttr>>, WireError> {
    let mut v = vec![attr(SvcAttr::Af, key.af().raw())?];
    match key {
        ServiceKey::Fwmark { mark, .. } => v.push(attr(SvcAttr::Fwmark, *mark)?),
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            v.push(attr(SvcAttr::Protocol, protocol.raw())?);
            v.push(attr(SvcAttr::Addr, inet_addr(addr))?);
            v.push(attr(SvcAttr::Port, port.to_be_bytes())?);
        }
    }
    Ok(v)
}

fn flags_attr(flags: u32) -> Result<Attr<SvcAttr>, WireError> {
    let mut raw = [0u8; 8];
    raw[..4].copy_from_slice(&flags.to_ne_bytes());
    raw[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
    attr(SvcAttr::Flags, raw)
}

fn identity_attrs(key: &ServiceKey, netmask: u32) -> Result<Vec<Attr<SvcAttr>>, WireError> {
    let mut v = key_attrs(key)?;
    v.push(attr(SvcAttr::SchedName, "")?);
    v.push(flags_attr(0)?);
    v.push(attr(SvcAttr::Timeout, 0u32)?);
    v.push(attr(SvcAttr::Netmask, netmask)?);
    Ok(v)
}

/// The netmask ipvsadm puts in identity blocks: all-ones for IPv4, /128 for IPv6.
fn default_netmask(af: AddressFamily) -> u32 {
    match af {
        AddressFamily::Inet => u32::MAX,
        AddressFamily::Inet6 => 128,
    }
}

fn service_identity(key: &ServiceKey) -> Result<Attr<CmdAttr>, WireError> {
    nest(
        CmdAttr::Service,
        &identity_attrs(key, default_netmask(key.af()))?,
    )
}

fn service_full(s: &Service) -> Result<Attr<CmdAttr>, WireError> {
    let mut v = key_attrs(&s.key)?;
    v.push(attr(SvcAttr::SchedName, s.scheduler.as_str())?);
    if let Some(pe) = &s.pe_name {
        v.push(attr(SvcAttr::PeName, pe.as_str())?);
    }
    // HASHED is the kernel's own bit: sending it on NEW_SERVICE would make the kernel
    // believe the new service is already hashed and never hash it.
    v.push(flags_attr(s.flags.0 & !ServiceFlags::HASHED)?);
    v.push(attr(SvcAttr::Timeout, s.timeout)?);
    v.push(attr(SvcAttr::Netmask, s.netmask.wire_value())?);
    nest(CmdAttr::Service, &v)
}

fn dest_attrs(d: &Dest) -> Result<Attr<CmdAttr>, WireError> {
    let v = vec![
        attr(DestAttr::AddrFamily, d.af().raw())?,
        attr(DestAttr::Addr, inet_addr(&d.addr))?,
        attr(DestAttr::Port, d.port.to_be_bytes())?,
        attr(DestAttr::FwdMethod, d.fwd.raw())?,
        attr(DestAttr::Weight, d.weight as u32)?,
        attr(DestAttr::TunType, d.tunnel.kind.raw())?,
        attr(DestAttr::TunPort, d.tunnel.port.to_be_bytes())?,
        attr(DestAttr::TunFlags, d.tunnel.csum.raw())?,
        attr(DestAttr::UThresh, d.u_threshold)?,
        attr(DestAttr::LThresh, d.l_threshold)?,
    ];
    nest(CmdAttr::Dest, &v)
}

fn dest_request(cmd: IpvsCmd, key: &ServiceKey, d: &Dest) -> Result<Request, WireError> {
    Request::new(cmd, vec![service_identity(key)?, dest_attrs(d)?], false)
}

fn timeout_attrs(t: &Timeouts) -> Result<Vec<Attr<CmdAttr>>, WireError> {
    Ok(vec![
        attr(CmdAttr::TimeoutTcp, t.tcp)?,
        attr(CmdAttr::TimeoutTcpFin, t.tcp_fin)?,
        attr(CmdAttr::TimeoutUdp, t.udp)?,
    ])
}

/// NEW_DAEMON: the three required attributes, then the optional ones only when set and
/// non-zero (ipvsadm's rule), the group last.
fn daemon_full(d: &SyncDaemon) -> Result<Attr<CmdAttr>, WireError> {
    let mut v = vec![
        attr(DaemonAttr::State, d.state)?,
        attr(DaemonAttr::McastIfn, d.mcast_ifn.as_str())?,
        attr(DaemonAttr::SyncId, d.syncid)?,
    ];
    if let Some(n) = d.sync_maxlen.filter(|&n| n != 0) {
        v.push(attr(DaemonAttr::SyncMaxlen, n)?);
    }
    if let Some(p) = d.mcast_port.filter(|&p| p != 0) {
        v.push(attr(DaemonAttr::McastPort, p)?);
    }
    if let Some(t) = d.mcast_ttl.filter(|&t| t != 0) {
        v.push(attr(DaemonAttr::McastTtl, t)?);
    }
    match d.mcast_group {
        Some(std::net::IpAddr::V4(g)) => v.push(attr(DaemonAttr::McastGroup, g.octets())?),
        Some(std::net::IpAddr::V6(g)) => v.push(attr(DaemonAttr::McastGroup6, g.octets())?),
        None => {}
    }
    nest(CmdAttr::Daemon, &v)
}

/// DEL_DAEMON as ipvsadm sends it: STATE, empty MCAST_IFN, SYNC_ID.
fn daemon_stop(role: DaemonRole, syncid: u32) -> Result<Attr<CmdAttr>, WireError> {
    let v = vec![
        attr(DaemonAttr::State, role.raw())?,
        attr(DaemonAttr::McastIfn, "")?,
        attr(DaemonAttr::SyncId, syncid)?,
    ];
    nest(CmdAttr::Daemon, &v)
}
