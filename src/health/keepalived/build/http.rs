//! HTTP_GET and SSL_GET: their own keywords and `url` blocks.

use super::super::diag::Pos;
use super::super::lexer::text::quoted_escaped;
use super::super::model::{Digest, HttpProtocol, StatusCodes, Url};
use super::super::stream::KwLine;
use super::raw::{RawHttp, RawKind, RawUrl};
use super::{Builder, Report};

const UINT_MAX: u64 = u32::MAX as u64;

/// PCRE2 options keepalived knows (others are ignored silently, as there).
const REGEX_OPTIONS: &[&str] = &[
    "allow_empty_class",
    "alt_bsux",
    "auto_callout",
    "caseless",
    "dollar_endonly",
    "dotall",
    "dupnames",
    "extended",
    "firstline",
    "match_unset_backref",
    "multiline",
    "never_ucp",
    "never_utf",
    "no_auto_capture",
    "no_auto_possess",
    "no_dotstar_anchor",
    "no_start_optimize",
    "ucp",
    "ungreedy",
    "utf",
    "never_backslash_c",
    "alt_circumflex",
    "alt_verbnames",
    "use_offset_limit",
];

impl Builder<'_> {
    fn http(&mut self) -> Option<&mut RawHttp> {
        match &mut self.checker()?.kind {
            RawKind::Http(h) | RawKind::Ssl(h) => Some(h),
            _ => None,
        }
    }

    pub(super) fn http_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let kw = line.keyword();
        if kw == "nb_get_retry" {
            r.error(&line.pos, "`nb_get_retry` is deprecated: use `retry`");
            if let Some(v) = r.unsigned(line, 1, 0, UINT_MAX)
                && let Some(c) = self.checker()
            {
                c.retry = Some(v as u32);
            }
            return;
        }
        let Some(h) = self.http() else { return };
        match kw {
            "virtualhost" => match line.words.get(1) {
                Some(v) => h.virtualhost = Some(v.clone()),
                None => r.error(&line.pos, "`virtualhost` without a name"),
            },
            "http_protocol" => match line.words.get(1).map(String::as_str) {
                Some("1.0") => h.protocol = Some(HttpProtocol::Http10),
                Some("1.1") => h.protocol = Some(HttpProtocol::Http11),
                Some("1.0C" | "1.0c") => h.protocol = Some(HttpProtocol::Http10Close),
                Some(other) => r.error(&line.pos, format!("invalid http_protocol {other:?}")),
                None => r.error(&line.pos, "`http_protocol` without a version"),
            },
            "enable_sni" => {
                if let Some(v) = r.flag(line) {
                    h.enable_sni = v;
                }
            }
            "fast_recovery" => {
                if let Some(v) = r.flag(line) {
                    h.fast_recovery = v;
                }
            }
            "url" => h.urls.push(RawUrl {
                url: Url {
                    path: String::new(),
                    digest: None,
                    status_codes: StatusCodes::default(),
                    virtualhost: None,
                    regex: None,
                },
                status_set: false,
                regex: None,
                regex_no_match: false,
                regex_options: Vec::new(),
                regex_min_offset: 0,
                regex_max_offset: 0,
                regex_stack: false,
                has_path: false,
            }),
            _ => {}
        }
    }

    pub(super) fn url_keyword(&mut self, r: &mut Report<'_, '_>, line: &KwLine) {
        let kw = line.keyword();
        let Some(u) = self.http().and_then(|h| h.urls.last_mut()) else {
            return;
        };
        match kw {
            "path" => {
                if let Some(p) = r.arg(line, 1) {
                    p.clone_into(&mut u.url.path);
                    u.has_path = true;
                }
            }
            "digest" => {
                let Some(hex) = r.arg(line, 1) else { return };
                if u.url.digest.is_some() {
                    return r.error(&line.pos, format!("second digest {hex:?}; ignored"));
                }
                match digest(hex) {
                    Ok(d) => u.url.digest = Some(Digest(d)),
                    Err(e) => r.error(&line.pos, e),
                }
            }
            "status_code" => {
                for word in &line.words[1..] {
                    match status_range(word) {
                        Some((lo, hi)) => {
                            u.url.status_codes.add(lo, hi);
                            u.status_set = true;
                        }
                        None => r.error(&line.pos, format!("invalid status code {word:?}")),
                    }
                }
            }
            "virtualhost" => match line.words.get(1) {
                Some(v) => u.url.virtualhost = Some(v.clone()),
                None => r.error(&line.pos, "`virtualhost` without a name"),
            },
            "regex" => match quoted_escaped(&line.raw) {
                Ok(words) if words.len() == 2 => u.regex = words.into_iter().nth(1),
                _ => r.note(&line.pos, "`regex` needs exactly one pattern; ignored"),
            },
            "regex_no_match" => u.regex_no_match = true,
            "regex_options" => {
                let known = line.words[1..]
                    .iter()
                    .filter(|w| REGEX_OPTIONS.contains(&w.as_str()));
                u.regex_options.extend(known.cloned());
            }
            "regex_min_offset" | "regex_max_offset" => {
                let parsed = line.words.get(1).and_then(|w| w.parse().ok());
                let value = if let (2, Some(v)) = (line.words.len(), parsed) {
                    v
                } else {
                    r.note(&line.pos, format!("`{kw}` needs one number; 0 is used"));
                    0
                };
                if kw == "regex_min_offset" {
                    u.regex_min_offset = value;
                } else {
                    u.regex_max_offset = value + 1;
                }
            }
            "regex_stack" => u.regex_stack = true,
            _ => {}
        }
    }

    /// keepalived's checks at the end of a `url` block.
    pub(super) fn url_close(&mut self, r: &mut Report<'_, '_>, pos: &Pos) {
        let Some(h) = self.http() else { return };
        let Some(u) = h.urls.last_mut() else { return };
        if !u.has_path {
            r.error(pos, "url without a path; ignored");
            h.urls.pop();
            return;
        }
        if !u.status_set {
            u.url.status_codes.add(200, 299);
        }
        let extras = u.regex_no_match
            || !u.regex_options.is_empty()
            || u.regex_min_offset != 0
            || u.regex_max_offset != 0
            || u.regex_stack;
        if u.regex.is_none() && extras {
            r.note(pos, "regex settings without `regex`; ignored");
            u.regex_no_match = false;
            u.regex_options.clear();
            u.regex_min_offset = 0;
            u.regex_max_offset = 0;
        }
        if u.regex_max_offset != 0 && u.regex_min_offset >= u.regex_max_offset {
            r.note(
                pos,
                "regex_min_offset is not below regex_max_offset; both ignored",
            );
            u.regex_min_offset = 0;
            u.regex_max_offset = 0;
        }
        if let Some(pattern) = &u.regex
            && let Err(e) = regex::Regex::new(pattern)
        {
            r.warning(
                pos,
                format!("lvsctl cannot compile the regex {pattern:?} (keepalived uses PCRE2): {e}"),
            );
        }
    }
}

/// An MD5 digest as 32 hex digits.
fn digest(hex: &str) -> Result<[u8; 16], String> {
    if hex.len() != 32 {
        return Err(format!(
            "digest {hex:?} must be 32 hex digits, not {}",
            hex.len()
        ));
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("digest {hex:?} is not hexadecimal"))?;
    }
    Ok(out)
}

/// `N` or `N-M`, within 100-599.
fn status_range(word: &str) -> Option<(u16, u16)> {
    let (lo, hi) = word.split_once('-').unwrap_or((word, word));
    let lo: u16 = lo.parse().ok()?;
    let hi: u16 = hi.parse().ok()?;
    ((100..=599).contains(&lo) && (100..=599).contains(&hi) && lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_and_digests() {
        assert_eq!(status_range("200"), Some((200, 200)));
        assert_eq!(status_range("200-204"), Some((200, 204)));
        assert_eq!(status_range("600"), None);
        assert_eq!(status_range("300-200"), None);
        assert!(digest("9b3a0c85a887a256d6939da88aabd8cd").is_ok());
        assert!(digest("9b3a").is_err());
        assert!(digest("zz3a0c85a887a256d6939da88aabd8cd").is_err());
    }
}
