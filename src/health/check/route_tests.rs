//! keepalived's `connect_ip`, `bindto`/`bind_port` and `bind_if` ([`Route`]): the checks
//! connect to the route's address instead of the real's and leave from the bound source
//! and device, and a bind that fails is this machine's trouble. Loopback only: every 127.0.0.0/8 address is
//! local on Linux, so 127.0.0.2 and 127.0.0.3 stand for a health network and a source.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};

use super::fake::{target, target_udp, udp_check};
use super::{Check, ConnectCheck, KeepalivedDns, KeepalivedSmtp, Outcome, Route};

/// A real at a documentation address nothing answers, checked through `connect_ip`.
const UNREACHABLE: &str = "192.0.2.77";

fn routed(port: u16, connect_ip: &str, bind: Option<&str>) -> super::Target {
    super::Target {
        real_addr: UNREACHABLE.parse().unwrap(),
        route: Route {
            connect_ip: Some(connect_ip.parse().unwrap()),
            bind: bind.map(|b| b.parse().unwrap()),
            device: None,
            mark: None,
        },
        ..target(port)
    }
}

/// A free TCP port on 127.0.0.3 (bound, then released), for a fixed `bind_port`.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.3:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_connect_check_goes_to_connect_ip_from_bindto() {
    let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let source = free_port();
    let bind = format!("127.0.0.3:{source}");
    let check = ConnectCheck::new(Duration::from_secs(2));
    let t = routed(port, "127.0.0.2", Some(&bind));
    assert_eq!(
        t.check_addr(),
        Some(SocketAddr::from(([127, 0, 0, 2], port)))
    );
    assert_eq!(check.run(&t).await, Outcome::Up);
    let (_, peer) = listener.accept().await.unwrap();
    assert_eq!(peer, bind.parse::<SocketAddr>().unwrap());
    // Without a route the same check goes to the real's address, where nothing answers
    // (refused, unreachable or silent: down whichever).
    let direct = super::Target {
        route: Route::default(),
        ..t
    };
    let short = ConnectCheck::new(Duration::from_millis(300));
    let out = short.run(&direct).await;
    assert!(matches!(out, Outcome::Down(_)), "{out:?}");
}

/// A source this machine does not have cannot be bound: keepalived reschedules such a checker without counting a failure, and the
/// daemon reports a local fault, which keeps the real as it is.
#[tokio::test]
async fn a_bind_that_fails_is_a_local_fault() {
    let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = routed(port, "127.0.0.2", Some("192.0.2.1:0"));
    let tcp = ConnectCheck::new(Duration::from_secs(2)).run(&t).await;
    assert!(
        matches!(&tcp, Outcome::LocalFault(why) if why.starts_with("bind to 192.0.2.1:0: ")),
        "{tcp:?}"
    );
    let udp = udp_check(b"");
    let out = udp.run(&t).await;
    assert!(
        matches!(&out, Outcome::LocalFault(why) if why.starts_with("bind to 192.0.2.1:0: ")),
        "{out:?}"
    );
    let dns = KeepalivedDns {
        qtype: 6,
        name: String::new(),
        timeout: Duration::from_millis(300),
    };
    let out = dns.run(&t).await;
    assert!(
        matches!(&out, Outcome::LocalFault(why) if why.starts_with("bind to 192.0.2.1:0: ")),
        "{out:?}"
    );
}

/// SMTP_CHECK's exchange runs over the routed connection: the server sees the bound
/// source and the check passes on its answers.
#[tokio::test]
async fn an_smtp_check_talks_over_the_route() {
    let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (conn, peer) = listener.accept().await.unwrap();
        let mut conn = BufReader::new(conn);
        // Each answer after the check's line (HELO, QUIT), as one packet of its own.
        for (i, answer) in [&b"220 mx\r\n"[..], b"250 mx\r\n", b"221 bye\r\n"]
            .iter()
            .enumerate()
        {
            if i > 0 {
                let mut line = String::new();
                conn.read_line(&mut line).await.unwrap();
            }
            conn.get_mut().write_all(answer).await.unwrap();
        }
        peer.ip()
    });
    let check = KeepalivedSmtp {
        helo_name: "h".into(),
        timeout: Duration::from_secs(2),
    };
    let t = routed(port, "127.0.0.2", Some("127.0.0.3:0"));
    assert_eq!(check.run(&t).await, Outcome::Up);
    assert_eq!(server.await.unwrap().to_string(), "127.0.0.3");
}

