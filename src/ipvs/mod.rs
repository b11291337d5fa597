//! The IPVS kernel interface: the model, wire encoding, the netlink backend, procfs readers
//! and an in-memory fake. Nothing outside this module opens a netlink socket or reads
//! `/proc/net/ip_vs*`.

pub mod backend;
pub mod error;
pub mod fake;
pub mod model;
pub mod netlink;
pub mod procfs;
pub mod wire;

pub use backend::{Backend, BackendFactory, ConnStream, Op};
pub use error::{IpvsError, OpKind, Result};
pub use model::*;
