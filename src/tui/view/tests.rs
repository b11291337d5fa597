//! Whole-frame snapshots of every view and popup at 80x24 and 120x40, rendered from the
//! fixed director in `testdata`. `TestBackend`'s text drops styles, so the snapshots hold
//! for NO_COLOR and colour alike; a separate test checks NO_COLOR really draws no colour.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use crate::ipvs::DestKey;
use crate::tui::action::Action;
use crate::tui::app::{App, TopOptions, View};
use crate::tui::rows::RowKey;
use crate::tui::snapshot::{CollectError, TableRead};
use crate::tui::testdata::{self, ip, web};
use crate::tui::update::update;
use crate::tui::view::render;

fn draw(app: &App) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(app.width, app.page as u16 + 5)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    terminal.backend().clone()
}

fn sized(w: u16, h: u16) -> App {
    testdata::app_with(TopOptions::default(), w, h)
}

fn select_dest(app: &mut App, addr: &str) {
    let key = RowKey::Dest(
        web(),
        DestKey {
            addr: ip(addr),
            port: 80,
        },
    );
    while app.selected != Some(key) {
        update(app, Action::Down);
    }
}

fn with_conns(mut app: App) -> App {
    update(&mut app, Action::ShowView(View::Connections));
    let data = testdata::conns_for(&app, &testdata::conn_rows());
    update(&mut app, Action::Conns(Box::new(data)));
    app
}

#[test]
fn services_80x24() {
    insta::assert_snapshot!(draw(&sized(80, 24)));
}

