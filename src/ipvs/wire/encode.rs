//! Requests, built exactly as ipvsadm 1.31 builds them (docs/ipvsadm-compat.md, Requests).
//!
//! Three shapes of SERVICE block exist because ipvsadm sends three: the full block for
//! NEW/SET_SERVICE, an identity block (empty scheduler, flags 0/~0, timeout 0, default
//! netmask) for everything that only names a service, and the bare key (AF + FWMARK or
//! PROTOCOL/ADDR/PORT) for GET_DEST dumps. Single-service GET_SERVICE is the identity block
//! with NETMASK 0.
//!
//! The bytes are written directly by [`Writer`] rather than through neli's builders: a
//! cold apply encodes one request per kernel write (50,000 for a 10k-service file), and
//! neli allocates and copies every attribute and every nest level on the way (half of
//! apply's user time under emulation). The format is the plain netlink one; the golden
//! tests in `tests/wire_golden.rs` hold every request to ipvsadm's bytes.

use super::WireError;
use super::attr::inet_addr;
use super::consts::{CmdAttr, DaemonAttr, DestAttr, GENL_VERSION, IpvsCmd, SvcAttr};
use super::frame::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, align, push_message};
use crate::ipvs::backend::Op;
use crate::ipvs::model::{
    AddressFamily, DaemonRole, Dest, Service, ServiceFlags, ServiceKey, SyncDaemon, Timeouts,
};

/// Longest payload we put in one attribute (or nest); far above anything IPVS accepts
/// (16-byte names), far below the u16 `nla_len` limit that would otherwise wrap silently.
const MAX_PAYLOAD: usize = 4096;

/// `NLA_F_NESTED`, set on nests as libnl sets it for ipvsadm.
const NLA_F_NESTED: u16 = 0x8000;

/// `struct nlattr` header size.
const NLA_HDRLEN: usize = 4;

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

    /// A request whose attributes `body` writes after the genl header.
    fn build(
        cmd: IpvsCmd,
        dump: bool,
        body: impl FnOnce(&mut Writer) -> Result<(), WireError>,
    ) -> Result<Self, WireError> {
        let mut w = Writer::genl(cmd);
        body(&mut w)?;
        Ok(Self {
            cmd,
            dump,
            payload: w.buf,
        })
    }

    fn bare(cmd: IpvsCmd, dump: bool) -> Result<Self, WireError> {
        Self::build(cmd, dump, |_| Ok(()))
    }
}

/// Appends a genl header and netlink attributes to one buffer: `nla_len` (header plus
/// unpadded payload), `nla_type`, payload, zero padding to 4 bytes; a nest's length
/// covers its padded children. Integers are in host order as the kernel's `nla_get_u*`
/// expect; ports are passed already in network order.
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// Room for the largest hot request (a dest write is 152 bytes) without regrowing.
    const CAPACITY: usize = 192;

    fn genl(cmd: IpvsCmd) -> Self {
        let mut buf = Vec::with_capacity(Self::CAPACITY);
        buf.push(u8::from(cmd));
        buf.push(GENL_VERSION);
        buf.extend_from_slice(&[0, 0]);
        Self { buf }
    }

    fn header(&mut self, ty: u16, len: usize) {
        // `len` is at most MAX_PAYLOAD + NLA_HDRLEN, checked by every caller.
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
    }

    fn pad(&mut self) {
        self.buf.resize(align(self.buf.len()), 0);
    }

    /// One attribute with a fixed-size payload (an integer's bytes, an address, a port).
    fn put<const N: usize>(&mut self, ty: impl Into<u16>, payload: [u8; N]) {
        const { assert!(N <= MAX_PAYLOAD) };
        self.header(ty.into(), NLA_HDRLEN + N);
        self.buf.extend_from_slice(&payload);
        self.pad();
    }

    /// A NUL-terminated string attribute (`nla_put_string`).
    fn put_str(&mut self, ty: impl Into<u16>, s: &str) -> Result<(), WireError> {
        if s.len() + 1 > MAX_PAYLOAD {
            return Err(WireError::TooLong("attribute payload"));
        }
        self.header(ty.into(), NLA_HDRLEN + s.len() + 1);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        self.pad();
        Ok(())
    }

    /// A nest of whatever `children` writes.
    fn nest(
        &mut self,
        ty: impl Into<u16>,
        children: impl FnOnce(&mut Self) -> Result<(), WireError>,
    ) -> Result<(), WireError> {
        let start = self.buf.len();
        self.header(ty.into() | NLA_F_NESTED, 0);
        children(self)?;
        let len = self.buf.len() - start;
        if len - NLA_HDRLEN > MAX_PAYLOAD {
            return Err(WireError::TooLong("nested attribute"));
        }
        self.buf[start..start + 2].copy_from_slice(&(len as u16).to_ne_bytes());
        Ok(())
    }
}

