//! UDP_CHECK run by the whole daemon on the FakeBackend against loopback UDP servers.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Run, VIP};

/// A loopback server answering every datagram with `ok` while `ok` is set, else `no`.
fn answering(ok: Arc<AtomicBool>) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((_, from)) = sock.recv_from(&mut buf) {
            let answer: &[u8] = if ok.load(Ordering::SeqCst) {
                b"ok"
            } else {
                b"no"
            };
            let _ = sock.send_to(answer, from);
        }
    });
    port
}

/// UDP_CHECK with `retry 0` on three reals (of a TCP virtual: the checker only sends to
/// the real's port, as keepalived's does): one whose reply must start with "ok", one
/// that never answers and requires nothing (in: keepalived passes a timeout), one whose
/// port is closed and requires nothing (out on the kernel's ICMP port unreachable).
#[test]
fn udp_check_reals_follow_the_reply_the_silence_and_the_icmp_error() {
    let ok = Arc::new(AtomicBool::new(true));
    let answers = answering(ok.clone());
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let quiet = silent.local_addr().unwrap().port();
    let closed = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let check = |extra: &str| {
        format!(
            "UDP_CHECK {{\n            {extra}\n            retry 0\n            connect_timeout 1\n        }}"
        )
    };
    let text = format!(
        "virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {answers} {{
        weight 2
        {}
    }}
    real_server 127.0.0.1 {quiet} {{
        weight 3
        {}
    }}
    real_server 127.0.0.1 {closed} {{
        weight 4
        {}
    }}
}}
",
        check("payload 70 69 6E 67\n            require_reply 6F 6B"),
        check(""),
        check(""),
    );
    let run = Run::start("udp", &text);
    run.wait(
        "port unreachable: the closed port's real removed",
        &[(answers, 2), (quiet, 3)],
    );
    ok.store(false, Ordering::SeqCst);
    run.wait("reply mismatch: real removed", &[(quiet, 3)]);
    ok.store(true, Ordering::SeqCst);
    run.wait("matching reply: real restored", &[(answers, 2), (quiet, 3)]);
    run.stop();
    drop(silent);
}
