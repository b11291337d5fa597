//! A keepalived.conf run by the whole daemon on the FakeBackend: TCP_CHECKs against
//! loopback ports (a listener is up, a closed port fails), the kernel table read back.
//! What is asserted is keepalived 2.2.7's behaviour: without `alpha` reals are in service
//! before any check; with `inhibit_on_failure` a failed real stays at weight 0; a real
//! failing from the start is out at its first failed check, one that has passed only
//! after `retry` + 1; with `alpha` a real enters only after a passing check.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::testutil::{spawn_daemon, wait_results};
use super::*;
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::fake::FakeBackend;
use crate::ipvs::model::{Protocol, ServiceKey};

pub(super) struct Run {
    dir: PathBuf,
    fake: Arc<Mutex<FakeBackend>>,
    stop: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<Result<(), DaemonError>>>,
}

pub(super) const VIP: &str = "192.0.2.10";

fn key() -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: VIP.parse().unwrap(),
        port: 80,
    }
}

impl Run {
    pub(super) fn start(tag: &str, text: &str) -> Self {
        Self::start_on(tag, text, FakeBackend::new())
    }

    /// [`Self::start`] on a kernel that already holds what `fake` does.
    pub(super) fn start_on(tag: &str, text: &str, fake: FakeBackend) -> Self {
        let dir = std::env::temp_dir().join(format!("lvsctl-ka-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keepalived.conf");
        std::fs::write(&path, text).unwrap();
        let location = crate::health::config::ConfigLocation {
            path,
            name: "keepalived.conf".into(),
        };
        let mut opts = DaemonOptions::new(location);
        opts.format = ConfigFormat::Keepalived;
        opts.console = Console::None;
        opts.socket = Some(dir.join("status.sock"));
        opts.syslog_socket = dir.join("no-syslog");
        opts.sendmail = PathBuf::from("/bin/false");
        let stop = Arc::new(tokio::sync::Notify::new());
        opts.shutdown = Some(stop.clone());
        let fake = Arc::new(Mutex::new(fake));
        let thread = Some(spawn_daemon(opts, fake.clone()));
        Self {
            dir,
            fake,
            stop,
            thread,
        }
    }

    pub(super) fn socket(&self) -> PathBuf {
        self.dir.join("status.sock")
    }

    /// `(port, weight)` of every real of the virtual in the kernel.
    pub(super) fn reals(&self) -> Vec<(u16, i32)> {
        let mut out: Vec<(u16, i32)> = self
            .fake
            .lock()
            .unwrap()
            .dests(&key())
            .unwrap_or_default()
            .iter()
            .map(|d| (d.port, d.weight))
            .collect();
        out.sort_unstable();
        out
    }

    /// The kernel, to read after [`Self::stop`] too.
    pub(super) fn fake(&self) -> Arc<Mutex<FakeBackend>> {
        self.fake.clone()
    }

    pub(super) fn ops(&self) -> Vec<Op> {
        self.fake.lock().unwrap().applied_ops().to_vec()
    }

    /// Waits (up to 20 s) until the table is `want`; returns how long that took.
    #[track_caller]
    pub(super) fn wait(&self, what: &str, want: &[(u16, i32)]) -> Duration {
        let mut want = want.to_vec();
        want.sort_unstable();
        let start = Instant::now();
        while self.reals() != want {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{what}: table {:?}, want {want:?}",
                self.reals()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        start.elapsed()
    }

    pub(super) fn stop(mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
        let _ = std::fs::remove_dir_all(Path::new(&self.dir));
    }
}

/// A free loopback port with nothing listening on it.
pub(super) fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(options: &str, up: u16, down: u16) -> String {
    config_with("", options, up, down)
}

fn config_with(virtual_options: &str, options: &str, up: u16, down: u16) -> String {
    format!(
        "virtual_server {VIP} 80 {{
{virtual_options}    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {up} {{
        weight 2
{options}        TCP_CHECK {{
            connect_timeout 1
            retry 2
            delay_before_retry 0.3
        }}
    }}
    real_server 127.0.0.1 {down} {{
        weight 3
{options}        TCP_CHECK {{
            connect_timeout 1
            retry 2
            delay_before_retry 0.3
        }}
    }}
}}
"
    )
}

