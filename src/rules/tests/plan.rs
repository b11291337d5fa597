use super::load_text;
use crate::ipvs::model::ServiceEntry;
use crate::rules::plan::{Plan, PlanOptions, Step, plan};
use crate::rules::render;

pub fn entries(text: &str) -> Vec<ServiceEntry> {
    let loaded = load_text(text);
    assert!(loaded.findings.is_empty(), "{:?}", loaded.findings);
    loaded.rules.entries()
}

pub const LIVE: &str = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.1.1:80 -g -w 1
-a -t 10.0.0.1:80 -r 192.168.1.2:80 -g -w 1
-A -t 10.0.0.2:443 -s wlc -p 300
-a -t 10.0.0.2:443 -r 192.168.2.1:443 -m -w 5
-A -u 10.0.0.3:53 -s rr
-a -u 10.0.0.3:53 -r 192.168.3.1:53 -m -w 1
";

pub const WANT: &str = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.1.1:80 -g -w 1
-a -t 10.0.0.1:80 -r 192.168.1.3:80 -g -w 1
-A -t 10.0.0.2:443 -s sh -b sh-port -p 600
-a -t 10.0.0.2:443 -r 192.168.2.1:443 -m -w 7 -x 100 -y 10
-A -f 9 -s wlc
-a -f 9 -r 192.168.9.1:0 -m -w 1
";

fn plan_of(want: &str, live: &str, opts: PlanOptions) -> Plan {
    plan(&entries(want), &entries(live), opts)
}

#[test]
fn identical_tables_need_no_writes() {
    let p = plan_of(
        LIVE,
        LIVE,
        PlanOptions {
            prune: true,
            drain: true,
        },
    );
    assert!(p.is_empty());
    assert_eq!(
        render::human(&p, "rules.txt"),
        "No changes: the live table matches rules.txt.\n"
    );
}

#[test]
fn counters_and_dest_order_are_not_drift() {
    let mut live = entries(LIVE);
    live[0].service.stats.conns = 99;
    live[0].service.flags.0 |= 0x2;
    live[0].dests.reverse();
    live[0].dests[0].active_conns = 3;
    assert!(plan(&entries(LIVE), &live, PlanOptions::default()).is_empty());
}

#[test]
fn edits_in_place_and_safe_order() {
    let p = plan_of(WANT, LIVE, PlanOptions::default());
    insta::assert_snapshot!(render::human(&p, "rules.txt"));
    let phases: Vec<_> = p.steps.iter().map(Step::phase).collect();
    let mut sorted = phases.clone();
    sorted.sort();
    assert_eq!(phases, sorted, "adds before deletes");
    assert!(
        p.steps.iter().all(|s| !matches!(s, Step::DelService(_))),
        "no prune by default"
    );
}

#[test]
fn prune_and_drain() {
    let p = plan_of(
        WANT,
        LIVE,
        PlanOptions {
            prune: true,
            drain: true,
        },
    );
    insta::assert_snapshot!(render::human(&p, "rules.txt"));
    insta::assert_json_snapshot!(render::json_value(&p));
}

#[test]
fn thresholds_dropped_by_ipvsadm_save_get_a_note() {
    let live = "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m -w 1 -x 50 -y 5\n";
    let saved = "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m -w 1\n";
    let p = plan_of(saved, live, PlanOptions::default());
    assert_eq!(p.steps.len(), 1);
    assert_eq!(render::notes(&p, true).len(), 1);
    assert!(render::notes(&p, false).is_empty());
}
