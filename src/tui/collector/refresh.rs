//! One refresh: the screen's rows, then a slice of the background sweep.
//!
//! What a refresh reads, and why (measured in the 6.1 VM at 10,000 services x 4 real
//! servers, `examples/top-reads.rs`): the GET_SERVICE dump is the expensive part of any
//! listing there, because the kernel fills every service's 28 attributes (two nested blocks
//! of counters among them, read under the service's stats lock) in the reader's `recvmsg`,
//! and every dump round walks the service hash from its start to skip what earlier rounds
//! sent. GET_SERVICE of one service is a hash lookup and one fill. So a refresh reads the
//! screen's services one by one (pipelined, one `sendmsg`) and their real servers
//! (pipelined GET_DEST dumps), and reads the dump itself only when it is cheap (a small
//! table) or when the sweep's budget pays for it.
//!
//! Idle: when `/proc/net/ip_vs_stats` shows no packet and no rate for two refreshes in a
//! row, nothing in the table moves but edits and expiring connections, so the screen's
//! rows are read every [`IDLE_SCREEN_EVERY`] refreshes only, and a refresh that found
//! nothing new is not even drawn. The first packet ends it at the next refresh.
//!
//! Measured in the 6.1 VM at 10,000 x 4 on a loaded host: a refresh of the screen (about
//! ten services) costs the collector 7 ms and the UI 20 ms to draw; an idle one 1-3 ms.

use std::collections::HashSet;
use std::time::Duration;

use crate::ipvs::{GlobalStats, IpvsError, Rates, ServiceKey};
use crate::tui::action::Action;
use crate::tui::collector::Collector;
use crate::tui::snapshot::{CollectError, Details, Snapshot, TableRead};
use crate::tui::sweep::{self, Step};

/// While idle, the screen's rows are read on one refresh in this many.
pub const IDLE_SCREEN_EVERY: u32 = 5;
/// While idle, a snapshot is still sent this often, so the ages on screen move on.
const IDLE_HEARTBEAT: Duration = Duration::from_secs(30);
/// The sweep's slices are handed to the UI this often: taking one in lays the whole table
/// out again (a few milliseconds natively, tens under emulation, for 50,000 rows).
pub const SWEEP_FLUSH: Duration = Duration::from_secs(5);

/// Add `later` to `into`: a later listing replaces an earlier one, later readings of the
/// same rows come after (and so win).
fn merge(into: &mut TableRead, later: TableRead) {
    if later.listing.is_some() {
        into.listing = later.listing;
    }
    into.services.extend(later.services);
    into.dests.extend(later.dests);
}

/// Tells whether anything moves, from the global counters alone.
#[derive(Debug, Default)]
pub struct IdleWatch {
    last: Option<GlobalStats>,
    /// Refreshes in a row that saw nothing move.
    still: u32,
    /// Refreshes since the screen was last read while idle.
    skipped: u32,
}

impl IdleWatch {
    pub fn observe(&mut self, global: Option<&GlobalStats>) {
        let still = match (global, &self.last) {
            (Some(g), Some(last)) => g.stats == last.stats && g.rates == Rates::default(),
            _ => false,
        };
        self.still = if still {
            self.still.saturating_add(1)
        } else {
            0
        };
        if self.still == 0 {
            self.skipped = 0;
        }
        self.last = global.copied();
    }

    pub fn is_idle(&self) -> bool {
        self.still >= 2
    }

    /// Whether this refresh reads the screen's rows.
    fn screen_due(&mut self) -> bool {
        if !self.is_idle() || self.skipped + 1 >= IDLE_SCREEN_EVERY {
            self.skipped = 0;
            return true;
        }
        self.skipped += 1;
        false
    }
}

