//! Loading a whole table into the fake in one call, counters included, for tests that need
//! a populated director (listings, dashboards, diffs) rather than a sequence of writes.

use super::FakeBackend;
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::error::Result;
use crate::ipvs::model::ServiceEntry;

impl FakeBackend {
    /// Add every service and dest of `entries` through the normal write path (so the
    /// kernel's rules apply), then copy their counters, rates and connection counts, and
    /// forget the writes (the write log starts empty). Dests are added last-to-first so the
    /// fake lists them in the order given (the kernel lists newest first). Stops at the first
    /// refused write and returns its error.
    pub fn load_entries(&mut self, entries: &[ServiceEntry]) -> Result<()> {
        for entry in entries {
            let key = entry.service.key;
            self.apply_one(&Op::AddService(entry.service.clone()))?;
            for dest in entry.dests.iter().rev() {
                self.apply_one(&Op::AddDest(key, dest.clone()))?;
            }
            self.set_service_traffic(&key, entry.service.stats, entry.service.rates);
            for dest in &entry.dests {
                self.set_dest_traffic(&key, &dest.key(), dest.stats, dest.rates);
                let conns = (dest.active_conns, dest.inact_conns, dest.persist_conns);
                self.set_dest_conns(&key, &dest.key(), conns);
            }
        }
        self.reset_write_log();
        Ok(())
    }

    /// A fake holding `entries` (see [`Self::load_entries`]).
    pub fn with_entries(entries: &[ServiceEntry]) -> Result<Self> {
        let mut fake = Self::new();
        fake.load_entries(entries)?;
        Ok(fake)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::model::{Dest, Protocol, Rates, Service, ServiceFlags, ServiceKey, Stats};

    fn entry() -> ServiceEntry {
        let key = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 80,
        };
        let mut service = Service::new(key);
        service.stats = Stats {
            conns: 7,
            ..Stats::default()
        };
        let mut a = Dest::new("10.0.0.2".parse().unwrap(), 80);
        a.active_conns = 3;
        a.rates = Rates {
            cps: 2,
            ..Rates::default()
        };
        let b = Dest::new("10.0.0.3".parse().unwrap(), 80);
        ServiceEntry {
            service,
            dests: vec![a, b],
        }
    }

    #[test]
    fn loaded_table_lists_as_given_with_counters_and_an_empty_write_log() {
        let want = entry();
        let mut fake = FakeBackend::with_entries(std::slice::from_ref(&want)).unwrap();
        let got = fake.entries().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].dests, want.dests);
        assert_eq!(got[0].service.stats.conns, 7);
        assert_eq!(got[0].service.flags.0, ServiceFlags::HASHED);
        assert_eq!(fake.writes_applied(), 0);
    }

    #[test]
    fn refused_entries_report_the_kernel_error() {
        let mut bad = entry();
        bad.dests[0].weight = -1;
        let err = FakeBackend::with_entries(&[bad]).unwrap_err();
        assert_eq!(err.errno(), libc::ERANGE);
    }
}
