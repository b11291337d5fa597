//! Sends alert mails on a background task, so a slow mailer never delays a check or a
//! kernel cycle (ldirectord sends synchronously from its only loop).
//!
//! Without `smtp=` a mail is piped to `sendmail -t -oi` (the path is an option, default
//! `/usr/sbin/sendmail`, where Debian's MTAs put it); with `smtp=host[:port]` (or an IPv6
//! address, bracketed when a port follows) it is handed to that server over a small SMTP
//! dialog, as ldirectord does with Net::SMTP — envelope sender `<user>@<host>`, one
//! `RCPT TO` per recipient. Each mail has a 30 s bound; a queue of 64 mails is kept and
//! anything beyond is dropped with a log line.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::alert::Mail;
use super::log::Logger;
use crate::health::check::{MAX_LINE, read_line};

/// Where `sendmail -t` usually lives.
pub const SENDMAIL: &str = "/usr/sbin/sendmail";

const PER_MAIL: Duration = Duration::from_secs(30);
const QUEUE: usize = 64;

/// The sending side of the mail task.
#[derive(Debug)]
pub struct Mailer {
    tx: Option<mpsc::Sender<Mail>>,
    task: Option<JoinHandle<()>>,
    log: Logger,
}

impl Mailer {
    /// Starts the task on the current tokio runtime.
    pub fn start(sendmail: PathBuf, log: Logger) -> Self {
        let (tx, mut rx) = mpsc::channel::<Mail>(QUEUE);
        let task_log = log.clone();
        let task = tokio::spawn(async move {
            // The same name as the FTP/SIP logins (see crate::names::hostname).
            let host = crate::names::hostname();
            while let Some(mail) = rx.recv().await {
                let sent = match &mail.smtp {
                    Some(server) => {
                        tokio::time::timeout(PER_MAIL, smtp(server, &host, &mail)).await
                    }
                    None => tokio::time::timeout(PER_MAIL, sendmail_pipe(&sendmail, &mail)).await,
                };
                let what = if mail.smtp.is_some() {
                    "failed to send SMTP email message"
                } else {
                    "failed to send email message"
                };
                match sent {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => task_log.log(&format!("{what}: {e}")),
                    Err(_) => task_log.log(&format!("{what}: timed out")),
                }
            }
        });
        Self {
            tx: Some(tx),
            task: Some(task),
            log,
        }
    }

    /// Queues `mail` (logging `emailalert: ...` as ldirectord does); never waits.
    pub fn send(&self, mail: Mail) {
        self.log.log(&mail.log);
        let Some(tx) = &self.tx else { return };
        if tx.try_send(mail).is_err() {
            self.log
                .log("failed to send email message: too many mails queued");
        }
    }

    /// Lets the queued mails go out, waiting at most `limit`; then their log lines.
    pub async fn finish(mut self, limit: Duration) {
        self.tx = None;
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(limit, task).await;
        }
        let log = self.log.clone();
        let _ = tokio::task::spawn_blocking(move || log.flush()).await;
    }
}

/// The message as sendmail -t and SMTP DATA take it (LF line ends; SMTP converts).
pub fn message_text(mail: &Mail, default_from: Option<&str>) -> String {
    let mut out = format!("To: {}\n", mail.to);
    if let Some(from) = mail.from.as_deref().or(default_from) {
        let _ = writeln!(out, "From: {from}");
    }
    let _ = write!(out, "Subject: {}\n\n{}", mail.subject, mail.body);
    out
}

async fn sendmail_pipe(path: &std::path::Path, mail: &Mail) -> std::io::Result<()> {
    let mut child = tokio::process::Command::new(path)
        .args(["-t", "-oi"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(message_text(mail, None).as_bytes()).await?;
    }
    let status = child.wait().await?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "{} exited with {status}",
            path.display()
        )))
    }
}

/// One SMTP transaction: EHLO (HELO if refused), MAIL, RCPT per recipient, DATA, QUIT.
pub async fn smtp(server: &str, host: &str, mail: &Mail) -> std::io::Result<()> {
    let (server_host, port) = crate::health::config::smtp_server(server)
        .ok_or_else(|| std::io::Error::other(format!("invalid smtp server {server:?}")))?;
    let stream = TcpStream::connect((server_host, port)).await?;
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let sender = format!("{}@{host}", user_name());
    expect(&mut rd, 2).await?;
    wr.write_all(format!("EHLO {host}\r\n").as_bytes()).await?;
    if expect(&mut rd, 2).await.is_err() {
        wr.write_all(format!("HELO {host}\r\n").as_bytes()).await?;
        expect(&mut rd, 2).await?;
    }
    command(&mut wr, &mut rd, &format!("MAIL FROM:<{sender}>"), 2).await?;
    for to in mail.to.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        command(&mut wr, &mut rd, &format!("RCPT TO:<{to}>"), 2).await?;
    }
    command(&mut wr, &mut rd, "DATA", 3).await?;
    let mut data = String::new();
    for line in message_text(mail, Some(&sender)).lines() {
        // Dot-stuffing (RFC 5321 4.5.2).
        if line.starts_with('.') {
            data.push('.');
        }
        data.push_str(line);
        data.push_str("\r\n");
    }
    data.push_str(".\r\n");
    wr.write_all(data.as_bytes()).await?;
    expect(&mut rd, 2).await?;
    wr.write_all(b"QUIT\r\n").await?;
    let _ = expect(&mut rd, 2).await;
    Ok(())
}

async fn command<R: AsyncBufRead + Unpin>(
    wr: &mut tokio::net::tcp::OwnedWriteHalf,
    rd: &mut R,
    line: &str,
    class: u8,
) -> std::io::Result<()> {
    wr.write_all(format!("{line}\r\n").as_bytes()).await?;
    expect(rd, class).await
}

/// Reads one (possibly multi-line) reply and checks its first digit. Lines are read with
/// the checks' bounded reader: a server that never ends a line fails the mail at
/// [`MAX_LINE`] bytes instead of growing a buffer for the mail's whole 30 s.
async fn expect<R: AsyncBufRead + Unpin>(rd: &mut R, class: u8) -> std::io::Result<()> {
    loop {
        let line = match read_line(rd, MAX_LINE).await {
            Ok(line) => line,
            Err(crate::health::check::ReadError::Closed) => {
                return Err(std::io::Error::other(
                    "the SMTP server closed the connection",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let bytes = line.as_bytes();
        if bytes.len() < 3 || bytes.get(3) == Some(&b'-') {
            continue;
        }
        return if bytes[0] == b'0' + class {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "SMTP server said: {}",
                line.trim_end()
            )))
        };
    }
}

/// The login name of our uid, from /etc/passwd (ldirectord's `getpwuid($<)`).
fn user_name() -> String {
    let uid = rustix::process::getuid().as_raw();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id: u32 = f.nth(1)?.parse().ok()?;
            (id == uid).then(|| name.to_owned())
        })
        .unwrap_or_else(|| "root".to_owned())
}

#[cfg(test)]
#[path = "mail_tests.rs"]
mod tests;
