//! `lvsctl health --keepalived` side by side with Debian's keepalived (its checker only,
//! `keepalived --check`) on the same keepalived.conf, against the same real servers failing
//! and coming back in the same steps: connect failures with inhibit_on_failure, the sorry
//! server coming in when no real is left (quorum 1) and going when one is back, an HTTP_GET
//! url answering 404, a page whose MD5 no longer matches `digest`, and recovery; an
//! SSL_GET whose page stops matching its `regex`; the top-level `SSL` block's client
//! certificate against a server requiring one; SMTP_CHECK, DNS_CHECK, UDP_CHECK and
//! PING_CHECK; `smtp_alert`'s mails, dialogue and text, to a relay of the test's own.
//!
//! The daemons run one after the other in the test's network namespace (the IPVS table is
//! per namespace). After each step the table is read once it has reached the state the step
//! should lead to (or after a deadline, whatever it then is) and held still for two seconds.
//! The two sequences of tables must be identical; then keepalived's own sequence must be the
//! expected one, so that the test cannot pass by both daemons doing nothing.
//!
//! Ignored by plain `cargo test`: tests/vm/test-all runs these with `--ignored` in a guest of
//! their own beside the other kernels' lanes (they mostly wait for the daemons' timers). By
//! hand: `CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER=$PWD/tests/vm/runner
//! LVSCTL_REQUIRE_KERNEL=1 cargo test --test kernel_keepalived_diff -- --ignored`.
//! docs/keepalived-compat.md, "Running a keepalived.conf".

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[path = "support/servers.rs"]
mod servers;
mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use servers::{ServerNet, kill, listing, reals_in, table};
use support::{lvsctl_bin, sh};

/// MD5 of "ok\n", the health page's content.
const OK_DIGEST: &str = "eff5bc1ef8ec9d03e640fc4370f5eacd";

fn http_conf() -> String {
    let tcp = "TCP_CHECK {\n connect_timeout 1\n retry 1\n delay_before_retry 1\n }";
    let http = format!(
        "HTTP_GET {{\n url {{\n path /health.html\n status_code 200\n digest {OK_DIGEST}\n }}\n \
         connect_timeout 1\n retry 1\n delay_before_retry 1\n }}"
    );
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.1 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n \
         sorry_server 10.1.0.9 8089\n \
         real_server 10.1.0.1 8081 {{\n weight 3\n inhibit_on_failure\n {tcp}\n }}\n \
         real_server 10.1.0.2 8082 {{\n weight 2\n inhibit_on_failure\n {tcp}\n }}\n}}\n\
         virtual_server 10.0.0.2 80 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
         real_server 10.1.0.3 8083 {{\n weight 1\n {http}\n }}\n \
         real_server 10.1.0.4 8084 {{\n weight 1\n {http}\n }}\n}}\n"
    )
}

/// Each service's `real → weight`, as `reals_in` reads them.
type State = Vec<Option<BTreeMap<String, i64>>>;

fn state(services: &[&str]) -> State {
    let out = listing();
    services.iter().map(|s| reals_in(&out, s)).collect()
}

/// `ipvsadm -Ln` with each service's real lines sorted (both daemons may add reals in
/// another order) and the connection counters left out: what the differential compares.
/// Read in this process (`listing`): the test reads the table every half second for as long
/// as both daemons run, and starting ipvsadm for each read was a quarter of the guest's CPU
/// for the whole test (the http scenario: 87 s of CPU with ipvsadm, 66 s without, for the
/// same 180 s, 2026-12-07).
fn table_text() -> String {
    let out = listing();
    let mut text = String::new();
    let mut reals: Vec<String> = Vec::new();
    for line in out.lines().skip(3) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"->") {
            reals.push(words.iter().take(4).copied().collect::<Vec<_>>().join(" "));
        } else {
            reals.sort();
            for r in reals.drain(..) {
                let _ = writeln!(text, "  {r}");
            }
            let _ = writeln!(text, "{}", words.join(" "));
        }
    }
    reals.sort();
    for r in reals {
        let _ = writeln!(text, "  {r}");
    }
    text
}

/// What one step should lead to.
struct Step {
    name: &'static str,
    want: State,
}

#[allow(clippy::unnecessary_wraps)] // reads as the State it builds
fn some(pairs: &[(&str, i64)]) -> Option<BTreeMap<String, i64>> {
    Some(table(pairs))
}

/// A differential scenario: one keepalived.conf, its services, and steps.
struct Scenario {
    services: &'static [&'static str],
    steps: Vec<Step>,
    /// Brings the servers to step `i`'s situation (0: all healthy).
    act: fn(&mut World, usize),
}

/// The http scenario's expected tables, which are keepalived 2.2.7's.
fn http_scenario() -> Scenario {
    let both1 = some(&[("10.1.0.1:8081", 3), ("10.1.0.2:8082", 2)]);
    let both2 = some(&[("10.1.0.3:8083", 1), ("10.1.0.4:8084", 1)]);
    let one1 = some(&[("10.1.0.1:8081", 3), ("10.1.0.2:8082", 0)]);
    let steps = vec![
        Step {
            name: "start: every real in at its weight, the sorry server out",
            want: vec![both1.clone(), both2.clone()],
        },
        Step {
            name: "10.1.0.1 stops: inhibited at weight 0",
            want: vec![
                some(&[("10.1.0.1:8081", 0), ("10.1.0.2:8082", 2)]),
                both2.clone(),
            ],
        },
        Step {
            name: "10.1.0.2 stops too: the sorry server comes in",
            want: vec![
                some(&[
                    ("10.1.0.1:8081", 0),
                    ("10.1.0.2:8082", 0),
                    ("10.1.0.9:8089", 1),
                ]),
                both2.clone(),
            ],
        },
        Step {
            name: "10.1.0.1 is back: the sorry server goes",
            want: vec![one1.clone(), both2.clone()],
        },
        Step {
            name: "10.1.0.3's page is gone (404): removed",
            want: vec![one1.clone(), some(&[("10.1.0.4:8084", 1)])],
        },
        Step {
            name: "10.1.0.4's page changes (digest): removed, the service stays empty",
            want: vec![one1.clone(), some(&[])],
        },
        Step {
            name: "both pages are back",
            want: vec![one1, both2.clone()],
        },
        Step {
            name: "10.1.0.2 is back",
            want: vec![both1, both2],
        },
    ];
    Scenario {
        services: &["10.0.0.1:80", "10.0.0.2:80"],
        steps,
        act: |w, i| {
            let page = |k: usize| format!("{}/www{k}/health.html", w.dir);
            match i {
                0 => {}
                1 => w.stop("10.1.0.1:8081"),
                2 => w.stop("10.1.0.2:8082"),
                3 => w.serve("10.1.0.1:8081"),
                4 => std::fs::remove_file(page(3)).unwrap(),
                5 => std::fs::write(page(4), "changed\n").unwrap(),
                6 => {
                    std::fs::write(page(3), "ok\n").unwrap();
                    std::fs::write(page(4), "ok\n").unwrap();
                }
                7 => w.serve("10.1.0.2:8082"),
                _ => unreachable!("no step {i}"),
            }
        },
    }
}

/// SSL_GET with a literal regex on two reals served by OpenSSL's `s_server -WWW` with a
/// self-signed certificate; their pages (`DIR/www5`, `DIR/www6`) say `alive`. Not `ok`:
/// s_server's status line is `HTTP/1.0 200 ok`, and keepalived searches the header too
/// when body bytes come with it.
fn ssl_conf(dir: &str) -> String {
    for i in [5, 6] {
        std::fs::write(format!("{dir}/www{i}/health.html"), "alive\n").unwrap();
    }
    // connect_timeout 3: it bounds the TLS handshake too, and in a loaded TCG guest
    // keepalived's handshakes with s_server took over a second (CI, 2026-12-07: both reals
    // out at the start). No step waits for a timeout: a page that stops matching and a
    // stopped server fail at once.
    let ssl = "SSL_GET {\n url {\n path /health.html\n regex alive\n }\n \
               connect_timeout 3\n retry 1\n delay_before_retry 1\n }";
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.3 443 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
         real_server 10.1.0.5 8445 {{\n weight 1\n {ssl}\n }}\n \
         real_server 10.1.0.6 8446 {{\n weight 2\n {ssl}\n }}\n}}\n"
    )
}

/// The ssl scenario's expected tables, which are keepalived 2.2.7's: a page that still
/// answers 200 but no longer holds the regex takes its real out, and a stopped TLS server
/// too.
fn ssl_scenario() -> Scenario {
    let both = some(&[("10.1.0.5:8445", 1), ("10.1.0.6:8446", 2)]);
    let steps = vec![
        Step {
            name: "start: both reals in",
            want: vec![both.clone()],
        },
        Step {
            name: "10.1.0.5's page no longer matches the regex (still 200): removed",
            want: vec![some(&[("10.1.0.6:8446", 2)])],
        },
        Step {
            name: "10.1.0.5's page matches again: back",
            want: vec![both],
        },
        Step {
            name: "10.1.0.6's TLS server stops: removed",
            want: vec![some(&[("10.1.0.5:8445", 1)])],
        },
    ];
    Scenario {
        services: &["10.0.0.3:443"],
        steps,
        act: |w, i| {
            let page = format!("{}/www5/health.html", w.dir);
            match i {
                0 => {}
                1 => std::fs::write(page, "changed\n").unwrap(),
                2 => std::fs::write(page, "alive\n").unwrap(),
                3 => w.stop("10.1.0.6:8446"),
                _ => unreachable!("no step {i}"),
            }
        },
    }
}

