//! `update`: the only place the dashboard's state changes. Pure: no I/O, no clock; side
//! effects come back as [`Command`]s for the runtime to carry out.

use std::time::Duration;

use crate::ipvs::{DestKey, ServiceKey};
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Mode, Status, View};
use crate::tui::conns::ConnSort;
use crate::tui::format;
use crate::tui::ops;
use crate::tui::reconcile;
use crate::tui::rows::{RateSource, RowKey, SortColumn};
use crate::tui::snapshot::CollectError;

/// Bounds of the refresh interval: faster floods the kernel's mutex with dumps, slower is
/// no longer "live".
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);
pub const MAX_INTERVAL: Duration = Duration::from_mins(1);

/// Apply one action; return what the outside world must do about it.
pub fn update(app: &mut App, action: Action) -> Vec<Command> {
    let mut out = match app.mode.clone() {
        Mode::Normal => normal(app, action),
        Mode::Help => help(app, action),
        Mode::Filter => filter(app, action),
        Mode::EditWeight {
            service,
            dest,
            input,
        } => edit_weight(app, action, service, dest, input),
        Mode::Confirm(_) => confirm(app, action),
    };
    if !app.quit {
        out.extend(reconcile::screen(app));
        out.extend(reconcile::conns(app));
        out.extend(reconcile::details(app));
    }
    out
}

fn help(app: &mut App, action: Action) -> Vec<Command> {
    match action {
        Action::Quit => return quit(app),
        Action::ToggleHelp | Action::Cancel | Action::Submit => app.mode = Mode::Normal,
        other if is_data(&other) => return data(app, other),
        _ => {}
    }
    Vec::new()
}

fn edit_weight(
    app: &mut App,
    action: Action,
    service: ServiceKey,
    dest: DestKey,
    mut input: String,
) -> Vec<Command> {
    match action {
        // Ten digits reach past i32::MAX, which `submit_weight` then refuses.
        Action::Input(c) if c.is_ascii_digit() && input.len() < 10 => input.push(c),
        Action::Backspace => {
            input.pop();
        }
        Action::Submit => {
            ops::submit_weight(app, service, dest, &input);
            return Vec::new();
        }
        Action::Cancel => {
            app.mode = Mode::Normal;
            return Vec::new();
        }
        Action::Quit => return quit(app),
        other => return data(app, other),
    }
    app.mode = Mode::EditWeight {
        service,
        dest,
        input,
    };
    Vec::new()
}

fn confirm(app: &mut App, action: Action) -> Vec<Command> {
    match action {
        Action::Confirm | Action::Submit => ops::confirm(app),
        Action::Cancel => {
            app.mode = Mode::Normal;
            app.set_status("cancelled", false);
            Vec::new()
        }
        Action::Quit => quit(app),
        other => data(app, other),
    }
}

fn is_data(a: &Action) -> bool {
    matches!(
        a,
        Action::Snapshot(_)
            | Action::TableRead { .. }
            | Action::Unchanged { .. }
            | Action::Conns(_)
            | Action::CollectFailed(_)
            | Action::Applied { .. }
            | Action::Resize { .. }
    )
}

fn quit(app: &mut App) -> Vec<Command> {
    app.quit = true;
    vec![Command::Quit]
}

/// Data arriving from the collector or the terminal, whatever the mode.
fn data(app: &mut App, action: Action) -> Vec<Command> {
    match action {
        Action::Snapshot(s) => app.apply_snapshot(*s),
        Action::TableRead { at, read } => app.take_read(at, *read),
        Action::Unchanged { at } => app.unchanged(at),
        Action::Conns(c) => app.take_conns(*c),
        Action::CollectFailed(CollectError::Unavailable { errno, message }) => {
            app.unavailable = Some(unavailable_text(errno, &message));
        }
        Action::CollectFailed(CollectError::Poll(message)) => {
            app.status = Some(Status {
                text: format!("refresh failed: {message}"),
                error: true,
                from_poll: true,
            });
        }
        Action::Applied { label, results } => ops::applied(app, &label, &results),
        Action::Resize { width, height } => {
            app.width = width;
            // Header (2), table header (1), status and footer (2).
            app.page = usize::from(height.saturating_sub(5)).max(1);
        }
        _ => {}
    }
    Vec::new()
}

