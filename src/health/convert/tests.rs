//! Both directions on realistic files: the output is read back by the other reader without
//! an error, says what the source says where it can, and names every loss.

use super::*;
use crate::health::config::{CheckService, CheckType, Forward, StaticEnv, parse_config};
use crate::health::keepalived::{self, CheckerKind, MemEnv, Options};
use crate::ipvs::model::ServiceKey;

const KEEPALIVED: &str = include_str!("../../../tests/fixtures/keepalived/good/realistic.conf");
const LDIRECTORD: &str = include_str!("../../../tests/fixtures/convert/site.cf");

fn keepalived_config(text: &str) -> keepalived::KeepalivedConfig {
    let env = MemEnv::default()
        .script("/bin/true")
        .script("/usr/local/lib/check-fwm");
    let outcome = keepalived::read("k.conf", text, &env, &Options::default());
    let fatal: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.is_fatal())
        .collect();
    assert!(fatal.is_empty(), "{fatal:#?}\n{text}");
    outcome.config.unwrap()
}

fn ldirectord_config(text: &str) -> crate::health::config::Config {
    let env = StaticEnv::with_common_services();
    match parse_config("l.cf", text, &env) {
        Ok((config, _)) => config,
        Err(e) => panic!("{e:#?}\n{text}"),
    }
}

fn lost_text(c: &Conversion) -> String {
    c.lost
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<Vec<_>>()
        .concat()
}

#[test]
fn keepalived_to_ldirectord_reads_back_and_names_what_is_lost() {
    let from = keepalived_config(KEEPALIVED);
    let out = keepalived_to_ldirectord("keepalived.conf", &from);
    insta::assert_snapshot!("keepalived_to_ldirectord", out.text);
    insta::assert_snapshot!("keepalived_to_ldirectord_lost", lost_text(&out));
    let back = ldirectord_config(&out.text);
    // The group's three addresses and its mark become four virtuals.
    let services: usize = from
        .virtual_servers
        .iter()
        .map(|v| {
            v.target
                .service_keys(
                    v.protocol.unwrap_or(crate::ipvs::model::Protocol::Tcp),
                    v.family,
                )
                .len()
        })
        .sum();
    assert_eq!(back.virtuals.len(), services);
    let shop = &back.virtuals[0];
    assert_eq!(shop.label(), "203.0.113.10:80");
    assert_eq!(shop.check.check_type, CheckType::Negotiate);
    assert_eq!(shop.check.service, CheckService::Http);
    assert_eq!(shop.check.request, "/healthz");
    assert_eq!(shop.check.negotiate_timeout, 3);
    assert_eq!(shop.failure_count, 3, "retry 2 = three failures in a row");
    assert!(shop.quiescent, "inhibit_on_failure");
    assert_eq!(shop.persistent, Some(600));
    assert_eq!(shop.reals.len(), 2);
    assert_eq!(shop.reals[0].weight, 3);
    let sorry = shop.fallback.as_ref().unwrap();
    assert_eq!(
        (sorry.addr.to_string(), sorry.port),
        ("10.20.0.250".into(), 80)
    );
    assert_eq!(
        shop.check_interval, 5,
        "fork=yes makes the block's interval count"
    );
    let mark = back
        .virtuals
        .iter()
        .find(|v| matches!(v.key, ServiceKey::Fwmark { mark: 20, .. }))
        .unwrap();
    assert_eq!(mark.check.check_type, CheckType::External);
    assert_eq!(mark.check.check_command, "/bin/true");
    // Every loss names its source line.
    assert!(out.lost.iter().all(|l| l.file == "keepalived.conf"));
    for needle in [
        "2 url blocks",
        "FILE_CHECK",
        "quorum",
        "omega",
        "notify_up",
        "misc_dynamic",
        "UDP_CHECK",
        "lvs_flush",
        "virtual_server_group STATIC",
    ] {
        assert!(
            out.lost.iter().any(|l| l.what.contains(needle)),
            "{needle} missing from\n{}",
            lost_text(&out)
        );
    }
    // Each note is also a comment in the file.
    for l in &out.lost {
        assert!(
            out.text
                .contains(&format!("# not carried over: {}\n", l.what))
        );
    }
}

