//! What went wrong on this machine while the daemon ran, counted for the status document
//! and the metrics: checks not made (by class of local fault), panics caught in check tasks
//! and the IPVS thread, failed accepts and clients closed to make room on the status and
//! metrics listeners. Shared by the event loop and the listeners' tasks, hence atomics.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

#[derive(Debug, Default)]
pub struct Counters {
    /// Checks not made, by class; the classes are fixed at creation, so the metric's label
    /// set stays bounded whatever the reasons say.
    not_checked: Mutex<BTreeMap<&'static str, u64>>,
    check_panics: AtomicU64,
    ipvs_restarts: AtomicU64,
    accept_errors: AtomicU64,
    clients_evicted: AtomicU64,
}

/// The counters' values, as the status document carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounts {
    /// Checks not made because of a local fault, by class.
    pub not_checked: BTreeMap<String, u64>,
    /// Check tasks that panicked (and were restarted).
    pub check_panics: u64,
    /// Times the IPVS thread panicked and was started again.
    pub ipvs_restarts: u64,
    /// Failed accepts on the status socket and the metrics endpoint.
    pub accept_errors: u64,
    /// Connections closed because more than the allowed number were open.
    pub clients_evicted: u64,
}

impl Counters {
    /// Counters whose not-checked classes are `classes` (each starts at 0 and is shown).
    pub fn new(classes: &[&'static str]) -> Self {
        Self {
            not_checked: Mutex::new(classes.iter().map(|c| (*c, 0)).collect()),
            ..Self::default()
        }
    }

    /// One check not made, of `class` (one of those given to [`Counters::new`]; any other
    /// is not counted, which keeps the label set fixed).
    pub fn not_checked(&self, class: &'static str) {
        let mut map = self
            .not_checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(class) {
            *n += 1;
        }
    }

    pub fn check_panicked(&self) {
        self.check_panics.fetch_add(1, Ordering::Relaxed);
    }

    pub fn ipvs_restarted(&self) {
        self.ipvs_restarts.fetch_add(1, Ordering::Relaxed);
    }

    pub fn accept_failed(&self) {
        self.accept_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn client_evicted(&self) {
        self.clients_evicted.fetch_add(1, Ordering::Relaxed);
    }

    pub fn values(&self) -> FaultCounts {
        let not_checked = self
            .not_checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
        FaultCounts {
            not_checked,
            check_panics: self.check_panics.load(Ordering::Relaxed),
            ipvs_restarts: self.ipvs_restarts.load(Ordering::Relaxed),
            accept_errors: self.accept_errors.load(Ordering::Relaxed),
            clients_evicted: self.clients_evicted.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_given_classes_are_counted() {
        let c = Counters::new(&["descriptors", "other"]);
        c.not_checked("descriptors");
        c.not_checked("descriptors");
        c.not_checked("made up");
        c.check_panicked();
        let v = c.values();
        assert_eq!(
            v.not_checked.into_iter().collect::<Vec<_>>(),
            [("descriptors".to_owned(), 2), ("other".to_owned(), 0)]
        );
        assert_eq!(v.check_panics, 1);
    }
}
