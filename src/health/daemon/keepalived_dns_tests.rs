//! DNS_CHECK run by the whole daemon on the FakeBackend against a loopback DNS server.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Run, VIP};

/// A loopback DNS server answering every query with its own question and rcode 0 while
/// `ok` is set, else 2 (SERVFAIL).
fn dns_server(ok: Arc<AtomicBool>) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            if n < 12 {
                continue;
            }
            let mut answer = buf[..n].to_vec();
            answer[2] |= 0x80;
            answer[3] = (answer[3] & 0xf0) | if ok.load(Ordering::SeqCst) { 0 } else { 2 };
            let _ = sock.send_to(&answer, from);
        }
    });
    port
}

/// DNS_CHECK with `retry 0`: one SERVFAIL takes the real out, one NOERROR brings it back.
#[test]
fn a_dns_check_real_follows_the_response_code() {
    let ok = Arc::new(AtomicBool::new(true));
    let port = dns_server(ok.clone());
    let text = format!(
        "virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {port} {{
        weight 2
        DNS_CHECK {{
            type A
            name www.example
            retry 0
            connect_timeout 1
        }}
    }}
}}
"
    );
    let run = Run::start("dns", &text);
    run.wait("real in service from the start", &[(port, 2)]);
    ok.store(false, Ordering::SeqCst);
    run.wait("SERVFAIL: real removed", &[]);
    ok.store(true, Ordering::SeqCst);
    run.wait("NOERROR: real restored", &[(port, 2)]);
    run.stop();
}
