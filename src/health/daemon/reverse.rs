//! Reverse-DNS names of real servers, for the maintenance directory: besides files named
//! after a real's address, ldirectord also looks for files named after its reverse name
//! and that name's short form.
//!
//! ldirectord resolves the name before every check, inside its single check loop, so a slow
//! DNS server slows every check. Here a check never waits for DNS: it reads a per-address
//! cache, and a missing or stale entry starts a lookup in the background (on tokio's
//! blocking pool, a few at a time, each bounded by a timeout). A failed or timed-out lookup
//! means "no name" until the next refresh. Names are refreshed every few minutes and after
//! a reload, and looked up as soon as the checks are (re)started, so the first checks
//! usually already see them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::names::Resolver;

#[derive(Debug, Clone, Default)]
struct Entry {
    name: Option<String>,
    /// When the last lookup finished; None before the first one.
    fetched: Option<Instant>,
    /// A lookup is under way.
    pending: bool,
}

/// The cache shared by the check tasks.
#[derive(Debug)]
pub struct ReverseNames {
    /// Its reverse lookups may block: they run on the blocking pool. The system resolver
    /// gives no name, never the address itself, for an address without one, as
    /// ldirectord's `ld_gethostbyaddr` does.
    resolver: Arc<dyn Resolver>,
    entries: Mutex<HashMap<IpAddr, Entry>>,
    /// Lookups in flight at once: a thousand reals must not become a thousand threads.
    permits: Arc<Semaphore>,
    refresh: Duration,
    timeout: Duration,
}

/// How long a name is used before it is looked up again.
pub const REFRESH: Duration = Duration::from_mins(5);
/// How long one lookup may take; longer counts as "no name".
pub const TIMEOUT: Duration = Duration::from_secs(2);
const PARALLEL: usize = 4;

impl ReverseNames {
    pub fn new(resolver: Arc<dyn Resolver>, refresh: Duration, timeout: Duration) -> Self {
        Self {
            resolver,
            entries: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(PARALLEL)),
            refresh,
            timeout,
        }
    }

    /// The cached name of `addr`, without waiting. Starts a background lookup when there
    /// is none yet or it is older than the refresh period (needs a tokio runtime).
    pub fn get(self: &Arc<Self>, addr: IpAddr) -> Option<String> {
        let (name, stale) = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            let e = entries.entry(addr).or_default();
            let stale = !e.pending && e.fetched.is_none_or(|t| t.elapsed() >= self.refresh);
            if stale {
                e.pending = true;
            }
            (e.name.clone(), stale)
        };
        if stale {
            let me = Arc::clone(self);
            tokio::spawn(async move { me.lookup(addr).await });
        }
        name
    }

    /// Makes every name due for a new lookup (a reload); the old names stay in use until
    /// the new ones arrive.
    pub fn expire(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        for e in entries.values_mut() {
            e.fetched = None;
        }
    }

    async fn lookup(&self, addr: IpAddr) {
        let name = match self.permits.clone().acquire_owned().await {
            Ok(_permit) => {
                let resolver = Arc::clone(&self.resolver);
                let job = tokio::task::spawn_blocking(move || resolver.host_name(addr));
                // On timeout the blocking call runs on and its answer is dropped.
                match tokio::time::timeout(self.timeout, job).await {
                    Ok(Ok(name)) => name,
                    _ => None,
                }
            }
            Err(_) => None,
        };
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let e = entries.entry(addr).or_default();
        e.name = name;
        e.fetched = Some(Instant::now());
        e.pending = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Family;

    /// Names 10.1.0.1 after a while; knows nothing else.
    #[derive(Debug)]
    struct Slow(Duration);

    impl Resolver for Slow {
        fn host_addr(&self, _name: &str, _family: Family) -> Option<IpAddr> {
            None
        }
        fn service_port(&self, _name: &str, _proto: &str) -> Option<u16> {
            None
        }
        fn host_name(&self, addr: IpAddr) -> Option<String> {
            std::thread::sleep(self.0);
            (addr == IpAddr::from([10, 1, 0, 1])).then(|| "web1.example.com".to_owned())
        }
        fn service_name(&self, _port: u16, _proto: &str) -> Option<String> {
            None
        }
    }

    async fn settle(names: &Arc<ReverseNames>, addr: IpAddr) -> Option<String> {
        for _ in 0..200 {
            let pending = names
                .entries
                .lock()
                .unwrap()
                .get(&addr)
                .is_some_and(|e| e.pending);
            if !pending {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        names.get(addr)
    }

    #[tokio::test]
    async fn a_check_never_waits_for_dns_and_failures_mean_no_name() {
        let a: IpAddr = [10, 1, 0, 1].into();
        let b: IpAddr = [10, 1, 0, 2].into();
        let names = Arc::new(ReverseNames::new(
            Arc::new(Slow(Duration::from_millis(50))),
            REFRESH,
            TIMEOUT,
        ));
        let t = Instant::now();
        assert_eq!(names.get(a), None, "not known yet: no name, no waiting");
        assert!(t.elapsed() < Duration::from_millis(40));
        assert_eq!(settle(&names, a).await.as_deref(), Some("web1.example.com"));
        assert_eq!(settle(&names, b).await, None, "no name for this address");

        let slow = Arc::new(ReverseNames::new(
            Arc::new(Slow(Duration::from_secs(2))),
            REFRESH,
            Duration::from_millis(100),
        ));
        slow.get(a);
        assert_eq!(settle(&slow, a).await, None, "timed out: no name");
    }

    #[tokio::test]
    async fn names_are_looked_up_again_after_expire() {
        let a: IpAddr = [10, 1, 0, 1].into();
        let names = Arc::new(ReverseNames::new(
            Arc::new(Slow(Duration::ZERO)),
            REFRESH,
            TIMEOUT,
        ));
        names.get(a);
        assert!(settle(&names, a).await.is_some());
        let fetched = |n: &ReverseNames| n.entries.lock().unwrap()[&a].fetched;
        let first = fetched(&names);
        names.get(a);
        assert_eq!(fetched(&names), first, "fresh: no new lookup");
        names.expire();
        assert!(names.get(a).is_some(), "the old name is used meanwhile");
        settle(&names, a).await;
        assert_ne!(fetched(&names), first);
    }
}
