//! Turns the blocks as read into resolved virtual services: names are resolved with the
//! final protocol, ldirectord's defaults and precedence rules are applied
//! (docs/ldirectord-compat.md, Defaults and precedence), duplicates are rejected.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::block::{Proto, RawVirtual};
use super::diag::{Diagnostics, ErrorKind, WarningKind};
use super::env::ParseEnv;
use super::fallback::FallbackSpec;
use super::globals::RawGlobals;
use super::header::Target;
use super::model::{CheckService, CheckSettings, EmailSettings, Fallback, VirtualService};
use super::real::{literal_or_name, parse_real};
use crate::ipvs::model::{AddressFamily, Netmask, Protocol, ServiceKey};

/// Builds every virtual service; blocks with errors are left out (the errors are recorded).
pub fn finish(
    raw: &RawGlobals,
    blocks: &[RawVirtual],
    env: &dyn ParseEnv,
    d: &mut Diagnostics,
) -> Vec<VirtualService> {
    check_global_fallback(raw.fallback.as_ref(), AddressFamily::Inet, env, d);
    check_global_fallback(raw.fallback6.as_ref(), AddressFamily::Inet6, env, d);
    let mut seen: HashMap<ServiceKey, usize> = HashMap::new();
    let mut out = Vec::new();
    for block in blocks {
        let Some(v) = build(raw, block, env, d) else {
            continue;
        };
        if let Some(first_line) = seen.insert(v.key, v.line) {
            d.error(
                v.line,
                ErrorKind::DuplicateVirtual {
                    key: v.key.to_string(),
                    first_line,
                },
            );
            continue;
        }
        out.push(v);
    }
    out
}

fn family(six: bool) -> AddressFamily {
    if six {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    }
}

fn proto_name(p: Proto) -> &'static str {
    match p {
        Proto::Tcp | Proto::Fwm => "tcp",
        Proto::Udp => "udp",
        Proto::Sctp => "sctp",
    }
}

/// Resolves a port number or service name; numbers must fit in 16 bits.
fn port_of(env: &dyn ParseEnv, token: &str, proto: &str) -> Option<u16> {
    if token.bytes().all(|b| b.is_ascii_digit()) {
        token.parse().ok()
    } else {
        env.names().service_port(token, proto)
    }
}

fn service_key(block: &RawVirtual, env: &dyn ParseEnv, d: &mut Diagnostics) -> Option<ServiceKey> {
    let af = family(block.six);
    match block.target.as_ref()? {
        Target::Fwmark(mark) => Some(ServiceKey::Fwmark { af, mark: *mark }),
        Target::Addr { host, port } => {
            let proto = proto_name(block.protocol);
            let Some(addr) = literal_or_name(env, af, host) else {
                let what = if block.six {
                    "IPv6 virtual address"
                } else {
                    "IPv4 virtual address"
                };
                d.error(
                    block.line,
                    ErrorKind::Resolve {
                        what,
                        name: host.clone(),
                    },
                );
                return None;
            };
            let Some(port) = port_of(env, port, proto) else {
                let name = format!("{port}/{proto}");
                d.error(
                    block.line,
                    ErrorKind::Resolve {
                        what: "virtual port",
                        name,
                    },
                );
                return None;
            };
            let protocol = match block.protocol {
                Proto::Udp => Protocol::Udp,
                Proto::Sctp => Protocol::Sctp,
                Proto::Tcp | Proto::Fwm => Protocol::Tcp,
            };
            Some(ServiceKey::Addr {
                protocol,
                addr,
                port,
            })
        }
    }
}