#[test]
fn services_120x40_with_health() {
    let mut app = sized(120, 40);
    update(
        &mut app,
        Action::Snapshot(Box::new(testdata::with_health(testdata::snapshot(3)))),
    );
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn services_160x40_wide_with_health() {
    let mut app = sized(160, 40);
    update(
        &mut app,
        Action::Snapshot(Box::new(testdata::with_health(testdata::snapshot(3)))),
    );
    select_dest(&mut app, "10.0.1.2");
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn services_80x24_with_health_selected_dest() {
    let mut app = sized(80, 24);
    update(
        &mut app,
        Action::Snapshot(Box::new(testdata::with_health(testdata::snapshot(3)))),
    );
    select_dest(&mut app, "10.0.1.2");
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn services_filter_editing() {
    let mut app = sized(80, 24);
    update(&mut app, Action::StartFilter);
    for c in "10.0.2".chars() {
        update(&mut app, Action::Input(c));
    }
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn services_collapsed_sorted_by_active_kernel_rates() {
    let mut app = sized(80, 24);
    update(&mut app, Action::CollapseAll);
    update(&mut app, Action::SortNext);
    update(&mut app, Action::SortNext);
    update(&mut app, Action::ToggleRateSource);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn services_scroll_keeps_the_cursor_visible() {
    let mut app = testdata::app_with(TopOptions::default(), 80, 10);
    update(&mut app, Action::Bottom);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn services_80x24_packets_instead_of_bytes() {
    let mut app = sized(80, 24);
    update(&mut app, Action::TogglePackets);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn services_read_only_paused_numeric() {
    let options = TopOptions {
        read_only: true,
        numeric: true,
        ..TopOptions::default()
    };
    let mut app = testdata::app_with(options, 80, 24);
    update(&mut app, Action::TogglePause);
    update(&mut app, Action::Drain);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn services_with_names() {
    let mut app = sized(80, 24);
    let mut snap = testdata::snapshot(3);
    let names = snap.names.get_or_insert_default();
    names.hosts.insert(ip("10.0.0.1"), "vip.example".into());
    names.hosts.insert(ip("10.0.1.1"), "web1".into());
    names.ports.insert((80, "tcp"), "http".into());
    names.ports.insert((53, "udp"), "domain".into());
    update(&mut app, Action::Snapshot(Box::new(snap)));
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn waiting_for_first_refresh() {
    let mut app = App::new(TopOptions::default());
    update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 24,
        },
    );
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn no_services() {
    let mut app = App::new(TopOptions::default());
    update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 24,
        },
    );
    let mut snap = testdata::snapshot(1);
    snap.read = TableRead::whole(Vec::new());
    snap.global = None;
    update(&mut app, Action::Snapshot(Box::new(snap)));
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn unavailable_not_root() {
    let mut app = App::new(TopOptions::default());
    update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 24,
        },
    );
    update(
        &mut app,
        Action::CollectFailed(CollectError::Unavailable {
            errno: libc::EPERM,
            message: "cannot initialize IPVS: Operation not permitted (os error 1)".into(),
        }),
    );
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn unavailable_module_missing_120x40() {
    let mut app = App::new(TopOptions::default());
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 40,
        },
    );
    update(
        &mut app,
        Action::CollectFailed(CollectError::Unavailable {
            errno: libc::ENOPROTOOPT,
            message: "cannot initialize IPVS: Protocol not available (os error 92)".into(),
        }),
    );
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn kernel_error_in_status_line() {
    let mut app = sized(80, 24);
    update(
        &mut app,
        Action::Applied {
            label: "Remove 10.0.1.1:80".into(),
            results: vec![Err(
                "DelDest failed: No such file or directory (os error 2)".into(),
            )],
        },
    );
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn connections_80x24_following_a_real_server() {
    let mut app = sized(80, 24);
    select_dest(&mut app, "10.0.1.1");
    insta::assert_snapshot!(draw(&with_conns(app)));
}

#[test]
fn connections_120x40_all_sorted_by_expire() {
    let mut app = sized(120, 40);
    update(&mut app, Action::ToggleFollow);
    let mut app = with_conns(app);
    update(&mut app, Action::SortNext);
    update(&mut app, Action::SortNext);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn connections_160x30_persistence_engine_and_sctp_states() {
    let mut app = sized(160, 30);
    update(&mut app, Action::ToggleFollow);
    update(&mut app, Action::ShowView(View::Connections));
    let mut rows = testdata::conn_rows();
    rows[0].protocol = "UDP".into();
    rows[0].state = "NONE".into();
    rows[0].pe_name = Some("sip".into());
    rows[0].pe_data = Some("abc123@host".into());
    rows[1].protocol = "SCTP".into();
    rows[1].state = "SHUTDOWN_ACK_SENT".into();
    rows[2].client_addr = ip("2001:db8:9::1");
    rows[2].virtual_addr = ip("2001:db8:9::100");
    rows[2].dest_addr = ip("2001:db8:9::2");
    let data = testdata::conns_for(&app, &rows);
    update(&mut app, Action::Conns(Box::new(data)));
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn connections_reading() {
    let mut app = sized(80, 24);
    update(&mut app, Action::ShowView(View::Connections));
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn details_80x24() {
    let mut app = sized(80, 24);
    update(&mut app, Action::ShowView(View::Details));
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn details_120x40_with_errors() {
    let mut app = sized(120, 40);
    let mut snap = testdata::snapshot(3);
    snap.details.daemons = Some(Err("GetDaemons failed: Operation not permitted".into()));
    snap.details.sysctls = Some(Err("/proc/sys/net/ipv4/vs: No such file".into()));
    update(&mut app, Action::Snapshot(Box::new(snap)));
    update(&mut app, Action::ShowView(View::Details));
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn help_popup_80x24() {
    let mut app = sized(80, 24);
    update(&mut app, Action::ToggleHelp);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn help_popup_120x40() {
    let mut app = sized(120, 40);
    update(&mut app, Action::ToggleHelp);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn confirm_drain_popup_80x24() {
    let mut app = sized(80, 24);
    select_dest(&mut app, "10.0.1.1");
    update(&mut app, Action::Drain);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn confirm_zero_all_popup_120x40() {
    let mut app = sized(120, 40);
    update(&mut app, Action::ZeroAll);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn weight_editor_popup_80x24() {
    let mut app = sized(80, 24);
    select_dest(&mut app, "10.0.1.2");
    update(&mut app, Action::SetWeight);
    update(&mut app, Action::Input('7'));
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn tiny_terminal_does_not_panic() {
    for (w, h) in [(1, 1), (10, 3), (20, 5), (0, 0), (300, 2)] {
        for view in View::ALL {
            let mut app = sized(w, h);
            update(&mut app, Action::ShowView(view));
            update(&mut app, Action::ToggleHelp);
            let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
            terminal.draw(|f| render(&app, f)).unwrap();
            update(&mut app, Action::Cancel);
            terminal.draw(|f| render(&app, f)).unwrap();
        }
    }
}

#[test]
fn no_color_draws_the_same_text_without_colours() {
    let plain = TopOptions {
        no_color: true,
        ..TopOptions::default()
    };
    for view in View::ALL {
        let mut colour = sized(80, 24);
        let mut mono = testdata::app_with(plain, 80, 24);
        update(&mut colour, Action::ShowView(view));
        update(&mut mono, Action::ShowView(view));
        let (a, b) = (draw(&colour), draw(&mono));
        assert_eq!(a.to_string(), b.to_string());
        let cells = b.buffer().content();
        assert!(
            cells
                .iter()
                .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
        );
        assert!(a.buffer().content().iter().any(|c| c.fg != Color::Reset));
    }
}

#[test]
fn services_120x40_trend_over_five_minutes() {
    let mut app = App::new(TopOptions::default());
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 40,
        },
    );
    let mut total = 0;
    for tick in 1..=300_u64 {
        // A hill: the rate of 10.0.1.1 climbs for 2.5 minutes, then falls back.
        total += tick.min(300 - tick);
        let mut snap = testdata::snapshot(tick);
        snap.read.dests[0].1[2].stats.conns = total;
        update(&mut app, Action::Snapshot(Box::new(snap)));
    }
    insta::assert_snapshot!(draw(&app));
}

/// Timing of a 10k x 10 table (run with `--ignored --nocapture`; debug numbers are
/// pessimistic). Not an assertion: the bench in the VM is the real measure.
#[test]
#[ignore = "timing report, not a check"]
fn large_table_timing() {
    use std::time::Instant;
    let big = |tick: u64| {
        let mut snap = testdata::snapshot(tick);
        let template = testdata::entries(tick)[0].clone();
        let entries: Vec<_> = (0..10_000_u32)
            .map(|i| {
                let mut e = template.clone();
                let [_, _, a, b] = i.to_be_bytes();
                e.service.key = crate::ipvs::ServiceKey::Addr {
                    protocol: crate::ipvs::Protocol::Tcp,
                    addr: std::net::IpAddr::from([10, 9, a, b]),
                    port: 80,
                };
                e.dests = (0..10_u8)
                    .map(|j| testdata::dest(&format!("10.{a}.{b}.{j}"), 80, 1, u32::from(j), tick))
                    .collect();
                e
            })
            .collect();
        snap.read = TableRead::whole(entries);
        snap
    };
    let mut app = App::new(TopOptions::default());
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 40,
        },
    );
    for tick in 1..=3 {
        let snap = big(tick);
        let t = Instant::now();
        update(&mut app, Action::Snapshot(Box::new(snap)));
        eprintln!("apply_snapshot: {:?}", t.elapsed());
    }
    let entries = app.entries().to_vec();
    let mut rates = app.rates.clone();
    let t = Instant::now();
    rates.observe(std::time::Duration::from_secs(4), &entries);
    eprintln!("rates.observe: {:?}", t.elapsed());
    let t = Instant::now();
    drop(rates);
    eprintln!("drop rates: {:?}", t.elapsed());
    let t = Instant::now();
    app.rebuild_rows();
    eprintln!("rebuild_rows: {:?}", t.elapsed());
    let t = Instant::now();
    update(&mut app, Action::SortNext);
    eprintln!("resort: {:?}", t.elapsed());
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let t = Instant::now();
    for _ in 0..10 {
        terminal.draw(|f| render(&app, f)).unwrap();
    }
    eprintln!("frame: {:?}", t.elapsed() / 10);
    let t = Instant::now();
    update(&mut app, Action::Down);
    eprintln!("key: {:?}", t.elapsed());
}

#[test]
fn the_header_says_when_refreshes_are_slowed() {
    let mut app = sized(80, 24);
    update(&mut app, Action::Snapshot(Box::new(testdata::snapshot(30))));
    let screen = format!("{:?}", draw(&app));
    assert!(screen.contains("every ~28s (slowed)"), "{screen}");
    assert!(!screen.contains("every 1s"), "{screen}");
}
