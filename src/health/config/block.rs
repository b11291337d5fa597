//! Lines inside a `virtual=` block (docs/ldirectord-compat.md, Per-virtual directives),
//! collected as written; defaults and globals are applied later by `finish`, once the whole
//! file is known.

use super::diag::{Diagnostics, ErrorKind};
use super::env::ParseEnv;
use super::fallback::FallbackSpec;
use super::header::Target;
use super::model::{AlertStatus, CheckService, CheckType, HttpMethod, RedirectPolicy};
use super::shared::{Offer, Shared, parse_shared};
use super::values::{
    first_digits, first_run, first_word, number, optionally_quoted, required_quoted,
    split_directive, warn_junk, yes_no,
};

/// The protocol a virtual is filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    /// Not in ldirectord; accepted with a warning.
    Sctp,
    Fwm,
}

/// One block as read.
#[derive(Debug, Clone)]
pub struct RawVirtual {
    pub line: usize,
    pub six: bool,
    /// None when the header itself was rejected (the block is still checked).
    pub target: Option<Target>,
    pub protocol: Proto,
    pub reals: Vec<(usize, String)>,
    pub fallback: Option<FallbackSpec>,
    pub check_type: CheckType,
    pub service: Option<CheckService>,
    /// Line of an explicit `service=`.
    pub service_line: Option<usize>,
    pub check_command: String,
    pub check_port: Option<u16>,
    pub request: String,
    pub receive: String,
    pub http_method: HttpMethod,
    /// Line of `httpmethod=`, for the HEAD-with-receive warning.
    pub http_method_line: usize,
    pub virtual_host: Option<String>,
    pub login: String,
    pub passwd: String,
    pub database: String,
    pub secret: String,
    pub scheduler: String,
    pub persistent: Option<(usize, u32)>,
    pub netmask: Option<(usize, String)>,
    pub sched_flags: Option<String>,
    pub ops: Option<(usize, bool)>,
    pub check_timeout: Option<u32>,
    pub negotiate_timeout: Option<u32>,
    pub check_count: Option<u32>,
    pub failure_count: Option<u32>,
    pub rise: Option<u32>,
    pub redirects: Option<RedirectPolicy>,
    pub cleartext_passwords: Option<bool>,
    pub check_interval: Option<(usize, u32)>,
    pub fallback_command: Option<String>,
    pub quiescent: Option<bool>,
    pub cleanstop: Option<bool>,
    pub email_alert: Option<String>,
    pub email_freq: Option<u32>,
    pub email_status: Option<AlertStatus>,
    pub smtp: Option<String>,
    pub monitor_file: Option<String>,
    pub service_name: Option<String>,
    pub comment: Option<String>,
}

impl RawVirtual {
    /// ldirectord's per-block defaults (protocol udp for port 53/`domain`, fwm for marks).
    pub fn new(line: usize, six: bool, target: Option<Target>) -> Self {
        let protocol = match &target {
            Some(Target::Fwmark(_)) => Proto::Fwm,
            Some(Target::Addr { port, .. }) if port == "53" || port == "domain" => Proto::Udp,
            _ => Proto::Tcp,
        };
        let service = matches!(target, Some(Target::Fwmark(_))).then_some(CheckService::None);
        Self {
            line,
            six,
            target,
            protocol,
            reals: Vec::new(),
            fallback: None,
            check_type: CheckType::Negotiate,
            service,
            service_line: None,
            check_command: "/bin/true".to_owned(),
            check_port: None,
            request: "/".to_owned(),
            receive: String::new(),
            http_method: HttpMethod::Get,
            http_method_line: line,
            virtual_host: None,
            login: String::new(),
            passwd: String::new(),
            database: String::new(),
            secret: String::new(),
            scheduler: "wrr".to_owned(),
            persistent: None,
            netmask: None,
            sched_flags: None,
            ops: None,
            check_timeout: None,
            negotiate_timeout: None,
            check_count: None,
            failure_count: None,
            rise: None,
            redirects: None,
            cleartext_passwords: None,
            check_interval: None,
            fallback_command: None,
            quiescent: None,
            cleanstop: None,
            email_alert: None,
            email_freq: None,
            email_status: None,
            smtp: None,
            monitor_file: None,
            service_name: None,
            comment: None,
        }
    }

