//! Every error and warning the ldirectord.cf rules give (docs/ldirectord-compat.md, File
//! syntax to check-config), plus T10 (docs/health-acceptance.md).

use super::{assert_error, assert_warning, errs, ok};

const V: &str = "virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate\n    service=http\n";

fn block(extra: &str) -> String {
    format!("{V}    {extra}\n")
}

#[test]
fn unknown_keys() {
    assert_error("nosuch=1\n", 1, "unknown directive `nosuch`");
    assert_error(&block("nosuch=1"), 4, "unknown directive `nosuch`");
}

#[test]
fn wrong_or_missing_forwarding_method() {
    assert_error(
        "virtual=192.0.2.1:80\n    real=10.0.0.1:80 dr\n",
        2,
        "gate, masq or ipip",
    );
    assert_error(
        "virtual=192.0.2.1:80\n    real=10.0.0.1:80\n",
        2,
        "forwarding method missing",
    );
}

/// T7: `virtual=[::1]:80` is an error that names virtual6.
#[test]
fn ipv6_address_in_virtual_needs_virtual6() {
    assert_error(
        "virtual=[::1]:80\n    real=10.0.0.1:80 gate\n",
        1,
        "virtual6",
    );
}

/// T8: a duplicate virtual is an error naming the first definition.
#[test]
fn duplicate_virtual() {
    let text = format!("{V}{V}");
    assert_error(
        &text,
        4,
        "duplicate virtual service TCP 192.0.2.1:80 (first defined at line 1)",
    );
}

#[test]
fn same_address_with_another_protocol_is_not_a_duplicate() {
    let udp = "virtual=192.0.2.1:80\n    real=10.0.0.1:80 gate\n    protocol=udp\n    checktype=connect\n";
    let (c, _) = ok(&format!("{V}{udp}"));
    assert_eq!(c.virtuals.len(), 2);
}

#[test]
fn email_alert_status_none_with_others() {
    assert_error("emailalertstatus=none,all\n", 1, "cannot be combined");
    assert_error("emailalertstatus=bogus\n", 1, "expected all, none");
    let (c, _) = ok("emailalertstatus=starting, stopping\n");
    assert_eq!(c.globals.email.status.0, 1 | 4);
}

/// T10: `connecttimeout`/`timeout` are errors (global and per virtual); `checkcount` warns.
#[test]
fn t10_removed_timeouts_are_errors_and_checkcount_warns() {
    assert_error("connecttimeout=3\n", 1, "use negotiatetimeout");
    assert_error("timeout=3\n", 1, "use checktimeout and negotiatetimeout");
    assert_error(&block("connecttimeout=3"), 4, "no longer supported");
    assert_warning("checkcount=3\n", 1, "deprecated");
    assert_warning(&block("checkcount=3"), 4, "deprecated");
}

#[test]
fn zero_or_empty_numbers_and_upper_case_words() {
    assert_error("checktimeout=0\n", 1, "positive number");
    assert_error(&block("checktimeout=0"), 4, "positive number");
    assert_error(&block("persistent="), 4, "expected a number");
    assert_error(&block("scheduler=WRR"), 4, "lower-case");
    assert_error(&block("service=HTTP"), 4, "must be one of dns, ftp");
}

/// T8: an IPv6 real range is an error.
#[test]
fn ipv6_real_range() {
    assert_error(
        "virtual6=[2001:db8::1]:80\n    real6=[2001:db8::10]->[2001:db8::12]:80 gate\n",
        2,
        "not supported for IPv6",
    );
}

#[test]
fn fwmark_with_tcp_protocol() {
    assert_error(
        "virtual=5\n    real=10.0.0.1 gate\n    protocol=tcp\n",
        3,
        "protocol=fwm",
    );
    ok("virtual=5\n    real=10.0.0.1 gate\n    protocol=fwm\n    service=http\n");
}

#[test]
fn address_virtual_with_fwm_protocol() {
    assert_error(&block("protocol=fwm"), 4, "tcp or udp");
}

#[test]
fn checkinterval_in_a_block_without_fork_only_warns() {
    assert_warning(&block("checkinterval=3"), 4, "ignored unless fork=yes");
    let (c, w) = ok(&format!("fork=yes\n{}", block("checkinterval=3")));
    assert!(w.is_empty());
    assert_eq!(c.virtuals[0].check_interval, 3);
}

