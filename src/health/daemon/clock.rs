//! Wall-clock times as ldirectord prints them: C's `ctime()` in *local* time (Perl's scalar
//! `localtime`) for log and monitorfile lines, and syslog's `Mmm dd hh:mm:ss` stamp.
//!
//! The conversion to local time is the C library's `localtime_r`, so `TZ` and
//! `/etc/localtime` are honoured exactly as for ldirectord; formatting is pure and tested on
//! fixed fields.

use std::time::{SystemTime, UNIX_EPOCH};

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Broken-down time, as `struct tm` has it (month 0-11, weekday 0 = Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tm {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub min: u8,
    pub sec: u8,
    pub weekday: u8,
}

impl Tm {
    /// `Thu Jan  1 00:00:00 1970`: `ctime()` without its newline.
    pub fn ctime(&self) -> String {
        format!(
            "{} {} {:2} {:02}:{:02}:{:02} {}",
            DAYS[usize::from(self.weekday % 7)],
            MONTHS[usize::from(self.month % 12)],
            self.day,
            self.hour,
            self.min,
            self.sec,
            self.year
        )
    }

    /// `Jan  1 00:00:00`: the RFC 3164 timestamp (`%b %e %H:%M:%S`).
    pub fn syslog_stamp(&self) -> String {
        format!(
            "{} {:2} {:02}:{:02}:{:02}",
            MONTHS[usize::from(self.month % 12)],
            self.day,
            self.hour,
            self.min,
            self.sec
        )
    }

    /// UTC fields of `t` (the fallback when the C library cannot convert).
    pub fn utc(t: SystemTime) -> Self {
        let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month: (month - 1) as u8,
            day: day as u8,
            hour: (rem / 3600) as u8,
            min: (rem % 3600 / 60) as u8,
            sec: (rem % 60) as u8,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u8,
        }
    }

    /// Local fields of `t`, through `localtime_r` (TZ, /etc/localtime).
    pub fn local(t: SystemTime) -> Self {
        let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        localtime(secs).unwrap_or_else(|| Self::utc(t))
    }
}

/// `ctime()` of `t` in local time, without the newline.
pub fn ctime(t: SystemTime) -> String {
    Tm::local(t).ctime()
}

/// The one place that calls into the C library's time-zone code.
#[allow(unsafe_code)]
fn localtime(secs: u64) -> Option<Tm> {
    // glibc's localtime_r reads TZ (or /etc/localtime) on its first use.
    let t = libc::time_t::try_from(secs).ok()?;
    // SAFETY: `tm` is a plain C struct for which all-zero bytes are a valid value, and
    // localtime_r writes only into the two pointers it is given, which outlive the call.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&raw const t, &raw mut tm).is_null() {
            return None;
        }
        tm
    };
    Some(Tm {
        year: i64::from(tm.tm_year) + 1900,
        month: u8::try_from(tm.tm_mon).ok()?,
        day: u8::try_from(tm.tm_mday).ok()?,
        hour: u8::try_from(tm.tm_hour).ok()?,
        min: u8::try_from(tm.tm_min).ok()?,
        // A leap second shows as 60, as ctime would print it.
        sec: u8::try_from(tm.tm_sec).ok()?,
        weekday: u8::try_from(tm.tm_wday).ok()?,
    })
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
    fn ctime_and_syslog_stamps_have_cs_exact_layout() {
        let t = Tm::utc(UNIX_EPOCH + Duration::from_secs(1_795_255_553));
        assert_eq!(t.ctime(), "Sat Nov 21 10:05:53 2026");
        assert_eq!(t.syslog_stamp(), "Nov 21 10:05:53");
        let epoch = Tm::utc(UNIX_EPOCH);
        assert_eq!(epoch.ctime(), "Thu Jan  1 00:00:00 1970");
        assert_eq!(epoch.syslog_stamp(), "Jan  1 00:00:00");
    }

    #[test]
    fn local_time_differs_from_utc_only_by_a_whole_zone_offset() {
        // Whatever TZ the test runs under, the minutes/seconds of most zones agree with UTC
        // and the date is at most a day away; this guards the field mapping of localtime_r.
        let t = UNIX_EPOCH + Duration::from_secs(1_795_255_553);
        let (l, u) = (Tm::local(t), Tm::utc(t));
        assert_eq!(l.sec, u.sec);
        assert!((l.year - u.year).abs() <= 1);
        assert!(l.month < 12 && (1..=31).contains(&l.day) && l.weekday < 7);
        assert_eq!(ctime(t).len(), "Sat Nov 21 10:05:53 2026".len());
    }
}
