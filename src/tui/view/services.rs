//! The Services view: every virtual service with its real servers, their connection
//! counters, rates and a sparkline, sorted, filtered and folded as the user chose.
//!
//! Only the rows on screen are formatted: the row list itself is prepared by `update`.
//! Columns adapt to the width: at 80 columns the essentials (what `ipvsadm -Ln --rate`
//! operators look at first), wider terminals add persistence, thresholds and packet rates.

use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::ipvs::{Dest, ServiceEntry};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::history::spark;
use crate::tui::rows::{SortColumn, ViewRow, view_row_rates, window};
use crate::tui::view::{Theme, cell};
use crate::units::count;

/// One column: its header, its width (the name column fills the rest) and the sort column
/// it shows.
struct Col {
    title: &'static str,
    width: u16,
    sort: Option<SortColumn>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Id {
    Name,
    Mode,
    Weight,
    Active,
    InAct,
    Persist,
    Thresholds,
    Cps,
    InPps,
    OutPps,
    InBps,
    OutBps,
    Health,
    Trend,
}

/// How much room there is: compact below 100 columns (80x24 must work), medium adds
/// persistence, thresholds and a longer trend, wide (140+) adds packet rates.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Compact,
    Medium,
    Wide,
}

fn columns(tier: Tier, health: bool, packets: bool) -> Vec<(Id, Col)> {
    let c = |title, width, sort| Col { title, width, sort };
    let roomy = tier >= Tier::Medium;
    let mut cols = vec![
        (
            Id::Name,
            c("Service / real server", 0, Some(SortColumn::Name)),
        ),
        (Id::Mode, c("Sched", if roomy { 8 } else { 7 }, None)),
        (Id::Weight, c("Wgt", 5, Some(SortColumn::Weight))),
        (
            Id::Active,
            c("Act", if roomy { 6 } else { 5 }, Some(SortColumn::Active)),
        ),
        (
            Id::InAct,
            c("InAct", if roomy { 6 } else { 5 }, Some(SortColumn::InAct)),
        ),
    ];
    if roomy {
        cols.push((Id::Persist, c("Pers", 5, Some(SortColumn::Persist))));
        cols.push((Id::Thresholds, c("u/l thr", 8, None)));
    }
    cols.push((Id::Cps, c("CPS", 5, Some(SortColumn::Cps))));
    if tier == Tier::Wide || packets {
        cols.push((Id::InPps, c("InP/s", 5, Some(SortColumn::InPps))));
        cols.push((Id::OutPps, c("OutP/s", 6, Some(SortColumn::OutPps))));
    }
    if tier == Tier::Wide || !packets {
        cols.push((Id::InBps, c("InB/s", 5, Some(SortColumn::InBps))));
        cols.push((Id::OutBps, c("OutB/s", 6, Some(SortColumn::OutBps))));
    }
    if health {
        let width = match tier {
            Tier::Compact => 8,
            Tier::Medium => 12,
            Tier::Wide => 26,
        };
        cols.push((Id::Health, c("Health", width, Some(SortColumn::Health))));
    }
    let trend = match tier {
        // At 80 columns the health state matters more than the trend.
        Tier::Compact if health => return cols,
        Tier::Compact => 6,
        Tier::Medium => 12,
        Tier::Wide => 20,
    };
    cols.push((Id::Trend, c("Trend", trend, None)));
    cols
}

pub fn render(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    if app.rows.is_empty() {
        let text = match (&app.snapshot, app.filter.is_empty()) {
            (None, _) => "Waiting for the first refresh…".to_owned(),
            (Some(_), true) => "No virtual services are configured.".to_owned(),
            (Some(_), false) => format!("Nothing matches the filter \"{}\".", app.filter),
        };
        frame.render_widget(Paragraph::new(format!("\n  {text}")), area);
        return;
    }
    let tier = match area.width {
        0..100 => Tier::Compact,
        100..140 => Tier::Medium,
        _ => Tier::Wide,
    };
    let health = app.snapshot.as_ref().is_some_and(|s| !s.health.is_empty());
    let cols = columns(tier, health, app.packets);
    let height = usize::from(area.height.saturating_sub(1)).max(1);
    let shown = window(app.cursor, app.rows.len(), height);
    let offset = shown.start;
    let header = Row::new(cols.iter().map(|(_, c)| {
        let mark = match c.sort {
            Some(s) if s == app.sort => {
                if app.descending {
                    "▼"
                } else {
                    "▲"
                }
            }
            _ => "",
        };
        Cell::from(format!("{}{mark}", c.title))
    }))
    .style(theme.table_header());
    let rows = app.rows[shown]
        .iter()
        .filter_map(|r| row(app, theme, &cols, r));
    let widths = cols.iter().map(|(id, c)| {
        if *id == Id::Name {
            Constraint::Fill(1)
        } else {
            Constraint::Length(c.width)
        }
    });
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol(">");
    let mut state = TableState::default().with_selected(Some(app.cursor.saturating_sub(offset)));
    frame.render_stateful_widget(table, area, &mut state);
}