fn build(
    raw: &RawGlobals,
    block: &RawVirtual,
    env: &dyn ParseEnv,
    d: &mut Diagnostics,
) -> Option<VirtualService> {
    let errors_before = d.errors.len();
    let key = service_key(block, env, d);
    let g = &raw.globals;
    let af = family(block.six);
    let vport = key.map_or(0, |k| k.port());
    let service = block
        .service
        .unwrap_or_else(|| CheckService::for_port(vport));
    let check = CheckSettings {
        check_type: block.check_type,
        service,
        service_explicit: block.service_line.is_some(),
        check_port: block.check_port,
        check_command: block.check_command.clone(),
        request: block.request.clone(),
        receive: block.receive.clone(),
        http_method: block.http_method,
        virtual_host: block.virtual_host.clone(),
        login: block.login.clone(),
        passwd: block.passwd.clone(),
        database: block.database.clone(),
        secret: block.secret.clone(),
        check_timeout: block
            .check_timeout
            .or(block.negotiate_timeout)
            .or(g.check_timeout)
            .or(g.negotiate_timeout)
            .unwrap_or(5),
        negotiate_timeout: block
            .negotiate_timeout
            .or(block.check_timeout)
            .or(g.negotiate_timeout)
            .or(g.check_timeout)
            .unwrap_or(30),
        check_count: block.check_count.unwrap_or(g.check_count),
        redirects: block.redirects.unwrap_or(g.redirects),
        cleartext_passwords: block.cleartext_passwords.unwrap_or(g.cleartext_passwords),
    };
    let mut reals = Vec::new();
    for (line, text) in &block.reals {
        for mut r in parse_real(d, env, *line, af, text) {
            r.check_port = check
                .check_port
                .or((r.port > 0).then_some(r.port))
                .or(service.well_known_port());
            reals.push(r);
        }
    }
    let fallback = match (&block.fallback, key) {
        (Some(spec), Some(k)) => {
            resolve_fallback(spec, af, proto_name(block.protocol), k.port(), env, d)
        }
        (None, Some(k)) => global_fallback(raw, block, k, env, d),
        _ => None,
    };
    let check_interval = match block.check_interval {
        Some((line, _)) if !g.fork => {
            d.warn(line, WarningKind::CheckIntervalIgnored);
            g.check_interval
        }
        Some((_, n)) => n,
        None => g.check_interval,
    };
    let persistent = match block.persistent {
        Some((line, 0)) => {
            d.note(
                line,
                "a persistence timeout of 0 is rejected by ipvsadm; persistence is off",
            );
            None
        }
        other => other.map(|(_, n)| n),
    };
    let netmask = block
        .netmask
        .as_ref()
        .and_then(|(line, text)| netmask(d, *line, af, text));
    if let (Some((line, _)), None) = (&block.netmask, persistent) {
        d.note(*line, "netmask only takes effect together with persistent");
    }
    if let Some((line, true)) = block.ops
        && block.protocol != Proto::Udp
    {
        d.note(line, "ops=yes is only applied to UDP virtual services");
    }
    if d.errors.len() > errors_before {
        return None;
    }
    let v = VirtualService {
        line: block.line,
        key: key?,
        scheduler: block.scheduler.clone(),
        persistent,
        netmask,
        sched_flags: block.sched_flags.clone(),
        ops: block.ops.is_some_and(|(_, b)| b) && block.protocol == Proto::Udp,
        reals,
        fallback,
        fallback_command: block
            .fallback_command
            .clone()
            .or_else(|| g.fallback_command.clone()),
        check,
        quiescent: block.quiescent.unwrap_or(g.quiescent),
        cleanstop: block.cleanstop.unwrap_or(g.cleanstop),
        failure_count: block.failure_count.unwrap_or(g.failure_count),
        rise: block.rise.unwrap_or(g.rise),
        check_interval,
        retry_delay: None,
        keepalived_http: None,
        keepalived_check: None,
        start_up: None,
        keepalived: None,
        nanny: None,
        email: EmailSettings {
            alert: block
                .email_alert
                .clone()
                .unwrap_or_else(|| g.email.alert.clone()),
            frequency: block.email_freq.unwrap_or(g.email.frequency),
            status: block.email_status.unwrap_or(g.email.status),
            smtp: block.smtp.clone().or_else(|| g.email.smtp.clone()),
        },
        monitor_file: block.monitor_file.clone(),
        service_name: block.service_name.clone(),
        comment: block.comment.clone(),
    };
    super::lint::lint_virtual(&v, block, d);
    Some(v)
}

fn netmask(d: &mut Diagnostics, line: usize, af: AddressFamily, text: &str) -> Option<Netmask> {
    let parsed = match af {
        AddressFamily::Inet => text.parse::<Ipv4Addr>().ok().map(Netmask::V4),
        AddressFamily::Inet6 => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=128).contains(n) && text.bytes().all(|b| b.is_ascii_digit()))
            .map(Netmask::V6),
    };
    if parsed.is_none() {
        let problem = match af {
            AddressFamily::Inet => "needs a dotted-quad mask",
            AddressFamily::Inet6 => "needs a prefix length between 1 and 128",
        };
        d.invalid(line, "netmask", text, problem);
    }
    parsed
}

fn resolve_fallback(
    spec: &FallbackSpec,
    af: AddressFamily,
    proto: &str,
    default_port: u16,
    env: &dyn ParseEnv,
    d: &mut Diagnostics,
) -> Option<Fallback> {
    let Some(addr) = literal_or_name(env, af, &spec.host) else {
        let what = if af == AddressFamily::Inet6 {
            "IPv6 fallback address"
        } else {
            "IPv4 fallback address"
        };
        d.error(
            spec.line,
            ErrorKind::Resolve {
                what,
                name: spec.host.clone(),
            },
        );
        return None;
    };
    let port = match &spec.port {
        None => default_port,
        Some(token) => {
            let Some(p) = port_of(env, token, proto) else {
                let name = format!("{token}/{proto}");
                d.error(
                    spec.line,
                    ErrorKind::Resolve {
                        what: "fallback port",
                        name,
                    },
                );
                return None;
            };
            p
        }
    };
    Some(Fallback {
        addr,
        port,
        forward: spec.forward,
        line: spec.line,
    })
}

/// ldirectord resolves the global fallback for tcp and udp at the line where it is written;
/// problems are reported there, once.
fn check_global_fallback(
    spec: Option<&FallbackSpec>,
    af: AddressFamily,
    env: &dyn ParseEnv,
    d: &mut Diagnostics,
) {
    let Some(spec) = spec else { return };
    if resolve_fallback(spec, af, "tcp", 0, env, d).is_some() {
        resolve_fallback(spec, af, "udp", 0, env, d);
    }
}

/// The global fallback of the virtual's family, with the virtual's port unless it has one.
fn global_fallback(
    raw: &RawGlobals,
    block: &RawVirtual,
    key: ServiceKey,
    env: &dyn ParseEnv,
    d: &mut Diagnostics,
) -> Option<Fallback> {
    let spec = if block.six {
        raw.fallback6.as_ref()
    } else {
        raw.fallback.as_ref()
    }?;
    if key.is_fwmark() {
        d.note(
            block.line,
            format!(
                "the global fallback (line {}) is not applied to firewall-mark virtual services \
                 (ldirectord fails at run time when it tries); give this block its own fallback=",
                spec.line
            ),
        );
        return None;
    }
    // Errors were already reported at the global line.
    let mut quiet = Diagnostics::new("");
    resolve_fallback(
        spec,
        family(block.six),
        proto_name(block.protocol),
        key.port(),
        env,
        &mut quiet,
    )
}
