use super::*;
use crate::ipvs::model::Protocol;

fn vkey() -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "10.0.0.1".parse().unwrap(),
        port: 80,
    }
}

fn dest(ip: &str, weight: i32) -> Dest {
    let mut d = Dest::new(ip.parse().unwrap(), 80);
    d.weight = weight;
    d
}

fn virtual_with(reals: &[(&str, Option<Health>)], quiescent: bool) -> DesiredVirtual {
    DesiredVirtual {
        service: Service::new(vkey()),
        label: "10.0.0.1:80".into(),
        reals: reals
            .iter()
            .map(|(ip, h)| DesiredReal {
                dest: dest(ip, 5),
                name: dest(ip, 5).key(),
                health: *h,
                inhibit: None,
            })
            .collect(),
        quiescent,
        fallback: Some(dest("127.0.0.1", 1)),
        fallback_name: None,
        fallback_inhibit: false,
        zero_on_add: false,
    }
}

fn desired(v: DesiredVirtual) -> Desired {
    Desired {
        virtuals: vec![v],
        remove: Vec::new(),
        phase: Phase::Start,
        readd_quiescent: false,
        table: crate::health::daemon::table::TableSteps::default(),
    }
}

fn live(dests: Vec<Dest>) -> Vec<ServiceEntry> {
    vec![ServiceEntry {
        service: Service::new(vkey()),
        dests,
    }]
}

#[test]
fn t20_unchecked_reals_are_never_added() {
    let d = desired(virtual_with(
        &[("10.1.0.1", None), ("10.1.0.2", None)],
        false,
    ));
    let p = plan(&d, &[]);
    assert_eq!(p.ops, vec![Op::AddService(Service::new(vkey()))]);
    assert_eq!(p.messages, ["Added virtual server: 10.0.0.1:80"]);
}

#[test]
fn first_passing_check_adds_at_configured_weight_and_replaces_the_fallback() {
    let d = desired(virtual_with(
        &[("10.1.0.1", Some(Health::Up)), ("10.1.0.2", None)],
        false,
    ));
    let p = plan(&d, &live(vec![dest("127.0.0.1", 1)]));
    assert_eq!(
        p.ops,
        vec![
            Op::DelDest(vkey(), dest("127.0.0.1", 1).key()),
            Op::AddDest(vkey(), dest("10.1.0.1", 5)),
        ]
    );
    assert_eq!(
        p.messages[1],
        "Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 5)"
    );
}

#[test]
fn t26_fallback_only_when_every_real_is_known_down() {
    let v = virtual_with(&[("10.1.0.1", Some(Health::Down))], false);
    let p = plan(&desired(v), &live(vec![dest("10.1.0.1", 5)]));
    assert_eq!(
        p.ops,
        vec![
            Op::DelDest(vkey(), dest("10.1.0.1", 5).key()),
            Op::AddDest(vkey(), dest("127.0.0.1", 1)),
        ]
    );
    let pending = virtual_with(
        &[("10.1.0.1", Some(Health::Down)), ("10.1.0.2", None)],
        false,
    );
    assert!(plan(&desired(pending), &live(vec![])).ops.is_empty());
}

#[test]
fn t25_quiescent_sets_weight_zero_and_restores() {
    let down = virtual_with(&[("10.1.0.1", Some(Health::Down))], true);
    let p = plan(&desired(down), &live(vec![dest("10.1.0.1", 5)]));
    assert_eq!(p.ops[0], Op::EditDest(vkey(), dest("10.1.0.1", 0)));
    assert!(p.messages[0].starts_with("Quiescent real server: 10.1.0.1:80"));
    let up = virtual_with(&[("10.1.0.1", Some(Health::Up))], true);
    let p = plan(&desired(up), &live(vec![dest("10.1.0.1", 0)]));
    assert_eq!(p.ops, vec![Op::EditDest(vkey(), dest("10.1.0.1", 5))]);
}

