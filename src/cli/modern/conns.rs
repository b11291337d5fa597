//! `lvsctl conns`: the connection table with filters. Rows are streamed from the proc file
//! through [`ConnFilter`] and printed as they come, so a million-row table never sits in
//! memory.

use std::net::IpAddr;

use serde::Serialize;

use crate::ipvs::model::Connection;

/// Filters on the connection table; `None` fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnFilter {
    pub service: Option<(IpAddr, Option<u16>)>,
    pub real: Option<(IpAddr, Option<u16>)>,
    pub client: Option<(IpAddr, Option<u16>)>,
    /// Upper-cased state name.
    pub state: Option<String>,
}

fn endpoint_matches(want: Option<(IpAddr, Option<u16>)>, addr: IpAddr, port: u16) -> bool {
    match want {
        None => true,
        Some((a, p)) => a == addr && p.is_none_or(|p| p == port),
    }
}

impl ConnFilter {
    pub fn matches(&self, c: &Connection) -> bool {
        endpoint_matches(self.service, c.virtual_addr, c.virtual_port)
            && endpoint_matches(self.real, c.dest_addr, c.dest_port)
            && endpoint_matches(self.client, c.client_addr, c.client_port)
            && self
                .state
                .as_deref()
                .is_none_or(|s| c.state.eq_ignore_ascii_case(s))
    }
}

/// Numeric `addr:port`, IPv6 bracketed (the model's one rendering of a real server key).
fn endpoint(addr: IpAddr, port: u16) -> String {
    crate::ipvs::DestKey { addr, port }.to_string()
}

pub const TABLE_HEADER: &str =
    "PROTO EXPIRE  STATE        CLIENT                  VIRTUAL                 REAL SERVER";

/// One aligned text row (wide columns; IPv6 rows simply grow).
pub fn render_row(c: &Connection) -> String {
    format!(
        "{:<5} {:>6}  {:<12} {:<23} {:<23} {}",
        c.protocol,
        format!("{:02}:{:02}", c.expires / 60, c.expires % 60),
        c.state,
        endpoint(c.client_addr, c.client_port),
        endpoint(c.virtual_addr, c.virtual_port),
        endpoint(c.dest_addr, c.dest_port),
    )
}

#[derive(Serialize)]
struct JsonConn<'a> {
    protocol: &'a str,
    state: &'a str,
    expires: u32,
    client: String,
    #[serde(rename = "virtual")]
    virtual_: String,
    real: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pe_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pe_data: Option<&'a str>,
}

/// One JSON object (a line of JSON Lines output).
pub fn render_json(c: &Connection) -> String {
    serde_json::to_string(&JsonConn {
        protocol: &c.protocol,
        state: &c.state,
        expires: c.expires,
        client: endpoint(c.client_addr, c.client_port),
        virtual_: endpoint(c.virtual_addr, c.virtual_port),
        real: endpoint(c.dest_addr, c.dest_port),
        pe_name: c.pe_name.as_deref(),
        pe_data: c.pe_data.as_deref(),
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn conn() -> Connection {
        Connection {
            protocol: "TCP".into(),
            client_addr: IpAddr::V4(Ipv4Addr::new(10, 9, 9, 1)),
            client_port: 56144,
            virtual_addr: IpAddr::V4(Ipv4Addr::new(10, 9, 9, 100)),
            virtual_port: 80,
            dest_addr: IpAddr::V4(Ipv4Addr::new(10, 9, 9, 2)),
            dest_port: 8080,
            state: "ESTABLISHED".into(),
            expires: 899,
            pe_name: None,
            pe_data: None,
        }
    }

    #[test]
    fn filters_by_each_field() {
        let c = conn();
        let vip = IpAddr::V4(Ipv4Addr::new(10, 9, 9, 100));
        assert!(ConnFilter::default().matches(&c));
        let f = ConnFilter {
            service: Some((vip, Some(80))),
            state: Some("established".into()),
            ..ConnFilter::default()
        };
        assert!(f.matches(&c));
        let f = ConnFilter {
            service: Some((vip, Some(81))),
            ..ConnFilter::default()
        };
        assert!(!f.matches(&c));
        let f = ConnFilter {
            real: Some((IpAddr::V4(Ipv4Addr::new(10, 9, 9, 2)), None)),
            ..ConnFilter::default()
        };
        assert!(f.matches(&c));
        let f = ConnFilter {
            state: Some("SYN_RECV".into()),
            ..ConnFilter::default()
        };
        assert!(!f.matches(&c));
    }

    #[test]
    fn renders_text_and_json() {
        assert_eq!(
            render_row(&conn()),
            "TCP    14:59  ESTABLISHED  10.9.9.1:56144          10.9.9.100:80           10.9.9.2:8080"
        );
        assert_eq!(
            render_json(&conn()),
            r#"{"protocol":"TCP","state":"ESTABLISHED","expires":899,"client":"10.9.9.1:56144","virtual":"10.9.9.100:80","real":"10.9.9.2:8080"}"#
        );
    }
}
