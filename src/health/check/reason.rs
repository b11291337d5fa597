//! The one gate every down or local-fault reason passes before anyone sees it.
//!
//! Reasons quote what real servers send (status lines, banners, database errors), and a
//! real server is not trusted: its text must not be able to move the cursor or clear the
//! screen of an operator running `lvsctl health status`, forge a second line in a log or
//! the monitor file, or make the status document grow without bound. So every reason is
//! escaped and capped here, once, where a check's outcome leaves the check layer
//! ([`super::with_deadline`]), and again where the status is read and printed (cleaning is
//! idempotent, so the second pass costs nothing and protects against an older daemon).

/// Longest reason in bytes, marker included. Long enough for a database error with its
/// SQLSTATE or an HTTP status line, short enough that a thousand reals' reasons keep the
/// status document small.
pub const MAX_REASON: usize = 512;

/// What a cut reason ends with.
pub const CUT: &str = "…";

/// `text` with control characters escaped and cut to at most [`MAX_REASON`] bytes.
///
/// Escaped are C0 (`\n`, `\r`, `\t` by name, the rest as `\xNN`, ESC included), DEL
/// (`\x7f`) and C1 (`\u{80}`…`\u{9f}`, which some terminals obey like ESC sequences).
/// Backslashes are kept as they are, so cleaning a clean text changes nothing. A cut text
/// ends in [`CUT`] and never splits a character or an escape sequence.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_REASON));
    // Where `out` may be cut so that `CUT` still fits: the end of the last unit that did.
    let mut fits = 0;
    for c in text.chars() {
        let before = out.len();
        push_escaped(&mut out, c);
        if out.len() + CUT.len() <= MAX_REASON {
            fits = out.len();
        }
        if out.len() > MAX_REASON {
            out.truncate(fits.min(before));
            out.push_str(CUT);
            return out;
        }
    }
    out
}

/// Whether `text` is already as [`clean`] leaves it.
pub fn is_clean(text: &str) -> bool {
    text.len() <= MAX_REASON && !text.chars().any(needs_escape)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 && needs_escape(c) => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            clean("HTTP/1.1 500 x\r\nSet-Cookie: y\ttab\x1b[2Jclear\x00nul\x7fdel\u{9b}csi"),
            "HTTP/1.1 500 x\\r\\nSet-Cookie: y\\ttab\\x1b[2Jclear\\x00nul\\x7fdel\\u{9b}csi"
        );
        assert_eq!(
            clean("plain text, ünïcödé ✓ \\n"),
            "plain text, ünïcödé ✓ \\n"
        );
    }

    #[test]
    fn long_reasons_are_cut_on_a_character_boundary_with_a_marker() {
        let long = "é".repeat(400); // 800 bytes
        let cut = clean(&long);
        assert!(cut.len() <= MAX_REASON, "{}", cut.len());
        assert!(cut.ends_with(CUT));
        assert_eq!(
            cut.trim_end_matches(CUT)
                .chars()
                .filter(|c| *c == 'é')
                .count(),
            254
        );
        // Exactly the cap is kept whole; one byte more is cut.
        let exact = "a".repeat(MAX_REASON);
        assert_eq!(clean(&exact), exact);
        let over = "a".repeat(MAX_REASON + 1);
        assert_eq!(
            clean(&over),
            format!("{}{CUT}", "a".repeat(MAX_REASON - CUT.len()))
        );
        // An escape sequence is never split.
        let escapes = "\x01".repeat(200);
        let cut = clean(&escapes);
        assert!(cut.trim_end_matches(CUT).len().is_multiple_of(4), "{cut}");
    }

    proptest! {
        #[test]
        fn clean_output_is_capped_printable_and_stable(text in any::<String>()) {
            let once = clean(&text);
            prop_assert!(once.len() <= MAX_REASON);
            prop_assert!(!once.chars().any(char::is_control));
            prop_assert!(is_clean(&once));
            prop_assert_eq!(clean(&once), once.clone());
            if text.len() <= MAX_REASON && !text.chars().any(char::is_control) {
                prop_assert_eq!(once, text);
            }
        }
    }
}
