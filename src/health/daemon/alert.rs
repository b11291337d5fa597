//! E-mail alerts (`emailalert`, `emailalertfreq`, `emailalertstatus`, `emailalertfrom`,
//! `smtp`), decided the way ldirectord decides them (docs/ldirectord-compat.md, Mail
//! alerts). Pure: this module turns kernel-change log lines into mails and keeps the "still
//! inaccessible" reminders; `mail` sends them.
//!
//! ldirectord mails on every change of a real or fallback server (`Quiescent`, `Deleted`,
//! `Restored`, `Added`, `Purged real server`), with the log message as subject (prefixed
//! `[servicename]` when set), and while a real stays down re-sends `Inaccessible real
//! server: <real> (<virtual>)` every `emailalertfreq` seconds. Nothing is sent while the
//! daemon is in a state `emailalertstatus` leaves out. The alert settings are the virtual's
//! (found by the label in the message), else the global ones.
//!
//! Daemon states: `starting` until every real has its first check result (our equivalent
//! of ldirectord's start-up reconciliation, so a restart does not mail "Added" for every
//! server under `running`), `reloading` likewise after a reload, `stopping` from TERM on.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::health::config::{AlertStatus, Config, EmailSettings};

/// ldirectord's daemon states, as named in mails and `emailalertstatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaemonStatus {
    Starting,
    Running,
    Stopping,
    Reloading,
}

impl DaemonStatus {
    pub fn bit(self) -> AlertStatus {
        match self {
            Self::Starting => AlertStatus::STARTING,
            Self::Running => AlertStatus::RUNNING,
            Self::Stopping => AlertStatus::STOPPING,
            Self::Reloading => AlertStatus::RELOADING,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Reloading => "reloading",
        }
    }
}

/// A server change ldirectord mails about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The mail subject before the `[servicename]` prefix (ldirectord's log text).
    pub subject: String,
    /// `<real> (<virtual>)`: the key of the inaccessible-server reminders.
    pub id: String,
    /// The virtual's label, to find its alert settings.
    pub label: String,
    /// The server went out of service: reminders start (with `emailalertfreq`).
    pub down: bool,
}

/// Reads a reconciler log line; None for lines ldirectord sends no mail for.
pub fn classify(message: &str) -> Option<Change> {
    let (verb, rest) = message.split_once(": ")?;
    let (down, subject_verb) = match verb {
        "Added real server"
        | "Added fallback server"
        | "Restored real server"
        | "Restored fallback server" => (false, verb),
        "Deleted fallback server" | "Purged real server (start)" | "Purged real server (stop)" => {
            (false, verb)
        }
        "Quiescent real server" | "Deleted real server" => (true, verb),
        // ldirectord logs a re-added quiescent real as "Readd Quiescent" but mails it as
        // "Quiescent" (`_remove_service`).
        "Readd Quiescent real server" => (true, "Quiescent real server"),
        _ => return None,
    };
    let (real, after) = rest.split_once(" (")?;
    let (label, _) = after.split_once(')')?;
    // `<kernel entry> mapped from <configured>`: the reminders are keyed by the configured
    // name, the one the "Added"/"Restored" lines that end them carry.
    let real = real
        .split_once(" mapped from ")
        .map_or(real, |(_, name)| name);
    Some(Change {
        subject: format!("{subject_verb}: {rest}"),
        id: format!("{real} ({label})"),
        label: label.to_owned(),
        down,
    })
}

/// Everything one mail needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The log line for it (`emailalert: <subject without the servicename>`).
    pub log: String,
    /// Recipients as written (comma separated).
    pub to: String,
    pub from: Option<String>,
    pub subject: String,
    pub body: String,
    /// Send through this SMTP server (`host` or `host:port`) instead of sendmail.
    pub smtp: Option<String>,
}

/// The alert settings that apply to one virtual.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    email: EmailSettings,
    service_name: Option<String>,
    comment: Option<String>,
}

