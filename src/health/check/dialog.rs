//! Line-based negotiate checks over TCP (docs/ldirectord-compat.md, Negotiate services):
//! smtp/submission, pop/pops, imap/imaps, nntp and simpletcp. Each is a short scripted dialog; the whole dialog runs under the
//! negotiate timeout. pops and imaps run the same dialog inside TLS from the first byte
//! (implicit TLS, ports 995/993), as Mail::POP3Client and Net::IMAP::Simple::SSL do.

use std::time::Duration;

use regex::Regex;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};

use super::bounded::{self, MAX_LINE, ReadError};
use super::net::{self, Failure, Stream};
use super::{BoxFuture, Check, Outcome, Target, with_deadline};

/// Which dialog to run.
#[derive(Debug, Clone)]
pub enum Dialog {
    /// 220 banner, EHLO (HELO if refused), QUIT.
    Smtp,
    /// `+OK` greeting, then USER/PASS when a login is configured.
    Pop { login: Option<(String, String)> },
    /// `* OK` greeting, then LOGIN when a login is configured.
    Imap { login: Option<(String, String)> },
    /// The first byte the server sends is `2`.
    Nntp,
    /// Send `request`, half-close, up when a line of the answer matches `receive`.
    SimpleTcp { request: String, receive: Regex },
}

#[derive(Debug, Clone)]
pub struct DialogCheck {
    pub dialog: Dialog,
    /// Talk TLS from the start (pops, imaps); certificates are not verified.
    pub tls: bool,
    pub timeout: Duration,
}

impl Check for DialogCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(addr) = target.check_addr() else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            with_deadline(self.timeout, async move {
                let talked = match net::connect(addr, self.tls).await {
                    Ok(s) => talk(&self.dialog, s).await,
                    Err(failure) => Err(failure),
                };
                match talked {
                    Ok(()) => Outcome::Up,
                    Err(failure) => failure.into_outcome(),
                }
            })
            .await
        })
    }
}

struct Conn {
    /// Reads are buffered; writes pass straight through to the stream.
    s: BufReader<Stream>,
}

impl Conn {
    async fn line(&mut self) -> Result<String, ReadError> {
        bounded::read_line(&mut self.s, MAX_LINE).await
    }

    /// An SMTP reply, multi-line replies (`250-…`) included; returns the last line.
    async fn smtp_reply(&mut self) -> Result<String, ReadError> {
        loop {
            let l = self.line().await?;
            if l.as_bytes().get(3) != Some(&b'-') {
                return Ok(l);
            }
        }
    }

    async fn send(&mut self, text: &str) -> Result<(), Failure> {
        self.s.write_all(text.as_bytes()).await?;
        Ok(self.s.flush().await?)
    }
}

fn expect(line: &str, prefix: &str) -> Result<(), String> {
    if line.starts_with(prefix) {
        Ok(())
    } else {
        Err(format!("unexpected reply: {line}"))
    }
}