fn row<'a>(app: &App, theme: Theme, cols: &[(Id, Col)], r: &ViewRow) -> Option<Row<'a>> {
    let entry = app.entry(r)?;
    let dest = match r.dest {
        Some(i) => Some(entry.dests.get(i)?),
        None => None,
    };
    let cells = cols
        .iter()
        .map(|(id, c)| text(app, theme, entry, dest, r, *id, c.width));
    let row = Row::new(cells.collect::<Vec<_>>());
    Some(if dest.is_none() {
        row.style(theme.service())
    } else {
        row
    })
}

fn sum(entry: &ServiceEntry, f: fn(&Dest) -> u32) -> u64 {
    entry.dests.iter().map(|d| u64::from(f(d))).sum()
}

fn text<'a>(
    app: &App,
    theme: Theme,
    entry: &ServiceEntry,
    dest: Option<&Dest>,
    r: &ViewRow,
    id: Id,
    width: u16,
) -> Cell<'a> {
    let svc = &entry.service;
    let kernel = dest.map_or(svc.rates, |d| d.rates);
    let rates = view_row_rates(r, kernel, &app.row_params());
    // A service whose real servers the sweep has not reached yet has no sums to show.
    let known = app
        .table
        .read_at()
        .get(r.service)
        .is_some_and(|at| at.dests.is_some());
    let count = |f: fn(&Dest) -> u32| match dest {
        Some(d) => count(u64::from(f(d))),
        None if known => count(sum(entry, f)),
        None => "-".to_owned(),
    };
    let s = match id {
        Id::Name => name_text(app, entry, dest),
        Id::Mode => dest.map_or_else(
            || format::scheduler_short(svc),
            |d| format::forward(d.fwd).to_owned(),
        ),
        Id::Weight => dest.map_or_else(String::new, |d| d.weight.to_string()),
        Id::Active => count(|d| d.active_conns),
        Id::InAct => count(|d| d.inact_conns),
        Id::Persist => count(|d| d.persist_conns),
        Id::Thresholds => dest.map_or_else(String::new, thresholds),
        Id::Cps => cell(rates.map(|r| r.cps)),
        Id::InPps => cell(rates.map(|r| r.inpps)),
        Id::OutPps => cell(rates.map(|r| r.outpps)),
        Id::InBps => cell(rates.map(|r| r.inbps)),
        Id::OutBps => cell(rates.map(|r| r.outbps)),
        Id::Health => return health_cell(app, theme, entry, dest, width),
        Id::Trend => {
            let h = app
                .rates
                .at(r.service, r.dest, &r.key)
                .map(|x| spark(&x.history, usize::from(width)));
            return Cell::from(Span::styled(h.unwrap_or_default(), theme.spark()));
        }
    };
    Cell::from(s)
}

/// Folding mark and service, or an arrow and real server.
fn name_text(app: &App, entry: &ServiceEntry, dest: Option<&Dest>) -> String {
    let names = app.names();
    let key = &entry.service.key;
    match (dest, app.collapsed.contains(key)) {
        (Some(d), _) => format!("  → {}", format::dest_key(key, &d.key(), names)),
        (None, true) => format!(
            "▸ {} ({})",
            format::service_key(key, names),
            entry.dests.len()
        ),
        (None, false) => format!("▾ {}", format::service_key(key, names)),
    }
}

/// `upper/lower` connection thresholds, `-` when neither is set.
fn thresholds(d: &Dest) -> String {
    if d.u_threshold == 0 && d.l_threshold == 0 {
        "-".to_owned()
    } else {
        format!("{}/{}", d.u_threshold, d.l_threshold)
    }
}

fn health_cell<'a>(
    app: &App,
    theme: Theme,
    entry: &ServiceEntry,
    dest: Option<&Dest>,
    width: u16,
) -> Cell<'a> {
    let Some(d) = dest else {
        return Cell::from("");
    };
    let status = app
        .snapshot
        .as_ref()
        .and_then(|s| s.health.get(&(entry.service.key, d.key())));
    let Some(h) = status else {
        return Cell::from("");
    };
    let mut text = h.state.label().to_owned();
    if width > 8
        && let Some(l) = h.latency
    {
        let _ = write!(text, " {}ms", l.as_millis());
    }
    if width > 12
        && let Some(r) = &h.last_result
    {
        let _ = write!(text, " {r}");
    }
    Cell::from(Line::from(Span::styled(text, theme.health(h.state))))
}
