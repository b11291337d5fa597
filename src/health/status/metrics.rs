//! Prometheus text exposition of the status document, served on a loopback TCP port
//! (`--metrics 127.0.0.1:PORT`). Rendering is a pure function of [`StatusReport`]; the
//! server answers every request on the socket with the current metrics, one task per
//! connection (see `accept`): the request head is read within the deadline (an idle client
//! is closed), then the answer written within it.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::accept::{Log, spawn_accept_loop, within};
use super::counters::{Counters, FaultCounts};
use super::server::{Ask, ask_loop};
use super::{RealState, RealStatus, StatusReport, VirtualStatus};

/// One metric family: what its HELP and TYPE lines say and where each sample comes from.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    sample: Sample,
}

/// Whether a family has a sample per real server or per virtual service, and its value.
enum Sample {
    /// `None` leaves that real out (a value it does not have, such as a kernel weight
    /// while it is not in the kernel).
    PerReal(fn(&RealStatus) -> Option<f64>),
    PerVirtual(fn(&VirtualStatus) -> f64),
    /// Daemon-wide: `(labels, value)` pairs, labels already in `name="value"` form (empty
    /// for none).
    Daemon(fn(&FaultCounts) -> Vec<(String, f64)>),
}

/// The families, in the order they are exposed.
const FAMILIES: &[Family] = &[
    Family {
        name: "lvsctl_health_real_up",
        kind: "gauge",
        help: "1 when the real server passes its check",
        sample: Sample::PerReal(|real| Some(flag(real.state == RealState::Up))),
    },
    Family {
        name: "lvsctl_health_real_kernel_weight",
        kind: "gauge",
        help: "weight of the kernel entry (absent when not in the kernel)",
        sample: Sample::PerReal(|real| real.kernel_weight.map(f64::from)),
    },
    Family {
        name: "lvsctl_health_real_consecutive_failures",
        kind: "gauge",
        help: "failed checks in a row",
        sample: Sample::PerReal(|real| Some(f64::from(real.failures))),
    },
    Family {
        name: "lvsctl_health_check_duration_seconds",
        kind: "gauge",
        help: "duration of the last check",
        sample: Sample::PerReal(|real| {
            real.last_duration_ms
                .map(|ms| f64::from(u32::try_from(ms).unwrap_or(u32::MAX)) / 1000.0)
        }),
    },
    Family {
        name: "lvsctl_health_virtual_fallback_active",
        kind: "gauge",
        help: "1 while the fallback server is in use",
        sample: Sample::PerVirtual(|v| flag(v.fallback_active)),
    },
    Family {
        name: "lvsctl_health_checks_not_checked_total",
        kind: "counter",
        help: "checks not made because of a local fault (out of descriptors, memory or local ports, a panic), by class",
        sample: Sample::Daemon(|f| {
            f.not_checked
                .iter()
                .map(|(class, n)| (format!("reason=\"{}\"", escape(class)), count(*n)))
                .collect()
        }),
    },
    Family {
        name: "lvsctl_health_panics_total",
        kind: "counter",
        help: "panics caught and recovered from: a check task (restarted) or the IPVS thread (started again)",
        sample: Sample::Daemon(|f| {
            vec![
                ("task=\"check\"".to_owned(), count(f.check_panics)),
                ("task=\"ipvs\"".to_owned(), count(f.ipvs_restarts)),
            ]
        }),
    },
    Family {
        name: "lvsctl_health_api_accept_errors_total",
        kind: "counter",
        help: "failed accepts on the status socket and the metrics endpoint",
        sample: Sample::Daemon(|f| vec![(String::new(), count(f.accept_errors))]),
    },
    Family {
        name: "lvsctl_health_api_clients_closed_total",
        kind: "counter",
        help: "status and metrics connections closed to make room for a new one",
        sample: Sample::Daemon(|f| vec![(String::new(), count(f.clients_evicted))]),
    },
];