/// A Python SMTP (TCP) and DNS (UDP) server for one address: greeting 220, HELO answered
/// 250 and DNS queries with rcode 0 while its state file says `ok`, else 550 and rcode 2
/// (SERVFAIL); QUIT answered 221.
const MAIL_DNS_SERVER: &str = r"
import socket, sys, threading
addr, smtp_port, dns_port, state = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def ok():
    try:
        return open(state).read().strip() == 'ok'
    except OSError:
        return True
def dns():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, dns_port))
    while True:
        q, peer = u.recvfrom(512)
        if len(q) < 12:
            continue
        a = bytearray(q)
        a[2] |= 0x80
        a[3] = (a[3] & 0xf0) | (0 if ok() else 2)
        u.sendto(bytes(a), peer)
threading.Thread(target=dns, daemon=True).start()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, smtp_port))
s.listen(16)
while True:
    c, _ = s.accept()
    try:
        c.settimeout(5)
        f = c.makefile('rb')
        c.sendall(b'220 mx ESMTP\r\n')
        f.readline()
        c.sendall(b'250 mx\r\n' if ok() else b'550 not now\r\n')
        if f.readline() == b'QUIT\r\n':
            c.sendall(b'221 bye\r\n')
    except OSError:
        pass
    finally:
        c.close()
";

/// SMTP_CHECK (retry 1) and DNS_CHECK (retry 0) on two reals each, served by
/// [`MAIL_DNS_SERVER`] on 10.1.0.7 and 10.1.0.8 (SMTP on 25NN, DNS on 53NN).
fn mail_dns_conf() -> String {
    let smtp = "SMTP_CHECK {\n helo_name probe.example\n connect_timeout 1\n retry 1\n \
                delay_before_retry 1\n }";
    let dns = "DNS_CHECK {\n type A\n name www.example\n retry 0\n connect_timeout 1\n }";
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.5 25 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
         real_server 10.1.0.7 2507 {{\n weight 1\n {smtp}\n }}\n \
         real_server 10.1.0.8 2508 {{\n weight 2\n {smtp}\n }}\n}}\n\
         virtual_server 10.0.0.6 53 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol UDP\n \
         real_server 10.1.0.7 5307 {{\n weight 1\n {dns}\n }}\n \
         real_server 10.1.0.8 5308 {{\n weight 2\n {dns}\n }}\n}}\n"
    )
}

/// The mail and DNS scenario's expected tables, which are keepalived 2.2.7's.
fn mail_dns_scenario() -> Scenario {
    let smtp = some(&[("10.1.0.7:2507", 1), ("10.1.0.8:2508", 2)]);
    let dns = some(&[("10.1.0.7:5307", 1), ("10.1.0.8:5308", 2)]);
    let steps = vec![
        Step {
            name: "start: every real in",
            want: vec![smtp.clone(), dns.clone()],
        },
        Step {
            name: "10.1.0.7 refuses HELO and answers SERVFAIL: out of both",
            want: vec![some(&[("10.1.0.8:2508", 2)]), some(&[("10.1.0.8:5308", 2)])],
        },
        Step {
            name: "10.1.0.7 is well again: back in both",
            want: vec![smtp, dns],
        },
        Step {
            name: "10.1.0.8's server stops (refused, port unreachable): out of both",
            want: vec![some(&[("10.1.0.7:2507", 1)]), some(&[("10.1.0.7:5307", 1)])],
        },
    ];
    Scenario {
        services: &["10.0.0.5:25", "10.0.0.6:53"],
        steps,
        act: |w, i| {
            let state = format!("{}/www7/state", w.dir);
            match i {
                0 => {}
                1 => std::fs::write(state, "fail\n").unwrap(),
                2 => std::fs::write(state, "ok\n").unwrap(),
                3 => w.stop("10.1.0.8:mail"),
                _ => unreachable!("no step {i}"),
            }
        },
    }
}

/// UDP_CHECK (retry 0) against [`MAIL_DNS_SERVER`]'s DNS sockets: 10.1.0.7's checker
/// sends a query and requires a reply starting with a response of rcode 0 (the id and
/// the low flags bits are wildcards); 10.1.0.8's sends keepalived's filler and requires
/// nothing, so only an ICMP error takes it out.
fn udp_conf() -> String {
    let query = "12 34 01 00 00 01 00 00 00 00 00 00";
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.8 53 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol UDP\n \
         real_server 10.1.0.7 5307 {{\n weight 1\n UDP_CHECK {{\n payload {query}\n \
         require_reply XXXX 8X X0\n min_reply_length 12\n retry 0\n connect_timeout 1\n }}\n }}\n \
         real_server 10.1.0.8 5308 {{\n weight 2\n UDP_CHECK {{\n retry 0\n connect_timeout 1\n }}\n }}\n}}\n"
    )
}

/// The UDP scenario's expected tables, which are keepalived 2.2.7's.
fn udp_scenario() -> Scenario {
    let both = some(&[("10.1.0.7:5307", 1), ("10.1.0.8:5308", 2)]);
    let steps = vec![
        Step {
            name: "start: both reals in",
            want: vec![both.clone()],
        },
        Step {
            name: "10.1.0.7 answers SERVFAIL: the reply no longer matches, out",
            want: vec![some(&[("10.1.0.8:5308", 2)])],
        },
        Step {
            name: "10.1.0.7 is well again: back",
            want: vec![both],
        },
        Step {
            name: "10.1.0.8's server stops (port unreachable, no reply required): out",
            want: vec![some(&[("10.1.0.7:5307", 1)])],
        },
    ];
    Scenario {
        services: &["10.0.0.8:53"],
        steps,
        act: |w, i| {
            let state = format!("{}/www7/state", w.dir);
            match i {
                0 => {}
                1 => std::fs::write(state, "fail\n").unwrap(),
                2 => std::fs::write(state, "ok\n").unwrap(),
                3 => w.stop("10.1.0.8:mail"),
                _ => unreachable!("no step {i}"),
            }
        },
    }
}

/// PING_CHECK (retry 0) on two reals: 10.1.0.7 loses its address and gets it back.
fn ping_conf() -> String {
    let ping = "PING_CHECK {\n retry 0\n connect_timeout 1\n }";
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.7 80 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
         real_server 10.1.0.7 80 {{\n weight 1\n {ping}\n }}\n \
         real_server 10.1.0.8 80 {{\n weight 2\n {ping}\n }}\n}}\n"
    )
}

/// The ping scenario's expected tables, which are keepalived 2.2.7's.
fn ping_scenario() -> Scenario {
    let both = some(&[("10.1.0.7:80", 1), ("10.1.0.8:80", 2)]);
    let steps = vec![
        Step {
            name: "start: both reals in",
            want: vec![both.clone()],
        },
        Step {
            name: "10.1.0.7 no longer answers pings: out",
            want: vec![some(&[("10.1.0.8:80", 2)])],
        },
        Step {
            name: "10.1.0.7 answers again: back",
            want: vec![both],
        },
    ];
    Scenario {
        services: &["10.0.0.7:80"],
        steps,
        act: |w, i| match i {
            0 => {}
            1 => w.net.sh("ip addr del 10.1.0.7/24 dev vh1"),
            2 => w.net.sh("ip addr add 10.1.0.7/24 dev vh1"),
            _ => unreachable!("no step {i}"),
        },
    }
}

/// The real servers (busybox httpd, each serving `DIR/www<last digit of its address>`),
/// the pages the steps change, and the scripts' directory.
struct World {
    net: ServerNet,
    servers: BTreeMap<String, Child>,
    /// Root-owned and not writable by others, as keepalived's script security wants the
    /// directories of its scripts.
    dir: String,
}

impl World {
    fn new(dir: &str) -> Self {
        let net = ServerNet::new("d");
        std::fs::create_dir_all(dir).unwrap();
        sh(&format!("chmod 755 {dir}"));
        for i in 1..=9 {
            let www = format!("{dir}/www{i}");
            std::fs::create_dir_all(&www).unwrap();
            std::fs::write(format!("{www}/health.html"), "ok\n").unwrap();
        }
        let mut w = Self {
            net,
            servers: BTreeMap::new(),
            dir: dir.to_owned(),
        };
        for i in 1..=9 {
            w.serve(&format!("10.1.0.{i}:808{i}"));
        }
        // The ssl and mail scenarios' (idle in the others).
        w.serve_tls("10.1.0.5:8445");
        w.serve_tls("10.1.0.6:8446");
        w.serve_mail_dns(7);
        w.serve_mail_dns(8);
        // Every server listening before a daemon starts: keepalived checks within a second
        // of its start, and in a loaded guest an s_server took longer than that to listen
        // (CI-like run, 2026-12-08: both SSL reals out at keepalived's first checks).
        let mut ready: Vec<String> = (1..=9).map(|i| format!("10.1.0.{i}:808{i}")).collect();
        ready.extend(
            [
                "10.1.0.5:8445",
                "10.1.0.6:8446",
                "10.1.0.7:2507",
                "10.1.0.8:2508",
            ]
            .map(String::from),
        );
        for addr in &ready {
            wait_listening(addr);
        }
        w
    }

    fn serve(&mut self, addr: &str) {
        let digit = addr.split(':').next().and_then(|a| a.rsplit('.').next());
        let www = format!("{}/www{}", self.dir, digit.unwrap());
        let child = self.net.httpd_in(addr, &www);
        self.servers.insert(addr.to_owned(), child);
    }