impl Collector {
    /// One refresh; false when the UI is gone.
    pub(super) fn refresh(&mut self) -> bool {
        let at = self.now();
        let global = match self.backend() {
            Ok(b) => b.global_stats().ok(),
            // No backend at all: whatever the reason, IPVS cannot be reached.
            Err(e) => return self.send(Action::CollectFailed(CollectError::unavailable(&e))),
        };
        self.idle.observe(global.as_ref());
        let idle = self.idle.is_idle();
        self.sweep_budget.set_permille(if idle {
            sweep::IDLE_PERMILLE.min(self.sweep_permille)
        } else {
            self.sweep_permille
        });
        let mut read = TableRead::default();
        let screen_read = self.order.is_empty() || self.idle.screen_due();
        let result = if screen_read {
            self.read_screen(&mut read, at)
        } else {
            Ok(())
        };
        let screen_news = screen_read && read != self.last_screen;
        if screen_read {
            self.last_screen = read.clone();
        }
        let mut swept = TableRead::default();
        let listed_on_screen = read.listing.is_some();
        let result = result.and_then(|()| {
            if self.conns.active() {
                // The Connections view hides the table: its budget goes to that read.
                Ok(())
            } else {
                self.sweep_step(&mut read, &mut swept, at)
            }
        });
        if let Err(e) = result {
            return self.failed(&e);
        }
        self.names.learn(&swept, self.sources.resolver.as_ref());
        merge(&mut self.pending, swept);
        let health = self.sources.health.statuses();
        let health_news = health != self.last_health;
        self.last_health.clone_from(&health);
        let details = self.read_details();
        self.names.learn(&read, self.sources.resolver.as_ref());
        let names = self.names.take_news();
        let heartbeat = self
            .last_sent
            .is_none_or(|sent| at.saturating_sub(sent) >= IDLE_HEARTBEAT);
        // While idle only what is on screen (and a new listing, which orders it) makes a
        // snapshot; the first idle refresh is sent, so the header says so.
        let news = !idle
            || !self.was_idle
            || (read.listing.is_some() && !listed_on_screen)
            || screen_news
            || health_news
            || names.is_some()
            || !details.is_empty()
            || heartbeat;
        self.conns.refreshed();
        if !news {
            return self.send(Action::Unchanged { at });
        }
        // The sweep's slices go to the UI every [`SWEEP_FLUSH`] (and with a listing, and at
        // the end of a pass): each one makes it lay the whole table out again.
        let flush = read.listing.is_some()
            || self.sweep.pass_done()
            || self
                .last_flush
                .is_none_or(|t| at.saturating_sub(t) >= self.sweep_flush);
        if flush && !self.pending.is_empty() {
            let mut all = std::mem::take(&mut self.pending);
            merge(&mut all, read);
            read = all;
            self.last_flush = Some(at);
        }
        self.last_sent = Some(at);
        self.was_idle = idle;
        let snapshot = Snapshot {
            at,
            read,
            global,
            details,
            health,
            names,
            idle,
        };
        self.send(Action::Snapshot(Box::new(snapshot)))
    }

    /// A failed read: IPVS gone (start over with a fresh backend, e.g. after modprobe) or a
    /// failure shown over the last good data.
    fn failed(&mut self, e: &IpvsError) -> bool {
        let err = CollectError::from_ipvs(e);
        if matches!(err, CollectError::Unavailable { .. }) {
            self.backend = None;
            self.order.clear();
        }
        self.send(Action::CollectFailed(err))
    }

    /// The rows on screen: the listing when it is cheap (or not known yet: the first
    /// refresh needs the order), else the screen's services one by one; and their real
    /// servers.
    fn read_screen(&mut self, read: &mut TableRead, at: Duration) -> Result<(), IpvsError> {
        if self.order.is_empty() || self.sweep.listing_in_foreground(self.interval) {
            self.read_listing(read)?;
        } else if !self.screen.is_empty() {
            let screen = self.screen.clone();
            let services = self.backend()?.services_of(&screen)?;
            read.services = screen.into_iter().zip(services).collect();
        }
        if !self.screen.is_empty() {
            let screen = self.screen.clone();
            let dests = self.backend()?.dests_of(&screen)?;
            self.note_dests(&screen, at);
            read.dests = screen.into_iter().zip(dests).collect();
        }
        Ok(())
    }

    /// The GET_SERVICE dump, charged to the sweep's budget (at 10,000 services it costs
    /// as much as a minute of refreshes).
    fn read_listing(&mut self, read: &mut TableRead) -> Result<(), IpvsError> {
        let before = self.meter.cpu();
        let services = self.backend()?.services()?;
        let cost = self.meter.cpu().saturating_sub(before);
        self.spend_background(cost);
        self.sweep.listed(services.len(), Some(cost));
        self.order = services.iter().map(|s| s.key).collect();
        read.listing = Some(services);
        Ok(())
    }

