//! keepalived's quorum, hysteresis and sorry server through the registry and the
//! reconciler: a keepalived.conf mapped by `to_daemon`, check reports fed one by one, and
//! each cycle applied to the fake backend and read back. The expected tables follow
//! keepalived 2.2.7's `update_quorum_state` and `perform_quorum_state` (check/ipwrapper.c):
//! while the sorry server is in, no real is in the pool, live or not.

use std::time::{Duration, SystemTime};

use super::*;
use crate::health::check::Outcome;
use crate::health::daemon::kernel::{SyncReport, sync_once};
use crate::health::keepalived::tests::clean;
use crate::health::keepalived::to_daemon;
use crate::health::state::keepalived_epilog::{Check, Checker, Settings, Verdict};
use crate::ipvs::backend::Backend;
use crate::ipvs::fake::FakeBackend;

fn registry(text: &str) -> Registry {
    let text = format!("global_defs {{\n    enable_script_security\n}}\n{text}");
    let config = to_daemon(&clean(&text)).expect("mapped");
    Registry::build(&config, None)
}

/// `quorum`/`hysteresis`/sorry lines of the virtual, reals of weight 2 (port 81) and 3
/// (port 82), NAT, with `real_options` on each.
fn text(virtual_options: &str, real_options: &str) -> String {
    format!(
        "virtual_server 192.0.2.10 80 {{
    lb_algo wrr
    lb_kind NAT
    protocol TCP
{virtual_options}    real_server 10.0.0.1 81 {{
        weight 2
{real_options}        TCP_CHECK {{
        }}
    }}
    real_server 10.0.0.1 82 {{
        weight 3
{real_options}        TCP_CHECK {{
        }}
    }}
}}
"
    )
}

struct Table {
    fake: FakeBackend,
}

impl Table {
    fn new() -> Self {
        Self {
            fake: FakeBackend::new(),
        }
    }

    /// One reconciler cycle; returns its log lines and the table as `port wWEIGHT`.
    fn sync(&mut self, reg: &Registry) -> (Vec<String>, Vec<String>) {
        let SyncReport { messages, .. } = sync_once(&mut self.fake, &reg.desired(Vec::new()));
        let mut table: Vec<String> = self
            .fake
            .entries()
            .unwrap()
            .iter()
            .flat_map(|e| e.dests.iter().map(|d| format!("{} w{}", d.port, d.weight)))
            .collect();
        table.sort();
        (messages, table)
    }
}

/// Real `i`'s check result (up, or refused) without a verdict; the registry's test
/// modules add the verdict their checkers give.
pub(super) fn report(reg: &Registry, i: usize, up: bool) -> Report {
    let vs = &reg.virtuals[0];
    Report {
        id: (vs.v.key, vs.reals[i].dest.key()),
        checker: 0,
        weight: None,
        generation: vs.reals[i].generation,
        outcome: if up {
            Outcome::Up
        } else {
            Outcome::Down("refused".into())
        },
        maintenance: false,
        at: SystemTime::UNIX_EPOCH,
        duration: Duration::from_millis(1),
        verdict: None,
    }
}

/// The reals' checkers (crate::health::state::keepalived_epilog), run as their tasks
/// run them: each report carries the verdict its task would send.
struct Checks(Vec<Checker>);

impl Checks {
    fn of(reg: &Registry) -> Self {
        let vs = &reg.virtuals[0];
        let s = Settings::of_virtual(&vs.v).expect("a TCP_CHECK");
        Self(vs.reals.iter().map(|_| Checker::new(s)).collect())
    }

    fn report(&mut self, reg: &Registry, i: usize, up: bool) -> Report {
        let mut r = report(reg, i, up);
        r.verdict = self.0[i]
            .observe(if up { Check::Pass } else { Check::Fail })
            .verdict;
        r
    }
}

/// Failed checks until the checker takes the real down (retry 1 by default: one from the
/// start, two after a pass), and the quorum lines they bring.
fn fail(reg: &mut Registry, ks: &mut Checks, i: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..2 {
        let r = ks.report(reg, i, false);
        lines.extend(reg.record(&r).1);
        if r.verdict == Some(Verdict::Down) {
            break;
        }
    }
    lines.retain(|l| !l.starts_with("Soft failure"));
    lines
}

fn pass(reg: &mut Registry, ks: &mut Checks, i: usize) -> Vec<String> {
    let r = ks.report(reg, i, true);
    reg.record(&r).1
}

