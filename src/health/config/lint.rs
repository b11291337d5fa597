//! Warnings about virtual services that ldirectord accepts but that cannot work as the
//! author probably intended (docs/ldirectord-compat.md, check-config; the rules behind them
//! are in Defaults and precedence, Negotiate services and Real and fallback lines).

use std::collections::HashMap;

use super::block::RawVirtual;
use super::diag::{Diagnostics, WarningKind};
use super::model::{CheckService, CheckType, HttpMethod, VirtualService};
use crate::ipvs::model::{AddressFamily, Scheduler};

pub fn lint_virtual(v: &VirtualService, block: &RawVirtual, d: &mut Diagnostics) {
    unchecked(v, d);
    if !v.key.is_fwmark() && v.key.port() == 0 && v.persistent.is_none() {
        d.note(
            v.line,
            "ipvsadm refuses port 0 for a service that is not persistent",
        );
    }
    check_strings(v, block, d);
    ipv6_limits(v, d);
    if !Scheduler::new(v.scheduler.as_str()).is_known() {
        d.note(
            v.line,
            format!(
                "scheduler {:?} is not one of the stock kernel schedulers",
                v.scheduler
            ),
        );
    }
    if let Some(flags) = &v.sched_flags
        && let Err(problem) = crate::health::desired::sched_flag_bits(flags, &v.scheduler)
    {
        d.note(
            v.line,
            format!("schedflags: ipvsadm refuses this: {problem}"),
        );
    }
    let mut seen = HashMap::new();
    for r in &v.reals {
        if let Some(first) = seen.insert((r.addr, r.port), r.line) {
            d.note(
                r.line,
                format!(
                    "real server {} port {} is already listed at line {first}; the kernel keeps one entry",
                    r.addr, r.port
                ),
            );
        }
    }
}

/// A negotiate check with service `none` never fails, and that is what a virtual on a port
/// without a known service, or a firewall mark, gets when `service=` is not written: such a
/// virtual is never really checked.
fn unchecked(v: &VirtualService, d: &mut Diagnostics) {
    let negotiates = matches!(
        v.check.check_type,
        CheckType::Negotiate | CheckType::Combined(_)
    );
    if !negotiates || v.check.service != CheckService::None || v.check.service_explicit {
        return;
    }
    let reason = if v.key.is_fwmark() {
        "firewall-mark services default to service=none".to_owned()
    } else {
        format!(
            "port {} has no default service, so service=none",
            v.key.port()
        )
    };
    d.warn(
        v.line,
        WarningKind::Unchecked {
            label: v.label(),
            reason: format!("{reason}; set service= or checktype="),
        },
    );
}

fn check_strings(v: &VirtualService, block: &RawVirtual, d: &mut Diagnostics) {
    let c = &v.check;
    let negotiates = matches!(c.check_type, CheckType::Negotiate | CheckType::Combined(_));
    if !negotiates {
        return;
    }
    let http = matches!(
        c.service,
        CheckService::Http | CheckService::Https | CheckService::HttpProxy
    );
    if http && c.http_method == HttpMethod::Head && !c.receive.is_empty() {
        d.note(
            block.http_method_line,
            "httpmethod=HEAD with a receive string: HEAD responses have no body, so the check always fails",
        );
    }
    if c.service == CheckService::Dns && c.receive.is_empty() {
        d.note(v.line, "dns checks with an empty receive always fail");
    }
    if matches!(c.service, CheckService::Ftp | CheckService::Simpletcp) && c.receive.is_empty() {
        d.note(
            v.line,
            format!(
                "{} checks need a receive string; without one ldirectord's result is unreliable",
                c.service.keyword()
            ),
        );
    }
    if matches!(c.service, CheckService::Mysql | CheckService::Pgsql) && c.login.is_empty() {
        d.note(
            v.line,
            "database checks need login=; without it every real stays down",
        );
    }
    if c.service == CheckService::Oracle {
        d.note(
            v.line,
            "service=oracle is not supported by lvsctl (Oracle's login needs Oracle's client library): every real stays down; use checktype=connect or checktype=external",
        );
    }
}

/// Checks ldirectord cannot run over IPv6: there only the services dns, http, https, nntp,
/// none, simpletcp and sip work, and `ping` does not (docs/ldirectord-compat.md, Deliberate
/// differences).
fn ipv6_limits(v: &VirtualService, d: &mut Diagnostics) {
    if v.key.af() != AddressFamily::Inet6 {
        return;
    }
    if v.check.check_type == CheckType::Ping {
        d.note(v.line, "ldirectord cannot ping IPv6 real servers");
    }
    let v6_ok = matches!(
        v.check.service,
        CheckService::Dns
            | CheckService::Http
            | CheckService::Https
            | CheckService::Nntp
            | CheckService::None
            | CheckService::Simpletcp
            | CheckService::Sip
    );
    if !v6_ok {
        d.note(
            v.line,
            format!(
                "ldirectord does not support service={} over IPv6",
                v.check.service.keyword()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::health::config::{StaticEnv, parse_config};

    fn notes(block: &str) -> Vec<String> {
        let text = format!("virtual=192.0.2.1:1521\n    real=10.0.0.2:1521 gate\n{block}");
        let (_, warnings) =
            parse_config("t.cf", &text, &StaticEnv::with_common_services()).unwrap();
        warnings.iter().map(|w| w.kind.to_string()).collect()
    }

    #[test]
    fn oracle_checks_are_flagged_as_unsupported() {
        let flagged = |n: &[String]| {
            n.iter()
                .any(|t| t.starts_with("service=oracle is not supported"))
        };
        // Port 1521 derives service=oracle; an explicit one with a login is flagged too.
        assert!(flagged(&notes("")));
        assert!(flagged(&notes("    service=oracle\n    login=\"scott\"\n")));
        assert!(
            !notes("    service=oracle\n    login=\"scott\"\n")
                .iter()
                .any(|t| t.starts_with("database checks need login"))
        );
        assert!(!flagged(&notes("    checktype=connect\n")));
        assert!(!flagged(&notes("    service=pgsql\n    login=\"u\"\n")));
    }
}