/// The alert state of a daemon: its configuration and the pending reminders.
#[derive(Debug, Clone)]
pub struct Alerts {
    by_label: HashMap<String, Settings>,
    global: Settings,
    from: Option<String>,
    hostname: String,
    /// id → (virtual label, time of the last mail about it).
    inaccessible: HashMap<String, (String, SystemTime)>,
}

impl Alerts {
    pub fn new(config: &Config, hostname: &str) -> Self {
        let mut a = Self {
            by_label: HashMap::new(),
            global: Settings {
                email: EmailSettings::default(),
                service_name: None,
                comment: None,
            },
            from: None,
            hostname: hostname.to_owned(),
            inaccessible: HashMap::new(),
        };
        a.configure(config);
        a
    }

    /// Takes the settings of a (re)loaded configuration; pending reminders are kept.
    pub fn configure(&mut self, config: &Config) {
        self.global.email = config.globals.email.clone();
        self.from.clone_from(&config.globals.email_alert_from);
        self.by_label.clear();
        for v in &config.virtuals {
            // A TCP and a UDP virtual on the same address share a label; the first wins.
            self.by_label.entry(v.label()).or_insert_with(|| Settings {
                email: v.email.clone(),
                service_name: v.service_name.clone(),
                comment: v.comment.clone(),
            });
        }
    }

    fn settings(&self, label: &str) -> &Settings {
        self.by_label.get(label).unwrap_or(&self.global)
    }

    /// A server change: updates the reminders and returns the mail to send, if any.
    pub fn change(&mut self, c: &Change, status: DaemonStatus, now: SystemTime) -> Option<Mail> {
        let freq = self.settings(&c.label).email.frequency;
        if c.down && freq > 0 {
            self.inaccessible
                .insert(c.id.clone(), (c.label.clone(), now));
        } else {
            self.inaccessible.remove(&c.id);
        }
        self.compose(&c.label, &c.subject, status)
    }

    /// Reminders that are due at `now` (each at most once per `emailalertfreq`).
    pub fn reminders(&mut self, status: DaemonStatus, now: SystemTime) -> Vec<Mail> {
        let mut due: Vec<(String, String)> = Vec::new();
        for (id, (label, last)) in &self.inaccessible {
            let freq = Duration::from_secs(u64::from(self.settings(label).email.frequency));
            if now.duration_since(*last).unwrap_or_default() >= freq {
                due.push((id.clone(), label.clone()));
            }
        }
        due.sort();
        let mut out = Vec::new();
        for (id, label) in due {
            if let Some(entry) = self.inaccessible.get_mut(&id) {
                entry.1 = now;
            }
            let subject = format!("Inaccessible real server: {id}");
            out.extend(self.compose(&label, &subject, status));
        }
        out
    }

    /// The mail for `subject` about virtual `label`, unless filtered out.
    fn compose(&self, label: &str, subject: &str, status: DaemonStatus) -> Option<Mail> {
        let s = self.settings(label);
        if !s.email.status.contains(status.bit()) || s.email.alert.is_empty() {
            return None;
        }
        let subject_as_logged = subject;
        let subject = match &s.service_name {
            Some(name) if !name.is_empty() => format!("[{name}] {subject}"),
            _ => subject.to_owned(),
        };
        let mut body = format!(
            "ldirectord host: {}\nLog-Message: {subject}\nDaemon-Status: {}\n",
            self.hostname,
            status.name()
        );
        let mut extra = String::new();
        if let Some(name) = s.service_name.as_ref().filter(|n| !n.is_empty()) {
            let _ = writeln!(extra, "Service name: {name}");
        }
        if let Some(comment) = s.comment.as_ref().filter(|c| !c.is_empty()) {
            let _ = writeln!(extra, "Comment: {comment}");
        }
        if !extra.is_empty() {
            let _ = write!(body, "\n{extra}\n");
        }
        Some(Mail {
            log: format!("emailalert: {subject_as_logged}"),
            to: s.email.alert.clone(),
            from: self.from.clone(),
            subject,
            body,
            smtp: s.email.smtp.clone(),
        })
    }
}

#[cfg(test)]
#[path = "alert_tests.rs"]
mod tests;
