//! `lvsctl health` protocol checks against the real kernel: tiny servers written here speak
//! pop, imap, ldap, mysql, radius and simpletcp-over-UDP on addresses of the test's own
//! network namespace; the daemon checks them and the test reads the IPVS table back with
//! the real ipvsadm. Each virtual has two reals; flipping which one answers correctly must
//! move the kernel entry from one to the other.
//!
//! The servers are blocking threads of this test process (no extra process starts in the
//! slow emulated guest). Timing: checkinterval 1 s, failurecount 1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use support::{lvsctl_bin, sh};

const USER: &str = "probe";
const PASSWORD: &str = "pw";
const SECRET: &[u8] = b"s3cret";

/// Whether a fake server answers as a healthy one.
type Health = Arc<AtomicBool>;

fn healthy(h: &Health) -> bool {
    h.load(Ordering::SeqCst)
}

/// Serves each TCP connection in turn with `session`.
fn serve_tcp(addr: &str, health: &Health, session: fn(TcpStream, bool)) {
    let listener = TcpListener::bind(addr).unwrap();
    let health = health.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            session(stream, healthy(&health));
        }
    });
}

fn lines(stream: &TcpStream) -> impl Iterator<Item = String> + use<> {
    BufReader::new(stream.try_clone().unwrap())
        .lines()
        .map_while(Result::ok)
}

fn pop(mut s: TcpStream, ok: bool) {
    let _ = s.write_all(b"+OK pop ready\r\n");
    for line in lines(&s) {
        let reply = match line.split_once(' ') {
            Some(("PASS", pw)) if ok && pw == PASSWORD => "+OK in\r\n",
            Some(("PASS", _)) => "-ERR denied\r\n",
            _ if line == "QUIT" => "+OK bye\r\n",
            _ => "+OK\r\n",
        };
        if s.write_all(reply.as_bytes()).is_err() || line == "QUIT" {
            return;
        }
    }
}

fn imap(mut s: TcpStream, ok: bool) {
    let _ = s.write_all(b"* OK imap ready\r\n");
    for line in lines(&s) {
        let reply = if line.starts_with("a1 LOGIN ") {
            if ok && line == format!("a1 LOGIN \"{USER}\" \"{PASSWORD}\"") {
                "a1 OK in\r\n"
            } else {
                "a1 NO denied\r\n"
            }
        } else {
            "* BYE\r\na2 OK\r\n"
        };
        if s.write_all(reply.as_bytes()).is_err() || !line.starts_with("a1 ") {
            return;
        }
    }
}

/// One BER element with a short-form length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag, content.len() as u8];
    out.extend_from_slice(content);
    out
}

fn ldap_message(id: u8, op: &[u8]) -> Vec<u8> {
    tlv(0x30, &[&[0x02, 0x01, id][..], op].concat())
}

fn ldap_result(id: u8, op: u8, code: u8) -> Vec<u8> {
    ldap_message(id, &tlv(op, &[0x0a, 0x01, code, 0x04, 0x00, 0x04, 0x00]))
}

/// Anonymous bind, then a base search that finds `dc=example` only when healthy.
fn ldap(mut s: TcpStream, ok: bool) {
    loop {
        let mut head = [0u8; 2];
        if s.read_exact(&mut head).is_err() || head[1] >= 0x80 {
            return;
        }
        let mut body = vec![0u8; head[1] as usize];
        if s.read_exact(&mut body).is_err() || body.len() < 4 {
            return;
        }
        let (id, op) = (body[2], body[3]);
        let reply = match op {
            0x60 => ldap_result(id, 0x61, 0),
            0x63 if ok => {
                let entry = tlv(0x64, &[tlv(0x04, b"dc=example"), tlv(0x30, &[])].concat());
                [ldap_message(id, &entry), ldap_result(id, 0x65, 0)].concat()
            }
            0x63 => ldap_result(id, 0x65, 32),
            _ => return,
        };
        if s.write_all(&reply).is_err() {
            return;
        }
    }
}

fn mysql_packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_le_bytes();
    [&[len[0], len[1], len[2], seq][..], payload].concat()
}

fn read_mysql(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).ok()?;
    let mut p = vec![0u8; u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize];
    s.read_exact(&mut p).ok()?;
    Some(p)
}

fn sha1(parts: &[&[u8]]) -> Vec<u8> {
    let mut c = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    for p in parts {
        c.update(p);
    }
    c.finish().as_ref().to_vec()
}

