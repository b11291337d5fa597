//! lvs.cf's structure and keys: `key = value` lines at the top (pulse's settings),
//! `virtual NAME {` blocks of keys and `server NAME {` blocks inside them.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::diag::{Diagnostic, Severity};
use super::lexer::{Token, tokens, unescape};
use super::model::{
    Expect, Ignored, LoadMonitor, NannyCheck, Persistence, PiranhaConfig, PiranhaServer,
    PiranhaVirtual,
};
use crate::ipvs::model::{AddressFamily, ForwardMethod, Netmask, Protocol, Scheduler, ServiceKey};
use crate::names::Resolver;

/// pulse's keys: failover between the two directors, which is VRRP's job here.
const PULSE_KEYS: &[&str] = &[
    "serial_no",
    "primary",
    "primary_private",
    "service",
    "backup_active",
    "backup",
    "backup_private",
    "heartbeat",
    "heartbeat_port",
    "deadtime",
    "nat_router",
    "nat_nmask",
    "debug_level",
    "monitor_links",
    "syncdaemon",
    "syncd_iface",
    "syncd_id",
    "tcp_timeout",
    "tcpfin_timeout",
    "udp_timeout",
    "rsh_command",
    "hard_shutdown",
];

const FAILOVER: &str =
    "failover between the directors is VRRP's job (keepalived), not the checker's";

/// A virtual being read.
pub(super) struct Virtual {
    pub(super) v: PiranhaVirtual,
    pub(super) address: Option<Ipv4Addr>,
    pub(super) port: u16,
    pub(super) fwmark: u32,
    pub(super) protocol: Protocol,
    pub(super) persistent: u32,
    pub(super) pmask: Option<Ipv4Addr>,
    pub(super) send: Option<String>,
    pub(super) expect: Option<String>,
    pub(super) use_regex: bool,
    pub(super) server: Option<(PiranhaServer, bool)>,
}

enum State {
    Top,
    Virtual(Box<Virtual>),
    /// A `failover` block (pulse's own services): skipped to its `}`.
    Skip {
        from: usize,
    },
}

/// Reads the text; diagnostics in line order.
pub fn parse(text: &str, names: &dyn Resolver) -> (PiranhaConfig, Vec<Diagnostic>) {
    let mut p = Parser {
        names,
        diags: Vec::new(),
        config: PiranhaConfig {
            forwarding: ForwardMethod::Masq,
            keepalive: None,
            virtuals: Vec::new(),
            ignored: Vec::new(),
        },
    };
    let mut state = State::Top;
    let mut last = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        last = line;
        let toks = match tokens(raw) {
            Ok(t) if t.is_empty() => continue,
            Ok(t) => t,
            Err(e) => {
                p.error(line, e.to_owned());
                continue;
            }
        };
        state = match state {
            State::Top => p.top(line, &toks),
            State::Virtual(v) => p.in_virtual(*v, line, &toks),
            State::Skip { from } => {
                if toks[0].text == "}" {
                    State::Top
                } else {
                    State::Skip { from }
                }
            }
        };
    }
    match state {
        State::Top => {}
        State::Virtual(v) => {
            let (what, from) = match &v.server {
                Some((s, _)) => ("server", s.line),
                None => ("virtual", v.v.line),
            };
            p.error(
                from,
                format!("`{what}` block not closed (the file ends at line {last})"),
            );
        }
        State::Skip { from } => p.error(from, "`failover` block not closed".to_owned()),
    }
    p.diags.sort_by_key(|d| d.line);
    (p.config, p.diags)
}

pub(super) struct Parser<'e> {
    pub(super) names: &'e dyn Resolver,
    diags: Vec<Diagnostic>,
    config: PiranhaConfig,
}

/// `NAME = VALUE...`: the values, when the line has that shape.
pub(super) fn key_values(toks: &[Token]) -> Option<&[Token]> {
    (toks.len() >= 2 && toks[1].text == "=" && !toks[1].quoted).then(|| &toks[2..])
}

