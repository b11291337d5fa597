//! Virtual servers, real servers, sorry servers, groups and global_defs. Where a test is
//! named after something keepalived does, the fact was measured with keepalived 2.2.7's
//! `--config-test` (Debian 12).

use std::net::IpAddr;
use std::time::Duration;

use super::*;
use crate::health::keepalived::{
    FlushOnStop, Forwarding, GroupEntry, Persistence, RunAs, Target, read,
};
use crate::ipvs::model::{
    AddressFamily, ForwardMethod, Netmask, Protocol, ServiceFlags, ServiceKey, Tunnel, TunnelCsum,
    TunnelType,
};

const RS: &str = "    real_server 10.0.0.2 80 {\n        TCP_CHECK {\n        }\n    }\n";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn body(head: &str, body: &str) -> String {
    format!("virtual_server {head} {{\n{body}}}\n")
}

#[test]
fn virtual_server_defaults_as_keepalived_sets_them() {
    let v = one_vs(&vs(RS));
    assert_eq!(v.family, AddressFamily::Inet);
    assert_eq!(v.quorum, 1);
    assert_eq!(v.hysteresis, 0);
    assert!(!v.alpha && !v.omega && !v.ha_suspend && !v.smtp_alert);
    assert_eq!(v.persistence, None);
    let r = &v.real_servers[0];
    assert_eq!(r.weight, 1);
    assert!(!r.inhibit_on_failure && !r.alpha);
    assert!(
        r.smtp_alert,
        "real servers alert by default, unlike virtual servers"
    );
    assert_eq!(r.forwarding.method, ForwardMethod::Route);
}

#[test]
fn virtual_server_without_protocol_defaults_to_udp_and_is_reported() {
    let text = body(
        "10.0.0.1 80",
        &format!("    lb_algo rr\n    lb_kind DR\n{RS}"),
    );
    assert_eq!(
        errors(&text),
        ["1: no protocol set; keepalived uses UDP (the kernel's default)"]
    );
    let v = &outcome(&text).config.unwrap().virtual_servers[0];
    assert_eq!(v.protocol, Some(Protocol::Udp));
}

#[test]
fn missing_lb_kind_is_reported_although_the_manual_calls_nat_the_default() {
    let text = body(
        "10.0.0.1 80",
        &format!("    lb_algo rr\n    protocol TCP\n{RS}"),
    );
    assert_eq!(errors(&text), ["1: no forwarding method set; NAT used"]);
    let v = &outcome(&text).config.unwrap().virtual_servers[0];
    assert_eq!(v.real_servers[0].forwarding.method, ForwardMethod::Masq);
}

#[test]
fn missing_scheduler_is_reported_and_wlc_used() {
    let text = body(
        "10.0.0.1 80",
        &format!("    lb_kind DR\n    protocol TCP\n{RS}"),
    );
    assert_eq!(errors(&text), ["1: no scheduler set; wlc used"]);
}

#[test]
fn unknown_scheduler_is_ignored_with_an_error() {
    let text = vs(&format!("    lvs_sched wlcx\n{RS}"));
    assert_eq!(errors(&text), ["5: invalid scheduler \"wlcx\"; ignored"]);
}

#[test]
fn fwmark_services_ignore_the_protocol_and_clear_real_server_ports() {
    let text = body(
        "fwmark 5",
        "    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.2 80 {\n    }\n",
    );
    assert_eq!(
        errors(&text),
        [
            "1: a protocol is ignored for firewall-mark services",
            "5: real server port 80 given for a firewall-mark service; cleared"
        ]
    );
    let v = &outcome(&text).config.unwrap().virtual_servers[0];
    assert_eq!(
        v.target,
        Target::Service(ServiceKey::Fwmark {
            af: AddressFamily::Inet,
            mark: 5
        })
    );
    assert_eq!(v.protocol, None);
    assert_eq!(v.real_servers[0].port, 0);
}