    /// OpenSSL's `s_server -WWW` on `addr` with the check tests' self-signed certificate,
    /// serving `DIR/www<last digit of its address>`.
    fn serve_tls(&mut self, addr: &str) {
        let digit = addr.split(':').next().and_then(|a| a.rsplit('.').next());
        let www = format!("{}/www{}", self.dir, digit.unwrap());
        let testdata = concat!(env!("CARGO_MANIFEST_DIR"), "/src/health/check/testdata");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.net.name,
                "openssl",
                "s_server",
                "-quiet",
            ])
            .args(["-WWW", "-accept", addr])
            .args(["-cert", &format!("{testdata}/cert.der"), "-certform", "DER"])
            .args(["-key", &format!("{testdata}/key.der"), "-keyform", "DER"])
            .current_dir(&www)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl s_server");
        self.servers.insert(addr.to_owned(), child);
    }

    /// [`MAIL_DNS_SERVER`] on 10.1.0.`i` (SMTP 250`i`, DNS 530`i`), known as `10.1.0.i:mail`.
    fn serve_mail_dns(&mut self, i: u32) {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.net.name, "/usr/bin/python3", "-c"])
            .arg(MAIL_DNS_SERVER)
            .arg(format!("10.1.0.{i}"))
            .arg(format!("250{i}"))
            .arg(format!("530{i}"))
            .arg(format!("{}/www{i}/state", self.dir))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 mail and dns server");
        self.servers.insert(format!("10.1.0.{i}:mail"), child);
    }

    fn stop(&mut self, addr: &str) {
        kill(self.servers.get_mut(addr).unwrap());
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for c in self.servers.values_mut() {
            kill(c);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits (at most 30 s) until a TCP connection to `addr` succeeds.
fn wait_listening(addr: &str) {
    let sock: std::net::SocketAddr = addr.parse().unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect_timeout(&sock, Duration::from_secs(1)).is_err() {
        assert!(Instant::now() < end, "{addr} not listening after 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for `want` (at most 40 s), then for two seconds without change; returns the table
/// text read then, and how long `want` took to be reached (None: it was not).
fn settle(services: &[&str], want: &State) -> (String, Option<Duration>) {
    let start = Instant::now();
    let mut reached = None;
    while start.elapsed() < Duration::from_secs(40) {
        if state(services) == *want {
            reached = Some(start.elapsed());
            break;
        }
        // The daemons check once a second.
        std::thread::sleep(Duration::from_millis(500));
    }
    // Held still: a flapping table is read as it ends up. A step whose table is the one
    // before waits as long, for the daemon to have seen the step.
    let mut last = table_text();
    let mut still = Instant::now();
    while still.elapsed() < Duration::from_secs(3) && start.elapsed() < Duration::from_mins(1) {
        std::thread::sleep(Duration::from_millis(500));
        let now = table_text();
        if now != last {
            last = now;
            still = Instant::now();
        }
    }
    (last, reached)
}

/// A daemon run: the table after each step, the scripts' log, and the daemon's log.
struct Run {
    tables: Vec<String>,
    reached: Vec<bool>,
    /// How long each step's table took to come (None: it did not).
    took: Vec<Option<Duration>>,
    scripts: String,
    log: String,
}

/// Starts `daemon` (`keepalived`: its checker only; else `lvsctl health --keepalived`) on
/// `config` in the foreground, its pid files and socket in `dir`, stdout and stderr to `log`.
fn start_daemon(daemon: &str, dir: &str, config: &str, log: &str) -> Child {
    let log = File::create(log).unwrap();
    let mut cmd = if daemon == "keepalived" {
        let mut c = Command::new("/usr/sbin/keepalived");
        c.args(["--check", "--dont-fork", "--log-console", "--log-detail"])
            .args(["--use-file", config])
            .args(["--pid", &format!("{dir}/k.pid")])
            .args(["--checkers_pid", &format!("{dir}/c.pid")]);
        c
    } else {
        let mut c = Command::new(lvsctl_bin());
        c.args(["health", "--keepalived", config, "--foreground"])
            .args(["--pid-file", &format!("{dir}/l.pid")])
            .args(["--socket", &format!("{dir}/l.sock"), "start"]);
        c
    };
    cmd.stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("start {daemon}: {e}"))
}

/// Runs `daemon` on the scenario's file (`conf(dir)`, DIR being the scripts' directory).
fn run(daemon: &str, scenario: &Scenario, conf: &dyn Fn(&str) -> String) -> Run {
    let dir = format!("/run/lvkd-{}-{daemon}", std::process::id());
    let mut world = World::new(&dir);
    let config = format!("{dir}/keepalived.conf");
    std::fs::write(&config, conf(&dir)).unwrap();
    let notify_log = format!("{dir}/scripts.log");
    std::fs::write(&notify_log, "").unwrap();
    sh(&format!("chmod 666 {notify_log}"));
    if daemon == "lvsctl" {
        let (out, err, rc) = sh(&format!(
            "{} health --keepalived {config} check-config",
            lvsctl_bin()
        ));
        assert_eq!(rc, 0, "check-config: {out}{err}");
    }
    // In the guest's own /run, as `dir` is: /tmp is the host's, shared by test-all's side
    // guests, which boot the same way and so can give their test processes the same PID;
    // with the log in /tmp, 6 of 13 scenarios once failed creating it (ENOENT).
    let log_path = format!("{dir}/daemon.log");
    let mut child = start_daemon(daemon, &dir, &config, &log_path);
    let mut tables = Vec::new();
    let mut reached = Vec::new();
    let mut took = Vec::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        (scenario.act)(&mut world, i);
        let (text, when) = settle(scenario.services, &step.want);
        tables.push(format!("# {}\n{text}", step.name));
        reached.push(when.is_some());
        took.push(when);
    }
    // Both delete their virtual services when stopped (SIGTERM).
    // What the scripts write from here on is the stop's (see `compare_scripts`).
    {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&notify_log)
            .unwrap();
        f.write_all(STOP_MARK.as_bytes()).unwrap();
    }
    let (_, err, rc) = sh(&format!("kill -TERM {}", child.id()));
    assert_eq!(rc, 0, "kill: {err}");
    let end = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    kill(&mut child);
    let gone = vec![None; scenario.services.len()];
    let (text, when) = settle(scenario.services, &gone);
    tables.push(format!("# stopped\n{text}"));
    reached.push(when.is_some());
    took.push(when);
    // Whatever was left must not be the next daemon's start.
    sh("ipvsadm -C");
    let scripts = std::fs::read_to_string(&notify_log).unwrap_or_default();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    Run {
        tables,
        reached,
        took,
        scripts,
        log,
    }
}

/// Runs both daemons on the scenario and compares them step by step.
fn differential(scenario: &Scenario, conf: &dyn Fn(&str) -> String) -> (Run, Run) {
    let keepalived = run("keepalived", scenario, conf);
    // The peer first: a step keepalived itself did not reach means the scenario (or the
    // guest's load) is wrong, not lvsctl, and the message says so.
    for (i, ok) in keepalived.reached.iter().enumerate() {
        assert!(
            ok,
            "step {i}: keepalived did not reach the expected table; it had:\n{}\nlog:\n{}",
            keepalived.tables[i], keepalived.log
        );
    }
    let lvsctl = run("lvsctl", scenario, conf);
    for (i, (k, l)) in keepalived.tables.iter().zip(&lvsctl.tables).enumerate() {
        assert_eq!(
            l, k,
            "step {i}: lvsctl's table (left) differs from keepalived's (right)\n\
             lvsctl log:\n{}\nkeepalived log:\n{}",
            lvsctl.log, keepalived.log
        );
    }
    (keepalived, lvsctl)
}

#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn the_same_steps_leave_the_same_ipvs_table_as_keepalived() {
    kernel_test!();
    differential(&http_scenario(), &|_| http_conf());
}

/// Several checkers per real and MISC_CHECK: a real with a TCP_CHECK and a `misc_dynamic`
/// MISC_CHECK whose script exits with the status in a file, a real with a TCP_CHECK and an
/// HTTP_GET (in only while both pass), a real without checkers beside them.
fn multi_conf(dir: &str) -> String {
    let script = format!("{dir}/check");
    std::fs::write(&script, "#!/bin/sh\nexit $(cat \"$1\")\n").unwrap();
    sh(&format!("chmod 755 {script}"));
    std::fs::write(format!("{dir}/code5"), "0").unwrap();
    sh(&format!("chmod 644 {dir}/code5"));
    let tcp = "TCP_CHECK {\n connect_timeout 1\n retry 0\n }";
    format!(
        "global_defs {{\n router_id lvsctl_diff\n enable_script_security\n script_user nobody\n}}\n\
         virtual_server 10.0.0.3 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n \
         real_server 10.1.0.5 8085 {{\n weight 3\n inhibit_on_failure\n {tcp}\n \
         MISC_CHECK {{\n misc_path \"{script} {dir}/code5\"\n misc_timeout 5\n misc_dynamic\n }}\n }}\n \
         real_server 10.1.0.6 8086 {{\n weight 2\n inhibit_on_failure\n {tcp}\n \
         HTTP_GET {{\n url {{\n path /health.html\n }}\n connect_timeout 1\n retry 0\n delay_before_retry 1\n }}\n }}\n \
         real_server 10.1.0.8 8088 {{\n weight 1\n inhibit_on_failure\n }}\n}}\n"
    )
}

/// The multi-checker scenario's expected tables, which are keepalived 2.2.7's.
fn multi_scenario() -> Scenario {
    // Every real with inhibit_on_failure: a failed one stays at weight 0.
    let tables = |five: i64, six: bool| {
        let six = if six { 2 } else { 0 };
        vec![some(&[
            ("10.1.0.5:8085", five),
            ("10.1.0.6:8086", six),
            ("10.1.0.8:8088", 1),
        ])]
    };
    let step = |name, want| Step { name, want };
    Scenario {
        services: &["10.0.0.3:80"],
        steps: vec![
            step("start: every real in at its weight", tables(3, true)),
            step("the script exits 12: weight 10", tables(10, true)),
            step("the script exits 1: inhibited", tables(0, true)),
            step("the script exits 0: the configured weight", tables(3, true)),
            step("10.1.0.6's page is gone: inhibited", tables(3, false)),
            step("10.1.0.6 stops too: still inhibited", tables(3, false)),
            step(
                "the page is back, the server not: still inhibited",
                tables(3, false),
            ),
            step("10.1.0.6 is back: in", tables(3, true)),
            step("the unchecked real stops: still in", tables(3, true)),
            step("the script exits 2: weight 0, in", tables(0, true)),
        ],
        act: |w, i| {
            let code = |c: &str| {
                let tmp = format!("{}/code5.tmp", w.dir);
                std::fs::write(&tmp, c).unwrap();
                sh(&format!("chmod 644 {tmp}"));
                std::fs::rename(&tmp, format!("{}/code5", w.dir)).unwrap();
            };
            let page = format!("{}/www6/health.html", w.dir);
            match i {
                0 => {}
                1 => code("12"),
                2 => code("1"),
                3 => code("0"),
                4 => std::fs::remove_file(&page).unwrap(),
                5 => w.stop("10.1.0.6:8086"),
                6 => std::fs::write(&page, "ok\n").unwrap(),
                7 => w.serve("10.1.0.6:8086"),
                8 => w.stop("10.1.0.8:8088"),
                9 => code("2"),
                _ => unreachable!("no step {i}"),
            }
        },
    }
}

#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn several_checkers_per_real_and_misc_check_leave_the_same_table_as_keepalived() {
    kernel_test!();
    differential(&multi_scenario(), &multi_conf);
}

