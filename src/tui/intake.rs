//! Taking in what the collector read: the table's partial reads, the rows they change,
//! which services' rows are on screen (what the next refresh reads), and how old the rest
//! of the table is.

use std::time::Duration;

use crate::ipvs::ServiceKey;
use crate::tui::app::{App, View};
use crate::tui::rates;
use crate::tui::rows;
use crate::tui::snapshot::{Snapshot, TableRead};
use crate::tui::table::Staleness;

impl App {
    /// Take in a new refresh: its table reads, counter deltas, history, and the rows when
    /// their layout or order may have changed. Rows are not rebuilt for new values alone:
    /// at 10,000 services that would sort the whole table every second for the sake of
    /// the fifty rows on screen, so an order by a changing value is the one of the last
    /// listing (the background sweep reads it again within its budget).
    pub fn apply_snapshot(&mut self, snap: Snapshot) {
        let mut snap = snap;
        self.refresh = self.last_at.and_then(|prev| snap.at.checked_sub(prev));
        self.last_at = Some(snap.at);
        let read = std::mem::take(&mut snap.read);
        let changes = self.table.apply(snap.at, read);
        self.rates.observe_table(
            snap.at,
            self.table.entries(),
            self.table.read_at(),
            self.table.touched(),
            changes.moved,
        );
        if let Some(g) = snap.global {
            self.global_delta = self.global_prev.and_then(|(then, before)| {
                rates::delta_rates(&before, &g.stats, snap.at.checked_sub(then)?)
            });
            self.global_prev = Some((snap.at, g.stats));
        }
        let old = self.snapshot.take();
        let mut regroup = true;
        if let Some(old) = old {
            regroup = old.health != snap.health;
            if snap.details.is_empty() {
                // Read only while the Details view is visible: keep the last ones meanwhile.
                snap.details = old.details;
            }
            match snap.names {
                None => snap.names = old.names,
                Some(ref n) => regroup |= old.names.as_ref() != Some(n),
            }
        }
        self.snapshot = Some(snap);
        self.unavailable = None;
        if self.status.as_ref().is_some_and(|s| s.from_poll) {
            self.status = None;
        }
        if regroup || changes.listing || changes.moved {
            self.refresh_rows(true);
        } else if changes.layout {
            self.refresh_rows(false);
        }
    }

    /// Take in rows read out of turn: a service that just came on screen is read at once
    /// instead of at the next refresh.
    pub fn take_read(&mut self, at: Duration, read: TableRead) {
        let changes = self.table.apply(at, read);
        self.rates.observe_table(
            at,
            self.table.entries(),
            self.table.read_at(),
            self.table.touched(),
            changes.moved,
        );
        if changes.listing || changes.moved {
            self.refresh_rows(true);
        } else if changes.layout {
            self.refresh_rows(false);
        }
    }

    /// A refresh that found nothing changed: only the refresh period is noted (the screen
    /// stays as it is, and is not even redrawn).
    pub fn unchanged(&mut self, at: Duration) {
        self.refresh = self.last_at.and_then(|prev| at.checked_sub(prev));
        self.last_at = Some(at);
    }

    /// The services whose rows are on screen, and the selected one: what every refresh
    /// reads. Only the Services view shows the table; elsewhere the selection alone
    /// matters (the Connections view follows it).
    pub fn screen_services(&self) -> Vec<ServiceKey> {
        let mut keys: Vec<ServiceKey> = Vec::new();
        if self.view == View::Services {
            for row in &self.rows[rows::window(self.cursor, self.rows.len(), self.page)] {
                let key = row.key.service();
                if keys.last() != Some(&key) {
                    keys.push(key);
                }
            }
        }
        if let Some(selected) = self.selected.map(|k| k.service())
            && !keys.contains(&selected)
        {
            keys.push(selected);
        }
        keys
    }

    /// How old the real servers of the whole table are, for the labels of what uses them
    /// (totals, sorts and filters on real-server fields).
    pub fn dests_staleness(&self) -> Staleness {
        let c = self.table.coverage();
        if c.unread > 0 {
            return Staleness::Partial {
                read: c.services - c.unread,
                of: c.services,
            };
        }
        self.staleness(c.oldest)
    }

    /// How old the last full listing of the services is (sorts by service rates).
    pub fn listing_staleness(&self) -> Staleness {
        self.staleness(self.table.listed_at())
    }

    fn staleness(&self, read: Option<Duration>) -> Staleness {
        let (Some(now), Some(read)) = (self.last_at, read) else {
            return Staleness::Fresh;
        };
        let age = now.saturating_sub(read);
        // Data from the last two refreshes is as fresh as a refresh can make it.
        if age > self.interval.saturating_mul(2).max(Duration::from_secs(3)) {
            Staleness::Old(age)
        } else {
            Staleness::Fresh
        }
    }
}
