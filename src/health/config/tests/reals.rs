//! `real=` lines: T6–T8 (docs/health-acceptance.md) and the quirks of
//! docs/ldirectord-compat.md, Real and fallback lines.

use super::{assert_error, assert_warning, errs, ip, one};
use crate::health::config::Forward;

fn real_line(spec: &str) -> String {
    format!("virtual=192.0.2.1:80\n    service=http\n    real={spec}\n")
}

#[test]
fn full_real_line() {
    let v = one(&real_line(
        r#"10.0.0.1:8080 masq 5 "/health", "OK" l:10 u:100"#,
    ));
    let r = &v.reals[0];
    assert_eq!(
        (r.addr, r.port, r.forward, r.weight),
        (ip("10.0.0.1"), 8080, Forward::Masq, 5)
    );
    assert_eq!(r.request.as_deref(), Some("/health"));
    assert_eq!(r.receive.as_deref(), Some("OK"));
    assert_eq!((r.lower_threshold, r.upper_threshold), (10, 100));
    assert_eq!(r.check_port, Some(8080));
}

/// T6: `l:10 u:100` after the weight are the thresholds.
#[test]
fn t6_unquoted_thresholds() {
    let v = one(&real_line("10.0.0.1:80 gate 5 l:10 u:100"));
    assert_eq!(
        (v.reals[0].lower_threshold, v.reals[0].upper_threshold),
        (10, 100)
    );
}

/// T6: the quoted form is request/receive, with a warning.
#[test]
fn t6_quoted_thresholds_become_request_and_receive_with_a_warning() {
    let text = real_line(r#"10.0.0.1:80 gate 5 "l:10" "u:100""#);
    assert_warning(&text, 3, "quoted thresholds");
    let r = &one(&text).reals[0];
    assert_eq!((r.lower_threshold, r.upper_threshold), (0, 0));
    assert_eq!(r.request.as_deref(), Some("/l:10"));
    assert_eq!(r.receive.as_deref(), Some("u:100"));
}

#[test]
fn reversed_thresholds_lose_the_upper_one_with_a_warning() {
    let text = real_line("10.0.0.1:80 gate 5 u:100 l:10");
    assert_warning(&text, 3, "l:N before u:N");
    let r = &one(&text).reals[0];
    assert_eq!((r.lower_threshold, r.upper_threshold), (10, 0));
}

#[test]
fn defaults_weight_one_port_zero() {
    let r = &one(&real_line("10.0.0.1 gate")).reals[0];
    assert_eq!((r.port, r.weight), (0, 1));
    // No real port and no checkport: the service's well-known port.
    assert_eq!(r.check_port, Some(80));
}

#[test]
fn weight_zero_is_accepted_and_big_weights_warn() {
    assert_eq!(one(&real_line("10.0.0.1:80 gate 0")).reals[0].weight, 0);
    assert_warning(&real_line("10.0.0.1:80 gate 70000"), 3, "65535");
}

#[test]
fn host_names_and_service_names_are_resolved() {
    let r = &one(&real_line("web1:http ipip")).reals[0];
    assert_eq!(
        (r.addr, r.port, r.forward),
        (ip("10.0.0.1"), 80, Forward::Ipip)
    );
}

#[test]
fn ipv4_ranges_expand_inclusively() {
    let v = one(&real_line("10.0.0.1->10.0.0.3:80 gate 2"));
    let addrs: Vec<_> = v.reals.iter().map(|r| r.addr).collect();
    assert_eq!(addrs, vec![ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3")]);
    assert!(v.reals.iter().all(|r| r.weight == 2 && r.port == 80));
    let named = one(&real_line("web1->web3:80 gate"));
    assert_eq!(named.reals.len(), 3);
}

/// T8: a reversed IPv4 range is an error (and so is a huge one).
#[test]
fn t8_reversed_and_huge_ranges_are_errors() {
    assert_error(
        &real_line("10.0.0.3->10.0.0.1:80 gate"),
        3,
        "runs backwards",
    );
    assert_error(
        &real_line("10.0.0.0->10.9.0.0:80 gate"),
        3,
        "more than 65536",
    );
}

/// T7: `real6` in an IPv4 block is an error.
#[test]
fn t7_real6_in_an_ipv4_block_and_ipv6_reals() {
    assert_error(
        "virtual=192.0.2.1:80\n    real6=[2001:db8::2]:80 gate\n",
        2,
        "use `real`",
    );
    let v = one("virtual6=[2001:db8::1]:80\n    real6=[2001:db8::2]:8080 masq 3\n");
    assert_eq!(
        (v.reals[0].addr, v.reals[0].port),
        (ip("2001:db8::2"), 8080)
    );
    // An IPv6 literal cannot be an IPv4 real.
    assert_error(
        &real_line("[2001:db8::2]:80 gate"),
        3,
        "cannot resolve IPv4 address",
    );
}

#[test]
fn trailing_garbage_is_an_error() {
    assert_error(
        &real_line("10.0.0.1:80 gate 5 junk"),
        3,
        "unexpected text \"junk\"",
    );
    assert_error(&real_line("10.0.0.1:80 gate5"), 3, "gate, masq or ipip");
}

#[test]
fn text_before_a_valid_tail_is_skipped_with_a_warning() {
    // ldirectord's pattern is unanchored; the shipped SIP sample hits this.
    let text = real_line("@@ 10.0.0.1:80 gate");
    assert_warning(&text, 3, "text \"@@\" is ignored");
    assert_eq!(one(&text).reals[0].addr, ip("10.0.0.1"));
}

#[test]
fn per_real_strings_may_be_separated_by_a_space() {
    let r = &one(&real_line(r#"10.0.0.1:80 gate 1 "a" "b""#)).reals[0];
    assert_eq!(
        (r.request.as_deref(), r.receive.as_deref()),
        (Some("/a"), Some("b"))
    );
}

#[test]
fn duplicate_reals_warn() {
    let text = "virtual=192.0.2.1:80\n    service=http\n    real=10.0.0.1:80 gate\n    real=10.0.0.1:80 masq\n";
    assert_warning(text, 4, "already listed at line 3");
}

#[test]
fn one_bad_real_does_not_hide_another() {
    let e = errs("virtual=192.0.2.1:80\n    real=10.0.0.1:80 dr\n    real=10.0.0.300:80 gate\n");
    assert_eq!(e.len(), 2, "{e:?}");
}