/// SSL_GET (unverified TLS, a literal regex) against keepalived's own.
#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn ssl_get_with_a_regex_leaves_the_same_ipvs_table_as_keepalived() {
    kernel_test!();
    differential(&ssl_scenario(), &ssl_conf);
}

/// SMTP_CHECK and DNS_CHECK (retry 0) against keepalived's own.
#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn smtp_and_dns_checks_leave_the_same_ipvs_table_as_keepalived() {
    kernel_test!();
    differential(&mail_dns_scenario(), &|_| mail_dns_conf());
}

/// UDP_CHECK (retry 0) against keepalived's own: a matching reply, a mismatching one and
/// an ICMP port unreachable.
#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn udp_checks_leave_the_same_ipvs_table_as_keepalived() {
    kernel_test!();
    differential(&udp_scenario(), &|_| udp_conf());
}

/// PING_CHECK (retry 0) against keepalived's own.
#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn ping_checks_leave_the_same_ipvs_table_as_keepalived() {
    kernel_test!();
    differential(&ping_scenario(), &|_| ping_conf());
}

/// quorum 4 with hysteresis 1 over reals of weight 3, 1 and 1 (gained at 5, lost below 3),
/// a sorry server, every script and `omega`; each script appends its words to the scripts'
/// log.
fn quorum_conf(dir: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let script = format!("{dir}/notify.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$*\" >> {dir}/scripts.log\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tcp = "TCP_CHECK {\n connect_timeout 1\n retry 0\n }";
    let real = |i: u8, weight: u8| {
        format!(
            " real_server 10.1.0.{i} 808{i} {{\n weight {weight}\n \
             notify_up \"{script} {i} up\"\n notify_down \"{script} {i} down\"\n {tcp}\n }}\n"
        )
    };
    format!(
        "global_defs {{\n router_id lvsctl_diff\n script_user root\n enable_script_security\n}}\n\
         virtual_server 10.0.0.1 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n \
         quorum 4\n hysteresis 1\n omega\n \
         quorum_up \"{script} quorum up\"\n quorum_down \"{script} quorum down\"\n \
         sorry_server 10.1.0.9 8089\n{}{}{}}}\n",
        real(1, 3),
        real(2, 1),
        real(3, 1)
    )
}

/// The quorum scenario's expected tables, which are keepalived 2.2.7's.
fn quorum_scenario() -> Scenario {
    let sorry = some(&[("10.1.0.9:8089", 1)]);
    let steps = vec![
        Step {
            name: "start: 5 >= 4 + 1, every real in",
            want: vec![some(&[
                ("10.1.0.1:8081", 3),
                ("10.1.0.2:8082", 1),
                ("10.1.0.3:8083", 1),
            ])],
        },
        Step {
            name: "10.1.0.2 stops: 4, the quorum holds",
            want: vec![some(&[("10.1.0.1:8081", 3), ("10.1.0.3:8083", 1)])],
        },
        Step {
            name: "10.1.0.3 stops: 3 is not below 4 - 1, the quorum holds",
            want: vec![some(&[("10.1.0.1:8081", 3)])],
        },
        Step {
            name: "10.1.0.1 stops: 0, lost, the sorry server comes in",
            want: vec![sorry.clone()],
        },
        Step {
            name: "10.1.0.1 is back: 3 < 5, it stays out behind the sorry server",
            want: vec![sorry.clone()],
        },
        Step {
            name: "10.1.0.2 is back: 4 < 5, still the sorry server only",
            want: vec![sorry],
        },
        Step {
            name: "10.1.0.3 is back: 5, gained, every real in and the sorry server out",
            want: vec![some(&[
                ("10.1.0.1:8081", 3),
                ("10.1.0.2:8082", 1),
                ("10.1.0.3:8083", 1),
            ])],
        },
    ];
    Scenario {
        services: &["10.0.0.1:80"],
        steps,
        act: |w, i| match i {
            0 => {}
            1 => w.stop("10.1.0.2:8082"),
            2 => w.stop("10.1.0.3:8083"),
            3 => w.stop("10.1.0.1:8081"),
            4 => w.serve("10.1.0.1:8081"),
            5 => w.serve("10.1.0.2:8082"),
            6 => w.serve("10.1.0.3:8083"),
            _ => unreachable!("no step {i}"),
        },
    }
}

/// The scripts' log lines sorted: scripts started together run concurrently, in both.
fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// Written to the scripts' log just before a daemon is stopped.
const STOP_MARK: &str = "--- stop\n";

/// The scripts' records before the stop, and at the stop, each sorted.
fn phases(text: &str) -> (Vec<String>, Vec<String>) {
    let (before, at_stop) = text.split_once(STOP_MARK).unwrap_or((text, ""));
    (sorted_lines(before), sorted_lines(at_stop))
}

/// The scripts both daemons ran: the same before the stop, and keepalived's the expected
/// ones. At the stop keepalived's scripts race its own exit: it asks the kernel to send
/// them SIGTERM when its checker process ends (`PR_SET_PDEATHSIG`), which may come before
/// a script has written its line. So there the expected scripts must be lvsctl's, and
/// keepalived's may only lack some of them.
fn compare_scripts(keepalived: &Run, lvsctl: &Run, want_before: &str, want_stop: &str) {
    let (k_before, k_stop) = phases(&keepalived.scripts);
    let (l_before, l_stop) = phases(&lvsctl.scripts);
    let logs = format!(
        "lvsctl log:\n{}\nkeepalived log:\n{}",
        lvsctl.log, keepalived.log
    );
    assert_eq!(
        l_before, k_before,
        "scripts: lvsctl (left), keepalived (right)\n{logs}"
    );
    assert_eq!(
        k_before,
        sorted_lines(want_before),
        "keepalived's scripts\n{logs}"
    );
    assert_eq!(
        l_stop,
        sorted_lines(want_stop),
        "lvsctl's scripts at stop\n{logs}"
    );
    let mut missing = l_stop.clone();
    for line in &k_stop {
        let i = missing.iter().position(|l| l == line);
        assert!(
            i.is_some(),
            "keepalived ran {line:?} at stop, lvsctl did not\n{logs}"
        );
        missing.remove(i.unwrap_or_default());
    }
}

#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn quorum_hysteresis_sorry_server_and_scripts_as_keepalived() {
    kernel_test!();
    let (keepalived, lvsctl) = differential(&quorum_scenario(), &quorum_conf);
    compare_scripts(
        &keepalived,
        &lvsctl,
        "quorum up\n2 down\n3 down\n1 down\nquorum down\n1 up\n2 up\n3 up\nquorum up\n",
        // omega: every live real's notify_down, then quorum_down.
        "1 down\n2 down\n3 down\nquorum down\n",
    );
}