/// keepalived's `inhibit_on_failure` is each real's own: in one virtual, the down real
/// that has it goes to weight 0 and the one without it is removed, whatever the virtual's
/// `quiescent` says.
#[test]
fn a_real_s_own_inhibit_wins_over_the_virtual_s_quiescent() {
    let mut v = virtual_with(
        &[
            ("10.1.0.1", Some(Health::Down)),
            ("10.1.0.2", Some(Health::Down)),
            ("10.1.0.3", Some(Health::Up)),
        ],
        false,
    );
    v.reals[0].inhibit = Some(true);
    v.reals[1].inhibit = Some(false);
    let table = live(vec![
        dest("10.1.0.1", 5),
        dest("10.1.0.2", 5),
        dest("10.1.0.3", 5),
    ]);
    let p = plan(&desired(v.clone()), &table);
    assert_eq!(
        p.ops,
        vec![
            Op::DelDest(vkey(), dest("10.1.0.2", 5).key()),
            Op::EditDest(vkey(), dest("10.1.0.1", 0)),
        ]
    );
    v.quiescent = true;
    v.reals[0].inhibit = Some(false);
    v.reals[1].inhibit = Some(true);
    let p = plan(&desired(v), &table);
    assert_eq!(
        p.ops,
        vec![
            Op::DelDest(vkey(), dest("10.1.0.1", 5).key()),
            Op::EditDest(vkey(), dest("10.1.0.2", 0)),
        ]
    );
}

#[test]
fn quiescent_down_real_missing_from_the_table_needs_readdquiescent() {
    let v = virtual_with(&[("10.1.0.1", Some(Health::Down))], true);
    let mut d = desired(v);
    let p = plan(&d, &live(vec![dest("127.0.0.1", 1)]));
    assert!(p.ops.is_empty(), "{:?}", p.ops);
    d.readd_quiescent = true;
    let p = plan(&d, &live(vec![dest("127.0.0.1", 1)]));
    assert_eq!(p.ops, vec![Op::AddDest(vkey(), dest("10.1.0.1", 0))]);
}

#[test]
fn t22_drift_is_repaired_and_foreign_services_are_untouched() {
    let v = virtual_with(&[("10.1.0.1", Some(Health::Up))], false);
    let mut table = live(vec![dest("10.9.9.9", 1)]);
    table[0].service.scheduler = crate::ipvs::model::Scheduler::new("rr");
    let foreign = ServiceKey::Fwmark {
        af: crate::ipvs::model::AddressFamily::Inet,
        mark: 7,
    };
    table.push(ServiceEntry {
        service: Service::new(foreign),
        dests: vec![dest("10.8.8.8", 1)],
    });
    let p = plan(&desired(v), &table);
    assert_eq!(
        p.ops,
        vec![
            Op::EditService(Service::new(vkey())),
            Op::DelDest(vkey(), dest("10.9.9.9", 1).key()),
            Op::AddDest(vkey(), dest("10.1.0.1", 5)),
        ]
    );
    assert_eq!(
        p.messages[1],
        "Purged real server (start): 10.9.9.9:80 (10.0.0.1:80)"
    );
}

#[test]
fn unknown_reals_keep_their_kernel_entry_and_removed_services_go() {
    let v = virtual_with(&[("10.1.0.1", None)], false);
    let mut d = desired(v);
    let old = ServiceKey::Fwmark {
        af: crate::ipvs::model::AddressFamily::Inet,
        mark: 7,
    };
    d.remove.push((old, "7".into()));
    let mut table = live(vec![dest("10.1.0.1", 3)]);
    table.push(ServiceEntry {
        service: Service::new(old),
        dests: vec![],
    });
    assert_eq!(plan(&d, &table).ops, vec![Op::DelService(old)]);
}

