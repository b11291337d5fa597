//! The dashboard's copy of the IPVS table, put together from partial reads.
//!
//! A refresh reads what the screen shows: the rows on screen are never older than one
//! refresh. The rest of a big table is read a slice at a time in the background (see
//! `collector`), so the real servers of a service off screen may be a minute old, and
//! those of a service never reached yet are not known at all. This table keeps, for every
//! service of the last listing and in its order, the service and real servers last read
//! and when, so whatever uses the whole table (the header's totals, a sort or filter on a
//! real-server field) can say how old its data is ([`Table::coverage`]).

use std::collections::HashMap;
use std::time::Duration;

use crate::ipvs::{Dest, ServiceEntry, ServiceKey};
use crate::tui::snapshot::TableRead;

/// When an entry's parts were last read (collector time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadAt {
    pub service: Duration,
    /// `None` until the service's real servers were read once.
    pub dests: Option<Duration>,
}

/// What [`Table::apply`] changed, so the app redoes only what depends on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Services came, went or moved, or a service's set of real servers changed: the
    /// rows of the table must be rebuilt.
    pub layout: bool,
    /// The whole listing was read: orders that sort by its values may change.
    pub listing: bool,
    /// Services came, went or moved: positions in [`Table::entries`] changed.
    pub moved: bool,
}

/// How much of the table's real servers is known, and since when.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    pub services: usize,
    /// Services whose real servers were never read.
    pub unread: usize,
    /// When the oldest real-server reading was taken (`None` with no services, or when
    /// none was read).
    pub oldest: Option<Duration>,
}

/// How current data read in the background is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Read within the last two refreshes.
    Fresh,
    /// Read this long before the last refresh.
    Old(Duration),
    /// Not all read yet: the first sweep of the table is under way.
    Partial { read: usize, of: usize },
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    entries: Vec<ServiceEntry>,
    /// Parallel to `entries`.
    read_at: Vec<ReadAt>,
    index: HashMap<ServiceKey, usize>,
    listed_at: Option<Duration>,
    /// Positions the last [`Table::apply`] read something of.
    touched: Vec<usize>,
}

impl Table {
    /// Every service of the last listing, in kernel order, with its last-read real servers.
    pub fn entries(&self) -> &[ServiceEntry] {
        &self.entries
    }

    /// When each entry was read, in the order of [`Table::entries`].
    pub fn read_at(&self) -> &[ReadAt] {
        &self.read_at
    }

    pub fn position(&self, key: &ServiceKey) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// Positions of the entries the last [`Table::apply`] read (repeats possible).
    pub fn touched(&self) -> &[usize] {
        &self.touched
    }

    /// When the whole listing was last read.
    pub fn listed_at(&self) -> Option<Duration> {
        self.listed_at
    }

    pub fn coverage(&self) -> Coverage {
        let mut c = Coverage {
            services: self.entries.len(),
            ..Coverage::default()
        };
        for r in &self.read_at {
            match r.dests {
                None => c.unread += 1,
                Some(at) => c.oldest = Some(c.oldest.map_or(at, |o| o.min(at))),
            }
        }
        c
    }

    /// Take in one refresh's reads, made at `at`.
    pub fn apply(&mut self, at: Duration, read: TableRead) -> Changes {
        let mut changes = Changes::default();
        self.touched.clear();
        if let Some(listing) = read.listing {
            changes.listing = true;
            changes.moved = self.relist(at, listing);
            changes.layout = changes.moved;
            self.listed_at = Some(at);
            self.touched.extend(0..self.entries.len());
        }
        let mut gone = Vec::new();
        for (key, service) in read.services {
            let Some(i) = self.position(&key) else {
                // Not listed yet: the next listing brings it, in its place.
                continue;
            };
            match service {
                Some(s) => {
                    self.entries[i].service = s;
                    self.read_at[i].service = at;
                    self.touched.push(i);
                }
                None => gone.push(i),
            }
        }
        for (key, dests) in read.dests {
            let Some(i) = self.position(&key) else {
                continue;
            };
            let entry = &mut self.entries[i];
            if !same_keys(&entry.dests, &dests) || self.read_at[i].dests.is_none() {
                changes.layout = true;
            }
            entry.dests = dests;
            self.read_at[i].dests = Some(at);
            self.touched.push(i);
        }
        if !gone.is_empty() {
            changes.layout = true;
            changes.moved = true;
            self.remove(&gone);
            self.touched.clear();
            self.touched.extend(0..self.entries.len());
        }
        changes
    }

