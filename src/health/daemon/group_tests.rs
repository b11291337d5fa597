//! A keepalived `virtual_server group` through the registry and the reconciler: one check
//! per real and one quorum for the whole group, every change written to each member
//! service (keepalived 2.2.7's `ipvs_group_cmd`), read back from the fake backend.

use super::*;
use crate::health::daemon::kernel::{SyncReport, sync_once};
use crate::health::keepalived::tests::outcome;
use crate::health::keepalived::to_daemon;
use crate::health::state::keepalived_epilog::{Check, Checker, Settings};
use crate::ipvs::backend::Backend;
use crate::ipvs::fake::FakeBackend;

/// Two address entries (one a range of two) and a firewall mark; a DR real of weight 2
/// with a notify_down, a NAT real on 8080, both inhibited; quorum 2 and a sorry server.
const TEXT: &str = "\
global_defs {
    enable_script_security
}
virtual_server_group WEB {
    192.0.2.20-21 80
    fwmark 7
    192.0.2.30 8080
}
virtual_server group WEB {
    lb_algo wrr
    lb_kind DR
    protocol TCP
    quorum 2
    sorry_server 10.0.0.9 80
    real_server 10.0.0.1 80 {
        weight 2
        inhibit_on_failure
        notify_down /usr/local/bin/check.sh
        TCP_CHECK {
            retry 0
        }
    }
    real_server 10.0.0.2 8080 {
        lvs_method NAT
        inhibit_on_failure
        TCP_CHECK {
            retry 0
        }
    }
}
";

fn registry() -> Registry {
    build(TEXT, None)
}

fn build(text: &str, old: Option<&Registry>) -> Registry {
    let config = outcome(text).config.expect("a configuration");
    Registry::build(&to_daemon(&config).expect("mapped"), old)
}

/// One cycle on `fake`; the table as `SERVICE DEST wWEIGHT`, sorted.
fn sync(fake: &mut FakeBackend, reg: &Registry) -> Vec<String> {
    let SyncReport { .. } = sync_once(fake, &reg.desired(Vec::new()));
    let mut out: Vec<String> = fake
        .entries()
        .unwrap()
        .iter()
        .flat_map(|e| {
            e.dests
                .iter()
                .map(move |d| format!("{} {} w{}", e.service.key, d.key(), d.weight))
        })
        .collect();
    out.sort();
    out
}

/// A check result of real `i`, with the verdict its task (keepalived's TCP_CHECK with
/// retry 0) would send.
fn record(reg: &mut Registry, i: usize, up: bool) -> bool {
    let vs = &reg.virtuals[0];
    let s = Settings::of_virtual(&vs.v).expect("a TCP_CHECK");
    let mut checker = Checker::new(s);
    let verdict = checker
        .observe(if up { Check::Pass } else { Check::Fail })
        .verdict;
    let r = Report {
        verdict,
        ..super::quorum_tests::report(reg, i, up)
    };
    reg.record(&r).0
}

/// Every member with its entries, as `ipvsadm -Ln` would list them.
fn table(real1: i32, real2: i32, sorry: Option<i32>) -> Vec<String> {
    let mut out = Vec::new();
    for (service, dr_port) in [
        ("TCP 192.0.2.20:80", 80),
        ("TCP 192.0.2.21:80", 80),
        ("TCP 192.0.2.30:8080", 8080),
        ("FWM 7", 0),
    ] {
        out.push(format!("{service} 10.0.0.1:{dr_port} w{real1}"));
        out.push(format!("{service} 10.0.0.2:8080 w{real2}"));
        if let Some(w) = sorry {
            out.push(format!("{service} 10.0.0.9:{dr_port} w{w}"));
        }
    }
    out.sort();
    out
}