    /// Reads one block line into this block.
    pub fn apply(&mut self, d: &mut Diagnostics, env: &dyn ParseEnv, line: usize, text: &str) {
        let Some((key, value)) = split_directive(text) else {
            d.error(line, ErrorKind::UnknownDirective(text.to_owned()));
            return;
        };
        match parse_shared(d, line, key, value, true) {
            Offer::Parsed(shared) => return self.apply_shared(d, line, key, shared),
            Offer::Rejected => return,
            Offer::NotMine => {}
        }
        if !self.apply_check(d, env, line, key, value) && !self.apply_service(d, line, key, value) {
            let kind = match key {
                "autoreload" | "callback" | "logfile" | "execute" | "fork" | "supervised"
                | "readdquiescent" | "emailalertfrom" | "maintenancedir" | "virtual"
                | "virtual6" => ErrorKind::GlobalOnly(key.to_owned()),
                _ => ErrorKind::UnknownDirective(key.to_owned()),
            };
            d.error(line, kind);
        }
    }

    fn apply_shared(&mut self, d: &mut Diagnostics, line: usize, key: &str, shared: Shared) {
        match shared {
            Shared::CheckTimeout(n) => self.check_timeout = Some(n),
            Shared::NegotiateTimeout(n) => self.negotiate_timeout = Some(n),
            Shared::CheckCount(n) => self.check_count = Some(n),
            Shared::FailureCount(n) => self.failure_count = Some(n),
            Shared::Rise(n) => self.rise = Some(n),
            Shared::Redirects(p) => self.redirects = Some(p),
            Shared::CleartextPasswords(b) => self.cleartext_passwords = Some(b),
            Shared::CheckInterval(n) => self.check_interval = Some((line, n)),
            Shared::Quiescent(b) => self.quiescent = Some(b),
            Shared::Cleanstop(b) => self.cleanstop = Some(b),
            Shared::EmailAlert(s) => self.email_alert = Some(s),
            Shared::EmailAlertFreq(n) => self.email_freq = Some(n),
            Shared::EmailAlertStatus(s) => self.email_status = Some(s),
            Shared::Smtp(s) => self.smtp = Some(s),
            Shared::FallbackCommand(s) => self.fallback_command = Some(s),
            Shared::Fallback { six, spec } => {
                if six == self.six {
                    self.fallback = Some(spec);
                } else {
                    d.error(line, wrong_family(key, self.six));
                }
            }
        }
    }

    /// Check-related directives; false if `key` is not one of them.
    fn apply_check(
        &mut self,
        d: &mut Diagnostics,
        env: &dyn ParseEnv,
        line: usize,
        key: &str,
        value: &str,
    ) -> bool {
        match key {
            "real" | "real6" => {
                if (key == "real6") == self.six {
                    self.reals.push((line, value.to_owned()));
                } else {
                    d.error(line, wrong_family(key, self.six));
                }
            }
            "request" => {
                if let Some(r) = required_quoted(d, line, key, value) {
                    self.request = with_slash(r);
                }
            }
            "receive" => set(&mut self.receive, required_quoted(d, line, key, value)),
            "login" => set(&mut self.login, required_quoted(d, line, key, value)),
            "passwd" => set(&mut self.passwd, required_quoted(d, line, key, value)),
            "database" => set(&mut self.database, required_quoted(d, line, key, value)),
            "secret" => set(&mut self.secret, required_quoted(d, line, key, value)),
            "load" => {
                required_quoted(d, line, key, value);
            }
            "checktype" => self.check_type(d, line, value),
            "checkcommand" => {
                let cmd = optionally_quoted(value);
                if cmd.is_empty() {
                    d.invalid(line, key, value, "no command given");
                } else {
                    cmd.clone_into(&mut self.check_command);
                }
            }
            "checkport" => {
                let port = number(d, line, key, value, true);
                match port.map(u16::try_from) {
                    Some(Ok(p)) => self.check_port = Some(p),
                    Some(Err(_)) => d.invalid(line, key, value, "port must be 1..65535"),
                    None => {}
                }
            }
            "service" => self.service(d, env, line, value),
            "httpmethod" => match first_word(value).map(str::to_ascii_uppercase).as_deref() {
                Some("GET") => self.http_method = HttpMethod::Get,
                Some("HEAD") => {
                    self.http_method = HttpMethod::Head;
                    self.http_method_line = line;
                }
                _ => d.invalid(line, key, value, "must be GET or HEAD"),
            },
            "virtualhost" => {
                let host = value.strip_prefix('"').unwrap_or(value);
                let host = host.split('"').next().unwrap_or_default();
                self.virtual_host = Some(host.to_owned());
            }
            "monitorfile" => {
                let path = optionally_quoted(value);
                match env.appendable(path) {
                    Ok(()) => self.monitor_file = Some(path.to_owned()),
                    Err(reason) => d.error(
                        line,
                        ErrorKind::File {
                            what: "monitorfile",
                            path: path.to_owned(),
                            reason,
                        },
                    ),
                }
            }
            "servicename" => self.service_name = Some(value.to_owned()),
            "comment" => self.comment = Some(value.to_owned()),
            _ => return false,
        }
        true
    }

