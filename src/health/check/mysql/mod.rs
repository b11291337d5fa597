//! `service=mysql` (docs/ldirectord-compat.md, Negotiate services): log in as `login`
//! (database `database` named in the handshake), run `request` as a text query, and call
//! the real up when it returns at least one row, as ldirectord's DBI check does.
//!
//! Authentication: mysql_native_password and caching_sha2_password (MySQL 8's default),
//! also after an auth switch. caching_sha2's fast path (a scramble checked against the
//! server's in-memory cache) works on a plain connection. When the cache has no entry for
//! the account (after every server restart, until someone logs in) the server demands
//! "full authentication": the password itself, over TLS or RSA-encrypted. libmysqlclient,
//! under ldirectord's DBI, would already be on TLS (its default is "preferred": TLS whenever
//! the server offers it) and just send the password.
//!
//! This check stays on plain TCP and upgrades only when it has to: on a full-authentication
//! demand it drops the connection and logs in once more with TLS (SSLRequest, unverified
//! rustls handshake as in [`super::tls`], HandshakeResponse with the next sequence id), then
//! answers the demand with the NUL-terminated password inside TLS. Why not always TLS like
//! libmysqlclient: the fast path (one TCP exchange, no handshake) is what nearly every check
//! takes, since the one successful full authentication fills the server's cache and later
//! checks get the fast path again; a TLS handshake per check per real would cost the
//! director and the database CPU for nothing. The abandoned first connection may show up
//! in the server's aborted-connection counter once per restart.
//!
//! Without CLIENT_SSL in the server's capabilities the full authentication is reported as
//! the down reason: the alternative, encrypting the password to the server's RSA key, is
//! not implemented (ring, our crypto provider, has no RSA encryption).
//!
//! Full authentication and the mysql_clear_password plugin both put the password itself on
//! the wire, and the TLS around it is never verified: anyone who can intercept the
//! director's connection (or pose as the real server) reads it. So the check answers them
//! only with `cleartext_passwords=yes`; otherwise it sends nothing and the real is down
//! with the reason ([`NOT_SENT`]): the server demands what the operator did not allow, so
//! the check cannot pass.
//!
//! ldirectord puts no time limit on database checks; here the whole exchange runs under
//! the negotiate timeout. The query runs once (ldirectord runs it twice).

mod wire;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::net::Failure;
use super::{BoxFuture, Check, Outcome, Target, bounded, tls, with_deadline};
use wire::{AuthReply, CACHING_SHA2, Greeting, Handshake, ResultReader, Step, cap};

/// The down reason when the server asks for the password in clear and the operator has
/// not allowed it.
pub const NOT_SENT: &str = "not sent (cleartext_passwords=no)";

/// The plugin that asks for the password in clear, as such.
const CLEAR_PLUGIN: &str = "mysql_clear_password";

/// caching_sha2_password's AuthMoreData codes.
const FAST_AUTH_OK: u8 = 3;
const FULL_AUTH_NEEDED: u8 = 4;

#[derive(Debug, Clone)]
pub struct MysqlCheck {
    pub user: String,
    pub password: String,
    /// Empty: no default database.
    pub database: String,
    /// The SQL text (the request without its leading `/`).
    pub query: String,
    pub timeout: Duration,
    /// `cleartext_passwords=`: answer a demand for the password in clear.
    pub cleartext_passwords: bool,
}

impl Check for MysqlCheck {
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
                        .map(|why| format!("mysql {addr}: {why}"))
                        .into_outcome(),
                }
            })
            .await
        })
    }
}

/// How a login attempt ended.
enum Login {
    Done,
    /// caching_sha2_password wants the password itself, which only goes out over TLS.
    FullAuthNeedsTls,
}

impl MysqlCheck {
    /// Logs in (on TLS only if full authentication demands it) and runs the query;
    /// returns the number of rows.
    async fn talk(&self, addr: SocketAddr) -> Result<u64, Failure> {
        let mut conn = Conn::open(addr).await?;
        let handshake = conn.greeting().await?;
        match self.login(&mut conn, &handshake, false).await? {
            Login::Done => return self.query(conn).await,
            Login::FullAuthNeedsTls => {}
        }
        drop(conn);
        if !self.cleartext_passwords {
            return Err(Failure::Down(format!(
                "server asked for the cleartext password ({CACHING_SHA2} full authentication, \
                 over TLS that is not verified); {NOT_SENT}"
            )));
        }
        if handshake.capabilities & cap::SSL == 0 {
            return Err(Failure::Down(format!(
                "{CACHING_SHA2} wants full authentication (no cached entry for {:?}, e.g. \
                 after a server restart), which needs TLS or RSA: the server offers no TLS \
                 (no CLIENT_SSL) and this check does no RSA key exchange (ring has no RSA \
                 encryption); enable TLS on the server, log in once with the mysql client, \
                 or give the account mysql_native_password",
                self.user
            )));
        }
        let mut conn = Conn::open(addr).await?;
        let handshake = conn.greeting().await?;
        conn.send(&wire::ssl_request(&handshake, &self.database).map_err(|e| e.to_string())?)
            .await?;
        let mut conn = conn.into_tls(addr).await?;
        match self.login(&mut conn, &handshake, true).await? {
            Login::Done => self.query(conn).await,
            Login::FullAuthNeedsTls => Err("full authentication failed over TLS".to_owned().into()),
        }
    }

