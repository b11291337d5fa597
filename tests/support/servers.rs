//! Real servers for the health daemon's kernel tests: busybox httpd processes in a network
//! namespace of their own, holding 10.1.0.1 to 10.1.0.9 and linked by a veth pair to the
//! test's netns (the director, 10.1.0.254), and the kernel table read back with the real
//! ipvsadm.
//!
//! Include it next to `mod support;` with `#[path = "support/servers.rs"] mod servers;`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};

use crate::support::sh;

/// The servers' namespace, deleted when dropped.
pub struct ServerNet {
    pub name: String,
}

impl ServerNet {
    /// `tag` tells apart the namespaces of one test process's tests.
    pub fn new(tag: &str) -> Self {
        let name = format!("lvh{}{tag}", std::process::id());
        let script = format!(
            "set -e; ip netns add {name}; \
             ip link add vh0 type veth peer name vh1 netns {name}; \
             ip addr add 10.1.0.254/24 dev vh0; ip link set vh0 up; \
             ip netns exec {name} ip link set lo up; \
             ip netns exec {name} ip link set vh1 up; \
             for i in 1 2 3 4 5 6 7 8 9; do ip netns exec {name} ip addr add 10.1.0.$i/24 dev vh1; done"
        );
        let (_, err, rc) = sh(&script);
        assert_eq!(rc, 0, "netns setup: {err}");
        Self { name }
    }

    /// An httpd on `addr` serving `index.html` = "ok".
    pub fn httpd(&self, addr: &str) -> Child {
        let dir = "/run/lvh-www";
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(format!("{dir}/index.html"), "ok\n").unwrap();
        self.httpd_in(addr, dir)
    }

    /// An httpd on `addr` serving the files of `dir`.
    pub fn httpd_in(&self, addr: &str, dir: &str) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.name, "busybox", "httpd", "-f", "-p"])
            .args([addr, "-h", dir])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("busybox httpd")
    }

    /// Runs `cmd` in the servers' namespace; it must succeed.
    pub fn sh(&self, cmd: &str) {
        let (_, err, rc) = sh(&format!("ip netns exec {} {cmd}", self.name));
        assert_eq!(rc, 0, "{cmd}: {err}");
    }
}

impl Drop for ServerNet {
    fn drop(&mut self) {
        let _ = sh(&format!("ip netns del {}", self.name));
    }
}

pub fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A server process killed and waited for when the test ends, however it ends.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        kill(&mut self.0);
    }
}

/// `real → weight` of one service from `ipvsadm -Ln`; None when the service is absent.
pub fn reals_of(service: &str) -> Option<BTreeMap<String, i64>> {
    let (out, err, rc) = sh("ipvsadm -Ln");
    assert_eq!(rc, 0, "ipvsadm -Ln: {err}");
    reals_in(&out, service)
}

/// What `ipvsadm -Ln` prints, made in this process: one netlink dump through lvsctl's
/// backend and its ipvsadm formatter. For tests that poll the table many times a second,
/// where starting ipvsadm each time is most of the guest's CPU under emulation; the
/// formatter is held to ipvsadm's bytes by tests/kernel_ipvsadm_diff.rs.
pub fn listing() -> String {
    use lvsctl::ipvs::Backend as _;
    use lvsctl::ipvsadm::format::{ListFormat, write_full_listing};
    let mut backend = lvsctl::ipvs::netlink::NetlinkBackend::connect().expect("IPVS netlink");
    let info = backend.info().expect("IPVS info");
    let entries = backend.entries().expect("IPVS dump");
    let mut out = Vec::new();
    write_full_listing(
        &mut out,
        &info,
        &entries,
        &ListFormat::default(),
        &lvsctl::names::NoNames,
    )
    .expect("format the listing");
    String::from_utf8(out).expect("the listing is text")
}

/// `real → weight` of one service in a listing in `ipvsadm -Ln`'s format; None when the
/// service is absent.
pub fn reals_in(out: &str, service: &str) -> Option<BTreeMap<String, i64>> {
    let mut current: Option<BTreeMap<String, i64>> = None;
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [proto, addr, ..] if matches!(*proto, "TCP" | "UDP" | "FWM") => {
                if current.is_some() {
                    break;
                }
                // A firewall-mark service is named `FWM MARK`.
                if *addr == service || (*proto == "FWM" && service == format!("FWM {addr}")) {
                    current = Some(BTreeMap::new());
                }
            }
            ["->", real, _fwd, weight, ..]
                if current.is_some() && *real != "RemoteAddress:Port" =>
            {
                if let (Some(map), Ok(w)) = (current.as_mut(), weight.parse()) {
                    map.insert((*real).to_owned(), w);
                }
            }
            _ => {}
        }
    }
    current
}

/// A `real → weight` table from pairs.
pub fn table(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, w)| ((*k).to_owned(), *w)).collect()
}