#[test]
fn direct_routing_resets_a_different_real_server_port_with_an_error() {
    let text = vs("    real_server 10.0.0.2 8080 {\n    }\n");
    assert_eq!(
        errors(&text),
        [
            "5: real server port 8080 differs from the virtual server's 80 and is reset (only NAT can change ports)"
        ]
    );
}

#[test]
fn nat_keeps_the_real_server_port_and_fills_a_missing_one() {
    let text = body(
        "10.0.0.1 80",
        "    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 10.0.0.2 8080 {\n    }\n    real_server 10.0.0.3 {\n    }\n",
    );
    let v = one_vs(&text);
    let ports: Vec<u16> = v.real_servers.iter().map(|r| r.port).collect();
    assert_eq!(ports, [8080, 80]);
}

#[test]
fn real_server_settings_override_the_virtual_servers() {
    let text = vs(
        "    weight 4\n    inhibit_on_failure\n    alpha\n    real_server 10.0.0.2 80 {\n    }\n    real_server 10.0.0.3 80 {\n        weight 0\n        inhibit_on_failure no\n        alpha off\n        lvs_method TUN type gue port 6080 csum\n        uthreshold 100\n        lthreshold 10\n    }\n",
    );
    let v = one_vs(&text);
    let (a, b) = (&v.real_servers[0], &v.real_servers[1]);
    assert_eq!((a.weight, a.inhibit_on_failure, a.alpha), (4, true, true));
    assert_eq!((b.weight, b.inhibit_on_failure, b.alpha), (0, false, false));
    assert_eq!(
        b.forwarding,
        Forwarding {
            method: ForwardMethod::Tunnel,
            tunnel: Tunnel {
                kind: TunnelType::Gue,
                port: 6080,
                csum: TunnelCsum::Csum
            }
        }
    );
    assert_eq!((b.u_threshold, b.l_threshold), (100, 10));
}

#[test]
fn tunnel_options_are_checked() {
    let e = errors(&vs(
        "    lb_kind TUN type gue\n    real_server 10.0.0.2 80 {\n    }\n",
    ));
    assert_eq!(e, ["5: gue tunnels need a port, and only they take one"]);
    let e = errors(&vs(
        "    lb_kind TUN csum\n    real_server 10.0.0.2 80 {\n    }\n",
    ));
    assert_eq!(e, ["5: ipip tunnels take no checksum option"]);
}

#[test]
fn a_duplicate_real_server_is_removed_with_an_error() {
    let text = vs(&format!("{RS}{RS}"));
    assert_eq!(
        errors(&text),
        ["9: real server 10.0.0.2:80 is given twice; the second is removed"]
    );
}

#[test]
fn quorum_above_the_total_weight_is_lowered_and_hysteresis_kept_below_it() {
    let text = vs(&format!("    quorum 5\n    hysteresis 3\n{RS}"));
    assert_eq!(
        errors(&text),
        [
            "1: quorum 5 exceeds the real servers' total weight 1; lowered to it",
            "1: hysteresis 3 is not below quorum 1; set to quorum - 1"
        ]
    );
    let v = &outcome(&text).config.unwrap().virtual_servers[0];
    assert_eq!((v.quorum, v.hysteresis), (1, 0));
}

#[test]
fn a_virtual_server_without_real_servers_is_dropped_with_an_error() {
    let o = outcome(&vs(""));
    assert_eq!(o.status, 5);
    assert!(o.config.unwrap().virtual_servers.is_empty());
}

#[test]
fn persistence_defaults_to_six_minutes_and_a_v4_mask() {
    let v = one_vs(&vs(&format!("    persistence_timeout\n{RS}")));
    assert_eq!(
        v.persistence,
        Some(Persistence {
            timeout: 360,
            granularity: Netmask::V4("255.255.255.255".parse().unwrap())
        })
    );
    let v = one_vs(&vs(&format!(
        "    persistence_granularity 255.255.255.0\n{RS}"
    )));
    assert_eq!(
        v.persistence,
        Some(Persistence {
            timeout: 360,
            granularity: Netmask::V4("255.255.255.0".parse().unwrap())
        })
    );
}