    fn check_type(&mut self, d: &mut Diagnostics, line: usize, value: &str) {
        // Any number anywhere means "combined" (the manual's checktimeoutN form).
        if let Some(digits) = first_digits(value) {
            match digits.parse() {
                Ok(n) => self.check_type = CheckType::Combined(n),
                Err(_) => d.invalid(line, "checktype", value, "number out of range"),
            }
            return;
        }
        let word = first_run(value, |c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        match word.and_then(CheckType::from_keyword) {
            Some(t) => {
                warn_junk(d, line, "checktype", value, word.unwrap_or_default());
                self.check_type = t;
            }
            None => d.invalid(
                line,
                "checktype",
                value,
                "must be connect, negotiate, on, off, ping, external, external-perl or a number",
            ),
        }
    }

    /// `service=`; ftp and sip fill in default credentials right away if none were given
    /// yet, so a later `login=` still wins (ldirectord's order-dependent behaviour).
    fn service(&mut self, d: &mut Diagnostics, env: &dyn ParseEnv, line: usize, value: &str) {
        let word = first_word(value);
        let Some(service) = word.and_then(CheckService::from_keyword) else {
            let all: Vec<&str> = CheckService::keywords().collect();
            let problem = format!("must be one of {} (lower case)", all.join(", "));
            d.invalid(line, "service", value, &problem);
            return;
        };
        warn_junk(d, line, "service", value, word.unwrap_or_default());
        self.service = Some(service);
        self.service_line = Some(line);
        let me = format!("ldirectord@{}", env.hostname());
        match service {
            CheckService::Ftp => {
                fill(&mut self.login, "anonymous");
                fill(&mut self.passwd, &me);
            }
            CheckService::Sip => fill(&mut self.login, &me),
            _ => {}
        }
    }

    /// Directives that shape the kernel's virtual service.
    fn apply_service(&mut self, d: &mut Diagnostics, line: usize, key: &str, value: &str) -> bool {
        match key {
            "scheduler" => match first_run(value, |c| c.is_ascii_lowercase()) {
                Some(s) => {
                    warn_junk(d, line, key, value, s);
                    s.clone_into(&mut self.scheduler);
                }
                None => d.invalid(line, key, value, "scheduler names are lower-case letters"),
            },
            "persistent" => {
                if let Some(n) = number(d, line, key, value, false) {
                    self.persistent = Some((line, n));
                }
            }
            "netmask" => self.netmask = Some((line, value.to_owned())),
            "schedflags" => match value.split_whitespace().next() {
                Some(f) => {
                    warn_junk(d, line, key, value, f);
                    self.sched_flags = Some(f.to_owned());
                }
                None => d.invalid(line, key, value, "no flags given"),
            },
            "protocol" => self.protocol(d, line, value),
            "ops" => {
                if let Some(b) = yes_no(d, line, key, value) {
                    self.ops = Some((line, b));
                }
            }
            _ => return false,
        }
        true
    }

    fn protocol(&mut self, d: &mut Diagnostics, line: usize, value: &str) {
        let word = first_word(value).unwrap_or_default();
        match (self.protocol, word) {
            (Proto::Fwm, "fwm") => {}
            (Proto::Fwm, _) => d.invalid(
                line,
                "protocol",
                value,
                "a firewall-mark virtual service needs protocol=fwm",
            ),
            (_, "tcp") => self.protocol = Proto::Tcp,
            (_, "udp") => self.protocol = Proto::Udp,
            (_, "sctp") => {
                d.note(
                    line,
                    "protocol=sctp is an lvsctl extension that ldirectord rejects",
                );
                self.protocol = Proto::Sctp;
            }
            _ => {
                d.invalid(
                    line,
                    "protocol",
                    value,
                    "an address:port virtual service needs tcp or udp",
                );
                return;
            }
        }
        warn_junk(d, line, "protocol", value, word);
    }
}

fn set(slot: &mut String, value: Option<String>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn fill(slot: &mut String, default: &str) {
    if slot.is_empty() {
        default.clone_into(slot);
    }
}

/// ldirectord keeps requests with a leading `/`.
pub fn with_slash(request: String) -> String {
    if request.starts_with('/') {
        request
    } else {
        format!("/{request}")
    }
}

fn wrong_family(found: &str, six: bool) -> ErrorKind {
    let base = found.trim_end_matches('6');
    ErrorKind::WrongFamily {
        found: found.to_owned(),
        instead: if six {
            format!("{base}6")
        } else {
            base.to_owned()
        },
    }
}