/// alpha, inhibit_on_failure and sorry_server_inhibit under quorum 2 over three reals of
/// weight 1, one of which never answers (nothing listens on 10.1.0.3:8093).
fn inhibit_conf(dir: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let script = format!("{dir}/notify.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$*\" >> {dir}/scripts.log\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tcp = "TCP_CHECK {\n connect_timeout 1\n retry 0\n }";
    let real = |i: u8, port: u16| {
        format!(
            " real_server 10.1.0.{i} {port} {{\n weight 1\n inhibit_on_failure\n \
             notify_up \"{script} {i} up\"\n notify_down \"{script} {i} down\"\n {tcp}\n }}\n"
        )
    };
    format!(
        "global_defs {{\n router_id lvsctl_diff\n script_user root\n enable_script_security\n}}\n\
         virtual_server 10.0.0.1 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n \
         alpha\n quorum 2\n \
         quorum_up \"{script} quorum up\"\n quorum_down \"{script} quorum down\"\n \
         sorry_server 10.1.0.9 8089\n sorry_server_inhibit\n{}{}{}}}\n",
        real(1, 8081),
        real(2, 8082),
        real(3, 8093)
    )
}

/// The inhibit scenario's expected tables, which are keepalived 2.2.7's.
fn inhibit_scenario() -> Scenario {
    let up = some(&[
        ("10.1.0.1:8081", 1),
        ("10.1.0.2:8082", 1),
        ("10.1.0.3:8093", 0),
        ("10.1.0.9:8089", 0),
    ]);
    let steps = vec![
        Step {
            name: "start: alpha, quorum down, the sorry server in; two pass: gained",
            want: vec![up.clone()],
        },
        Step {
            name: "10.1.0.1 stops: 1 < 2, lost: every real at 0, the sorry server at 1",
            want: vec![some(&[
                ("10.1.0.1:8081", 0),
                ("10.1.0.2:8082", 0),
                ("10.1.0.3:8093", 0),
                ("10.1.0.9:8089", 1),
            ])],
        },
        Step {
            name: "10.1.0.1 is back: gained again, the sorry server back at 0",
            want: vec![up],
        },
    ];
    Scenario {
        services: &["10.0.0.1:80"],
        steps,
        act: |w, i| match i {
            0 => {}
            1 => w.stop("10.1.0.1:8081"),
            2 => w.serve("10.1.0.1:8081"),
            _ => unreachable!("no step {i}"),
        },
    }
}

#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn alpha_inhibit_and_sorry_server_inhibit_as_keepalived() {
    kernel_test!();
    let (keepalived, lvsctl) = differential(&inhibit_scenario(), &inhibit_conf);
    // The never-answering alpha real gets its notify_down at its first failed check;
    // without omega nothing runs at stop.
    compare_scripts(
        &keepalived,
        &lvsctl,
        "quorum down\n3 down\n1 up\n2 up\nquorum up\n1 down\nquorum down\n1 up\nquorum up\n",
        "",
    );
}

/// Two reals under `inhibit_on_failure` with `retry 3` and `delay_before_retry 5`; nothing
/// listens on 10.1.0.3:8093, so that real's checks fail from the start.
fn first_failure_conf(_: &str) -> String {
    let tcp = "TCP_CHECK {\n connect_timeout 1\n retry 3\n delay_before_retry 10\n }";
    let real = |i: u8, port: u16| {
        format!(" real_server 10.1.0.{i} {port} {{\n weight 1\n inhibit_on_failure\n {tcp}\n }}\n")
    };
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.1 80 {{\n delay_loop 2\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n{}{}}}\n",
        real(1, 8081),
        real(3, 8093)
    )
}

/// The first-failure scenario's expected table, which is keepalived 2.2.7's.
fn first_failure_scenario() -> Scenario {
    Scenario {
        services: &["10.0.0.1:80"],
        steps: vec![Step {
            name: "start: the real failing from the start at weight 0 at its first failure",
            want: vec![some(&[("10.1.0.1:8081", 1), ("10.1.0.3:8093", 0)])],
        }],
        act: |_, i| match i {
            0 => {}
            _ => unreachable!("no step {i}"),
        },
    }
}

/// keepalived starts every checker with its retries used up (check_data.c's
/// `validate_check_config`: `retry_it = retry`), so a real whose server is down at start
/// is at weight 0 after its first failed check, within about a `delay_loop` (keepalived's
/// first check comes within its warmup, a delay_loop); retrying first would take three
/// more checks 10 s apart, 30 s. Both daemons must be there within 20 s (keepalived took
/// 11.8 s once on a loaded host, against an earlier bound of 10 s with retries 5 s apart).
#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn a_real_down_at_start_is_out_at_its_first_failure_as_in_keepalived() {
    kernel_test!();
    let (keepalived, lvsctl) = differential(&first_failure_scenario(), &first_failure_conf);
    for (daemon, run) in [("keepalived", &keepalived), ("lvsctl", &lvsctl)] {
        let took = run.took[0];
        assert!(
            took.is_some_and(|t| t < Duration::from_secs(20)),
            "{daemon} took {took:?}\n{}",
            run.log
        );
    }
}

/// A `virtual_server group` of two address entries (one a range of two addresses) and a
/// firewall mark: four IPVS services, each with every real and the sorry server. Two NAT
/// reals keep their ports in every member; a DR real written without a port takes each
/// member's (0 under the mark) and is checked on `connect_port`.
fn group_conf(_: &str) -> String {
    let tcp = |port: u16| {
        format!("TCP_CHECK {{\n connect_port {port}\n connect_timeout 1\n retry 0\n }}")
    };
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server_group WEB {{\n 10.0.0.1-2 80\n 10.0.0.3 8080\n fwmark 5\n}}\n\
         virtual_server group WEB {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n \
         sorry_server 10.1.0.9 8089\n \
         real_server 10.1.0.1 8081 {{\n weight 3\n inhibit_on_failure\n {}\n }}\n \
         real_server 10.1.0.2 8082 {{\n weight 2\n inhibit_on_failure\n {}\n }}\n \
         real_server 10.1.0.3 {{\n weight 1\n lvs_method DR\n inhibit_on_failure\n {}\n }}\n}}\n",
        tcp(8081),
        tcp(8082),
        tcp(8083)
    )
}

/// The group scenario's expected tables, which are keepalived 2.2.7's: every member
/// service the same but for the DR real's port.
fn group_scenario() -> Scenario {
    // The members as `ipvsadm -Ln` names them, with the DR real's port in each.
    const MEMBERS: [(&str, u16); 4] = [
        ("10.0.0.1:80", 80),
        ("10.0.0.2:80", 80),
        ("10.0.0.3:8080", 8080),
        ("FWM 5", 0),
    ];
    let all = |one: i64, two: i64, three: i64, sorry: bool| -> State {
        MEMBERS
            .iter()
            .map(|(_, dr)| {
                let dr = format!("10.1.0.3:{dr}");
                let mut pairs = vec![
                    ("10.1.0.1:8081", one),
                    ("10.1.0.2:8082", two),
                    (dr.as_str(), three),
                ];
                if sorry {
                    pairs.push(("10.1.0.9:8089", 1));
                }
                some(&pairs)
            })
            .collect()
    };
    let steps = vec![
        Step {
            name: "start: every real in at its weight in all four services",
            want: all(3, 2, 1, false),
        },
        Step {
            name: "10.1.0.1 stops: inhibited at weight 0 in every member",
            want: all(0, 2, 1, false),
        },
        Step {
            name: "10.1.0.2 and 10.1.0.3 stop: the sorry server comes into every member",
            want: all(0, 0, 0, true),
        },
        Step {
            name: "10.1.0.1 is back: in everywhere, the sorry server goes",
            want: all(3, 0, 0, false),
        },
        Step {
            name: "10.1.0.3 is back: the DR real in again on each member's port",
            want: all(3, 0, 1, false),
        },
    ];
    Scenario {
        services: &["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:8080", "FWM 5"],
        steps,
        act: |w, i| match i {
            0 => {}
            1 => w.stop("10.1.0.1:8081"),
            2 => {
                w.stop("10.1.0.2:8082");
                w.stop("10.1.0.3:8083");
            }
            3 => w.serve("10.1.0.1:8081"),
            4 => w.serve("10.1.0.3:8083"),
            _ => unreachable!("no step {i}"),
        },
    }
}

/// keepalived runs one checker per real for the whole group and writes each change to
/// every member service (`ipvs_group_cmd`); lvsctl must leave the same four tables.
#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn a_virtual_server_group_leaves_the_same_tables_as_keepalived() {
    kernel_test!();
    differential(&group_scenario(), &group_conf);
}

/// `connect_port`, `connect_ip` and `bindto` (retry 0, inhibit_on_failure): 10.1.0.1's
/// checker connects to 8081 while nothing listens on the real's own 9001; 10.1.0.2's
/// connects to 10.1.0.3:8083 (the real's 9002 closed too) from the director's 10.1.0.254;
/// 10.1.0.4's binds to 10.1.0.253, which the director does not have, so it is never
/// checked and stays in (keepalived reschedules a checker whose bind fails).
fn route_conf(_: &str) -> String {
    let real = |last: u32, port: u32, weight: u32, check: &str| {
        format!(
            " real_server 10.1.0.{last} {port} {{\n weight {weight}\n inhibit_on_failure\n \
             TCP_CHECK {{\n connect_timeout 1\n retry 0\n {check}\n }}\n }}\n"
        )
    };
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.4 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n{}{}{}}}\n",
        real(1, 9001, 1, "connect_port 8081"),
        real(
            2,
            9002,
            2,
            "connect_ip 10.1.0.3\n connect_port 8083\n bindto 10.1.0.254"
        ),
        real(4, 9004, 3, "bindto 10.1.0.253"),
    )
}

/// The route scenario's expected tables, which are keepalived 2.2.7's.
fn route_scenario() -> Scenario {
    let tables = |one: i64, two: i64| {
        vec![some(&[
            ("10.1.0.1:9001", one),
            ("10.1.0.2:9002", two),
            ("10.1.0.4:9004", 3),
        ])]
    };
    let step = |name, want| Step { name, want };
    Scenario {
        services: &["10.0.0.4:80"],
        steps: vec![
            step(
                "start: in through their check ports, the unbindable one too",
                tables(1, 2),
            ),
            step("10.1.0.1's check port closes: inhibited", tables(0, 2)),
            step("10.1.0.3:8083 closes: 10.1.0.2 inhibited", tables(0, 0)),
            step("10.1.0.1's check port is back", tables(1, 0)),
            step("10.1.0.3:8083 is back", tables(1, 2)),
        ],
        act: |w, i| match i {
            0 => {}
            1 => w.stop("10.1.0.1:8081"),
            2 => w.stop("10.1.0.3:8083"),
            3 => w.serve("10.1.0.1:8081"),
            4 => w.serve("10.1.0.3:8083"),
            _ => unreachable!("no step {i}"),
        },
    }
}

