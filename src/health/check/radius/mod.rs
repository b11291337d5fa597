//! `service=radius` (docs/ldirectord-compat.md, Negotiate services): an Access-Request with User-Name = `login`, User-Password
//! = `passwd` hidden with the shared `secret`, and NAS-IP-Address = our source address
//! (as Authen::Radius's `check_pwd`), sent over UDP to the real's check port whatever the
//! virtual's protocol. Up only on an Access-Accept whose Response Authenticator proves it
//! came from a server holding the same secret.
//!
//! Unlike Authen::Radius the request also carries a Message-Authenticator (servers patched
//! for Blast-RADIUS may insist on it) and is retransmitted while the deadline allows,
//! since one lost datagram should not mark a real down. Replies with a foreign id or a
//! wrong authenticator are ignored, so a stray datagram cannot decide the check.

mod wire;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::time::Instant;

use super::crypto;
use super::net::{self, Failure};
use super::{BoxFuture, Check, Outcome, Target};
use wire::{attr, code};

#[derive(Debug, Clone)]
pub struct RadiusCheck {
    pub login: String,
    pub passwd: String,
    pub secret: String,
    /// Bounds the whole check (ldirectord's checktimeout alarm).
    pub timeout: Duration,
}

impl Check for RadiusCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(addr) = target.check_addr() else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            let deadline = Instant::now() + self.timeout;
            match self.exchange(addr, deadline).await {
                Ok(outcome) => outcome,
                Err(failure) => failure
                    .map(|why| format!("radius {addr}: {why}"))
                    .into_outcome(),
            }
        })
    }
}

impl RadiusCheck {
    async fn exchange(&self, addr: SocketAddr, deadline: Instant) -> Result<Outcome, Failure> {
        let sock = net::udp(addr).await?;
        let source = sock.local_addr()?.ip();
        let [id] = crypto::random::<1>()?;
        let authenticator = crypto::random::<16>()?;
        let packet = self
            .request(id, &authenticator, source)
            .map_err(|e| e.to_string())?;

        let resend_every = (self.timeout / 3).max(Duration::from_millis(500));
        let mut problem = None;
        // A datagram longer than the buffer is cut by the kernel: the read is bounded.
        let mut buf = vec![0u8; wire::MAX_PACKET];
        'send: loop {
            sock.send(&packet).await?;
            let resend_at = (Instant::now() + resend_every).min(deadline);
            loop {
                let n = match tokio::time::timeout_at(resend_at, sock.recv(&mut buf)).await {
                    Err(_) if resend_at < deadline => continue 'send,
                    Err(_) => {
                        return Err(Failure::Down(problem.unwrap_or_else(|| {
                            format!("no reply within {} ms", self.timeout.as_millis())
                        })));
                    }
                    // ICMP port unreachable on the connected socket.
                    Ok(Err(e)) => return Err(e.into()),
                    Ok(Ok(n)) => n,
                };
                match wire::verify_reply(&buf[..n], id, &authenticator, self.secret.as_bytes()) {
                    Ok(reply) => return Ok(judge(&reply)),
                    Err(e) => problem = Some(format!("ignored a reply: {e}")),
                }
            }
        }
    }

    fn request(
        &self,
        id: u8,
        authenticator: &[u8; 16],
        source: IpAddr,
    ) -> Result<Vec<u8>, wire::RadiusError> {
        let secret = self.secret.as_bytes();
        let hidden = wire::hide_password(self.passwd.as_bytes(), secret, authenticator)?;
        let nas = match source {
            IpAddr::V4(ip) => (attr::NAS_IP_ADDRESS, ip.octets().to_vec()),
            IpAddr::V6(ip) => (attr::NAS_IPV6_ADDRESS, ip.octets().to_vec()),
        };
        let attributes = [
            (attr::USER_NAME, self.login.as_bytes().to_vec()),
            (attr::USER_PASSWORD, hidden),
            nas,
        ];
        wire::access_request(id, authenticator, &attributes, secret, true)
    }
}

fn judge(reply: &wire::Reply) -> Outcome {
    let name = match reply.code {
        code::ACCESS_ACCEPT => return Outcome::Up,
        code::ACCESS_REJECT => "Access-Reject".to_owned(),
        code::ACCESS_CHALLENGE => "Access-Challenge".to_owned(),
        other => format!("reply code {other}"),
    };
    Outcome::Down(match &reply.message {
        Some(text) => format!("{name}: {text}"),
        None => name,
    })
}

#[cfg(test)]
mod tests;