#[test]
fn a_port_less_virtual_server_becomes_persistent_with_an_error() {
    let text = body(
        "10.0.0.1",
        "    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.2 {\n    }\n",
    );
    assert_eq!(
        errors(&text),
        ["1: port 0 needs persistence; persistence_timeout 360 set"]
    );
}

#[test]
fn service_flags_and_ops() {
    let v = one_vs(&body(
        "10.0.0.1 53",
        "    lb_algo sh\n    sh-port\n    sh-fallback\n    ops\n    lb_kind DR\n    protocol UDP\n    real_server 10.0.0.2 53 {\n    }\n",
    ));
    assert_eq!(
        v.flags,
        ServiceFlags(ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::ONEPACKET)
    );
    // sh-port needs the sh scheduler first; ops needs UDP.
    let e = errors(&vs(&format!("    sh-port\n    ops\n{RS}")));
    assert_eq!(
        e,
        [
            "5: `sh-port` only applies to the sh (or mh) scheduler, which must come first; ignored",
            "1: one-packet scheduling (ops) needs UDP; cleared"
        ]
    );
}

#[test]
fn sorry_server_takes_the_virtual_servers_port_and_method() {
    let v = one_vs(&vs(&format!(
        "    sorry_server 10.0.0.9\n    sorry_server_inhibit\n{RS}"
    )));
    let s = v.sorry_server.unwrap();
    assert_eq!((s.addr, s.port, s.inhibit), (ip("10.0.0.9"), 80, true));
    assert_eq!(s.forwarding.method, ForwardMethod::Route);
    let e = errors(&vs(&format!("    sorry_server_inhibit\n{RS}")));
    assert_eq!(
        e,
        ["5: `sorry_server_inhibit` before or without `sorry_server`; ignored"]
    );
}

#[test]
fn ipv6_virtual_servers_and_family_mismatches() {
    let v = one_vs(&body(
        "2001:db8::1 443",
        "    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 2001:db8::10 443 {\n    }\n",
    ));
    assert_eq!(v.family, AddressFamily::Inet6);
    let e = errors(&body(
        "2001:db8::1 443",
        "    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.2 443 {\n    }\n    real_server 2001:db8::10 443 {\n    }\n",
    ));
    assert_eq!(
        e,
        [
            "5: the real server's address family differs from the virtual server's; real server skipped"
        ]
    );
}

#[test]
fn an_invalid_virtual_server_address_skips_its_block() {
    let o = outcome(&body("www.example.com 80", RS));
    assert_eq!(o.status, 5);
    assert_eq!(
        lines(&o),
        ["1: virtual server: invalid address \"www.example.com\"; skipped"]
    );
}

#[test]
fn groups_are_kept_as_references_with_their_entries() {
    let text = format!(
        "virtual_server_group WEB {{\n    10.0.0.1-3 80\n    10.0.1.0/31 80\n    fwmark 7\n}}\n{}",
        body(
            "group WEB",
            "    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 10.0.0.20 80 {\n    }\n"
        )
    );
    let c = clean(&text);
    let v = &c.virtual_servers[0];
    let Target::Group(g) = &v.target else {
        panic!("a group target");
    };
    assert_eq!(g.name, "WEB");
    assert_eq!(
        g.entries,
        [
            GroupEntry::Range {
                first: ip("10.0.0.1"),
                last: ip("10.0.0.3"),
                port: 80
            },
            GroupEntry::Range {
                first: ip("10.0.1.0"),
                last: ip("10.0.1.1"),
                port: 80
            },
            GroupEntry::Fwmark {
                mark: 7,
                family: None
            }
        ]
    );
    let keys = v.target.service_keys(Protocol::Tcp, v.family);
    assert_eq!(keys.len(), 6);
    assert_eq!(c.groups.len(), 1);
}

