//! Check-level items of the acceptance checklist of docs/health-acceptance.md that the
//! per-check tests did not pin down: the SNI an https check sends (T40), HEAD without
//! receive (T40) and a dns check without receive (T43). docs/health-acceptance.md maps
//! every item to its tests.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::fake;
use super::{Check, Outcome, Target, checker_for};
use crate::health::config::{StaticEnv, VirtualService, parse_config};

/// The one virtual of `text`, its check and target.
fn check_of(text: &str) -> (Box<dyn Check>, Target) {
    let env = StaticEnv::with_common_services();
    let v: VirtualService = parse_config("t.cf", text, &env)
        .unwrap()
        .0
        .virtuals
        .remove(0);
    (checker_for(&v, &v.reals[0]), Target::new(&v, &v.reals[0]))
}

/// A TLS server (the test certificate) that records the SNI of every handshake and
/// answers `200 ok`.
async fn sni_server() -> (u16, Arc<Mutex<Vec<Option<String>>>>) {
    let (l, port) = fake::listener().await;
    let acceptor = fake::tls_acceptor();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let Ok(mut tls) = acceptor.accept(s).await else {
                continue;
            };
            let sni = tls.get_ref().1.server_name().map(str::to_owned);
            log.lock().unwrap().push(sni);
            let mut buf = vec![0u8; 4096];
            let _ = tls.read(&mut buf).await;
            let _ = tls
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .await;
            let _ = tls.shutdown().await;
        }
    });
    (port, seen)
}

/// T40: https sends `virtualhost` as SNI (a deliberate deviation: ldirectord's IP-literal
/// URL sends none), and no SNI without a virtualhost (an IP cannot be a server name).
#[tokio::test]
async fn t40_https_sends_virtualhost_as_sni_and_none_for_a_bare_ip() {
    let (port, seen) = sni_server().await;
    let cf = |extra: &str| {
        format!(
            "virtual=192.0.2.1:443\n    real=127.0.0.1:{port} masq\n    service=https\n    negotiatetimeout=3\n{extra}"
        )
    };
    let (c, t) = check_of(&cf("    virtualhost=www.example\n"));
    assert_eq!(c.run(&t).await, Outcome::Up);
    let (c, t) = check_of(&cf(""));
    assert_eq!(c.run(&t).await, Outcome::Up);
    assert_eq!(
        *seen.lock().unwrap(),
        [Some("www.example".to_owned()), None]
    );
}

/// HEAD answers: headers only (a Content-Length but no body, as HEAD responses are), and
/// `/broken` a 500.
const HEAD_ROUTES: &[(&str, &str)] = &[
    ("/alive", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"),
    ("/broken", "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"),
];

/// T40: httpmethod=HEAD without receive sends HEAD and counts a 2xx (with no body) as up,
/// a 5xx as down.
#[tokio::test]
async fn t40_head_without_receive_is_up_on_2xx() {
    let (port, seen) = fake::http_recorder(HEAD_ROUTES).await;
    let cf = |request: &str| {
        format!(
            "virtual=192.0.2.1:80\n    real=127.0.0.1:{port} masq\n    service=http\n    httpmethod=HEAD\n    request=\"{request}\"\n    negotiatetimeout=3\n"
        )
    };
    let (c, t) = check_of(&cf("alive"));
    assert_eq!(c.run(&t).await, Outcome::Up);
    let (c, t) = check_of(&cf("broken"));
    fake::assert_down(&c.run(&t).await, "500 Oops");
    let request_lines: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|l| l.split(" | ").next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        request_lines,
        ["HEAD /alive HTTP/1.1", "HEAD /broken HTTP/1.1"]
    );
}

/// T43: a dns check with an empty receive is always down (as ldirectord), without even
/// asking the server.
#[tokio::test]
async fn t43_dns_without_receive_is_down() {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let (c, t) = check_of(&format!(
        "virtual=192.0.2.1:53\n    real=127.0.0.1:{port} masq\n    service=dns\n    request=\"www.example\"\n    negotiatetimeout=2\n"
    ));
    fake::assert_down(&c.run(&t).await, "without receive");
    let mut buf = [0u8; 512];
    let got = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        sock.recv_from(&mut buf),
    )
    .await;
    assert!(got.is_err(), "no query sent");
}