async fn talk(dialog: &Dialog, stream: Stream) -> Result<(), Failure> {
    let mut c = Conn {
        s: BufReader::new(stream),
    };
    match dialog {
        Dialog::Smtp => {
            expect(&c.smtp_reply().await?, "2")?;
            c.send("EHLO lvsctl-health\r\n").await?;
            if !c.smtp_reply().await?.starts_with('2') {
                c.send("HELO lvsctl-health\r\n").await?;
                expect(&c.smtp_reply().await?, "2")?;
            }
            let _ = c.send("QUIT\r\n").await;
        }
        Dialog::Pop { login } => {
            expect(&c.line().await?, "+OK")?;
            if let Some((user, pass)) = login {
                c.send(&format!("USER {user}\r\n")).await?;
                expect(&c.line().await?, "+OK")?;
                c.send(&format!("PASS {pass}\r\n")).await?;
                expect(&c.line().await?, "+OK")?;
            }
            let _ = c.send("QUIT\r\n").await;
        }
        Dialog::Imap { login } => {
            let greeting = c.line().await?;
            if !greeting.starts_with("* PREAUTH") {
                expect(&greeting, "* OK")?;
            }
            if let Some((user, pass)) = login {
                let (user, pass) = (imap_quoted(user), imap_quoted(pass));
                c.send(&format!("a1 LOGIN {user} {pass}\r\n")).await?;
                loop {
                    let l = c.line().await?;
                    if l.starts_with("a1 ") {
                        expect(&l, "a1 OK")?;
                        break;
                    }
                }
            }
            let _ = c.send("a2 LOGOUT\r\n").await;
        }
        Dialog::Nntp => {
            let mut first = [0u8; 64];
            let n = c.s.read(&mut first).await?;
            if n == 0 || first[0] != b'2' {
                return Err(Failure::Down(format!(
                    "unexpected greeting: {}",
                    String::from_utf8_lossy(&first[..n]).trim_end()
                )));
            }
        }
        Dialog::SimpleTcp { request, receive } => {
            c.send(request).await?;
            let _ = c.s.shutdown().await;
            loop {
                match c.line().await {
                    Ok(line) if receive.is_match(&line) => break,
                    Ok(_) => {}
                    Err(ReadError::Closed) => {
                        return Err(Failure::Down("no line matched receive".to_owned()));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok(())
}

/// An IMAP quoted string (RFC 3501 §4.3), so passwords with spaces or quotes survive.
pub fn imap_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// simpletcp's request: the leading `/` dropped and literal `\n` turned into newlines.
pub fn simpletcp_request(request: &str) -> String {
    request
        .strip_prefix('/')
        .unwrap_or(request)
        .replace("\\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::check::fake;
    use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite};

    /// One scripted session: `greeting`, then one answer per line received; records the
    /// lines it got.
    async fn session<S: AsyncRead + AsyncWrite + Unpin>(
        s: S,
        greeting: &str,
        answers: &[&str],
    ) -> Vec<String> {
        let mut s = BufReader::new(s);
        let mut got = Vec::new();
        if s.write_all(greeting.as_bytes()).await.is_err() {
            return got;
        }
        for a in answers {
            let mut line = String::new();
            if s.read_line(&mut line).await.unwrap_or(0) == 0 {
                return got;
            }
            got.push(line.trim_end().to_owned());
            if s.write_all(a.as_bytes()).await.is_err() {
                return got;
            }
        }
        let mut rest = String::new();
        if s.read_line(&mut rest).await.unwrap_or(0) > 0 {
            got.push(rest.trim_end().to_owned());
        }
        got
    }

    /// Serves one connection (in TLS when `tls`); the handle yields the lines received.
    async fn scripted(
        tls: bool,
        greeting: &'static str,
        answers: &'static [&'static str],
    ) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
        let (l, port) = fake::listener().await;
        let task = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            if tls {
                let s = fake::tls_acceptor().accept(s).await.unwrap();
                session(s, greeting, answers).await
            } else {
                session(s, greeting, answers).await
            }
        });
        (port, task)
    }

    async fn run_tls(dialog: Dialog, tls: bool, port: u16) -> Outcome {
        let check = DialogCheck {
            dialog,
            tls,
            timeout: Duration::from_secs(2),
        };
        check.run(&fake::target(port)).await
    }

    async fn run(dialog: Dialog, port: u16) -> Outcome {
        run_tls(dialog, false, port).await
    }

    /// A configured login (the password has a space and a quote).
    fn login() -> Option<(String, String)> {
        LOGIN.map(|(u, p)| (u.to_owned(), p.to_owned()))
    }

    const LOGIN: Option<(&str, &str)> = Some(("u", "p w\""));

    #[tokio::test]
    async fn smtp_pop_imap_nntp_simpletcp() {
        let (p, _) = scripted(
            false,
            "220-hello\r\n220 ready\r\n",
            &["250-x\r\n250 ok\r\n", "221 bye\r\n"],
        )
        .await;
        assert_eq!(run(Dialog::Smtp, p).await, Outcome::Up);
        let (p, _) = scripted(false, "554 go away\r\n", &[]).await;
        fake::assert_down(&run(Dialog::Smtp, p).await, "554");

        let (p, _) = scripted(false, "+OK pop\r\n", &["+OK\r\n", "-ERR bad password\r\n"]).await;
        fake::assert_down(
            &run(Dialog::Pop { login: login() }, p).await,
            "bad password",
        );

        let (p, seen) = scripted(
            false,
            "* OK imap\r\n",
            &["* CAPABILITY x\r\na1 OK done\r\n", "* BYE\r\n"],
        )
        .await;
        assert_eq!(run(Dialog::Imap { login: login() }, p).await, Outcome::Up);
        assert_eq!(
            seen.await.unwrap(),
            ["a1 LOGIN \"u\" \"p w\\\"\"", "a2 LOGOUT"]
        );

        let (p, _) = scripted(false, "200 news\r\n", &[]).await;
        assert_eq!(run(Dialog::Nntp, p).await, Outcome::Up);
        let (p, _) = scripted(false, "502 no\r\n", &[]).await;
        assert!(matches!(run(Dialog::Nntp, p).await, Outcome::Down(_)));

        let (p, _) = scripted(false, "", &["pong 1\r\nstatus: green\r\n"]).await;
        let simple = Dialog::SimpleTcp {
            request: simpletcp_request("/ping\\n"),
            receive: Regex::new("^status: green$").unwrap(),
        };
        assert_eq!(run(simple, p).await, Outcome::Up);
    }

    #[tokio::test]
    async fn pops_and_imaps_talk_inside_tls() {
        let (p, seen) = scripted(
            true,
            "+OK pops ready\r\n",
            &["+OK user\r\n", "+OK logged in\r\n", "+OK bye\r\n"],
        )
        .await;
        assert_eq!(
            run_tls(Dialog::Pop { login: login() }, true, p).await,
            Outcome::Up
        );
        assert_eq!(seen.await.unwrap(), ["USER u", "PASS p w\"", "QUIT"]);

        let (p, _) = scripted(true, "+OK\r\n", &["+OK\r\n", "-ERR [AUTH] no\r\n"]).await;
        fake::assert_down(
            &run_tls(Dialog::Pop { login: login() }, true, p).await,
            "-ERR [AUTH] no",
        );

        let (p, _) = scripted(
            true,
            "* OK imaps\r\n",
            &["a1 NO [AUTHENTICATIONFAILED] x\r\n"],
        )
        .await;
        fake::assert_down(
            &run_tls(Dialog::Imap { login: login() }, true, p).await,
            "a1 NO",
        );
        let (p, _) = scripted(true, "* PREAUTH ready\r\n", &["* BYE\r\n"]).await;
        assert_eq!(
            run_tls(Dialog::Imap { login: None }, true, p).await,
            Outcome::Up
        );

        // A plain-text server answering a TLS client: the handshake fails, no hang.
        let (p, _) = scripted(false, "+OK plain\r\n", &[]).await;
        fake::assert_down(
            &run_tls(Dialog::Pop { login: None }, true, p).await,
            "TLS handshake",
        );
    }

    /// T44: pop and imaps against a silent server are down by their deadline.
    #[tokio::test]
    async fn silence_and_garbage_are_down_in_time() {
        let p = fake::silent().await;
        for (dialog, tls) in [
            (Dialog::Pop { login: None }, false),
            (Dialog::Imap { login: None }, true),
        ] {
            let check = DialogCheck {
                dialog,
                tls,
                timeout: Duration::from_millis(300),
            };
            let outcome = fake::within(check.timeout, check.run(&fake::target(p))).await;
            assert_eq!(outcome, Outcome::Down("timed out after 300 ms".into()));
        }
        let p = fake::garbage(b"\xff\xfe\x00garbage without newline").await;
        fake::assert_down(
            &run(Dialog::Imap { login: None }, p).await,
            "unexpected reply",
        );
    }

    proptest::proptest! {
        /// Whatever a server sends (then closing), every dialog ends, promptly and without
        /// panicking; lines are read with the bounded reader (see `bounded`).
        #[test]
        fn any_server_bytes_end_every_dialog(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
            which in 0usize..5,
        ) {
            let dialog = match which {
                0 => Dialog::Smtp,
                1 => Dialog::Pop { login: login() },
                2 => Dialog::Imap { login: login() },
                3 => Dialog::Nntp,
                _ => Dialog::SimpleTcp {
                    request: "ping\n".into(),
                    receive: Regex::new("^pong$").unwrap(),
                },
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            let ended = runtime.block_on(async {
                let (client, mut server) = tokio::io::duplex(64 * 1024);
                server.write_all(&bytes).await.unwrap();
                drop(server);
                tokio::time::timeout(Duration::from_secs(5), talk(&dialog, Box::new(client))).await
            });
            proptest::prop_assert!(ended.is_ok(), "{dialog:?} did not end");
        }
    }
}
