//! The command-line face of `lvsctl top`: its options, the `--interval` syntax, and the
//! environment it honours. Kept here so `main` only parses arguments and calls
//! [`crate::tui::run`].

use std::time::Duration;

/// Start-up settings (`lvsctl top [--interval D] [--read-only] [-n] [--demo]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopOptions {
    pub interval: Duration,
    pub read_only: bool,
    pub numeric: bool,
    /// Render without colours (`NO_COLOR` set); selection and emphasis use modifiers only.
    pub no_color: bool,
    /// Running on the simulated director (`--demo`): the header says so.
    pub demo: bool,
}

impl Default for TopOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            read_only: false,
            numeric: false,
            no_color: false,
            demo: false,
        }
    }
}

/// `TopOptions` from the command-line values and the environment (`NO_COLOR`, see
/// <https://no-color.org>: set and non-empty disables colour).
pub fn options(interval: Duration, read_only: bool, numeric: bool) -> TopOptions {
    TopOptions {
        interval,
        read_only,
        numeric,
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        demo: false,
    }
}

/// `--interval` values: seconds as a plain or decimal number (`1`, `0.5`, like `watch -n`)
/// or with a unit (`500ms`, `2s`, `1m`). Values outside 250 ms .. 60 s are clamped later.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("invalid interval '{text}' (examples: 1, 0.5, 500ms, 2s)"))?;
    Duration::try_from_secs_f64(value * scale)
        .map_err(|_| format!("invalid interval '{text}': must be a positive duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_accept_watch_style_seconds_and_units() {
        assert_eq!(parse_interval("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval(" 2s "), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("1m"), Ok(Duration::from_mins(1)));
        assert!(parse_interval("fast").is_err());
        assert!(parse_interval("-1").is_err());
        assert!(parse_interval("").is_err());
        assert!(parse_interval("NaN").is_err());
    }
}
