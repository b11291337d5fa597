//! Numbers of the IPVS generic netlink protocol (`include/uapi/linux/ip_vs.h`).
//!
//! Declared as neli enums so requests and lookups name them by type; the decoders look
//! attributes up by these numbers, so one a newer kernel sends that we do not know
//! (STATS PAD = 11, future attributes) is never looked at instead of failing a listing.

use neli::neli_enum;

/// `IPVS_GENL_NAME`: the generic netlink family to resolve.
pub const FAMILY_NAME: &str = "IPVS";
/// `IPVS_GENL_VERSION`, put in every genl header (ipvsadm does the same).
pub const GENL_VERSION: u8 = 1;

/// Generic netlink commands (`IPVS_CMD_*`).
#[neli_enum(serialized_type = "u8")]
pub enum IpvsCmd {
    Unspec = 0,
    NewService = 1,
    SetService = 2,
    DelService = 3,
    GetService = 4,
    NewDest = 5,
    SetDest = 6,
    DelDest = 7,
    GetDest = 8,
    NewDaemon = 9,
    DelDaemon = 10,
    GetDaemon = 11,
    SetConfig = 12,
    GetConfig = 13,
    SetInfo = 14,
    GetInfo = 15,
    Zero = 16,
    Flush = 17,
}
impl neli::consts::genl::Cmd for IpvsCmd {}

/// Top-level attributes (`IPVS_CMD_ATTR_*`).
#[neli_enum(serialized_type = "u16")]
pub enum CmdAttr {
    Unspec = 0,
    Service = 1,
    Dest = 2,
    Daemon = 3,
    TimeoutTcp = 4,
    TimeoutTcpFin = 5,
    TimeoutUdp = 6,
}
impl neli::consts::genl::NlAttrType for CmdAttr {}

/// Attributes inside a SERVICE nest (`IPVS_SVC_ATTR_*`).
#[neli_enum(serialized_type = "u16")]
pub enum SvcAttr {
    Unspec = 0,
    Af = 1,
    Protocol = 2,
    Addr = 3,
    Port = 4,
    Fwmark = 5,
    SchedName = 6,
    Flags = 7,
    Timeout = 8,
    Netmask = 9,
    Stats = 10,
    PeName = 11,
    Stats64 = 12,
}
impl neli::consts::genl::NlAttrType for SvcAttr {}

/// Attributes inside a DEST nest (`IPVS_DEST_ATTR_*`).
#[neli_enum(serialized_type = "u16")]
pub enum DestAttr {
    Unspec = 0,
    Addr = 1,
    Port = 2,
    FwdMethod = 3,
    Weight = 4,
    UThresh = 5,
    LThresh = 6,
    ActiveConns = 7,
    InactConns = 8,
    PersistConns = 9,
    Stats = 10,
    AddrFamily = 11,
    Stats64 = 12,
    TunType = 13,
    TunPort = 14,
    TunFlags = 15,
}
impl neli::consts::genl::NlAttrType for DestAttr {}

/// Attributes inside a DAEMON nest (`IPVS_DAEMON_ATTR_*`).
#[neli_enum(serialized_type = "u16")]
pub enum DaemonAttr {
    Unspec = 0,
    State = 1,
    McastIfn = 2,
    SyncId = 3,
    SyncMaxlen = 4,
    McastGroup = 5,
    McastGroup6 = 6,
    McastPort = 7,
    McastTtl = 8,
}
impl neli::consts::genl::NlAttrType for DaemonAttr {}

/// Attributes inside STATS / STATS64 nests (`IPVS_STATS_ATTR_*`; 11 is PAD).
#[neli_enum(serialized_type = "u16")]
pub enum StatsAttr {
    Unspec = 0,
    Conns = 1,
    Inpkts = 2,
    Outpkts = 3,
    Inbytes = 4,
    Outbytes = 5,
    Cps = 6,
    Inpps = 7,
    Outpps = 8,
    Inbps = 9,
    Outbps = 10,
}
impl neli::consts::genl::NlAttrType for StatsAttr {}

/// Attributes of the GET_INFO reply (`IPVS_INFO_ATTR_*`).
#[neli_enum(serialized_type = "u16")]
pub enum InfoAttr {
    Unspec = 0,
    Version = 1,
    ConnTabSize = 2,
}
impl neli::consts::genl::NlAttrType for InfoAttr {}
