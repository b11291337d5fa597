//! Unit tests of `update` (and the keymap and collector around it), driven by the fixed
//! director in `testdata`.

use std::time::Duration;

use crate::ipvs::{DestKey, Op};
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Mode, TopOptions, View};
use crate::tui::conns::ConnScope;
use crate::tui::rows::{RowKey, SortColumn};
use crate::tui::snapshot::CollectError;
use crate::tui::testdata::{self, app, dns, fwm, ip, v6, web};
use crate::tui::update::update;

fn dk(addr: &str, port: u16) -> DestKey {
    DestKey {
        addr: ip(addr),
        port,
    }
}

fn keys(app: &App) -> Vec<RowKey> {
    app.rows.iter().map(|r| r.key).collect()
}

fn select(app: &mut App, key: RowKey) {
    while app.selected != Some(key) {
        let before = app.cursor;
        update(app, Action::Down);
        assert_ne!(before, app.cursor, "{key:?} not found");
    }
}

fn sort_by(app: &mut App, col: SortColumn) {
    while app.sort != col {
        update(app, Action::SortNext);
    }
}

#[test]
fn rows_default_to_name_order_with_real_servers_under_their_service() {
    let app = app();
    assert_eq!(
        keys(&app),
        vec![
            RowKey::Service(web()),
            RowKey::Dest(web(), dk("10.0.1.1", 80)),
            RowKey::Dest(web(), dk("10.0.1.2", 80)),
            RowKey::Dest(web(), dk("10.0.1.3", 80)),
            RowKey::Service(v6()),
            RowKey::Dest(v6(), dk("2001:db8::10", 8443)),
            RowKey::Service(dns()),
            RowKey::Dest(dns(), dk("10.0.2.1", 53)),
            RowKey::Dest(dns(), dk("10.0.2.2", 53)),
            RowKey::Service(fwm()),
            RowKey::Dest(fwm(), dk("10.0.3.1", 0)),
        ]
    );
    assert_eq!(app.selected, Some(RowKey::Service(web())));
}

#[test]
fn sorting_by_a_number_puts_largest_first_and_reverse_flips_it() {
    let mut app = app();
    sort_by(&mut app, SortColumn::Active);
    assert!(app.descending);
    let services: Vec<_> = keys(&app)
        .into_iter()
        .filter(|k| matches!(k, RowKey::Service(_)))
        .collect();
    assert_eq!(
        services,
        vec![
            RowKey::Service(web()),
            RowKey::Service(dns()),
            RowKey::Service(v6()),
            RowKey::Service(fwm())
        ]
    );
    assert_eq!(keys(&app)[1], RowKey::Dest(web(), dk("10.0.1.1", 80)));
    update(&mut app, Action::ReverseSort);
    assert_eq!(keys(&app)[0], RowKey::Service(fwm()));
    assert_eq!(keys(&app)[2], RowKey::Service(v6()));
}

#[test]
fn sorting_by_delta_rates_uses_counter_deltas() {
    let mut app = app();
    sort_by(&mut app, SortColumn::Cps);
    // web's real servers: 1200, 900 and 2 new connections per second.
    assert_eq!(
        &keys(&app)[1..4],
        &[
            RowKey::Dest(web(), dk("10.0.1.1", 80)),
            RowKey::Dest(web(), dk("10.0.1.2", 80)),
            RowKey::Dest(web(), dk("10.0.1.3", 80)),
        ]
    );
}

#[test]
fn the_kernel_estimator_can_replace_counter_deltas() {
    let mut app = app();
    update(&mut app, Action::ToggleRateSource);
    let key = RowKey::Dest(web(), dk("10.0.1.1", 80));
    let params = app.row_params();
    let kernel = testdata::entries(2)[0].dests[2].rates;
    assert_eq!(
        crate::tui::rows::row_rates(&key, kernel, &params),
        Some(kernel)
    );
    sort_by(&mut app, SortColumn::Cps);
    assert_eq!(keys(&app)[0], RowKey::Service(web()));
}

#[test]
fn rates_come_from_counter_deltas_between_polls() {
    let app = app();
    let key = RowKey::Dest(web(), dk("10.0.1.1", 80));
    let r = app.rates.get(&key).and_then(|r| r.delta).unwrap();
    assert_eq!((r.cps, r.inpps, r.outbps), (1200, 12_000, 14_400_000));
    let svc = app
        .rates
        .get(&RowKey::Service(web()))
        .and_then(|r| r.delta)
        .unwrap();
    assert_eq!(svc.cps, 2102);
    // 1900 conn/s by the global counters: 2000 per tick.
    assert_eq!(app.global_delta.map(|g| g.cps), Some(2000));
}

