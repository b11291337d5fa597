//! Plain data for everything the kernel's IPVS tables hold.
//!
//! This module owns the vocabulary shared by every face of lvsctl (ipvsadm drop-in, `top`,
//! `health`, rules files). It knows nothing about netlink, procfs or output formats: values
//! are stored as the kernel reports them (raw flag bits, raw forwarding codes, unknown values
//! kept rather than rejected) so that formatting code can reproduce ipvsadm's rendering of
//! odd values exactly, and so that a round trip through the model never loses information.
//!
//! One file per kind of object; every type is re-exported here, so paths stay
//! `crate::ipvs::model::X`.

mod conn;
mod dest;
mod family;
mod global;
mod service;
mod stats;

pub use conn::Connection;
pub use dest::{Dest, DestField, DestKey, ForwardMethod, Tunnel, TunnelCsum, TunnelType};
pub use family::{AddressFamily, Protocol};
pub use global::{DaemonRole, Info, RateEstimation, SyncDaemon, Timeouts};
pub use service::{
    Netmask, Scheduler, Service, ServiceEntry, ServiceField, ServiceFlags, ServiceKey,
};
pub use stats::{GlobalStats, Rates, Stats};