#[test]
fn yes_no_directives() {
    for key in [
        "autoreload",
        "fork",
        "quiescent",
        "readdquiescent",
        "cleanstop",
        "supervised",
    ] {
        assert_error(&format!("{key}=maybe\n"), 1, "must be 'yes' or 'no'");
    }
    assert_error(&block("ops=1"), 4, "must be 'yes' or 'no'");
}

#[test]
fn bare_supervised_warns() {
    assert_warning("supervised\n", 1, "bare `supervised`");
}

#[test]
fn quotes_are_required_where_ldirectord_requires_them() {
    for key in [
        "request", "receive", "login", "passwd", "database", "secret",
    ] {
        assert_error(&block(&format!("{key}=x")), 4, "double quotes");
        assert_error(&block(&format!("{key}=\"\"")), 4, "non-empty");
    }
    assert_error("callback=/bin/true\n", 1, "double quotes");
    assert_error("logfile=/var/log/x\n", 1, "double quotes");
}

#[test]
fn logfile_and_monitorfile_must_be_writable() {
    assert_error("logfile=\"/nonexistent/x.log\"\n", 1, "cannot open logfile");
    assert_error(
        &block("monitorfile=/nonexistent/x.log"),
        4,
        "cannot open monitorfile",
    );
    let (c, _) = ok("logfile=\"local0\"\n");
    assert_eq!(
        c.globals.logfile,
        super::super::LogTarget::Syslog("local0".into())
    );
}

#[test]
fn maintenance_dir_missing_warns() {
    assert_warning("maintenancedir=/nope\n", 1, "does not exist");
    let (c, w) = ok("maintenancedir=/var/lib/ldirectord/maint\n");
    assert!(w.is_empty());
    assert!(c.globals.maintenance_dir.is_some());
    assert_error(&block("maintenancedir=/x"), 4, "global directive");
}

#[test]
fn bad_values() {
    assert_error(
        &block("checktype=sometimes"),
        4,
        "must be connect, negotiate",
    );
    assert_error(&block("httpmethod=POST"), 4, "GET or HEAD");
    assert_error(&block("checkport=70000"), 4, "1..65535");
    assert_error(&block("checkport=0"), 4, "positive");
    assert_error(&block("netmask=24"), 4, "dotted-quad");
    assert_error(
        "virtual6=[::1]:80\n    real6=[::2]:80 gate\n    netmask=200\n",
        3,
        "1 and 128",
    );
    assert_error(
        "virtual=no-port-here\n",
        1,
        "invalid address for virtual service",
    );
    assert_error("virtual6=[zz]:80\n", 1, "invalid address");
    assert_error("emailalertfreq=x\n", 1, "number of seconds");
    assert_error("smtp=@host\n", 1, "host name");
    assert_error("emailalert=\n", 1, "no address");
    assert_error("fallbackcommand=\n", 1, "no command");
    assert_error("checkinterval=99999999999\n", 1, "out of range");
}

#[test]
fn wrong_family_keywords() {
    assert_error(
        "virtual=192.0.2.1:80\n    real6=[::1]:80 gate\n",
        2,
        "use `real` in this block",
    );
    assert_error(
        "virtual6=[::1]:80\n    real=10.0.0.1:80 gate\n",
        2,
        "use `real6`",
    );
    assert_error(&block("fallback6=[::1]:80"), 4, "use `fallback`");
}

#[test]
fn unresolvable_names() {
    assert_error(
        "virtual=nohost.example:80\n",
        1,
        "cannot resolve IPv4 virtual address",
    );
    assert_error("virtual=192.0.2.1:nosuchport\n", 1, "nosuchport/tcp");
    assert_error(
        &block("real=nohost:80 gate"),
        4,
        "cannot resolve IPv4 address \"nohost\"",
    );
    assert_error(&block("real=10.0.0.9:nosuch gate"), 4, "real server port");
    assert_error(&block("fallback=nohost:80"), 4, "fallback address");
    assert_error("fallback=10.0.0.1:nosuch\n", 1, "fallback port");
}

#[test]
fn every_error_is_collected_not_just_the_first() {
    let e = errs("quiescent=maybe\nfork=1\nvirtual=192.0.2.1:80\n    real=10.0.0.1:80 dr\n");
    let lines: Vec<usize> = e.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![1, 2, 4]);
}
