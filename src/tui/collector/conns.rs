//! The Connections view's read of `/proc/net/ip_vs_conn`, in slices between refreshes.
//!
//! The file has no index: a read is the whole table, and the kernel's seq file walks the
//! connection hash from its start for every 4 KiB `read()` (5.10, 6.1 and 6.12 alike), so
//! 100,000 rows cost 15-20 s of CPU under emulation where 25,000 cost 1.2 s. So the read
//! is held open and advanced a slice at a time within its own CPU budget ([`crate::tui::sweep::CONNS_PERMILLE`]), between the
//! refreshes of the screen, which go on every interval; a queued command (a kernel write,
//! quit) or a new query stops a slice at once. Rows are filtered and counted while read
//! (`tui::conns::Accumulator`); the first read of a query sends what it has every
//! [`PARTIAL_EVERY`], so the first screenful shows after the first slice, with the count
//! of rows read so far and the size of the last complete read for progress. A read that
//! reached the end is started again at the next refresh.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::ipvs::ConnStream;
use crate::tui::action::Action;
use crate::tui::collector::Collector;
use crate::tui::conns::{Accumulator, ConnQuery};
use crate::tui::snapshot::CollectError;
use crate::tui::sweep::Budget;

/// How often a streaming connection read reports progress.
const PARTIAL_EVERY: Duration = Duration::from_millis(200);
/// Longest slice, whatever the budget allows: commands and refreshes wait for its end.
const SLICE_WALL: Duration = Duration::from_millis(100);
/// Rows between two looks at the clock, the budget and the UI's flags.
const CHECK_EVERY: u64 = 256;

struct ConnRead {
    stream: Box<dyn ConnStream>,
    acc: Accumulator,
    /// Send partial results (the first read of a query); later reads replace the rows on
    /// screen in one piece when done.
    streaming: bool,
    last_partial: Instant,
}

pub(super) struct ConnState {
    query: Option<ConnQuery>,
    read: Option<ConnRead>,
    /// A new read starts at the next slice.
    due: bool,
    /// The generation of the last query read to the end.
    complete: Option<u64>,
    /// Rows in the table at the last complete read.
    total: Option<u64>,
    budget: Budget,
}

impl ConnState {
    pub fn new(permille: u32) -> Self {
        Self {
            query: None,
            read: None,
            due: false,
            complete: None,
            total: None,
            budget: Budget::new(permille),
        }
    }

    /// A new query (or none): whatever was being read stops. True when a refresh should
    /// follow at once.
    pub fn watch(&mut self, query: Option<ConnQuery>) -> bool {
        self.read = None;
        self.due = query.is_some();
        let wanted = query.is_some();
        self.query = query;
        wanted
    }

    /// The Connections view is open: its read has the background.
    pub fn active(&self) -> bool {
        self.query.is_some()
    }

    /// How long from `now` (collector time) until the next slice may run, when there is
    /// one to run.
    pub fn until_slice(&self, now: Duration) -> Option<Duration> {
        (self.query.is_some() && (self.read.is_some() || self.due))
            .then(|| self.budget.until_even(now))
    }

    /// A refresh happened: a read that reached the end starts again.
    pub fn refreshed(&mut self) {
        if self.query.is_some() && self.read.is_none() {
            self.due = true;
        }
    }
}

impl Collector {
    /// The next slice of the connection read, stopping by `next_refresh` at the latest.
    /// False when the UI is gone.
    pub(super) fn conn_slice(&mut self, next_refresh: Instant) -> bool {
        let Some(query) = self.conns.query.clone() else {
            return true;
        };
        let now = self.now();
        let cap = self.interval * self.conns.budget.permille() * 2 / 1000;
        self.conns.budget.earn(now, cap);
        let Some(credit) = self.conns.budget.credit() else {
            return true;
        };
        if self.conns.read.is_none() {
            if !self.conns.due {
                return true;
            }
            self.conns.due = false;
            match self.backend().and_then(|b| b.open_connections()) {
                Ok(stream) => {
                    let acc = Accumulator::with_progress(query.clone(), self.conns.total, now);
                    self.conns.read = Some(ConnRead {
                        stream,
                        acc,
                        streaming: self.conns.complete != Some(query.generation),
                        last_partial: Instant::now(),
                    });
                }
                Err(e) => return self.conn_failed(&e),
            }
        }
        let Some(mut read) = self.conns.read.take() else {
            return true;
        };
        let generation = query.generation;
        let signals = std::sync::Arc::clone(&self.signals);
        let events = self.events.clone();
        let meter = &mut self.meter;
        let before = meter.cpu();
        let wall = Instant::now();
        let mut alive = true;
        let mut rows = 0u64;
        let ConnRead {
            stream,
            acc,
            streaming,
            last_partial,
        } = &mut read;
        let result = stream.read(&mut |c| {
            acc.push(c);
            rows += 1;
            if *streaming && last_partial.elapsed() >= PARTIAL_EVERY {
                *last_partial = Instant::now();
                alive = events.send(Action::Conns(Box::new(acc.partial()))).is_ok();
            }
            let wanted = signals.conn_generation.load(Ordering::Relaxed) == generation
                && !signals.command_waiting.load(Ordering::Relaxed);
            if !alive || !wanted {
                return false;
            }
            if !rows.is_multiple_of(CHECK_EVERY) {
                return true;
            }
            meter.cpu().saturating_sub(before) < credit
                && wall.elapsed() < SLICE_WALL
                && Instant::now() < next_refresh
        });
        let cost = self.meter.cpu().saturating_sub(before);
        self.conns.budget.spend(cost);
        self.background_cpu += cost;
        if !alive {
            return false;
        }
        if self.signals.conn_generation.load(Ordering::Relaxed) != generation {
            // Superseded: the new query's own read starts when it arrives.
            return true;
        }
        match result {
            Ok(true) => {
                self.conns.read = Some(read);
                true
            }
            Ok(false) => {
                self.conns.complete = Some(generation);
                self.conns.total = Some(read.acc.seen());
                self.send(Action::Conns(Box::new(read.acc.finish())))
            }
            Err(e) => self.conn_failed(&e),
        }
    }

    fn conn_failed(&mut self, e: &crate::ipvs::IpvsError) -> bool {
        self.send(Action::CollectFailed(CollectError::Poll(format!(
            "connections: {e}"
        ))))
    }
}
