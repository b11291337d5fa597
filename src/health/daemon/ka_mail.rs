//! keepalived's `smtp_alert` mails sent as keepalived 2.2.7 sends them (core/smtp.c), on
//! tasks of their own so that a slow or silent relay never delays a check or a kernel
//! cycle (docs/keepalived-compat.md, "Mail alerts").
//!
//! One connection per mail, all at once (keepalived starts each dialogue as soon as the
//! mail is decided). The dialogue: the greeting (220), `HELO name` (250), `MAIL
//! FROM:<from>` (250), one `RCPT TO:<addr>` per `notification_email` (250 each), `DATA`
//! (354), the headers and body in one write ending `\r\n.\r\n` (250), `QUIT` (221). Each
//! line is what C's `snprintf` leaves of it in a 1024-byte buffer, the body too: a mail
//! longer than that loses its end, the terminating dot included, as keepalived's does.
//! No dot-stuffing, no EHLO, no retry; a reply's code is its last line's first three
//! characters.
//!
//! `smtp_connect_timeout` bounds the connect and each wait for a reply. A wrong code is
//! logged and answered with `QUIT`; a silent server gets `QUIT` after one timeout and is
//! dropped after the next; a close ends the mail. Failures are logged with keepalived's
//! words and the mail is lost, as in keepalived.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use super::log::Logger;
use crate::health::config::{KeepalivedAlert, KeepalivedMail};

/// keepalived's `SMTP_BUFFER_MAX`: every command and the whole body are written into a
/// buffer this long (with its terminating NUL), and replies are read into one.
const BUFFER: usize = 1024;
/// `MAX_HEADERS_LENGTH`: the subject's buffer.
const SUBJECT_BUFFER: usize = 256;
/// `MAX_BODY_LENGTH`: the body's buffer.
const BODY_BUFFER: usize = 512;
/// Mails waiting for their task; beyond this they are dropped with a log line.
const QUEUE: usize = 256;

/// The sending side of the keepalived mail task.
#[derive(Debug)]
pub struct KaMailer {
    tx: Option<mpsc::Sender<(Arc<KeepalivedMail>, KeepalivedAlert)>>,
    task: Option<JoinHandle<()>>,
    log: Logger,
}

impl KaMailer {
    /// Starts the task on the current tokio runtime.
    pub fn start(log: Logger) -> Self {
        let (tx, mut rx) = mpsc::channel::<(Arc<KeepalivedMail>, KeepalivedAlert)>(QUEUE);
        let task_log = log.clone();
        let task = tokio::spawn(async move {
            let mut running = JoinSet::new();
            while let Some((relay, alert)) = rx.recv().await {
                let log = task_log.clone();
                running.spawn(async move {
                    dialogue(&relay, &alert, local_date, &|l: &str| log.log(l)).await;
                });
                // Finished dialogues are reaped as new mails come.
                while running.try_join_next().is_some() {}
            }
            while running.join_next().await.is_some() {}
        });
        Self {
            tx: Some(tx),
            task: Some(task),
            log,
        }
    }

    /// Queues `alert` for `relay`; never waits.
    pub fn send(&self, relay: Arc<KeepalivedMail>, alert: KeepalivedAlert) {
        let Some(tx) = &self.tx else { return };
        if tx.try_send((relay, alert)).is_err() {
            self.log
                .log("Cannot send SMTP alert: too many mails in progress.");
        }
    }

    /// Lets the mails in progress finish, waiting at most `limit`.
    pub async fn finish(mut self, limit: Duration) {
        self.tx = None;
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(limit, task).await;
        }
    }
}

/// keepalived's `Date:` (`%a, %d %b %Y %H:%M:%S %z` in local time, C locale).
pub fn local_date() -> String {
    jiff::ZonedDateTime::new(jiff::Timestamp::now(), jiff::tz::TimeZone::system())
        .strftime("%a, %d %b %Y %H:%M:%S %z")
        .to_string()
}