/// mysql_native_password login (checked), then `SELECT 1` returns one row when healthy
/// and none otherwise.
fn mysql(mut s: TcpStream, ok: bool) {
    let scramble = *b"0123456789abcdefghij";
    let mut greeting = vec![10];
    greeting.extend(b"8.0.36-vm\0");
    greeting.extend([1, 0, 0, 0]);
    greeting.extend(&scramble[..8]);
    greeting.extend([0, 0xff, 0xf7, 0xff, 0x02, 0x00, 0xff, 0xdf, 21]);
    greeting.extend([0; 10]);
    greeting.extend(&scramble[8..]);
    greeting.push(0);
    greeting.extend(b"mysql_native_password\0");
    if s.write_all(&mysql_packet(0, &greeting)).is_err() {
        return;
    }
    let Some(response) = read_mysql(&mut s) else {
        return;
    };
    let stage1 = sha1(&[PASSWORD.as_bytes()]);
    let expected: Vec<u8> = stage1
        .iter()
        .zip(sha1(&[&scramble, &sha1(&[&stage1])]))
        .map(|(a, b)| a ^ b)
        .collect();
    let user_end = 32 + response[32..].iter().position(|b| *b == 0).unwrap_or(0);
    let auth_len = response.get(user_end + 1).copied().unwrap_or(0) as usize;
    let auth = response.get(user_end + 2..user_end + 2 + auth_len);
    if auth != Some(expected.as_slice()) {
        let _ = s.write_all(&mysql_packet(2, b"\xff\x15\x04#28000Access denied"));
        return;
    }
    let _ = s.write_all(&mysql_packet(2, &[0, 0, 0, 2, 0, 0, 0]));
    if read_mysql(&mut s).is_none() {
        return;
    }
    let column = b"\x03def\0\0\0\x011\0\x0c\x3f\0\x01\0\0\0\x08\x81\0\0\0\0";
    let eof = [0xfe, 0, 0, 2, 0];
    let mut reply = [
        mysql_packet(1, &[1]),
        mysql_packet(2, column),
        mysql_packet(3, &eof),
    ]
    .concat();
    if ok {
        reply.extend(mysql_packet(4, b"\x011"));
        reply.extend(mysql_packet(5, &eof));
    } else {
        reply.extend(mysql_packet(4, &eof));
    }
    let _ = s.write_all(&reply);
    let _ = read_mysql(&mut s);
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// RADIUS: recovers the hidden password, answers Accept (healthy and right) or Reject.
fn radius(sock: &UdpSocket, health: &Health) {
    let mut buf = [0u8; 4096];
    while let Ok((n, peer)) = sock.recv_from(&mut buf) {
        let req = &buf[..n];
        let auth = &req[4..20];
        let (mut at, mut password) = (20, Vec::new());
        while at + 2 <= req.len() {
            let len = (req[at + 1] as usize).max(2);
            if req[at] == 2 {
                let pad = md5(&[SECRET, auth]);
                password = req[at + 2..at + len]
                    .iter()
                    .zip(pad)
                    .map(|(c, k)| c ^ k)
                    .take_while(|b| *b != 0)
                    .collect();
            }
            at += len;
        }
        let accept = healthy(health) && password == PASSWORD.as_bytes();
        let mut reply = vec![if accept { 2 } else { 3 }, req[1], 0, 20];
        reply.extend_from_slice(auth);
        let response_auth = md5(&[&reply[..4], auth, SECRET]);
        reply[4..20].copy_from_slice(&response_auth);
        let _ = sock.send_to(&reply, peer);
    }
}

/// simpletcp over UDP: a status line per datagram.
fn status(sock: &UdpSocket, health: &Health) {
    let mut buf = [0u8; 512];
    while let Ok((_, peer)) = sock.recv_from(&mut buf) {
        let text: &[u8] = if healthy(health) {
            b"status: green\n"
        } else {
            b"status: red\n"
        };
        let _ = sock.send_to(text, peer);
    }
}

fn serve_udp(addr: &str, health: &Health, handler: fn(&UdpSocket, &Health)) {
    let sock = UdpSocket::bind(addr).unwrap();
    let health = health.clone();
    std::thread::spawn(move || handler(&sock, &health));
}

/// `real → weight` of one service from `ipvsadm -Ln`; None when the service is absent.
fn reals_of(proto: &str, service: &str) -> Option<BTreeMap<String, i64>> {
    let (out, err, rc) = sh("ipvsadm -Ln");
    assert_eq!(rc, 0, "ipvsadm -Ln: {err}");
    let mut current: Option<BTreeMap<String, i64>> = None;
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [p, addr, ..] if (*p == "TCP" || *p == "UDP") => {
                if current.is_some() {
                    break;
                }
                if *p == proto && *addr == service {
                    current = Some(BTreeMap::new());
                }
            }
            ["->", real, _fwd, weight, ..] if current.is_some() => {
                if let (Some(map), Ok(w)) = (current.as_mut(), weight.parse()) {
                    map.insert((*real).to_owned(), w);
                }
            }
            _ => {}
        }
    }
    current
}

/// The daemon in the foreground, with its own pid file, socket and log.
struct Daemon {
    child: Child,
    log: String,
    pid_file: String,
    socket: String,
    config: String,
}

