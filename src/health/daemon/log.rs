//! Log lines in ldirectord's format, `[<ctime>|<config name>|<pid>] <message>` (spec §3.10),
//! so existing log scrapers keep working. Times are UTC (no time-zone database is read);
//! the file is opened per line so logrotate needs no signal.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::health::config::LogTarget;

#[derive(Debug, Clone)]
pub enum Sink {
    Stderr,
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Logger {
    pub sink: Sink,
    pub name: String,
    pub pid: u32,
}

impl Logger {
    /// `to_stderr` for `-d`/`--foreground`; otherwise the config's logfile (a syslog
    /// facility is not supported yet and goes to stderr too).
    pub fn new(name: &str, target: &LogTarget, to_stderr: bool) -> Self {
        let sink = match target {
            LogTarget::File(p) if !to_stderr => Sink::File(p.clone()),
            _ => Sink::Stderr,
        };
        Self {
            sink,
            name: name.to_owned(),
            pid: std::process::id(),
        }
    }

    pub fn line(&self, message: &str) -> String {
        format!(
            "[{}|{}|{}] {message}",
            ctime(SystemTime::now()),
            self.name,
            self.pid
        )
    }

    pub fn log(&self, message: &str) {
        let line = self.line(message);
        match &self.sink {
            Sink::Stderr => eprintln!("{line}"),
            Sink::File(p) => {
                let ok = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .and_then(|mut f| writeln!(f, "{line}"));
                if ok.is_err() {
                    eprintln!("{line}");
                }
            }
        }
    }
}

/// `Sat Nov 21 10:05:53 2026`, like C's ctime without the newline.
pub fn ctime(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let wday = DAYS[days.rem_euclid(7) as usize];
    let month = MONTHS[(m - 1) as usize % 12];
    format!(
        "{wday} {month} {d:2} {:02}:{:02}:{:02} {y}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ctime_matches_c() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_255_553);
        assert_eq!(ctime(t), "Sat Nov 21 10:05:53 2026");
        assert_eq!(ctime(UNIX_EPOCH), "Thu Jan  1 00:00:00 1970");
    }
}