/// T44: every protocol check honours its deadline against a black-holed server (TCP
/// accepted but silent; UDP never answered), all at once, and a healthy check run
/// alongside them answers at once. (connect and ping against a DROP rule need the
/// kernel: `quiescent_blackhole_drift_reload_and_no_cleanstop` in tests/kernel_health.rs.)
#[tokio::test]
async fn t44_every_check_kind_is_down_by_its_deadline_and_delays_no_other() {
    let tcp = fake::silent().await;
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let uport = udp.local_addr().unwrap().port();
    let (healthy, hport) = fake::listener().await;
    let cases: Vec<(&str, String)> = [
        ("http", "    service=http\n"),
        ("https", "    service=https\n"),
        ("http_proxy", "    service=http_proxy\n    request=\"http://a.example/\"\n"),
        ("smtp", "    service=smtp\n"),
        ("pop", "    service=pop\n"),
        ("pops", "    service=pops\n"),
        ("imap", "    service=imap\n"),
        ("imaps", "    service=imaps\n"),
        ("nntp", "    service=nntp\n"),
        ("ftp", "    service=ftp\n    receive=\"x\"\n"),
        ("ldap", "    service=ldap\n"),
        ("ldaps", "    service=ldaps\n"),
        (
            "mysql",
            "    service=mysql\n    login=\"u\"\n    passwd=\"p\"\n    database=\"d\"\n    request=\"SELECT 1\"\n",
        ),
        (
            "pgsql",
            "    service=pgsql\n    login=\"u\"\n    passwd=\"p\"\n    database=\"d\"\n    request=\"SELECT 1\"\n",
        ),
        ("sip", "    service=sip\n    login=\"probe\"\n"),
        ("simpletcp", "    service=simpletcp\n    request=\"PING\"\n    receive=\"PONG\"\n"),
        ("dns/tcp", "    service=dns\n    request=\"www.example\"\n    receive=\"x\"\n"),
    ]
    .iter()
    .map(|(name, block)| {
        (
            *name,
            format!(
                "virtual=192.0.2.1:80\n    protocol=tcp\n    real=127.0.0.1:{tcp} masq\n    checktimeout=2\n    negotiatetimeout=2\n{block}"
            ),
        )
    })
    .chain(
        [
            ("dns/udp", "    service=dns\n    request=\"www.example\"\n    receive=\"x\"\n"),
            (
                "radius",
                "    service=radius\n    login=\"u\"\n    passwd=\"p\"\n    secret=\"s\"\n",
            ),
            ("simpletcp/udp", "    service=simpletcp\n    request=\"PING\"\n    receive=\"PONG\"\n"),
            ("sip/udp", "    service=sip\n    login=\"probe\"\n"),
        ]
        .iter()
        .map(|(name, block)| {
            (
                *name,
                format!(
                    "virtual=192.0.2.1:80\n    protocol=udp\n    real=127.0.0.1:{uport} masq\n    checktimeout=2\n    negotiatetimeout=2\n{block}"
                ),
            )
        }),
    )
    .collect();
    let start = std::time::Instant::now();
    let mut runs = tokio::task::JoinSet::new();
    for (name, text) in cases {
        let (check, target) = check_of(&text);
        runs.spawn(async move {
            let outcome = check.run(&target).await;
            (name, outcome, start.elapsed())
        });
    }
    let (_, good_target) = check_of(&format!(
        "virtual=192.0.2.1:80\n    real=127.0.0.1:{hport} masq\n    checktype=connect\n    checktimeout=1\n"
    ));
    let good = async {
        let outcome = super::ConnectCheck::new(std::time::Duration::from_secs(1))
            .run(&good_target)
            .await;
        (outcome, start.elapsed())
    };
    let (results, (good_outcome, good_time)) = tokio::join!(runs.join_all(), good);
    assert_eq!(good_outcome, Outcome::Up);
    // The healthy check is not queued behind the silent ones: it is done before the
    // first of their 2 s deadlines, and none of them outlives its deadline by much (the
    // margins are for a loaded test host; the bench measures the real figures).
    assert!(
        good_time < std::time::Duration::from_millis(1500),
        "healthy check took {good_time:?}"
    );
    for (name, outcome, took) in results {
        assert!(matches!(outcome, Outcome::Down(_)), "{name}: {outcome:?}");
        assert!(
            took < std::time::Duration::from_secs(6),
            "{name}: {took:?} for a 2 s deadline"
        );
    }
    drop((udp, healthy));
}