impl Daemon {
    fn start(config_text: &str) -> Self {
        let base = format!("lvhc-{}", std::process::id());
        let config = format!("/tmp/{base}.cf");
        std::fs::write(&config, config_text).unwrap();
        let (pid_file, socket) = (format!("/run/{base}.pid"), format!("/run/{base}.sock"));
        let log = format!("/tmp/{base}.log");
        let child = Command::new(lvsctl_bin())
            .args(["health", "--foreground", "--pid-file", &pid_file])
            .args(["--socket", &socket, &config, "start"])
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("start lvsctl health");
        Self {
            child,
            log,
            pid_file,
            socket,
            config,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self) {
        let (_, err, rc) = sh(&format!(
            "{} health --pid-file {} --socket {} {} stop",
            lvsctl_bin(),
            self.pid_file,
            self.socket,
            self.config
        ));
        assert_eq!(rc, 0, "stop: {err}");
        let end = Instant::now() + Duration::from_secs(30);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("daemon did not stop; log:\n{}", self.log());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One virtual of the test: protocol, port (virtual and real), service lines.
struct Case {
    proto: &'static str,
    port: u16,
    block: &'static str,
}

const CASES: [Case; 6] = [
    Case {
        proto: "TCP",
        port: 110,
        block: "\tservice=pop\n\tlogin=\"probe\"\n\tpasswd=\"pw\"\n",
    },
    Case {
        proto: "TCP",
        port: 143,
        block: "\tservice=imap\n\tlogin=\"probe\"\n\tpasswd=\"pw\"\n",
    },
    Case {
        proto: "TCP",
        port: 389,
        block: "\tservice=ldap\n\trequest=\"dc=example\"\n\treceive=\"^dc=example$\"\n",
    },
    Case {
        proto: "TCP",
        port: 3306,
        block: "\tservice=mysql\n\tlogin=\"probe\"\n\tpasswd=\"pw\"\n\tdatabase=\"app\"\n\trequest=\"SELECT 1\"\n",
    },
    Case {
        proto: "UDP",
        port: 1812,
        block: "\tprotocol=udp\n\tservice=radius\n\tlogin=\"probe\"\n\tpasswd=\"pw\"\n\tsecret=\"s3cret\"\n",
    },
    Case {
        proto: "UDP",
        port: 7,
        block: "\tprotocol=udp\n\tservice=simpletcp\n\trequest=\"status\"\n\treceive=\"^status: green$\"\n",
    },
];

fn config() -> String {
    let mut text = String::from(
        "checkinterval=1\nchecktimeout=2\nnegotiatetimeout=2\nfailurecount=1\nquiescent=no\n",
    );
    for c in &CASES {
        let port = c.port;
        let _ = write!(
            text,
            "virtual=10.0.0.1:{port}\n\treal=10.1.0.1:{port} masq\n\treal=10.1.0.2:{port} masq\n\tscheduler=rr\n{}",
            c.block
        );
    }
    text
}

/// Polls until every virtual has exactly `real` (10.1.0.`real`) with weight 1.
fn wait_all_on(real: u8, d: &Daemon) -> Duration {
    let start = Instant::now();
    loop {
        let wrong: Vec<String> = CASES
            .iter()
            .filter_map(|c| {
                let want = BTreeMap::from([(format!("10.1.0.{real}:{}", c.port), 1)]);
                let got = reals_of(c.proto, &format!("10.0.0.1:{}", c.port));
                (got.as_ref() != Some(&want)).then(|| format!("{} {}: {got:?}", c.proto, c.port))
            })
            .collect();
        if wrong.is_empty() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "still wrong after 40 s: {wrong:?}\nlog:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn protocol_checks_move_reals_in_and_out_of_the_kernel() {
    kernel_test!();
    let (_, err, rc) = sh("ip addr add 10.1.0.1/32 dev lo && ip addr add 10.1.0.2/32 dev lo");
    assert_eq!(rc, 0, "addresses: {err}");
    let first: Health = Arc::new(AtomicBool::new(true));
    let second: Health = Arc::new(AtomicBool::new(false));
    for (ip, health) in [("10.1.0.1", &first), ("10.1.0.2", &second)] {
        serve_tcp(&format!("{ip}:110"), health, pop);
        serve_tcp(&format!("{ip}:143"), health, imap);
        serve_tcp(&format!("{ip}:389"), health, ldap);
        serve_tcp(&format!("{ip}:3306"), health, mysql);
        serve_udp(&format!("{ip}:1812"), health, radius);
        serve_udp(&format!("{ip}:7"), health, status);
    }
    let mut d = Daemon::start(&config());
    let took = wait_all_on(1, &d);
    eprintln!("all six virtuals on the healthy real after {took:?}");

    first.store(false, Ordering::SeqCst);
    second.store(true, Ordering::SeqCst);
    let took = wait_all_on(2, &d);
    eprintln!("all six moved to the other real after {took:?}");
    let log = d.log();
    assert!(
        log.contains("Deleted real server: 10.1.0.1:3306 (10.0.0.1:3306)"),
        "{log}"
    );
    d.stop();
}