/// keepalived's `inet_sockaddrtopair`: `[ADDRESS]:PORT`, as its log lines name the relay.
fn pair(addr: SocketAddr) -> String {
    format!("[{}]:{}", addr.ip(), addr.port())
}

/// What C's `snprintf` into a buffer of `size` bytes keeps of `text`.
fn clip(mut text: Vec<u8>, size: usize) -> Vec<u8> {
    text.truncate(size.saturating_sub(1));
    text
}

/// The `To:` header: the addresses joined by `, ` as far as they fit in the buffer
/// (`build_to_header_rcpt_addrs`: an address that does not fit ends the list, after
/// its separator).
fn to_header(to: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut available = BUFFER - 1;
    for (i, addr) in to.iter().enumerate() {
        if i > 0 {
            if available < 2 {
                break;
            }
            out.extend_from_slice(b", ");
            available -= 2;
        }
        if available < addr.len() {
            break;
        }
        out.extend_from_slice(addr.as_bytes());
        available -= addr.len();
    }
    out
}

/// The DATA part as keepalived writes it: headers, body, and the end of the mail.
pub fn data_text(relay: &KeepalivedMail, alert: &KeepalivedAlert, date: &str) -> Vec<u8> {
    let subject = clip(
        format!("[{}] {}", relay.router_id, alert.subject).into_bytes(),
        SUBJECT_BUFFER,
    );
    let body = clip(alert.body.clone().into_bytes(), BODY_BUFFER);
    let mut out = Vec::new();
    out.extend_from_slice(format!("Date: {date}\r\nFrom: {}\r\nSubject: ", relay.from).as_bytes());
    out.extend_from_slice(&subject);
    out.extend_from_slice(b"\r\nX-Mailer: Keepalived\r\nTo: ");
    out.extend_from_slice(&to_header(&relay.to));
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&body);
    out.extend_from_slice(b"\r\n\r\n.\r\n");
    clip(out, BUFFER)
}

/// Where the dialogue stands: the command sent last (or the greeting awaited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Greeting,
    Helo,
    Mail,
    Rcpt(usize),
    Data,
    Body,
    Quit,
}

impl Stage {
    /// The code that moves it on, and its name in keepalived's log line.
    fn expected(self) -> (i32, &'static str) {
        match self {
            Self::Greeting => (220, "(E)SMTP"),
            Self::Helo => (250, "HELO"),
            Self::Mail => (250, "MAIL"),
            Self::Rcpt(_) => (250, "RCPT"),
            Self::Data => (354, "DATA"),
            Self::Body => (250, "BODY"),
            Self::Quit => (221, "QUIT"),
        }
    }
}

/// One mail's whole dialogue with the relay; every failure is logged through `log`.
pub async fn dialogue(
    relay: &KeepalivedMail,
    alert: &KeepalivedAlert,
    date: fn() -> String,
    log: &(dyn Fn(&str) + Sync),
) {
    let host = pair(relay.server);
    let mut stream =
        match tokio::time::timeout(relay.timeout, TcpStream::connect(relay.server)).await {
            Ok(Ok(s)) => s,
            Ok(Err(_)) => {
                log(&format!("SMTP connection ERROR to {host}."));
                return;
            }
            Err(_) => {
                log(&format!(
                    "Timeout opening connection to remote SMTP server {host}."
                ));
                return;
            }
        };
    let mut stage = Stage::Greeting;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let Some(status) = reply(&mut buf) else {
            match read_more(&mut stream, &mut buf, relay.timeout).await {
                Read::More => continue,
                Read::Timeout => {
                    log(&format!(
                        "Timeout reading data to remote SMTP server {host}."
                    ));
                    if stage == Stage::Quit {
                        return;
                    }
                    stage = Stage::Quit;
                }
                Read::Closed => {
                    log(&format!(
                        "Remote SMTP server {host} has closed the connection."
                    ));
                    return;
                }
                Read::Failed => {
                    log(&format!(
                        "Error reading data from remote SMTP server {host}."
                    ));
                    stage = Stage::Quit;
                }
                Read::Overflow => {
                    log(&format!(
                        "Received buffer from remote SMTP server {host} overflow our get read buffer length."
                    ));
                    buf.clear();
                    stage = Stage::Quit;
                }
            }
            if send(&mut stream, &command(relay, alert, stage, date), &host, log)
                .await
                .is_err()
            {
                return;
            }
            continue;
        };
        let (code, name) = stage.expected();
        if status == code {
            stage = match stage {
                Stage::Greeting => Stage::Helo,
                Stage::Helo => Stage::Mail,
                Stage::Mail => Stage::Rcpt(0),
                Stage::Rcpt(i) if i + 1 < relay.to.len() => Stage::Rcpt(i + 1),
                Stage::Rcpt(_) => Stage::Data,
                Stage::Data => Stage::Body,
                Stage::Body => Stage::Quit,
                // Done.
                Stage::Quit => return,
            };
        } else {
            log(&format!(
                "Error processing {name} cmd on SMTP server {host}. SMTP status code = {status}"
            ));
            stage = Stage::Quit;
        }
        if send(&mut stream, &command(relay, alert, stage, date), &host, log)
            .await
            .is_err()
        {
            return;
        }
    }
}