#[test]
fn an_undefined_group_drops_the_virtual_server_without_an_error() {
    // keepalived 2.2.7 only logs it: --config-test exits 0.
    let o = outcome(&body(
        "group NOPE",
        "    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 10.0.0.2 80 {\n    }\n",
    ));
    assert_eq!(o.status, 0);
    assert!(o.config.unwrap().virtual_servers.is_empty());
}

#[test]
fn group_entries_are_checked() {
    let o = outcome("virtual_server_group G {\n    10.0.0.5-5 80\n    fwmark x\n}\n");
    assert_eq!(
        lines(&o),
        [
            "2: group G: range end not above its start in \"10.0.0.5-5\"; skipped",
            "3: group G: fwmark: invalid number \"x\"; ignored",
            "1: virtual server group G has no entries; removed"
        ]
    );
}

#[test]
fn global_defs_with_keepalived_defaults() {
    let c = clean(&vs(RS));
    let g = &c.globals;
    assert_eq!(g.router_id.as_deref(), Some("director1.example.com"));
    assert_eq!(g.smtp_connect_timeout, Duration::from_secs(30));
    assert_eq!(g.smtp_server, None);
    assert_eq!(g.notification_email_from, None);
    assert_eq!(g.lvs_flush_on_stop, FlushOnStop::No);
}

#[test]
fn global_defs_read_for_checking() {
    let mut e = env();
    e.names = e.names.with_host("mail.example.com", ip("192.0.2.25"));
    let text = format!(
        "global_defs {{\n  router_id LB_A\n  notification_email {{\n    ops@example.com\n  }}\n  smtp_server mail.example.com 2525\n  smtp_connect_timeout 10\n  smtp_alert\n  script_user nobody\n  enable_script_security\n  lvs_flush\n  lvs_flush_onstop VS\n  lvs_timeouts tcp 900 udp 60\n  lvs_sync_daemon eth0 VI_1\n  vrrp_strict\n}}\n{}",
        vs(RS)
    );
    let o = read(FILE, &text, &e.user("nobody"), &Options::default());
    assert_eq!(o.status, 0, "{:#?}", lines(&o));
    assert!(lines(&o)[0].contains("`lvs_sync_daemon` is ignored"));
    let g = o.config.unwrap().globals;
    assert_eq!(g.router_id.as_deref(), Some("LB_A"));
    assert_eq!(g.notification_email, ["ops@example.com"]);
    assert_eq!(
        g.smtp_server.map(|s| s.addr.to_string()),
        Some("192.0.2.25:2525".into())
    );
    assert_eq!(g.smtp_connect_timeout, Duration::from_secs(10));
    assert_eq!(g.smtp_helo_name.as_deref(), Some("director1.example.com"));
    assert_eq!(
        g.notification_email_from.as_deref(),
        Some("root@director1.example.com")
    );
    assert_eq!(g.smtp_alert, Some(true));
    assert_eq!(
        g.script_user,
        Some(RunAs {
            user: "nobody".into(),
            group: None
        })
    );
    assert!(g.enable_script_security && g.lvs_flush);
    assert_eq!(g.lvs_flush_on_stop, FlushOnStop::VirtualServers);
    assert_eq!((g.lvs_timeouts.tcp, g.lvs_timeouts.udp), (900, 60));
    let ignored: Vec<&str> = g.ignored.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(ignored, ["lvs_sync_daemon", "vrrp_strict"]);
}

#[test]
fn smtp_connect_timeout_zero_is_raised_to_one_with_an_error() {
    let e = errors(&format!(
        "global_defs {{\n  smtp_connect_timeout 0\n}}\n{}",
        vs(RS)
    ));
    assert_eq!(e, ["2: `smtp_connect_timeout` must be above 0; 1 is used"]);
}
