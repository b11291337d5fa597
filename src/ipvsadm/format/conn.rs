//! `ipvsadm -c` over already-parsed `/proc/net/ip_vs_conn` rows, one row at a
//! time so the executor can stream a large table.
//!
//! Names are resolved with the row's own protocol (`TCP`/`UDP`/`SCTP`; anything else keeps
//! numeric ports) and are never cut to column widths.

use std::io::{self, Write};

use super::addr::{addrport, push_left};
use crate::ipvs::model::Connection;
use crate::names::Resolver;

/// `IPVS connection entries` and the column titles (wider with `--persistent-conn`).
pub fn write_conn_header(out: &mut dyn Write, persistent_conn: bool) -> io::Result<()> {
    writeln!(out, "IPVS connection entries")?;
    if persistent_conn {
        writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} pe_data",
            "state", "source", "virtual", "destination", "pe name"
        )
    } else {
        writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} destination",
            "state", "source", "virtual"
        )
    }
}

/// One connection line. The PE columns appear only with `--persistent-conn` and only for
/// rows that carry both a PE name and PE data (ipvsadm checks that all 11 fields parsed).
pub fn write_conn_line(
    out: &mut dyn Write,
    conn: &Connection,
    persistent_conn: bool,
    names: &dyn Resolver,
) -> io::Result<()> {
    let proto = match conn.protocol.as_str() {
        "TCP" => Some("tcp"),
        "UDP" => Some("udp"),
        "SCTP" => Some("sctp"),
        _ => None,
    };
    let client = addrport(conn.client_addr, conn.client_port, proto, names);
    let virt = addrport(conn.virtual_addr, conn.virtual_port, proto, names);
    let dest = addrport(conn.dest_addr, conn.dest_port, proto, names);
    let expire = format!("{:02}:{:02}", conn.expires / 60, conn.expires % 60);

    let mut line = Vec::with_capacity(128);
    push_left(&mut line, conn.protocol.as_bytes(), 3);
    line.push(b' ');
    push_left(&mut line, expire.as_bytes(), 6);
    line.push(b' ');
    push_left(&mut line, conn.state.as_bytes(), 11);
    line.push(b' ');
    push_left(&mut line, &client, 18);
    line.push(b' ');
    push_left(&mut line, &virt, 18);
    line.push(b' ');
    match (&conn.pe_name, &conn.pe_data) {
        (Some(pe_name), Some(pe_data)) if persistent_conn => {
            push_left(&mut line, &dest, 16);
            line.push(b' ');
            push_left(&mut line, pe_name.as_bytes(), 18);
            line.push(b' ');
            line.extend_from_slice(pe_data.as_bytes());
        }
        _ => line.extend_from_slice(&dest),
    }
    line.push(b'\n');
    out.write_all(&line)
}