#[test]
fn filter_shows_matching_real_servers_or_whole_matching_services() {
    let mut app = app();
    update(&mut app, Action::StartFilter);
    for c in "10.0.1.2".chars() {
        update(&mut app, Action::Input(c));
    }
    assert_eq!(
        keys(&app),
        vec![
            RowKey::Service(web()),
            RowKey::Dest(web(), dk("10.0.1.2", 80))
        ]
    );
    update(&mut app, Action::Submit);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.filter, "10.0.1.2");
    update(&mut app, Action::StartFilter);
    update(&mut app, Action::Cancel);
    assert!(app.filter.is_empty());
    update(&mut app, Action::StartFilter);
    for c in "UDP".chars() {
        update(&mut app, Action::Input(c));
    }
    assert_eq!(keys(&app).len(), 3);
    update(&mut app, Action::Input('x'));
    assert!(app.rows.is_empty());
    assert_eq!(app.selected, None);
}

#[test]
fn selection_follows_its_key_across_refreshes_and_resorts() {
    let mut app = app();
    let key = RowKey::Dest(web(), dk("10.0.1.2", 80));
    select(&mut app, key);
    sort_by(&mut app, SortColumn::Active);
    update(&mut app, Action::ReverseSort);
    assert_eq!(app.selected_row().map(|r| r.key), Some(key));
    update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(3))));
    assert_eq!(app.selected_row().map(|r| r.key), Some(key));
    // The row disappears: the cursor stays where it was and selects what is there now.
    let cursor = app.cursor;
    let mut snap = testdata::snapshot(4);
    snap.read.dests[0]
        .1
        .retain(|d| d.key() != dk("10.0.1.2", 80));
    update(&mut app, Action::Snapshot(Box::new(snap)));
    assert_eq!(app.cursor, cursor);
    assert_ne!(app.selected, Some(key));
    assert_eq!(app.selected, app.selected_row().map(|r| r.key));
}

#[test]
fn collapse_folds_a_service_and_keeps_it_selected() {
    let mut app = app();
    select(&mut app, RowKey::Dest(web(), dk("10.0.1.2", 80)));
    update(&mut app, Action::ToggleCollapse);
    assert_eq!(app.selected, Some(RowKey::Service(web())));
    assert_eq!(keys(&app)[1], RowKey::Service(v6()));
    update(&mut app, Action::CollapseAll);
    assert_eq!(app.rows.len(), 4);
    update(&mut app, Action::ExpandAll);
    assert_eq!(app.rows.len(), 11);
}

#[test]
fn navigation_clamps_and_pages() {
    let mut app = app();
    update(&mut app, Action::Up);
    assert_eq!(app.cursor, 0);
    update(&mut app, Action::Bottom);
    assert_eq!(app.cursor, 10);
    update(&mut app, Action::Down);
    assert_eq!(app.cursor, 10);
    update(&mut app, Action::PageUp);
    assert_eq!(app.cursor, 10 - app.page.min(10));
    update(&mut app, Action::Top);
    assert_eq!(app.selected, Some(RowKey::Service(web())));
}

fn confirm_ops(app: &mut App) -> Vec<Op> {
    let cmds = update(app, Action::Confirm);
    assert_eq!(app.mode, Mode::Normal);
    match cmds.as_slice() {
        [Command::Apply { ops, .. }] => ops.clone(),
        other => panic!("expected one Apply, got {other:?}"),
    }
}

#[test]
fn drain_then_restore_edit_the_weight_and_keep_everything_else() {
    let mut app = app();
    let rs = dk("10.0.1.1", 80);
    select(&mut app, RowKey::Dest(web(), rs));
    assert!(update(&mut app, Action::Drain).is_empty());
    let Mode::Confirm(p) = &app.mode else {
        panic!("no confirmation: {:?}", app.mode)
    };
    assert_eq!(
        p.question,
        "Drain 10.0.1.1:80 in TCP 10.0.0.1:80: weight 5 -> 0?"
    );
    let ops = confirm_ops(&mut app);
    let mut expected = testdata::entries(2)[0].dests[2].clone();
    expected.weight = 0;
    assert_eq!(ops, vec![Op::EditDest(web(), expected.clone())]);
    // The kernel applied it; the next poll shows weight 0.
    let mut snap = testdata::snapshot(3);
    snap.read.dests[0].1[2].weight = 0;
    update(&mut app, Action::Snapshot(Box::new(snap)));
    update(&mut app, Action::RestoreWeight);
    let ops = confirm_ops(&mut app);
    let Op::EditDest(_, d) = &ops[0] else {
        panic!()
    };
    assert_eq!(d.weight, 5);
    assert_eq!(d.key(), rs);
}