    /// Runs the query on a logged-in connection; the number of rows.
    async fn query<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut conn: Conn<S>,
    ) -> Result<u64, Failure> {
        conn.seq = u8::MAX; // a command starts a new sequence at 0
        conn.send(&wire::com_query(&self.query)).await?;
        let mut reader = ResultReader::default();
        let result = loop {
            let payload = conn.next().await?;
            match reader.feed(&payload).map_err(|e| e.to_string())? {
                Step::More => {}
                Step::Done(result) => break result,
            }
        };
        conn.seq = u8::MAX;
        let _ = conn.send(&wire::COM_QUIT).await;
        Ok(result.map_err(|e| format!("query failed: {e}"))?)
    }

    /// Sends the HandshakeResponse and answers the server until OK or ERR. On a TLS
    /// connection (`tls`) a full-authentication demand is answered with the password.
    async fn login<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut Conn<S>,
        handshake: &Handshake,
        tls: bool,
    ) -> Result<Login, Failure> {
        let response =
            wire::handshake_response(handshake, &self.user, &self.password, &self.database, tls)
                .map_err(|e| e.to_string())?;
        conn.send(&response).await?;
        // The plugin our first answer used (see `handshake_response`).
        let mut plugin = if wire::supported(&handshake.plugin) {
            handshake.plugin.clone()
        } else {
            wire::NATIVE.to_owned()
        };
        loop {
            let reply = wire::parse_auth_reply(&conn.next().await?).map_err(|e| e.to_string())?;
            match reply {
                AuthReply::Ok => return Ok(Login::Done),
                AuthReply::Err(e) => return Err(e.to_string().into()),
                AuthReply::Switch { plugin: wanted, .. } if wanted == CLEAR_PLUGIN => {
                    if !self.cleartext_passwords {
                        return Err(Failure::Down(format!(
                            "server asked for the cleartext password ({CLEAR_PLUGIN}{}); \
                             {NOT_SENT}",
                            if tls {
                                ", over TLS that is not verified"
                            } else {
                                ""
                            }
                        )));
                    }
                    let answer =
                        wire::cleartext_password(&self.password).map_err(|e| e.to_string())?;
                    conn.send(&answer).await?;
                    plugin = wanted;
                }
                AuthReply::Switch {
                    plugin: wanted,
                    scramble,
                } => {
                    let data = wire::auth_data(&wanted, &self.password, &scramble)
                        .ok_or_else(|| format!("auth plugin {wanted} is not supported"))?;
                    conn.send(&data).await?;
                    plugin = wanted;
                }
                AuthReply::More(data) if plugin == CACHING_SHA2 => match data.as_slice() {
                    [FAST_AUTH_OK] => {}
                    [FULL_AUTH_NEEDED] if tls => {
                        let answer =
                            wire::cleartext_password(&self.password).map_err(|e| e.to_string())?;
                        conn.send(&answer).await?;
                    }
                    [FULL_AUTH_NEEDED] => return Ok(Login::FullAuthNeedsTls),
                    _ => return Err("unexpected caching_sha2_password data".to_owned().into()),
                },
                AuthReply::More(_) => {
                    return Err(format!("unexpected extra auth data for {plugin}").into());
                }
            }
        }
    }
}

/// A stream of MySQL packets with the running sequence id.
struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
    /// Sequence id of the last packet seen or sent.
    seq: u8,
}

impl Conn<TcpStream> {
    async fn open(addr: SocketAddr) -> Result<Self, Failure> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| Failure::io("connect", &e))?;
        Ok(Self {
            stream,
            buf: Vec::new(),
            seq: 0,
        })
    }

    /// The server's greeting (an ERR greeting, e.g. host not allowed, is the error).
    async fn greeting(&mut self) -> Result<Handshake, Failure> {
        match wire::parse_greeting(&self.next().await?) {
            Ok(Greeting::Handshake(h)) => Ok(h),
            Ok(Greeting::Refused(e)) => Err(e.to_string().into()),
            Err(e) => Err(e.to_string().into()),
        }
    }

    /// Runs the TLS handshake after the SSLRequest; the sequence id carries on.
    async fn into_tls(self, addr: SocketAddr) -> Result<Conn<TlsStream<TcpStream>>, Failure> {
        // Bytes the server sent before the handshake would be read as if protected by TLS.
        if !self.buf.is_empty() {
            return Err("unexpected data from the server before TLS"
                .to_owned()
                .into());
        }
        let stream = tls::handshake(self.stream, None, addr.ip())
            .await
            .map_err(|e| Failure::io("TLS handshake", &e))?;
        Ok(Conn {
            stream,
            buf: self.buf,
            seq: self.seq,
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    async fn send(&mut self, payload: &[u8]) -> Result<(), Failure> {
        self.seq = self.seq.wrapping_add(1);
        Ok(self
            .stream
            .write_all(&wire::frame(self.seq, payload))
            .await?)
    }

    /// The next packet's payload.
    async fn next(&mut self) -> Result<Vec<u8>, Failure> {
        let len = bounded::read_frame(
            &mut self.stream,
            &mut self.buf,
            4 + wire::MAX_PACKET,
            |b: &[u8]| wire::header(b).map(|h| h.map(|(len, _)| 4 + len)),
        )
        .await?;
        self.seq = self.buf[3];
        let packet: Vec<u8> = self.buf.drain(..len).skip(4).collect();
        Ok(packet)
    }
}

#[cfg(test)]
mod tests;
