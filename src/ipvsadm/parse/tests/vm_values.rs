//! Model values checked against what real ipvsadm created: 400 generated `-A`/`-E`/`-a`
//! lines were run in the IPVS VM (for `-E`/`-a` after creating the service), and the
//! table was saved with `ipvsadm -Sn` (`vm_values.json`). Our parse result, rendered in the
//! same save syntax by the small renderer below, must give the same lines; rejected lines
//! must be rejected with the same message.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::{FakeResolver, ipvsadm_verdict};
use crate::ipvs::model::{
    AddressFamily, Dest, ForwardMethod, Netmask, Protocol, Service, ServiceKey, TunnelCsum,
    TunnelType,
};
use crate::ipvsadm::parse::{IpvsadmCommand, parse};

fn addr_port(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

fn svc(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            let opt = match protocol {
                Protocol::Tcp => "-t",
                Protocol::Udp => "-u",
                _ => "--sctp-service",
            };
            format!("{opt} {}", addr_port(*addr, *port))
        }
        ServiceKey::Fwmark { af, mark } => {
            let v6 = if *af == AddressFamily::Inet6 {
                " -6"
            } else {
                ""
            };
            format!("-f {}{v6}", *mark as i32)
        }
    }
}

fn service_line(s: &Service) -> String {
    let mut line = format!("-A {} -s {}", svc(&s.key), s.scheduler);
    if s.flags.persistent() {
        let _ = write!(line, " -p {}", s.timeout);
        match s.netmask {
            m if m.is_default() => {}
            Netmask::V4(m) => {
                let _ = write!(line, " -M {m}");
            }
            Netmask::V6(p) => {
                let _ = write!(line, " -M {p}");
            }
        }
    }
    if let Some(pe) = &s.pe_name {
        let _ = write!(line, " --pe {pe}");
    }
    if s.flags.one_packet() {
        line.push_str(" -o");
    }
    let names: &[&str] = match s.scheduler.as_str() {
        "sh" => &["sh-fallback", "sh-port"],
        "mh" => &["mh-fallback", "mh-port"],
        _ => &["flag-1", "flag-2", "flag-3"],
    };
    let bits = s.flags.sched_bits();
    if bits != 0 {
        let set: Vec<&str> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (0x08 << i) != 0)
            .map(|(_, n)| *n)
            .collect();
        let _ = write!(line, " -b {}", set.join(","));
    }
    line
}

fn dest_line(key: &ServiceKey, d: &Dest) -> String {
    let fwd = match d.fwd {
        ForwardMethod::Masq => "-m",
        ForwardMethod::Tunnel => "-i",
        _ => "-g",
    };
    let mut line = format!(
        "-a {} -r {} {fwd} -w {}",
        svc(key),
        addr_port(d.addr, d.port),
        d.weight
    );
    if d.fwd == ForwardMethod::Tunnel {
        let csum = match d.tunnel.csum {
            TunnelCsum::Csum => "--tun-csum",
            TunnelCsum::RemCsum => "--tun-remcsum",
            _ => "--tun-nocsum",
        };
        let spec = match d.tunnel.kind {
            TunnelType::Gue => format!("gue --tun-port {} {csum}", d.tunnel.port),
            TunnelType::Gre => format!("gre {csum}"),
            _ => "ipip".to_owned(),
        };
        let _ = write!(line, " --tun-type {spec}");
    }
    line
}

#[test]
fn created_objects_match_real_ipvsadm() {
    #[derive(serde::Deserialize)]
    struct Case {
        args: Vec<String>,
        rc: u8,
        stderr: String,
        save: String,
    }
    let cases: Vec<Case> = serde_json::from_str(include_str!("vm_values.json")).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        if let Some(f) = ipvsadm_verdict(&case.args, case.rc, &case.stderr) {
            failures.push(f);
            continue;
        }
        if case.rc != 0 {
            continue;
        }
        let (want_prefix, got) = match parse("ipvsadm", &case.args, &FakeResolver) {
            Ok(IpvsadmCommand::AddService(s) | IpvsadmCommand::EditService(s)) => {
                ("-A", service_line(&s))
            }
            Ok(IpvsadmCommand::AddDest(k, d)) => ("-a", dest_line(&k, &d)),
            other => panic!("{:?}: {other:?}", case.args),
        };
        let saved: Vec<&str> = case
            .save
            .lines()
            .filter(|l| l.starts_with(want_prefix))
            .collect();
        if saved != [got.as_str()] {
            failures.push(format!(
                "{:?}: ipvsadm saved {saved:?}, we {got:?}",
                case.args
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