/// A counter as a sample value: exact up to 2^53, far beyond what a daemon counts.
#[allow(clippy::cast_precision_loss)]
fn count(n: u64) -> f64 {
    n as f64
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

/// The metrics for one status document.
pub fn render_metrics(r: &StatusReport) -> String {
    let mut out = String::new();
    for family in FAMILIES {
        let Family {
            name, kind, help, ..
        } = family;
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        if let Sample::Daemon(values) = family.sample {
            for (labels, value) in values(&r.faults) {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
            continue;
        }
        for v in &r.virtuals {
            let vl = escape(&v.label);
            match family.sample {
                Sample::PerVirtual(value) => {
                    let _ = writeln!(out, "{name}{{virtual=\"{vl}\"}} {}", value(v));
                }
                Sample::PerReal(value) => {
                    for real in &v.reals {
                        if let Some(value) = value(real) {
                            let rl = escape(&real.dest.to_string());
                            let _ =
                                writeln!(out, "{name}{{virtual=\"{vl}\",real=\"{rl}\"}} {value}");
                        }
                    }
                }
                Sample::Daemon(_) => {}
            }
        }
    }
    out
}

/// A label value as the Prometheus text format needs it: backslash, double quote and
/// line feed escaped (a raw line feed would end the sample line).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serves metrics on `addr` (loopback only: the daemon runs as root and the API has no
/// authentication).
pub fn serve_metrics(
    addr: SocketAddr,
    ask: Ask,
    log: Log,
    counters: Arc<Counters>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(
            "the metrics endpoint must be on a loopback address",
        ));
    }
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(std_listener)?;
    let what = format!("metrics endpoint {addr}");
    Ok(spawn_accept_loop(listener, what, log, counters, move |s| {
        answer(s, ask.clone())
    }))
}

/// The longest request head read; what follows is ignored.
const MAX_REQUEST: usize = 8 * 1024;

