//! `service=pgsql` (docs/ldirectord-compat.md, Negotiate services): log in as `login` to
//! `database` (protocol 3.0; cleartext, md5 or SCRAM-SHA-256 authentication), run
//! `request` as one simple query, and call the real up when it returns at least one row,
//! as ldirectord's DBI check does.
//!
//! TLS follows libpq's default, `sslmode=prefer` (what ldirectord's DBD::Pg gets): the
//! check opens with an SSLRequest and runs the whole login and query inside TLS when the
//! server answers `S`, in plain text when it answers `N`. Like libpq, it tries once more
//! without TLS when the TLS handshake fails or the server refuses the TLS session before
//! authenticating (a `hostnossl` line in pg_hba.conf), so a server that worked in plain
//! text keeps working. The certificate is not verified (as `prefer` does not; see
//! [`super::tls`]) and no SNI is sent for an IP. SCRAM over TLS does not use channel binding
//! (SCRAM-SHA-256 with the `n,,` header, which servers offering -PLUS accept).
//!
//! A server that asks for the password in clear (`password` in pg_hba.conf) gets it only
//! with `cleartext_passwords=yes`: the password would cross the network readable, in plain
//! text after a fallback or inside TLS that is never verified. Otherwise nothing is sent
//! and the real is down with the reason ([`NOT_SENT`]); md5 and SCRAM never reveal it.
//!
//! ldirectord puts no time limit on database checks (a hung server stalls its loop); here
//! the whole exchange runs under the negotiate timeout like every other protocol check.
//! The query runs once (ldirectord executes it twice and counts the second run).

mod scram;
mod wire;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::net::Failure;
use super::{BoxFuture, Check, Outcome, Target, bounded, crypto, net, tls, with_deadline};
use scram::ScramClient;
use wire::{Auth, QueryTally};

#[derive(Debug, Clone)]
pub struct PgsqlCheck {
    pub user: String,
    pub password: String,
    /// Empty: the server's default (the user's name).
    pub database: String,
    /// The SQL text (the request without its leading `/`).
    pub query: String,
    pub timeout: Duration,
    /// `cleartext_passwords=`: answer a request for the password in clear.
    pub cleartext_passwords: bool,
}

/// The down reason when the server asks for the password in clear and the operator has
/// not allowed it.
pub const NOT_SENT: &str =
    "server asked for a cleartext password; not sent (cleartext_passwords=no)";

impl Check for PgsqlCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(addr) = target.check_addr() else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            with_deadline(self.timeout, async move {
                match self.talk(addr).await {
                    Ok(0) => Outcome::Down("query returned no rows".to_owned()),
                    Ok(_) => Outcome::Up,
                    Err(failure) => failure
                        .map(|why| format!("pgsql {addr}: {why}"))
                        .into_outcome(),
                }
            })
            .await
        })
    }
}

/// How one connection attempt ended.
enum Attempt {
    Done(Result<u64, Failure>),
    /// TLS was tried and failed or was refused before authentication: libpq's `prefer`
    /// tries again in plain text. The reason, for the report if that fails too.
    RetryPlain(String),
}

/// A failed authentication exchange.
enum AuthFailure {
    /// An ErrorResponse before AuthenticationOk (pg_hba refusal, wrong password…).
    Refused(String),
    Other(Failure),
}

impl From<String> for AuthFailure {
    fn from(why: String) -> Self {
        Self::Other(Failure::Down(why))
    }
}

impl From<Failure> for AuthFailure {
    fn from(failure: Failure) -> Self {
        Self::Other(failure)
    }
}

impl PgsqlCheck {
    /// Logs in (TLS preferred) and runs the query; returns the number of rows.
    async fn talk(&self, addr: SocketAddr) -> Result<u64, Failure> {
        match self.attempt(addr, true).await {
            Attempt::Done(result) => result,
            Attempt::RetryPlain(over_tls) => match self.attempt(addr, false).await {
                Attempt::Done(Ok(rows)) => Ok(rows),
                // The plain attempt could not be made: the server was not judged.
                Attempt::Done(Err(local @ Failure::Local(_))) => Err(local),
                Attempt::Done(Err(Failure::Down(plain))) | Attempt::RetryPlain(plain) => Err(
                    Failure::Down(format!("over TLS: {over_tls}; without TLS: {plain}")),
                ),
            },
        }
    }