/// What to tell an operator when IPVS cannot be reached at all. Known causes are worded
/// from the errno alone (the error's own text may already carry advice, and saying it
/// twice reads badly); unknown ones show the error as it came.
pub fn unavailable_text(errno: i32, message: &str) -> String {
    let known = match errno {
        libc::EPERM | libc::EACCES => {
            Some("lvsctl top needs root (CAP_NET_ADMIN) to read the IPVS tables. Run it with sudo.")
        }
        libc::ENOPROTOOPT | libc::ENOENT | libc::EAFNOSUPPORT => {
            Some("The IPVS kernel module (ip_vs) is not loaded. Load it with `modprobe ip_vs`.")
        }
        _ => None,
    };
    let (headline, hint) = match known {
        Some(hint) => (
            format!(
                "Cannot reach IPVS: {}",
                std::io::Error::from_raw_os_error(errno)
            ),
            hint,
        ),
        None => (message.to_owned(), "IPVS is not available on this host."),
    };
    format!("{headline}\n\n{hint}\n\nRetrying every refresh interval; press q to quit.")
}

fn normal(app: &mut App, action: Action) -> Vec<Command> {
    match action {
        Action::Quit => return quit(app),
        Action::ShowView(v) => app.view = v,
        Action::NextView => app.view = cycle(&View::ALL, app.view, 1),
        Action::PrevView => app.view = cycle(&View::ALL, app.view, View::ALL.len() - 1),
        Action::ToggleHelp => app.mode = Mode::Help,
        Action::TogglePause
        | Action::Faster
        | Action::Slower
        | Action::ToggleNumeric
        | Action::TogglePackets
        | Action::ToggleRateSource => return settings(app, &action),
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => navigate(app, &action),
        Action::ToggleCollapse | Action::CollapseAll | Action::ExpandAll => collapse(app, &action),
        Action::SortNext | Action::ReverseSort => sort(app, &action),
        Action::ToggleFollow => app.conns.follow = !app.conns.follow,
        Action::StartFilter => app.mode = Mode::Filter,
        Action::Cancel => app.status = None,
        Action::SetWeight
        | Action::Drain
        | Action::RestoreWeight
        | Action::RemoveDest
        | Action::ZeroService
        | Action::ZeroAll => ops::request(app, &action),
        other => return data(app, other),
    }
    Vec::new()
}

/// The element `step` places after `current` in `all`, wrapping around.
fn cycle<T: Copy + PartialEq>(all: &[T], current: T, step: usize) -> T {
    let i = all.iter().position(|v| *v == current).unwrap_or(0);
    all.get((i + step) % all.len().max(1))
        .copied()
        .unwrap_or(current)
}

/// How and how often the data is fetched and shown.
fn settings(app: &mut App, action: &Action) -> Vec<Command> {
    match action {
        Action::TogglePause => {
            app.paused = !app.paused;
            app.reset_refresh();
            vec![Command::SetPaused(app.paused)]
        }
        Action::Faster | Action::Slower => {
            let next = if matches!(action, Action::Faster) {
                app.interval / 2
            } else {
                app.interval.saturating_mul(2)
            };
            app.interval = next.clamp(MIN_INTERVAL, MAX_INTERVAL);
            app.reset_refresh();
            let text = format!("refresh every {}", interval_text(app.interval));
            app.set_status(text, false);
            vec![Command::SetInterval(app.interval)]
        }
        Action::ToggleNumeric => {
            app.numeric = !app.numeric;
            app.rebuild_rows();
            vec![Command::SetNames(!app.numeric)]
        }
        Action::TogglePackets => {
            app.packets = !app.packets;
            Vec::new()
        }
        Action::ToggleRateSource => {
            app.source = match app.source {
                RateSource::Delta => RateSource::Kernel,
                RateSource::Kernel => RateSource::Delta,
            };
            app.rebuild_rows();
            Vec::new()
        }
        _ => Vec::new(),
    }
}

