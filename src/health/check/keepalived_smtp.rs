//! keepalived 2.2.7's SMTP_CHECK exchange (check_smtp.c): connect, read the greeting,
//! send `HELO name`, read its answer, send `QUIT`, read one more line.
//!
//! What each step asks, as `smtp_engine_thread` and its helpers do it:
//! - Each line is read into a fresh 512-byte buffer (511 bytes of data): reads append to
//!   it until a `\n` appears before the first NUL byte; a full buffer is emptied before
//!   the next read (`smtp_get_line_cb`). What came after the `\n` in the same read is
//!   dropped: the next line is read afresh.
//! - The greeting must be code 220 and the HELO answer 250: `strtoul` must stop after
//!   exactly three characters, at the line's end or a space, which for these codes means
//!   the line starts with the three digits followed by a space or nothing (so `220-` of a
//!   multi-line greeting, or `220` followed by `\r`, fails).
//! - `HELO <helo_name>\r\n` is formatted into the same buffer (cut at 511 bytes).
//! - After `QUIT\r\n`, any line passes; the connection closing first fails.
//! - Every read, write and the connect get `connect_timeout` each; EOF or an error on a
//!   read or write fails the check.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::net::{self, Failure};
use super::{BoxFuture, Check, Outcome, Source, Target};

/// keepalived's line buffer (`SMTP_BUFF_MAX`), its NUL included.
const BUFF_MAX: usize = 512;

/// SMTP_CHECK against the real (or its `connect_port`).
#[derive(Debug, Clone)]
pub struct KeepalivedSmtp {
    pub helo_name: String,
    /// `connect_timeout`, per step.
    pub timeout: Duration,
}

/// One line as `smtp_get_line_cb` assembles it.
#[derive(Debug, Default)]
struct LineBuffer(Vec<u8>);

impl LineBuffer {
    /// Room for the next read, after emptying a full buffer.
    fn room(&mut self) -> usize {
        if self.0.len() >= BUFF_MAX - 1 {
            self.0.clear();
        }
        BUFF_MAX - 1 - self.0.len()
    }

    /// Appends a read; the line (without its `\n`) once one ends before any NUL.
    fn feed(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        self.0.extend_from_slice(data);
        let text = self.0.split(|&b| b == 0).next().unwrap_or_default();
        let nl = text.iter().position(|&b| b == b'\n')?;
        Some(text[..nl].to_vec())
    }
}

/// `smtp_get_status(line) == code`.
fn has_code(line: &[u8], code: [u8; 3]) -> bool {
    line.starts_with(&code) && matches!(line.get(3), None | Some(b' '))
}

/// The HELO line as keepalived formats it.
fn helo(name: &str) -> Vec<u8> {
    let mut line = format!("HELO {name}\r\n").into_bytes();
    line.truncate(BUFF_MAX - 1);
    line
}

impl Check for KeepalivedSmtp {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(port) = target.check_port else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            let addr = SocketAddr::new(target.check_ip(), port);
            match self.exchange(addr, target.route.source()).await {
                Ok(()) => Outcome::Up,
                Err(outcome) => outcome,
            }
        })
    }
}

impl KeepalivedSmtp {
    async fn exchange(&self, addr: SocketAddr, from: Source<'_>) -> Result<(), Outcome> {
        let down = |what: &str| Outcome::Down(format!("{what} server {addr}"));
        let mut s = timeout(self.timeout, net::tcp_from(addr, from))
            .await
            .map_err(|_| down("Connection timeout to"))?
            .map_err(Failure::into_outcome)?;
        let greeting = self.line(&mut s, addr).await?;
        if !has_code(&greeting, *b"220") {
            return Err(down("Bad greeting banner from"));
        }
        self.put(&mut s, &helo(&self.helo_name), addr).await?;
        let answer = self.line(&mut s, addr).await?;
        if !has_code(&answer, *b"250") {
            return Err(down("Bad HELO response from"));
        }
        self.put(&mut s, b"QUIT\r\n", addr).await?;
        self.line(&mut s, addr).await?;
        Ok(())
    }

    async fn line(&self, s: &mut TcpStream, addr: SocketAddr) -> Result<Vec<u8>, Outcome> {
        let mut line = LineBuffer::default();
        let mut buf = [0u8; BUFF_MAX];
        loop {
            let room = line.room();
            let n = match timeout(self.timeout, s.read(&mut buf[..room])).await {
                Err(_) => return Err(Outcome::Down(format!("Read timeout from server {addr}"))),
                Ok(Ok(n)) if n > 0 => n,
                Ok(_) => return Err(Outcome::Down(format!("Read failure from server {addr}"))),
            };
            if let Some(l) = line.feed(&buf[..n]) {
                return Ok(l);
            }
        }
    }

    async fn put(&self, s: &mut TcpStream, data: &[u8], addr: SocketAddr) -> Result<(), Outcome> {
        match timeout(self.timeout, s.write_all(data)).await {
            Err(_) => Err(Outcome::Down(format!("Write timeout to server {addr}"))),
            Ok(Err(_)) => Err(Outcome::Down(format!("Write failure to server {addr}"))),
            Ok(Ok(())) => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "keepalived_smtp_tests.rs"]
mod tests;
