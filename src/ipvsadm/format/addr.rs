//! `host:port` rendering shared by listings, save and connection output.
//!
//! ipvsadm builds every name into a 60-byte buffer with `snprintf`, so a name never exceeds
//! 59 bytes even in `-S` and `-c`; the listing-specific 33/28-byte cuts are applied later by
//! the callers. Addresses go through `inet_ntop`, whose IPv6 text differs from Rust's
//! `Display` for IPv4-compatible addresses (`::1.2.3.4`), hence [`ntop`].

use std::net::{IpAddr, Ipv6Addr};

use crate::names::Resolver;

/// Largest name `addrport_to_anyname` can produce (60-byte buffer including the NUL).
const NAME_MAX: usize = 59;

/// `[host]:port` (IPv6) or `host:port` (IPv4), names looked up through `names`.
///
/// `proto` is the `/etc/services` protocol (`tcp`, `udp`, `sctp`); `None` (fwmark services,
/// unknown protocols) keeps the port numeric, as ipvsadm does.
pub(super) fn addrport(
    addr: IpAddr,
    port: u16,
    proto: Option<&str>,
    names: &dyn Resolver,
) -> Vec<u8> {
    let host = names.host_name(addr).unwrap_or_else(|| ntop(addr));
    let port_name = proto
        .and_then(|p| names.service_name(port, p))
        .unwrap_or_else(|| port.to_string());
    let mut out = Vec::with_capacity(host.len() + port_name.len() + 3);
    let v6 = addr.is_ipv6();
    if v6 {
        out.push(b'[');
    }
    out.extend_from_slice(host.as_bytes());
    if v6 {
        out.push(b']');
    }
    out.push(b':');
    out.extend_from_slice(port_name.as_bytes());
    out.truncate(NAME_MAX);
    out
}

/// glibc `inet_ntop` text of an address.
pub(super) fn ntop(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => ntop6(a),
    }
}

/// glibc prints `::a.b.c.d` for IPv4-compatible addresses (first six words zero, seventh
/// non-zero); Rust prints those in hex. Everything else (RFC 5952 compression, `::ffff:`
/// mapped addresses) already agrees.
fn ntop6(a: Ipv6Addr) -> String {
    let s = a.segments();
    if s[..6].iter().all(|w| *w == 0) && s[6] != 0 {
        let o = a.octets();
        return format!("::{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
    }
    a.to_string()
}

/// The `/etc/services` protocol name ipvsadm uses for a kernel protocol number.
pub(super) fn services_proto(proto: Option<crate::ipvs::model::Protocol>) -> Option<&'static str> {
    proto.and_then(crate::ipvs::model::Protocol::services_name)
}

/// C `char[n] = '\0'` on a rendered name: keep at most `n` bytes.
pub(super) fn cut(mut name: Vec<u8>, n: usize) -> Vec<u8> {
    name.truncate(n);
    name
}

/// printf `%-Ns`: the bytes, then blanks up to `width` bytes (never truncates).
pub(super) fn push_left(line: &mut Vec<u8>, bytes: &[u8], width: usize) {
    line.extend_from_slice(bytes);
    let pad = width.saturating_sub(bytes.len());
    line.resize(line.len() + pad, b' ');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::NoNames;

    #[test]
    fn ipv6_text_matches_inet_ntop() {
        let cases = [
            ("::1.2.3.4", "::1.2.3.4"),
            ("::ffff:1.2.3.5", "::ffff:1.2.3.5"),
            ("::1", "::1"),
            ("::", "::"),
            ("2001:db8::1", "2001:db8::1"),
            ("2001:db8:0:1::1", "2001:db8:0:1::1"),
            ("ffff::1", "ffff::1"),
        ];
        for (input, want) in cases {
            let a: IpAddr = input.parse().unwrap_or(IpAddr::V6(Ipv6Addr::LOCALHOST));
            assert_eq!(ntop(a), want, "{input}");
        }
    }

    #[test]
    fn numeric_addrport_brackets_ipv6_only() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(addrport(v4, 80, Some("tcp"), &NoNames), b"10.0.0.1:80");
        assert_eq!(addrport(v6, 0, None, &NoNames), b"[2001:db8::1]:0");
    }
}
