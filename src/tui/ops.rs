//! The kernel actions: from a key press on a selected row to a confirmation popup, and from
//! the user's yes to [`Op`]s for the collector.
//!
//! Every write is confirmed first and refused in `--read-only` mode, here in one place, so
//! no key binding can reach the kernel by another path.

use crate::ipvs::{Dest, DestKey, Op, ServiceKey};
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Mode, Pending};
use crate::tui::format;
use crate::tui::rows::RowKey;

/// The message shown when a write is attempted in read-only mode.
pub const READ_ONLY: &str = "read-only mode: changes are disabled (started with --read-only)";

fn selected_dest(app: &App) -> Option<(ServiceKey, Dest)> {
    let row = app.selected_row()?;
    let RowKey::Dest(svc, _) = row.key else {
        return None;
    };
    Some((svc, app.dest(row)?.clone()))
}

fn dest_label(app: &App, svc: &ServiceKey, dest: &DestKey) -> String {
    format!(
        "{} in {}",
        format::dest_key(svc, dest, app.names()),
        format::service_key(svc, app.names())
    )
}

fn weight_change(app: &App, svc: ServiceKey, dest: &Dest, weight: i32, verb: &str) -> Pending {
    let mut new = dest.clone();
    new.weight = weight;
    let who = dest_label(app, &svc, &dest.key());
    Pending {
        question: format!("{verb} {who}: weight {} -> {weight}?", dest.weight),
        label: format!(
            "{verb} {}",
            format::dest_key(&svc, &dest.key(), app.names())
        ),
        ops: vec![Op::EditDest(svc, new)],
        remember: (dest.weight > 0 && dest.weight != weight).then_some((
            svc,
            dest.key(),
            dest.weight,
        )),
    }
}

/// A kernel action key: open the matching popup (or say why not).
pub fn request(app: &mut App, action: &Action) {
    if app.options.read_only {
        app.set_status(READ_ONLY, true);
        return;
    }
    let need_dest = "select a real server first";
    match action {
        Action::SetWeight => match selected_dest(app) {
            Some((service, d)) => {
                app.mode = Mode::EditWeight {
                    service,
                    dest: d.key(),
                    // Empty, not prefilled: typing a number should not append to the old one.
                    input: String::new(),
                };
            }
            None => app.set_status(need_dest, true),
        },
        Action::Drain => match selected_dest(app) {
            Some((_, d)) if d.weight == 0 => {
                app.set_status(format!("{} is already drained", d.key()), true);
            }
            Some((svc, d)) => app.mode = Mode::Confirm(weight_change(app, svc, &d, 0, "Drain")),
            None => app.set_status(need_dest, true),
        },
        Action::RestoreWeight => match selected_dest(app) {
            Some((svc, d)) => match app.saved_weights.get(&(svc, d.key())) {
                Some(&w) => {
                    app.mode = Mode::Confirm(weight_change(app, svc, &d, w, "Restore"));
                }
                None => {
                    app.set_status(format!("no earlier weight of {} to restore", d.key()), true);
                }
            },
            None => app.set_status(need_dest, true),
        },
        Action::RemoveDest => match selected_dest(app) {
            Some((svc, d)) => {
                let who = dest_label(app, &svc, &d.key());
                app.mode = Mode::Confirm(Pending {
                    question: format!("Remove real server {who}?"),
                    label: format!("Remove {}", format::dest_key(&svc, &d.key(), app.names())),
                    ops: vec![Op::DelDest(svc, d.key())],
                    remember: None,
                });
            }
            None => app.set_status(need_dest, true),
        },
        Action::ZeroService => match app.selected_row().map(|r| r.key.service()) {
            Some(svc) => {
                let name = format::service_key(&svc, app.names());
                app.mode = Mode::Confirm(Pending {
                    question: format!("Zero the counters of {name} and its real servers?"),
                    label: format!("Zero {name}"),
                    ops: vec![Op::Zero(Some(svc))],
                    remember: None,
                });
            }
            None => app.set_status("no service selected", true),
        },
        Action::ZeroAll => {
            app.mode = Mode::Confirm(Pending {
                question: "Zero the counters of ALL services?".to_owned(),
                label: "Zero all counters".to_owned(),
                ops: vec![Op::Zero(None)],
                remember: None,
            });
        }
        _ => {}
    }
}

/// Enter in the weight editor: validate, then ask for confirmation.
pub fn submit_weight(app: &mut App, service: ServiceKey, dest: DestKey, input: &str) {
    let Ok(weight) = input
        .trim()
        .parse::<i32>()
        .map_err(|_| ())
        .and_then(|w| if w >= 0 { Ok(w) } else { Err(()) })
    else {
        app.set_status(
            format!("weight must be a whole number from 0 to {}", i32::MAX),
            true,
        );
        return;
    };
    let current = app
        .snapshot
        .as_ref()
        .and_then(|s| s.entries.iter().find(|e| e.service.key == service))
        .and_then(|e| e.dests.iter().find(|d| d.key() == dest))
        .cloned();
    if let Some(d) = current {
        app.mode = Mode::Confirm(weight_change(app, service, &d, weight, "Set weight of"));
    } else {
        app.mode = Mode::Normal;
        app.set_status(format!("{dest} is gone from the table"), true);
    }
}

/// `y`/Enter in a confirmation popup: hand the ops to the collector.
pub fn confirm(app: &mut App) -> Vec<Command> {
    let Mode::Confirm(pending) = std::mem::replace(&mut app.mode, Mode::Normal) else {
        return Vec::new();
    };
    if app.options.read_only {
        app.set_status(READ_ONLY, true);
        return Vec::new();
    }
    if let Some((svc, dest, weight)) = pending.remember {
        app.saved_weights.insert((svc, dest), weight);
    }
    app.set_status(format!("{}: sent", pending.label), false);
    vec![Command::Apply {
        label: pending.label,
        ops: pending.ops,
    }]
}

/// The collector's answer to an `Apply`.
pub fn applied(app: &mut App, label: &str, results: &[Result<(), String>]) {
    let errors: Vec<&str> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(String::as_str))
        .collect();
    if errors.is_empty() {
        app.set_status(format!("{label}: done"), false);
    } else {
        app.set_status(format!("{label} failed: {}", errors.join("; ")), true);
    }
}
