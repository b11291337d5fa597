//! What the collector asks the kernel for, counted on the in-memory fake: a refresh reads
//! the services on screen and a budgeted slice of the rest, never the whole table.
//!
//! The fake costs nothing to read, so a wrapper charges each request to a clock the test
//! owns (the collector's [`Meter`]): a listing 500 ms, a GET_SERVICE 0.1 ms, a GET_DEST
//! dump 2 ms, like a 10,000-service table under emulation. Refreshes are triggered by the
//! test (a 30 s interval never fires on its own); wall time between them is real, so
//! budget assertions are bounds that only get looser when the machine is slow.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Meter, Settings, Signals, Sources};
use crate::ipvs::fake::{FakeBackend, SharedFake};
use crate::ipvs::{
    Backend, ConnStream, Connection, Dest, GlobalStats, Info, Op, Protocol, Result, Service,
    ServiceEntry, ServiceKey, Stats, SyncDaemon, Timeouts,
};
use crate::names::NoNames;
use crate::tui::action::{Action, Command};
use crate::tui::conns::{ConnQuery, ConnScope};
use crate::tui::health::NoHealth;
use crate::tui::snapshot::{Snapshot, TableRead};
use crate::tui::sweep;

const LISTING: Duration = Duration::from_millis(500);
const SINGLE: Duration = Duration::from_micros(100);
const DUMP: Duration = Duration::from_millis(2);

/// The test's CPU clock, in nanoseconds.
#[derive(Clone, Default)]
struct Clock(Arc<AtomicU64>);

