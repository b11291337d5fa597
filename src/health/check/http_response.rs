//! Reading an HTTP/1.x response off the wire: its head, its body, and where it ends.
//!
//! Knowing where a response ends lets the check stop reading as soon as the framing
//! (`Content-Length`, the last chunk, or a body-less status) says it is complete,
//! instead of waiting for the server's FIN; the connection is then reset rather than
//! closed (see `net::abort_on_close`). A response without framing runs until the server
//! closes, as HTTP/1.0 allows.

/// Bodies beyond this are cut (the receive regex sees the first MiB).
pub const MAX_BODY: usize = 1 << 20;

/// Header fields a response may have. The parser fills a fixed array of this size; real
/// servers send a few dozen, and hyper's default limit is the same 100.
const MAX_HEADERS: usize = 100;

/// Why a response could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedResponse {
    /// Not an HTTP/1.x head, or the server closed before the head ended.
    #[error("malformed HTTP response")]
    Head,
    #[error("malformed HTTP response: more than {MAX_HEADERS} header fields")]
    TooManyHeaders,
}

/// One parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub status_line: String,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// The parts of a response head the check uses, and where the body starts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    status: u16,
    status_line: String,
    location: Option<String>,
    length: Option<usize>,
    chunked: bool,
    body_start: usize,
}

/// The head of `raw`, or `None` while it is incomplete. The parser is as lenient as
/// servers need it to be: several spaces in the status line, spaces before a header's
/// colon, folded header lines, and lines that are not header fields (skipped).
fn parse_head(raw: &[u8]) -> Result<Option<Head>, MalformedResponse> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut fields);
    let parsed = httparse::ParserConfig::default()
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .ignore_invalid_headers_in_responses(true)
        .parse_response(&mut response, raw);
    let body_start = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(MalformedResponse::TooManyHeaders),
        Err(_) => return Err(MalformedResponse::Head),
    };
    let status = response.code.ok_or(MalformedResponse::Head)?;
    let mut head = Head {
        status,
        status_line: status_line(&raw[..body_start]),
        location: None,
        length: None,
        chunked: false,
        body_start,
    };
    for field in response.headers.iter() {
        let value = String::from_utf8_lossy(field.value);
        let value = value.trim();
        match field.name.to_ascii_lowercase().as_str() {
            "location" => head.location = Some(value.to_owned()),
            "content-length" => head.length = value.parse::<usize>().ok(),
            "transfer-encoding" => {
                // The codings are a list, applied in order: the body is chunked when
                // chunked is the last of them (RFC 9112 §6.1), as in `gzip, chunked`.
                if let Some(last) = value.split(',').map(str::trim).rfind(|c| !c.is_empty()) {
                    head.chunked = last.eq_ignore_ascii_case("chunked");
                }
            }
            _ => {}
        }
    }
    Ok(Some(head))
}

/// The status line as the server sent it (what a down reason quotes), without the empty
/// lines the parser allows before it.
fn status_line(head: &[u8]) -> String {
    let start = head
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(head.len());
    let line = &head[start..];
    let line = &line[..line.iter().position(|b| *b == b'\n').unwrap_or(line.len())];
    String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned()
}

/// Whether a response to this request has no body whatever its headers say (RFC 9112
/// §6.3: HEAD, 204 and 304).
fn bodyless(head: &Head, head_request: bool) -> bool {
    head_request || head.status == 204 || head.status == 304
}

/// How many bytes of `raw` the whole response takes, once its framing tells; `None` while
/// more is needed, and always for a body that runs until the server closes (or an interim
/// 1xx response, which the check does not expect and lets the close decide).
pub fn complete_len(raw: &[u8], head_request: bool) -> Option<usize> {
    let head = parse_head(raw).ok().flatten()?;
    if (100..200).contains(&head.status) {
        return None;
    }
    if bodyless(&head, head_request) {
        return Some(head.body_start);
    }
    let rest = &raw[head.body_start..];
    if head.chunked {
        return chunked_len(rest).map(|n| head.body_start + n);
    }
    let length = head.length?;
    (rest.len() >= length).then_some(head.body_start + length)
}

