//! keepalived's whole-table settings run by the whole daemon on the FakeBackend: a
//! service the file does not own is flushed at start (`lvs_flush`) and one added while it
//! runs at stop (`lvs_flush_onstop`), `lvs_timeouts` is written at start and the kernel's
//! own values are back after stop.

use std::net::TcpListener;

use super::{Run, closed_port, config};
use crate::ipvs::backend::{Backend, Op};
use crate::ipvs::fake::FakeBackend;
use crate::ipvs::model::{Protocol, Service, ServiceKey, Timeouts};

fn foreign(port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "198.51.100.1".parse().unwrap(),
        port,
    }
}

fn add(fake: &mut FakeBackend, key: ServiceKey) {
    let r = fake.apply(&[Op::AddService(Service::new(key))]);
    assert!(r.iter().all(Result::is_ok), "{r:?}");
}

fn ports(fake: &mut FakeBackend) -> Vec<u16> {
    let mut out: Vec<u16> = fake
        .services()
        .unwrap()
        .iter()
        .map(|s| match s.key {
            ServiceKey::Addr { port, .. } => port,
            ServiceKey::Fwmark { .. } => 0,
        })
        .collect();
    out.sort_unstable();
    out
}

const ORIGINAL: Timeouts = Timeouts {
    tcp: 900,
    tcp_fin: 120,
    udp: 300,
};

#[test]
fn lvs_flush_flush_onstop_and_timeouts_act_on_the_whole_table() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap().port();
    let down = closed_port();
    let mut fake = FakeBackend::new();
    add(&mut fake, foreign(8080));
    let text = format!(
        "global_defs {{\n    lvs_flush\n    lvs_flush_onstop\n    lvs_timeouts tcp 7200 udp 50\n}}\n{}",
        config("", up, down)
    );
    let run = Run::start_on("table", &text, fake);
    run.wait("started", &[(up, 2)]);
    let fake = run.fake();
    // The foreign service went before the own one was added (the op log starts with the
    // test's own AddService of it).
    assert_eq!(ports(&mut fake.lock().unwrap()), [80]);
    let timeouts = fake.lock().unwrap().timeouts().unwrap();
    assert_eq!(
        timeouts,
        Timeouts {
            tcp: 7200,
            tcp_fin: ORIGINAL.tcp_fin,
            udp: 50
        }
    );
    let ops = run.ops();
    let flush = ops.iter().position(|op| *op == Op::Flush).unwrap();
    let first_add = ops
        .iter()
        .position(|op| matches!(op, Op::AddService(s) if s.key != foreign(8080)))
        .unwrap();
    assert!(flush < first_add, "{ops:?}");
    // Added behind the daemon's back: lvs_flush_onstop without VS empties the table.
    add(&mut fake.lock().unwrap(), foreign(8081));
    run.stop();
    let mut kernel = fake.lock().unwrap();
    assert_eq!(ports(&mut kernel), [] as [u16; 0]);
    assert_eq!(kernel.timeouts().unwrap(), ORIGINAL);
    drop(listener);
}

#[test]
fn without_the_settings_a_foreign_service_and_the_timeouts_are_left_alone() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap().port();
    let down = closed_port();
    let mut fake = FakeBackend::new();
    add(&mut fake, foreign(8080));
    let run = Run::start_on("notable", &config("", up, down), fake);
    run.wait("started", &[(up, 2)]);
    let fake = run.fake();
    assert_eq!(ports(&mut fake.lock().unwrap()), [80, 8080]);
    run.stop();
    let mut kernel = fake.lock().unwrap();
    assert_eq!(ports(&mut kernel), [8080]);
    assert_eq!(kernel.timeouts().unwrap(), ORIGINAL);
    assert!(
        !kernel
            .applied_ops()
            .iter()
            .any(|op| matches!(op, Op::Flush | Op::SetTimeouts(_)))
    );
    drop(listener);
}
