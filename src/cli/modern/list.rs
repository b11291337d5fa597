//! `lvsctl list`: the table for people (comfy-table, colour on a TTY unless NO_COLOR) and
//! the versioned JSON document for scripts.

use std::net::IpAddr;

use comfy_table::{Cell, CellAlignment, Color, ContentArrangement, Table, presets};

use crate::ipvs::model::{Dest, Service, ServiceEntry, ServiceKey};
use crate::schema::{self, forward_name, sched_flag_names};
use crate::units;

/// How the human table is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    /// Terminal width to wrap to; `None` lets the table be as wide as it needs.
    pub width: Option<u16>,
}

/// Numeric `addr:port`, IPv6 bracketed (the model's one rendering of a real server key).
fn addr_port(addr: IpAddr, port: u16) -> String {
    crate::ipvs::DestKey { addr, port }.to_string()
}

fn service_label(key: &ServiceKey) -> String {
    key.to_string()
}

fn service_mode(s: &Service) -> String {
    let mut parts = vec![s.scheduler.to_string()];
    let flags = sched_flag_names(s.scheduler.as_str(), s.flags.sched_bits());
    if !flags.is_empty() {
        parts.push(flags.join(","));
    }
    if s.flags.persistent() {
        parts.push(format!("persist {}s", s.timeout));
    }
    if let Some(pe) = &s.pe_name {
        parts.push(format!("pe {pe}"));
    }
    if s.flags.one_packet() {
        parts.push("ops".to_owned());
    }
    parts.join(" ")
}

fn number_cells(stats: &crate::ipvs::model::Stats, rates: &crate::ipvs::model::Rates) -> Vec<Cell> {
    [
        units::count(stats.conns),
        units::count(stats.inpkts),
        units::count(stats.outpkts),
        units::bytes(stats.inbytes),
        units::bytes(stats.outbytes),
        units::count(rates.cps),
        format!("{}/s", units::bytes(rates.inbps)),
        format!("{}/s", units::bytes(rates.outbps)),
    ]
    .into_iter()
    .map(|t| Cell::new(t).set_alignment(CellAlignment::Right))
    .collect()
}

fn service_row(s: &Service, dests: &[Dest], style: Style) -> Vec<Cell> {
    let active: u64 = dests.iter().map(|d| u64::from(d.active_conns)).sum();
    let inactive: u64 = dests.iter().map(|d| u64::from(d.inact_conns)).sum();
    let mut label = Cell::new(service_label(&s.key));
    if style.color {
        label = label.fg(Color::Cyan);
    }
    let mut row = vec![
        label,
        Cell::new(service_mode(s)),
        Cell::new(""),
        Cell::new(active).set_alignment(CellAlignment::Right),
        Cell::new(inactive).set_alignment(CellAlignment::Right),
    ];
    row.extend(number_cells(&s.stats, &s.rates));
    row
}

fn dest_row(d: &Dest, style: Style) -> Vec<Cell> {
    let mut weight = Cell::new(d.weight).set_alignment(CellAlignment::Right);
    if style.color && d.weight == 0 {
        weight = weight.fg(Color::Yellow);
    }
    let mut row = vec![
        Cell::new(format!("  -> {}", addr_port(d.addr, d.port))),
        Cell::new(forward_name(d.fwd)),
        weight,
        Cell::new(d.active_conns).set_alignment(CellAlignment::Right),
        Cell::new(d.inact_conns).set_alignment(CellAlignment::Right),
    ];
    row.extend(number_cells(&d.stats, &d.rates));
    row
}

/// The human table: one row per service, its real servers indented below it.
pub fn render_table(entries: &[ServiceEntry], style: Style) -> String {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    if let Some(width) = style.width {
        table
            .set_width(width)
            .set_content_arrangement(ContentArrangement::Dynamic);
    }
    if !style.color {
        table.force_no_tty();
    }
    table.set_header(
        [
            "SERVICE / REAL SERVER",
            "SCHED / FWD",
            "WEIGHT",
            "ACTIVE",
            "INACT",
            "CONNS",
            "INPKTS",
            "OUTPKTS",
            "INBYTES",
            "OUTBYTES",
            "CPS",
            "IN/S",
            "OUT/S",
        ]
        .map(|h| Cell::new(h).set_alignment(CellAlignment::Left)),
    );
    for entry in entries {
        table.add_row(service_row(&entry.service, &entry.dests, style));
        for d in &entry.dests {
            table.add_row(dest_row(d, style));
        }
    }
    let mut out = table.trim_fmt();
    out.push('\n');
    out
}

/// The JSON document (pretty, with a trailing newline).
pub fn render_json(entries: &[ServiceEntry]) -> String {
    let mut text = serde_json::to_string_pretty(&schema::to_table(entries))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::model::{ForwardMethod, Protocol, Scheduler, ServiceFlags};
    use std::net::Ipv4Addr;

    fn entries() -> Vec<ServiceEntry> {
        let mut svc = Service::new(ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            port: 80,
        });
        svc.scheduler = Scheduler::new("rr");
        svc.flags = ServiceFlags(ServiceFlags::PERSISTENT);
        svc.timeout = 300;
        svc.stats.conns = 12_345;
        svc.stats.inbytes = 5 * 1024 * 1024;
        svc.rates.cps = 12;
        let mut a = Dest::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1)), 80);
        a.active_conns = 7;
        let mut b = Dest::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 2)), 8080);
        b.fwd = ForwardMethod::Masq;
        b.weight = 0;
        vec![ServiceEntry {
            service: svc,
            dests: vec![a, b],
        }]
    }

    #[test]
    fn human_table() {
        insta::assert_snapshot!(render_table(&entries(), Style::default()));
    }

    #[test]
    fn json_document() {
        insta::assert_snapshot!(render_json(&entries()));
    }
}