#[test]
fn the_sorry_server_replaces_every_real_while_the_weights_are_short_of_the_quorum() {
    let mut reg = registry(&text(
        "    quorum 4\n    hysteresis 1\n    sorry_server 10.0.0.9 8080\n",
        "",
    ));
    let mut ks = Checks::of(&reg);
    let mut t = Table::new();
    // Without alpha both reals are live at start: 5 >= 4 + 1.
    assert_eq!(
        reg.quorum_lines,
        ["Gained quorum 4+1=5 <= 5 for VS 192.0.2.10:80"]
    );
    assert_eq!(t.sync(&reg).1, ["81 w2", "82 w3"]);
    // 3 is not below 4 - 1: the quorum holds, the failed real goes.
    assert!(fail(&mut reg, &mut ks, 0).is_empty());
    assert_eq!(t.sync(&reg).1, ["82 w3"]);
    // 0: lost; the sorry server goes in.
    assert_eq!(
        fail(&mut reg, &mut ks, 1),
        ["Lost quorum 4-1=3 > 0 for VS 192.0.2.10:80"]
    );
    let (lines, table) = t.sync(&reg);
    assert_eq!(table, ["8080 w1"]);
    assert!(
        lines.contains(
            &"Added fallback server: 10.0.0.9:8080 (192.0.2.10:80) (Weight set to 1)".to_owned()
        ),
        "{lines:?}"
    );
    // 2 < 4 + 1: a live real stays out while the quorum is down.
    assert!(pass(&mut reg, &mut ks, 0).is_empty());
    assert_eq!(t.sync(&reg).1, ["8080 w1"]);
    // 5: gained; the sorry server goes out and every live real comes in.
    assert_eq!(
        pass(&mut reg, &mut ks, 1),
        ["Gained quorum 4+1=5 <= 5 for VS 192.0.2.10:80"]
    );
    assert_eq!(t.sync(&reg).1, ["81 w2", "82 w3"]);
}

#[test]
fn a_live_real_the_sorry_server_pushed_out_stays_out_at_weight_0_with_inhibit() {
    let mut reg = registry(&text(
        "    quorum 5\n    sorry_server 10.0.0.9 8080\n",
        "        inhibit_on_failure\n",
    ));
    let mut ks = Checks::of(&reg);
    let mut t = Table::new();
    assert_eq!(t.sync(&reg).1, ["81 w2", "82 w3"]);
    assert_eq!(
        fail(&mut reg, &mut ks, 1),
        ["Lost quorum 5-0=5 > 2 for VS 192.0.2.10:80"]
    );
    // keepalived's removal of an inhibited real sets its weight to 0.
    assert_eq!(t.sync(&reg).1, ["8080 w1", "81 w0", "82 w0"]);
    pass(&mut reg, &mut ks, 1);
    assert_eq!(t.sync(&reg).1, ["81 w2", "82 w3"]);
}

#[test]
fn with_alpha_the_start_is_down_and_the_sorry_server_is_in_from_the_first_cycle() {
    let mut reg = registry(&text(
        "    quorum 3\n    sorry_server 10.0.0.9 8080\n",
        "        alpha\n",
    ));
    let mut ks = Checks::of(&reg);
    let mut t = Table::new();
    assert_eq!(
        reg.quorum_lines,
        ["Starting with quorum down 3-0=3 > 0 for VS 192.0.2.10:80"]
    );
    assert_eq!(t.sync(&reg).1, ["8080 w1"]);
    // 2 < 3.
    assert!(pass(&mut reg, &mut ks, 0).is_empty());
    assert_eq!(t.sync(&reg).1, ["8080 w1"]);
    assert_eq!(
        pass(&mut reg, &mut ks, 1),
        ["Gained quorum 3+0=3 <= 5 for VS 192.0.2.10:80"]
    );
    assert_eq!(t.sync(&reg).1, ["81 w2", "82 w3"]);
}

#[test]
fn a_live_real_of_weight_0_counts_nothing_so_the_sorry_server_serves_beside_it() {
    let mut reg =
        registry(&text("    sorry_server 10.0.0.9 8080\n", "").replace("weight 2", "weight 0"));
    let mut ks = Checks::of(&reg);
    let mut t = Table::new();
    assert_eq!(t.sync(&reg).1, ["81 w0", "82 w3"]);
    fail(&mut reg, &mut ks, 1);
    // The weight-0 real is live, but the sum is 0: ldirectord's rule ("no real is up")
    // would keep it and leave the fallback out; keepalived's puts the sorry server in.
    assert_eq!(t.sync(&reg).1, ["8080 w1"]);
}

