//! Tests of what surrounds `update`: the keymap, and the collector thread polling the
//! in-memory kernel.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::ipvs::fake::SharedFake;
use crate::ipvs::{Backend, BackendFactory, DestKey, IpvsError, Op};
use crate::names::FilesResolver;
use crate::names::NoNames;
use crate::tui::action::{Action, Command};
use crate::tui::app::{Mode, View};
use crate::tui::collector::{self, Signals, Sources};
use crate::tui::health::{HealthMap, HealthSource, HealthState, HealthStatus, NoHealth};
use crate::tui::keymap::map_key;
use crate::tui::snapshot::CollectError;
use crate::tui::testdata::{app, director, ip, web};
use crate::tui::update::update;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn keymap_depends_on_the_mode() {
    let mut app = app();
    assert!(matches!(
        map_key(&app, key(KeyCode::Char('j'))),
        Some(Action::Down)
    ));
    assert!(matches!(
        map_key(&app, key(KeyCode::Down)),
        Some(Action::Down)
    ));
    assert!(matches!(
        map_key(&app, key(KeyCode::Char('d'))),
        Some(Action::Drain)
    ));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    app.mode = Mode::Filter;
    assert!(matches!(
        map_key(&app, key(KeyCode::Char('q'))),
        Some(Action::Input('q'))
    ));
    assert!(matches!(map_key(&app, ctrl_c), Some(Action::Quit)));
    app.mode = Mode::Help;
    assert!(matches!(
        map_key(&app, key(KeyCode::Esc)),
        Some(Action::ToggleHelp)
    ));
    app.mode = Mode::Normal;
    app.view = View::Connections;
    // Kernel actions are bound in the Services view only.
    assert!(map_key(&app, key(KeyCode::Char('d'))).is_none());
}

fn start_collector(
    backend: SharedFake,
) -> (
    mpsc::Receiver<Action>,
    mpsc::Sender<Command>,
    Arc<Signals>,
    std::thread::JoinHandle<()>,
) {
    let mut once = Some(backend);
    let factory: BackendFactory = Box::new(move || {
        once.take()
            .map(|b| Box::new(b) as Box<dyn Backend>)
            .ok_or(IpvsError::Unavailable { errno: libc::EPERM })
    });
    start_with(
        Sources {
            factory,
            health: Box::new(NoHealth),
            resolver: Box::new(NoNames),
        },
        false,
    )
}

fn start_with(
    sources: Sources,
    names: bool,
) -> (
    mpsc::Receiver<Action>,
    mpsc::Sender<Command>,
    Arc<Signals>,
    std::thread::JoinHandle<()>,
) {
    let (events_tx, events) = mpsc::channel();
    let (commands, commands_rx) = mpsc::channel();
    let signals = Arc::new(Signals::default());
    signals
        .conn_generation
        .store(1, std::sync::atomic::Ordering::Relaxed);
    let settings = collector::Settings::new(Duration::from_secs(30), names);
    let handle = collector::spawn(
        sources,
        events_tx,
        commands_rx,
        Arc::clone(&signals),
        settings,
    )
    .unwrap();
    (events, commands, signals, handle)
}

#[test]
fn collector_polls_applies_and_streams_connections() {
    let fake = director();
    let (events, commands, _signals, handle) = start_collector(fake.clone());
    let recv = || events.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(
        matches!(recv(), Action::Snapshot(s) if s.read.listing.as_ref().map(Vec::len) == Some(4))
    );
    let mut app = app();
    app.conns.follow = false;
    update(&mut app, Action::ShowView(View::Connections));
    let query = app.conns.query.clone().unwrap();
    commands.send(Command::WatchConns(Some(query))).unwrap();
    assert!(matches!(recv(), Action::Snapshot(_)));
    assert!(matches!(recv(), Action::Conns(c) if c.complete && c.rows.len() == 5));
    // The kernel refuses this very op (EIO, which nothing else here would cause), and the
    // error comes back.
    let op = Op::DelDest(
        web(),
        DestKey {
            addr: ip("10.0.1.9"),
            port: 9,
        },
    );
    let expected = op.clone();
    let submitted = {
        let mut fake = fake.lock();
        fake.fail_next_op_matching(move |o| *o == expected, libc::EIO);
        fake.ops_submitted()
    };
    commands
        .send(Command::Apply {
            label: "Remove".into(),
            ops: vec![op.clone()],
        })
        .unwrap();
    let Action::Applied { results, .. } = recv() else {
        panic!("no Applied")
    };
    assert!(
        results[0]
            .as_ref()
            .is_err_and(|e| e.starts_with("DelDest failed: Input/output error")),
        "{results:?}"
    );
    assert_eq!(
        fake.lock().ops_submitted(),
        submitted + 1,
        "{op:?} and nothing else"
    );
    commands.send(Command::Quit).unwrap();
    handle.join().unwrap();
}

