//! Whole files as people write them, check-config rendering, and the mapping to IPVS objects
//! (including the parsing side of T27: DR/TUN reals take the virtual's port in the kernel,
//! the check keeps the configured port).

use super::{FILE, env, ip, ok};
use crate::health::config::{CheckService, CheckType, Forward, check_config_text};
use crate::health::desired::{
    desired_dest, desired_fallback, desired_service, kernel_port, sched_flag_bits,
};
use crate::ipvs::model::{ForwardMethod, Netmask, Protocol, ServiceFlags, ServiceKey};

/// A director for a web site, a mail relay, a DNS pair and a firewall-mark group, in the
/// style of the sample shipped with ldirectord (tabs, comments, globals first).
const SITE: &str = r#"# Global directives
checktimeout=4
checkinterval=5
autoreload=yes
logfile="local0"
quiescent=yes
fallback=127.0.0.1:80

# Web site, direct routing
virtual=203.0.113.10:80
	servicename=Shop
	comment=Public web shop
	real=10.1.0.11:80 gate 10
	real=10.1.0.12:80 gate 10
	real=10.1.0.13->10.1.0.14:8080 gate 5 "/status", "alive" l:5 u:500
	#real=10.1.0.15:80 gate
	service=http
	request="healthz"
	receive="OK"
	virtualhost=shop.example.com
	scheduler=wlc
	persistent=300
	netmask=255.255.255.0
	protocol=tcp
	checktype=negotiate

# Mail relay over NAT, with its own sorry server and counts
virtual=203.0.113.10:25
	real=10.1.1.21:2525 masq
	real=10.1.1.22:2525 masq 2
	fallback=10.1.1.99:25 masq
	checktype=connect
	failurecount=3
	quiescent=no

virtual=203.0.113.53:53
	real=10.1.2.1 ipip
	real=10.1.2.2 ipip
	request="www.example.com"
	receive="203.0.113.10"
	scheduler=rr
	ops=yes

virtual=100
	real=10.1.3.1 gate
	real=10.1.3.2 gate
	checktype=external
	checkcommand="/usr/local/lib/check-fwm"
	checkport=443
	fallbackcommand="/usr/local/sbin/page-oncall"

virtual6=[2001:db8:10::1]:443
	real6=[2001:db8:11::1]:443 masq
	real6=[2001:db8:11::2]:443 masq
	service=https
	checktimeout=2
"#;

#[test]
fn realistic_site_parses_cleanly_with_resolved_values() {
    let (c, w) = ok(SITE);
    // The only oddity: the global fallback cannot apply to the mark service.
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].line, 44);
    assert_eq!(c.virtuals.len(), 5);
    assert!(c.globals.autoreload && c.globals.quiescent);

    let web = &c.virtuals[0];
    assert_eq!(web.reals.len(), 4);
    assert_eq!(web.reals[2].addr, ip("10.1.0.13"));
    assert_eq!(web.reals[3].receive.as_deref(), Some("alive"));
    assert_eq!(web.reals[3].upper_threshold, 500);
    assert_eq!(web.check.request, "/healthz");
    assert_eq!(web.check.virtual_host.as_deref(), Some("shop.example.com"));
    assert_eq!(
        (web.check.check_timeout, web.check.negotiate_timeout),
        (4, 4)
    );
    assert!(web.quiescent);
    assert_eq!(
        web.fallback.as_ref().map(|f| (f.addr, f.port)),
        Some((ip("127.0.0.1"), 80))
    );
    assert_eq!(web.service_name.as_deref(), Some("Shop"));

    let mail = &c.virtuals[1];
    assert_eq!(mail.check.check_type, CheckType::Connect);
    assert_eq!(mail.check.service, CheckService::Smtp);
    assert_eq!((mail.failure_count, mail.quiescent), (3, false));
    assert_eq!(
        mail.fallback.as_ref().map(|f| f.forward),
        Some(Forward::Masq)
    );

    let dns = &c.virtuals[2];
    assert_eq!(dns.key.protocol(), Some(Protocol::Udp));
    assert_eq!(dns.check.service, CheckService::Dns);
    assert!(dns.ops);
    assert_eq!(dns.reals[0].check_port, Some(53));

    let fwm = &c.virtuals[3];
    assert_eq!(fwm.check.check_type, CheckType::External);
    assert_eq!(fwm.check.check_command, "/usr/local/lib/check-fwm");
    assert_eq!(fwm.reals[0].check_port, Some(443));
    assert!(fwm.fallback.is_none());

    let v6 = &c.virtuals[4];
    assert_eq!(v6.label(), "[2001:db8:10::1]:443");
    assert_eq!((v6.check.check_timeout, v6.check.negotiate_timeout), (2, 2));
    assert!(v6.fallback.is_none());
}