#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn connect_ip_connect_port_and_bindto_leave_the_same_table_as_keepalived() {
    kernel_test!();
    differential(&route_scenario(), &route_conf);
}

/// `bind_if` (retry 0): 10.1.0.1's checker is bound to vh0, the device its route takes;
/// 10.1.0.2's to lvd0, a dummy device without addresses or routes (the kernel then sends
/// as if the real were on lvd0's link, where nothing answers: every check times out);
/// 10.1.0.4's to a device the director does not have (SO_BINDTODEVICE fails: keepalived
/// reschedules the checker without counting a failure, so the real stays in).
fn device_conf(_: &str) -> String {
    sh(
        "ip link show lvd0 >/dev/null 2>&1 || { ip link add lvd0 type dummy && ip link set lvd0 up; }",
    );
    let real = |last: u32, weight: u32, device: &str| {
        format!(
            " real_server 10.1.0.{last} 808{last} {{\n weight {weight}\n \
             TCP_CHECK {{\n connect_timeout 1\n retry 0\n bind_if {device}\n }}\n }}\n"
        )
    };
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.5 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n{}{}{}}}\n",
        real(1, 1, "vh0"),
        real(2, 2, "lvd0"),
        real(4, 3, "lvnodev9"),
    )
}

/// The device scenario's expected tables, which are keepalived 2.2.7's.
fn device_scenario() -> Scenario {
    let step = |name, want| Step { name, want };
    Scenario {
        services: &["10.0.0.5:80"],
        steps: vec![
            step(
                "start: through vh0 in, through lvd0 out, the missing device's in",
                vec![some(&[("10.1.0.1:8081", 1), ("10.1.0.4:8084", 3)])],
            ),
            step(
                "10.1.0.1's server stops: out",
                vec![some(&[("10.1.0.4:8084", 3)])],
            ),
            step(
                "10.1.0.1's server is back: in",
                vec![some(&[("10.1.0.1:8081", 1), ("10.1.0.4:8084", 3)])],
            ),
        ],
        act: |w, i| match i {
            0 => {}
            1 => w.stop("10.1.0.1:8081"),
            2 => w.serve("10.1.0.1:8081"),
            _ => unreachable!("no step {i}"),
        },
    }
}

#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn bind_if_leaves_the_same_table_as_keepalived() {
    kernel_test!();
    differential(&device_scenario(), &device_conf);
}

/// A checker's `fwmark` (retry 0): 10.1.0.1's checker marks its packets 7, which policy
/// routing sends to table 77, where 10.1.0.1 is unreachable (EHOSTUNREACH at connect: a
/// failed check) until the scenario deletes that route; 10.1.0.2's marks 8, which no rule
/// matches; 10.1.0.4's marks nothing.
fn mark_conf(_: &str) -> String {
    must(
        "ip rule del fwmark 7 table 77 2>/dev/null; ip rule add fwmark 7 table 77 && \
          ip route replace unreachable 10.1.0.1 table 77",
    );
    let real = |last: u32, weight: u32, mark: &str| {
        format!(
            " real_server 10.1.0.{last} 808{last} {{\n weight {weight}\n \
             TCP_CHECK {{\n connect_timeout 1\n retry 0\n {mark}\n }}\n }}\n"
        )
    };
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.6 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n{}{}{}}}\n",
        real(1, 1, "fwmark 7"),
        real(2, 2, "fwmark 8"),
        real(4, 3, ""),
    )
}

/// Runs `cmd`, which must succeed.
fn must(cmd: &str) {
    let (out, err, rc) = sh(cmd);
    assert_eq!(rc, 0, "{cmd}: {out}{err}");
}

/// The mark scenario's expected tables, which are keepalived 2.2.7's.
fn mark_scenario() -> Scenario {
    let step = |name, want| Step { name, want };
    let without_1 = some(&[("10.1.0.2:8082", 2), ("10.1.0.4:8084", 3)]);
    Scenario {
        services: &["10.0.0.6:80"],
        steps: vec![
            step(
                "start: mark 7 routed to unreachable, out; mark 8 and no mark in",
                vec![without_1.clone()],
            ),
            step(
                "mark 7's unreachable route deleted: in",
                vec![some(&[
                    ("10.1.0.1:8081", 1),
                    ("10.1.0.2:8082", 2),
                    ("10.1.0.4:8084", 3),
                ])],
            ),
            step("mark 7's unreachable route back: out", vec![without_1]),
        ],
        act: |_, i| match i {
            0 => {}
            1 => must("ip route del unreachable 10.1.0.1 table 77"),
            2 => must("ip route replace unreachable 10.1.0.1 table 77"),
            _ => unreachable!("no step {i}"),
        },
    }
}

#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn a_checkers_fwmark_leaves_the_same_table_as_keepalived() {
    kernel_test!();
    differential(&mark_scenario(), &mark_conf);
}

/// `inhibit_on_failure` on some reals only (retry 0): 10.1.0.1 (weight 1) and 10.1.0.3
/// (weight 3) have it, 10.1.0.2 (weight 2) has not; a sorry server comes in when no real
/// is left.
fn mixed_inhibit_conf(_: &str) -> String {
    let real = |last: u32, weight: u32, inhibit: &str| {
        format!(
            " real_server 10.1.0.{last} 808{last} {{\n weight {weight}\n {inhibit}\n \
             TCP_CHECK {{\n connect_timeout 1\n retry 0\n }}\n }}\n"
        )
    };
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         virtual_server 10.0.0.7 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n \
         sorry_server 10.1.0.9 8089\n{}{}{}}}\n",
        real(1, 1, "inhibit_on_failure"),
        real(2, 2, ""),
        real(3, 3, "inhibit_on_failure"),
    )
}

/// The mixed-inhibit scenario's expected tables, which are keepalived 2.2.7's.
fn mixed_inhibit_scenario() -> Scenario {
    let step = |name, want| Step { name, want };
    Scenario {
        services: &["10.0.0.7:80"],
        steps: vec![
            step(
                "start: all in",
                vec![some(&[
                    ("10.1.0.1:8081", 1),
                    ("10.1.0.2:8082", 2),
                    ("10.1.0.3:8083", 3),
                ])],
            ),
            step(
                "10.1.0.1 stops: inhibited to weight 0",
                vec![some(&[
                    ("10.1.0.1:8081", 0),
                    ("10.1.0.2:8082", 2),
                    ("10.1.0.3:8083", 3),
                ])],
            ),
            step(
                "10.1.0.2 stops: removed",
                vec![some(&[("10.1.0.1:8081", 0), ("10.1.0.3:8083", 3)])],
            ),
            step(
                "10.1.0.3 stops: inhibited, and the sorry server in",
                vec![some(&[
                    ("10.1.0.1:8081", 0),
                    ("10.1.0.3:8083", 0),
                    ("10.1.0.9:8089", 1),
                ])],
            ),
            step(
                "10.1.0.2 is back: in, the sorry server out",
                vec![some(&[
                    ("10.1.0.1:8081", 0),
                    ("10.1.0.2:8082", 2),
                    ("10.1.0.3:8083", 0),
                ])],
            ),
        ],
        act: |w, i| match i {
            0 => {}
            1 => w.stop("10.1.0.1:8081"),
            2 => w.stop("10.1.0.2:8082"),
            3 => w.stop("10.1.0.3:8083"),
            4 => w.serve("10.1.0.2:8082"),
            _ => unreachable!("no step {i}"),
        },
    }
}

#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn inhibit_on_failure_on_some_reals_only_as_keepalived() {
    kernel_test!();
    differential(&mixed_inhibit_scenario(), &mixed_inhibit_conf);
}

/// FILE_CHECK: `DIR/w` (track_file `w`, weight 1) counted with weight 2 on 10.1.0.5 and
/// with weight 3 reversed on 10.1.0.6 (both of weight 10); `DIR/sw` (track_file `sw`,
/// weight 0: any value but 0 is down) on 10.1.0.7 beside a TCP_CHECK. Under
/// inhibit_on_failure; both files hold 0 at start.
fn file_conf(dir: &str) -> String {
    std::fs::write(format!("{dir}/w"), "0\n").unwrap();
    std::fs::write(format!("{dir}/sw"), "0\n").unwrap();
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         track_file w {{\n file {dir}/w\n}}\n\
         track_file sw {{\n file {dir}/sw\n weight 0\n}}\n\
         virtual_server 10.0.0.5 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n \
         real_server 10.1.0.5 8085 {{\n weight 10\n inhibit_on_failure\n \
         FILE_CHECK {{\n track_file w\n weight 2\n }}\n }}\n \
         real_server 10.1.0.6 8086 {{\n weight 10\n inhibit_on_failure\n \
         FILE_CHECK {{\n track_file w\n weight 3 reverse\n }}\n }}\n \
         real_server 10.1.0.7 8087 {{\n weight 1\n inhibit_on_failure\n \
         FILE_CHECK {{\n track_file sw\n }}\n \
         TCP_CHECK {{\n connect_timeout 1\n retry 0\n }}\n }}\n}}\n"
    )
}