/// Reads the request head (whatever it asks, the answer is the metrics), then answers.
async fn answer(mut stream: TcpStream, ask: Ask) {
    if !matches!(within(read_head(&mut stream)).await, Ok(true)) {
        return;
    }
    let Some(report) = ask_loop(&ask).await else {
        return;
    };
    let body = render_metrics(&report);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = within(async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// Reads until the blank line that ends a request head, [`MAX_REQUEST`] bytes, or the end
/// of the stream; false when the client sent nothing at all.
async fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return !head.is_empty(),
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        let done =
            head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n");
        if done || head.len() >= MAX_REQUEST {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::status::test_support::{fake_loop, quiet, report};
    use crate::health::status::{RealStatus, VirtualStatus};
    use crate::ipvs::model::{DestKey, Protocol, ServiceKey};

    async fn scrape(addr: SocketAddr) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).await.unwrap();
        body
    }

    /// The old server read each client's request before the next accept, without a
    /// deadline: one idle `nc` stopped every scrape. Now 100 idle clients delay a scrape by
    /// nothing, and each of them is closed at its deadline (or to make room).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_clients_do_not_delay_a_scrape() {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let task = serve_metrics(addr, fake_loop(report(50)), quiet(), Arc::default()).unwrap();
        let mut idle = Vec::new();
        for _ in 0..100 {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let t = std::time::Instant::now();
        let body = tokio::time::timeout(std::time::Duration::from_secs(10), scrape(addr))
            .await
            .expect("a scrape is answered");
        assert!(
            t.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            t.elapsed()
        );
        assert!(body.starts_with("HTTP/1.1 200 OK\r\n"), "{body}");
        assert!(body.contains("lvsctl_health_real_up{"), "{body}");
        for mut s in idle {
            let mut sink = Vec::new();
            let r =
                tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut sink))
                    .await;
            assert!(r.is_ok(), "an idle client was left open");
            assert!(sink.is_empty(), "nothing is sent before a request");
        }
        task.abort();
    }

    fn real(addr: &str, state: RealState, weight: Option<i32>, failures: u32) -> RealStatus {
        RealStatus {
            dest: DestKey {
                addr: addr.parse().unwrap(),
                port: 80,
            },
            state,
            kernel_weight: weight,
            configured_weight: 1,
            successes: 0,
            failures,
            last_check_ms: None,
            last_duration_ms: None,
            reason: None,
        }
    }

    /// Two virtuals, reals in every state, absent values, and labels that need escaping:
    /// the whole exposition, byte for byte.
    fn golden_report() -> StatusReport {
        let mut up = real("10.1.0.1", RealState::Up, Some(3), 0);
        up.last_duration_ms = Some(1500);
        let mut down = real("10.1.0.2", RealState::Down, None, 4);
        down.last_duration_ms = Some(20);
        let mut slow = real("2001:db8::7", RealState::Maintenance, Some(0), 1);
        slow.last_duration_ms = Some(5_000_000_000);
        StatusReport {
            config: "x".into(),
            pid: 1,
            virtuals: vec![
                VirtualStatus {
                    service: ServiceKey::Addr {
                        protocol: Protocol::Tcp,
                        addr: "10.0.0.1".parse().unwrap(),
                        port: 80,
                    },
                    label: r#"web "a" \ b"#.into(),
                    up: 1,
                    fallback_active: false,
                    reals: vec![up, down, real("10.1.0.3", RealState::Pending, Some(1), 0)],
                },
                VirtualStatus {
                    service: ServiceKey::Fwmark {
                        af: crate::ipvs::model::AddressFamily::Inet6,
                        mark: 7,
                    },
                    label: "fwm 7".into(),
                    up: 0,
                    fallback_active: true,
                    reals: vec![slow],
                },
                VirtualStatus {
                    service: ServiceKey::Addr {
                        protocol: Protocol::Udp,
                        addr: "10.0.0.2".parse().unwrap(),
                        port: 53,
                    },
                    label: "10.0.0.2:53".into(),
                    up: 0,
                    fallback_active: false,
                    reals: Vec::new(),
                },
            ],
            faults: FaultCounts {
                not_checked: [("descriptors".to_owned(), 3), ("other".to_owned(), 0)]
                    .into_iter()
                    .collect(),
                check_panics: 1,
                ipvs_restarts: 0,
                accept_errors: 2,
                clients_evicted: 5,
            },
        }
    }

    /// A line feed in a label (a virtual's label comes from the config) must not split
    /// the sample line.
    #[test]
    fn label_values_escape_line_feeds() {
        let mut report = golden_report();
        report.virtuals.truncate(1);
        report.virtuals[0].label = "a\nb\\n\"".into();
        report.virtuals[0].reals.clear();
        assert!(
            render_metrics(&report)
                .contains("lvsctl_health_virtual_fallback_active{virtual=\"a\\nb\\\\n\\\"\"} 0\n")
        );
        assert_eq!(escape("x\ny"), "x\\ny");
    }

    #[test]
    fn golden_exposition() {
        assert_eq!(render_metrics(&golden_report()), GOLDEN);
    }

    const GOLDEN: &str = r#"# HELP lvsctl_health_real_up 1 when the real server passes its check
