//! `checktype=connect`: a TCP connection to the check port, closed at once
//! (docs/ldirectord-compat.md, Check types), with a reset rather than a FIN (see
//! `net::abort_on_close`). A connection this machine could not even start (no descriptor,
//! no local port) is a local fault, not a down real.

use std::net::SocketAddr;
use std::time::Duration;

use super::{BoxFuture, Check, Outcome, Target, with_deadline};

#[derive(Debug, Clone)]
pub struct ConnectCheck {
    /// The effective checktimeout.
    pub timeout: Duration,
}

impl ConnectCheck {
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl Check for ConnectCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(port) = target.check_port else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            let addr = SocketAddr::new(target.check_ip(), port);
            with_deadline(self.timeout, async move {
                match super::net::tcp_from(addr, target.route.source()).await {
                    Ok(stream) => {
                        super::net::abort_on_close(&stream);
                        drop(stream);
                        Outcome::Up
                    }
                    Err(failure) => failure.into_outcome(),
                }
            })
            .await
        })
    }
}