    /// The background's piece of this refresh, within its budget: a listing goes into
    /// `read` (the order matters at once), real servers off screen into `swept`.
    fn sweep_step(
        &mut self,
        read: &mut TableRead,
        swept: &mut TableRead,
        at: Duration,
    ) -> Result<(), IpvsError> {
        let cap = self.interval * self.sweep_budget.permille() * 2 / 1000;
        self.sweep_budget.earn(at, cap);
        let screen: HashSet<ServiceKey> = self.screen.iter().copied().collect();
        loop {
            let order = &self.order;
            let on_screen = |i: usize| order.get(i).is_some_and(|k| screen.contains(k));
            match self.sweep.plan(self.sweep_budget.credit(), &on_screen) {
                Step::Listing if read.listing.is_none() => self.read_listing(read)?,
                Step::Listing | Step::Wait => return Ok(()),
                Step::Dests(positions) => {
                    let keys: Vec<ServiceKey> = positions
                        .iter()
                        .filter_map(|&i| self.order.get(i).copied())
                        .collect();
                    let before = self.meter.cpu();
                    let dests = self.backend()?.dests_of(&keys)?;
                    let cost = self.meter.cpu().saturating_sub(before);
                    self.spend_background(cost);
                    self.sweep.swept(&positions, cost);
                    self.note_dests(&keys, at);
                    swept.dests.extend(keys.into_iter().zip(dests));
                    return Ok(());
                }
            }
        }
    }

    fn spend_background(&mut self, cost: Duration) {
        self.sweep_budget.spend(cost);
        self.background_cpu += cost;
    }

    fn note_dests(&mut self, keys: &[ServiceKey], at: Duration) {
        for k in keys {
            self.dests_read.insert(*k, at);
        }
    }

    /// The UI's rows on screen changed: read the services new to the screen at once,
    /// unless a refresh just did.
    pub(super) fn watch(&mut self, keys: Vec<ServiceKey>) {
        let at = self.now();
        let recent = self.interval / 2;
        let new: Vec<ServiceKey> = keys
            .iter()
            .filter(|k| !self.screen.contains(k))
            .filter(|k| {
                self.dests_read
                    .get(k)
                    .is_none_or(|&t| at.saturating_sub(t) >= recent)
            })
            .copied()
            .collect();
        self.screen = keys;
        if new.is_empty() || self.paused || self.backend.is_none() {
            return;
        }
        let read = (|| -> Result<TableRead, IpvsError> {
            let backend = self.backend()?;
            let services = backend.services_of(&new)?;
            let dests = backend.dests_of(&new)?;
            Ok(TableRead {
                listing: None,
                services: new.iter().copied().zip(services).collect(),
                dests: new.iter().copied().zip(dests).collect(),
            })
        })();
        match read {
            Ok(read) => {
                self.note_dests(&new, at);
                self.names.learn(&read, self.sources.resolver.as_ref());
                self.send(Action::TableRead {
                    at,
                    read: Box::new(read),
                });
            }
            Err(e) => {
                self.failed(&e);
            }
        }
    }

    /// The Details view's facts, while it is visible. Each part fails on its own.
    fn read_details(&mut self) -> Details {
        if !self.details {
            return Details::default();
        }
        let Ok(backend) = self.backend() else {
            return Details::default();
        };
        let text = |e: IpvsError| e.to_string();
        Details {
            info: Some(backend.info().map_err(text)),
            timeouts: Some(backend.timeouts().map_err(text)),
            daemons: Some(backend.daemons().map_err(text)),
            sysctls: Some(backend.sysctls().map_err(text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::Stats;

    fn global(conns: u64, cps: u64) -> GlobalStats {
        GlobalStats {
            stats: Stats {
                conns,
                ..Stats::default()
            },
            rates: Rates {
                cps,
                ..Rates::default()
            },
        }
    }

    #[test]
    fn idle_needs_two_still_refreshes_and_reads_the_screen_every_fifth() {
        let mut w = IdleWatch::default();
        w.observe(Some(&global(5, 0)));
        assert!(!w.is_idle());
        w.observe(Some(&global(5, 0)));
        assert!(!w.is_idle());
        w.observe(Some(&global(5, 0)));
        assert!(w.is_idle());
        let due: Vec<bool> = (0..10).map(|_| w.screen_due()).collect();
        assert_eq!(
            due,
            [
                false, false, false, false, true, false, false, false, false, true
            ]
        );
        // A rate still decaying is not still; a new packet ends idleness at once.
        w.observe(Some(&global(5, 1)));
        assert!(!w.is_idle());
        assert!(w.screen_due());
        let mut w = IdleWatch::default();
        for _ in 0..5 {
            w.observe(None);
        }
        assert!(!w.is_idle(), "without the global counters nothing is known");
    }
}