#[test]
fn restore_without_a_saved_weight_explains_itself() {
    let mut app = app();
    select(&mut app, RowKey::Dest(web(), dk("10.0.1.3", 80)));
    assert!(update(&mut app, Action::RestoreWeight).is_empty());
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.status.as_ref().is_some_and(|s| s.error));
    // Draining an already drained server is refused too.
    update(&mut app, Action::Drain);
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn set_weight_edits_validates_and_confirms() {
    let mut app = app();
    select(&mut app, RowKey::Dest(web(), dk("10.0.1.2", 80)));
    update(&mut app, Action::SetWeight);
    assert!(matches!(&app.mode, Mode::EditWeight { input, .. } if input.is_empty()));
    update(&mut app, Action::Input('9'));
    update(&mut app, Action::Backspace);
    update(&mut app, Action::Input('x'));
    update(&mut app, Action::Input('4'));
    update(&mut app, Action::Input('2'));
    assert!(matches!(&app.mode, Mode::EditWeight { input, .. } if input == "42"));
    update(&mut app, Action::Submit);
    let ops = confirm_ops(&mut app);
    let Op::EditDest(svc, d) = &ops[0] else {
        panic!()
    };
    assert_eq!((*svc, d.key(), d.weight), (web(), dk("10.0.1.2", 80), 42));
    assert_eq!(
        app.saved_weights.get(&(web(), dk("10.0.1.2", 80))),
        Some(&3)
    );
    // Out of range is refused and stays in the editor.
    update(&mut app, Action::SetWeight);
    for c in "9999999999".chars() {
        update(&mut app, Action::Input(c));
    }
    update(&mut app, Action::Submit);
    assert!(matches!(app.mode, Mode::EditWeight { .. }));
    assert!(app.status.as_ref().is_some_and(|s| s.error));
}

#[test]
fn remove_and_zero_map_to_their_ops() {
    let mut app = app();
    select(&mut app, RowKey::Dest(dns(), dk("10.0.2.2", 53)));
    update(&mut app, Action::RemoveDest);
    assert_eq!(
        confirm_ops(&mut app),
        vec![Op::DelDest(dns(), dk("10.0.2.2", 53))]
    );
    update(&mut app, Action::ZeroService);
    assert_eq!(confirm_ops(&mut app), vec![Op::Zero(Some(dns()))]);
    update(&mut app, Action::ZeroAll);
    assert_eq!(confirm_ops(&mut app), vec![Op::Zero(None)]);
    update(
        &mut app,
        Action::Applied {
            label: "Zero all counters".into(),
            results: vec![Ok(())],
        },
    );
    let status = app.status.clone().unwrap();
    assert_eq!(
        (status.text.as_str(), status.error),
        ("Zero all counters: done", false)
    );
}

#[test]
fn dest_actions_need_a_real_server_selected() {
    let mut app = app();
    for a in [Action::SetWeight, Action::Drain, Action::RemoveDest] {
        assert!(update(&mut app, a).is_empty());
        assert_eq!(app.mode, Mode::Normal);
    }
}

#[test]
fn cancelling_a_confirmation_sends_nothing() {
    let mut app = app();
    select(&mut app, RowKey::Dest(web(), dk("10.0.1.1", 80)));
    update(&mut app, Action::RemoveDest);
    // Data keeps flowing while the popup is open.
    update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(3))));
    assert!(matches!(app.mode, Mode::Confirm(_)));
    assert!(update(&mut app, Action::Cancel).is_empty());
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.saved_weights.is_empty());
}

#[test]
fn read_only_refuses_every_write() {
    let options = TopOptions {
        read_only: true,
        ..TopOptions::default()
    };
    let mut app = testdata::app_with(options, 80, 24);
    select(&mut app, RowKey::Dest(web(), dk("10.0.1.1", 80)));
    for a in [
        Action::SetWeight,
        Action::Drain,
        Action::RestoreWeight,
        Action::RemoveDest,
        Action::ZeroService,
        Action::ZeroAll,
    ] {
        assert!(update(&mut app, a).is_empty());
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(
            app.status.as_ref().map(|s| s.text.as_str()),
            Some(crate::tui::ops::READ_ONLY)
        );
    }
    // Even a confirmation that somehow got there is refused.
    app.mode = Mode::Confirm(crate::tui::app::Pending {
        question: String::new(),
        label: String::new(),
        ops: vec![Op::Zero(None)],
        remember: None,
    });
    assert!(update(&mut app, Action::Confirm).is_empty());
}

