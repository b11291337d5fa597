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
use crate::names::{Family, Resolver};

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
    "keepalive",
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

/// The keys of a virtual block besides `address`.
const VIRTUAL_KEYS: &[&str] = &[
    "active",
    "vip_nmask",
    "port",
    "fwmark",
    "persistent",
    "pmask",
    "protocol",
    "scheduler",
    "timeout",
    "reentry",
    "quiesce_server",
    "send",
    "expect",
    "use_regex",
    "send_program",
    "load_monitor",
    "client_monitor",
];

const FAILOVER: &str =
    "failover between the directors is VRRP's job (keepalived), not the checker's";

/// A virtual being read.
struct Virtual {
    v: PiranhaVirtual,
    address: Option<Ipv4Addr>,
    port: u16,
    fwmark: u32,
    protocol: Protocol,
    persistent: u32,
    pmask: Option<Ipv4Addr>,
    send: Option<String>,
    expect: Option<String>,
    use_regex: bool,
    server: Option<(PiranhaServer, bool)>,
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

struct Parser<'e> {
    names: &'e dyn Resolver,
    diags: Vec<Diagnostic>,
    config: PiranhaConfig,
}

/// `NAME = VALUE...`: the values, when the line has that shape.
fn key_values(toks: &[Token]) -> Option<&[Token]> {
    (toks.len() >= 2 && toks[1].text == "=" && !toks[1].quoted).then(|| &toks[2..])
}

