//! Rows of `/proc/net/ip_vs_conn` and `/proc/net/ip_vs_conn_sync`, parsed one line at a time.
//!
//! Kernel formats (Linux 6.1, `ip_vs_conn_seq_show` / `ip_vs_conn_sync_seq_show`):
//!
//! ```text
//! Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
//! TCP 0A090901 D112 0A090964 0050 0A090902 1F90 SYN_RECV         52
//! UDP 0A090901 0000 0A090966 13C4 0A090905 13C4 NONE             93 sip abc123@host
//!
//! Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires
//! TCP 0A090901 D112 0A090964 0050 0A090902 1F90 SYN_RECV    LOCAL       52
//! ```
//!
//! Client and virtual addresses share the connection's family; the destination has its own
//! (an IPv4 service can tunnel to an IPv6 real server), so each address column is parsed on
//! its own.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::fields::{Fields, address, decimal, hex_port};
use crate::ipvs::model::Connection;

/// Where a connection entry came from, as `ip_vs_conn_sync` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnOrigin {
    /// Created by this director's own traffic.
    Local,
    /// Received from a master's sync daemon.
    Sync,
}

/// One row of `/proc/net/ip_vs_conn_sync`: a connection (never with PE columns, that file
/// has none) plus its origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncConnection {
    pub connection: Connection,
    pub origin: ConnOrigin,
}

/// The first eight columns, common to both files, borrowed from the line.
struct Head<'a> {
    protocol: &'a str,
    client: (IpAddr, u16),
    virt: (IpAddr, u16),
    dest: (IpAddr, u16),
    state: &'a str,
}

fn endpoint(fields: &mut Fields<'_>) -> Option<(IpAddr, u16)> {
    let addr = address(fields.next()?)?;
    let port = hex_port(fields.next()?)?;
    Some((addr, port))
}

fn text(field: &[u8]) -> Option<&str> {
    std::str::from_utf8(field).ok()
}

fn head<'a>(fields: &mut Fields<'a>) -> Option<Head<'a>> {
    let protocol = text(fields.next()?)?;
    let client = endpoint(fields)?;
    let virt = endpoint(fields)?;
    let dest = endpoint(fields)?;
    let state = text(fields.next()?)?;
    Some(Head {
        protocol,
        client,
        virt,
        dest,
        state,
    })
}

/// Seconds to expiry. The kernel prints `(timer.expires - jiffies) / HZ` as an unsigned
/// long, so a timer that is already due wraps to a huge value; that means "now", i.e. 0.
fn expires(field: &[u8]) -> Option<u32> {
    decimal(field).map(|secs| u32::try_from(secs).unwrap_or(0))
}

fn connection(head: &Head<'_>, expires: u32) -> Connection {
    Connection {
        protocol: head.protocol.to_owned(),
        client_addr: head.client.0,
        client_port: head.client.1,
        virtual_addr: head.virt.0,
        virtual_port: head.virt.1,
        dest_addr: head.dest.0,
        dest_port: head.dest.1,
        state: head.state.to_owned(),
        expires,
        pe_name: None,
        pe_data: None,
    }
}

/// Parse one data row of `ip_vs_conn`; `None` when the row does not have the kernel's shape.
///
/// The PE data column is free text (a SIP Call-ID); it is kept verbatim up to the end of the
/// line, so a value with blanks in it is not cut short.
pub fn parse_conn_row(line: &[u8]) -> Option<Connection> {
    let mut fields = Fields::new(line);
    let head = head(&mut fields)?;
    let expires = expires(fields.next()?)?;
    let mut conn = connection(&head, expires);
    if let Some(pe_name) = fields.next() {
        conn.pe_name = Some(String::from_utf8_lossy(pe_name).into_owned());
        let data = fields.rest();
        if !data.is_empty() {
            conn.pe_data = Some(String::from_utf8_lossy(data).into_owned());
        }
    }
    Some(conn)
}