#[test]
fn kernel_errors_and_unavailability_show_without_crashing() {
    let mut app = app();
    update(
        &mut app,
        Action::Applied {
            label: "Remove 10.0.1.1:80".into(),
            results: vec![Err("DelDest failed: No such file or directory".into())],
        },
    );
    let s = app.status.clone().unwrap();
    assert!(s.error);
    assert_eq!(
        s.text,
        "Remove 10.0.1.1:80 failed: DelDest failed: No such file or directory"
    );
    update(
        &mut app,
        Action::CollectFailed(CollectError::Poll("boom".into())),
    );
    assert!(app.status.as_ref().is_some_and(|s| s.from_poll));
    update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(3))));
    assert_eq!(app.status, None);
    let err = CollectError::Unavailable {
        errno: libc::EPERM,
        message: "cannot initialize IPVS: Operation not permitted".into(),
    };
    update(&mut app, Action::CollectFailed(err));
    assert!(
        app.unavailable
            .as_ref()
            .is_some_and(|t| t.contains("needs root"))
    );
    update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(4))));
    assert_eq!(app.unavailable, None);
}

#[test]
fn connections_are_read_only_while_visible_and_follow_the_selection() {
    let mut app = app();
    let rs = dk("10.0.1.2", 80);
    select(&mut app, RowKey::Dest(web(), rs));
    let cmds = update(&mut app, Action::ShowView(View::Connections));
    // The table is off screen: only the selected service is read with each refresh.
    let [Command::WatchServices(keys), Command::WatchConns(Some(q))] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(keys, &[web()]);
    assert_eq!(
        q.scope,
        ConnScope::Dest {
            key: web(),
            dest: rs
        }
    );
    assert_eq!(q.generation, 1);
    // Answers to an older query are dropped.
    let mut stale = testdata::conns_for(&app, &testdata::conn_rows());
    stale.generation = 0;
    update(&mut app, Action::Conns(Box::new(stale)));
    assert!(app.conns.data.is_none());
    let data = testdata::conns_for(&app, &testdata::conn_rows());
    update(&mut app, Action::Conns(Box::new(data)));
    assert_eq!(app.conns.order.len(), 2);
    // Filtering restarts the read; following off widens the scope.
    update(&mut app, Action::StartFilter);
    let cmds = update(&mut app, Action::Input('s'));
    assert!(matches!(cmds.as_slice(), [Command::WatchConns(Some(q))] if q.filter == "s"));
    update(&mut app, Action::Cancel);
    let cmds = update(&mut app, Action::ToggleFollow);
    assert!(matches!(cmds.as_slice(), [Command::WatchConns(Some(q))] if q.scope == ConnScope::All));
    let cmds = update(&mut app, Action::ShowView(View::Details));
    assert_eq!(
        cmds,
        vec![Command::WatchConns(None), Command::WatchDetails(true)]
    );
    assert!(update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(3)))).is_empty());
}

#[test]
fn connection_sorting_changes_display_order_only() {
    let mut app = app();
    update(&mut app, Action::ToggleFollow);
    update(&mut app, Action::ShowView(View::Connections));
    let data = testdata::conns_for(&app, &testdata::conn_rows());
    update(&mut app, Action::Conns(Box::new(data)));
    assert_eq!(app.conns.order, vec![0, 1, 2, 3, 4]);
    update(&mut app, Action::SortNext); // proto
    update(&mut app, Action::SortNext); // expire
    assert_eq!(app.conns.order, vec![3, 1, 4, 2, 0]);
    update(&mut app, Action::ReverseSort);
    assert_eq!(app.conns.order, vec![0, 2, 4, 1, 3]);
}

