//! Reals with several checkers of their own, run by the whole daemon on the FakeBackend
//! (TCP_CHECKs against loopback ports, the kernel table read back): a real is in service
//! only while every one of its checkers passes, as keepalived 2.2.7 counts failed
//! checkers (`update_svr_checker_state`, check/ipwrapper.c); a real without checkers
//! beside it stays in service throughout.

use std::net::TcpListener;
use std::time::Duration;

use super::keepalived_tests::{Run, VIP, closed_port};
use super::testutil::wait_results;

fn two_checkers(p1: u16, p2: u16) -> String {
    format!(
        "virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {p1} {{
        weight 2
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
        TCP_CHECK {{
            connect_port {p2}
            connect_timeout 1
            retry 0
        }}
    }}
    real_server 127.0.0.2 9 {{
        weight 5
    }}
}}
"
    )
}

#[test]
fn a_real_with_two_checkers_is_in_only_while_both_pass() {
    let first = TcpListener::bind("127.0.0.1:0").unwrap();
    let p1 = first.local_addr().unwrap().port();
    let second = TcpListener::bind("127.0.0.1:0").unwrap();
    let p2 = second.local_addr().unwrap().port();
    let run = Run::start("multi", &two_checkers(p1, p2));
    run.wait("both in from the start", &[(p1, 2), (9, 5)]);
    // The second checker fails: the real is out, the unchecked one stays.
    drop(second);
    run.wait("one checker failed", &[(9, 5)]);
    // The first fails too, then the second passes again: still out.
    drop(first);
    let _second = TcpListener::bind(("127.0.0.1", p2)).unwrap();
    wait_results(&run.socket(), 3, |k| k.ends_with(&format!(":{p1}"))).unwrap();
    assert_eq!(run.reals(), [(9, 5)]);
    // Both pass: back at its weight.
    let _first = TcpListener::bind(("127.0.0.1", p1)).unwrap();
    run.wait("both checkers pass", &[(p1, 2), (9, 5)]);
    run.stop();
}

#[test]
fn with_alpha_a_real_enters_when_its_last_failing_checker_passes() {
    let up = TcpListener::bind("127.0.0.1:0").unwrap();
    let p1 = up.local_addr().unwrap().port();
    let p2 = closed_port();
    let text = two_checkers(p1, p2).replace("    lb_kind NAT\n", "    lb_kind NAT\n    alpha\n");
    let run = Run::start("multialpha", &text);
    // Both checkers start failed; the first passes, the second does not: never in.
    wait_results(&run.socket(), 3, |k| k.ends_with(&format!(":{p1}"))).unwrap();
    assert_eq!(run.reals(), [(9, 5)]);
    let _second = TcpListener::bind(("127.0.0.1", p2)).unwrap();
    let took = run.wait("the second checker passes", &[(p1, 2), (9, 5)]);
    assert!(took < Duration::from_secs(5), "in after {took:?}");
    run.stop();
}

/// Sets the exit status the test's MISC_CHECK script returns (atomically, so a run never
/// reads half a file).
fn set_code(dir: &std::path::Path, code: u8) {
    let tmp = dir.join("code.tmp");
    std::fs::write(&tmp, code.to_string()).unwrap();
    std::fs::rename(&tmp, dir.join("code")).unwrap();
}

/// A real with a TCP_CHECK and a MISC_CHECK whose script exits with the status written in
/// a file: out when the script fails, back when it passes, out when the port closes while
/// the script passes.
#[test]
fn a_misc_check_beside_a_tcp_check_follows_the_script_s_exit_status() {
    let dir = std::env::temp_dir().join(format!("lvsctl-ka-misc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    set_code(&dir, 0);
    let script = dir.join("check");
    super::testutil::write_script(&script, &format!("exit $(cat {}/code)", dir.display()));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // The script runs as nobody: keepalived checks the path of scripts run as root, which
    // the daemon refuses.
    let text = format!(
        "global_defs {{
    enable_script_security
    script_user nobody
}}
virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {port} {{
        weight 2
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
        MISC_CHECK {{
            misc_path {}
            misc_timeout 2
        }}
    }}
}}
",
        script.display()
    );
    let run = Run::start("misc", &text);
    run.wait("in from the start", &[(port, 2)]);
    wait_results(&run.socket(), 2, |k| k.ends_with(&format!(":{port}"))).unwrap();
    assert_eq!(run.reals(), [(port, 2)], "both checks pass");
    set_code(&dir, 1);
    run.wait("the script exits 1", &[]);
    set_code(&dir, 0);
    run.wait("the script exits 0 again", &[(port, 2)]);
    drop(listener);
    run.wait("the port closed, the script passing", &[]);
    run.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// misc_dynamic: the script's exit status minus 2 is the real's weight in the kernel,
/// changed while the real is up; 1 takes it out, and it comes back at the weight of the
/// status it then exits with.
#[test]
fn misc_dynamic_weights_follow_the_script_s_exit_status() {
    let dir = std::env::temp_dir().join(format!("lvsctl-ka-dyn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    set_code(&dir, 0);
    let script = dir.join("check");
    super::testutil::write_script(&script, &format!("exit $(cat {}/code)", dir.display()));
    let text = format!(
        "global_defs {{
    enable_script_security
    script_user nobody
}}
virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 8080 {{
        weight 3
        MISC_CHECK {{
            misc_path {}
            misc_timeout 2
            misc_dynamic
        }}
    }}
}}
",
        script.display()
    );
    let run = Run::start("dynamic", &text);
    run.wait("in at its weight", &[(8080, 3)]);
    set_code(&dir, 12);
    run.wait("status 12: weight 10", &[(8080, 10)]);
    set_code(&dir, 2);
    run.wait("status 2: weight 0, still in", &[(8080, 0)]);
    set_code(&dir, 1);
    run.wait("status 1: out", &[]);
    set_code(&dir, 7);
    run.wait("status 7: back at weight 5", &[(8080, 5)]);
    set_code(&dir, 0);
    run.wait("status 0: the configured weight", &[(8080, 3)]);
    run.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
