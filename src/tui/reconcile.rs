//! Keeping the collector's reads in line with the screen: after every action, `update`
//! compares what is visible with what the collector was last told to read and sends a
//! command when they differ. What is not on screen is not read with each refresh.

use crate::tui::action::Command;
use crate::tui::app::{App, View};
use crate::tui::conns::{ConnQuery, DEFAULT_CAP};

/// Keep what the collector reads in line with what is on screen: scrolling, resizing,
/// folding, filtering and new data all change which services' rows are visible.
pub fn screen(app: &mut App) -> Option<Command> {
    let wanted = if app.unavailable.is_some() {
        Vec::new()
    } else {
        app.screen_services()
    };
    (wanted != app.watched).then(|| {
        app.watched.clone_from(&wanted);
        Command::WatchServices(wanted)
    })
}

/// Read the Details view's facts only while it is visible.
pub fn details(app: &mut App) -> Option<Command> {
    let wanted = app.view == View::Details && app.unavailable.is_none();
    (wanted != app.details_watched).then(|| {
        app.details_watched = wanted;
        Command::WatchDetails(wanted)
    })
}

/// Keep the collector's connection reading in line with what is on screen: read only while
/// the Connections view is visible, and restart when its scope or filter changes.
pub fn conns(app: &mut App) -> Option<Command> {
    let wanted = (app.view == View::Connections && app.unavailable.is_none())
        .then(|| (app.conn_scope(), app.conns.filter.clone()));
    let current = app
        .conns
        .query
        .as_ref()
        .map(|q| (q.scope.clone(), q.filter.clone()));
    if wanted == current {
        return None;
    }
    // Old rows stay on screen until the first answer of the new query arrives.
    app.conns.generation += 1;
    app.conns.query = wanted.map(|(scope, filter)| ConnQuery {
        generation: app.conns.generation,
        scope,
        filter,
        cap: DEFAULT_CAP,
    });
    Some(Command::WatchConns(app.conns.query.clone()))
}