#[test]
fn interval_pause_names_and_quit_become_commands() {
    let mut app = app();
    assert_eq!(
        update(&mut app, Action::Faster),
        vec![Command::SetInterval(Duration::from_millis(500))]
    );
    update(&mut app, Action::Faster);
    update(&mut app, Action::Faster);
    assert_eq!(app.interval, Duration::from_millis(250));
    for _ in 0..12 {
        update(&mut app, Action::Slower);
    }
    assert_eq!(app.interval, Duration::from_mins(1));
    assert_eq!(
        update(&mut app, Action::TogglePause),
        vec![Command::SetPaused(true)]
    );
    assert_eq!(
        update(&mut app, Action::ToggleNumeric),
        vec![Command::SetNames(false)]
    );
    assert_eq!(update(&mut app, Action::Quit), vec![Command::Quit]);
    assert!(app.quit);
    // A zero interval from the command line would spin the collector.
    let zero = TopOptions {
        interval: Duration::ZERO,
        ..TopOptions::default()
    };
    assert_eq!(App::new(zero).interval, Duration::from_millis(250));
}

#[test]
fn unavailable_text_words_known_causes_itself_and_keeps_unknown_messages() {
    use crate::tui::update::unavailable_text;
    let text = unavailable_text(libc::ENOPROTOOPT, "advice from the backend");
    assert!(text.contains("modprobe ip_vs"));
    assert!(!text.contains("advice from the backend"));
    let text = unavailable_text(libc::EIO, "netlink socket error: Input/output error");
    assert!(text.starts_with("netlink socket error: Input/output error"));
}

#[test]
fn a_streamed_read_appends_and_a_later_read_replaces() {
    let mut app = app();
    update(&mut app, Action::ToggleFollow);
    update(&mut app, Action::ShowView(View::Connections));
    let query = app.conns.query.clone().unwrap();
    let mut acc = crate::tui::conns::Accumulator::new(query.clone());
    let mut rows = testdata::conn_rows().into_iter();
    acc.push(rows.next().unwrap());
    acc.push(rows.next().unwrap());
    update(&mut app, Action::Conns(Box::new(acc.partial())));
    assert_eq!(app.conns.data.as_ref().map(|d| d.rows.len()), Some(2));
    rows.for_each(|c| acc.push(c));
    update(&mut app, Action::Conns(Box::new(acc.partial())));
    update(&mut app, Action::Conns(Box::new(acc.finish())));
    let data = app.conns.data.as_ref().unwrap();
    assert_eq!((data.rows.len(), data.seen, data.complete), (5, 5, true));
    assert_eq!(app.conns.order, vec![0, 1, 2, 3, 4]);
    // A re-read of the same query comes whole and replaces the rows.
    let again = testdata::conns_for(&app, &testdata::conn_rows()[..1]);
    update(&mut app, Action::Conns(Box::new(again)));
    assert_eq!(app.conns.data.as_ref().map(|d| d.rows.len()), Some(1));
}

#[test]
fn a_slowed_refresh_is_noticed_but_not_after_a_pause_or_interval_change() {
    let mut app = app();
    assert_eq!(app.refresh, Some(Duration::from_secs(1)));
    assert_eq!(app.slowed_refresh(), None);
    update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(30))));
    assert_eq!(app.slowed_refresh(), Some(Duration::from_secs(28)));
    update(&mut app, Action::TogglePause);
    assert_eq!(app.slowed_refresh(), None);
    update(&mut app, Action::TogglePause);
    update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(90))));
    assert_eq!(app.slowed_refresh(), None, "the paused time is no slowdown");
    update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(91))));
    update(&mut app, Action::Slower);
    update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(93))));
    assert_eq!(app.slowed_refresh(), None);
}

#[test]
fn details_are_read_only_while_visible_and_kept_meanwhile() {
    let mut app = app();
    assert!(!app.details_watched);
    let all = app.watched.clone();
    assert_eq!(all.len(), 4, "the whole small table is on screen");
    let cmds = update(&mut app, Action::ShowView(View::Details));
    assert_eq!(
        cmds,
        vec![
            Command::WatchServices(vec![web()]),
            Command::WatchDetails(true)
        ]
    );
    assert!(update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(3)))).is_empty());
    let cmds = update(&mut app, Action::ShowView(View::Services));
    assert_eq!(
        cmds,
        vec![Command::WatchServices(all), Command::WatchDetails(false)]
    );
    // Polls without them keep the last ones for when the view is shown again.
    let mut snap = testdata::snapshot(4);
    snap.details = crate::tui::snapshot::Details::default();
    update(&mut app, Action::Snapshot(Box::new(snap)));
    let details = &app.snapshot.as_ref().unwrap().details;
    assert!(details.timeouts.is_some() && details.sysctls.is_some());
}