impl Clock {
    fn charge(&self, d: Duration) {
        self.0.fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
}

impl Meter for Clock {
    fn cpu(&mut self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

/// The fake, with every read charged to the clock.
struct Costly {
    fake: SharedFake,
    clock: Clock,
    /// Charged to the clock by the next connection read's first slice, then reset: an
    /// expensive slice (nanoseconds).
    conn_jump: Arc<AtomicU64>,
}

/// A connection stream whose first slice charges the clock with a cost.
struct Jumpy {
    inner: Box<dyn ConnStream>,
    clock: Clock,
    jump: Duration,
}

impl ConnStream for Jumpy {
    fn read(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<bool> {
        self.clock.charge(std::mem::take(&mut self.jump));
        self.inner.read(sink)
    }
}

fn times(d: Duration, n: usize) -> Duration {
    d * u32::try_from(n).unwrap_or(u32::MAX)
}

impl Backend for Costly {
    fn info(&mut self) -> Result<Info> {
        self.fake.info()
    }
    fn services(&mut self) -> Result<Vec<Service>> {
        self.clock.charge(LISTING);
        self.fake.services()
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        self.clock.charge(SINGLE);
        self.fake.service(key)
    }
    fn services_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Option<Service>>> {
        self.clock.charge(times(SINGLE, keys.len()));
        self.fake.services_of(keys)
    }
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>> {
        self.clock.charge(DUMP);
        self.fake.dests(key)
    }
    fn dests_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Vec<Dest>>> {
        self.clock.charge(times(DUMP, keys.len()));
        self.fake.dests_of(keys)
    }
    fn timeouts(&mut self) -> Result<Timeouts> {
        self.fake.timeouts()
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        self.fake.daemons()
    }
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<()>> {
        self.fake.apply(ops)
    }
    fn connections(&mut self, sink: &mut dyn FnMut(Connection) -> bool) -> Result<()> {
        self.fake.connections(sink)
    }
    fn open_connections(&mut self) -> Result<Box<dyn ConnStream>> {
        let jump = Duration::from_nanos(self.conn_jump.swap(0, Ordering::Relaxed));
        Ok(Box::new(Jumpy {
            inner: self.fake.open_connections()?,
            clock: self.clock.clone(),
            jump,
        }))
    }
    fn global_stats(&mut self) -> Result<GlobalStats> {
        self.fake.global_stats()
    }
    fn sysctls(&mut self) -> Result<Vec<(String, String)>> {
        self.fake.sysctls()
    }
}

fn key(i: usize) -> ServiceKey {
    let [_, _, a, b] = u32::try_from(i).unwrap_or(0).to_be_bytes();
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: std::net::IpAddr::from([10, 1, a, b]),
        port: 80,
    }
}

/// `n` services with two real servers each, in the fake.
fn table(n: usize) -> SharedFake {
    let entries: Vec<ServiceEntry> = (0..n)
        .map(|i| {
            let [_, _, a, b] = u32::try_from(i).unwrap_or(0).to_be_bytes();
            ServiceEntry {
                service: Service::new(key(i)),
                dests: (1..=2)
                    .map(|j| Dest::new(std::net::IpAddr::from([192, 168, a, b]), 8000 + j))
                    .collect(),
            }
        })
        .collect();
    SharedFake::new(FakeBackend::with_entries(&entries).expect("the table loads"))
}

struct Harness {
    fake: SharedFake,
    clock: Clock,
    events: Receiver<Action>,
    commands: Sender<Command>,
    signals: Arc<Signals>,
    handle: Option<JoinHandle<()>>,
    started: Instant,
    /// Packets so far, so the fake's global counters move (a still table goes idle).
    packets: u64,
    /// The next connection read's first slice costs the clock this much (nanoseconds).
    conn_jump: Arc<AtomicU64>,
}

impl Harness {
    fn start(fake: SharedFake, sweep_permille: u32) -> Self {
        Self::start_flushing(fake, sweep_permille, Duration::ZERO)
    }

    /// A collector handing the sweep's slices to the UI every `flush`.
    fn start_flushing(fake: SharedFake, sweep_permille: u32, flush: Duration) -> Self {
        Self::start_with(fake, sweep_permille, flush, Duration::from_secs(30))
    }

    /// A collector refreshing on its own every `interval` (30 s never fires in a test).
    fn start_with(
        fake: SharedFake,
        sweep_permille: u32,
        flush: Duration,
        interval: Duration,
    ) -> Self {
        let clock = Clock::default();
        let conn_jump = Arc::new(AtomicU64::new(0));
        let backend = Costly {
            fake: fake.clone(),
            clock: clock.clone(),
            conn_jump: Arc::clone(&conn_jump),
        };
        let mut once = Some(backend);
        let sources = Sources {
            factory: Box::new(move || {
                once.take()
                    .map(|b| Box::new(b) as Box<dyn Backend>)
                    .ok_or(crate::ipvs::IpvsError::Unavailable { errno: libc::EPERM })
            }),
            health: Box::new(NoHealth),
            resolver: Box::new(NoNames),
        };
        let (events_tx, events) = mpsc::channel();
        let (commands, commands_rx) = mpsc::channel();
        let signals = Arc::new(Signals::default());
        let settings = Settings {
            meter: Box::new(clock.clone()),
            sweep_permille,
            conns_permille: sweep::CONNS_PERMILLE,
            sweep_flush: flush,
            ..Settings::new(interval, false)
        };
        let started = Instant::now();
        let handle = super::spawn(
            sources,
            events_tx,
            commands_rx,
            Arc::clone(&signals),
            settings,
        )
        .expect("the collector starts");
        Self {
            fake,
            clock,
            events,
            commands,
            signals,
            handle: Some(handle),
            started,
            packets: 0,
            conn_jump,
        }
    }

    fn recv(&self) -> Action {
        self.events
            .recv_timeout(Duration::from_secs(10))
            .expect("the collector answers")
    }

    fn snapshot(&self) -> Snapshot {
        loop {
            match self.recv() {
                Action::Snapshot(s) => return *s,
                Action::Unchanged { .. } | Action::Conns(_) => {}
                other => panic!("expected a snapshot, got {other:?}"),
            }
        }
    }

    fn table_read(&self) -> TableRead {
        match self.recv() {
            Action::TableRead { read, .. } => *read,
            other => panic!("expected rows read out of turn, got {other:?}"),
        }
    }

    /// Traffic moved: the next refresh is not idle.
    fn traffic(&mut self) {
        self.packets += 10;
        let stats = Stats {
            conns: self.packets / 10,
            inpkts: self.packets,
            ..Stats::default()
        };
        self.fake.lock().set_global_stats(GlobalStats {
            stats,
            rates: crate::ipvs::Rates::default(),
        });
    }

    /// A refresh now (resuming an unpaused collector polls at once).
    fn refresh(&mut self) -> Snapshot {
        self.traffic();
        self.send(Command::SetPaused(false));
        self.snapshot()
    }

    fn send(&self, c: Command) {
        self.commands.send(c).expect("the collector listens");
    }

    fn watch(&self, keys: &[ServiceKey]) {
        self.send(Command::WatchServices(keys.to_vec()));
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.signals.command_waiting.store(true, Ordering::Relaxed);
        self.signals
            .conn_generation
            .store(u64::MAX, Ordering::Relaxed);
        let _ = self.commands.send(Command::Quit);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn keys(range: std::ops::Range<usize>) -> Vec<ServiceKey> {
    range.map(key).collect()
}

fn read_keys<T>(list: &[(ServiceKey, T)]) -> Vec<ServiceKey> {
    list.iter().map(|(k, _)| *k).collect()
}

#[test]
fn a_refresh_reads_the_screen_and_scrolling_reads_the_new_rows_at_once() {
    // No sweep budget: after its first slice, every read here is the screen's.
    let mut h = Harness::start(table(200), 0);
    let first = h.snapshot();
    // The first refresh needs the order: the listing, and a first slice to cost the sweep.
    assert_eq!(first.read.listing.as_ref().map(Vec::len), Some(200));
    assert_eq!(read_keys(&first.read.dests), keys(0..8));
    assert_eq!(h.fake.lock().reads().services, 1);

    h.watch(&keys(50..60));
    let now = h.table_read();
    assert_eq!(read_keys(&now.services), keys(50..60));
    assert_eq!(read_keys(&now.dests), keys(50..60));
    assert!(now.dests.iter().all(|(_, d)| d.len() == 2));

    let snap = h.refresh();
    assert_eq!(
        snap.read.listing, None,
        "a 500 ms listing is not read every refresh"
    );
    assert_eq!(read_keys(&snap.read.services), keys(50..60));
    assert_eq!(read_keys(&snap.read.dests), keys(50..60));
    {
        let fake = h.fake.lock();
        let reads = fake.reads();
        assert_eq!(reads.services, 1);
        assert_eq!(reads.service, 20, "ten at once, ten with the refresh");
        assert_eq!(reads.dests, 8 + 10 + 10);
        assert_eq!(fake.dest_reads_of(&key(100)), 0, "never on screen");
    }

    // Scrolling by five rows: only the five new services are read at once (the others
    // were read a moment ago), and the next refresh reads the new screen.
    h.watch(&keys(55..65));
    let now = h.table_read();
    assert_eq!(read_keys(&now.dests), keys(60..65));
    let snap = h.refresh();
    assert_eq!(read_keys(&snap.read.dests), keys(55..65));
    assert_eq!(
        h.fake.lock().dest_reads_of(&key(50)),
        2,
        "off screen: not read again"
    );

    // A service deleted while on screen is reported gone.
    h.fake
        .lock()
        .apply_one(&Op::DelService(key(57)))
        .expect("the fake deletes");
    let snap = h.refresh();
    let gone: Vec<_> = snap
        .read
        .services
        .iter()
        .filter(|(_, s)| s.is_none())
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(gone, vec![key(57)]);
}

#[test]
fn the_sweep_reads_the_rest_of_the_table_a_budgeted_slice_at_a_time() {
    // Half a core, so a test of a second and a half sees the debt of the first listing
    // paid and a few slices read.
    let permille = 500;
    let mut h = Harness::start(table(300), permille);
    let screen = keys(0..10);
    h.snapshot();
    h.watch(&screen);
    // The first slice read 0..8 a moment ago: only 8 and 9 are read at once.
    assert_eq!(read_keys(&h.table_read().dests), keys(8..10));
    let mut swept: Vec<ServiceKey> = Vec::new();
    let mut slices = Vec::new();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(150));
        let snap = h.refresh();
        assert_eq!(snap.read.listing, None);
        assert_eq!(read_keys(&snap.read.services), screen);
        let slice: Vec<ServiceKey> = snap
            .read
            .dests
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| !screen.contains(k))
            .collect();
        assert!(slice.len() <= sweep::MAX_SLICE);
        slices.push(slice.len());
        swept.extend(slice);
    }
    let elapsed = h.started.elapsed();
    // The pass walks the listing in order, skipping the screen, never reading twice.
    assert!(!swept.is_empty(), "no slice in {elapsed:?}: {slices:?}");
    // (8 and 9 are on screen.)
    assert!(swept == keys(10..10 + swept.len()), "{} swept", swept.len());
    // Everything charged to the background (the listing, the first slice of 8 and the
    // sweep's dumps) stays within the share of the wall time, give or take one slice.
    let spent = LISTING + times(DUMP, 8 + swept.len());
    let allowed = elapsed * permille / 1000
        + times(DUMP, 8)
        + times(DUMP, *slices.iter().max().unwrap_or(&0));
    assert!(
        spent <= allowed,
        "spent {spent:?} of {allowed:?} in {elapsed:?}: {slices:?}"
    );
    assert_eq!(
        h.clock.0.load(Ordering::Relaxed),
        u64::try_from((spent + times(SINGLE, 10 * 10 + 2) + times(DUMP, 10 * 10 + 2)).as_nanos())
            .unwrap_or(0),
        "the clock saw the listing, the slices and the screen's reads, nothing else"
    );
}

#[test]
fn a_still_table_is_read_every_fifth_refresh_and_not_redrawn_in_between() {
    let mut h = Harness::start(table(50), 0);
    h.snapshot();
    h.watch(&keys(0..10));
    h.table_read();
    // No traffic from here on: the global counters stand still.
    let mut idle_seen = false;
    let mut unchanged = 0;
    let before = h.fake.lock().reads().service;
    for _ in 0..12 {
        h.send(Command::SetPaused(false));
        match h.recv() {
            Action::Snapshot(s) => idle_seen |= s.idle,
            Action::Unchanged { .. } => unchanged += 1,
            other => panic!("{other:?}"),
        }
    }
    let singles = h.fake.lock().reads().service - before;
    // Two refreshes to notice, then one screen read in five.
    assert!(idle_seen, "the header was told");
    assert!(unchanged >= 8, "{unchanged} unchanged refreshes");
    assert!(singles <= 10 * 5, "{singles} single reads in 12 refreshes");
    // The first packet ends it: the next refresh reads the screen and is drawn.
    let snap = h.refresh();
    assert!(!snap.idle);
    assert_eq!(read_keys(&snap.read.dests), keys(0..10));
}

#[test]
fn a_long_connection_read_goes_on_between_refreshes_that_keep_coming() {
    let mut h = Harness::start(table(20), 0);
    {
        let mut fake = h.fake.lock();
        let row = crate::tui::testdata::conn_rows().remove(0);
        fake.set_connections(vec![row; 1000]);
        fake.set_endless_connections(true);
    }
    h.snapshot();
    h.signals.conn_generation.store(1, Ordering::Relaxed);
    h.send(Command::WatchConns(Some(ConnQuery {
        generation: 1,
        scope: ConnScope::All,
        filter: String::new(),
        cap: 100,
    })));
    // Partial answers stream in, counting rows read so far.
    let mut partials = 0;
    let mut snapshots = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while (partials < 3 || snapshots < 3) && Instant::now() < deadline {
        match h.recv() {
            Action::Conns(c) => {
                assert!(!c.complete, "an endless table never completes");
                assert!(c.rows.len() <= 100);
                partials += 1;
            }
            Action::Snapshot(_) => snapshots += 1,
            Action::Unchanged { .. } => {}
            other => panic!("{other:?}"),
        }
        if partials >= 1 {
            // Refreshes keep coming while the read goes on.
            h.traffic();
            h.send(Command::SetPaused(false));
        }
    }
    assert!(
        partials >= 3 && snapshots >= 3,
        "{partials} partials, {snapshots} snapshots"
    );
}

#[test]
fn a_slice_whose_debt_outlasts_the_interval_is_paid_back_while_refreshes_go_on() {
    let h = Harness::start_with(table(20), 0, Duration::ZERO, Duration::from_millis(200));
    {
        let mut fake = h.fake.lock();
        let row = crate::tui::testdata::conn_rows().remove(0);
        fake.set_connections(vec![row; 1000]);
        fake.set_endless_connections(true);
    }
    h.snapshot();
    // The first slice costs 300 ms (late rows of a big table on Linux 6.1 do): at 6 % of
    // a core that is 5 s to pay back, while the screen refreshes every 200 ms.
    h.conn_jump.store(300_000_000, Ordering::Relaxed);
    h.signals.conn_generation.store(1, Ordering::Relaxed);
    h.send(Command::WatchConns(Some(ConnQuery {
        generation: 1,
        scope: ConnScope::All,
        filter: String::new(),
        cap: 100,
    })));
    let t0 = Instant::now();
    let mut seen = 0;
    while seen < 5_000 && t0.elapsed() < Duration::from_secs(12) {
        if let Ok(Action::Conns(c)) = h.events.recv_timeout(Duration::from_millis(500)) {
            seen = c.seen;
        }
    }
    // The read goes on once the debt is paid, however many refreshes came in between.
    assert!(seen >= 5_000, "{seen} rows read in {:?}", t0.elapsed());
    assert!(
        t0.elapsed() >= Duration::from_secs(4),
        "the debt was paid back early"
    );
}

#[test]
fn the_sweeps_slices_reach_the_ui_every_few_seconds_with_the_screens_rows_every_refresh() {
    // A whole core and a table no slice finishes, so slices are read and none is sent.
    let mut h = Harness::start_flushing(table(2000), 1000, Duration::from_hours(1));
    let screen = keys(0..10);
    let first = h.snapshot();
    assert_eq!(
        read_keys(&first.read.dests),
        keys(0..8),
        "the first is handed over"
    );
    h.watch(&screen);
    h.table_read();
    for _ in 0..4 {
        // Enough for the first listing's debt (516 ms) to be paid.
        std::thread::sleep(Duration::from_millis(250));
        let snap = h.refresh();
        assert_eq!(
            read_keys(&snap.read.dests),
            screen,
            "only the screen's rows"
        );
    }
    let swept = h.fake.lock().dest_reads_of(&key(20));
    assert_eq!(swept, 1, "the sweep did read off screen meanwhile");
}