#[test]
fn ldirectord_to_keepalived_reads_back_and_names_what_is_lost() {
    let from = ldirectord_config(LDIRECTORD);
    let out = ldirectord_to_keepalived("ldirectord.cf", &from);
    insta::assert_snapshot!("ldirectord_to_keepalived", out.text);
    insta::assert_snapshot!("ldirectord_to_keepalived_lost", lost_text(&out));
    let back = keepalived_config(&out.text);
    assert_eq!(back.virtual_servers.len(), from.virtuals.len());
    let shop = &back.virtual_servers[0];
    assert!(shop.alpha, "a real enters only after a passing check");
    assert_eq!(shop.real_servers.len(), 4, "the range is expanded");
    let real = &shop.real_servers[2];
    // Direct routing: the kernel entry has the virtual's port, the check the real's.
    assert_eq!((real.addr.to_string(), real.port), ("10.1.0.13".into(), 80));
    let connection = real.checkers[0].connection.as_ref().unwrap();
    assert_eq!(connection.target.port(), 8080);
    assert_eq!((real.l_threshold, real.u_threshold), (5, 500));
    assert!(real.inhibit_on_failure, "quiescent=yes");
    let CheckerKind::Http(http) = &real.checkers[0].kind else {
        panic!("{:?}", real.checkers[0].kind)
    };
    assert_eq!(http.urls[0].path, "/status", "the real's own request");
    let timing = real.checkers[0].timing.unwrap();
    assert_eq!(timing.delay_loop.as_secs(), 5);
    assert_eq!(timing.retry, 0, "failurecount=1");
    let mail = &back.virtual_servers[1];
    let timing = mail.real_servers[0].checkers[0].timing.unwrap();
    assert_eq!((timing.retry, timing.delay_before_retry.as_secs()), (2, 5));
    assert!(matches!(
        mail.real_servers[0].checkers[0].kind,
        CheckerKind::Tcp
    ));
    let fwm = &back.virtual_servers[3];
    let CheckerKind::Misc(misc) = &fwm.real_servers[0].checkers[0].kind else {
        panic!()
    };
    assert_eq!(
        misc.script.argv,
        ["/usr/local/lib/check-fwm", "100", "0", "10.1.3.1", "443"]
    );
    assert!(
        out.lost
            .iter()
            .any(|l| l.what.contains("fallbackcommand") && l.line == 44)
    );
}

#[test]
fn round_trip_keeps_what_both_formats_say() {
    let first = ldirectord_config(LDIRECTORD);
    let kept = keepalived_config(&ldirectord_to_keepalived("l.cf", &first).text);
    let again = ldirectord_config(&keepalived_to_ldirectord("k.conf", &kept).text);
    assert_eq!(first.virtuals.len(), again.virtuals.len());
    for (a, b) in first.virtuals.iter().zip(&again.virtuals) {
        assert_eq!(a.key, b.key);
        assert_eq!(a.scheduler, b.scheduler);
        assert_eq!(a.persistent, b.persistent);
        assert_eq!(a.quiescent, b.quiescent);
        assert_eq!(a.failure_count, b.failure_count);
        assert_eq!(a.check.check_type, b.check.check_type, "{}", a.label());
        // The kernel entries and where the checks connect.
        let reals = |v: &crate::health::config::VirtualService| -> Vec<_> {
            v.reals
                .iter()
                .map(|r| (crate::health::desired::desired_dest(v, r), r.check_port))
                .collect()
        };
        assert_eq!(reals(a), reals(b), "{}", a.label());
    }
    assert_eq!(again.virtuals[2].reals[0].forward, Forward::Ipip);
}
