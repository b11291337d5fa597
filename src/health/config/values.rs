//! Value readers shared by the global and per-virtual directives.
//!
//! ldirectord reads most values with unanchored patterns: a number is "the first run of
//! digits anywhere in the value", a word is "the first run of word characters". We read them
//! the same way so the same files mean the same thing, and warn whenever anything around the
//! part actually used is thrown away. yes/no values, on the other hand, are compared exactly
//! (trailing spaces or comments are errors), which is also what ldirectord does.

use super::diag::{Diagnostics, ErrorKind, WarningKind};

/// Splits `key = value` the way ldirectord's `^key\s*=\s*(.*)` patterns do: the key is the
/// leading run of word characters, the value is everything after `=` and the whitespace
/// following it (trailing whitespace is kept: it matters for yes/no values).
pub fn split_directive(line: &str) -> Option<(&str, &str)> {
    let key_len = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    if key_len == 0 {
        return None;
    }
    let (key, rest) = line.split_at(key_len);
    let rest = rest.trim_start_matches(is_space).strip_prefix('=')?;
    Some((key, rest.trim_start_matches(is_space)))
}

/// Perl's `\s` (ASCII).
pub fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0b' | '\x0c')
}

/// Exact `yes`/`no`.
pub fn yes_no(d: &mut Diagnostics, line: usize, directive: &str, value: &str) -> Option<bool> {
    match value {
        "yes" => Some(true),
        "no" => Some(false),
        _ => {
            d.error(
                line,
                ErrorKind::YesNo {
                    directive: directive.to_owned(),
                    found: value.to_owned(),
                },
            );
            None
        }
    }
}

/// The first run of ASCII digits in `value`, as ldirectord's `(\d+)` finds it.
pub fn first_digits(value: &str) -> Option<&str> {
    let start = value.find(|c: char| c.is_ascii_digit())?;
    let rest = &value[start..];
    let len = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    Some(&rest[..len])
}

/// The first run of word characters (`\w+`).
pub fn first_word(value: &str) -> Option<&str> {
    first_run(value, |c| c.is_ascii_alphanumeric() || c == '_')
}

/// The first run of characters matching `keep`.
pub fn first_run(value: &str, keep: impl Fn(char) -> bool) -> Option<&str> {
    let start = value.find(&keep)?;
    let rest = &value[start..];
    let len = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
    Some(&rest[..len])
}

/// Warns when `used` is not the whole (trimmed) value.
pub fn warn_junk(d: &mut Diagnostics, line: usize, directive: &str, value: &str, used: &str) {
    if value.trim_matches(is_space) != used {
        d.warn(
            line,
            WarningKind::TrailingJunk {
                directive: directive.to_owned(),
                found: value.to_owned(),
                used: used.to_owned(),
            },
        );
    }
}

/// A number read with `(\d+)`; `positive` rejects 0. Values that overflow are errors
/// (ldirectord would carry them on as floats).
pub fn number(
    d: &mut Diagnostics,
    line: usize,
    directive: &str,
    value: &str,
    positive: bool,
) -> Option<u32> {
    let Some(digits) = first_digits(value) else {
        d.invalid(line, directive, value, "expected a number");
        return None;
    };
    let Ok(n) = digits.parse::<u32>() else {
        d.invalid(line, directive, value, "number out of range");
        return None;
    };
    if positive && n == 0 {
        d.invalid(line, directive, value, "must be a positive number");
        return None;
    }
    warn_junk(d, line, directive, value, digits);
    Some(n)
}

/// `"..."` at the start of the value: the text between the first and the *last* double
/// quote (ldirectord's greedy `\"(.*)\"`), and whatever follows the last quote.
pub fn quoted(value: &str) -> Option<(&str, &str)> {
    let inner = value.strip_prefix('"')?;
    let end = inner.rfind('"')?;
    Some((&inner[..end], &inner[end + 1..]))
}

/// A value that must be quoted and non-empty (`request`, `login`, ...).
pub fn required_quoted(
    d: &mut Diagnostics,
    line: usize,
    directive: &str,
    value: &str,
) -> Option<String> {
    match quoted(value) {
        Some((inner, after)) if !inner.is_empty() => {
            if !after.trim_matches(is_space).is_empty() {
                d.warn(
                    line,
                    WarningKind::TrailingJunk {
                        directive: directive.to_owned(),
                        found: value.to_owned(),
                        used: inner.to_owned(),
                    },
                );
            }
            Some(inner.to_owned())
        }
        _ => {
            d.error(line, ErrorKind::NeedsQuotes(directive.to_owned()));
            None
        }
    }
}

/// A value whose surrounding double quotes are optional (`checkcommand`, `monitorfile`...).
pub fn optionally_quoted(value: &str) -> &str {
    quoted(value).map_or(value, |(inner, _)| inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_directive_allows_spaces_around_equals_and_keeps_trailing_space() {
        assert_eq!(
            split_directive("quiescent = yes "),
            Some(("quiescent", "yes "))
        );
        assert_eq!(
            split_directive("real6=[::1]:80"),
            Some(("real6", "[::1]:80"))
        );
        assert_eq!(split_directive("supervised"), None);
        assert_eq!(split_directive("=x"), None);
    }

    #[test]
    fn unanchored_readers_take_the_first_run() {
        assert_eq!(first_digits("3s"), Some("3"));
        assert_eq!(first_digits("checktimeout5"), Some("5"));
        assert_eq!(first_word("  wrr2"), Some("wrr2"));
        assert_eq!(first_run("Wrr", |c| c.is_ascii_lowercase()), Some("rr"));
        assert_eq!(quoted("\"a\" b\"c"), Some(("a\" b", "c")));
        assert_eq!(quoted("a"), None);
    }
}
