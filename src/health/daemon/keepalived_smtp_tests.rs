//! SMTP_CHECK run by the whole daemon on the FakeBackend against a loopback SMTP server.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Run, VIP};

/// A loopback SMTP server that greets with 220, answers HELO with 250 while `ok` is set
/// (else 550), and QUIT with 221; it records each HELO line.
fn smtp_server(ok: Arc<AtomicBool>, helos: Arc<Mutex<Vec<String>>>) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let Ok(read) = s.try_clone() else { continue };
            let mut lines = BufReader::new(read);
            let _ = s.write_all(b"220 mx.example ESMTP\r\n");
            let mut helo = String::new();
            if lines.read_line(&mut helo).is_err() {
                continue;
            }
            helos.lock().unwrap().push(helo);
            let answer: &[u8] = if ok.load(Ordering::SeqCst) {
                b"250 mx.example\r\n"
            } else {
                b"550 not now\r\n"
            };
            let _ = s.write_all(answer);
            let mut quit = String::new();
            if lines.read_line(&mut quit).is_ok() && quit == "QUIT\r\n" {
                let _ = s.write_all(b"221 bye\r\n");
            }
        }
    });
    port
}

/// SMTP_CHECK with `retry 1`: a real whose HELO is refused is out after two failed checks
/// (delay_before_retry apart), and back at the first passing one, as for TCP_CHECK.
#[test]
fn an_smtp_check_real_is_out_after_retry_plus_one_refused_helos_and_back_at_one_pass() {
    let ok = Arc::new(AtomicBool::new(true));
    let helos = Arc::new(Mutex::new(Vec::new()));
    let port = smtp_server(ok.clone(), helos.clone());
    let text = format!(
        "virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {port} {{
        weight 2
        SMTP_CHECK {{
            helo_name probe.example
            connect_timeout 1
            retry 1
            delay_before_retry 0.3
        }}
    }}
}}
"
    );
    let run = Run::start("smtp", &text);
    run.wait("real in service from the start", &[(port, 2)]);
    std::thread::sleep(Duration::from_millis(1200));
    ok.store(false, Ordering::SeqCst);
    run.wait("HELO refused: real removed", &[]);
    ok.store(true, Ordering::SeqCst);
    let took = run.wait("HELO accepted: real restored", &[(port, 2)]);
    assert!(took <= Duration::from_millis(1500), "back after {took:?}");
    run.stop();
    let helos = helos.lock().unwrap().clone();
    assert!(helos.len() >= 3, "{helos:?}");
    assert!(
        helos.iter().all(|h| h == "HELO probe.example\r\n"),
        "{helos:?}"
    );
}