    /// Put the services in the listing's order, keeping what was read of each. True when
    /// the layout changed.
    fn relist(&mut self, at: Duration, listing: Vec<crate::ipvs::Service>) -> bool {
        let same = listing.len() == self.entries.len()
            && listing
                .iter()
                .zip(&self.entries)
                .all(|(s, e)| s.key == e.service.key);
        if same {
            // The usual case: the kernel lists the same table in the same order.
            for ((s, e), r) in listing
                .into_iter()
                .zip(&mut self.entries)
                .zip(&mut self.read_at)
            {
                e.service = s;
                r.service = at;
            }
            return false;
        }
        let mut old: HashMap<ServiceKey, (Vec<Dest>, Option<Duration>)> = self
            .entries
            .drain(..)
            .zip(self.read_at.drain(..))
            .map(|(e, r)| (e.service.key, (e.dests, r.dests)))
            .collect();
        for service in listing {
            let (dests, dests_at) = old.remove(&service.key).unwrap_or_default();
            self.entries.push(ServiceEntry { service, dests });
            self.read_at.push(ReadAt {
                service: at,
                dests: dests_at,
            });
        }
        self.reindex();
        true
    }

    fn remove(&mut self, positions: &[usize]) {
        let keep: Vec<bool> = (0..self.entries.len())
            .map(|i| !positions.contains(&i))
            .collect();
        let mut flag = keep.iter();
        self.entries
            .retain(|_| flag.next().copied().unwrap_or(true));
        let mut flag = keep.iter();
        self.read_at
            .retain(|_| flag.next().copied().unwrap_or(true));
        self.reindex();
    }

    fn reindex(&mut self) {
        self.index = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.service.key, i))
            .collect();
    }
}

fn same_keys(a: &[Dest], b: &[Dest]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.key() == y.key())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::testdata::{dns, entries, fwm, web};

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_whole_read_is_the_table_and_the_same_again_changes_no_layout() {
        let mut t = Table::default();
        let ch = t.apply(secs(1), TableRead::whole(entries(1)));
        assert_eq!(
            ch,
            Changes {
                layout: true,
                listing: true,
                moved: true
            }
        );
        assert_eq!(t.entries(), entries(1).as_slice());
        let ch = t.apply(secs(2), TableRead::whole(entries(2)));
        assert_eq!(
            ch,
            Changes {
                layout: false,
                listing: true,
                moved: false
            }
        );
        assert_eq!(t.entries(), entries(2).as_slice());
        let c = t.coverage();
        assert_eq!((c.services, c.unread, c.oldest), (4, 0, Some(secs(2))));
    }

    #[test]
    fn partial_reads_refresh_their_rows_and_keep_the_rest_with_its_age() {
        let mut t = Table::default();
        let mut first = TableRead::whole(entries(1));
        // The first refresh read the real servers of the first two services only.
        first.dests.truncate(2);
        t.apply(secs(1), first);
        let c = t.coverage();
        assert_eq!((c.unread, c.oldest), (2, Some(secs(1))));
        assert!(t.entries()[2].dests.is_empty());

        let later = entries(5);
        let read = TableRead {
            listing: None,
            services: vec![(web(), Some(later[0].service.clone()))],
            dests: vec![
                (web(), later[0].dests.clone()),
                (fwm(), later[2].dests.clone()),
            ],
        };
        let ch = t.apply(secs(5), read);
        // fwm's real servers were never known: its rows appear.
        assert_eq!(
            ch,
            Changes {
                layout: true,
                listing: false,
                moved: false
            }
        );
        assert_eq!(t.entries()[0], later[0]);
        assert_eq!(t.entries()[1], entries(1)[1], "dns keeps its first reading");
        assert_eq!(
            t.read_at()[1],
            ReadAt {
                service: secs(1),
                dests: Some(secs(1))
            }
        );
        let c = t.coverage();
        assert_eq!((c.unread, c.oldest), (1, Some(secs(1))));
    }

    #[test]
    fn a_new_listing_keeps_what_was_read_of_each_service_by_key() {
        let mut t = Table::default();
        t.apply(secs(1), TableRead::whole(entries(1)));
        let mut services: Vec<_> = entries(2).into_iter().map(|e| e.service).collect();
        services.swap(0, 3);
        services.remove(1); // dns is gone
        let ch = t.apply(
            secs(2),
            TableRead {
                listing: Some(services),
                ..TableRead::default()
            },
        );
        assert_eq!(
            ch,
            Changes {
                layout: true,
                listing: true,
                moved: true
            }
        );
        let keys: Vec<_> = t.entries().iter().map(|e| e.service.key).collect();
        assert_eq!(keys[1], fwm());
        assert_eq!(t.position(&web()), Some(2));
        assert_eq!(t.position(&dns()), None);
        assert_eq!(t.entries()[2].dests, entries(1)[0].dests);
        assert_eq!(t.read_at()[2].dests, Some(secs(1)));
        assert_eq!(t.listed_at(), Some(secs(2)));
    }

    #[test]
    fn a_service_gone_from_a_single_read_leaves_the_table() {
        let mut t = Table::default();
        t.apply(secs(1), TableRead::whole(entries(1)));
        let ch = t.apply(
            secs(2),
            TableRead {
                services: vec![(dns(), None)],
                ..TableRead::default()
            },
        );
        assert!(ch.layout && ch.moved);
        assert_eq!(t.entries().len(), 3);
        assert_eq!(t.position(&dns()), None);
        assert_eq!(t.position(&fwm()), Some(1));
        assert_eq!(t.read_at().len(), 3);
    }
}
