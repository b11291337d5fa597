//! What the screen asks the collector to read, and what partial reads do to the rows.

use std::time::Duration;

use crate::tui::action::{Action, Command};
use crate::tui::app::{App, TopOptions, View};
use crate::tui::rows::{RowKey, SortColumn};
use crate::tui::snapshot::TableRead;
use crate::tui::testdata::{self, dns, entries, fwm, v6, web};
use crate::tui::update::update;

/// 80x10: five table rows, the first two services.
fn short() -> App {
    testdata::app_with(TopOptions::default(), 80, 10)
}

fn watched(cmds: &[Command]) -> Option<Vec<crate::ipvs::ServiceKey>> {
    cmds.iter().find_map(|c| match c {
        Command::WatchServices(keys) => Some(keys.clone()),
        _ => None,
    })
}

#[test]
fn the_services_on_screen_are_what_the_collector_reads() {
    let mut app = short();
    // Name order: web (4 rows), then v6; five rows fit.
    assert_eq!(app.watched, vec![web(), v6()]);
    // Moving inside the screen changes nothing, nor does scrolling onto v6's real server;
    // the next row brings dns in.
    for _ in 0..5 {
        assert_eq!(watched(&update(&mut app, Action::Down)), None);
    }
    let cmds = update(&mut app, Action::Down);
    assert_eq!(watched(&cmds), Some(vec![web(), v6(), dns()]), "{cmds:?}");
    let cmds = update(&mut app, Action::Bottom);
    let screen = watched(&cmds).unwrap();
    assert_eq!(screen.last(), Some(&fwm()));
    assert!(!screen.contains(&web()));
    // A taller terminal shows everything; folding everything too.
    let cmds = update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 40,
        },
    );
    assert_eq!(watched(&cmds).map(|k| k.len()), Some(4));
    update(&mut app, Action::Top);
    update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 10,
        },
    );
    let cmds = update(&mut app, Action::CollapseAll);
    assert_eq!(watched(&cmds).map(|k| k.len()), Some(4), "{cmds:?}");
    // Off the Services view only the selection matters (the Connections view follows it).
    let cmds = update(&mut app, Action::ShowView(View::Details));
    assert_eq!(watched(&cmds), Some(vec![web()]));
}

#[test]
fn a_filter_reads_the_services_it_shows() {
    let mut app = short();
    update(&mut app, Action::StartFilter);
    let mut last = None;
    for c in "udp".chars() {
        if let Some(k) = watched(&update(&mut app, Action::Input(c))) {
            last = Some(k);
        }
    }
    // The selection stays on web's row position; the filter shows dns only.
    assert_eq!(last, Some(vec![dns()]));
}

#[test]
fn new_values_alone_keep_the_order_and_a_listing_resorts() {
    let mut app = testdata::app_with(TopOptions::default(), 120, 40);
    while app.sort != SortColumn::Active {
        update(&mut app, Action::SortNext);
    }
    let order = |app: &App| -> Vec<RowKey> {
        app.rows
            .iter()
            .filter(|r| r.dest.is_none())
            .map(|r| r.key)
            .collect()
    };
    let before = order(&app);
    assert_eq!(before[0], RowKey::Service(web()));
    // The screen's refresh: web's real servers lose every connection. Its row shows it
    // at once, but the order is the one of the last whole reading.
    let mut quiet = entries(3);
    for d in &mut quiet[0].dests {
        d.active_conns = 0;
    }
    let read = TableRead {
        listing: None,
        services: vec![(web(), Some(quiet[0].service.clone()))],
        dests: vec![(web(), quiet[0].dests.clone())],
    };
    update(
        &mut app,
        Action::TableRead {
            at: Duration::from_secs(3),
            read: Box::new(read),
        },
    );
    assert_eq!(order(&app), before);
    assert!(app.entries()[0].dests.iter().all(|d| d.active_conns == 0));
    // The sweep's listing comes in: now web sorts last.
    let mut snap = testdata::snapshot(4);
    snap.read = TableRead {
        listing: Some(quiet.iter().map(|e| e.service.clone()).collect()),
        ..TableRead::default()
    };
    update(&mut app, Action::Snapshot(Box::new(snap)));
    assert_eq!(order(&app).last(), Some(&RowKey::Service(web())));
}

#[test]
fn an_unchanged_refresh_notes_the_time_and_nothing_else() {
    let mut app = testdata::app();
    let rows = app.rows.clone();
    let cmds = update(
        &mut app,
        Action::Unchanged {
            at: Duration::from_secs(3),
        },
    );
    assert!(cmds.is_empty());
    assert_eq!(app.rows, rows);
    assert_eq!(app.refresh, Some(Duration::from_secs(1)));
    assert_eq!(app.last_at, Some(Duration::from_secs(3)));
}

#[test]
fn at_the_end_of_the_table_real_servers_read_late_show_below_their_service() {
    let mut app = App::new(TopOptions::default());
    update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 10,
        },
    );
    // The first refresh of a big table: the listing, real servers of all but fwm.
    let mut snap = testdata::snapshot(1);
    snap.read.dests.retain(|(k, _)| *k != fwm());
    update(&mut app, Action::Snapshot(Box::new(snap)));
    let cmds = update(&mut app, Action::Bottom);
    assert_eq!(app.selected, Some(RowKey::Service(fwm())), "the last row");
    assert!(watched(&cmds).is_some_and(|k| k.contains(&fwm())));
    // Its real servers, read as it came on screen, go below it: the cursor stays on the
    // last row, so they are on screen.
    let read = TableRead {
        listing: None,
        services: Vec::new(),
        dests: vec![(fwm(), entries(1)[2].dests.clone())],
    };
    update(
        &mut app,
        Action::TableRead {
            at: Duration::from_secs(1),
            read: Box::new(read),
        },
    );
    assert!(matches!(app.selected, Some(RowKey::Dest(k, _)) if k == fwm()));
    assert_eq!(app.cursor + 1, app.rows.len());
}
