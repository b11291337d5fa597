//! Service selectors of the modern commands: `tcp:10.0.0.1:80`, `udp:[2001:db8::1]:53`,
//! `sctp:…`, `fwmark:5`, `fwmark:5:6` (IPv6). Unlike ipvsadm's `-t host:port` they are
//! numeric and unambiguous, so scripts never depend on name resolution.

use std::net::{IpAddr, SocketAddr};

use thiserror::Error;

use crate::ipvs::model::{AddressFamily, Protocol, ServiceKey};

#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "invalid service `{spec}`: {reason} (expected tcp:ADDR:PORT, udp:…, sctp:… or fwmark:N[:6])"
)]
pub struct SpecError {
    pub spec: String,
    pub reason: &'static str,
}

pub fn parse_service(spec: &str) -> Result<ServiceKey, SpecError> {
    let err = |reason| SpecError {
        spec: spec.to_owned(),
        reason,
    };
    let (kind, rest) = spec
        .split_once(':')
        .ok_or_else(|| err("no protocol prefix"))?;
    let protocol = match kind.to_ascii_lowercase().as_str() {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        "fwmark" | "fwm" => {
            let (mark, af) = match rest.split_once(':') {
                Some((m, "6")) => (m, AddressFamily::Inet6),
                Some((m, "4")) => (m, AddressFamily::Inet),
                Some(_) => return Err(err("fwmark family must be 4 or 6")),
                None => (rest, AddressFamily::Inet),
            };
            let mark: u32 = mark.parse().map_err(|_| err("fwmark is not a number"))?;
            if mark == 0 {
                return Err(err("fwmark must be 1 or more"));
            }
            return Ok(ServiceKey::Fwmark { af, mark });
        }
        _ => return Err(err("unknown protocol")),
    };
    let sa: SocketAddr = rest
        .parse()
        .map_err(|_| err("address:port is not numeric"))?;
    Ok(ServiceKey::Addr {
        protocol,
        addr: sa.ip(),
        port: sa.port(),
    })
}

/// `ADDR` or `ADDR:PORT` (IPv6 as `[ADDR]:PORT` or bare `ADDR`) for filters.
pub fn parse_endpoint(text: &str) -> Option<(IpAddr, Option<u16>)> {
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Some((sa.ip(), Some(sa.port())));
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().ok().map(|ip| (ip, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn parses_every_form() {
        assert_eq!(
            parse_service("tcp:10.0.0.1:80"),
            Ok(ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                port: 80
            })
        );
        assert!(matches!(
            parse_service("udp:[2001:db8::1]:53"),
            Ok(ServiceKey::Addr {
                protocol: Protocol::Udp,
                port: 53,
                ..
            })
        ));
        assert_eq!(
            parse_service("fwmark:5:6"),
            Ok(ServiceKey::Fwmark {
                af: AddressFamily::Inet6,
                mark: 5
            })
        );
        assert_eq!(
            parse_service("fwmark:0").unwrap_err().reason,
            "fwmark must be 1 or more"
        );
        assert_eq!(
            parse_service("10.0.0.1:80").unwrap_err().reason,
            "unknown protocol"
        );
        assert_eq!(
            parse_service("tcp:host:80").unwrap_err().reason,
            "address:port is not numeric"
        );
    }

    #[test]
    fn endpoints_with_and_without_port() {
        assert_eq!(
            parse_endpoint("10.0.0.1"),
            Some((IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), None))
        );
        assert_eq!(parse_endpoint("[::1]:8080").map(|e| e.1), Some(Some(8080)));
        assert_eq!(parse_endpoint("::1").map(|e| e.1), Some(None));
        assert_eq!(parse_endpoint("nope"), None);
    }
}