/// Map a write to its request.
pub fn encode_op(op: &Op) -> Result<Request, WireError> {
    use IpvsCmd as C;
    match op {
        Op::AddService(s) => Request::build(C::NewService, false, |w| service_full(w, s)),
        Op::EditService(s) => Request::build(C::SetService, false, |w| service_full(w, s)),
        Op::DelService(k) => Request::build(C::DelService, false, |w| service_identity(w, k)),
        Op::AddDest(k, d) => dest_request(C::NewDest, k, d),
        Op::EditDest(k, d) => dest_request(C::SetDest, k, d),
        Op::DelDest(k, dk) => {
            // ipvsadm sends the whole dest block with `-a` defaults; the kernel looks at the
            // identity only.
            let d = Dest::new(dk.addr, dk.port);
            dest_request(C::DelDest, k, &d)
        }
        Op::Zero(None) => Request::bare(C::Zero, false),
        Op::Zero(Some(k)) => Request::build(C::Zero, false, |w| service_identity(w, k)),
        Op::Flush => Request::bare(C::Flush, false),
        Op::SetTimeouts(t) => Request::build(C::SetConfig, false, |w| {
            timeout_attrs(w, t);
            Ok(())
        }),
        Op::StartDaemon(d) => Request::build(C::NewDaemon, false, |w| daemon_full(w, d)),
        Op::StopDaemon(role, syncid) => {
            Request::build(C::DelDaemon, false, |w| daemon_stop(w, *role, *syncid))
        }
    }
}

pub fn get_info() -> Result<Request, WireError> {
    Request::bare(IpvsCmd::GetInfo, false)
}

pub fn get_timeouts() -> Result<Request, WireError> {
    Request::bare(IpvsCmd::GetConfig, false)
}

pub fn get_daemons() -> Result<Request, WireError> {
    Request::bare(IpvsCmd::GetDaemon, true)
}

pub fn get_services() -> Result<Request, WireError> {
    Request::bare(IpvsCmd::GetService, true)
}

/// Single-service GET_SERVICE ("do"): the identity block with NETMASK 0, as ipvsadm sends.
pub fn get_service(key: &ServiceKey) -> Result<Request, WireError> {
    Request::build(IpvsCmd::GetService, false, |w| {
        w.nest(CmdAttr::Service, |w| {
            identity_attrs(w, key, 0);
            Ok(())
        })
    })
}

/// GET_DEST dump of one service: the bare key.
pub fn get_dests(key: &ServiceKey) -> Result<Request, WireError> {
    Request::build(IpvsCmd::GetDest, true, |w| {
        w.nest(CmdAttr::Service, |w| {
            key_attrs(w, key);
            Ok(())
        })
    })
}

fn key_attrs(w: &mut Writer, key: &ServiceKey) {
    w.put(SvcAttr::Af, key.af().raw().to_ne_bytes());
    match key {
        ServiceKey::Fwmark { mark, .. } => w.put(SvcAttr::Fwmark, mark.to_ne_bytes()),
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            w.put(SvcAttr::Protocol, protocol.raw().to_ne_bytes());
            w.put(SvcAttr::Addr, inet_addr(addr));
            w.put(SvcAttr::Port, port.to_be_bytes());
        }
    }
}

