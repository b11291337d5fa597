//! keepalived's whole-table steps on the in-memory kernel: which timeouts are written at
//! start, reload and stop, and what a failed read, write or flush leaves.

use super::*;
use crate::ipvs::error::OpKind;
use crate::ipvs::fake::FakeBackend;
use crate::ipvs::model::{Protocol, Service, ServiceKey};

const ORIGINAL: Timeouts = Timeouts {
    tcp: 900,
    tcp_fin: 120,
    udp: 300,
};

fn settings(flush: bool, tcp: u32, tcp_fin: u32, udp: u32) -> KeepalivedTable {
    KeepalivedTable {
        flush_at_start: flush,
        flush_at_stop: flush,
        timeouts: Timeouts { tcp, tcp_fin, udp },
    }
}

fn with_a_service() -> FakeBackend {
    let mut fake = FakeBackend::new();
    let key = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "198.51.100.1".parse().unwrap(),
        port: 80,
    };
    let r = fake.apply(&[Op::AddService(Service::new(key))]);
    assert!(r[0].is_ok());
    fake
}

#[test]
fn start_reload_and_stop_write_the_given_timeouts_then_the_originals() {
    let mut fake = FakeBackend::new();
    let mut originals = None;
    let t = settings(false, 7200, 0, 0);
    let out = run(&mut fake, TableSteps::start(&t), &mut originals, false);
    assert_eq!(
        out.messages,
        ["Set IPVS timeouts: tcp 7200 tcpfin 120 udp 300"]
    );
    assert!(out.errors.is_empty() && !out.flushed);
    assert_eq!(originals, Some(ORIGINAL));
    // A reload to udp only: tcp gets the original back, not the 7200 of the kernel.
    let t = settings(false, 0, 0, 50);
    run(&mut fake, TableSteps::reload(&t), &mut originals, false);
    let now = fake.timeouts().unwrap();
    assert_eq!((now.tcp, now.tcp_fin, now.udp), (900, 120, 50));
    // The originals were read once, at start.
    assert_eq!(originals, Some(ORIGINAL));
    // A reload without lvs_timeouts writes the originals back.
    fake.apply(&[Op::SetTimeouts(Timeouts {
        tcp: 1,
        tcp_fin: 1,
        udp: 1,
    })]);
    let out = run(
        &mut fake,
        TableSteps::reload(&settings(false, 0, 0, 0)),
        &mut originals,
        false,
    );
    assert_eq!(
        out.messages,
        ["Restored IPVS timeouts: tcp 900 tcpfin 120 udp 300"]
    );
    assert_eq!(fake.timeouts().unwrap(), ORIGINAL);
    run(
        &mut fake,
        TableSteps::start(&settings(false, 60, 0, 0)),
        &mut originals,
        false,
    );
    run(&mut fake, TableSteps::stop(&t, true), &mut originals, true);
    assert_eq!(fake.timeouts().unwrap(), ORIGINAL);
}

#[test]
fn timeouts_never_changed_are_never_written() {
    let mut fake = with_a_service();
    let mut originals = None;
    let t = settings(false, 0, 0, 0);
    for steps in [
        TableSteps::start(&t),
        TableSteps::reload(&t),
        TableSteps::stop(&t, true),
    ] {
        let out = run(&mut fake, steps, &mut originals, false);
        assert!(out.messages.is_empty() && out.errors.is_empty());
    }
    assert_eq!(fake.writes_applied(), 1);
    assert_eq!(fake.services().unwrap().len(), 1);
}

#[test]
fn flush_empties_the_table_at_start_and_at_stop_only_with_virtual_servers() {
    let t = settings(true, 0, 0, 0);
    assert!(TableSteps::start(&t).flush && !TableSteps::reload(&t).flush);
    assert!(TableSteps::stop(&t, true).flush && !TableSteps::stop(&t, false).flush);
    let mut fake = with_a_service();
    let out = run(&mut fake, TableSteps::start(&t), &mut None, false);
    assert!(out.flushed);
    assert_eq!(out.messages, ["Flushed the IPVS table"]);
    assert!(fake.services().unwrap().is_empty());
}

#[test]
fn a_failed_flush_or_write_is_logged_and_the_rest_still_runs() {
    let mut fake = with_a_service();
    fake.fail_next_op_matching(|op| *op == Op::Flush, libc::ENOMEM);
    let mut originals = None;
    let out = run(
        &mut fake,
        TableSteps::start(&settings(true, 7200, 0, 0)),
        &mut originals,
        false,
    );
    assert!(!out.flushed);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(out.errors[0].starts_with("Failed to flush the IPVS table: "));
    assert_eq!(fake.timeouts().unwrap().tcp, 7200);
    assert_eq!(fake.services().unwrap().len(), 1);
    // A failed restore at stop is logged; the flush before it still happens.
    fake.fail_next_op_matching(|op| matches!(op, Op::SetTimeouts(_)), libc::EPERM);
    let out = run(
        &mut fake,
        TableSteps::stop(&settings(true, 7200, 0, 0), true),
        &mut originals,
        true,
    );
    assert!(out.flushed);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(out.errors[0].starts_with("Failed to set IPVS timeouts: "));
    assert_eq!(fake.timeouts().unwrap().tcp, 7200);
}

#[test]
fn without_the_originals_the_given_timeouts_are_written_and_nothing_is_restored() {
    let mut fake = FakeBackend::new();
    fake.fail_next_read(OpKind::GetTimeouts, libc::EPERM);
    let mut originals = None;
    let t = settings(false, 7200, 0, 0);
    let out = run(&mut fake, TableSteps::start(&t), &mut originals, false);
    assert!(
        out.errors[0].starts_with("Failed to get IPVS timeouts: "),
        "{:?}",
        out.errors
    );
    // 0 leaves the kernel's value as it is.
    assert_eq!(out.messages, ["Set IPVS timeouts: tcp 7200 tcpfin 0 udp 0"]);
    assert_eq!(
        fake.timeouts().unwrap(),
        Timeouts {
            tcp: 7200,
            ..ORIGINAL
        }
    );
    let out = run(&mut fake, TableSteps::stop(&t, true), &mut originals, true);
    assert!(out.messages.is_empty() && out.errors.is_empty());
    assert_eq!(fake.timeouts().unwrap().tcp, 7200);
}