/// The FILE_CHECK scenario's expected tables, which are keepalived 2.2.7's.
fn file_scenario() -> Scenario {
    let tables = |five: i64, six: i64, seven: i64| {
        vec![some(&[
            ("10.1.0.5:8085", five),
            ("10.1.0.6:8086", six),
            ("10.1.0.7:8087", seven),
        ])]
    };
    let step = |name, want| Step { name, want };
    Scenario {
        services: &["10.0.0.5:80"],
        steps: vec![
            step(
                "start: both files 0, every real at its weight",
                tables(10, 10, 1),
            ),
            step("w is 3: 10 + 6 and 10 - 9", tables(16, 1, 1)),
            step("w is -2: 10 - 4 and 10 + 6", tables(6, 16, 1)),
            step("sw is 1: 10.1.0.7 inhibited", tables(6, 16, 0)),
            step("w is -5: 10 - 10 (in at 0) and 10 + 15", tables(0, 25, 0)),
            step("w is deleted (0): the weights back", tables(10, 10, 0)),
            step("sw is 0 again: 10.1.0.7 back", tables(10, 10, 1)),
            step(
                "10.1.0.7's server stops: inhibited by its TCP_CHECK",
                tables(10, 10, 0),
            ),
            step("w comes back as 1 (moved in): 12 and 7", tables(12, 7, 0)),
            step("10.1.0.7's server is back", tables(12, 7, 1)),
        ],
        act: |w, i| {
            let write = |name: &str, value: &str| {
                std::fs::write(format!("{}/{name}", w.dir), value).unwrap();
            };
            match i {
                0 => {}
                1 => write("w", "3\n"),
                2 => write("w", "-2\n"),
                3 => write("sw", "1\n"),
                4 => write("w", "-5\n"),
                5 => std::fs::remove_file(format!("{}/w", w.dir)).unwrap(),
                6 => write("sw", "0\n"),
                7 => w.stop("10.1.0.7:8087"),
                8 => {
                    write("w.new", "1\n");
                    std::fs::rename(format!("{}/w.new", w.dir), format!("{}/w", w.dir)).unwrap();
                }
                9 => w.serve("10.1.0.7:8087"),
                _ => unreachable!("no step {i}"),
            }
        },
    }
}

#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn file_check_weights_reverse_and_switch_as_keepalived() {
    kernel_test!();
    differential(&file_scenario(), &file_conf);
}

/// The kernel's timeouts before either daemon starts: not the namespace's defaults (900 120
/// 300), so that a daemon writing those back instead of what it read would show.
const TABLE_ORIGINAL: &str = "901 121 301";

/// `global_defs`' whole-table settings: `lvs_flush`, `lvs_flush_onstop` (without `VS`),
/// `lvs_timeouts` (tcp and udp, tcpfin left to the original); `with_timeouts` false is the
/// file a reload switches to.
fn whole_table_conf(with_timeouts: bool) -> String {
    let timeouts = if with_timeouts {
        " lvs_timeouts tcp 7200 udp 50\n"
    } else {
        ""
    };
    format!(
        "global_defs {{\n router_id lvsctl_diff\n lvs_flush\n lvs_flush_onstop\n{timeouts}}}\n\
         virtual_server 10.0.0.9 80 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
         real_server 10.1.0.1 8081 {{\n weight 1\n TCP_CHECK {{\n connect_timeout 1\n }}\n }}\n}}\n"
    )
}

/// `ipvsadm -L --timeout`'s numbers.
fn timeouts_now() -> String {
    let (out, err, rc) = sh("ipvsadm -L --timeout");
    assert_eq!(rc, 0, "ipvsadm -L --timeout: {err}");
    out.trim()
        .rsplit(": ")
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Waits (at most 20 s) until the timeouts read `want`; returns what they then are.
fn timeouts_reaching(want: &str) -> String {
    let start = Instant::now();
    while timeouts_now() != want && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(250));
    }
    timeouts_now()
}

/// One daemon through the whole-table steps; each record is the whole table (foreign
/// services included) and the timeouts.
fn whole_table_run(daemon: &str) -> Vec<String> {
    let dir = format!("/run/lvkd-{}-{daemon}-table", std::process::id());
    let world = World::new(&dir);
    let config = format!("{dir}/keepalived.conf");
    std::fs::write(&config, whole_table_conf(true)).unwrap();
    // Put back at the end: the scenarios after this one share the namespace.
    let before = timeouts_now();
    sh("ipvsadm -C");
    for cmd in [
        format!("ipvsadm --set {TABLE_ORIGINAL}"),
        "ipvsadm -A -t 10.9.9.1:80".to_owned(),
    ] {
        let (_, err, rc) = sh(&cmd);
        assert_eq!(rc, 0, "{cmd}: {err}");
    }
    let log_path = format!("{dir}/daemon-table.log");
    let mut child = start_daemon(daemon, &dir, &config, &log_path);
    let mut records = Vec::new();
    let services = ["10.0.0.9:80"];
    let (text, _) = settle(&services, &vec![some(&[("10.1.0.1:8081", 1)])]);
    records.push(format!(
        "# start\n{text}timeouts {}",
        timeouts_reaching("7200 121 50")
    ));
    // A reload neither flushes nor keeps the timeouts the new file no longer sets.
    let (_, err, rc) = sh("ipvsadm -A -t 10.9.9.2:80");
    assert_eq!(rc, 0, "ipvsadm -A: {err}");
    std::fs::write(&config, whole_table_conf(false)).unwrap();
    let (_, err, rc) = sh(&format!("kill -HUP {}", child.id()));
    assert_eq!(rc, 0, "kill -HUP: {err}");
    let timeouts = timeouts_reaching(TABLE_ORIGINAL);
    let (text, _) = settle(&services, &vec![some(&[("10.1.0.1:8081", 1)])]);
    records.push(format!("# reloaded\n{text}timeouts {timeouts}"));
    // Back to the file with timeouts, so that the stop has some to restore.
    std::fs::write(&config, whole_table_conf(true)).unwrap();
    let (_, err, rc) = sh(&format!("kill -HUP {}", child.id()));
    assert_eq!(rc, 0, "kill -HUP: {err}");
    let timeouts = timeouts_reaching("7200 121 50");
    records.push(format!("# reloaded again\ntimeouts {timeouts}"));
    let (_, err, rc) = sh(&format!("kill -TERM {}", child.id()));
    assert_eq!(rc, 0, "kill: {err}");
    let end = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    kill(&mut child);
    let (text, _) = settle(&services, &vec![None]);
    records.push(format!("# stopped\n{text}timeouts {}", timeouts_now()));
    sh("ipvsadm -C");
    sh(&format!("ipvsadm --set {before}"));
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    records.push(format!("# log\n{log}"));
    drop(world);
    records
}

/// `lvs_flush` (a service added before the start is gone), `lvs_timeouts` (set at start,
/// the originals back at a reload without them and after stop) and `lvs_flush_onstop`
/// without VS (services added while running are gone after stop) against keepalived's own.
#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn whole_table_settings_leave_the_same_table_and_timeouts_as_keepalived() {
    kernel_test!();
    let mut keepalived = whole_table_run("keepalived");
    let mut lvsctl = whole_table_run("lvsctl");
    let (k_log, l_log) = (keepalived.pop().unwrap(), lvsctl.pop().unwrap());
    for (k, l) in keepalived.iter().zip(&lvsctl) {
        assert_eq!(
            l, k,
            "lvsctl (left) differs from keepalived (right)\n{l_log}\n{k_log}"
        );
    }
    let listed = |r: &str| -> Vec<String> {
        let mut out: Vec<String> = r
            .lines()
            .filter(|l| l.starts_with("TCP"))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_owned())
            .collect();
        out.sort();
        out
    };
    // keepalived's own records are the expected ones.
    assert_eq!(listed(&keepalived[0]), ["10.0.0.9:80"], "{k_log}");
    assert!(keepalived[0].ends_with("timeouts 7200 121 50"), "{k_log}");
    assert_eq!(
        listed(&keepalived[1]),
        ["10.0.0.9:80", "10.9.9.2:80"],
        "{k_log}"
    );
    assert!(keepalived[1].ends_with(&format!("timeouts {TABLE_ORIGINAL}")));
    assert!(keepalived[2].ends_with("timeouts 7200 121 50"), "{k_log}");
    assert!(listed(&keepalived[3]).is_empty(), "{}", keepalived[3]);
    assert!(keepalived[3].ends_with(&format!("timeouts {TABLE_ORIGINAL}")));
}

/// The check tests' TLS material (src/health/check/testdata/README.md).
fn testdata(name: &str) -> String {
    format!(
        "{}/src/health/check/testdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The top-level SSL block (client certificate `client.pem` from `client-ca.pem`, with
/// `ca` given) and SSL_GET under `alpha` on two reals: 10.1.0.9:8449, an `s_server`
/// requiring a client certificate (started by the scenario), and 10.1.0.6:8446, the
/// World's plain one, which asks for none.
fn ssl_block_conf(_: &str) -> String {
    // connect_timeout 3, as in `ssl_conf`: it bounds the TLS handshake too.
    let ssl = "SSL_GET {\n url {\n path /health.html\n }\n \
               connect_timeout 3\n retry 1\n delay_before_retry 1\n }";
    format!(
        "global_defs {{\n router_id lvsctl_diff\n}}\n\
         SSL {{\n certificate {}\n key {}\n ca {}\n}}\n\
         virtual_server 10.0.0.4 443 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n alpha\n \
         real_server 10.1.0.9 8449 {{\n weight 1\n {ssl}\n }}\n \
         real_server 10.1.0.6 8446 {{\n weight 2\n {ssl}\n }}\n}}\n",
        testdata("client.pem"),
        testdata("client.key"),
        testdata("client-ca.pem"),
    )
}

/// OpenSSL's `s_server -WWW` on `addr` (serving `DIR/www<last digit>`) that requires a
/// client certificate verifying against `ca`: `-Verify 1` alone requires a certificate
/// but lets one that does not verify through (s_server's callback only logs the error);
/// `-verify_return_error` makes that a handshake failure.
fn serve_tls_requiring(w: &mut World, addr: &str, ca: &str) {
    let digit = addr.split(':').next().and_then(|a| a.rsplit('.').next());
    let www = format!("{}/www{}", w.dir, digit.unwrap());
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &w.net.name,
            "openssl",
            "s_server",
            "-quiet",
        ])
        .args([
            "-WWW",
            "-accept",
            addr,
            "-Verify",
            "1",
            "-verify_return_error",
            "-CAfile",
            &testdata(ca),
        ])
        .args(["-cert", &testdata("cert.der"), "-certform", "DER"])
        .args(["-key", &testdata("key.der"), "-keyform", "DER"])
        .current_dir(&www)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_server -Verify");
    if let Some(mut old) = w.servers.insert(addr.to_owned(), child) {
        kill(&mut old);
    }
}

