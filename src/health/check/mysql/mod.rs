//! `service=mysql` (spec §2.3): log in as `login` (database `database` named in the
//! handshake), run `request` as a text query, and call the real up when it returns at
//! least one row, as ldirectord's DBI check does.
//!
//! Authentication: mysql_native_password, and caching_sha2_password (MySQL 8's default)
//! on its fast path. When the server has no cached entry for the account it asks for
//! "full authentication", which needs TLS or an RSA key exchange; the check reports that
//! as the reason rather than sending the password in clear.
//!
//! ldirectord puts no time limit on database checks; here the whole exchange runs under
//! the negotiate timeout. The query runs once (ldirectord runs it twice).

mod wire;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::{BoxFuture, Check, Outcome, Target, net, with_deadline};
use wire::{AuthReply, Greeting, ResultReader, Step};

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
                    Err(why) => Outcome::Down(format!("mysql {addr}: {why}")),
                }
            })
            .await
        })
    }
}

impl MysqlCheck {
    /// Logs in and runs the query; returns the number of rows.
    async fn talk(&self, addr: SocketAddr) -> Result<u64, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
            seq: 0,
        };
        self.login(&mut conn).await?;
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
        result.map_err(|e| format!("query failed: {e}"))
    }

    async fn login(&self, conn: &mut Conn) -> Result<(), String> {
        let handshake = match wire::parse_greeting(&conn.next().await?) {
            Ok(Greeting::Handshake(h)) => h,
            Ok(Greeting::Refused(e)) => return Err(e.to_string()),
            Err(e) => return Err(e.to_string()),
        };
        let response =
            wire::handshake_response(&handshake, &self.user, &self.password, &self.database)
                .map_err(|e| e.to_string())?;
        conn.send(&response).await?;
        // The plugin our first answer used (see `handshake_response`).
        let mut plugin = if wire::supported(&handshake.plugin) {
            handshake.plugin
        } else {
            wire::NATIVE.to_owned()
        };
        loop {
            let reply = wire::parse_auth_reply(&conn.next().await?).map_err(|e| e.to_string())?;
            match reply {
                AuthReply::Ok => return Ok(()),
                AuthReply::Err(e) => return Err(e.to_string()),
                AuthReply::Switch {
                    plugin: wanted,
                    scramble,
                } => {
                    let data = wire::auth_data(&wanted, &self.password, &scramble)
                        .ok_or_else(|| format!("auth plugin {wanted} is not supported"))?;
                    conn.send(&data).await?;
                    plugin = wanted;
                }
                AuthReply::More(data) if plugin == wire::CACHING_SHA2 => match data.as_slice() {
                    [FAST_AUTH_OK] => {}
                    [FULL_AUTH_NEEDED] => {
                        return Err(format!(
                            "{} wants full authentication (no cached entry for {:?}, e.g. after \
                             a server restart), which needs TLS or RSA; this check only does \
                             the fast path: log in once with the mysql client, or give the \
                             account mysql_native_password",
                            wire::CACHING_SHA2,
                            self.user
                        ));
                    }
                    _ => return Err("unexpected caching_sha2_password data".to_owned()),
                },
                AuthReply::More(_) => {
                    return Err(format!("unexpected extra auth data for {plugin}"));
                }
            }
        }
    }
}

/// A stream of MySQL packets with the running sequence id.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Sequence id of the last packet seen or sent.
    seq: u8,
}

impl Conn {
    async fn send(&mut self, payload: &[u8]) -> Result<(), String> {
        self.seq = self.seq.wrapping_add(1);
        self.stream
            .write_all(&wire::frame(self.seq, payload))
            .await
            .map_err(|e| e.to_string())
    }

    /// The next packet's payload.
    async fn next(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if let Some((len, seq)) = wire::header(&self.buf).map_err(|e| e.to_string())?
                && self.buf.len() >= 4 + len
            {
                self.seq = seq;
                let packet: Vec<u8> = self.buf.drain(..4 + len).collect();
                return Ok(packet[4..].to_vec());
            }
            net::fill(&mut self.stream, &mut self.buf).await?;
        }
    }
}

#[cfg(test)]
mod tests;