#[test]
fn a_kernel_write_interrupts_an_endless_connection_read() {
    use std::sync::atomic::Ordering;
    let fake = director();
    fake.lock().set_endless_connections(true);
    let (events, commands, signals, handle) = start_collector(fake);
    let recv = || events.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(matches!(recv(), Action::Snapshot(_)));
    let mut app = app();
    update(&mut app, Action::ShowView(View::Connections));
    commands
        .send(Command::WatchConns(app.conns.query.clone()))
        .unwrap();
    // Partial results stream in while the read goes on.
    loop {
        if let Action::Conns(c) = recv() {
            assert!(!c.complete);
            assert!(c.rows.len() <= crate::tui::conns::DEFAULT_CAP);
            break;
        }
    }
    signals.command_waiting.store(true, Ordering::Relaxed);
    commands
        .send(Command::Apply {
            label: "Zero".into(),
            ops: vec![Op::Zero(None)],
        })
        .unwrap();
    while !matches!(recv(), Action::Applied { .. }) {}
    signals.conn_generation.store(u64::MAX, Ordering::Relaxed);
    signals.command_waiting.store(true, Ordering::Relaxed);
    commands.send(Command::Quit).unwrap();
    handle.join().unwrap();
}

/// Reports one real server as down.
struct OneDown;

impl HealthSource for OneDown {
    fn statuses(&mut self) -> HealthMap {
        let dest = DestKey {
            addr: ip("10.0.1.2"),
            port: 80,
        };
        let status = HealthStatus {
            state: HealthState::Down,
            last_result: Some("timeout".into()),
            latency: None,
        };
        HealthMap::from([((web(), dest), status)])
    }
}

#[test]
fn unreachable_ipvs_is_reported_then_retried_with_health_and_names() {
    let mut attempts = 0;
    let factory: BackendFactory = Box::new(move || {
        attempts += 1;
        if attempts == 1 {
            Err(IpvsError::Unavailable {
                errno: libc::ENOPROTOOPT,
            })
        } else {
            Ok(Box::new(director()) as Box<dyn Backend>)
        }
    });
    let resolver = FilesResolver::from_text("10.0.1.1 web1\n", "http 80/tcp\n");
    let sources = Sources {
        factory,
        health: Box::new(OneDown),
        resolver: Box::new(resolver),
    };
    let (events, commands, _signals, handle) = start_with(sources, true);
    let recv = || events.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(matches!(
        recv(),
        Action::CollectFailed(CollectError::Unavailable {
            errno: libc::ENOPROTOOPT,
            ..
        })
    ));
    // Resuming polls at once; the factory is asked again and now succeeds. The Details
    // view's facts are read once asked for.
    commands.send(Command::WatchDetails(true)).unwrap();
    commands.send(Command::SetPaused(false)).unwrap();
    let Action::Snapshot(snap) = recv() else {
        panic!("no snapshot after the retry")
    };
    assert_eq!(snap.health.len(), 1);
    assert_eq!(
        snap.names
            .as_ref()
            .and_then(|n| n.hosts.get(&ip("10.0.1.1")))
            .map(String::as_str),
        Some("web1")
    );
    assert_eq!(
        snap.names
            .as_ref()
            .and_then(|n| n.ports.get(&(80, "tcp")))
            .map(String::as_str),
        Some("http")
    );
    assert_eq!(snap.details.sysctls.as_ref().map(Result::is_ok), Some(true));
    commands.send(Command::Quit).unwrap();
    handle.join().unwrap();
}
