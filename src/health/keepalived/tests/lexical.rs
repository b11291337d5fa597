//! The reader: comments, braces, `@` lines, definitions, generators, includes, block
//! structure and the exit statuses they lead to.

use super::*;
use crate::health::keepalived::{Target, parse_keepalived, read};
use crate::ipvs::model::{Scheduler, ServiceKey};

const RS: &str = "    real_server 10.0.0.2 80 {\n        TCP_CHECK {\n        }\n    }\n";

#[test]
fn a_minimal_virtual_server_reads_clean() {
    let v = one_vs(&vs(RS));
    assert_eq!(
        v.target,
        Target::Service(ServiceKey::Addr {
            protocol: crate::ipvs::model::Protocol::Tcp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 80
        })
    );
    assert_eq!(v.scheduler, Scheduler::new("rr"));
    assert_eq!(v.real_servers[0].checkers.len(), 1);
}

#[test]
fn comments_start_with_hash_or_bang_and_escaped_ones_are_text() {
    let text = "! a comment\n# another\nglobal_defs {\n  router_id lb\\#1 # trailing\n}\n";
    let c = clean(&format!("{text}{}", vs(RS)));
    assert_eq!(c.globals.router_id.as_deref(), Some("lb#1"));
}

#[test]
fn trailing_backslash_is_glued_to_the_last_word_not_a_line_continuation() {
    // keepalived 2.2.7: "Invalid lvs_scheduler 'rr\' - ignoring", then the default.
    let text = vs(&format!("    lb_algo wrr \\\n{RS}"));
    let e = errors(&text);
    assert_eq!(
        e[0],
        "5: `lb_algo`: invalid scheduler \"wrr\\\\\"; ignored".replace("`lb_algo`: ", "")
    );
}

#[test]
fn braces_may_share_lines_with_keywords() {
    let text = "virtual_server 10.0.0.1 80 { lb_algo rr\n lb_kind DR\n protocol TCP\n real_server 10.0.0.2 80 { TCP_CHECK { connect_timeout 2 } } }\n";
    let rs = one_rs(text);
    let conn = rs.checkers[0].connection.as_ref().unwrap();
    assert_eq!(conn.connect_timeout, std::time::Duration::from_secs(2));
}

#[test]
fn at_lines_apply_to_the_host_name_before_its_first_dot_or_to_the_config_id() {
    // MemEnv's host is director1.example.com.
    let text = vs(&format!(
        "    @director1 lb_algo wrr\n    @^director1 lb_algo sh\n    @other lb_algo lc\n{RS}"
    ));
    assert_eq!(one_vs(&text).scheduler, Scheduler::new("wrr"));
    let o = read(
        FILE,
        &text,
        &env(),
        &Options {
            config_id: Some("other".into()),
        },
    );
    let v = &o.config.unwrap().virtual_servers[0];
    assert_eq!(v.scheduler, Scheduler::new("lc"));
    // `@ID` with nothing after it is dropped.
    clean(&format!("@director1\n{}", vs(RS)));
}

#[test]
fn definitions_are_substituted_including_multi_line_ones() {
    let text = "$VIP=10.0.0.1\n$ALGO=wrr\n$RS=real_server 10.0.0.2 80 { \\\n    weight 3 \\\n    TCP_CHECK { \\\n    } \\\n}\n\
         virtual_server $VIP 80 {\n    lb_algo ${ALGO}\n    lb_kind DR\n    protocol TCP\n    $RS\n}\n";
    let v = one_vs(text);
    assert_eq!(v.scheduler, Scheduler::new("wrr"));
    assert_eq!(v.real_servers[0].weight, 3);
}

#[test]
fn a_definition_needs_the_equals_sign_right_after_the_name() {
    // `$X = 1` is no definition: it is read as a keyword line.
    let e = errors(&format!("$X = 1\n{}", vs(RS)));
    assert_eq!(e, ["1: unknown keyword `$X`"]);
}

#[test]
fn seq_generates_one_line_per_value() {
    // keepalived 2.2.7: Unknown keyword 'bogus2', 'bogus3', 'bogus4', all at line 5.
    let o = outcome(&vs(&format!("    ~SEQ(i, 2, 4) bogus$i\n{RS}")));
    assert_eq!(
        lines(&o),
        [
            "5: unknown keyword `bogus2`",
            "5: unknown keyword `bogus3`",
            "5: unknown keyword `bogus4`"
        ]
    );
}

#[test]
fn seq_over_a_multi_line_definition_makes_whole_blocks() {
    let text = format!(
        "$RS=real_server 10.0.0.${{i}} 80 {{ \\\n    TCP_CHECK {{ \\\n    }} \\\n}}\n{}",
        vs("    ~SEQ(i, 2, 4) $RS\n")
    );
    let v = one_vs(&text);
    let addrs: Vec<String> = v.real_servers.iter().map(|r| r.addr.to_string()).collect();
    assert_eq!(addrs, ["10.0.0.2", "10.0.0.3", "10.0.0.4"]);
}

#[test]
fn self_referencing_definitions_do_not_hang() {
    let o = outcome(&format!("$A=$A\n$B=x $A\n{}", vs(RS)));
    assert!(o.config.is_some());
    let o = outcome(&format!(
        "$A=$A $A\nglobal_defs {{\n router_id $A\n}}\n{}",
        vs(RS)
    ));
    assert!(
        lines(&o)
            .iter()
            .any(|l| l.contains("not substituted further"))
    );
}

