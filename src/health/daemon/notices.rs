//! What the daemon tells the outside world besides the kernel: monitorfile lines per check
//! result, e-mail alerts per server change (and their reminders), and the daemon state
//! those alerts are filtered by. One value the event loop calls at a few hook points;
//! all formatting and decisions live in `monitor` and `alert`, all I/O off the loop.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use std::sync::Arc;

use super::alert::{Alerts, DaemonStatus, classify};
use super::clock::ctime;
use super::ka_mail::KaMailer;
use super::log::Logger;
use super::mail::Mailer;
use super::monitor::{self, MonitorWriter};
use super::registry::Report;
use crate::health::config::{Config, KeepalivedAlert, KeepalivedMail, RealServer, VirtualService};
use crate::names::hostname;

#[derive(Debug)]
pub struct Notices {
    pub status: DaemonStatus,
    alerts: Alerts,
    mailer: Mailer,
    /// keepalived's `smtp_alert` relay (None: a keepalived.conf that mails nothing, or
    /// another format) and the task that sends its mails.
    ka_relay: Option<Arc<KeepalivedMail>>,
    ka_mailer: KaMailer,
    monitor: MonitorWriter,
    pid: u32,
}

impl Notices {
    /// Must be called on the daemon's tokio runtime (the mailer is a task).
    pub fn start(config: &Config, log: &Logger, sendmail: PathBuf) -> Self {
        let monitor_log = log.clone();
        Self {
            status: DaemonStatus::Starting,
            alerts: Alerts::new(config, &hostname()),
            mailer: Mailer::start(sendmail, log.clone()),
            ka_relay: config.globals.keepalived_mail.clone().map(Arc::new),
            ka_mailer: KaMailer::start(log.clone()),
            monitor: MonitorWriter::start(move |e| monitor_log.log(&e)),
            pid: std::process::id(),
        }
    }

    /// A check result for `v`/`r` (before the registry applies it).
    pub fn check_result(&self, v: &VirtualService, r: &RealServer, report: &Report) {
        let Some(path) = &v.monitor_file else { return };
        if let Some(line) = monitor::line(&ctime(report.at), self.pid, v, r, &report.outcome) {
            self.monitor.write(path, line);
        }
    }

    /// The log lines of a kernel cycle: mails for server changes.
    pub fn kernel_messages(&mut self, messages: &[String]) {
        let now = SystemTime::now();
        for m in messages {
            if let Some(change) = classify(m)
                && let Some(mail) = self.alerts.change(&change, self.status, now)
            {
                self.mailer.send(mail);
            }
        }
    }

    /// Once a second: due "Inaccessible real server" reminders.
    pub fn tick(&mut self) {
        for mail in self.alerts.reminders(self.status, SystemTime::now()) {
            self.mailer.send(mail);
        }
    }

    /// A new configuration is in effect.
    pub fn reconfigure(&mut self, config: &Config) {
        self.alerts.configure(config);
        self.ka_relay = config.globals.keepalived_mail.clone().map(Arc::new);
    }

    /// keepalived's `smtp_alert` mails the registry decided, sent through the relay.
    pub fn keepalived_mails(&self, alerts: Vec<KeepalivedAlert>) {
        let Some(relay) = &self.ka_relay else { return };
        for alert in alerts {
            self.ka_mailer.send(Arc::clone(relay), alert);
        }
    }

    /// Whether the daemon waits for every real's first result (`starting`/`reloading`).
    pub fn settling(&self) -> bool {
        matches!(
            self.status,
            DaemonStatus::Starting | DaemonStatus::Reloading
        )
    }

    /// Leaves `starting`/`reloading` once every real has its first result.
    pub fn settled(&mut self, settled: bool) {
        if settled
            && matches!(
                self.status,
                DaemonStatus::Starting | DaemonStatus::Reloading
            )
        {
            self.status = DaemonStatus::Running;
        }
    }

    /// Sends what is queued (bounded), then ends the mail task and the monitor thread.
    pub async fn finish(self, limit: Duration) {
        let (ldirectord, keepalived) = (self.mailer.finish(limit), self.ka_mailer.finish(limit));
        tokio::join!(ldirectord, keepalived);
        drop(self.monitor);
    }
}