/// Parse one data row of `ip_vs_conn_sync`; `None` when the row does not have its shape.
pub fn parse_sync_row(line: &[u8]) -> Option<SyncConnection> {
    let mut fields = Fields::new(line);
    let head = head(&mut fields)?;
    let origin = match fields.next()? {
        b"LOCAL" => ConnOrigin::Local,
        b"SYNC" => ConnOrigin::Sync,
        _ => return None,
    };
    let expires = expires(fields.next()?)?;
    if fields.next().is_some() {
        return None;
    }
    Some(SyncConnection {
        connection: connection(&head, expires),
        origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_row() {
        let c =
            parse_conn_row(b"TCP 0A090901 D112 0A090964 0050 0A090902 1F90 SYN_RECV         52")
                .unwrap();
        assert_eq!(c.protocol, "TCP");
        assert_eq!((c.client_addr, c.client_port), (ip("10.9.9.1"), 0xD112));
        assert_eq!((c.virtual_addr, c.virtual_port), (ip("10.9.9.100"), 80));
        assert_eq!((c.dest_addr, c.dest_port), (ip("10.9.9.2"), 8080));
        assert_eq!(c.state, "SYN_RECV");
        assert_eq!(c.expires, 52);
        assert_eq!((c.pe_name, c.pe_data), (None, None));
    }

    #[test]
    fn ipv6_row_and_mixed_family_row() {
        let c = parse_conn_row(b"UDP 2001:0db8:0009:0000:0000:0000:0000:0001 93C8 2001:0db8:0009:0000:0000:0000:0000:0100 0035 2001:0db8:0009:0000:0000:0000:0000:0002 0035 UDP             293").unwrap();
        assert_eq!(c.client_addr, ip("2001:db8:9::1"));
        assert_eq!(c.virtual_addr, ip("2001:db8:9::100"));
        assert_eq!((c.dest_addr, c.dest_port), (ip("2001:db8:9::2"), 53));
        let m = parse_conn_row(b"TCP 0A090901 C84A 0A090967 0050 2001:0db8:0009:0000:0000:0000:0000:0007 0050 SYN_RECV         57").unwrap();
        assert_eq!(m.virtual_addr, ip("10.9.9.103"));
        assert_eq!(m.dest_addr, ip("2001:db8:9::7"));
        // An IPv6 service tunnelling to an IPv4 real server prints the dest as `%08X`.
        let r = parse_conn_row(b"TCP 2001:0db8:0009:0000:0000:0000:0000:0001 AECC 2001:0db8:0009:0000:0000:0000:0000:0100 0050 0A090902 1F90 SYN_RECV         56").unwrap();
        assert_eq!(r.client_addr, ip("2001:db8:9::1"));
        assert_eq!((r.dest_addr, r.dest_port), (ip("10.9.9.2"), 8080));
    }

    #[test]
    fn pe_columns_are_optional_and_data_is_kept_verbatim() {
        let c = parse_conn_row(
            b"UDP 0A090901 0000 0A090966 13C4 0A090905 13C4 NONE             93 sip abc123@host",
        )
        .unwrap();
        assert_eq!(c.pe_name.as_deref(), Some("sip"));
        assert_eq!(c.pe_data.as_deref(), Some("abc123@host"));
        let spaced = parse_conn_row(
            b"UDP 0A090901 0000 0A090966 13C4 0A090905 13C4 NONE 93 sip call id with blanks \r",
        )
        .unwrap();
        assert_eq!(spaced.pe_data.as_deref(), Some("call id with blanks"));
        let name_only =
            parse_conn_row(b"UDP 0A090901 0000 0A090966 13C4 0A090905 13C4 NONE 93 sip ").unwrap();
        assert_eq!(name_only.pe_name.as_deref(), Some("sip"));
        assert_eq!(name_only.pe_data, None);
    }

    #[test]
    fn wrapped_expiry_means_due_now() {
        let c = parse_conn_row(
            b"TCP 0A090901 D112 0A090964 0050 0A090902 1F90 CLOSE 73786976294838206",
        )
        .unwrap();
        assert_eq!(c.expires, 0);
    }

    #[test]
    fn malformed_rows_are_rejected_not_panicking() {
        for bad in [
            &b""[..],
            b"TCP",
            b"TCP 0A090901 D112 0A090964 0050 0A090902 1F90 SYN_RECV",
            b"TCP 0A090901 D112 0A090964 0050 0A090902 1F90 SYN_RECV x52",
            b"TCP 0A0909 D112 0A090964 0050 0A090902 1F90 SYN_RECV 52",
            b"TCP 0A090901 1D112 0A090964 0050 0A090902 1F90 SYN_RECV 52",
            b"TCP 0A090901 D112 0A090964 0050 nonsense 1F90 SYN_RECV 52",
            b"\xff\xfe 0A090901 D112 0A090964 0050 0A090902 1F90 SYN_RECV 52",
        ] {
            assert_eq!(
                parse_conn_row(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn sync_rows_carry_the_origin() {
        let s = parse_sync_row(
            b"TCP 0A090901 D112 0A090964 0050 0A090902 1F90 SYN_RECV    LOCAL       52",
        )
        .unwrap();
        assert_eq!(s.origin, ConnOrigin::Local);
        assert_eq!(s.connection.expires, 52);
        assert_eq!(s.connection.state, "SYN_RECV");
        let synced =
            parse_sync_row(b"UDP 0A090901 9CF4 0A090964 0035 0A090903 14E9 UDP SYNC 295").unwrap();
        assert_eq!(synced.origin, ConnOrigin::Sync);
        assert_eq!(
            parse_sync_row(b"UDP 0A090901 9CF4 0A090964 0035 0A090903 14E9 UDP ELSEWHERE 295"),
            None
        );
        assert_eq!(
            parse_sync_row(b"UDP 0A090901 9CF4 0A090964 0035 0A090903 14E9 UDP LOCAL 295 x"),
            None
        );
    }
}