/// `struct ip_vs_flags`: the flags, then the mask of flags to change (all of them).
fn flags_attr(w: &mut Writer, flags: u32) {
    let mut raw = [0u8; 8];
    raw[..4].copy_from_slice(&flags.to_ne_bytes());
    raw[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
    w.put(SvcAttr::Flags, raw);
}

fn identity_attrs(w: &mut Writer, key: &ServiceKey, netmask: u32) {
    key_attrs(w, key);
    // An empty name is one NUL byte: never too long.
    let _ = w.put_str(SvcAttr::SchedName, "");
    flags_attr(w, 0);
    w.put(SvcAttr::Timeout, 0u32.to_ne_bytes());
    w.put(SvcAttr::Netmask, netmask.to_ne_bytes());
}

/// The netmask ipvsadm puts in identity blocks: all-ones for IPv4, /128 for IPv6.
fn default_netmask(af: AddressFamily) -> u32 {
    match af {
        AddressFamily::Inet => u32::MAX,
        AddressFamily::Inet6 => 128,
    }
}

fn service_identity(w: &mut Writer, key: &ServiceKey) -> Result<(), WireError> {
    w.nest(CmdAttr::Service, |w| {
        identity_attrs(w, key, default_netmask(key.af()));
        Ok(())
    })
}

fn service_full(w: &mut Writer, s: &Service) -> Result<(), WireError> {
    w.nest(CmdAttr::Service, |w| {
        key_attrs(w, &s.key);
        w.put_str(SvcAttr::SchedName, s.scheduler.as_str())?;
        if let Some(pe) = &s.pe_name {
            w.put_str(SvcAttr::PeName, pe)?;
        }
        // HASHED is the kernel's own bit: sending it on NEW_SERVICE would make the kernel
        // believe the new service is already hashed and never hash it.
        flags_attr(w, s.flags.0 & !ServiceFlags::HASHED);
        w.put(SvcAttr::Timeout, s.timeout.to_ne_bytes());
        w.put(SvcAttr::Netmask, s.netmask.wire_value().to_ne_bytes());
        Ok(())
    })
}

fn dest_attrs(w: &mut Writer, d: &Dest) -> Result<(), WireError> {
    w.nest(CmdAttr::Dest, |w| {
        w.put(DestAttr::AddrFamily, d.af().raw().to_ne_bytes());
        w.put(DestAttr::Addr, inet_addr(&d.addr));
        w.put(DestAttr::Port, d.port.to_be_bytes());
        w.put(DestAttr::FwdMethod, d.fwd.raw().to_ne_bytes());
        w.put(DestAttr::Weight, (d.weight as u32).to_ne_bytes());
        w.put(DestAttr::TunType, d.tunnel.kind.raw().to_ne_bytes());
        w.put(DestAttr::TunPort, d.tunnel.port.to_be_bytes());
        w.put(DestAttr::TunFlags, d.tunnel.csum.raw().to_ne_bytes());
        w.put(DestAttr::UThresh, d.u_threshold.to_ne_bytes());
        w.put(DestAttr::LThresh, d.l_threshold.to_ne_bytes());
        Ok(())
    })
}

fn dest_request(cmd: IpvsCmd, key: &ServiceKey, d: &Dest) -> Result<Request, WireError> {
    Request::build(cmd, false, |w| {
        service_identity(w, key)?;
        dest_attrs(w, d)
    })
}

fn timeout_attrs(w: &mut Writer, t: &Timeouts) {
    w.put(CmdAttr::TimeoutTcp, t.tcp.to_ne_bytes());
    w.put(CmdAttr::TimeoutTcpFin, t.tcp_fin.to_ne_bytes());
    w.put(CmdAttr::TimeoutUdp, t.udp.to_ne_bytes());
}

/// NEW_DAEMON: the three required attributes, then the optional ones only when set and
/// non-zero (ipvsadm's rule), the group last.
fn daemon_full(w: &mut Writer, d: &SyncDaemon) -> Result<(), WireError> {
    w.nest(CmdAttr::Daemon, |w| {
        w.put(DaemonAttr::State, d.state.to_ne_bytes());
        w.put_str(DaemonAttr::McastIfn, &d.mcast_ifn)?;
        w.put(DaemonAttr::SyncId, d.syncid.to_ne_bytes());
        if let Some(n) = d.sync_maxlen.filter(|&n| n != 0) {
            w.put(DaemonAttr::SyncMaxlen, n.to_ne_bytes());
        }
        if let Some(p) = d.mcast_port.filter(|&p| p != 0) {
            w.put(DaemonAttr::McastPort, p.to_ne_bytes());
        }
        if let Some(t) = d.mcast_ttl.filter(|&t| t != 0) {
            w.put(DaemonAttr::McastTtl, t.to_ne_bytes());
        }
        match d.mcast_group {
            Some(std::net::IpAddr::V4(g)) => w.put(DaemonAttr::McastGroup, g.octets()),
            Some(std::net::IpAddr::V6(g)) => w.put(DaemonAttr::McastGroup6, g.octets()),
            None => {}
        }
        Ok(())
    })
}

/// DEL_DAEMON as ipvsadm sends it: STATE, empty MCAST_IFN, SYNC_ID.
fn daemon_stop(w: &mut Writer, role: DaemonRole, syncid: u32) -> Result<(), WireError> {
    w.nest(CmdAttr::Daemon, |w| {
        w.put(DaemonAttr::State, role.raw().to_ne_bytes());
        w.put_str(DaemonAttr::McastIfn, "")?;
        w.put(DaemonAttr::SyncId, syncid.to_ne_bytes());
        Ok(())
    })
}
