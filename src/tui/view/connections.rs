//! The Connections view: the `ipvsadm -lcn` table for the selected service or real server,
//! with counts by state and by real server over the whole scope.
//!
//! The rows come capped from the collector (see `conns`), so drawing never depends on the
//! size of the kernel's table; only the rows on screen are formatted.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, TableState};

use crate::ipvs::Connection;
use crate::tui::app::App;
use crate::tui::conns::ConnScope;
use crate::tui::format;
use crate::tui::snapshot::ConnSnapshot;
use crate::tui::view::Theme;
use crate::units::count;

pub fn render(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let [summary, table] =
        Layout::vertical([Constraint::Length(3), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(summary_lines(app, theme)), summary);
    let Some(data) = &app.conns.data else {
        frame.render_widget(Paragraph::new("  Reading /proc/net/ip_vs_conn…"), table);
        return;
    };
    if data.rows.is_empty() {
        let text = if data.complete {
            "  No connections match."
        } else {
            "  Reading /proc/net/ip_vs_conn…"
        };
        frame.render_widget(Paragraph::new(text), table);
        return;
    }
    let height = usize::from(table.height.saturating_sub(1)).max(1);
    let cursor = app
        .conns
        .cursor
        .min(app.conns.order.len().saturating_sub(1));
    let offset = cursor.saturating_sub(height - 1);
    // `ipvsadm -lcn --persistent-conn` columns, when there is room and something to show.
    let pe = table.width >= 140 && data.rows.iter().any(|c| c.pe_name.is_some());
    let names = app.names();
    let rows = app
        .conns
        .order
        .iter()
        .skip(offset)
        .take(height)
        .filter_map(|&i| data.rows.get(i))
        .map(|c| conn_row(c, names, pe));
    let (titles, widths) = columns(data, pe);
    let widget = Table::new(rows, widths)
        .header(Row::new(titles).style(theme.table_header()))
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol(">");
    let mut state = TableState::default().with_selected(Some(cursor - offset));
    frame.render_stateful_widget(widget, table, &mut state);
}

fn columns(data: &ConnSnapshot, pe: bool) -> (Vec<&'static str>, Vec<Constraint>) {
    let mut titles = vec!["Pro", "Expire", "State", "Source", "Virtual", "Destination"];
    // ipvsadm pads states to 11 but never cuts them (SCTP has SHUTDOWN_ACK_SENT).
    let state_width = data
        .by_state
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .clamp(11, 17);
    let mut widths = vec![
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Length(state_width as u16),
        Constraint::Fill(2),
        Constraint::Fill(2),
        Constraint::Fill(2),
    ];
    if pe {
        titles.extend(["PE", "PE data"]);
        widths.extend([Constraint::Length(8), Constraint::Fill(1)]);
    }
    (titles, widths)
}

fn conn_row<'a>(c: &Connection, names: Option<&crate::tui::snapshot::Names>, pe: bool) -> Row<'a> {
    let proto = Some(c.protocol.as_str());
    let mut cells = vec![
        c.protocol.clone(),
        format::expire(c.expires),
        c.state.clone(),
        format::endpoint(c.client_addr, c.client_port, proto, names),
        format::endpoint(c.virtual_addr, c.virtual_port, proto, names),
        format::endpoint(c.dest_addr, c.dest_port, proto, names),
    ];
    if pe {
        cells.push(c.pe_name.clone().unwrap_or_default());
        cells.push(c.pe_data.clone().unwrap_or_default());
    }
    Row::new(cells)
}

fn scope_text(app: &App) -> String {
    let names = app.names();
    let scope = app
        .conns
        .query
        .as_ref()
        .map_or(ConnScope::All, |q| q.scope.clone());
    match scope {
        ConnScope::All => "all services".to_owned(),
        ConnScope::Service { key, .. } => format::service_key(&key, names),
        ConnScope::Dest { key, dest } => format!(
            "{} → {}",
            format::service_key(&key, names),
            format::dest_key(&key, &dest, names)
        ),
    }
}

/// How far the read of the table is: `12K of 100K read…` while one is under way (the
/// total from the last complete read), `100K read` when done, and how long ago when that
/// is more than a couple of refreshes (a big table on a slow kernel takes minutes).
fn progress(app: &App, d: &ConnSnapshot) -> String {
    if !d.complete {
        return match d.total {
            Some(total) => format!("{} of {} read…", count(d.seen), count(total)),
            None => format!("{} read…", count(d.seen)),
        };
    }
    let age = app.last_at.map(|now| now.saturating_sub(d.started));
    match age {
        Some(age) if age > app.interval.saturating_mul(2).max(Duration::from_secs(3)) => {
            format!("{} read {} ago", count(d.seen), format::age(age))
        }
        _ => format!("{} read", count(d.seen)),
    }
}

fn summary_lines(app: &App, theme: Theme) -> Vec<Line<'static>> {
    // The sort order is in the footer; this line must fit 80 columns with a dest scope.
    let follow = if app.conns.follow { " (follow)" } else { "" };
    let mut first = vec![
        Span::styled(" scope ", theme.dim()),
        Span::raw(format!("{}{follow}", scope_text(app))),
    ];
    let Some(d) = &app.conns.data else {
        return vec![Line::from(first)];
    };
    first.push(Span::styled(" │ ", theme.dim()));
    first.push(Span::raw(format!(
        "{}/{} shown, {}",
        count(d.rows.len() as u64),
        count(d.matched),
        progress(app, d)
    )));
    let mut states: Vec<(&String, &u64)> = d.by_state.iter().collect();
    states.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let states = states
        .iter()
        .map(|(s, n)| format!("{s} {}", count(**n)))
        .collect::<Vec<_>>()
        .join(" · ");
    let mut dests: Vec<_> = d.by_dest.iter().collect();
    dests.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let dests = dests
        .iter()
        .map(|(k, n)| format!("{k} {}", count(**n)))
        .collect::<Vec<_>>()
        .join(" · ");
    vec![
        Line::from(first),
        Line::from(vec![
            Span::styled(" states ", theme.dim()),
            Span::raw(states),
        ]),
        Line::from(vec![
            Span::styled(" per RS ", theme.dim()),
            Span::raw(dests),
        ]),
    ]
}
