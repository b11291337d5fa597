use super::*;
use tokio::net::TcpListener;

/// A server that sends `script`'s replies in turn, each after reading what the client
/// sends (the first before reading anything), then closes; it returns what it read.
async fn serve(script: &'static [&'static [u8]]) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        for (i, reply) in script.iter().enumerate() {
            if i > 0 {
                let mut buf = [0u8; 512];
                let n = s.read(&mut buf).await.unwrap_or(0);
                got.extend_from_slice(&buf[..n]);
            }
            let _ = s.write_all(reply).await;
        }
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.unwrap_or(0);
        got.extend_from_slice(&buf[..n]);
        got
    });
    (port, task)
}

fn smtp() -> KeepalivedSmtp {
    KeepalivedSmtp {
        helo_name: "smtpchecker.keepalived.org".into(),
        timeout: Duration::from_secs(2),
    }
}

fn target(port: u16) -> Target {
    super::super::fake::target(port)
}

#[tokio::test]
async fn greeting_helo_and_quit_pass() {
    let (port, server) = serve(&[b"220 mx ESMTP\r\n", b"250 mx\r\n", b"221 bye\r\n"]).await;
    assert_eq!(smtp().run(&target(port)).await, Outcome::Up);
    assert_eq!(
        server.await.unwrap(),
        b"HELO smtpchecker.keepalived.org\r\nQUIT\r\n"
    );
}

/// smtp_get_status: three digits, then a space or the line's end.
#[tokio::test]
async fn a_multi_line_or_bare_greeting_is_a_bad_banner() {
    for greeting in [
        &b"220-mx ESMTP\r\n220 mx\r\n"[..],
        b"220\r\n",
        b"421 busy\r\n",
    ] {
        let script: &'static [&'static [u8]] = Box::leak(Box::new([greeting]));
        let (port, _server) = serve(script).await;
        assert_eq!(
            smtp().run(&target(port)).await,
            Outcome::Down(format!("Bad greeting banner from server 127.0.0.1:{port}")),
            "{greeting:?}"
        );
    }
    let (port, _server) = serve(&[b"220\n", b"250\n", b"x\n"]).await;
    assert_eq!(smtp().run(&target(port)).await, Outcome::Up);
}

#[tokio::test]
async fn a_bad_helo_answer_or_no_line_after_quit_fails() {
    let (port, _server) = serve(&[b"220 mx\r\n", b"550 no\r\n"]).await;
    assert_eq!(
        smtp().run(&target(port)).await,
        Outcome::Down(format!("Bad HELO response from server 127.0.0.1:{port}"))
    );
    let (port, _server) = serve(&[b"220 mx\r\n", b"250 mx\r\n"]).await;
    assert_eq!(
        smtp().run(&target(port)).await,
        Outcome::Down(format!("Read failure from server 127.0.0.1:{port}"))
    );
}

#[test]
fn a_line_ends_at_a_newline_before_any_nul_and_a_full_buffer_starts_over() {
    let mut l = LineBuffer::default();
    assert_eq!(l.room(), 511);
    assert_eq!(l.feed(b"220 a"), None);
    assert_eq!(l.feed(b"b\r\n250 next\r\n"), Some(b"220 ab\r".to_vec()));
    let mut l = LineBuffer::default();
    assert_eq!(l.feed(b"220\0 x\n"), None, "strchr stops at the NUL");
    let mut l = LineBuffer::default();
    assert_eq!(l.feed(&[b'x'; 511]), None);
    assert_eq!(l.room(), 511, "emptied");
    assert_eq!(l.feed(b"250 ok\n"), Some(b"250 ok".to_vec()));
}

#[test]
fn the_helo_line_is_cut_to_the_buffer() {
    assert_eq!(helo("a.example"), b"HELO a.example\r\n");
    assert_eq!(helo(&"n".repeat(600)).len(), 511);
}