/// UDP_CHECK sends its datagram to connect_ip from the bound source.
#[tokio::test]
async fn a_udp_check_sends_from_bindto_to_connect_ip() {
    let server = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    let port = server.local_addr().unwrap().port();
    let check = udp_check(b"ping");
    let t = super::Target {
        real_addr: UNREACHABLE.parse().unwrap(),
        route: Route {
            connect_ip: Some("127.0.0.2".parse().unwrap()),
            bind: Some("127.0.0.3:0".parse().unwrap()),
            device: None,
            mark: None,
        },
        ..target_udp(port)
    };
    assert_eq!(check.run(&t).await, Outcome::Up);
    let mut buf = [0u8; 16];
    let (n, from) = server.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"ping");
    assert_eq!(from.ip().to_string(), "127.0.0.3");
}

/// `bind_if` binds the socket to the device: through `lo` the loopback address answers;
/// a device this machine lacks is its own trouble (keepalived: "socket bind failed.
/// Rescheduling"), for TCP and DNS alike, while UDP_CHECK, whose socket keepalived never
/// binds to a device, sends as if no device were named.
#[tokio::test]
async fn bind_if_binds_tcp_and_dns_sockets_to_the_device_and_not_udp_checks() {
    let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let on = |device: &str, t: super::Target| super::Target {
        route: Route {
            device: Some(device.to_owned()),
            ..t.route
        },
        ..t
    };
    let check = ConnectCheck::new(Duration::from_secs(2));
    let through_lo = on("lo", routed(port, "127.0.0.2", Some("127.0.0.3:0")));
    assert_eq!(check.run(&through_lo).await, Outcome::Up);
    let (_, peer) = listener.accept().await.unwrap();
    assert_eq!(peer.ip().to_string(), "127.0.0.3");
    let missing = "lvsctl-nodev0";
    let nowhere = on(missing, routed(port, "127.0.0.2", None));
    let out = check.run(&nowhere).await;
    let local = |out: &Outcome| matches!(out, Outcome::LocalFault(why) if why.starts_with("bind to device lvsctl-nodev0: "));
    assert!(local(&out), "{out:?}");
    let dns = KeepalivedDns {
        qtype: 6,
        name: String::new(),
        timeout: Duration::from_millis(300),
    };
    let out = dns.run(&nowhere).await;
    assert!(local(&out), "{out:?}");
    let server = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    let udp_port = server.local_addr().unwrap().port();
    let udp = udp_check(b"ping");
    let t = on(
        missing,
        super::Target {
            real_addr: UNREACHABLE.parse().unwrap(),
            route: Route {
                connect_ip: Some("127.0.0.2".parse().unwrap()),
                ..Route::default()
            },
            ..target_udp(udp_port)
        },
    );
    assert_eq!(udp.run(&t).await, Outcome::Up);
    let mut buf = [0u8; 16];
    let (n, _) = server.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"ping");
}

/// A checker's `fwmark` marks its socket (SO_MARK) and the check runs as before; SO_MARK
/// needs CAP_NET_ADMIN, and without it the check is this machine's trouble, never the
/// real's. (That the mark steers the packets is shown in the VM against keepalived.)
#[tokio::test]
async fn a_marked_check_runs_or_is_a_local_fault_without_the_privilege() {
    let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut t = routed(port, "127.0.0.2", None);
    t.route.mark = Some(7);
    let out = ConnectCheck::new(Duration::from_secs(2)).run(&t).await;
    if rustix::process::geteuid().is_root() {
        assert_eq!(out, Outcome::Up);
    } else {
        assert!(
            matches!(&out, Outcome::LocalFault(why) if why.starts_with("firewall mark 7: ")),
            "{out:?}"
        );
    }
}
