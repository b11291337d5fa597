//! Reading an HTTP/1.x response off the wire: its head, its body, and where it ends.
//!
//! [`ResponseReader`] takes the bytes as they arrive and looks at each one once: the end of
//! the head is searched for from where the last search stopped, the head is parsed once
//! when it is complete, and the body is decoded incrementally. So a server that trickles
//! its response a byte at a time costs time linear in what it sends, and what the reader
//! holds is bounded: a head of at most [`MAX_HEAD`] bytes, a body of at most the cap the
//! caller asks for.
//!
//! Knowing where a response ends lets the check stop reading as soon as the framing
//! (`Content-Length`, the last chunk, or a body-less status) says it is complete, or as
//! soon as it has all the body it needs, instead of waiting for the server's FIN; the
//! connection is then reset rather than closed (see `net::abort_on_close`). A response
//! without framing runs until the server closes, as HTTP/1.0 allows.

use super::http_chunked::{Dechunker, Step};

/// Bodies beyond this are cut (the receive regex sees the first MiB).
pub const MAX_BODY: usize = 1 << 20;

/// Longest response head (status line and header fields). Real servers send a few KiB;
/// nginx and Apache refuse request heads past 8 to 16 KiB.
pub const MAX_HEAD: usize = 64 * 1024;

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
    #[error("malformed HTTP response: head longer than {MAX_HEAD} bytes")]
    HeadTooLong,
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

/// How the body after the head is delimited.
#[derive(Debug, Clone)]
enum Framing {
    /// `Content-Length`: this many bytes to go.
    Length(usize),
    Chunked(Dechunker),
    /// No framing: the body runs until the server closes.
    UntilClose,
    /// An interim 1xx response, which the check does not expect: what follows is ignored
    /// and the close decides (the verdict is then the 1xx status).
    Ignored,
}

/// Whether the reader has what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    More,
    /// The response is complete by its framing, or holds all the body the caller wants.
    Done,
}

/// Reads one response from the bytes a connection delivers (see the module text).
#[derive(Debug, Clone)]
pub struct ResponseReader {
    head_request: bool,
    /// Body bytes kept; 0 when the caller needs none.
    body_cap: usize,
    /// The head as received so far, until it is complete (at most [`MAX_HEAD`] bytes).
    raw: Vec<u8>,
    /// Whether a byte other than CR or LF has come (empty lines may precede the head).
    started: bool,
    /// Where the search for the end of the head resumes.
    scanned: usize,
    head: Option<Head>,
    framing: Framing,
    body: Vec<u8>,
    /// Bytes fed that belong to the response.
    used: usize,
    done: bool,
    /// Bytes the head search has looked at, to show it looks at each about once.
    #[cfg(test)]
    examined: usize,
}

impl ResponseReader {
    /// A reader for the response to a GET (or a HEAD, `head_request`) that keeps up to
    /// `body_cap` bytes of the body and is done once it has them: with 0 it is done as
    /// soon as the head is in.
    pub fn new(head_request: bool, body_cap: usize) -> Self {
        Self {
            head_request,
            body_cap,
            raw: Vec::new(),
            started: false,
            scanned: 0,
            head: None,
            framing: Framing::UntilClose,
            body: Vec::new(),
            used: 0,
            done: false,
            #[cfg(test)]
            examined: 0,
        }
    }

    /// Takes the next bytes the server sent.
    pub fn feed(&mut self, input: &[u8]) -> Result<Progress, MalformedResponse> {
        if self.done {
            return Ok(Progress::Done);
        }
        if self.head.is_some() {
            return Ok(self.feed_body(input));
        }
        let before = self.raw.len();
        let take = input.len().min(MAX_HEAD - before);
        self.raw.extend_from_slice(&input[..take]);
        let Some(end) = self.head_end() else {
            if self.raw.len() >= MAX_HEAD {
                return Err(MalformedResponse::HeadTooLong);
            }
            self.used += take;
            return Ok(Progress::More);
        };
        let head = parse_head(&self.raw[..end])?.ok_or(MalformedResponse::Head)?;
        self.used = end;
        self.raw = Vec::new();
        self.start_body(head);
        if self.done {
            return Ok(Progress::Done);
        }
        // The head ended within this input (an earlier one would have been found then).
        Ok(self.feed_body(&input[end - before..]))
    }

