//! Wall-clock times as ldirectord prints them: C's `ctime()` in *local* time (Perl's scalar
//! `localtime`) for log and monitorfile lines, and syslog's `Mmm dd hh:mm:ss` stamp.
//!
//! The conversion to local time honours `TZ` and `/etc/localtime` as the C library does for
//! ldirectord (an IANA name, a TZif path or a POSIX rule in `TZ`; without it the system
//! zone), through jiff rather than `localtime_r`: calling into libc needs unsafe code, and
//! the `time` crate refuses local offsets once a program has threads, as the daemon does.
//! Formatting is pure and tested on fixed fields.

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

    /// UTC fields of `t` (the fallback when a time zone cannot convert it).
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

    /// Local fields of `t` in the system's time zone (TZ, /etc/localtime).
    pub fn local(t: SystemTime) -> Self {
        Self::in_zone(t, &jiff::tz::TimeZone::system())
    }

    /// Fields of `t` in `zone`; UTC if `t` is beyond what a zone can convert.
    fn in_zone(t: SystemTime, zone: &jiff::tz::TimeZone) -> Self {
        let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        i64::try_from(secs)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .and_then(|ts| {
                let dt = zone.to_datetime(ts);
                Some(Self {
                    year: i64::from(dt.year()),
                    month: u8::try_from(dt.month() - 1).ok()?,
                    day: u8::try_from(dt.day()).ok()?,
                    hour: u8::try_from(dt.hour()).ok()?,
                    min: u8::try_from(dt.minute()).ok()?,
                    sec: u8::try_from(dt.second()).ok()?,
                    weekday: u8::try_from(dt.weekday().to_sunday_zero_offset()).ok()?,
                })
            })
            .unwrap_or_else(|| Self::utc(t))
    }
}

/// `ctime()` of `t` in local time, without the newline.
pub fn ctime(t: SystemTime) -> String {
    Tm::local(t).ctime()
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

    /// Zone rules as `TZ` gives them: standard and summer time, and the date line.
    #[test]
    fn zones_shift_fields_as_localtime_does() {
        let zone = |rule: &str| jiff::tz::TimeZone::posix(rule).unwrap();
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
        let new_york = zone("EST5EDT,M3.2.0,M11.1.0");
        // Checked against glibc: `TZ=... date -d @SECONDS`. November is EST (UTC-5),
        // July EDT (UTC-4).
        assert_eq!(
            Tm::in_zone(at(1_795_255_553), &new_york).ctime(),
            "Sat Nov 21 05:05:53 2026"
        );
        assert_eq!(
            Tm::in_zone(at(1_783_000_000), &new_york).ctime(),
            "Thu Jul  2 09:46:40 2026"
        );
        // Midnight UTC on New Year's Day 1970 was already the afternoon in Kiribati and
        // still the evening before in New York.
        assert_eq!(
            Tm::in_zone(UNIX_EPOCH, &zone("<+14>-14")).ctime(),
            "Thu Jan  1 14:00:00 1970"
        );
        assert_eq!(
            Tm::in_zone(UNIX_EPOCH, &new_york).ctime(),
            "Wed Dec 31 19:00:00 1969"
        );
        assert_eq!(
            Tm::in_zone(UNIX_EPOCH, &jiff::tz::TimeZone::UTC),
            Tm::utc(UNIX_EPOCH)
        );
    }

    #[test]
    fn local_time_differs_from_utc_only_by_a_whole_zone_offset() {
        // Whatever TZ the test runs under, the minutes/seconds of most zones agree with UTC
        // and the date is at most a day away; this guards the field mapping of the system
        // zone.
        let t = UNIX_EPOCH + Duration::from_secs(1_795_255_553);
        let (l, u) = (Tm::local(t), Tm::utc(t));
        assert_eq!(l.sec, u.sec);
        assert!((l.year - u.year).abs() <= 1);
        assert!(l.month < 12 && (1..=31).contains(&l.day) && l.weekday < 7);
        assert_eq!(ctime(t).len(), "Sat Nov 21 10:05:53 2026".len());
    }
}