#[test]
fn without_alpha_reals_start_in_service_and_inhibit_keeps_a_failed_one_at_weight_0() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap().port();
    let down = closed_port();
    let run = Run::start("inhibit", &config("        inhibit_on_failure\n", up, down));
    run.wait("failed real inhibited", &[(up, 2), (down, 0)]);
    // Both reals entered at their weight in the first batch, before any check: the failing
    // one could not have got weight 3 from a check.
    let first_adds: Vec<(u16, i32)> = run
        .ops()
        .iter()
        .filter_map(|op| match op {
            Op::AddDest(_, d) => Some((d.port, d.weight)),
            _ => None,
        })
        .take(2)
        .collect();
    let (mut first_adds, mut want) = (first_adds, vec![(up, 2), (down, 3)]);
    first_adds.sort_unstable();
    want.sort_unstable();
    assert_eq!(first_adds, want);
    // retry 2, yet down at its first failure: keepalived starts every checker with its
    // retries used up (see without_alpha_the_first_failure_takes_a_real_out_at_once).
    let seen = wait_results(&run.socket(), 1, |k| k.ends_with(&format!(":{down}"))).unwrap();
    let real = seen
        .iter()
        .find(|(k, _)| k.ends_with(&format!(":{down}")))
        .map(|(_, r)| r.clone())
        .unwrap();
    assert!(real.failures >= 1, "{real:?}");
    // Recovery: one passing check puts it back at its weight.
    let _back = TcpListener::bind(("127.0.0.1", down)).unwrap();
    run.wait("restored", &[(up, 2), (down, 3)]);
    drop(listener);
    run.stop();
}

/// check_data.c's `validate_check_config` starts every checker with `retry_it = retry`
/// ("one failure is enough initially"), so tcp_epilog takes a real failing from the start
/// out at its first failed check: with `retry 2` and `delay_before_retry 5` the failing
/// real is at weight 0 within the first delay_loop, where retrying first would take 10 s.
/// The passing real, once it has passed, keeps its weight.
#[test]
fn without_alpha_the_first_failure_takes_a_real_out_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap().port();
    let down = closed_port();
    let text = config("        inhibit_on_failure\n", up, down)
        .replace("delay_before_retry 0.3", "delay_before_retry 5");
    let run = Run::start("first-failure", &text);
    let took = run.wait("failed real inhibited", &[(up, 2), (down, 0)]);
    assert!(took < Duration::from_secs(5), "inhibit took {took:?}");
    let seen = wait_results(&run.socket(), 1, |k| k.ends_with(&format!(":{up}"))).unwrap();
    let real = seen
        .iter()
        .find(|(k, _)| k.ends_with(&format!(":{up}")))
        .map(|(_, r)| r.clone())
        .unwrap();
    assert_eq!(real.failures, 0, "{real:?}");
    drop(listener);
    run.stop();
}

#[test]
fn with_alpha_a_real_enters_only_after_a_passing_check() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap().port();
    let down = closed_port();
    let run = Run::start("alpha", &config("        alpha\n", up, down));
    run.wait("passing real added", &[(up, 2)]);
    // The failing real has been checked (and failed) several times, and never entered.
    wait_results(&run.socket(), 3, |k| k.ends_with(&format!(":{down}"))).unwrap();
    assert_eq!(run.reals(), [(up, 2)]);
    assert!(
        run.ops()
            .iter()
            .all(|op| !matches!(op, Op::AddDest(_, d) if d.port == down)),
        "{:?}",
        run.ops()
    );
    drop(listener);
    run.stop();
}

/// alpha with a sorry_server: no real is up at start, so the sorry server is in (weight 1)
/// from the start, as keepalived's "Starting with quorum down"; the first passing real
/// takes it out.
#[test]
fn with_alpha_the_sorry_server_serves_until_a_real_passes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap().port();
    let (down, sorry) = (closed_port(), closed_port());
    let text = config_with(
        &format!("    sorry_server 127.0.0.9 {sorry}\n"),
        "        alpha\n",
        up,
        down,
    );
    let run = Run::start("sorry", &text);
    run.wait("passing real added, sorry server gone", &[(up, 2)]);
    let adds: Vec<(u16, i32)> = run
        .ops()
        .iter()
        .filter_map(|op| match op {
            Op::AddDest(_, d) => Some((d.port, d.weight)),
            _ => None,
        })
        .collect();
    assert_eq!(adds, [(sorry, 1), (up, 2)], "{:?}", run.ops());
    assert!(
        run.ops()
            .iter()
            .any(|op| matches!(op, Op::DelDest(_, k) if k.port == sorry)),
        "{:?}",
        run.ops()
    );
    drop(listener);
    run.stop();
}

/// A loopback web server answering 200 for `/always`, and for other paths while `ok` is
/// set (else 404).
fn web_server(ok: Arc<std::sync::atomic::AtomicBool>) -> u16 {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut req = [0u8; 512];
            let _ = s.read(&mut req);
            let always = req.starts_with(b"GET /always ");
            let reply: &[u8] = if always || ok.load(std::sync::atomic::Ordering::SeqCst) {
                b"HTTP/1.0 200 OK\r\n\r\nfine"
            } else {
                b"HTTP/1.0 404 Not Found\r\n\r\n"
            };
            let _ = s.write_all(reply);
        }
    });
    port
}