impl Parser<'_> {
    fn error(&mut self, line: usize, message: String) {
        self.diags.push(Diagnostic {
            line,
            severity: Severity::Error,
            message,
        });
    }

    fn warn(&mut self, line: usize, severity: Severity, message: String) {
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
    fn one<'t>(&mut self, line: usize, toks: &'t [Token]) -> Option<&'t Token> {
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

    /// A key of a server block; true when it set the address.
    fn server_key(&mut self, s: &mut PiranhaServer, line: usize, toks: &[Token]) -> bool {
        let key = toks[0].text.clone();
        match key.as_str() {
            "address" | "active" | "weight" => {}
            _ => {
                self.warn(
                    line,
                    Severity::Warning,
                    format!("unknown server key `{key}`; ignored"),
                );
                return false;
            }
        }
        let Some(value) = self.one(line, toks).map(|t| t.text.clone()) else {
            return false;
        };
        match key.as_str() {
            "address" => {
                if let Some(a) = self.address(line, &value) {
                    s.address = IpAddr::V4(a);
                    return true;
                }
            }
            "active" => {
                if let Some(b) = self.boolean(line, &key, &value) {
                    s.active = b;
                }
            }
            _ => {
                if let Some(w) = self.number(line, &key, &value, 0, i32::MAX as u64) {
                    s.weight = w as u32;
                }
            }
        }
        false
    }

    fn virtual_key(&mut self, v: &mut Virtual, line: usize, toks: &[Token]) {
        let key = toks[0].text.clone();
        if key == "address" {
            match key_values(toks) {
                Some([ip] | [ip, _]) => {
                    v.address = self.address(line, &ip.text);
                    v.v.interface = toks.get(3).map(|t| t.text.clone());
                }
                _ => self.error(line, "expected `address = IP [INTERFACE]`".to_owned()),
            }
            return;
        }
        if !VIRTUAL_KEYS.contains(&key.as_str()) {
            self.warn(
                line,
                Severity::Warning,
                format!("unknown virtual key `{key}`; ignored"),
            );
            return;
        }
        let Some(value) = self.one(line, toks).map(|t| t.text.clone()) else {
            return;
        };
        let secs = |n: u64| Duration::from_secs(n);
        match key.as_str() {
            "active" => v.v.active = self.boolean(line, &key, &value).unwrap_or(v.v.active),
            "vip_nmask" => v.v.vip_nmask = self.mask(line, &key, &value),
            "pmask" => v.pmask = self.mask(line, &key, &value),
            "port" => {
                if let Some(p) = self.port(line, &value) {
                    v.port = p;
                }
            }
            "fwmark" => {
                if let Some(m) = self.number(line, &key, &value, 0, u64::from(u32::MAX)) {
                    v.fwmark = m as u32;
                }
            }
            "persistent" => {
                if let Some(t) = self.number(line, &key, &value, 0, u64::from(u32::MAX)) {
                    v.persistent = t as u32;
                }
            }
            "protocol" => match value.to_ascii_lowercase().as_str() {
                "tcp" => v.protocol = Protocol::Tcp,
                "udp" => v.protocol = Protocol::Udp,
                _ => self.error(
                    line,
                    format!("`protocol` must be tcp or udp, not {value:?}"),
                ),
            },
            "scheduler" => {
                let s = Scheduler::new(value.clone());
                if s.is_known() && value != "none" {
                    v.v.scheduler = s;
                } else {
                    self.error(line, format!("unknown scheduler {value:?}"));
                }
            }
            "timeout" => {
                if let Some(n) = self.number(line, &key, &value, 1, 86_400) {
                    v.v.check.timeout = secs(n);
                }
            }
            "reentry" => {
                if let Some(n) = self.number(line, &key, &value, 0, 86_400 * 31) {
                    v.v.check.reentry = secs(n);
                }
            }
            "quiesce_server" => {
                v.v.quiesce_server = self.boolean(line, &key, &value).unwrap_or(false);
            }
            "use_regex" => v.use_regex = self.boolean(line, &key, &value).unwrap_or(false),
            "send" => v.send = Some(value),
            "expect" => v.expect = Some(value),
            "send_program" => v.v.check.send_program = Some(value),
            "load_monitor" => match value.as_str() {
                "none" => v.v.load_monitor = LoadMonitor::None,
                "rup" | "ruptime" => {
                    v.v.load_monitor = if value == "rup" {
                        LoadMonitor::Rup
                    } else {
                        LoadMonitor::Ruptime
                    };
                    self.warn(
                        line,
                        Severity::Warning,
                        format!("load_monitor = {value} (weights from rstatd/rwhod load) is not supported; the weights stay as configured"),
                    );
                }
                _ => self.error(
                    line,
                    format!("`load_monitor` must be none, rup or ruptime, not {value:?}"),
                ),
            },
            // nanny's own path: lvsctl is the monitor.
            _ => {}
        }
    }

    /// Checks a finished virtual and stores it.
    fn finish(&mut self, mut v: Virtual) {
        let Some(addr) = v.address else {
            self.error(v.v.line, format!("virtual {} has no `address`", v.v.name));
            return;
        };
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

    fn boolean(&mut self, line: usize, key: &str, value: &str) -> Option<bool> {
        match value {
            "0" => Some(false),
            "1" => Some(true),
            _ => {
                self.error(line, format!("`{key}` must be 0 or 1, not {value:?}"));
                None
            }
        }
    }

    fn number(&mut self, line: usize, key: &str, value: &str, min: u64, max: u64) -> Option<u64> {
        match value.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.error(
                    line,
                    format!("`{key}` must be a number from {min} to {max}, not {value:?}"),
                );
                None
            }
        }
    }

    fn mask(&mut self, line: usize, key: &str, value: &str) -> Option<Ipv4Addr> {
        let mask = value.parse::<Ipv4Addr>().ok();
        if mask.is_none() {
            self.error(
                line,
                format!("`{key}` must be a netmask like 255.255.255.0, not {value:?}"),
            );
        }
        mask
    }

    fn port(&mut self, line: usize, value: &str) -> Option<u16> {
        let port = value
            .parse::<u16>()
            .ok()
            .or_else(|| self.names.service_port(value, "tcp"));
        if port.is_none() {
            self.error(
                line,
                format!("`port` must be a port number or service name, not {value:?}"),
            );
        }
        port
    }

    fn address(&mut self, line: usize, value: &str) -> Option<Ipv4Addr> {
        let addr = value.parse::<Ipv4Addr>().ok().or_else(|| {
            match self.names.host_addr(value, Family::V4) {
                Some(IpAddr::V4(a)) => Some(a),
                _ => None,
            }
        });
        if addr.is_none() {
            self.error(
                line,
                format!("{value:?} is not an IPv4 address or a host name with one"),
            );
        }
        addr
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
