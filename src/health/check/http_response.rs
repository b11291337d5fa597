//! Reading an HTTP/1.x response off the wire: its head, its body, and where it ends.
//!
//! Knowing where a response ends lets the check stop reading as soon as the framing
//! (`Content-Length`, the last chunk, or a body-less status) says it is complete,
//! instead of waiting for the server's FIN; the connection is then reset rather than
//! closed (see `net::abort_on_close`). A response without framing runs until the server
//! closes, as HTTP/1.0 allows.

/// Bodies beyond this are cut (the receive regex sees the first MiB).
pub const MAX_BODY: usize = 1 << 20;

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

fn parse_head(raw: &[u8]) -> Option<Head> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let header = String::from_utf8_lossy(&raw[..end]);
    let mut lines = header.split("\r\n");
    let status_line = lines.next()?.to_owned();
    let mut parts = status_line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let status: u16 = parts.next()?.parse().ok()?;
    let mut head = Head {
        status,
        status_line,
        location: None,
        length: None,
        chunked: false,
        body_start: end + 4,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "location" => head.location = Some(value.to_owned()),
            "content-length" => head.length = value.parse::<usize>().ok(),
            "transfer-encoding" => head.chunked = value.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    Some(head)
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
    let head = parse_head(raw)?;
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
pub fn parse_response(raw: &[u8], head_request: bool) -> Option<Response> {
    let head = parse_head(raw)?;
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
    Some(Response {
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
        assert!(parse_response(b"SSH-2.0\r\n\r\n", false).is_none());
        assert!(parse_response(b"HTTP/1.1 200", false).is_none());
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
