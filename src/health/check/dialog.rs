//! Line-based negotiate checks over plain TCP (spec §2.3): smtp/submission, pop, imap,
//! nntp and simpletcp. Each is a short scripted dialog; the whole dialog runs under the
//! negotiate timeout. TLS variants (pops, imaps) are not implemented.

use std::net::SocketAddr;
use std::time::Duration;

use regex::Regex;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

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
    pub timeout: Duration,
}

impl Check for DialogCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(port) = target.check_port else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            let addr = SocketAddr::new(target.real_addr, port);
            with_deadline(self.timeout, async move {
                match TcpStream::connect(addr).await {
                    Ok(s) => match talk(&self.dialog, s).await {
                        Ok(()) => Outcome::Up,
                        Err(why) => Outcome::Down(why),
                    },
                    Err(e) => Outcome::Down(format!("connect to {addr}: {e}")),
                }
            })
            .await
        })
    }
}

struct Conn {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

impl Conn {
    async fn line(&mut self) -> Result<String, String> {
        let mut s = String::new();
        match self.r.read_line(&mut s).await {
            Ok(0) => Err("connection closed".to_owned()),
            Ok(_) => Ok(s.trim_end().to_owned()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// An SMTP reply, multi-line replies (`250-…`) included; returns the last line.
    async fn smtp_reply(&mut self) -> Result<String, String> {
        loop {
            let l = self.line().await?;
            if l.as_bytes().get(3) != Some(&b'-') {
                return Ok(l);
            }
        }
    }

    async fn send(&mut self, text: &str) -> Result<(), String> {
        self.w
            .write_all(text.as_bytes())
            .await
            .map_err(|e| e.to_string())
    }
}

fn expect(line: &str, prefix: &str) -> Result<(), String> {
    if line.starts_with(prefix) {
        Ok(())
    } else {
        Err(format!("unexpected reply: {line}"))
    }
}

async fn talk(dialog: &Dialog, stream: TcpStream) -> Result<(), String> {
    let (reader, writer) = stream.into_split();
    let mut c = Conn {
        r: BufReader::new(reader),
        w: writer,
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
            expect(&c.line().await?, "* OK")?;
            if let Some((user, pass)) = login {
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
            let n = c.r.read(&mut first).await.map_err(|e| e.to_string())?;
            if n == 0 || first[0] != b'2' {
                return Err(format!(
                    "unexpected greeting: {}",
                    String::from_utf8_lossy(&first[..n]).trim_end()
                ));
            }
        }
        Dialog::SimpleTcp { request, receive } => {
            c.send(request).await?;
            let _ = c.w.shutdown().await;
            loop {
                let mut line = String::new();
                match c.r.read_line(&mut line).await {
                    Ok(0) => return Err("no line matched receive".to_owned()),
                    Ok(_) if receive.is_match(line.trim_end_matches(['\r', '\n'])) => break,
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
    }
    Ok(())
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
    use crate::ipvs::model::{Protocol, ServiceKey};
    use tokio::net::TcpListener;

    /// Serves one connection: `greeting`, then one scripted answer per line received.
    async fn scripted(greeting: &'static str, answers: &'static [&'static str]) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let (r, mut w) = s.into_split();
            let mut r = BufReader::new(r);
            w.write_all(greeting.as_bytes()).await.unwrap();
            for a in answers {
                let mut line = String::new();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    break;
                }
                w.write_all(a.as_bytes()).await.unwrap();
            }
            let mut rest = String::new();
            let _ = r.read_line(&mut rest).await;
        });
        port
    }

    async fn run(dialog: Dialog, port: u16) -> Outcome {
        let t = Target {
            virtual_key: ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: "10.0.0.1".parse().unwrap(),
                port,
            },
            real_addr: "127.0.0.1".parse().unwrap(),
            real_port: port,
            check_port: Some(port),
        };
        let check = DialogCheck {
            dialog,
            timeout: Duration::from_secs(2),
        };
        check.run(&t).await
    }

    #[tokio::test]
    async fn smtp_pop_imap_nntp_simpletcp() {
        let p = scripted(
            "220-hello\r\n220 ready\r\n",
            &["250-x\r\n250 ok\r\n", "221 bye\r\n"],
        )
        .await;
        assert_eq!(run(Dialog::Smtp, p).await, Outcome::Up);
        let p = scripted("554 go away\r\n", &[]).await;
        assert!(matches!(run(Dialog::Smtp, p).await, Outcome::Down(r) if r.contains("554")));

        let login = Some(("u".to_owned(), "p".to_owned()));
        let p = scripted("+OK pop\r\n", &["+OK\r\n", "-ERR bad password\r\n"]).await;
        let pop = run(
            Dialog::Pop {
                login: login.clone(),
            },
            p,
        )
        .await;
        assert!(matches!(pop, Outcome::Down(r) if r.contains("bad password")));

        let p = scripted(
            "* OK imap\r\n",
            &["* CAPABILITY x\r\na1 OK done\r\n", "* BYE\r\n"],
        )
        .await;
        assert_eq!(run(Dialog::Imap { login }, p).await, Outcome::Up);

        let p = scripted("200 news\r\n", &[]).await;
        assert_eq!(run(Dialog::Nntp, p).await, Outcome::Up);
        let p = scripted("502 no\r\n", &[]).await;
        assert!(matches!(run(Dialog::Nntp, p).await, Outcome::Down(_)));

        let p = scripted("", &["pong 1\r\nstatus: green\r\n"]).await;
        let simple = Dialog::SimpleTcp {
            request: simpletcp_request("/ping\\n"),
            receive: Regex::new("^status: green$").unwrap(),
        };
        assert_eq!(run(simple, p).await, Outcome::Up);
    }
}
