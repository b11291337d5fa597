use super::{findings, load_text};
use crate::ipvs::model::{ForwardMethod, ServiceKey};
use crate::schema::to_table;

const GOOD: &str = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3
-a -t 10.0.0.1:80 -r 192.168.1.2:80 -g -w 1
-A -f 7 -6 -s sh -b sh-port
-a -f 7 -6 -r [2001:db8::5]:0 -m -w 2
";

#[test]
fn a_saved_table_loads_clean() {
    let loaded = load_text(GOOD);
    assert!(loaded.findings.is_empty(), "{:?}", loaded.findings);
    assert_eq!(findings(GOOD), Vec::<String>::new());
    let rules = loaded.rules;
    assert_eq!(rules.services.len(), 2);
    assert_eq!(rules.dest_count(), 3);
    let web = &rules.services[0];
    assert_eq!(web.service.scheduler.as_str(), "rr");
    assert_eq!(web.dests[0].dest.fwd, ForwardMethod::Masq);
    assert_eq!(web.dests[0].dest.weight, 3);
    assert_eq!(web.dests[1].pos.line, 3);
    assert!(matches!(
        rules.services[1].key(),
        ServiceKey::Fwmark { mark: 7, .. }
    ));
}

#[test]
fn json_and_restore_formats_give_the_same_table() {
    let from_lines = load_text(GOOD).rules.entries();
    let json = serde_json::to_string_pretty(&to_table(&from_lines)).unwrap();
    let loaded = load_text(&json);
    assert!(loaded.findings.is_empty(), "{:?}", loaded.findings);
    assert_eq!(loaded.rules.entries(), from_lines);
    let fwmark_line = json
        .lines()
        .position(|l| l.contains("\"protocol\": \"fwmark\""))
        .unwrap();
    assert_eq!(loaded.rules.services[1].pos.line, fwmark_line);
}

#[test]
fn syntax_errors_name_the_line_column_and_token() {
    let text = "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.1 -w x\n";
    assert_eq!(
        findings(text),
        vec!["rules.txt:2:37: illegal weight specified"]
    );
    assert_eq!(
        findings("# saved by hand\n"),
        vec![
            "rules.txt:1:1: not an ipvsadm command line: a line must start with a command \
             such as -A or -a (`#` does not start a comment for ipvsadm -R)"
        ]
    );
    assert_eq!(
        findings("-A -t 10.0.0.1:80 -s rr  # web\n"),
        vec!["rules.txt:1:26: unexpected argument #"]
    );
    assert_eq!(
        findings("-C\n"),
        vec![
            "rules.txt:1:1: `-C` does not belong in a rules file: only -A (service) and -a \
             (real server) lines describe a table"
        ]
    );
}

#[test]
fn structural_and_semantic_findings() {
    let text = "\
-A -t 10.0.0.1:80 -s nosuch
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.2:80 -r 192.168.1.1:80 -m
-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m -x 5 -y 9
-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m
-a -t 10.0.0.1:80 -r 192.168.1.3:8080 -g
-A -t 10.0.0.1:81 -s averyveryverylongname
";
    insta::assert_debug_snapshot!(findings(text));
}

#[test]
fn json_errors_point_into_the_document() {
    assert_eq!(
        findings("{\"schema\": 1, \"services\": [\n  {\"protocol\": 5}]}"),
        vec![
            "rules.txt:2:16: invalid rules document: invalid type: integer `5`, expected a \
             string at line 2 column 16"
        ]
    );
    let doc = r#"{"schema": 1, "services": [
  {"protocol": "tcp", "family": "inet", "address": "10.0.0.1", "port": 80, "fwmark": null,
   "scheduler": "wlc", "persistent": null, "netmask": null, "pe": null,
   "real_servers": [
     {"address": "192.168.1.1", "port": 80, "forward": "nat", "weight": 1, "tunnel": null}]}]}"#;
    assert_eq!(
        findings(doc),
        vec![
            "rules.txt:5:6: services[0].real_servers[0].forward: unknown forwarding method \
             `nat` (expected masq, route or tunnel)"
        ]
    );
}

#[test]
fn ipvsadm_would_drop_a_last_line_ending_in_blanks() {
    let found = findings("-A -t 10.0.0.1:80 -s rr  ");
    assert_eq!(
        found,
        vec![
            "rules.txt:1:1: warning: the last line ends in blanks without a newline: ipvsadm \
             -R silently ignores it (lvsctl reads it)"
        ]
    );
}
