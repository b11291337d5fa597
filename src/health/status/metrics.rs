//! Prometheus text exposition of the status document, served on a loopback TCP port
//! (`--metrics 127.0.0.1:PORT`). Rendering is a pure function of [`StatusReport`]; the
//! server answers every request on the socket with the current metrics.

use std::fmt::Write as _;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

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
];

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
    ask: mpsc::UnboundedSender<oneshot::Sender<StatusReport>>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(
            "the metrics endpoint must be on a loopback address",
        ));
    }
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(std_listener)?;
    Ok(tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await;
            let (tx, rx) = oneshot::channel();
            if ask.send(tx).is_err() {
                return;
            }
            let Ok(report) = rx.await else { return };
            let body = render_metrics(&report);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::status::{RealStatus, VirtualStatus};
    use crate::ipvs::model::{DestKey, Protocol, ServiceKey};

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
