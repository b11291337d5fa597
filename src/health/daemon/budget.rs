//! The descriptors the checks may hold at once, when the open-files limit is below what the
//! configuration needs.
//!
//! Raising the soft limit (see `rlimit`) is the fix; when the hard limit forbids it, the
//! checks would otherwise take every descriptor the process may open: a black-holed real
//! holds its socket for the whole timeout, so a partition fills the table in a second and
//! then `accept()` on the status socket, the log file and the netlink socket all fail with
//! EMFILE, and the operator cannot even ask what is going on. So the checks share a budget
//! of descriptors that leaves a reserve for everything else: a check takes what one run
//! needs before it opens anything and gives it back when the run ends. A check that waits
//! longer than its own time limit for its share is "not checked" (a local fault), which
//! leaves its real as it is — never "down".

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::faults::MARGIN;

/// The budget for the checks under a soft limit of `soft` descriptors (None: unlimited)
/// when the configuration needs `need` (see `faults::descriptors_needed`): None when no cap
/// is needed. Otherwise the limit less a reserve for the rest of the daemon, the reserve
/// being [`MARGIN`] or, under a limit too small for that, half of it — at least one
/// check's worth is always granted.
pub fn cap(soft: Option<u64>, need: u64) -> Option<u32> {
    let soft = soft?;
    if soft >= need {
        return None;
    }
    let reserve = MARGIN.min(soft / 2);
    let checks = soft.saturating_sub(reserve).max(1);
    Some(u32::try_from(checks).unwrap_or(u32::MAX).min(max_permits()))
}

fn max_permits() -> u32 {
    u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX)
}

/// What a check that waited too long for its share reports (the text carries EMFILE so
/// that the fault is counted as a descriptor fault).
pub fn waited(limit: Duration, cap: u32) -> String {
    format!(
        "no descriptor free after waiting {:.1}s: the checks share {cap}, what the open-files \
         limit leaves them ({})",
        limit.as_secs_f64(),
        std::io::Error::from_raw_os_error(libc::EMFILE)
    )
}

/// The shared budget; a reload may change its size (see [`Budget::set`]).
#[derive(Debug, Default)]
pub struct Budget {
    /// None: no cap. Replaced, not resized, on a change: runs in flight give their share
    /// back to the semaphore they took it from, so a reload overcommits by at most the
    /// runs in flight at that moment, for the length of one run.
    current: RwLock<Option<(Arc<Semaphore>, u32)>>,
}

/// A check's share, held for one run.
#[derive(Debug)]
pub struct Share {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Budget {
    pub fn new(cap: Option<u32>) -> Arc<Self> {
        let budget = Arc::new(Self::default());
        budget.set(cap);
        budget
    }

    /// Sets the cap (None: none); returns whether it changed.
    pub fn set(&self, cap: Option<u32>) -> bool {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().map(|(_, n)| *n) == cap {
            return false;
        }
        *current = cap.map(|n| (Arc::new(Semaphore::new(n as usize)), n));
        true
    }

    pub fn cap(&self) -> Option<u32> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current.as_ref().map(|(_, n)| *n)
    }

    /// Takes `descriptors` (at most the whole budget) for one run, waiting at most `limit`
    /// (first come, first served); Err with the reason to report when the wait was too long.
    pub async fn take(&self, descriptors: u32, limit: Duration) -> Result<Share, String> {
        let current = {
            let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
            current.clone()
        };
        let Some((semaphore, n)) = current else {
            return Ok(Share { _permit: None });
        };
        if descriptors == 0 {
            return Ok(Share { _permit: None });
        }
        match tokio::time::timeout(limit, semaphore.acquire_many_owned(descriptors.min(n))).await {
            Ok(Ok(permit)) => Ok(Share {
                _permit: Some(permit),
            }),
            // The semaphore is never closed; treat it as no cap if it ever were.
            Ok(Err(_)) => Ok(Share { _permit: None }),
            Err(_) => Err(waited(limit, n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_a_reserve_for_the_rest_of_the_daemon() {
        assert_eq!(cap(None, 10_000), None, "unlimited");
        assert_eq!(cap(Some(1024), 456), None, "enough");
        assert_eq!(cap(Some(456), 456), None, "exactly enough");
        assert_eq!(
            cap(Some(64), 456),
            Some(32),
            "half kept back under a tiny limit"
        );
        assert_eq!(cap(Some(400), 456), Some(200));
        assert_eq!(cap(Some(4096), 10_256), Some(4096 - MARGIN as u32));
        assert_eq!(cap(Some(1), 456), Some(1), "one check's worth at least");
        assert_eq!(cap(Some(0), 456), Some(1));
    }

    #[tokio::test]
    async fn a_check_waits_its_turn_and_gives_up_at_its_limit() {
        let budget = Budget::new(Some(2));
        let a = budget.take(1, Duration::from_millis(20)).await.unwrap();
        let b = budget.take(1, Duration::from_millis(20)).await.unwrap();
        let late = budget.take(1, Duration::from_millis(40)).await.unwrap_err();
        assert!(late.contains("after waiting 0.0s"), "{late}");
        assert!(late.contains("(os error 24)"), "{late}");
        assert_eq!(
            super::super::faults::class(&late),
            super::super::faults::DESCRIPTORS
        );
        drop(a);
        let c = budget.take(1, Duration::from_millis(20)).await;
        assert!(c.is_ok(), "a share given back is taken again");
        // A run that needs more than the whole budget takes all of it rather than waiting
        // forever.
        drop((b, c));
        assert!(budget.take(5, Duration::from_millis(20)).await.is_ok());
        // Runs that need none (on/off checks) never wait.
        let _all = budget.take(2, Duration::from_millis(20)).await.unwrap();
        assert!(budget.take(0, Duration::from_millis(20)).await.is_ok());
    }

    #[tokio::test]
    async fn no_cap_never_waits_and_a_new_cap_replaces_the_old() {
        let budget = Budget::new(None);
        let held: Vec<Share> = futures_take(&budget, 100).await;
        assert_eq!(held.len(), 100);
        assert!(budget.set(Some(1)));
        assert!(!budget.set(Some(1)), "the same cap changes nothing");
        assert_eq!(budget.cap(), Some(1));
        let one = budget.take(1, Duration::from_millis(20)).await.unwrap();
        assert!(budget.take(1, Duration::from_millis(20)).await.is_err());
        drop(one);
        assert!(budget.set(None));
        assert!(budget.take(1, Duration::from_millis(20)).await.is_ok());
    }

    async fn futures_take(budget: &Budget, n: usize) -> Vec<Share> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(budget.take(1, Duration::from_millis(1)).await.unwrap());
        }
        out
    }
}
