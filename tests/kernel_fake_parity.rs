//! The fake and the real kernel, side by side: the same op sequences (failing ones
//! included) must give the same per-op results and the same read-back tables (modulo
//! listing order, which is hash order in the kernel).
//!
//! Daemon steps wait briefly after a start (see `parity::run`): Linux 6.1 can block a
//! DEL_DAEMON that arrives before the new sync thread ever ran.

mod parity;
mod support;

use lvsctl::ipvs::Backend;
use lvsctl::ipvs::netlink::NetlinkBackend;

#[test]
fn fake_and_kernel_agree_on_every_scenario() {
    kernel_test!();
    let mut kernel = NetlinkBackend::connect().expect("connect to IPVS");
    let mut fake = parity::fresh_fake();
    for scenario in parity::scenarios() {
        parity::reset(&mut kernel);
        parity::reset(&mut fake);
        let (kernel_errnos, kernel_snap) = parity::run(&mut kernel, &scenario);
        let (fake_errnos, fake_snap) = parity::run(&mut fake, &scenario);
        for (i, (op, _)) in scenario.steps.iter().enumerate() {
            assert_eq!(
                fake_errnos[i], kernel_errnos[i],
                "{}: step {i} {op:?}: fake vs kernel errno",
                scenario.name
            );
        }
        assert_eq!(
            fake_snap, kernel_snap,
            "{}: read-back differs",
            scenario.name
        );
        // The recorded expectations are the kernel's answers too.
        let want: Vec<i32> = scenario.steps.iter().map(|(_, e)| *e).collect();
        assert_eq!(
            kernel_errnos, want,
            "{}: kernel vs recorded errnos",
            scenario.name
        );
    }
}

#[test]
fn fake_and_kernel_agree_on_info_and_fresh_state() {
    kernel_test!();
    let mut kernel = NetlinkBackend::connect().expect("connect to IPVS");
    let mut fake = parity::fresh_fake();
    assert_eq!(fake.info().unwrap(), kernel.info().unwrap());
    assert_eq!(parity::snapshot(&mut fake), parity::snapshot(&mut kernel));
    let key = lvsctl::ipvs::ServiceKey::Fwmark {
        af: lvsctl::ipvs::AddressFamily::Inet,
        mark: 9,
    };
    assert_eq!(
        fake.service(&key).unwrap_err().errno(),
        kernel.service(&key).unwrap_err().errno()
    );
    assert_eq!(fake.dests(&key).unwrap(), kernel.dests(&key).unwrap());
}
