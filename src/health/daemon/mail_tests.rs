use super::*;
use crate::health::config::LogTarget;
use crate::health::daemon::log::Console;
use tokio::io::AsyncBufReadExt;

fn mail(smtp: Option<&str>) -> Mail {
    Mail {
        log: "emailalert: Deleted real server: 10.1.0.1:80 (10.0.0.1:80)".into(),
        to: "a@x, b@y".into(),
        from: Some("lvs@example.org".into()),
        subject: "[web] Deleted real server: 10.1.0.1:80 (10.0.0.1:80)".into(),
        body: "ldirectord host: director\nLog-Message: [web] Deleted real server: 10.1.0.1:80 (10.0.0.1:80)\nDaemon-Status: running\n\n.hidden\n".into(),
        smtp: smtp.map(str::to_owned),
    }
}

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lvsctl-mail-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn sendmail_gets_headers_and_body_on_stdin_with_dash_t() {
    let dir = temp("sendmail");
    let script = dir.join("sendmail");
    let out = dir.join("out");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"ARGS $*\" >> {o}\ncat >> {o}\necho END >> {o}\n",
            o = out.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", &script.display().to_string()])
        .status()
        .unwrap();
    let log = Logger::new(
        "t",
        &LogTarget::File(dir.join("log")),
        Console::None,
        "lvsctl",
        dir.join("nolog"),
    );
    runtime().block_on(async {
        let m = Mailer::start(script.clone(), log);
        m.send(mail(None));
        let mut second = mail(None);
        second.from = None;
        second.subject = "two".into();
        second.body = "b\n".into();
        m.send(second);
        m.finish(Duration::from_secs(20)).await;
    });
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "ARGS -t -oi\nTo: a@x, b@y\nFrom: lvs@example.org\n\
         Subject: [web] Deleted real server: 10.1.0.1:80 (10.0.0.1:80)\n\n\
         ldirectord host: director\nLog-Message: [web] Deleted real server: 10.1.0.1:80 (10.0.0.1:80)\n\
         Daemon-Status: running\n\n.hidden\nEND\n\
         ARGS -t -oi\nTo: a@x, b@y\nSubject: two\n\nb\nEND\n"
    );
    let logged = std::fs::read_to_string(dir.join("log")).unwrap();
    assert!(
        logged.contains("] emailalert: Deleted real server: 10.1.0.1:80 (10.0.0.1:80)"),
        "{logged}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_sendmail_is_logged() {
    let dir = temp("fail");
    let log = Logger::new(
        "t",
        &LogTarget::File(dir.join("log")),
        Console::None,
        "lvsctl",
        dir.join("nolog"),
    );
    runtime().block_on(async {
        let m = Mailer::start(PathBuf::from("/bin/false"), log);
        m.send(mail(None));
        m.finish(Duration::from_secs(20)).await;
    });
    let logged = std::fs::read_to_string(dir.join("log")).unwrap();
    assert!(logged.contains("failed to send email message"), "{logged}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn smtp_dialog_with_a_scripted_server() {
    runtime().block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            let (rd, mut wr) = sock.into_split();
            let mut rd = BufReader::new(rd);
            let mut seen = String::new();
            wr.write_all(b"220 mx ESMTP\r\n").await.unwrap();
            let mut in_data = false;
            loop {
                let mut line = String::new();
                if rd.read_line(&mut line).await.unwrap() == 0 {
                    break;
                }
                seen.push_str(&line);
                let reply: &[u8] = if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        b"250 queued\r\n"
                    } else {
                        continue;
                    }
                } else if line.starts_with("EHLO") {
                    b"502 no\r\n"
                } else if line.starts_with("HELO") {
                    b"250-mx\r\n250 ok\r\n"
                } else if line.starts_with("DATA") {
                    in_data = true;
                    b"354 go\r\n"
                } else if line.starts_with("QUIT") {
                    wr.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                } else {
                    b"250 ok\r\n"
                };
                wr.write_all(reply).await.unwrap();
            }
            seen
        });
        smtp(&format!("127.0.0.1:{port}"), "director", &mail(Some("x")))
            .await
            .unwrap();
        let seen = server.await.unwrap();
        let user = user_name();
        assert_eq!(
            seen,
            format!(
                "EHLO director\r\nHELO director\r\nMAIL FROM:<{user}@director>\r\n\
                 RCPT TO:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n\
                 To: a@x, b@y\r\nFrom: lvs@example.org\r\n\
                 Subject: [web] Deleted real server: 10.1.0.1:80 (10.0.0.1:80)\r\n\r\n\
                 ldirectord host: director\r\n\
                 Log-Message: [web] Deleted real server: 10.1.0.1:80 (10.0.0.1:80)\r\n\
                 Daemon-Status: running\r\n\r\n..hidden\r\n.\r\nQUIT\r\n"
            )
        );
    });
}

/// `smtp=[IPv6]:port` reaches that address and port (the old code split at the first `:`).
#[test]
fn smtp_to_a_bracketed_ipv6_address_and_port() {
    runtime().block_on(async {
        let listener = tokio::net::TcpListener::bind("[::1]:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            sock.write_all(b"554 no service here\r\n").await.unwrap();
        });
        let err = smtp(&format!("[::1]:{port}"), "director", &mail(Some("x")))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "SMTP server said: 554 no service here");
        let err = smtp("mail:", "director", &mail(Some("x")))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "invalid smtp server \"mail:\"");
    });
}

/// A mail server whose greeting never ends (an endless line) fails the mail as soon as
/// the line passes the cap, instead of filling memory for the mail's 30 s bound.
#[test]
fn an_endless_smtp_line_fails_at_the_cap() {
    runtime().block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            // Four times the cap without a line end, then silence with the line still open.
            let _ = sock.write_all(&vec![b'2'; 256 * 1024]).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let started = std::time::Instant::now();
        let sent = tokio::time::timeout(
            Duration::from_secs(5),
            smtp(&format!("127.0.0.1:{port}"), "director", &mail(Some("x"))),
        )
        .await
        .expect("the line cap ends the dialog, not a timeout");
        assert_eq!(
            sent.unwrap_err().to_string(),
            format!("line longer than {} bytes", crate::health::check::MAX_LINE)
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    });
}