/// T27 (config side): a DR real on 8080 is entered on the virtual's port and checked on 8080; NAT keeps its port.
#[test]
fn desired_ipvs_objects_for_the_site() {
    let (cfg, _) = ok(SITE);
    let web = &cfg.virtuals[0];
    let s = desired_service(web);
    assert_eq!(s.scheduler.as_str(), "wlc");
    assert!(s.flags.persistent());
    assert_eq!(s.timeout, 300);
    assert_eq!(s.netmask, Netmask::V4("255.255.255.0".parse().unwrap()));

    // T27: a DR real configured on 8080 is entered on the virtual's port, checked on 8080.
    let dr = &web.reals[2];
    assert_eq!(dr.port, 8080);
    assert_eq!(dr.check_port, Some(8080));
    let d = desired_dest(web, dr);
    assert_eq!((d.port, d.fwd, d.weight), (80, ForwardMethod::Route, 5));
    assert_eq!((d.l_threshold, d.u_threshold), (5, 500));

    // NAT keeps the real port.
    let mail = &cfg.virtuals[1];
    let m = desired_dest(mail, &mail.reals[0]);
    assert_eq!((m.port, m.fwd, m.weight), (2525, ForwardMethod::Masq, 1));
    let fb = desired_fallback(mail, mail.fallback.as_ref().unwrap());
    assert_eq!((fb.port, fb.weight, fb.fwd), (25, 1, ForwardMethod::Masq));

    // Tunnel real without a port gets the service port; UDP keeps ops.
    let dns = &cfg.virtuals[2];
    let tun = desired_dest(dns, &dns.reals[0]);
    assert_eq!((tun.port, tun.fwd), (53, ForwardMethod::Tunnel));
    assert!(desired_service(dns).flags.one_packet());

    // Marks keep whatever port was written (0 here).
    let fwm = &cfg.virtuals[3];
    assert_eq!(desired_dest(fwm, &fwm.reals[0]).port, 0);
    assert!(matches!(
        desired_service(fwm).key,
        ServiceKey::Fwmark { mark: 100, .. }
    ));
}

#[test]
fn kernel_port_rules() {
    let addr = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip("192.0.2.1"),
        port: 80,
    };
    assert_eq!(kernel_port(addr, Forward::Gate, 8080), 80);
    assert_eq!(kernel_port(addr, Forward::Ipip, 0), 80);
    assert_eq!(kernel_port(addr, Forward::Masq, 0), 80);
    assert_eq!(kernel_port(addr, Forward::Masq, 8080), 8080);
    let mark = ServiceKey::Fwmark {
        af: crate::ipvs::model::AddressFamily::Inet,
        mark: 1,
    };
    assert_eq!(kernel_port(mark, Forward::Gate, 8080), 8080);
}

#[test]
fn sched_flags_follow_ipvsadm() {
    assert_eq!(
        sched_flag_bits("sh-fallback,sh-port", "sh"),
        Ok(ServiceFlags::SCHED1 | ServiceFlags::SCHED2)
    );
    assert_eq!(sched_flag_bits("flag-3,,", "wrr"), Ok(ServiceFlags::SCHED3));
    assert!(sched_flag_bits("sh-port", "wrr").is_err());
    assert!(sched_flag_bits("bogus", "sh").is_err());
}

#[test]
fn check_config_reports_ok_with_exit_0() {
    let (out, code) = check_config_text(FILE, SITE, &env());
    assert_eq!(code, 0);
    let last = format!("{FILE}: OK: 5 virtual service(s), 12 real server(s), 1 warning(s)\n");
    assert!(out.ends_with(&last), "{out}");
}

#[test]
fn check_config_prints_warnings_but_exits_0() {
    let (out, code) = check_config_text(
        FILE,
        "checkcount=2\nvirtual=192.0.2.1:8080\n    real=10.0.0.1 gate\n",
        &env(),
    );
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with(&format!("{FILE}:1: warning: `checkcount` is deprecated")));
    assert!(lines[1].starts_with(&format!(
        "{FILE}:2: warning: virtual service 192.0.2.1:8080 is never checked"
    )));
}

#[test]
fn check_config_renders_errors_in_line_order_with_exit_2() {
    let text =
        "virtual=192.0.2.1:80\n    real=10.0.0.1:80 dr\n\n    service=http\nquiescent=yes \n";
    let (out, code) = check_config_text(FILE, text, &env());
    assert_eq!(code, 2);
    let expected = format!(
        "{FILE}:2: error: invalid real server: forwarding method must be gate, masq or ipip\n\
         {FILE}:4: error: indented line outside any virtual block (the block ended at line 3: a blank line ends a virtual block; use a `#` line instead)\n\
         {FILE}:5: error: `quiescent` must be 'yes' or 'no', found \"yes \" (remove the trailing whitespace)\n"
    );
    assert_eq!(out, expected);
}

#[test]
fn check_config_file_reports_a_missing_file() {
    let (out, code) = crate::health::config::check_config_file(std::path::Path::new(
        "/nonexistent/ldirectord.cf",
    ));
    assert_eq!(code, 2);
    assert!(
        out.starts_with("/nonexistent/ldirectord.cf:0: error: cannot read the file"),
        "{out}"
    );
}

#[test]
fn strict_mode_turns_warnings_into_errors() {
    let (out, code) = check_config_text(FILE, "checkcount=2\n", &env());
    let (strict, strict_code) = crate::health::config::strictify(out, code);
    assert_eq!(strict_code, 2);
    assert_eq!(
        strict,
        format!(
            "{FILE}:1: error: `checkcount` is deprecated (it only repeats ping checks); use failurecount\n"
        )
    );
    let (clean, clean_code) = check_config_text(FILE, "", &env());
    assert_eq!(
        crate::health::config::strictify(clean.clone(), clean_code),
        (clean, 0)
    );
}