#[test]
fn without_a_sorry_server_the_quorum_only_logs() {
    let mut reg = registry(&text("    quorum 5\n", ""));
    let mut ks = Checks::of(&reg);
    let mut t = Table::new();
    assert_eq!(
        reg.quorum_lines,
        ["Gained quorum 5+0=5 <= 5 for VS 192.0.2.10:80"]
    );
    assert_eq!(
        fail(&mut reg, &mut ks, 0),
        ["Lost quorum 5-0=5 > 3 for VS 192.0.2.10:80"]
    );
    assert_eq!(t.sync(&reg).1, ["82 w3"]);
}

#[test]
fn a_reload_keeps_the_quorum_state() {
    let text = text("    quorum 5\n    sorry_server 10.0.0.9 8080\n", "");
    let mut reg = registry(&text);
    let mut ks = Checks::of(&reg);
    fail(&mut reg, &mut ks, 0);
    let config = to_daemon(&clean(&text)).unwrap();
    let next = Registry::build(&config, Some(&reg));
    // Down with the sorry server in already: nothing to start again, nothing logged.
    assert!(next.quorum_lines.is_empty());
    assert_eq!(Table::new().sync(&next).1, ["8080 w1"]);
}

#[test]
fn sorry_server_inhibit_keeps_the_sorry_server_at_weight_0_while_the_quorum_is_up() {
    let mut reg = registry(&text(
        "    quorum 5\n    sorry_server 10.0.0.9 8080\n    sorry_server_inhibit\n",
        "",
    ));
    let mut ks = Checks::of(&reg);
    let mut t = Table::new();
    // init_service_vs adds it at weight 0 once the quorum is gained at start.
    assert_eq!(t.sync(&reg).1, ["8080 w0", "81 w2", "82 w3"]);
    fail(&mut reg, &mut ks, 1);
    let (lines, table) = t.sync(&reg);
    assert_eq!(table, ["8080 w1"]);
    assert!(
        lines.contains(
            &"Restored fallback server: 10.0.0.9:8080 (192.0.2.10:80) (Weight set to 1)".to_owned()
        ),
        "{lines:?}"
    );
    pass(&mut reg, &mut ks, 1);
    let (lines, table) = t.sync(&reg);
    assert_eq!(table, ["8080 w0", "81 w2", "82 w3"]);
    assert!(
        lines.contains(
            &"Quiescent fallback server: 10.0.0.9:8080 (192.0.2.10:80) (Weight set to 0)"
                .to_owned()
        ),
        "{lines:?}"
    );
}

#[test]
fn sorry_server_inhibit_starting_down_puts_it_in_at_weight_1() {
    let reg = registry(&text(
        "    quorum 5\n    sorry_server 10.0.0.9 8080\n    sorry_server_inhibit\n",
        "        alpha\n",
    ));
    assert_eq!(Table::new().sync(&reg).1, ["8080 w1"]);
}

/// The queued scripts as their first words, emptying the queue.
fn scripts(reg: &mut Registry) -> Vec<String> {
    std::mem::take(&mut reg.scripts)
        .into_iter()
        .map(|s| s.argv[1..].join(" "))
        .collect()
}

/// Scripts the test machine has (`keepalived::tests::env`), told apart by their words.
const SCRIPTS: &str = "    quorum 4\n    quorum_up \"/usr/local/bin/notify.sh qu\"\n    quorum_down \"/usr/local/bin/notify.sh qd\"\n    sorry_server 10.0.0.9 8080\n";
const REAL_SCRIPTS: &str = "        notify_up \"/usr/local/bin/notify.sh 'n u'\"\n        notify_down \"/usr/local/bin/notify.sh nd\"\n";

#[test]
fn scripts_run_where_keepalived_runs_them_the_real_s_before_the_quorum_s() {
    let mut reg = registry(&text(SCRIPTS, REAL_SCRIPTS));
    let mut ks = Checks::of(&reg);
    // Gained at start: quorum_up (keepalived's "Starting with quorum up" notify).
    assert_eq!(scripts(&mut reg), ["qu"]);
    // 3 < 4: the real's notify_down, then quorum_down.
    fail(&mut reg, &mut ks, 0);
    assert_eq!(scripts(&mut reg), ["nd", "qd"]);
    // Another failed check changes nothing and runs nothing.
    let r = ks.report(&reg, 0, false);
    reg.record(&r);
    assert!(scripts(&mut reg).is_empty());
    pass(&mut reg, &mut ks, 0);
    assert_eq!(scripts(&mut reg), ["n u", "qu"]);
}

