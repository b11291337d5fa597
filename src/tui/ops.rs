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

fn selected_dest(app: &App) -> Result<(ServiceKey, Dest), String> {
    let row = app.selected_row().ok_or(NEED_DEST)?;
    let RowKey::Dest(svc, _) = row.key else {
        return Err(NEED_DEST.to_owned());
    };
    let dest = app.dest(row).ok_or(NEED_DEST)?;
    Ok((svc, dest.clone()))
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

const NEED_DEST: &str = "select a real server first";

/// A kernel action key: open the matching popup (or say why not).
pub fn request(app: &mut App, action: &Action) {
    if app.options.read_only {
        app.set_status(READ_ONLY, true);
        return;
    }
    let outcome = match action {
        Action::SetWeight => selected_dest(app).map(|(service, d)| Mode::EditWeight {
            service,
            dest: d.key(),
            // Empty, not prefilled: typing a number should not append to the old one.
            input: String::new(),
        }),
        Action::Drain => drain(app),
        Action::RestoreWeight => restore(app),
        Action::RemoveDest => selected_dest(app).map(|(svc, d)| {
            let who = dest_label(app, &svc, &d.key());
            Mode::Confirm(Pending {
                question: format!("Remove real server {who}?"),
                label: format!("Remove {}", format::dest_key(&svc, &d.key(), app.names())),
                ops: vec![Op::DelDest(svc, d.key())],
                remember: None,
            })
        }),
        Action::ZeroService => zero_service(app),
        Action::ZeroAll => Ok(Mode::Confirm(Pending {
            question: "Zero the counters of ALL services?".to_owned(),
            label: "Zero all counters".to_owned(),
            ops: vec![Op::Zero(None)],
            remember: None,
        })),
        _ => return,
    };
    match outcome {
        Ok(mode) => app.mode = mode,
        Err(why) => app.set_status(why, true),
    }
}

fn drain(app: &App) -> Result<Mode, String> {
    let (svc, d) = selected_dest(app)?;
    if d.weight == 0 {
        return Err(format!("{} is already drained", d.key()));
    }
    Ok(Mode::Confirm(weight_change(app, svc, &d, 0, "Drain")))
}

fn restore(app: &App) -> Result<Mode, String> {
    let (svc, d) = selected_dest(app)?;
    let Some(&w) = app.saved_weights.get(&(svc, d.key())) else {
        return Err(format!("no earlier weight of {} to restore", d.key()));
    };
    Ok(Mode::Confirm(weight_change(app, svc, &d, w, "Restore")))
}

fn zero_service(app: &App) -> Result<Mode, String> {
    let svc = app
        .selected_row()
        .map(|r| r.key.service())
        .ok_or("no service selected")?;
    let name = format::service_key(&svc, app.names());
    Ok(Mode::Confirm(Pending {
        question: format!("Zero the counters of {name} and its real servers?"),
        label: format!("Zero {name}"),
        ops: vec![Op::Zero(Some(svc))],
        remember: None,
    }))
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
        .table
        .position(&service)
        .and_then(|i| app.entries().get(i))
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