/// The length of a complete chunked body (last chunk and trailers included), if `rest`
/// holds all of it.
fn chunked_len(rest: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let eol = find_crlf(&rest[at..])?;
        let size_text = String::from_utf8_lossy(&rest[at..at + eol]);
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        at += eol + 2;
        if size == 0 {
            // Trailer fields, then an empty line.
            loop {
                let eol = find_crlf(&rest[at..])?;
                at += eol + 2;
                if eol == 0 {
                    return Some(at);
                }
            }
        }
        at = at.checked_add(size)?.checked_add(2)?;
        if at > rest.len() {
            return None;
        }
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

/// Status line, `Location`, and the body (content-length, chunked or until close).
pub fn parse_response(raw: &[u8], head_request: bool) -> Result<Response, MalformedResponse> {
    let head = parse_head(raw)?.ok_or(MalformedResponse::Head)?;
    let rest = &raw[head.body_start..];
    let body = if bodyless(&head, head_request) {
        Vec::new()
    } else if head.chunked {
        dechunk(rest)
    } else {
        let n = head
            .length
            .unwrap_or(rest.len())
            .min(rest.len())
            .min(MAX_BODY);
        rest[..n].to_vec()
    };
    Ok(Response {
        status: head.status,
        status_line: head.status_line,
        location: head.location,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(eol) = find_crlf(rest) {
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_hex, 16) else {
            break;
        };
        rest = &rest[eol + 2..];
        if size == 0 || body.len() >= MAX_BODY {
            break;
        }
        let take = size.min(rest.len());
        body.extend_from_slice(&rest[..take]);
        rest = rest.get(take + 2..).unwrap_or(&[]);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_chunked_and_head() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
            false,
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n",
            false,
        )
        .unwrap();
        assert_eq!(r.body, b"abcde");
        let r = parse_response(b"HTTP/1.0 301 Moved\r\nLocation: /new\r\n\r\n", true).unwrap();
        assert_eq!((r.status, r.location.as_deref()), (301, Some("/new")));
        let r = parse_response(b"HTTP/1.1 304 Not Modified\r\n\r\njunk", false).unwrap();
        assert!(r.body.is_empty());
        assert_eq!(
            parse_response(b"SSH-2.0\r\n\r\n", false),
            Err(MalformedResponse::Head)
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200", false),
            Err(MalformedResponse::Head)
        );
    }

    /// A transfer-coding list is chunked when chunked comes last, in any case and spacing;
    /// chunked followed by another coding leaves the body to run until close.
    #[test]
    fn chunked_is_the_last_transfer_coding() {
        for te in [
            "gzip, chunked",
            "GZIP ,Chunked ",
            "gzip,chunked",
            "deflate, gzip,\tchunked",
        ] {
            let raw =
                format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {te}\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
            assert_framed(raw.as_bytes(), false);
            assert_eq!(parse_response(raw.as_bytes(), false).unwrap().body, b"abc");
        }
        // Two fields are one list: the last coding of the last field decides.
        assert_framed(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            false,
        );
        for te in ["chunked, gzip", "gzip", "xchunked"] {
            let raw = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {te}\r\n\r\n0\r\n\r\n");
            assert_eq!(complete_len(raw.as_bytes(), false), None, "{te}");
            assert_eq!(
                parse_response(raw.as_bytes(), false).unwrap().body,
                b"0\r\n\r\n"
            );
        }
    }

    /// The status line is quoted as sent; the lenient cases servers produce are read.
    #[test]
    fn lenient_heads_parse() {
        let r = parse_response(
            b"HTTP/1.1  503  Service Unavailable\r\nLocation : /x\r\nX-Long: a\r\n b\r\nnot a field\r\nContent-Length: 2\r\n\r\nok",
            false,
        )
        .unwrap();
        assert_eq!(
            (r.status, r.status_line.as_str(), r.location.as_deref()),
            (503, "HTTP/1.1  503  Service Unavailable", Some("/x"))
        );
        assert_eq!(r.body, b"ok");
        // Bare LF line ends (RFC 9112 §2.2 lets a recipient accept them), no reason phrase.
        let r = parse_response(b"HTTP/1.0 200\nContent-Length: 1\n\nxy", false).unwrap();
        assert_eq!(
            (r.status_line.as_str(), r.body.as_slice()),
            ("HTTP/1.0 200", &b"x"[..])
        );
    }

    /// More header fields than the parser's array holds: a clear reason, never a panic.
    #[test]
    fn too_many_header_fields_are_malformed() {
        let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            raw.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        raw.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        assert_eq!(
            parse_response(&raw, false),
            Err(MalformedResponse::TooManyHeaders)
        );
        assert_eq!(complete_len(&raw, false), None);
        assert_eq!(
            MalformedResponse::TooManyHeaders.to_string(),
            "malformed HTTP response: more than 100 header fields"
        );
    }

    /// Every prefix of a framed response is incomplete; the whole is complete at its
    /// exact length, whatever follows it.
    fn assert_framed(response: &[u8], head_request: bool) {
        for cut in 0..response.len() {
            assert_eq!(
                complete_len(&response[..cut], head_request),
                None,
                "prefix of {cut} bytes of {:?}",
                String::from_utf8_lossy(response)
            );
        }
        let mut more = response.to_vec();
        more.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        for whole in [response, &more[..]] {
            assert_eq!(complete_len(whole, head_request), Some(response.len()));
        }
    }

    #[test]
    fn framing_says_where_a_response_ends() {
        assert_framed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
        assert_framed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
        assert_framed(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n",
            false,
        );
        assert_framed(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n0\r\nX-Sum: 1\r\nX-B: 2\r\n\r\n",
            false,
        );
        assert_framed(b"HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n", true);
        assert_framed(b"HTTP/1.1 204 No Content\r\n\r\n", false);
        assert_framed(
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
            false,
        );
    }

    #[test]
    fn unframed_bodies_run_until_close() {
        for raw in [
            &b"HTTP/1.0 200 OK\r\n\r\nall of it"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nok",
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            b"not http\r\n\r\n",
        ] {
            assert_eq!(
                complete_len(raw, false),
                None,
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}
