//! Piranha's nanny check (docs/piranha.md, The check): connect to the real at the
//! virtual's port, send `send`, and wait for a reply that contains `expect` (or matches it
//! as a regular expression); over UDP, send one datagram and wait for a reply datagram; or
//! run `send_program` through `/bin/sh -c` with `%h` replaced by the real's address and
//! check its output the same way. The whole exchange must end within the timeout.
//!
//! Replies are bounded: [`MAX_REPLY`] bytes are looked at, and a reply that has not matched
//! by then fails, so a real that streams forever costs the director neither memory nor the
//! whole timeout.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use regex::bytes::Regex;
use rustix::process::Signal;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::time::Instant;

use super::external::{KILL_GRACE, Run, spawn_failure};
use super::net::{self, Failure};
use super::{BoxFuture, Check, Outcome, Target};

/// How much of a reply (or a program's output) is matched.
pub const MAX_REPLY: usize = 65_536;

/// What a reply must hold.
#[derive(Debug, Clone)]
pub enum Match {
    Contains(Vec<u8>),
    Regex(Regex),
}

impl Match {
    fn found(&self, reply: &[u8]) -> bool {
        match self {
            Self::Contains(needle) if needle.is_empty() => true,
            Self::Contains(needle) => reply.windows(needle.len()).any(|w| w == needle),
            Self::Regex(re) => re.is_match(reply),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NannyCheck {
    pub send: Option<Vec<u8>>,
    pub expect: Option<Match>,
    pub program: Option<String>,
    pub udp: bool,
    pub timeout: Duration,
}

impl Check for NannyCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let deadline = Instant::now() + self.timeout;
            if let Some(program) = &self.program {
                let command = program.replace("%h", &target.real_addr.to_string());
                return self.program(&command, deadline).await;
            }
            let Some(addr) = target.check_addr() else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            let result = if self.udp {
                self.udp(addr, deadline).await
            } else {
                self.tcp(addr, deadline).await
            };
            match result {
                Ok(()) => Outcome::Up,
                Err(f) => f.into_outcome(),
            }
        })
    }
}

impl NannyCheck {
    fn timed_out(&self) -> Failure {
        Failure::Down(format!("timed out after {} ms", self.timeout.as_millis()))
    }

    async fn tcp(&self, addr: SocketAddr, deadline: Instant) -> Result<(), Failure> {
        let mut tcp = tokio::time::timeout_at(deadline, net::tcp(addr))
            .await
            .map_err(|_| self.timed_out())??;
        net::abort_on_close(&tcp);
        if let Some(send) = &self.send {
            tokio::time::timeout_at(deadline, tcp.write_all(send))
                .await
                .map_err(|_| self.timed_out())?
                .map_err(|e| Failure::io(format_args!("send to {addr}"), &e))?;
        }
        let Some(expect) = &self.expect else {
            return Ok(());
        };
        match tokio::time::timeout_at(deadline, read_until(&mut tcp, expect)).await {
            Err(_) => Err(self.timed_out()),
            Ok(Err(e)) => Err(Failure::io(format_args!("read from {addr}"), &e)),
            Ok(Ok(Reply::Found)) => Ok(()),
            Ok(Ok(reply)) => Err(Failure::Down(reply.why())),
        }
    }

    async fn udp(&self, addr: SocketAddr, deadline: Instant) -> Result<(), Failure> {
        let failed = |e: std::io::Error| Failure::io(format_args!("udp {addr}"), &e);
        let sock = tokio::time::timeout_at(deadline, net::udp(addr))
            .await
            .map_err(|_| self.timed_out())?
            .map_err(failed)?;
        sock.send(self.send.as_deref().unwrap_or_default())
            .await
            .map_err(failed)?;
        let mut reply = Vec::new();
        let mut buf = vec![0u8; MAX_REPLY];
        loop {
            let n = match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
                Err(_) if reply.is_empty() => {
                    return Err(Failure::Down(format!(
                        "no reply within {} ms",
                        self.timeout.as_millis()
                    )));
                }
                Err(_) => return Err(Failure::Down(Reply::NotFound.why())),
                // A connected UDP socket reports the ICMP port-unreachable here.
                Ok(Err(e)) => return Err(failed(e)),
                Ok(Ok(n)) => n,
            };
            let Some(expect) = &self.expect else {
                return Ok(());
            };
            let room = MAX_REPLY.saturating_sub(reply.len());
            reply.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
            if expect.found(&reply) {
                return Ok(());
            }
            if reply.len() >= MAX_REPLY {
                return Err(Failure::Down(Reply::TooLong.why()));
            }
        }
    }

    async fn program(&self, command: &str, deadline: Instant) -> Outcome {
        let spawned = Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => return spawn_failure("/bin/sh", &e),
        };
        let stdout = child.stdout.take();
        let Some(mut run) = Run::new(child) else {
            return Outcome::LocalFault(format!("{command} started without a process id"));
        };
        let Some(mut stdout) = stdout else {
            return Outcome::LocalFault(format!("{command} started without its output"));
        };
        let exchange = async {
            let Some(expect) = &self.expect else {
                // Its output is read and dropped, so a talkative program cannot block on a
                // full pipe.
                let _ = tokio::io::copy(&mut stdout, &mut tokio::io::sink()).await;
                return match run.finish().await {
                    Ok(status) if status.success() => Outcome::Up,
                    Ok(status) => Outcome::Down(format!("{command} exited with {status}")),
                    Err(e) => Outcome::LocalFault(format!("waiting for {command}: {e}")),
                };
            };
            let reply = read_until(&mut stdout, expect).await;
            // The verdict is the output's: the program is not waited for after a match
            // (dropping `run` ends its group).
            if !matches!(reply, Ok(Reply::Found)) {
                let _ = run.finish().await;
            }
            match reply {
                Ok(Reply::Found) => Outcome::Up,
                Ok(reply) => Outcome::Down(format!("{command}: {}", reply.why())),
                Err(e) => Outcome::LocalFault(format!("reading {command}'s output: {e}")),
            }
        };
        if let Ok(outcome) = tokio::time::timeout_at(deadline, exchange).await {
            return outcome;
        }
        run.signal(Signal::TERM);
        if tokio::time::timeout(KILL_GRACE, run.finish())
            .await
            .is_err()
        {
            run.signal(Signal::KILL);
            let _ = run.finish().await;
        }
        Outcome::Down(format!(
            "{command} timed out after {} ms",
            self.timeout.as_millis()
        ))
    }
}

/// How reading a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Found,
    /// The peer closed before a match.
    NotFound,
    /// [`MAX_REPLY`] bytes without a match.
    TooLong,
}

impl Reply {
    fn why(self) -> String {
        match self {
            Self::Found => "expected reply".to_owned(),
            Self::NotFound => "the reply did not hold `expect`".to_owned(),
            Self::TooLong => format!("no `expect` in the first {MAX_REPLY} bytes of the reply"),
        }
    }
}

/// Reads until `expect` is found in what was read, the end of the stream, or
/// [`MAX_REPLY`] bytes.
async fn read_until<R: AsyncRead + Unpin>(r: &mut R, expect: &Match) -> std::io::Result<Reply> {
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok(Reply::NotFound);
        }
        let room = MAX_REPLY.saturating_sub(reply.len());
        reply.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
        if expect.found(&reply) {
            return Ok(Reply::Found);
        }
        if reply.len() >= MAX_REPLY {
            return Ok(Reply::TooLong);
        }
    }
}

#[cfg(test)]
#[path = "nanny_tests.rs"]
mod tests;
