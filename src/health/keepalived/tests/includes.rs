//! `include` and its variants. The statuses and their levels were measured with
//! keepalived 2.2.7's `--config-test`: a missing plain include is only printed (exit 0),
//! `includem`/`includew`/`includeb`/`includea` and `include_check` make it fatal (exit
//! 6, after the first pass).

use std::path::Path;

use super::*;
use crate::health::keepalived::read_file;

const VS_FILE: &str = "virtual_server 10.0.0.1 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.2 80 {\n    }\n}\n";

fn run(env: &MemEnv, main: &str) -> Outcome {
    let env = env.clone().file(FILE, main);
    read_file(Path::new(FILE), &env, &Options::default())
}

#[test]
fn relative_includes_resolve_from_the_including_files_directory() {
    let env = env()
        .file("/etc/keepalived/conf.d/web.conf", "include vs/*.conf\n")
        .file(
            "/etc/keepalived/conf.d/vs/b.conf",
            &VS_FILE.replace("10.0.0.1", "10.0.0.11"),
        )
        .file("/etc/keepalived/conf.d/vs/a.conf", VS_FILE);
    let o = run(&env, "include conf.d/web.conf\n");
    assert_eq!(o.status, 0, "{:#?}", lines(&o));
    let vips: Vec<String> = o
        .config
        .unwrap()
        .virtual_servers
        .iter()
        .map(|v| v.pos.to_string())
        .collect();
    assert_eq!(
        vips,
        [
            "/etc/keepalived/conf.d/vs/a.conf:1",
            "/etc/keepalived/conf.d/vs/b.conf:1"
        ]
    );
}

#[test]
fn errors_in_included_files_name_that_file() {
    let env = env().file("/etc/keepalived/vs.conf", &format!("\n\n{VS_FILE}bogus\n"));
    let o = run(&env, "include vs.conf\n");
    assert_eq!(
        lines(&o),
        ["/etc/keepalived/vs.conf:10: unknown keyword `bogus`"]
    );
}

#[test]
fn a_missing_plain_include_is_only_a_note() {
    let o = run(&env(), &format!("include nothere.conf\n{VS_FILE}"));
    assert_eq!(o.status, 0);
    assert_eq!(lines(&o), ["1: include \"nothere.conf\": no such file"]);
}

#[test]
fn includem_makes_a_missing_file_fatal_after_the_first_pass() {
    let text = format!("includem nothere.conf\nbogus_top\n{}", vs("    bogus_vs\n"));
    let o = run(&env(), &text);
    assert_eq!(o.status, 6);
    assert!(o.config.is_none());
    assert_eq!(
        lines(&o),
        [
            "1: include \"nothere.conf\": no such file",
            "2: unknown keyword `bogus_top`"
        ],
        "the checker's pass never runs"
    );
}

#[test]
fn include_check_makes_plain_includes_strict() {
    let text = format!("global_defs {{\n  include_check\n}}\ninclude nothere*.conf\n{VS_FILE}");
    assert_eq!(run(&env(), &text).status, 6);
    let text =
        format!("global_defs {{\n  include_check read\n}}\ninclude nothere*.conf\n{VS_FILE}");
    assert_eq!(run(&env(), &text).status, 0);
}

#[test]
fn includew_reports_a_wildcard_matching_nothing() {
    let env = env().dir("/etc/keepalived/empty");
    let o = run(&env, &format!("includew empty/*.conf\n{VS_FILE}"));
    assert_eq!(o.status, 6);
    assert_eq!(lines(&o), ["1: include \"empty/*.conf\": no file matches"]);
    let o = run(&env, &format!("include empty/*.conf\n{VS_FILE}"));
    assert!(o.diagnostics.is_empty());
}

#[test]
fn includeb_needs_every_brace_alternative() {
    let env = env().file("/etc/keepalived/a.conf", VS_FILE);
    let o = run(&env, "include {a,b}.conf\n");
    assert_eq!(o.status, 0);
    assert_eq!(o.config.unwrap().virtual_servers.len(), 1);
    let o = run(&env, "includeb {a,b}.conf\n");
    assert_eq!(o.status, 6);
}

#[test]
fn executable_files_and_directories_are_not_included() {
    let env = env()
        .executable("/etc/keepalived/x.conf", VS_FILE)
        .dir("/etc/keepalived/d.conf");
    let o = run(&env, "include x.conf\ninclude d.conf\n");
    assert_eq!(o.status, 0);
    assert_eq!(
        lines(&o),
        [
            "1: included file \"/etc/keepalived/x.conf\" is executable (keepalived only includes non-executable regular files); skipped",
            "2: included file \"/etc/keepalived/d.conf/\" is a directory; skipped"
        ]
    );
    assert!(o.config.unwrap().virtual_servers.is_empty());
    let o = run(&env, "includer x.conf\n");
    assert_eq!(o.status, 6);
}

#[test]
fn include_cycles_end_without_hanging() {
    let machine = env()
        .file("/etc/keepalived/a.conf", "include b.conf\ninclude b.conf\n")
        .file("/etc/keepalived/b.conf", "include a.conf\ninclude a.conf\n");
    let o = run(&machine, &format!("include a.conf\n{VS_FILE}"));
    assert_eq!(o.status, 5);
    assert!(lines(&o)[0].contains("include cycle"), "{:#?}", lines(&o));
    assert_eq!(o.config.unwrap().virtual_servers.len(), 1);
    let o = run(&env(), "include keepalived.conf\n");
    assert!(lines(&o)[0].contains("include cycle"));
}

#[test]
fn pwd_is_the_directory_of_the_file_being_read() {
    let env = env().file(
        "/etc/keepalived/sub/vs.conf",
        "global_defs {\n  router_id $_PWD\n}\n",
    );
    let o = run(&env, "include sub/vs.conf\n");
    assert_eq!(
        o.config.unwrap().globals.router_id.as_deref(),
        Some("/etc/keepalived/sub")
    );
}

#[test]
fn a_missing_main_file_exits_4_where_keepalived_exits_0() {
    // keepalived 2.2.7 -t -f /nonexistent prints "Config files missing" and exits 0; a
    // check that passes a file that is not there helps nobody, so lvsctl exits 4, the
    // status keepalived's code gives "file not found".
    let o = read_file(Path::new("/nonexistent.conf"), &env(), &Options::default());
    assert_eq!(o.status, 4);
    assert_eq!(
        o.diagnostics[0].to_string(),
        "/nonexistent.conf:0: error: cannot read the configuration: no such file"
    );
}
