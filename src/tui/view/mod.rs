//! `render`: a pure function from [`App`] to a frame. One module per view and one for the
//! popups; this one lays out the frame and draws the header, status line and footer.

mod connections;
mod details;
mod popup;
mod services;
mod theme;

#[cfg(test)]
mod background_tests;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::{App, Mode, View};
use crate::tui::format::{self, count_opt};
use crate::tui::rows::RateSource;
use crate::tui::update::interval_text;
use crate::units::count;

pub use theme::Theme;

/// Draw the whole dashboard.
pub fn render(app: &App, frame: &mut Frame<'_>) {
    let theme = Theme {
        color: !app.options.no_color,
    };
    let [header, body, status, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_header(app, theme, frame, header);
    if let Some(text) = &app.unavailable {
        let p = Paragraph::new(text.as_str())
            .style(theme.error())
            .wrap(Wrap { trim: false });
        frame.render_widget(p, body.inner(ratatui::layout::Margin::new(2, 1)));
    } else {
        match app.view {
            View::Services => services::render(app, theme, frame, body),
            View::Connections => connections::render(app, theme, frame, body),
            View::Details => details::render(app, theme, frame, body),
        }
    }
    render_status(app, theme, frame, status);
    render_footer(app, theme, frame, footer);
    popup::render(app, theme, frame);
}

fn render_header(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let mut tabs = vec![Span::styled(" lvsctl top ", theme.title())];
    for (i, v) in View::ALL.iter().enumerate() {
        let text = format!(" {} {} ", i + 1, v.title());
        let style = if *v == app.view {
            theme.tab_active()
        } else {
            theme.dim()
        };
        tabs.push(Span::styled(text, style));
    }
    let mut state = vec![if app.paused {
        "paused".to_owned()
    } else if let Some(r) = app.slowed_refresh() {
        // Refreshing less often than asked, to stay within the CPU budget.
        format!("every ~{}s (slowed)", r.as_secs_f64().round())
    } else {
        format!("every {}", interval_text(app.interval))
    }];
    if let Some(age) = format::staleness(app.dests_staleness()) {
        // The totals below count real servers read by the background sweep.
        state.push(format!("totals {age}"));
    }
    if app.snapshot.as_ref().is_some_and(|s| s.idle) && !app.paused {
        // Nothing moves: the screen's rows are read every few refreshes (see `collector`).
        state.push("idle".to_owned());
    }
    if app.options.demo {
        state.push("demo".to_owned());
    }
    if app.options.read_only {
        state.push("read-only".to_owned());
    }
    if app.numeric {
        state.push("-n".to_owned());
    }
    tabs.push(Span::raw(format!("  {}", state.join(" · "))));
    let totals = totals_line(app);
    let lines = vec![Line::from(tabs), Line::styled(totals, theme.dim())];
    frame.render_widget(Paragraph::new(lines), area);
}

/// `/proc/net/ip_vs_stats` totals plus table size, on one line.
fn totals_line(app: &App) -> String {
    let Some(snap) = &app.snapshot else {
        return " waiting for the first refresh…".to_owned();
    };
    let services = app.entries().len();
    let dests: usize = app.entries().iter().map(|e| e.dests.len()).sum();
    let table = format!("{} svc {} rs", count(services as u64), count(dests as u64));
    let Some(g) = snap.global else {
        return format!(" totals unavailable (/proc/net/ip_vs_stats) │ {table}");
    };
    let r = match app.source {
        RateSource::Delta => app.global_delta,
        RateSource::Kernel => Some(g.rates),
    };
    let (cps, inp, inb, outp, outb) = match r {
        Some(r) => (
            count(r.cps),
            count(r.inpps),
            count(r.inbps),
            count(r.outpps),
            count(r.outbps),
        ),
        None => ("-".into(), "-".into(), "-".into(), "-".into(), "-".into()),
    };
    format!(
        " Σ {} conns {cps}/s │ in {inp} pkt/s {inb}B/s │ out {outp} pkt/s {outb}B/s │ {table}",
        count(g.stats.conns)
    )
}

fn render_status(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let line = match (&app.mode, &app.status) {
        (Mode::Filter, _) => {
            let text = if app.view == View::Connections {
                &app.conns.filter
            } else {
                &app.filter
            };
            let mut hint = "  Enter keep · Esc clear".to_owned();
            // A filter on the Services view matches real servers off screen too.
            if app.view == View::Services
                && let Some(age) = format::staleness(app.dests_staleness())
            {
                hint = format!("{hint} · real servers {age}");
            }
            Line::from(vec![
                Span::styled(" / ", theme.key()),
                Span::raw(format!("{text}█")),
                Span::styled(hint, theme.dim()),
            ])
        }
        (_, Some(s)) => {
            let style = if s.error { theme.error() } else { theme.ok() };
            Line::styled(format!(" {}", s.text), style)
        }
        _ => Line::raw(format!(" {}", selection_summary(app))),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// One line about the selected row: what the table has no room for.
fn selection_summary(app: &App) -> String {
    if app.view != View::Services {
        return String::new();
    }
    let Some(row) = app.selected_row() else {
        return String::new();
    };
    let Some(entry) = app.entry(row) else {
        return String::new();
    };
    let stats = app.dest(row).map_or(entry.service.stats, |d| d.stats);
    let what = match app.dest(row) {
        Some(d) => format!(
            "{} {} weight {}",
            format::dest_key(&entry.service.key, &d.key(), app.names()),
            format::forward(d.fwd),
            d.weight
        ),
        None => format!(
            "{} {} {}",
            format::service_key(&entry.service.key, app.names()),
            entry.service.scheduler,
            format::service_flags(&entry.service)
        ),
    };
    let health = app.dest(row).and_then(|d| {
        let h = app
            .snapshot
            .as_ref()?
            .health
            .get(&(entry.service.key, d.key()))?;
        let mut text = format!("health {}", h.state.label());
        if let Some(l) = h.latency {
            let _ = write!(text, " {}ms", l.as_millis());
        }
        if let Some(r) = &h.last_result {
            let _ = write!(text, " {r}");
        }
        Some(format!("{text} │ "))
    });
    format!(
        "{what} │ {}total {} conns, in {} pkts {}B, out {} pkts {}B",
        health.unwrap_or_default(),
        count(stats.conns),
        count(stats.inpkts),
        count(stats.inbytes),
        count(stats.outpkts),
        count(stats.outbytes)
    )
}

fn render_footer(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    let mut hints: Vec<(&str, String)> = vec![("?", "help".into()), ("q", "quit".into())];
    hints.push(("/", "filter".into()));
    match app.view {
        View::Services => {
            hints.push(("s", "sort".into()));
            hints.push(("␣", "fold".into()));
            if !app.options.read_only {
                hints.push(("w", "weight".into()));
                hints.push(("d", "drain".into()));
                hints.push(("u", "restore".into()));
                hints.push(("x", "remove".into()));
                hints.push(("z", "zero".into()));
            }
            hints.push(("r", rate_label(app.source).into()));
            if area.width < 140 {
                hints.push(("b", if app.packets { "bytes" } else { "packets" }.into()));
            }
        }
        View::Connections => {
            hints.push(("s", format!("sort:{}", app.conns.sort.label())));
            hints.push(("f", if app.conns.follow { "all" } else { "follow" }.into()));
        }
        View::Details => {}
    }
    hints.push(("p", if app.paused { "resume" } else { "pause" }.into()));
    hints.push(("+-", "interval".into()));
    // Most important first; whatever does not fit is left to the `?` help.
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, what) in hints {
        let len = key.chars().count() + what.chars().count() + 2;
        if used + len > usize::from(area.width) {
            break;
        }
        used += len;
        spans.push(Span::styled(format!(" {key}"), theme.key()));
        spans.push(Span::raw(format!(" {what}")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

const fn rate_label(source: RateSource) -> &'static str {
    match source {
        RateSource::Delta => "kernel-rates",
        RateSource::Kernel => "delta-rates",
    }
}

/// `count` of an optional value, for table cells.
pub(crate) fn cell(n: Option<u64>) -> String {
    count_opt(n)
}