#[test]
fn every_member_service_follows_the_group_s_one_check_per_real_and_one_quorum() {
    let mut reg = registry();
    assert_eq!(reg.virtuals.len(), 1);
    assert_eq!(reg.virtuals[0].reals.len(), 2, "one check per real");
    let mut fake = FakeBackend::new();
    // Without alpha both reals are in from the start, in all four services.
    assert_eq!(sync(&mut fake, &reg), table(2, 1, None));
    // The DR real fails: weight 0 in every member (inhibit_on_failure); 1 < 2 loses the
    // quorum once, for the group: the sorry server goes into every member and the live
    // NAT real is pushed out to weight 0 with it.
    assert!(record(&mut reg, 0, false));
    assert_eq!(
        reg.scripts.len(),
        1,
        "notify_down once, not once per member: {:?}",
        reg.scripts
    );
    assert_eq!(sync(&mut fake, &reg), table(0, 0, Some(1)));
    // It comes back: quorum gained, the sorry server leaves every member.
    assert!(record(&mut reg, 0, true));
    assert_eq!(sync(&mut fake, &reg), table(2, 1, None));
    // The NAT real alone failing keeps the quorum (2 >= 2).
    assert!(record(&mut reg, 1, false));
    assert_eq!(sync(&mut fake, &reg), table(2, 0, None));
}

#[test]
fn the_status_shows_each_member_service_with_the_group_s_reals() {
    let reg = registry();
    let mut fake = FakeBackend::new();
    sync(&mut fake, &reg);
    let report = sync_once(&mut fake, &reg.desired(Vec::new()));
    let status = crate::health::status::snapshot(
        "keepalived.conf",
        &reg,
        &report.weights,
        &crate::health::status::Counters::default(),
    );
    let rows: Vec<String> = status
        .virtuals
        .iter()
        .map(|v| {
            let reals: Vec<String> = v
                .reals
                .iter()
                .map(|r| format!("{} {:?}", r.dest, r.kernel_weight))
                .collect();
            format!("{} {} [{}]", v.service, v.label, reals.join(", "))
        })
        .collect();
    assert_eq!(
        rows,
        [
            "TCP 192.0.2.20:80 192.0.2.20:80 [10.0.0.1:80 Some(2), 10.0.0.2:8080 Some(1)]",
            "TCP 192.0.2.21:80 192.0.2.21:80 [10.0.0.1:80 Some(2), 10.0.0.2:8080 Some(1)]",
            "TCP 192.0.2.30:8080 192.0.2.30:8080 [10.0.0.1:8080 Some(2), 10.0.0.2:8080 Some(1)]",
            "FWM 7 7 [10.0.0.1:0 Some(2), 10.0.0.2:8080 Some(1)]",
        ]
    );
}

#[test]
fn a_reload_that_drops_entries_deletes_those_members_and_keeps_the_group_s_state() {
    let mut old = registry();
    assert!(record(&mut old, 0, false));
    let text = TEXT
        .replace("192.0.2.20-21 80", "192.0.2.20 80")
        .replace("    fwmark 7\n", "");
    let new = build(&text, Some(&old));
    let leaving: Vec<String> = old
        .services_leaving(&new)
        .iter()
        .map(|(k, label)| format!("{k} {label}"))
        .collect();
    assert_eq!(leaving, ["TCP 192.0.2.21:80 192.0.2.21:80", "FWM 7 7"]);
    // The same first member, the same checks: the failed real stays failed.
    let mut fake = FakeBackend::new();
    assert_eq!(
        sync(&mut fake, &new),
        [
            "TCP 192.0.2.20:80 10.0.0.1:80 w0",
            "TCP 192.0.2.20:80 10.0.0.2:8080 w0",
            "TCP 192.0.2.20:80 10.0.0.9:80 w1",
            "TCP 192.0.2.30:8080 10.0.0.1:8080 w0",
            "TCP 192.0.2.30:8080 10.0.0.2:8080 w0",
            "TCP 192.0.2.30:8080 10.0.0.9:8080 w1",
        ]
    );
}
