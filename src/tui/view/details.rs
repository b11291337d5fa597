//! The Details view: what rarely changes but explains behaviour — IPVS version and
//! connection table size, timeouts, sync daemons, and the sysctls that decide what happens
//! to connections of removed or drained real servers.

use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::ipvs::{DaemonRole, SyncDaemon};
use crate::tui::app::App;
use crate::tui::view::Theme;

/// Shown first, in this order: the sysctls operators of a director most often need.
const IMPORTANT: [&str; 6] = [
    "conntrack",
    "expire_nodest_conn",
    "expire_quiescent_template",
    "sloppy_tcp",
    "schedule_icmp",
    "conn_reuse_mode",
];

pub fn render(app: &App, theme: Theme, frame: &mut Frame<'_>, area: Rect) {
    // The sysctl column needs about 36 cells; the kernel facts get the rest and wrap.
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(38)]).areas(area);
    frame.render_widget(
        Paragraph::new(kernel_lines(app, theme))
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" IPVS ")),
        left,
    );
    frame.render_widget(
        Paragraph::new(sysctl_lines(app, theme))
            .block(Block::bordered().title(" sysctl net.ipv4.vs ")),
        right,
    );
}

fn kv(theme: Theme, key: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{key:<16}"), theme.dim()),
        Span::raw(value),
    ])
}

fn err_line(theme: Theme, key: &str, e: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{key:<16}"), theme.dim()),
        Span::styled(e.to_owned(), theme.error()),
    ])
}

fn kernel_lines(app: &App, theme: Theme) -> Vec<Line<'static>> {
    let Some(snap) = &app.snapshot else {
        return vec![Line::raw("waiting for the first refresh…")];
    };
    let d = &snap.details;
    let mut lines = Vec::new();
    match &d.info {
        Some(Ok(info)) => {
            let (a, b, c) = info.version_triple();
            lines.push(kv(theme, "version", format!("{a}.{b}.{c}")));
            lines.push(kv(theme, "conn table size", info.conn_tab_size.to_string()));
        }
        Some(Err(e)) => lines.push(err_line(theme, "version", e)),
        None => {}
    }
    match &d.timeouts {
        Some(Ok(t)) => lines.push(kv(
            theme,
            "timeouts",
            format!("tcp {}s tcpfin {}s udp {}s", t.tcp, t.tcp_fin, t.udp),
        )),
        Some(Err(e)) => lines.push(err_line(theme, "timeouts", e)),
        None => {}
    }
    match &d.daemons {
        Some(Ok(list)) if list.is_empty() => lines.push(kv(theme, "sync daemon", "none".into())),
        Some(Ok(list)) => {
            for daemon in list {
                lines.push(kv(theme, "sync daemon", daemon_text(daemon)));
            }
        }
        Some(Err(e)) => lines.push(err_line(theme, "sync daemon", e)),
        None => {}
    }
    let services = app.entries().len();
    let dests: usize = app.entries().iter().map(|e| e.dests.len()).sum();
    let mut table = format!("{services} services, {dests} real servers");
    if let Some(age) = crate::tui::format::staleness(app.dests_staleness()) {
        table = format!("{table} (real servers {age})");
    }
    lines.push(kv(theme, "table", table));
    lines
}

/// One daemon as `ipvsadm --list --daemon` would describe it, optional parts only when set.
fn daemon_text(daemon: &SyncDaemon) -> String {
    let role = match daemon.role() {
        Some(DaemonRole::Master) => "master",
        Some(DaemonRole::Backup) => "backup",
        None => "?",
    };
    let mut text = format!("{role} on {} syncid {}", daemon.mcast_ifn, daemon.syncid);
    if let Some(g) = daemon.mcast_group {
        let _ = write!(text, " group {g}");
    }
    if let Some(p) = daemon.mcast_port {
        let _ = write!(text, " port {p}");
    }
    if let Some(t) = daemon.mcast_ttl {
        let _ = write!(text, " ttl {t}");
    }
    if let Some(m) = daemon.sync_maxlen {
        let _ = write!(text, " maxlen {m}");
    }
    text
}

fn sysctl_lines(app: &App, theme: Theme) -> Vec<Line<'static>> {
    let Some(snap) = &app.snapshot else {
        return Vec::new();
    };
    match &snap.details.sysctls {
        Some(Ok(list)) => {
            let mut sorted: Vec<&(String, String)> = list.iter().collect();
            let rank = |name: &str| {
                IMPORTANT
                    .iter()
                    .position(|i| *i == name)
                    .unwrap_or(IMPORTANT.len())
            };
            sorted.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then(a.0.cmp(&b.0)));
            sorted
                .into_iter()
                .map(|(k, v)| {
                    let style = if rank(k) < IMPORTANT.len() {
                        theme.service()
                    } else {
                        theme.dim()
                    };
                    Line::from(vec![
                        Span::styled(format!("{k:<26}"), style),
                        Span::raw(v.clone()),
                    ])
                })
                .collect()
        }
        Some(Err(e)) => vec![Line::styled(e.clone(), theme.error())],
        None => Vec::new(),
    }
}