/// The SSL block scenario's expected tables, which are keepalived 2.2.7's: under alpha
/// a real comes in only once its check passes, so the first step shows the certificate
/// accepted; a server trusting another CA refuses it.
fn ssl_block_scenario() -> Scenario {
    let both = some(&[("10.1.0.9:8449", 1), ("10.1.0.6:8446", 2)]);
    let steps = vec![
        Step {
            name: "start (alpha): the client certificate is accepted, both reals in",
            want: vec![both.clone()],
        },
        Step {
            name: "10.1.0.9 restarted requiring a certificate from another CA: removed",
            want: vec![some(&[("10.1.0.6:8446", 2)])],
        },
        Step {
            name: "10.1.0.9 restarted requiring the client's CA again: back",
            want: vec![both],
        },
    ];
    Scenario {
        services: &["10.0.0.4:443"],
        steps,
        act: |w, i| match i {
            0 => serve_tls_requiring(w, "10.1.0.9:8449", "client-ca.pem"),
            1 => {
                w.stop("10.1.0.9:8449");
                serve_tls_requiring(w, "10.1.0.9:8449", "other-ca.pem");
            }
            2 => {
                w.stop("10.1.0.9:8449");
                serve_tls_requiring(w, "10.1.0.9:8449", "client-ca.pem");
            }
            _ => unreachable!("no step {i}"),
        },
    }
}

/// The top-level SSL block (a client certificate for every SSL_GET) against keepalived's.
#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn the_ssl_blocks_client_certificate_leaves_the_same_ipvs_table_as_keepalived() {
    kernel_test!();
    differential(&ssl_block_scenario(), &ssl_block_conf);
}

/// An SMTP relay for the mail scenario: python3 on 127.0.0.1:PORT (the daemons' own
/// namespace) answering every command with success, appending each mail's whole
/// dialogue as received (without the greeting, ending `--- end`) to FILE, and leaving by
/// itself once DIR is gone (`World` removes it).
const MAIL_SINK: &str = r"
import os, socket, sys, threading
port, out, home = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', port))
s.listen(16)
s.settimeout(1)
lock = threading.Lock()
def serve(c):
    f = c.makefile('rb')
    c.sendall(b'220 sink ESMTP\r\n')
    lines, data = [], False
    while True:
        l = f.readline()
        if not l:
            break
        lines.append(l.decode('latin1'))
        if data:
            if l == b'.\r\n':
                data = False
                c.sendall(b'250 queued\r\n')
            continue
        cmd = l[:4].upper()
        if cmd == b'DATA':
            data = True
            c.sendall(b'354 go ahead\r\n')
        elif cmd == b'QUIT':
            c.sendall(b'221 bye\r\n')
            break
        else:
            c.sendall(b'250 ok\r\n')
    c.close()
    if lines:
        with lock, open(out, 'a') as o:
            o.write(''.join(lines).replace('\r\n', '\n') + '--- end\n')
while os.path.isdir(home):
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
";

/// smtp_alert: two reals of weight 1 under quorum 2 with the virtual's own alerts on, and
/// an HTTP_GET real of a virtual server whose own alerts are off (the default); the relay
/// is [`MAIL_SINK`], started here (before the daemon, which mails at its start)
/// and writing into the run's scripts log. keepalived's and lvsctl's relays listen on
/// ports of their own, as each lingers up to a second after its run.
fn mail_conf(dir: &str) -> String {
    let port = if dir.ends_with("keepalived") {
        2525
    } else {
        2526
    };
    // Through a shell that leaves it behind: it ends by itself with the run's directory.
    std::fs::write(format!("{dir}/sink.py"), MAIL_SINK).unwrap();
    let (_, err, rc) = sh(&format!(
        "/usr/bin/python3 {dir}/sink.py {port} {dir}/scripts.log {dir} >/dev/null 2>&1 &"
    ));
    assert_eq!(rc, 0, "mail sink: {err}");
    let end = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    let tcp = "TCP_CHECK {\n connect_timeout 1\n retry 0\n }";
    let http = format!(
        "HTTP_GET {{\n url {{\n path /health.html\n status_code 200\n digest {OK_DIGEST}\n }}\n \
         connect_timeout 1\n retry 0\n }}"
    );
    format!(
        "global_defs {{\n router_id lvsctl_diff\n \
         notification_email {{\n a@example.org\n b@example.org\n }}\n \
         notification_email_from keepalived@example.org\n \
         smtp_server 127.0.0.1 {port}\n smtp_helo_name director\n smtp_connect_timeout 5\n}}\n\
         virtual_server 10.0.0.1 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n \
         quorum 2\n smtp_alert\n \
         real_server 10.1.0.1 8081 {{\n weight 1\n {tcp}\n }}\n \
         real_server 10.1.0.2 8082 {{\n weight 1\n {tcp}\n }}\n}}\n\
         virtual_server 10.0.0.2 80 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
         real_server 10.1.0.3 8083 {{\n weight 1\n {http}\n }}\n}}\n"
    )
}

/// The mail scenario's expected tables, which are keepalived 2.2.7's.
fn mail_scenario() -> Scenario {
    let both = some(&[("10.1.0.1:8081", 1), ("10.1.0.2:8082", 1)]);
    let web = some(&[("10.1.0.3:8083", 1)]);
    let steps = vec![
        Step {
            name: "start: every real in, the quorum up",
            want: vec![both.clone(), web.clone()],
        },
        Step {
            name: "10.1.0.2 stops: out, the quorum lost",
            want: vec![some(&[("10.1.0.1:8081", 1)]), web.clone()],
        },
        Step {
            name: "10.1.0.2 is back: in, the quorum gained",
            want: vec![both.clone(), web.clone()],
        },
        Step {
            name: "10.1.0.3's page is gone (404): out",
            want: vec![both.clone(), some(&[])],
        },
        Step {
            name: "10.1.0.3's page is back: in",
            want: vec![both, web],
        },
    ];
    Scenario {
        services: &["10.0.0.1:80", "10.0.0.2:80"],
        steps,
        act: |w, i| {
            let page = format!("{}/www3/health.html", w.dir);
            match i {
                0 => {}
                1 => w.stop("10.1.0.2:8082"),
                2 => w.serve("10.1.0.2:8082"),
                3 => std::fs::remove_file(page).unwrap(),
                4 => std::fs::write(page, "ok\n").unwrap(),
                _ => unreachable!("no step {i}"),
            }
        },
    }
}

/// The mails of a run, each dialogue with its `Date:` normalised (the one header that
/// must differ), sorted: mails decided together are sent concurrently, by both.
fn mails(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .replace(STOP_MARK, "")
        .split("--- end\n")
        .filter(|m| !m.is_empty())
        .map(|m| {
            m.lines()
                .map(|l| {
                    if l.starts_with("Date: ") {
                        "Date: (now)"
                    } else {
                        l
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    out.sort();
    out
}

#[test]
#[ignore = "minutes of waiting: tests/vm/test-all runs it in a guest of its own (--ignored)"]
fn smtp_alert_mails_are_keepalived_s() {
    kernel_test!();
    let (keepalived, lvsctl) = differential(&mail_scenario(), &mail_conf);
    let logs = format!(
        "lvsctl log:\n{}\nkeepalived log:\n{}",
        lvsctl.log, keepalived.log
    );
    let (k, l) = (mails(&keepalived.scripts), mails(&lvsctl.scripts));
    assert_eq!(l, k, "mails: lvsctl (left), keepalived (right)\n{logs}");
    let subjects: Vec<&str> = k
        .iter()
        .filter_map(|m| m.lines().find(|l| l.starts_with("Subject: ")))
        .collect();
    let vs = "[10.0.0.1]:tcp:80";
    let rs = "Subject: [lvsctl_diff] Realserver [10.1.0.2]:tcp:8082 of virtual server";
    // The web virtual server's own smtp_alert is off (the default): its real's only.
    let web = "Subject: [lvsctl_diff] Realserver [10.1.0.3]:tcp:8083 of virtual server \
               [10.0.0.2]:tcp:80";
    let mut want = vec![
        format!("Subject: [lvsctl_diff] Virtualserver {vs} - UP"),
        format!("{rs} {vs} - DOWN"),
        format!("Subject: [lvsctl_diff] Virtualserver {vs} - DOWN"),
        format!("{rs} {vs} - UP"),
        format!("Subject: [lvsctl_diff] Virtualserver {vs} - UP"),
        format!("{web} - DOWN"),
        format!("{web} - UP"),
    ];
    want.sort();
    let mut got = subjects.clone();
    got.sort_unstable();
    assert_eq!(got, want, "keepalived's mails\n{logs}");
}