#[test]
fn an_alpha_real_s_first_failed_check_runs_its_notify_down_once() {
    let mut reg = registry(&text(SCRIPTS, &format!("        alpha\n{REAL_SCRIPTS}")));
    let mut ks = Checks::of(&reg);
    // Starting with quorum down, sorry server in.
    assert_eq!(scripts(&mut reg), ["qd"]);
    let r = ks.report(&reg, 0, false);
    reg.record(&r);
    assert_eq!(scripts(&mut reg), ["nd"]);
    let r = ks.report(&reg, 0, false);
    reg.record(&r);
    assert!(scripts(&mut reg).is_empty());
    // The other real passes first: notify_up only (2... 3 < 4, the quorum stays down).
    pass(&mut reg, &mut ks, 1);
    assert_eq!(scripts(&mut reg), ["n u"]);
    pass(&mut reg, &mut ks, 0);
    assert_eq!(scripts(&mut reg), ["n u", "qu"]);
}

#[test]
fn omega_runs_notify_down_of_the_reals_in_the_pool_then_quorum_down_at_stop() {
    let mut reg = registry(&text(&format!("    omega\n{SCRIPTS}"), REAL_SCRIPTS));
    let mut ks = Checks::of(&reg);
    assert_eq!(reg.stop_scripts().len(), 3);
    let names: Vec<String> = reg
        .stop_scripts()
        .iter()
        .map(|s| s.argv[1..].join(" "))
        .collect();
    assert_eq!(names, ["nd", "nd", "qd"]);
    // With the sorry server in, the live reals are out of the pool: quorum_down only.
    fail(&mut reg, &mut ks, 1);
    let names: Vec<String> = reg
        .stop_scripts()
        .iter()
        .map(|s| s.argv[1..].join(" "))
        .collect();
    assert_eq!(names, ["qd"]);
    // Without omega nothing runs at stop.
    let reg = registry(&text(SCRIPTS, REAL_SCRIPTS));
    assert!(reg.stop_scripts().is_empty());
    // lvs_flush_onstop VS deletes each service whole: quorum_down only.
    let config = to_daemon(&clean(&format!(
        "global_defs {{\n    enable_script_security\n    lvs_flush_onstop VS\n}}\n{}",
        text(&format!("    omega\n{SCRIPTS}"), REAL_SCRIPTS)
    )))
    .unwrap();
    let reg = Registry::build(&config, None);
    let names: Vec<String> = reg
        .stop_scripts()
        .iter()
        .map(|s| s.argv[1..].join(" "))
        .collect();
    assert_eq!(names, ["qd"]);
}

#[test]
fn a_reload_runs_notify_down_of_a_live_real_it_removes_and_quorum_down_when_short() {
    let full = text(SCRIPTS, REAL_SCRIPTS);
    let mut reg = registry(&full);
    scripts(&mut reg);
    // The reload drops the real of weight 3: its notify_down; 2 < 4 - 0: quorum_down for
    // the old virtual. The new one has its quorum lowered to its total weight, 2, and
    // keeps the old state (up), which 2 holds: nothing more.
    let start = full.find("    real_server 10.0.0.1 82").unwrap();
    let end = full[start..].find("\n    }\n").unwrap() + start + "\n    }\n".len();
    let fewer = format!("{}{}", &full[..start], &full[end..]);
    let text = format!("global_defs {{\n    enable_script_security\n}}\n{fewer}");
    let read = crate::health::keepalived::tests::outcome(&text);
    let config = to_daemon(&read.config.unwrap()).unwrap();
    let mut next = Registry::build(&config, Some(&reg));
    assert_eq!(scripts(&mut next), ["nd", "qd"]);
    assert!(next.quorum_lines.is_empty());
    // A reload that keeps everything runs nothing.
    let config = to_daemon(&clean(&format!(
        "global_defs {{\n    enable_script_security\n}}\n{full}"
    )))
    .unwrap();
    let mut same = Registry::build(&config, Some(&reg));
    assert!(scripts(&mut same).is_empty());
}