/// What one read from the relay gave.
enum Read {
    /// Bytes, added to the buffer.
    More,
    Timeout,
    Closed,
    Failed,
    /// The buffer filled up without a whole reply (keepalived's 1024 bytes).
    Overflow,
}

/// One read into `buf`, at most what keepalived's buffer has room for.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>, timeout: Duration) -> Read {
    let mut chunk = vec![0u8; BUFFER.saturating_sub(buf.len())];
    match tokio::time::timeout(timeout, stream.read(&mut chunk)).await {
        Err(_) => Read::Timeout,
        Ok(Ok(0)) => Read::Closed,
        Ok(Err(_)) => Read::Failed,
        Ok(Ok(n)) if buf.len() + n >= BUFFER => Read::Overflow,
        Ok(Ok(n)) => {
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
            Read::More
        }
    }
}

async fn send(
    stream: &mut TcpStream,
    bytes: &[u8],
    host: &str,
    log: &(dyn Fn(&str) + Sync),
) -> Result<(), ()> {
    stream.write_all(bytes).await.map_err(|_| {
        log(&format!("Cannot send data to remote SMTP server {host}."));
    })
}

/// What keepalived writes at `stage` (never the greeting, which it only awaits).
fn command(
    relay: &KeepalivedMail,
    alert: &KeepalivedAlert,
    stage: Stage,
    date: fn() -> String,
) -> Vec<u8> {
    let line = match stage {
        Stage::Greeting | Stage::Quit => "QUIT\r\n".to_owned(),
        Stage::Helo => format!("HELO {}\r\n", relay.helo),
        Stage::Mail => format!("MAIL FROM:<{}>\r\n", relay.from),
        Stage::Rcpt(i) => format!(
            "RCPT TO:<{}>\r\n",
            relay.to.get(i).map_or("", String::as_str)
        ),
        Stage::Data => "DATA\r\n".to_owned(),
        Stage::Body => return data_text(relay, alert, &date()),
    };
    clip(line.into_bytes(), BUFFER)
}

/// Takes the next complete reply from `buf` (continuation lines `NNN-` skipped) and
/// returns its code, computed from its first three bytes as keepalived does, digits or
/// not; None until a final line has arrived.
fn reply(buf: &mut Vec<u8>) -> Option<i32> {
    let mut start = 0;
    loop {
        let rest = buf.get(start..)?;
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        let line = rest.get(..end)?;
        if line.get(3) == Some(&b'-') {
            start += end + 2;
            continue;
        }
        let digit = |i: usize| i32::from(rest.get(i).copied().unwrap_or(0)) - i32::from(b'0');
        let status = digit(0) * 100 + digit(1) * 10 + digit(2);
        buf.drain(..start + end + 2);
        return Some(status);
    }
}

#[cfg(test)]
#[path = "ka_mail_tests.rs"]
mod tests;
