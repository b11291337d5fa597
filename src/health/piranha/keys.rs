//! The keys of virtual and server blocks, and the readers of their values.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::diag::Severity;
use super::lexer::Token;
use super::model::{LoadMonitor, PiranhaServer};
use super::parse::{Parser, Virtual, key_values};
use crate::ipvs::model::{Protocol, Scheduler};
use crate::names::Family;

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

impl Parser<'_> {
    /// A key of a server block; true when it set the address.
    pub(super) fn server_key(
        &mut self,
        s: &mut PiranhaServer,
        line: usize,
        toks: &[Token],
    ) -> bool {
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

    pub(super) fn virtual_key(&mut self, v: &mut Virtual, line: usize, toks: &[Token]) {
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
