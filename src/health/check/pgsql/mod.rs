//! `service=pgsql` (spec §2.3): log in as `login` to `database` (protocol 3.0; cleartext,
//! md5 or SCRAM-SHA-256 authentication), run `request` as one simple query, and call the
//! real up when it returns at least one row, as ldirectord's DBI check does.
//!
//! ldirectord puts no time limit on database checks (a hung server stalls its loop); here
//! the whole exchange runs under the negotiate timeout like every other protocol check.
//! The query runs once (ldirectord executes it twice and counts the second run).

mod scram;
mod wire;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::{BoxFuture, Check, Outcome, Target, crypto, net, with_deadline};
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
}

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
                    Err(why) => Outcome::Down(format!("pgsql {addr}: {why}")),
                }
            })
            .await
        })
    }
}

impl PgsqlCheck {
    /// Logs in and runs the query; returns the number of rows.
    async fn talk(&self, addr: SocketAddr) -> Result<u64, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
        };
        conn.send(&wire::startup(&self.user, &self.database).map_err(|e| e.to_string())?)
            .await?;
        self.authenticate(&mut conn).await?;
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
            Some(e) => Err(format!("query failed: {e}")),
            None => Ok(tally.rows),
        }
    }

    /// Answers the server's authentication requests until ReadyForQuery.
    async fn authenticate(&self, conn: &mut Conn) -> Result<(), String> {
        let mut scram: Option<ScramClient> = None;
        loop {
            let frame = conn.next().await?;
            let message = wire::split(&frame);
            match message.tag {
                b'R' => {}
                b'E' => return Err(wire::parse_error(message.body).to_string()),
                b'Z' => return Ok(()),
                // ParameterStatus, BackendKeyData, notices, NegotiateProtocolVersion.
                _ => continue,
            }
            let auth = wire::parse_auth(message.body).map_err(|e| e.to_string())?;
            let reply = match auth {
                Auth::Ok => continue,
                Auth::Cleartext => wire::password(&self.password),
                Auth::Md5(salt) => {
                    wire::password(&wire::md5_password(&self.user, &self.password, salt))
                }
                Auth::Sasl(mechanisms) => {
                    if !mechanisms.iter().any(|m| m == "SCRAM-SHA-256") {
                        return Err(format!("no supported SASL mechanism among {mechanisms:?}"));
                    }
                    let nonce = scram::base64_encode(&crypto::random::<18>()?);
                    let client = ScramClient::new("", &self.password, &nonce);
                    let first = client.client_first();
                    scram = Some(client);
                    wire::sasl_initial("SCRAM-SHA-256", first.as_bytes())
                }
                Auth::SaslContinue(data) => {
                    let mut client = scram.take().ok_or("SASL continue before SASL start")?;
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
                    let client = scram.as_ref().ok_or("SASL final before SASL start")?;
                    client
                        .verify_server_final(&String::from_utf8_lossy(&data))
                        .map_err(|e| e.to_string())?;
                    continue;
                }
                Auth::Other(code) => {
                    return Err(format!(
                        "authentication method {code} (Kerberos/GSSAPI/SSPI) is not supported"
                    ));
                }
            };
            conn.send(&reply.map_err(|e| e.to_string())?).await?;
        }
    }
}

/// A stream of backend messages.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| e.to_string())
    }

    /// The next complete backend message (tag, length and body).
    async fn next(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if let Some(len) = wire::message_len(&self.buf).map_err(|e| e.to_string())?
                && self.buf.len() >= len
            {
                return Ok(self.buf.drain(..len).collect());
            }
            net::fill(&mut self.stream, &mut self.buf).await?;
        }
    }
}

#[cfg(test)]
mod tests;
