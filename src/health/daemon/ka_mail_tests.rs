use std::sync::Mutex;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::*;

fn relay(server: SocketAddr, to: &[&str]) -> KeepalivedMail {
    KeepalivedMail {
        server,
        helo: "director1.example.com".into(),
        from: "keepalived@example.com".into(),
        to: to.iter().map(|s| (*s).to_owned()).collect(),
        timeout: Duration::from_secs(2),
        router_id: "LVS_DEVEL".into(),
    }
}

fn alert() -> KeepalivedAlert {
    KeepalivedAlert {
        subject: "Realserver [10.0.0.2]:tcp:80 of virtual server [192.0.2.10]:tcp:80 - DOWN".into(),
        body: "=> TCP CHECK failed on service <=".into(),
    }
}

fn fixed_date() -> String {
    "Tue, 08 Dec 2026 01:02:03 +0000".into()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A relay answering each command with `answer(command)`: everything it read, as text.
async fn fake_relay(listener: TcpListener, answer: fn(&str) -> &'static str) -> String {
    let (stream, _) = listener.accept().await.unwrap();
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let mut seen = String::new();
    wr.write_all(b"220 relay ESMTP\r\n").await.unwrap();
    let mut in_data = false;
    loop {
        let mut line = String::new();
        if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
            return seen;
        }
        seen.push_str(&line);
        if in_data {
            if line == ".\r\n" {
                in_data = false;
                wr.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
            }
            continue;
        }
        let reply = answer(line.trim_end());
        in_data = reply.starts_with("354");
        wr.write_all(reply.as_bytes()).await.unwrap();
        if line.starts_with("QUIT") {
            return seen;
        }
    }
}

fn accepting(command: &str) -> &'static str {
    match command.split(' ').next().unwrap_or("") {
        "HELO" => "250-relay\r\n250 hello\r\n",
        "DATA" => "354 go ahead\r\n",
        "QUIT" => "221 bye\r\n",
        _ => "250 ok\r\n",
    }
}

fn run(to: &[&str], answer: fn(&str) -> &'static str) -> (String, Vec<String>) {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let r = relay(listener.local_addr().unwrap(), to);
        let server = tokio::spawn(fake_relay(listener, answer));
        let logged = Mutex::new(Vec::new());
        let log = |l: &str| logged.lock().unwrap().push(l.to_owned());
        dialogue(&r, &alert(), fixed_date, &log).await;
        let seen = server.await.unwrap();
        (seen, logged.into_inner().unwrap())
    })
}

#[test]
fn the_dialogue_and_the_mail_are_keepalived_s_byte_for_byte() {
    let (seen, logged) = run(&["a@example.org", "b@example.org"], accepting);
    assert_eq!(
        seen,
        "HELO director1.example.com\r\n\
         MAIL FROM:<keepalived@example.com>\r\n\
         RCPT TO:<a@example.org>\r\n\
         RCPT TO:<b@example.org>\r\n\
         DATA\r\n\
         Date: Tue, 08 Dec 2026 01:02:03 +0000\r\n\
         From: keepalived@example.com\r\n\
         Subject: [LVS_DEVEL] Realserver [10.0.0.2]:tcp:80 of virtual server [192.0.2.10]:tcp:80 - DOWN\r\n\
         X-Mailer: Keepalived\r\n\
         To: a@example.org, b@example.org\r\n\
         \r\n\
         => TCP CHECK failed on service <=\r\n\
         \r\n\
         .\r\n\
         QUIT\r\n"
    );
    assert!(logged.is_empty(), "{logged:?}");
}

#[test]
fn a_refused_recipient_ends_the_mail_with_quit_and_a_log_line() {
    fn refusing(command: &str) -> &'static str {
        if command.starts_with("RCPT") {
            "550 no such user\r\n"
        } else {
            accepting(command)
        }
    }
    let (seen, logged) = run(&["a@example.org", "b@example.org"], refusing);
    assert_eq!(
        seen,
        "HELO director1.example.com\r\n\
         MAIL FROM:<keepalived@example.com>\r\n\
         RCPT TO:<a@example.org>\r\n\
         QUIT\r\n"
    );
    assert_eq!(logged.len(), 1);
    assert!(
        logged[0].starts_with("Error processing RCPT cmd on SMTP server [127.0.0.1]:")
            && logged[0].ends_with(". SMTP status code = 550"),
        "{logged:?}"
    );
}

#[test]
fn a_relay_that_refuses_the_connection_is_logged_and_the_mail_lost() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let logged = Mutex::new(Vec::new());
        let log = |l: &str| logged.lock().unwrap().push(l.to_owned());
        dialogue(&relay(addr, &["a@x"]), &alert(), fixed_date, &log).await;
        assert_eq!(
            logged.into_inner().unwrap(),
            vec![format!(
                "SMTP connection ERROR to [127.0.0.1]:{}.",
                addr.port()
            )]
        );
    });
}

#[test]
fn a_silent_relay_gets_quit_after_one_timeout_and_is_dropped_after_the_next() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut rd = BufReader::new(stream);
            let mut line = String::new();
            let _ = rd.read_line(&mut line).await;
            // Silent still: the connection stays open past the second timeout.
            tokio::time::sleep(Duration::from_millis(600)).await;
            line
        });
        let mut r = relay(addr, &["a@x"]);
        r.timeout = Duration::from_millis(200);
        let logged = Mutex::new(Vec::new());
        let log = |l: &str| logged.lock().unwrap().push(l.to_owned());
        dialogue(&r, &alert(), fixed_date, &log).await;
        assert_eq!(server.await.unwrap(), "QUIT\r\n");
        let host = format!("[127.0.0.1]:{}", addr.port());
        assert_eq!(
            logged.into_inner().unwrap(),
            vec![
                format!("Timeout reading data to remote SMTP server {host}."),
                format!("Timeout reading data to remote SMTP server {host}."),
            ]
        );
    });
}

#[test]
fn the_data_keeps_what_keepalived_s_buffers_keep() {
    let (x, y) = ("x".repeat(300), "y".repeat(300));
    let r = relay("127.0.0.1:25".parse().unwrap(), &[&x, &y]);
    let long = KeepalivedAlert {
        subject: "s".repeat(400),
        body: "b".repeat(600),
    };
    let text = data_text(&r, &long, &fixed_date());
    // The whole write is cut at 1023 bytes: the end of the mail is lost, as keepalived's.
    assert_eq!(text.len(), BUFFER - 1);
    let text = String::from_utf8(text).unwrap();
    // The subject at 255 bytes (with its "[router_id] "), the body at 511.
    let subject = text.lines().nth(2).unwrap();
    assert_eq!(subject.len(), "Subject: ".len() + 255);
    assert!(!text.ends_with(".\r\n"));
}

#[test]
fn the_to_header_stops_at_the_first_address_that_does_not_fit() {
    let long = "a".repeat(1020);
    let to = vec!["x@y".to_owned(), long, "z@w".to_owned()];
    assert_eq!(to_header(&to), b"x@y, ".to_vec());
}

#[test]
fn a_reply_is_its_last_line_and_its_code_the_first_three_bytes() {
    let mut buf = b"250-one\r\n250-two\r\n251 three\r\n220".to_vec();
    assert_eq!(reply(&mut buf), Some(251));
    assert_eq!(buf, b"220".to_vec());
    assert_eq!(reply(&mut buf), None);
}