    /// Where the head in `raw` ends (after its empty line), resuming the search where the
    /// last one stopped.
    fn head_end(&mut self) -> Option<usize> {
        let raw = &self.raw;
        #[cfg(test)]
        {
            self.examined += raw.len() - self.scanned;
        }
        if !self.started {
            let Some(i) = raw[self.scanned..]
                .iter()
                .position(|b| !matches!(b, b'\r' | b'\n'))
            else {
                self.scanned = raw.len();
                return None;
            };
            self.started = true;
            self.scanned += i;
        }
        for i in self.scanned..raw.len() {
            if raw[i] != b'\n' {
                continue;
            }
            match (raw.get(i + 1), raw.get(i + 2)) {
                (Some(b'\n'), _) => return Some(i + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(i + 3),
                // The line end may complete an empty line with the next bytes.
                (None, _) | (Some(b'\r'), None) => {
                    self.scanned = i;
                    return None;
                }
                _ => {}
            }
        }
        self.scanned = raw.len();
        None
    }

    fn start_body(&mut self, head: Head) {
        if (100..200).contains(&head.status) {
            self.framing = Framing::Ignored;
        } else if bodyless(&head, self.head_request) || self.body_cap == 0 {
            self.done = true;
        } else if head.chunked {
            self.framing = Framing::Chunked(Dechunker::default());
        } else {
            match head.length {
                Some(0) => self.done = true,
                Some(n) => self.framing = Framing::Length(n),
                None => self.framing = Framing::UntilClose,
            }
        }
        self.head = Some(head);
    }

    fn feed_body(&mut self, input: &[u8]) -> Progress {
        let room = self.body_cap.saturating_sub(self.body.len());
        match &mut self.framing {
            Framing::Length(left) => {
                let take = (*left).min(input.len());
                self.body.extend_from_slice(&input[..take.min(room)]);
                *left -= take;
                self.used += take;
                if *left == 0 {
                    self.done = true;
                }
            }
            Framing::Chunked(chunks) => {
                let (taken, step) = chunks.feed(input, &mut self.body, self.body_cap);
                self.used += taken;
                match step {
                    Step::Done => self.done = true,
                    Step::Broken => self.framing = Framing::Ignored,
                    Step::More => {}
                }
            }
            Framing::UntilClose => {
                self.body.extend_from_slice(&input[..input.len().min(room)]);
                self.used += input.len();
            }
            Framing::Ignored => {}
        }
        if self.body_cap > 0 && self.body.len() >= self.body_cap {
            self.done = true;
        }
        if self.done {
            Progress::Done
        } else {
            Progress::More
        }
    }

    /// Whether any byte has come.
    pub fn started(&self) -> bool {
        self.used > 0 || !self.raw.is_empty()
    }

    /// Bytes held: the partial head, the body, a partial chunk line.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        let line = match &self.framing {
            Framing::Chunked(chunks) => chunks.held(),
            _ => 0,
        };
        self.raw.len() + self.body.len() + line
    }

    /// The response, once done or once the server closed.
    pub fn into_response(self) -> Result<Response, MalformedResponse> {
        let Some(head) = self.head else {
            // The server closed before the head ended.
            return Err(parse_head(&self.raw)
                .err()
                .unwrap_or(MalformedResponse::Head));
        };
        Ok(Response {
            status: head.status,
            status_line: head.status_line,
            location: head.location,
            body: self.body,
        })
    }
}

/// Status line, `Location`, and the body (content-length, chunked or until close, at most
/// [`MAX_BODY`] bytes) of a whole response.
pub fn parse_response(raw: &[u8], head_request: bool) -> Result<Response, MalformedResponse> {
    let mut reader = ResponseReader::new(head_request, MAX_BODY);
    reader.feed(raw)?;
    reader.into_response()
}

/// How many bytes of `raw` the whole response takes, once its framing tells; `None` while
/// more is needed, and always for a body that runs until the server closes (or an interim
/// 1xx response).
#[cfg(test)]
fn complete_len(raw: &[u8], head_request: bool) -> Option<usize> {
    let mut reader = ResponseReader::new(head_request, usize::MAX);
    match reader.feed(raw) {
        Ok(Progress::Done) => Some(reader.used),
        _ => None,
    }
}

#[cfg(test)]
#[path = "http_response_tests.rs"]
mod tests;