/// Every line the planner writes, byte for byte as ldirectord 4.12 writes it in the same
/// situation: `_restore_service` ("Added"/"Restored" + `(Weight set to N)`),
/// `_remove_service` ("Quiescent"/"Readd Quiescent" + `(Weight set to 0)`, "Deleted"),
/// `purge_untracked_service` and `purge_virtual`, `ld_start` ("Added/Changed virtual server").
#[test]
fn log_lines_are_ldirectords() {
    let up = virtual_with(&[("10.1.0.1", Some(Health::Up))], false);
    let p = plan(&desired(up.clone()), &[]);
    assert_eq!(
        p.messages,
        [
            "Added virtual server: 10.0.0.1:80",
            "Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 5)",
        ]
    );
    let p = plan(&desired(up.clone()), &live(vec![dest("10.1.0.1", 2)]));
    assert_eq!(
        p.messages,
        ["Restored real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 5)"]
    );
    let down = virtual_with(&[("10.1.0.1", Some(Health::Down))], false);
    let p = plan(&desired(down), &live(vec![dest("10.1.0.1", 5)]));
    assert_eq!(
        p.messages,
        [
            "Deleted real server: 10.1.0.1:80 (10.0.0.1:80)",
            "Added fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)",
        ]
    );
    let p = plan(&desired(up), &live(vec![dest("127.0.0.1", 1)]));
    assert_eq!(
        p.messages,
        [
            "Deleted fallback server: 127.0.0.1:80 (10.0.0.1:80)",
            "Added real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 5)",
        ]
    );
    let quiet = virtual_with(&[("10.1.0.1", Some(Health::Down))], true);
    let p = plan(&desired(quiet.clone()), &live(vec![dest("10.1.0.1", 5)]));
    assert_eq!(
        p.messages,
        [
            "Quiescent real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 0)",
            "Added fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)",
        ]
    );
    let mut readd = desired(quiet);
    readd.readd_quiescent = true;
    let p = plan(&readd, &live(vec![dest("127.0.0.1", 1)]));
    assert_eq!(
        p.messages,
        ["Readd Quiescent real server: 10.1.0.1:80 (10.0.0.1:80) (Weight set to 0)"]
    );
}

/// A fallback whose kernel entry drifted is "Restored fallback server", not "real".
#[test]
fn a_drifted_fallback_is_restored_as_a_fallback() {
    let down = virtual_with(&[("10.1.0.1", Some(Health::Down))], false);
    let p = plan(&desired(down), &live(vec![dest("127.0.0.1", 7)]));
    assert_eq!(
        p.messages,
        ["Restored fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)"]
    );
}

/// ldirectord names a real by its configured port; a DR real configured as `:8080` under
/// a port-80 virtual sits in the kernel as `:80`, which `_remove_service` reports as
/// `<kernel> mapped from <configured>`.
#[test]
fn a_port_mapped_real_is_named_as_configured() {
    let mut v = virtual_with(&[("10.1.0.1", Some(Health::Up))], true);
    v.reals[0].name.port = 8080;
    let p = plan(&desired(v.clone()), &live(vec![]));
    assert_eq!(
        p.messages,
        ["Added real server: 10.1.0.1:8080 (10.0.0.1:80) (Weight set to 5)"]
    );
    v.reals[0].health = Some(Health::Down);
    let p = plan(&desired(v.clone()), &live(vec![dest("10.1.0.1", 5)]));
    assert_eq!(
        p.messages[0],
        "Quiescent real server: 10.1.0.1:80 mapped from 10.1.0.1:8080 (10.0.0.1:80) (Weight set to 0)"
    );
    v.quiescent = false;
    let p = plan(&desired(v), &live(vec![dest("10.1.0.1", 5)]));
    assert_eq!(
        p.messages[0],
        "Deleted real server: 10.1.0.1:80 mapped from 10.1.0.1:8080 (10.0.0.1:80)"
    );
}

/// `reread_config` runs `ld_start` again, which purges the virtuals of the old
/// configuration with the tag `start`; `ld_stop` uses `stop`.
#[test]
fn virtuals_dropped_by_a_reload_are_purged_with_the_start_tag() {
    let mut d = Desired::default();
    d.remove.push((vkey(), "10.0.0.1:80".into()));
    let table = live(vec![]);
    assert_eq!(
        plan(&d, &table).messages,
        ["Purged virtual server (start): 10.0.0.1:80"]
    );
    d.phase = Phase::Stop;
    assert_eq!(
        plan(&d, &table).messages,
        ["Purged virtual server (stop): 10.0.0.1:80"]
    );
}
