//! `checktype=connect`: a TCP connection to the check port, closed at once (spec §2.1),
//! with a reset rather than a FIN (see `net::abort_on_close`).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

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
            let addr = SocketAddr::new(target.real_addr, port);
            with_deadline(self.timeout, async move {
                match TcpStream::connect(addr).await {
                    Ok(stream) => {
                        super::net::abort_on_close(&stream);
                        drop(stream);
                        Outcome::Up
                    }
                    Err(e) => Outcome::Down(format!("connect to {addr}: {e}")),
                }
            })
            .await
        })
    }
}