pub fn interval_text(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn step(pos: usize, len: usize, action: &Action, page: usize) -> usize {
    let last = len.saturating_sub(1);
    match action {
        Action::Up => pos.saturating_sub(1),
        Action::Down => (pos + 1).min(last),
        Action::PageUp => pos.saturating_sub(page),
        Action::PageDown => (pos + page).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => pos,
    }
}

fn navigate(app: &mut App, action: &Action) {
    match app.view {
        View::Services => {
            app.cursor = step(app.cursor, app.rows.len(), action, app.page);
            app.selected = app.rows.get(app.cursor).map(|r| r.key);
        }
        View::Connections => {
            let len = app.conns.order.len();
            // Three summary lines sit above the connections table.
            let page = app.page.saturating_sub(3).max(1);
            app.conns.cursor = step(app.conns.cursor, len, action, page);
        }
        View::Details => {}
    }
}

fn collapse(app: &mut App, action: &Action) {
    match action {
        Action::ToggleCollapse => {
            if let Some(row) = app.selected_row() {
                let key = row.key.service();
                if !app.collapsed.remove(&key) {
                    app.collapsed.insert(key);
                }
                // Keep the cursor on the service when its real servers fold away.
                app.selected = Some(RowKey::Service(key));
            }
        }
        Action::CollapseAll => {
            app.collapsed = app.entries().iter().map(|e| e.service.key).collect();
            app.selected = app.selected.map(|k| RowKey::Service(k.service()));
        }
        _ => app.collapsed.clear(),
    }
    app.rebuild_rows();
}

fn sort(app: &mut App, action: &Action) {
    if app.view == View::Connections {
        if matches!(action, Action::SortNext) {
            app.conns.sort = cycle(&ConnSort::ALL, app.conns.sort, 1);
            app.conns.descending = false;
        } else {
            app.conns.descending = !app.conns.descending;
        }
        app.resort_conns();
        let text = sorted_text(app.conns.sort.label(), app.conns.descending);
        app.set_status(text, false);
        return;
    }
    if matches!(action, Action::SortNext) {
        app.sort = cycle(&SortColumn::ALL, app.sort, 1);
        app.descending = app.sort.default_descending();
    } else {
        app.descending = !app.descending;
    }
    app.rebuild_rows();
    // Said in words too: at 80 columns the sorted column may not be on screen.
    let mut text = sorted_text(app.sort.label(), app.descending);
    if let Some((what, age)) = sort_staleness(app) {
        text = format!("{text} ({what} {age})");
    }
    app.set_status(text, false);
}

/// What a sort by the current column knows of rows off screen, when that is old: the
/// order comes from the whole table, read in the background.
fn sort_staleness(app: &App) -> Option<(&'static str, String)> {
    let (what, staleness) = match app.sort {
        SortColumn::Weight | SortColumn::Active | SortColumn::InAct | SortColumn::Persist => {
            ("real servers", app.dests_staleness())
        }
        SortColumn::Cps
        | SortColumn::InPps
        | SortColumn::OutPps
        | SortColumn::InBps
        | SortColumn::OutBps => ("services", app.listing_staleness()),
        SortColumn::Name | SortColumn::Health => return None,
    };
    format::staleness(staleness).map(|age| (what, age))
}

fn sorted_text(label: &str, descending: bool) -> String {
    let order = if descending {
        "descending"
    } else {
        "ascending"
    };
    format!("sorted by {label}, {order}")
}

fn filter(app: &mut App, action: Action) -> Vec<Command> {
    let conns = app.view == View::Connections;
    let text = if conns {
        &mut app.conns.filter
    } else {
        &mut app.filter
    };
    match action {
        Action::Input(c) if !c.is_control() && text.chars().count() < 200 => text.push(c),
        Action::Backspace => {
            text.pop();
        }
        Action::Submit => app.mode = Mode::Normal,
        Action::Cancel => {
            text.clear();
            app.mode = Mode::Normal;
        }
        Action::Quit => return quit(app),
        other => return data(app, other),
    }
    if !conns {
        app.rebuild_rows();
    }
    Vec::new()
}