# TYPE lvsctl_health_real_up gauge
lvsctl_health_real_up{virtual="web \"a\" \\ b",real="10.1.0.1:80"} 1
lvsctl_health_real_up{virtual="web \"a\" \\ b",real="10.1.0.2:80"} 0
lvsctl_health_real_up{virtual="web \"a\" \\ b",real="10.1.0.3:80"} 0
lvsctl_health_real_up{virtual="fwm 7",real="[2001:db8::7]:80"} 0
# HELP lvsctl_health_real_kernel_weight weight of the kernel entry (absent when not in the kernel)
# TYPE lvsctl_health_real_kernel_weight gauge
lvsctl_health_real_kernel_weight{virtual="web \"a\" \\ b",real="10.1.0.1:80"} 3
lvsctl_health_real_kernel_weight{virtual="web \"a\" \\ b",real="10.1.0.3:80"} 1
lvsctl_health_real_kernel_weight{virtual="fwm 7",real="[2001:db8::7]:80"} 0
# HELP lvsctl_health_real_consecutive_failures failed checks in a row
# TYPE lvsctl_health_real_consecutive_failures gauge
lvsctl_health_real_consecutive_failures{virtual="web \"a\" \\ b",real="10.1.0.1:80"} 0
lvsctl_health_real_consecutive_failures{virtual="web \"a\" \\ b",real="10.1.0.2:80"} 4
lvsctl_health_real_consecutive_failures{virtual="web \"a\" \\ b",real="10.1.0.3:80"} 0
lvsctl_health_real_consecutive_failures{virtual="fwm 7",real="[2001:db8::7]:80"} 1
# HELP lvsctl_health_check_duration_seconds duration of the last check
# TYPE lvsctl_health_check_duration_seconds gauge
lvsctl_health_check_duration_seconds{virtual="web \"a\" \\ b",real="10.1.0.1:80"} 1.5
lvsctl_health_check_duration_seconds{virtual="web \"a\" \\ b",real="10.1.0.2:80"} 0.02
lvsctl_health_check_duration_seconds{virtual="fwm 7",real="[2001:db8::7]:80"} 4294967.295
# HELP lvsctl_health_virtual_fallback_active 1 while the fallback server is in use
# TYPE lvsctl_health_virtual_fallback_active gauge
lvsctl_health_virtual_fallback_active{virtual="web \"a\" \\ b"} 0
lvsctl_health_virtual_fallback_active{virtual="fwm 7"} 1
lvsctl_health_virtual_fallback_active{virtual="10.0.0.2:53"} 0
# HELP lvsctl_health_checks_not_checked_total checks not made because of a local fault (out of descriptors, memory or local ports, a panic), by class
# TYPE lvsctl_health_checks_not_checked_total counter
lvsctl_health_checks_not_checked_total{reason="descriptors"} 3
lvsctl_health_checks_not_checked_total{reason="other"} 0
# HELP lvsctl_health_panics_total panics caught and recovered from: a check task (restarted) or the IPVS thread (started again)
# TYPE lvsctl_health_panics_total counter
lvsctl_health_panics_total{task="check"} 1
lvsctl_health_panics_total{task="ipvs"} 0
# HELP lvsctl_health_api_accept_errors_total failed accepts on the status socket and the metrics endpoint
# TYPE lvsctl_health_api_accept_errors_total counter
lvsctl_health_api_accept_errors_total 2
# HELP lvsctl_health_api_clients_closed_total status and metrics connections closed to make room for a new one
# TYPE lvsctl_health_api_clients_closed_total counter
lvsctl_health_api_clients_closed_total 5
"#;

    #[test]
    fn one_line_per_real_and_family() {
        let report = StatusReport {
            config: "x".into(),
            pid: 1,
            virtuals: vec![VirtualStatus {
                service: ServiceKey::Addr {
                    protocol: Protocol::Tcp,
                    addr: "10.0.0.1".parse().unwrap(),
                    port: 80,
                },
                label: "10.0.0.1:80".into(),
                up: 1,
                fallback_active: false,
                reals: vec![RealStatus {
                    dest: DestKey {
                        addr: "10.1.0.1".parse().unwrap(),
                        port: 80,
                    },
                    state: RealState::Up,
                    kernel_weight: Some(3),
                    configured_weight: 3,
                    successes: 4,
                    failures: 0,
                    last_check_ms: Some(1),
                    last_duration_ms: Some(1500),
                    reason: None,
                }],
            }],
            faults: FaultCounts::default(),
        };
        let text = render_metrics(&report);
        assert!(
            text.contains(
                "lvsctl_health_real_up{virtual=\"10.0.0.1:80\",real=\"10.1.0.1:80\"} 1\n"
            ),
            "{text}"
        );
        assert!(text.contains(
            "lvsctl_health_real_kernel_weight{virtual=\"10.0.0.1:80\",real=\"10.1.0.1:80\"} 3\n"
        ));
        assert!(text.contains("lvsctl_health_check_duration_seconds{virtual=\"10.0.0.1:80\",real=\"10.1.0.1:80\"} 1.5\n"));
        assert!(
            text.contains("lvsctl_health_virtual_fallback_active{virtual=\"10.0.0.1:80\"} 0\n")
        );
    }
}
