//! `checktype=N` ("combined", docs/ldirectord-compat.md, Check types): a negotiate check,
//! then N cycles of connect-only checks, then negotiate again; a failed connect makes the
//! next cycle negotiate.

use std::sync::atomic::{AtomicU32, Ordering};

use super::{BoxFuture, Check, Outcome, Target};

#[derive(Debug)]
pub struct CombinedCheck {
    pub negotiate: Box<dyn Check>,
    pub connect: Box<dyn Check>,
    /// Connect-only cycles between two negotiate checks.
    pub connects: u32,
    /// Connect cycles left before the next negotiate; 0 = negotiate next.
    left: AtomicU32,
}

impl CombinedCheck {
    pub fn new(negotiate: Box<dyn Check>, connect: Box<dyn Check>, connects: u32) -> Self {
        Self {
            negotiate,
            connect,
            connects,
            left: AtomicU32::new(0),
        }
    }
}

impl Check for CombinedCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let left = self.left.load(Ordering::Relaxed);
            if left == 0 {
                let outcome = self.negotiate.run(target).await;
                let next = if outcome == Outcome::Up {
                    self.connects
                } else {
                    0
                };
                self.left.store(next, Ordering::Relaxed);
                outcome
            } else {
                let outcome = self.connect.run(target).await;
                let next = if outcome == Outcome::Up { left - 1 } else { 0 };
                self.left.store(next, Ordering::Relaxed);
                outcome
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::check::{AlwaysUp, Unsupported};
    use crate::ipvs::model::{Protocol, ServiceKey};

    #[derive(Debug, Default)]
    struct Counting(AtomicU32);

    impl Check for Counting {
        fn run<'a>(&'a self, _t: &'a Target) -> BoxFuture<'a, Outcome> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Box::pin(async { Outcome::Up })
        }
    }

    fn target() -> Target {
        Target {
            virtual_key: ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: "10.0.0.1".parse().unwrap(),
                port: 80,
            },
            real_addr: "127.0.0.1".parse().unwrap(),
            real_port: 80,
            check_port: Some(80),
            route: crate::health::check::Route::default(),
        }
    }

    #[tokio::test]
    async fn negotiates_every_n_plus_one_cycles_and_after_a_failed_connect() {
        let c = CombinedCheck::new(Box::new(Counting::default()), Box::new(AlwaysUp), 2);
        let t = target();
        for _ in 0..6 {
            assert_eq!(c.run(&t).await, Outcome::Up);
        }
        let negotiated = format!("{:?}", c.negotiate);
        assert!(negotiated.contains("Counting(2)"), "{negotiated}");

        let failing = CombinedCheck::new(
            Box::new(Counting::default()),
            Box::new(Unsupported("x".into())),
            3,
        );
        assert_eq!(failing.run(&t).await, Outcome::Up);
        assert!(matches!(failing.run(&t).await, Outcome::Down(_)));
        assert_eq!(failing.run(&t).await, Outcome::Up, "negotiates again");
    }
}