#[test]
fn unknown_keywords_are_errors_and_their_blocks_read_as_the_enclosing_block() {
    // As keepalived 2.2.7: the `}` of the unknown block closes the virtual server, the
    // real server after it is read at the top level, and the virtual server has none.
    let text = vs(&format!("    bogus {{\n        delay_loop 3\n    }}\n{RS}"));
    let o = outcome(&text);
    assert_eq!(o.status, 5);
    assert_eq!(
        lines(&o),
        [
            "5: unknown keyword `bogus`",
            "5: unexpected `{`; ignored",
            "8: unknown keyword `real_server`",
            "8: unexpected `{`; ignored",
            "9: unknown keyword `TCP_CHECK`",
            "9: unexpected `{`; ignored",
            "10: unknown keyword `}`",
            "11: unknown keyword `}`",
            "12: unknown keyword `}`",
            "1: virtual server has no real servers; ignored"
        ]
    );
    assert!(o.config.unwrap().virtual_servers.is_empty());
}

#[test]
fn a_surplus_close_brace_is_reported_twice_as_keepalived_does() {
    let e = errors(&format!("{}}}\n", vs(RS)));
    assert_eq!(
        e,
        ["10: `}` without a matching `{`", "10: unknown keyword `}`"]
    );
}

#[test]
fn a_missing_close_brace_points_at_the_first_unclosed_one() {
    let text = vs(RS);
    let text = text.trim_end().trim_end_matches('}');
    let e = errors(text);
    assert_eq!(e, ["1: 1 `{` never closed (the first one is here)"]);
}

#[test]
fn a_missing_parameter_stops_keepalived_with_status_2() {
    let o = outcome(&vs(&format!("    lb_algo\n{RS}")));
    assert_eq!(o.status, 2);
    assert!(o.config.is_none());
    assert_eq!(
        lines(&o),
        ["5: `lb_algo` is missing a parameter (word 2); keepalived stops here"]
    );
    assert!(parse_keepalived(FILE, &vs("    lb_algo\n"), &env(), &Options::default()).is_err());
}

#[test]
fn global_problems_print_before_the_checkers_even_when_later_in_the_file() {
    let text = format!(
        "{}global_defs {{\n  bogus_global\n}}\n",
        vs(&format!("    bogus_vs\n{RS}"))
    );
    let o = outcome(&text);
    assert_eq!(
        lines(&o),
        [
            "12: unknown keyword `bogus_global`",
            "5: unknown keyword `bogus_vs`"
        ]
    );
}

#[test]
fn unterminated_quotes_are_errors_and_lose_the_quoted_word() {
    let o = outcome(&vs(&format!("    virtualhost \"www\n{RS}")));
    assert_eq!(
        lines(&o),
        [
            "5: unterminated quote in \"virtualhost \\\"www\"",
            "5: unmatched quote in \"virtualhost \\\"www\"",
            "5: `virtualhost` without a name"
        ]
    );
}

#[test]
fn vrrp_and_bfd_blocks_are_skipped_whole_and_listed() {
    let text = format!(
        "vrrp_instance VI_1 {{\n    state MASTER\n    virtual_ipaddress {{\n        10.0.0.1/24\n    }}\n}}\nbfd_instance b1 {{\n}}\nstatic_ipaddress {{\n  10.1.1.1/24 dev eth0\n}}\n{}",
        vs(RS)
    );
    let c = clean(&text);
    let skipped: Vec<String> = c
        .skipped
        .iter()
        .map(|s| format!("{} {} {}", s.pos.line, s.keyword, s.name))
        .collect();
    assert_eq!(
        skipped,
        [
            "1 vrrp_instance VI_1",
            "7 bfd_instance b1",
            "9 static_ipaddress "
        ]
    );
    assert_eq!(c.virtual_servers.len(), 1);
}

#[test]
fn a_last_line_without_newline_counts_as_the_line_before_it() {
    // keepalived 2.2.7's first pass: "(Line 9) Unknown keyword 'bogus'"; its checker
    // reads a copy where the line ends properly and says line 10.
    let o = outcome(&format!("{}bogus", vs(RS)));
    assert_eq!(
        lines(&o),
        ["9: unknown keyword `bogus`", "10: unknown keyword `bogus`"]
    );
}

#[test]
fn notification_email_reads_a_block_of_addresses() {
    let text = format!(
        "global_defs {{\n  notification_email {{\n    ops@example.com\n    noc@example.com oncall@example.com\n  }}\n}}\n{}",
        vs(RS)
    );
    let c = clean(&text);
    assert_eq!(
        c.globals.notification_email,
        ["ops@example.com", "noc@example.com", "oncall@example.com"]
    );
}

#[test]
fn a_multi_line_definition_that_names_itself_stops_instead_of_running_for_ever() {
    // Each expansion's last line is `$A` again; keepalived would read without end.
    let o = outcome("$A=x \\\n$A\n$A\n");
    assert_eq!(o.status, 5);
    assert!(lines(&o).iter().any(|l| l.contains("reading stops here")));
}

#[test]
fn a_generator_counting_far_stops_at_the_line_budget() {
    let o = outcome("~SEQ(i, 1, 100000000) bogus\n");
    assert!(lines(&o).iter().any(|l| l.contains("reading stops here")));
}
