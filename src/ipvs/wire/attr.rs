//! Attribute helpers.
//!
//! Building ([`attr`], [`nest`]): neli's builders, one call per attribute, with a length
//! check neli does not do (it truncates `nla_len` to u16 silently). The decode tests build
//! replies with them, independently of the hand-written request encoders (`encode`,
//! `ctrl`). Reading: the payload bytes that `AttrIndex` finds are
//! converted here with explicit length checks rather than by neli's parsers, because
//! neli's `String` parser underflows on an empty payload and its integer parsers accept
//! longer payloads than the kernel would send.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use neli::consts::genl::NlAttrType;
use neli::genl::{AttrTypeBuilder, Nlattr, NlattrBuilder};
use neli::types::Buffer;
use neli::{Size, ToBytes};

use super::WireError;
use crate::ipvs::model::AddressFamily;

/// Longest payload we put in one attribute; far above anything IPVS accepts (16-byte names),
/// far below the u16 `nla_len` limit.
const MAX_PAYLOAD: usize = 4096;

/// One attribute with a serialised payload.
pub fn attr<T, P>(t: T, payload: P) -> Result<Nlattr<T, Buffer>, WireError>
where
    T: NlAttrType,
    P: Size + ToBytes,
{
    if payload.unpadded_size() > MAX_PAYLOAD {
        return Err(WireError::TooLong("attribute payload"));
    }
    let ty = AttrTypeBuilder::default()
        .nla_type(t)
        .build()
        .map_err(|e| WireError::Neli(e.to_string()))?;
    NlattrBuilder::default()
        .nla_type(ty)
        .nla_payload(payload)
        .build()
        .map_err(|e| WireError::Neli(e.to_string()))
}

/// A nest holding `children` in order; neli sets NLA_F_NESTED on it, as libnl does for
/// ipvsadm.
pub fn nest<T, C>(t: T, children: &[Nlattr<C, Buffer>]) -> Result<Nlattr<T, Buffer>, WireError>
where
    T: NlAttrType,
    C: NlAttrType,
{
    let mut parent = attr(t, Buffer::from(Vec::new()))?;
    let mut total = 0usize;
    for child in children {
        total += child.padded_size();
        if total > MAX_PAYLOAD {
            return Err(WireError::TooLong("nested attribute"));
        }
        parent = parent
            .nest(child)
            .map_err(|e| WireError::Neli(e.to_string()))?;
    }
    Ok(parent)
}

/// The 16-byte `union nf_inet_addr` ipvsadm sends (IPv4 in the first four bytes).
pub fn inet_addr(addr: &IpAddr) -> [u8; 16] {
    let mut out = [0u8; 16];
    match addr {
        IpAddr::V4(a) => out[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => out = a.octets(),
    }
    out
}

/// Fixed-size prefix of a payload; shorter payloads are malformed, longer ones tolerated
/// (the kernel's own policy is just as lenient).
fn fixed<const N: usize>(bytes: &[u8], name: &'static str) -> Result<[u8; N], WireError> {
    bytes
        .get(..N)
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .ok_or(WireError::BadLength {
            attr: name,
            len: bytes.len(),
        })
}

pub fn u8_of(bytes: &[u8], name: &'static str) -> Result<u8, WireError> {
    fixed::<1>(bytes, name).map(|b| b[0])
}
pub fn u16_of(bytes: &[u8], name: &'static str) -> Result<u16, WireError> {
    fixed(bytes, name).map(u16::from_ne_bytes)
}
pub fn be16_of(bytes: &[u8], name: &'static str) -> Result<u16, WireError> {
    fixed(bytes, name).map(u16::from_be_bytes)
}
pub fn u32_of(bytes: &[u8], name: &'static str) -> Result<u32, WireError> {
    fixed(bytes, name).map(u32::from_ne_bytes)
}
pub fn u64_of(bytes: &[u8], name: &'static str) -> Result<u64, WireError> {
    fixed(bytes, name).map(u64::from_ne_bytes)
}

/// A NUL-terminated string attribute: bytes up to the first NUL (or all of them), lossily
/// decoded so an odd name never fails a listing.
pub fn string_of(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// An address attribute interpreted according to `af`.
pub fn addr_of(bytes: &[u8], af: AddressFamily, name: &'static str) -> Result<IpAddr, WireError> {
    Ok(match af {
        AddressFamily::Inet => IpAddr::V4(Ipv4Addr::from(fixed::<4>(bytes, name)?)),
        AddressFamily::Inet6 => IpAddr::V6(Ipv6Addr::from(fixed::<16>(bytes, name)?)),
    })
}
