//! keepalived 2.2.7's `regex` on an HTTP_GET/SSL_GET url, for the patterns the daemon runs:
//! literals (no PCRE2 metacharacter), pure.
//!
//! Why only literals: keepalived runs PCRE2 with `PCRE2_PARTIAL_HARD` over each read
//! buffer and carries a partial match over into the next buffer (`check_regex` in
//! check_http.c). PCRE2's partial matching has no counterpart in Rust's `regex`; for a
//! literal it is plain: the first start position at or after the start offset where the
//! whole literal is found is a match; failing that, the first position whose remaining
//! bytes (at least one) are a proper prefix of the literal is a partial match; else there
//! is none. A full match always lies before any partial one, so PCRE2's left-to-right
//! scan finds the same (partial matching turns off PCRE2's "last literal" and "minimum
//! length" shortcuts, so a partial match at the end is always looked for). A literal has
//! no lookbehind, so keepalived's `max_lookbehind` is 0 and its own start offset stays 0.
//!
//! What keepalived does with the buffer (this module's [`Scan::check`]):
//! - The subject is the read buffer: the first time, the whole buffer that completed the
//!   header (status line and headers included, and only when body bytes came with it),
//!   then each later read, after what a partial match kept. Offsets count from the first
//!   byte of the response.
//! - Once matched, nothing more is looked at.
//! - `regex_min_offset`: a buffer that ends before it is skipped; otherwise the search
//!   starts there. `regex_max_offset`: a buffer that starts at or beyond it is skipped,
//!   and a match only counts when it starts before it.
//! - A partial match at position q keeps the buffer from q on for the next read; at 0 the
//!   whole buffer is kept, unless it is full (4095 bytes), when it is dropped and the
//!   partial match forgotten.
//! - At the end of the stream a kept partial match is not looked at again: it is no match.

use super::keepalived_http::BUFFER;
pub use crate::health::config::KeepalivedRegex as Regex;

/// PCRE2's metacharacters outside a character class (without `extended`).
const META: &[u8] = b"\\^$.[|()?*+{";

/// The pattern as a literal, or None when PCRE2 would read any of it as more than itself
/// (or it is empty).
pub fn literal(pattern: &str) -> Option<Vec<u8>> {
    let bytes = pattern.as_bytes();
    (!bytes.is_empty() && !bytes.iter().any(|b| META.contains(b))).then(|| bytes.to_vec())
}

/// What the search of one buffer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Full(usize),
    Partial(usize),
    None,
}

fn find(subject: &[u8], start: usize, literal: &[u8]) -> Found {
    let tail = subject.get(start..).unwrap_or_default();
    if let Some(p) = tail.windows(literal.len()).position(|w| w == literal) {
        return Found::Full(start + p);
    }
    (0..tail.len())
        .find(|&q| tail.len() - q < literal.len() && literal.starts_with(&tail[q..]))
        .map_or(Found::None, |q| Found::Partial(start + q))
}

/// One response's regex state (keepalived's `regex_matched`, `regex_subject_offset`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    matched: bool,
    subject_offset: usize,
}

impl Scan {
    /// Whether the literal was found where it counts.
    pub fn matched(&self) -> bool {
        self.matched
    }

    /// keepalived's `check_regex` on the read buffer: true when the buffer must be kept
    /// (what is left of it after a partial match), false when the next read starts empty.
    pub fn check(&mut self, re: &Regex, buf: &mut Vec<u8>) -> bool {
        if self.matched {
            return false;
        }
        let len = buf.len();
        let mut start = 0;
        if re.min_offset != 0 {
            if self.subject_offset + len < re.min_offset {
                self.subject_offset += len;
                return false;
            }
            start = re.min_offset.saturating_sub(self.subject_offset);
        }
        if re.max_offset != 0 && self.subject_offset >= re.max_offset {
            self.subject_offset += len;
            return false;
        }
        match find(buf, start, &re.literal) {
            Found::Full(p) => {
                if re.max_offset == 0 || self.subject_offset + p < re.max_offset {
                    self.matched = true;
                }
                self.subject_offset += len;
                false
            }
            Found::Partial(0) if len >= BUFFER => {
                // "Regex partial match preserve too large - discarding"
                self.subject_offset += len;
                false
            }
            Found::Partial(keep) => {
                buf.drain(..keep);
                self.subject_offset += keep;
                true
            }
            Found::None => {
                self.subject_offset += len;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(text: &str) -> Regex {
        Regex {
            literal: literal(text).unwrap(),
            no_match: false,
            min_offset: 0,
            max_offset: 0,
        }
    }

    #[test]
    fn only_patterns_without_metacharacters_are_literals() {
        assert_eq!(literal("alive"), Some(b"alive".to_vec()));
        assert_eq!(literal("status: ok]}"), Some(b"status: ok]}".to_vec()));
        for p in [
            "", "a.b", "^ok", "ok$", "a|b", "(ok)", "ok?", "o*", "o+", "o{2}", "[ok]", "\\d",
        ] {
            assert_eq!(literal(p), None, "{p}");
        }
    }

    #[test]
    fn a_full_match_comes_before_a_partial_one() {
        assert_eq!(find(b"xxokxxo", 0, b"ok"), Found::Full(2));
        assert_eq!(find(b"xxo", 0, b"ok"), Found::Partial(2));
        assert_eq!(find(b"xxa", 0, b"ok"), Found::None);
        // A start at the end inspects nothing: no partial match there.
        assert_eq!(find(b"xx", 2, b"ok"), Found::None);
        assert_eq!(find(b"okxx", 1, b"ok"), Found::None);
    }

    /// check_regex: a partial match at the end keeps its bytes, and the next read
    /// completes the match across the two buffers.
    #[test]
    fn a_match_across_two_reads_is_found() {
        let r = re("alive");
        let mut s = Scan::default();
        let mut buf = b"HTTP/1.0 200 OK\r\n\r\nserver ali".to_vec();
        assert!(s.check(&r, &mut buf));
        assert_eq!(buf, b"ali");
        buf.extend_from_slice(b"ve and well");
        assert!(!s.check(&r, &mut buf));
        assert!(s.matched());
    }

    /// A partial match at the start of a full buffer is dropped ("preserve too large").
    #[test]
    fn a_full_buffer_that_is_all_partial_match_is_dropped() {
        let long = "a".repeat(BUFFER + 1);
        let r = re(&long);
        let mut s = Scan::default();
        let mut buf = vec![b'a'; BUFFER];
        assert!(!s.check(&r, &mut buf));
        let mut short = vec![b'a'; 10];
        assert!(s.check(&r, &mut short));
        assert_eq!(short.len(), 10);
    }

    /// Offsets count from the response's first byte; max is one past the last start.
    #[test]
    fn min_and_max_offsets_bound_where_a_match_starts() {
        let mut r = re("ok");
        r.min_offset = 12;
        let mut s = Scan::default();
        let mut first = b"ok 4567890".to_vec();
        assert!(!s.check(&r, &mut first), "ends before the minimum: skipped");
        assert!(!s.matched());
        let mut second = b"okok".to_vec(); // offsets 10..14
        assert!(!s.check(&r, &mut second));
        assert!(s.matched(), "the match at 12");

        let mut r = re("ok");
        r.max_offset = 3; // regex_max_offset 2
        let mut s = Scan::default();
        let mut buf = b"xxxok".to_vec();
        assert!(!s.check(&r, &mut buf));
        assert!(!s.matched(), "starts at 3");
        let mut s = Scan::default();
        let mut buf = b"xxok".to_vec();
        assert!(!s.check(&r, &mut buf));
        assert!(s.matched(), "starts at 2");
    }
}
