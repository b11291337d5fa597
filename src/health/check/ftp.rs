//! `service=ftp` (docs/ldirectord-compat.md, Negotiate services): log in (`login`/`passwd`, anonymous by default), `CWD /`,
//! binary mode, passive mode, `RETR request`; up when the downloaded content matches
//! `receive`. As in ldirectord (Net::FTP inside an eval) only the content decides: a
//! refused `CWD` or `TYPE` does not stop the check, and the file is asked for exactly as
//! ldirectord asks Net::FTP for it, with the request's leading `/` (`RETR /index.html`).
//!
//! Control lines are read with the shared bounded reader: a server that never ends a line
//! is down once it passes [`MAX_LINE`] bytes, instead of growing a buffer until the
//! deadline.

use std::net::SocketAddr;
use std::time::Duration;

use regex::Regex;
use tokio::io::{AsyncBufRead, AsyncReadExt, AsyncWriteExt, BufReader};

use super::bounded::{self, MAX_LINE};
use super::net::{self, Failure};
use super::{BoxFuture, Check, Outcome, Target, with_deadline};

/// Downloads beyond this are cut before matching.
const MAX_FILE: u64 = 1 << 20;

#[derive(Debug, Clone)]
pub struct FtpCheck {
    pub login: String,
    pub passwd: String,
    /// The file to fetch: the request as configured, leading `/` included.
    pub file: String,
    pub receive: Regex,
    pub timeout: Duration,
}

impl Check for FtpCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(port) = target.check_port else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            let server = SocketAddr::new(target.real_addr, port);
            with_deadline(self.timeout, async move {
                match self.fetch(server).await {
                    Ok(content) if super::receive_matches(&self.receive, &content) => Outcome::Up,
                    Ok(_) => Outcome::Down("downloaded file does not match receive".to_owned()),
                    Err(failure) => failure.into_outcome(),
                }
            })
            .await
        })
    }
}

impl FtpCheck {
    async fn fetch(&self, server: SocketAddr) -> Result<String, Failure> {
        let stream = net::tcp(server).await?;
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        expect(&reply(&mut r).await?, '2')?;
        let user = if self.login.is_empty() {
            "anonymous"
        } else {
            &self.login
        };
        // Net::FTP's defaults for an empty login.
        let pass = if self.passwd.is_empty() {
            "-anonymous@"
        } else {
            &self.passwd
        };
        let steps = [format!("USER {user}"), format!("PASS {pass}")];
        for (i, line) in steps.iter().enumerate() {
            send(&mut w, line).await?;
            let answer = reply(&mut r).await?;
            // 331 asks for the password; a 230 after USER means no password is needed.
            if i == 0 && answer.starts_with("230") {
                break;
            }
            expect(&answer, if i == 0 { '3' } else { '2' })?;
        }
        // ldirectord ignores what these return; only the download counts.
        for line in ["CWD /", "TYPE I"] {
            send(&mut w, line).await?;
            reply(&mut r).await?;
        }
        send(&mut w, "PASV").await?;
        let pasv = reply(&mut r).await?;
        let data_port =
            pasv_port(&pasv).ok_or_else(|| Failure::Down(format!("bad PASV reply: {pasv}")))?;
        // The data connection goes to the real server itself, whatever address it names.
        let data_addr = SocketAddr::new(server.ip(), data_port);
        let data = tokio::net::TcpStream::connect(data_addr)
            .await
            .map_err(|e| Failure::io(format_args!("data connection {data_addr}"), &e))?;
        send(&mut w, &format!("RETR {}", self.file)).await?;
        expect(&reply(&mut r).await?, '1')?;
        let mut content = Vec::new();
        data.take(MAX_FILE)
            .read_to_end(&mut content)
            .await
            .map_err(|e| Failure::io("download", &e))?;
        let _ = send(&mut w, "QUIT").await;
        Ok(String::from_utf8_lossy(&content).into_owned())
    }
}

async fn send(w: &mut tokio::net::tcp::OwnedWriteHalf, line: &str) -> Result<(), Failure> {
    Ok(w.write_all(format!("{line}\r\n").as_bytes()).await?)
}

/// One reply, multi-line replies (`123-…` up to `123 …`) included; returns the last line.
async fn reply<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<String, Failure> {
    loop {
        let line = bounded::read_line(r, MAX_LINE).await?;
        let line = line.trim_end().to_owned();
        let b = line.as_bytes();
        if b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit) && b.get(3) != Some(&b'-') {
            return Ok(line);
        }
    }
}

fn expect(line: &str, class: char) -> Result<(), Failure> {
    if line.starts_with(class) {
        Ok(())
    } else {
        Err(Failure::Down(format!("unexpected reply: {line}")))
    }
}