impl Parser<'_> {
    pub(super) fn error(&mut self, line: usize, message: String) {
        self.diags.push(Diagnostic {
            line,
            severity: Severity::Error,
            message,
        });
    }

    pub(super) fn warn(&mut self, line: usize, severity: Severity, message: String) {
        self.diags.push(Diagnostic {
            line,
            severity,
            message,
        });
    }

    /// `NAME {` opening a block.
    fn opens(&mut self, line: usize, toks: &[Token]) -> Option<String> {
        match toks {
            [_, name, brace] if brace.text == "{" => Some(name.text.clone()),
            _ => {
                self.error(line, format!("expected `{} NAME {{`", toks[0].text));
                None
            }
        }
    }

    /// The single value of `key = value`.
    pub(super) fn one<'t>(&mut self, line: usize, toks: &'t [Token]) -> Option<&'t Token> {
        let key = &toks[0].text;
        match key_values(toks) {
            None => {
                self.error(line, format!("expected `{key} = VALUE`"));
                None
            }
            Some([value]) => Some(value),
            Some([]) => {
                self.error(line, format!("`{key}` has no value"));
                None
            }
            Some(_) => {
                self.error(
                    line,
                    format!("`{key}` takes one value (quote a value with blanks)"),
                );
                None
            }
        }
    }

    fn top(&mut self, line: usize, toks: &[Token]) -> State {
        let key = toks[0].text.as_str();
        match key {
            "virtual" => {
                let Some(name) = self.opens(line, toks) else {
                    return State::Top;
                };
                State::Virtual(Box::new(Virtual::new(name, line)))
            }
            "failover" => {
                if let Some(name) = self.opens(line, toks) {
                    self.config.ignored.push(Ignored {
                        key: format!("failover {name}"),
                        value: String::new(),
                        line,
                        reason: FAILOVER,
                    });
                }
                State::Skip { from: line }
            }
            "}" => {
                self.error(line, "`}` without an open block".to_owned());
                State::Top
            }
            "network" => {
                if let Some(v) = self.one(line, toks) {
                    match v.text.as_str() {
                        "nat" => self.config.forwarding = ForwardMethod::Masq,
                        "direct" => self.config.forwarding = ForwardMethod::Route,
                        "tunnel" => self.config.forwarding = ForwardMethod::Tunnel,
                        other => self.error(
                            line,
                            format!("`network` must be nat, direct or tunnel, not {other:?}"),
                        ),
                    }
                }
                State::Top
            }
            "keepalive" => {
                if let Some(v) = self.one(line, toks) {
                    match v.text.parse::<u32>() {
                        Ok(n) if (1..=86_400).contains(&n) => self.config.keepalive = Some(n),
                        _ => self.error(
                            line,
                            format!(
                                "`keepalive` must be a number from 1 to 86400, not {:?}",
                                v.text
                            ),
                        ),
                    }
                }
                State::Top
            }
            _ => {
                let Some(values) = key_values(toks) else {
                    self.error(line, format!("expected `{key} = VALUE`"));
                    return State::Top;
                };
                let value = values
                    .iter()
                    .map(|t| t.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let reason = if PULSE_KEYS.contains(&key) {
                    FAILOVER
                } else {
                    self.warn(
                        line,
                        Severity::Warning,
                        format!("unknown key `{key}`; ignored"),
                    );
                    "unknown key"
                };
                self.config.ignored.push(Ignored {
                    key: key.to_owned(),
                    value,
                    line,
                    reason,
                });
                State::Top
            }
        }
    }

    fn in_virtual(&mut self, mut v: Virtual, line: usize, toks: &[Token]) -> State {
        if let Some((mut server, has_address)) = v.server.take() {
            if toks[0].text == "}" {
                if has_address {
                    v.v.servers.push(server);
                } else {
                    self.error(
                        server.line,
                        format!("server {} has no `address`", server.name),
                    );
                }
            } else {
                let has_address = self.server_key(&mut server, line, toks) || has_address;
                v.server = Some((server, has_address));
            }
            return State::Virtual(Box::new(v));
        }
        match toks[0].text.as_str() {
            "}" => {
                self.finish(v);
                State::Top
            }
            "server" => {
                if let Some(name) = self.opens(line, toks) {
                    let server = PiranhaServer {
                        name,
                        line,
                        address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                        active: true,
                        weight: 1,
                    };
                    v.server = Some((server, false));
                }
                State::Virtual(Box::new(v))
            }
            _ => {
                self.virtual_key(&mut v, line, toks);
                State::Virtual(Box::new(v))
            }
        }
    }

    /// Checks a finished virtual and stores it.
    fn finish(&mut self, mut v: Virtual) {
        let Some(addr) = v.address else {
            self.error(v.v.line, format!("virtual {} has no `address`", v.v.name));
            return;
        };
        v.v.port = v.port;
        v.v.protocol = v.protocol;
        v.v.service = if v.fwmark > 0 {
            ServiceKey::Fwmark {
                af: AddressFamily::Inet,
                mark: v.fwmark,
            }
        } else {
            ServiceKey::Addr {
                protocol: v.protocol,
                addr: IpAddr::V4(addr),
                port: v.port,
            }
        };
        if v.persistent > 0 {
            v.v.persistence = Some(Persistence {
                timeout: v.persistent,
                netmask: Netmask::V4(v.pmask.unwrap_or(Ipv4Addr::BROADCAST)),
            });
        }
        if v.v.check.send_program.is_some() && v.send.is_some() {
            self.warn(
                v.v.line,
                Severity::Note,
                format!(
                    "virtual {}: `send` is not used when `send_program` is set",
                    v.v.name
                ),
            );
        } else {
            v.v.check.send = v.send.as_deref().map(unescape);
        }
        v.v.check.expect = match (v.expect, v.use_regex) {
            (None, _) => None,
            (Some(e), false) => Some(Expect::Text(unescape(&e))),
            (Some(e), true) => match regex::bytes::Regex::new(&e) {
                Ok(_) => Some(Expect::Regex(e)),
                Err(err) => {
                    self.error(
                        v.v.line,
                        format!("virtual {}: invalid `expect` regex: {err}", v.v.name),
                    );
                    None
                }
            },
        };
        self.config.virtuals.push(v.v);
    }
}

impl Virtual {
    fn new(name: String, line: usize) -> Self {
        Self {
            v: PiranhaVirtual {
                name,
                line,
                active: true,
                service: ServiceKey::Fwmark {
                    af: AddressFamily::Inet,
                    mark: 0,
                },
                port: 80,
                protocol: Protocol::Tcp,
                interface: None,
                vip_nmask: None,
                scheduler: Scheduler::new("wlc"),
                persistence: None,
                check: NannyCheck {
                    send: None,
                    expect: None,
                    send_program: None,
                    timeout: Duration::from_secs(10),
                    reentry: Duration::from_mins(3),
                },
                quiesce_server: false,
                load_monitor: LoadMonitor::None,
                servers: Vec::new(),
            },
            address: None,
            port: 80,
            fwmark: 0,
            protocol: Protocol::Tcp,
            persistent: 0,
            pmask: None,
            send: None,
            expect: None,
            use_regex: false,
            server: None,
        }
    }
}