/// HTTP_GET with `retry 1`: a real answering 404 is out after two failed checks; when it
/// answers 200 again it is back only at the second pass, a `delay_loop` (1 s) after the
/// first (which only forgets the failed url), where a TCP_CHECK real is back at its first.
#[test]
fn an_http_get_real_failing_with_404_needs_two_passes_to_come_back() {
    let ok = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let port = web_server(ok.clone());
    let text = format!(
        "virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {port} {{
        weight 2
        HTTP_GET {{
            url {{
                path /health
            }}
            connect_timeout 1
            retry 1
            delay_before_retry 0.3
        }}
    }}
}}
"
    );
    let run = Run::start("http404", &text);
    run.wait("real in service from the start", &[(port, 2)]);
    run.wait("404 real removed", &[]);
    ok.store(true, std::sync::atomic::Ordering::SeqCst);
    let took = run.wait("200 real restored", &[(port, 2)]);
    assert!(took >= Duration::from_millis(950), "back after {took:?}");
    run.stop();
}

/// HTTP_GET with two urls: all must pass in one sweep, one url per check. The first url
/// passing before anything was decided uses up the retries, so the second one's 404 takes
/// the real out at once; when it answers 200 again the real is back only after that pass
/// (which forgets the failed url) and a whole sweep, two delay_loops (1 s) later.
#[test]
fn an_http_get_with_two_urls_needs_both_in_one_sweep() {
    let ok = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let port = web_server(ok.clone());
    let text = format!(
        "virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {port} {{
        weight 2
        HTTP_GET {{
            url {{
                path /always
            }}
            url {{
                path /flag
            }}
            connect_timeout 1
            retry 1
            delay_before_retry 0.3
        }}
    }}
}}
"
    );
    let run = Run::start("http2", &text);
    run.wait("real in service from the start", &[(port, 2)]);
    run.wait("second url's 404 takes it out", &[]);
    ok.store(true, std::sync::atomic::Ordering::SeqCst);
    let took = run.wait("both urls pass", &[(port, 2)]);
    assert!(took >= Duration::from_millis(1900), "back after {took:?}");
    run.stop();
}

#[path = "keepalived_ssl_tests.rs"]
mod ssl;

#[path = "keepalived_smtp_tests.rs"]
mod smtp;

#[path = "keepalived_dns_tests.rs"]
mod dns;
/// quorum 5 over reals of weight 2 and 3, a sorry server, and every script: the table
/// and the scripts' record follow keepalived's `update_quorum_state`, `do_rs_notifies` and
/// (with `omega`) `clear_services` at stop.
#[test]
fn quorum_sorry_server_and_scripts_run_as_keepalived_runs_them() {
    use std::os::unix::fs::PermissionsExt as _;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap().port();
    let (down, sorry) = (closed_port(), closed_port());
    let dir = std::env::temp_dir().join(format!("lvsctl-kaq-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("record");
    let script = dir.join("q.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$*\" >> {}\n", record.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let q = script.display();
    let text = format!(
        "global_defs {{
    script_user root
    enable_script_security
}}
virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    quorum 5
    omega
    quorum_up \"{q} quorum up\"
    quorum_down \"{q} quorum down\"
    sorry_server 127.0.0.9 {sorry}
    real_server 127.0.0.1 {up} {{
        weight 2
        notify_up \"{q} {up} up\"
        notify_down \"{q} {up} down\"
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
    }}
    real_server 127.0.0.1 {down} {{
        weight 3
        notify_up \"{q} {down} up\"
        notify_down \"{q} {down} down\"
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
    }}
}}
"
    );
    let run = Run::start("quorum", &text);
    // Gained at start (5 >= 5), then lost when the closed port fails (2 < 5): the sorry
    // server replaces both reals, the passing one included.
    run.wait("quorum lost, sorry server only", &[(sorry, 1)]);
    // The port opens: 5 again, the sorry server leaves, both reals come back.
    let _back = TcpListener::bind(("127.0.0.1", down)).unwrap();
    run.wait("quorum gained", &[(up, 2), (down, 3)]);
    // Scripts started together run concurrently (as keepalived's do), so the record is
    // compared in sorted order; the registry tests check the order they are started in.
    let read = || {
        let mut lines: Vec<String> = std::fs::read_to_string(&record)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    };
    let sorted = |lines: &[String]| {
        let mut v = lines.to_vec();
        v.sort();
        v
    };
    let mut want: Vec<String> = vec![
        "quorum up".into(),
        format!("{down} down"),
        "quorum down".into(),
        format!("{down} up"),
        "quorum up".into(),
    ];
    let start = Instant::now();
    while read() != sorted(&want) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(read(), sorted(&want));
    // omega: at stop every live real in the pool gets notify_down, then quorum_down; the
    // daemon waits for them (at most a second).
    run.stop();
    want.extend([
        format!("{up} down"),
        format!("{down} down"),
        "quorum down".into(),
    ]);
    assert_eq!(read(), sorted(&want));
    drop(listener);
    let _ = std::fs::remove_dir_all(&dir);
}

#[path = "keepalived_udp_tests.rs"]
mod udp;

#[path = "keepalived_table_tests.rs"]
mod table;