/// The port of `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`.
pub fn pasv_port(line: &str) -> Option<u16> {
    let inner = line.split_once('(')?.1.split_once(')')?.0;
    let nums: Vec<u16> = inner
        .split(',')
        .map(|n| n.trim().parse().ok())
        .collect::<Option<_>>()?;
    match nums.as_slice() {
        [_, _, _, _, hi, lo] if *hi < 256 && *lo < 256 => Some(hi * 256 + lo),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncBufReadExt;

    #[test]
    fn passive_reply() {
        assert_eq!(
            pasv_port("227 Entering Passive Mode (10,1,0,1,195,80)."),
            Some(50000)
        );
        assert_eq!(pasv_port("227 nothing"), None);
        assert_eq!(pasv_port("227 (1,2,3,4,300,1)"), None);
    }

    /// A one-session FTP server: CWD is refused, the data port serves `body`; records the
    /// commands it got.
    async fn server(body: &'static str) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
        use crate::health::check::fake;
        let (control, port) = fake::listener().await;
        let (data, data_port) = fake::listener().await;
        let task = tokio::spawn(async move {
            let (s, _) = control.accept().await.unwrap();
            let (rd, mut w) = s.into_split();
            let mut rd = BufReader::new(rd);
            w.write_all(b"220-hello\r\n220 ready\r\n").await.unwrap();
            let mut seen = Vec::new();
            let mut line = String::new();
            while rd.read_line(&mut line).await.unwrap_or(0) > 0 {
                let cmd = line.trim_end().to_owned();
                line.clear();
                let answer = match cmd.split(' ').next().unwrap_or("") {
                    "USER" => "331 password please\r\n".to_owned(),
                    "PASS" => "230 in\r\n".to_owned(),
                    "CWD" => "550 no such directory\r\n".to_owned(),
                    "TYPE" => "200 binary\r\n".to_owned(),
                    "PASV" => format!(
                        "227 Entering Passive Mode (9,9,9,9,{},{})\r\n",
                        data_port >> 8,
                        data_port & 0xff
                    ),
                    "RETR" => {
                        w.write_all(b"150 sending\r\n").await.unwrap();
                        let (mut d, _) = data.accept().await.unwrap();
                        d.write_all(body.as_bytes()).await.unwrap();
                        drop(d);
                        "226 done\r\n".to_owned()
                    }
                    _ => "221 bye\r\n".to_owned(),
                };
                seen.push(cmd.clone());
                let _ = w.write_all(answer.as_bytes()).await;
                if cmd == "QUIT" {
                    break;
                }
            }
            seen
        });
        (port, task)
    }

    #[tokio::test]
    async fn retrieves_the_request_with_its_slash_and_ignores_a_refused_cwd() {
        use crate::health::check::fake;
        let check = |receive: &str| FtpCheck {
            login: String::new(),
            passwd: String::new(),
            file: "/health.txt".to_owned(),
            receive: Regex::new(receive).unwrap(),
            timeout: Duration::from_secs(3),
        };
        let (port, seen) = server("all good\n").await;
        assert_eq!(
            check("^all good").run(&fake::target(port)).await,
            Outcome::Up
        );
        assert_eq!(
            seen.await.unwrap(),
            [
                "USER anonymous",
                "PASS -anonymous@",
                "CWD /",
                "TYPE I",
                "PASV",
                "RETR /health.txt",
                "QUIT"
            ]
        );
        let (port, _) = server("bad\n").await;
        fake::assert_down(
            &check("^all good").run(&fake::target(port)).await,
            "does not match",
        );
    }

    /// A control line that never ends is down at the line cap, long before the deadline,
    /// and holds no more than the cap meanwhile.
    #[tokio::test]
    async fn an_endless_control_line_is_down_at_the_cap() {
        use crate::health::check::fake;
        let (l, port) = fake::listener().await;
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let _ = s.write_all(&vec![b'2'; 4 * MAX_LINE]).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let check = FtpCheck {
            login: String::new(),
            passwd: String::new(),
            file: "/x".to_owned(),
            receive: Regex::new("x").unwrap(),
            timeout: Duration::from_secs(20),
        };
        let start = std::time::Instant::now();
        let outcome = check.run(&fake::target(port)).await;
        assert_eq!(
            outcome,
            Outcome::Down(format!("line longer than {MAX_LINE} bytes"))
        );
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    proptest::proptest! {
        /// Any control-connection bytes: replies are read without panicking, each within
        /// the line cap, until the bytes run out; any PASV text parses or not.
        #[test]
        fn any_control_bytes_read_within_the_cap(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let mut r = BufReader::new(&bytes[..]);
                let mut replies = 0;
                while let Ok(line) = reply(&mut r).await {
                    proptest::prop_assert!(line.len() <= 3 * MAX_LINE);
                    let _ = pasv_port(&line);
                    replies += 1;
                    proptest::prop_assert!(replies <= bytes.len());
                }
                Ok(())
            })?;
            let _ = pasv_port(&String::from_utf8_lossy(&bytes));
        }
    }
}
