//! Frames showing data the background read: how old the whole table's totals are, how far
//! the first sweep got, and the progress of a long connection read.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::tui::action::Action;
use crate::tui::app::{App, TopOptions, View};
use crate::tui::conns::Accumulator;
use crate::tui::rows::SortColumn;
use crate::tui::snapshot::TableRead;
use crate::tui::testdata::{self, conn_rows};
use crate::tui::update::update;
use crate::tui::view::render;

fn draw(app: &App) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(app.width, app.page as u16 + 5)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    terminal.backend().clone()
}

/// 80x10: the screen holds the first two services; later refreshes read only those.
fn short_screen() -> App {
    let mut app = App::new(TopOptions::default());
    update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 10,
        },
    );
    update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(1))));
    assert_eq!(app.watched.len(), 2, "{:?}", app.watched);
    app
}

#[test]
fn services_80x10_totals_from_an_old_sweep() {
    let mut app = short_screen();
    for tick in 2..=45 {
        let snap = testdata::screen_snapshot(&app, tick);
        update(&mut app, Action::Snapshot(Box::new(snap)));
    }
    while app.sort != SortColumn::Active {
        update(&mut app, Action::SortNext);
    }
    let frame = draw(&app);
    let text = format!("{frame:?}");
    assert!(text.contains("totals 44 s old"), "{text}");
    assert!(
        text.contains("sorted by active, descending (real servers 44 s old)"),
        "{text}"
    );
    insta::assert_snapshot!(frame);
}

#[test]
fn services_80x10_first_sweep_under_way() {
    let mut app = App::new(TopOptions::default());
    update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 10,
        },
    );
    // The first refresh of a big table: the listing and one service's real servers.
    let mut snap = testdata::snapshot(1);
    let mut read = TableRead::whole(testdata::entries(1));
    read.dests.truncate(1);
    snap.read = read;
    update(&mut app, Action::Snapshot(Box::new(snap)));
    update(&mut app, Action::StartFilter);
    update(&mut app, Action::Input('w'));
    let frame = draw(&app);
    let text = format!("{frame:?}");
    assert!(text.contains("totals 1/4 read"), "{text}");
    assert!(text.contains("real servers 1/4 read"), "{text}");
    insta::assert_snapshot!(frame);
}

#[test]
fn connections_80x24_reading_with_progress() {
    let mut app = testdata::app_with(TopOptions::default(), 80, 24);
    update(&mut app, Action::ShowView(View::Connections));
    let query = app.conns.query.clone().unwrap();
    let mut acc = Accumulator::with_progress(query, Some(100_000), app.last_at.unwrap());
    for c in conn_rows().into_iter().cycle().take(12_345) {
        acc.push(c);
    }
    update(&mut app, Action::Conns(Box::new(acc.partial())));
    let frame = draw(&app);
    let text = format!("{frame:?}");
    assert!(text.contains("12K of 100K read…"), "{text}");
    insta::assert_snapshot!(frame);
}

#[test]
fn connections_80x24_complete_read_a_while_ago() {
    let mut app = testdata::app_with(TopOptions::default(), 80, 24);
    update(&mut app, Action::ShowView(View::Connections));
    let data = testdata::conns_for(&app, &conn_rows());
    update(&mut app, Action::Conns(Box::new(data)));
    for tick in 3..=50 {
        update(
            &mut app,
            Action::Snapshot(Box::new(testdata::snapshot(tick))),
        );
    }
    let frame = draw(&app);
    let text = format!("{frame:?}");
    assert!(text.contains("5 read 50 s ago"), "{text}");
    insta::assert_snapshot!(frame);
}
