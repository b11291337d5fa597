//! `service=ldap`/`ldaps` (docs/ldirectord-compat.md, Negotiate services): a simple bind (with `login`/`passwd` when both are
//! set, else anonymous), then a base-scope search of `request` (without its leading `/`;
//! empty means the root DSE) for `(objectClass=*)`.
//!
//! Up when exactly one entry comes back and, if `receive` is set, its DN matches it, as
//! ldirectord judges Net::LDAP's result. ldaps is LDAP inside TLS from the first byte.
//! Timeouts follow ldirectord: the connection under the negotiate timeout, the whole
//! check under the check timeout (its alarm).

mod ber;
mod message;

use std::net::SocketAddr;
use std::time::Duration;

use regex::Regex;
use tokio::io::AsyncWriteExt;

use super::bounded;
use super::net::{self, Failure, Stream};
use super::{BoxFuture, Check, Outcome, Target, with_deadline};
use message::{Message, Response};

/// Bytes of messages taken from one server before giving up (a base search returns one
/// small entry); also bounds how many entry DNs a hostile server can make the check keep.
const MAX_READ: usize = 8 << 20;

#[derive(Debug, Clone)]
pub struct LdapCheck {
    pub tls: bool,
    /// Bind DN and password; None binds anonymously.
    pub bind: Option<(String, String)>,
    /// The search base, without the leading `/`.
    pub base: String,
    pub receive: Option<Regex>,
    pub connect_timeout: Duration,
    /// Bounds the whole check.
    pub timeout: Duration,
}

impl Check for LdapCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(addr) = target.check_addr() else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            with_deadline(self.timeout, async move {
                match self.talk(addr).await {
                    Ok(entries) => judge(&entries, self.receive.as_ref()),
                    Err(failure) => failure.into_outcome(),
                }
            })
            .await
        })
    }
}

impl LdapCheck {
    /// Binds, searches, unbinds; returns the DNs of the entries found.
    async fn talk(&self, addr: SocketAddr) -> Result<Vec<String>, Failure> {
        let connect = net::connect(addr, self.tls);
        let stream = tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| format!("connect to {addr}: timed out"))??;
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
            consumed: 0,
        };
        let (name, password) = self
            .bind
            .as_ref()
            .map_or(("", ""), |(n, p)| (n.as_str(), p.as_str()));
        conn.send(&message::bind_request(1, name, password)).await?;
        match conn.receive(1).await? {
            Response::Bind(r) if r.code == message::SUCCESS => {}
            Response::Bind(r) => return Err(format!("bind failed: {r}").into()),
            other => return Err(format!("unexpected reply to bind: {other:?}").into()),
        }
        conn.send(&message::base_search_request(2, &self.base))
            .await?;
        let mut entries = Vec::new();
        let done = loop {
            match conn.receive(2).await? {
                Response::Entry(dn) => entries.push(dn),
                Response::Reference => {}
                Response::SearchDone(result) => break result,
                other => return Err(format!("unexpected reply to search: {other:?}").into()),
            }
        };
        let _ = conn.send(&message::unbind_request(3)).await;
        if entries.is_empty() && done.code != message::SUCCESS {
            return Err(format!("search of {:?} failed: {done}", self.base).into());
        }
        Ok(entries)
    }
}

/// ldirectord's verdict on a finished search.
fn judge(entries: &[String], receive: Option<&Regex>) -> Outcome {
    match (entries, receive) {
        ([_], None) => Outcome::Up,
        ([dn], Some(re)) if re.is_match(dn) => Outcome::Up,
        ([dn], Some(_)) => Outcome::Down(format!("entry DN {dn:?} does not match receive")),
        _ => Outcome::Down(format!(
            "search returned {} entries, expected exactly 1",
            entries.len()
        )),
    }
}

/// A stream of LDAP messages.
struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    /// Total bytes read, against [`MAX_READ`].
    consumed: usize,
}

impl Conn {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.stream.write_all(bytes).await?;
        Ok(self.stream.flush().await?)
    }

    /// The next response to message `id` (a notice of disconnection ends the check).
    async fn receive(&mut self, id: i64) -> Result<Response, Failure> {
        loop {
            let Message { id: got, response } = self.next().await?;
            if got == id {
                return Ok(response);
            }
            if got == 0
                && let Response::Extended(r) = &response
            {
                return Err(format!("server disconnected: {r}").into());
            }
        }
    }

    async fn next(&mut self) -> Result<Message, Failure> {
        let len = bounded::read_frame(
            &mut self.stream,
            &mut self.buf,
            // The largest element plus its header (a tag and at most 9 length bytes).
            ber::MAX_ELEMENT + 10,
            ber::element_len,
        )
        .await?;
        self.consumed += len;
        if self.consumed > MAX_READ {
            return Err(format!("more than {MAX_READ} bytes in reply").into());
        }
        let parsed = message::parse(&self.buf[..len]).map_err(|e| e.to_string());
        self.buf.drain(..len);
        Ok(parsed?)
    }
}

#[cfg(test)]
mod tests;
