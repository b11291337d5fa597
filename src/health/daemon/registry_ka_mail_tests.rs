//! keepalived's `smtp_alert` mails decided by the registry (registry_ka_mail.rs): a
//! keepalived.conf mapped by `to_daemon`, check reports fed one by one, and the mails
//! queued for the mail task read back in keepalived's order (check/ipwrapper.c's
//! `do_vs_notifies` from `update_quorum_state` first, then the checker's own mail).

use super::*;
use crate::health::keepalived::tests::clean;
use crate::health::keepalived::to_daemon;
use crate::health::state::keepalived_epilog::{Check, Checker, Settings};

const TEXT: &str = "\
global_defs {
    router_id lvs1
    notification_email {
        ops@example.org
    }
    smtp_server 192.0.2.25
    GLOBAL
}
virtual_server 192.0.2.10 80 {
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    quorum 5
    smtp_alert
    real_server 10.0.0.1 81 {
        weight 2
        TCP_CHECK {
            retry 0
        }
    }
    real_server 10.0.0.1 82 {
        weight 3
        TCP_CHECK {
            retry 0
        }
    }
}
";

fn registry(global: &str) -> Registry {
    let config = to_daemon(&clean(&TEXT.replace("GLOBAL", global))).expect("mapped");
    Registry::build(&config, None)
}

/// A report of real `i` as its keepalived checker's task would send it.
fn record(reg: &mut Registry, checkers: &mut [Checker], i: usize, up: bool) {
    let verdict = checkers[i]
        .observe(if up { Check::Pass } else { Check::Fail })
        .verdict;
    let r = Report {
        verdict,
        ..super::quorum_tests::report(reg, i, up)
    };
    reg.record(&r);
}

fn checkers(reg: &Registry) -> Vec<Checker> {
    let vs = &reg.virtuals[0];
    let s = Settings::of_virtual(&vs.v).expect("a TCP_CHECK");
    vs.reals.iter().map(|_| Checker::new(s)).collect()
}

fn taken(reg: &mut Registry) -> Vec<String> {
    std::mem::take(&mut reg.mails)
        .into_iter()
        .map(|m| format!("{} | {}", m.subject, m.body))
        .collect()
}

#[test]
fn a_real_failing_and_back_mails_its_checker_and_the_quorum_as_keepalived() {
    let mut reg = registry("");
    assert_eq!(
        taken(&mut reg),
        vec!["Virtualserver [192.0.2.10]:tcp:80 - UP | => Starting with quorum up 5+0=5 <= 5 <="]
    );
    let mut ks = checkers(&reg);
    record(&mut reg, &mut ks, 1, true);
    assert!(
        taken(&mut reg).is_empty(),
        "a pass of an up checker mails nothing"
    );
    record(&mut reg, &mut ks, 1, false);
    assert_eq!(
        taken(&mut reg),
        vec![
            "Virtualserver [192.0.2.10]:tcp:80 - DOWN | => Lost quorum 5+0=5 <= 2 <=",
            "Realserver [10.0.0.1]:tcp:82 of virtual server [192.0.2.10]:tcp:80 - DOWN | => TCP CHECK failed on service <=",
        ]
    );
    record(&mut reg, &mut ks, 1, false);
    assert!(
        taken(&mut reg).is_empty(),
        "a down checker failing again mails nothing"
    );
    record(&mut reg, &mut ks, 1, true);
    assert_eq!(
        taken(&mut reg),
        vec![
            "Virtualserver [192.0.2.10]:tcp:80 - UP | => Gained quorum 5+0=5 <= 5 <=",
            "Realserver [10.0.0.1]:tcp:82 of virtual server [192.0.2.10]:tcp:80 - UP | => TCP CHECK succeed on service <=",
        ]
    );
}

#[test]
fn a_real_s_smtp_alert_off_leaves_only_the_quorum_mails() {
    let text = TEXT.replace("GLOBAL", "").replace(
        "        weight 3\n",
        "        weight 3\n        smtp_alert off\n",
    );
    let config = to_daemon(&clean(&text)).expect("mapped");
    let mut reg = Registry::build(&config, None);
    taken(&mut reg);
    let mut ks = checkers(&reg);
    record(&mut reg, &mut ks, 1, false);
    assert_eq!(
        taken(&mut reg),
        vec!["Virtualserver [192.0.2.10]:tcp:80 - DOWN | => Lost quorum 5+0=5 <= 2 <="]
    );
}

#[test]
fn no_checker_emails_mails_a_checker_s_change_only_when_its_real_changes_too() {
    for (no_checker_emails, want) in [(false, true), (true, false)] {
        let global = if no_checker_emails {
            "no_checker_emails"
        } else {
            ""
        };
        let reg = registry(global);
        let vs = &reg.virtuals[0];
        let real = &vs.reals[0].real;
        // A checker fails while the real was already down (another checker failed
        // first): the real stays as it was.
        let unchanged = vs.checker_mail(real, 0, (true, false), (false, false));
        assert_eq!(unchanged.is_some(), want, "{global}");
        // The real goes down with its checker: mailed either way.
        let changed = vs.checker_mail(real, 0, (true, false), (true, false));
        assert!(changed.is_some(), "{global}");
    }
}

#[test]
fn a_reload_removing_a_live_real_mails_removing_then_the_lost_quorum() {
    let mut old = registry("");
    taken(&mut old);
    let without = TEXT.replace("GLOBAL", "").replace(
        "    real_server 10.0.0.1 82 {\n        weight 3\n        TCP_CHECK {\n            retry 0\n        }\n    }\n",
        "",
    );
    // The quorum is lowered to the weight left (2) by the reader, with an error.
    let config = to_daemon(
        &crate::health::keepalived::tests::outcome(&without)
            .config
            .unwrap(),
    )
    .expect("mapped");
    let mut new = Registry::build(&config, Some(&old));
    let mails = taken(&mut new);
    assert_eq!(
        mails.first().map(String::as_str),
        Some(
            "Realserver [10.0.0.1]:tcp:82 of virtual server [192.0.2.10]:tcp:80 - DOWN | => Removing <="
        ),
        "{mails:?}"
    );
    assert_eq!(
        mails.get(1).map(String::as_str),
        Some("Virtualserver [192.0.2.10]:tcp:80 - DOWN | => Lost quorum 5+0=5 <= 2 <="),
        "{mails:?}"
    );
}