    /// One connection: SSLRequest first when `try_tls`, then startup, login and query.
    async fn attempt(&self, addr: SocketAddr, try_tls: bool) -> Attempt {
        let tcp = match TcpStream::connect(addr).await {
            Ok(tcp) => tcp,
            Err(e) => return Attempt::Done(Err(Failure::io("connect", &e))),
        };
        let (stream, tls): (net::Stream, bool) = if try_tls {
            match prefer_tls(tcp, addr).await {
                Ok(Negotiated::Tls(stream)) => (stream, true),
                Ok(Negotiated::Plain(stream)) => (stream, false),
                Err(Negotiation::HandshakeFailed(why)) => return Attempt::RetryPlain(why),
                Err(Negotiation::Failed(failure)) => return Attempt::Done(Err(failure)),
            }
        } else {
            (Box::new(tcp), false)
        };
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
        };
        match self.login(&mut conn).await {
            Ok(()) => Attempt::Done(self.query(&mut conn).await),
            Err(AuthFailure::Refused(why)) if tls => Attempt::RetryPlain(why),
            Err(AuthFailure::Refused(why)) => Attempt::Done(Err(Failure::Down(why))),
            Err(AuthFailure::Other(failure)) => Attempt::Done(Err(failure)),
        }
    }

    async fn login(&self, conn: &mut Conn) -> Result<(), AuthFailure> {
        conn.send(&wire::startup(&self.user, &self.database).map_err(|e| e.to_string())?)
            .await?;
        self.authenticate(conn).await
    }

    /// Runs the query on a ready connection; the number of rows.
    async fn query(&self, conn: &mut Conn) -> Result<u64, Failure> {
        conn.send(&wire::query(&self.query).map_err(|e| e.to_string())?)
            .await?;
        let mut tally = QueryTally::default();
        loop {
            let frame = conn.next().await?;
            if tally.feed(wire::split(&frame)) {
                break;
            }
        }
        let _ = conn.send(&wire::terminate()).await;
        match tally.error {
            Some(e) => Err(Failure::Down(format!("query failed: {e}"))),
            None => Ok(tally.rows),
        }
    }

    /// Answers the server's authentication requests until ReadyForQuery.
    async fn authenticate(&self, conn: &mut Conn) -> Result<(), AuthFailure> {
        let mut scram: Option<ScramClient> = None;
        let mut authenticated = false;
        loop {
            let frame = conn.next().await?;
            let message = wire::split(&frame);
            match message.tag {
                b'R' => {}
                b'E' => {
                    let why = wire::parse_error(message.body).to_string();
                    return Err(if authenticated {
                        AuthFailure::from(why)
                    } else {
                        AuthFailure::Refused(why)
                    });
                }
                b'Z' => return Ok(()),
                // ParameterStatus, BackendKeyData, notices, NegotiateProtocolVersion.
                _ => continue,
            }
            let auth = wire::parse_auth(message.body).map_err(|e| e.to_string())?;
            let reply = match auth {
                Auth::Ok => {
                    authenticated = true;
                    continue;
                }
                Auth::Cleartext if !self.cleartext_passwords => {
                    return Err(AuthFailure::from(NOT_SENT.to_owned()));
                }
                Auth::Cleartext => wire::password(&self.password),
                Auth::Md5(salt) => {
                    wire::password(&wire::md5_password(&self.user, &self.password, salt))
                }
                Auth::Sasl(mechanisms) => {
                    if !mechanisms.iter().any(|m| m == "SCRAM-SHA-256") {
                        return Err(AuthFailure::from(format!(
                            "no supported SASL mechanism among {mechanisms:?}"
                        )));
                    }
                    let nonce = scram::base64_encode(&crypto::random::<18>()?);
                    let client = ScramClient::new("", &self.password, &nonce);
                    let first = client.client_first();
                    scram = Some(client);
                    wire::sasl_initial("SCRAM-SHA-256", first.as_bytes())
                }
                Auth::SaslContinue(data) => {
                    let mut client = scram
                        .take()
                        .ok_or_else(|| "SASL continue before SASL start".to_owned())?;
                    let server_first = String::from_utf8_lossy(&data).into_owned();
                    // PBKDF2 may take milliseconds: keep it off the async workers.
                    let (client, answer) = tokio::task::spawn_blocking(move || {
                        let answer = client.client_final(&server_first);
                        (client, answer)
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                    let answer = answer.map_err(|e| e.to_string())?;
                    scram = Some(client);
                    Ok(wire::sasl_response(answer.as_bytes()))
                }
                Auth::SaslFinal(data) => {
                    let client = scram
                        .as_ref()
                        .ok_or_else(|| "SASL final before SASL start".to_owned())?;
                    client
                        .verify_server_final(&String::from_utf8_lossy(&data))
                        .map_err(|e| e.to_string())?;
                    continue;
                }
                Auth::Other(code) => {
                    return Err(AuthFailure::from(format!(
                        "authentication method {code} (Kerberos/GSSAPI/SSPI) is not supported"
                    )));
                }
            };
            conn.send(&reply.map_err(|e| e.to_string())?).await?;
        }
    }
}

/// What the SSLRequest led to.
enum Negotiated {
    Tls(net::Stream),
    Plain(net::Stream),
}

enum Negotiation {
    /// The server said `S` but the TLS handshake failed: worth a plain retry.
    HandshakeFailed(String),
    /// The server closed, refused with an error, or answered garbage.
    Failed(Failure),
}

/// libpq's `sslmode=prefer` opening: SSLRequest, then TLS on `S`, plain text on `N`.
async fn prefer_tls(mut tcp: TcpStream, addr: SocketAddr) -> Result<Negotiated, Negotiation> {
    let failed = |why: String| Negotiation::Failed(Failure::Down(why));
    tcp.write_all(&wire::ssl_request())
        .await
        .map_err(|e| Negotiation::Failed(e.into()))?;
    // Exactly one byte: anything the server sent after `S` must go through TLS, not be
    // taken as plain text (CVE-2021-23222).
    let mut answer = [0u8; 1];
    match tcp.read(&mut answer).await {
        Ok(0) => return Err(failed("connection closed after the SSLRequest".to_owned())),
        Ok(_) => {}
        Err(e) => return Err(Negotiation::Failed(e.into())),
    }
    match answer[0] {
        b'S' => {
            let stream = tls::handshake(tcp, None, addr.ip())
                .await
                .map_err(|e| Negotiation::HandshakeFailed(format!("TLS handshake: {e}")))?;
            Ok(Negotiated::Tls(Box::new(stream)))
        }
        b'N' => Ok(Negotiated::Plain(Box::new(tcp))),
        // An ErrorResponse (e.g. the server cannot start a backend).
        b'E' => {
            let mut conn = Conn {
                stream: Box::new(tcp),
                buf: vec![b'E'],
            };
            let frame = conn.next().await.map_err(Negotiation::Failed)?;
            Err(failed(
                wire::parse_error(wire::split(&frame).body).to_string(),
            ))
        }
        other => Err(failed(format!(
            "unexpected answer {:?} to the SSLRequest",
            char::from(other)
        ))),
    }
}

/// A stream of backend messages (plain or TLS).
struct Conn {
    stream: net::Stream,
    buf: Vec<u8>,
}

impl Conn {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        Ok(self.stream.write_all(bytes).await?)
    }

    /// The next complete backend message (tag, length and body).
    async fn next(&mut self) -> Result<Vec<u8>, Failure> {
        let len = bounded::read_frame(
            &mut self.stream,
            &mut self.buf,
            1 + wire::MAX_MESSAGE,
            wire::message_len,
        )
        .await?;
        Ok(self.buf.drain(..len).collect())
    }
}

#[cfg(test)]
mod tests;
