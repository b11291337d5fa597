//! Encoding and decoding of IPVS generic netlink messages (pure; no sockets here).
//!
//! Requests are built to be byte-identical to what ipvsadm 1.31 sends for the same command
//! (attribute order, empty scheduler name in identity blocks, flags mask `~0`, NLA_F_NESTED
//! on nests), apart from seq, pid and the family id; golden tests in `tests/wire_golden.rs`
//! hold us to that, and `tests/wire_decode.rs` decodes replies recorded from a 6.1 kernel.
//! Replies are decoded with ipvsadm's rules: required attributes missing → [`WireError`]
//! (ipvsadm fails the whole listing with EINVAL), optional ones defaulted, unknown ones
//! skipped.
//!
//! Layering: [`frame`] owns the netlink header (our own, because batching needs many
//! messages in one buffer); [`encode`] writes requests' genl header and attributes by hand
//! (one buffer per request, no per-attribute allocation: a cold apply encodes 50,000);
//! replies are read without copying through [`index::AttrIndex`] and mapped to the model by
//! [`decode`], with the length-checked byte readers of [`attr`]. neli builds and parses
//! only the nlctrl family lookup ([`ctrl`]) and gives the protocol numbers of [`consts`]
//! their types. docs/architecture.md, Netlink, says why.

pub mod attr;
pub mod consts;
pub mod ctrl;
pub mod decode;
pub mod encode;
pub mod frame;
pub mod index;

use thiserror::Error;

use crate::ipvs::error::IpvsError;

pub use consts::{FAMILY_NAME, GENL_VERSION, IpvsCmd};
pub use decode::{
    decode_daemon, decode_dest, decode_info, decode_service, decode_timeouts, stats_from_attrs,
};
pub use encode::{
    Request, encode_op, get_daemons, get_dests, get_info, get_service, get_services, get_timeouts,
};
pub use frame::{RawMessage, Reply, push_message};

/// Why a message could not be encoded or a reply could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WireError {
    #[error("truncated netlink message")]
    Truncated,
    #[error("missing attribute {0}")]
    Missing(&'static str),
    #[error("attribute {attr} has length {len}")]
    BadLength { attr: &'static str, len: usize },
    #[error("unknown address family {0}")]
    UnknownFamily(u16),
    #[error("{0} is too long to encode")]
    TooLong(&'static str),
    #[error("netlink (de)serialisation: {0}")]
    Neli(String),
}

impl From<WireError> for IpvsError {
    fn from(e: WireError) -> Self {
        IpvsError::Malformed(e.to_string())
    }
}
