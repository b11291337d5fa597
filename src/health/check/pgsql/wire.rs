//! PostgreSQL frontend/backend protocol 3.0 messages for a login and one simple query
//! (PostgreSQL docs, "Message Formats"). Pure.

use md5::{Digest, Md5};

/// Largest backend message accepted (a health query's rows are small).
pub const MAX_MESSAGE: usize = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PgError {
    #[error("{0} contains a NUL byte")]
    Nul(&'static str),
    #[error("backend message of {0} bytes is too large")]
    TooLarge(u64),
    #[error("malformed backend message")]
    Malformed,
}

fn cstring(out: &mut Vec<u8>, what: &'static str, text: &str) -> Result<(), PgError> {
    if text.as_bytes().contains(&0) {
        return Err(PgError::Nul(what));
    }
    out.extend_from_slice(text.as_bytes());
    out.push(0);
    Ok(())
}

/// Tag byte, then the body prefixed by its length (which counts itself).
fn framed(tag: Option<u8>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.extend(tag);
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// StartupMessage for protocol 3.0. Without `database` the server uses the user's name,
/// as libpq does for an empty `dbname=`.
pub fn startup(user: &str, database: &str) -> Result<Vec<u8>, PgError> {
    let mut body = 196_608u32.to_be_bytes().to_vec();
    cstring(&mut body, "parameter", "user")?;
    cstring(&mut body, "login", user)?;
    if !database.is_empty() {
        cstring(&mut body, "parameter", "database")?;
        cstring(&mut body, "database", database)?;
    }
    cstring(&mut body, "parameter", "application_name")?;
    cstring(&mut body, "parameter", "lvsctl-health")?;
    body.push(0);
    Ok(framed(None, &body))
}

/// SSLRequest: a length and the magic protocol number 1234.5679 (80877103). The server
/// answers one byte, `S` (TLS handshake next) or `N` (go on in plain text).
pub fn ssl_request() -> Vec<u8> {
    framed(None, &80_877_103u32.to_be_bytes())
}

/// PasswordMessage carrying a cleartext or md5-hashed password.
pub fn password(text: &str) -> Result<Vec<u8>, PgError> {
    let mut body = Vec::new();
    cstring(&mut body, "password", text)?;
    Ok(framed(Some(b'p'), &body))
}

/// `"md5" + hex(md5(hex(md5(password + user)) + salt))`, AuthenticationMD5Password's answer.
pub fn md5_password(user: &str, password: &str, salt: [u8; 4]) -> String {
    let inner = hex(&Md5::new()
        .chain_update(password)
        .chain_update(user)
        .finalize());
    let outer = Md5::new().chain_update(inner).chain_update(salt).finalize();
    format!("md5{}", hex(&outer))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// SASLInitialResponse: the chosen mechanism and the client-first message.
pub fn sasl_initial(mechanism: &str, data: &[u8]) -> Result<Vec<u8>, PgError> {
    let mut body = Vec::new();
    cstring(&mut body, "mechanism", mechanism)?;
    body.extend_from_slice(&(data.len() as u32).to_be_bytes());
    body.extend_from_slice(data);
    Ok(framed(Some(b'p'), &body))
}

/// SASLResponse: the client-final message.
pub fn sasl_response(data: &[u8]) -> Vec<u8> {
    framed(Some(b'p'), data)
}

/// A simple-protocol Query.
pub fn query(sql: &str) -> Result<Vec<u8>, PgError> {
    let mut body = Vec::new();
    cstring(&mut body, "request", sql)?;
    Ok(framed(Some(b'Q'), &body))
}

pub fn terminate() -> Vec<u8> {
    framed(Some(b'X'), &[])
}

/// Size of the backend message at the start of `buf` once its 5-byte header is in.
pub fn message_len(buf: &[u8]) -> Result<Option<usize>, PgError> {
    let Some(header) = buf.get(..5) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len < 4 {
        return Err(PgError::Malformed);
    }
    if len > MAX_MESSAGE {
        return Err(PgError::TooLarge(len as u64));
    }
    Ok(Some(len + 1))
}

/// One backend message: its type byte and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub tag: u8,
    pub body: &'a [u8],
}

/// Splits a complete message (as sized by [`message_len`]) into tag and body.
pub fn split(frame: &[u8]) -> Message<'_> {
    Message {
        tag: frame.first().copied().unwrap_or(0),
        body: frame.get(5..).unwrap_or(&[]),
    }
}

/// An Authentication* request (message type `R`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Ok,
    Cleartext,
    Md5([u8; 4]),
    /// The SASL mechanisms offered.
    Sasl(Vec<String>),
    SaslContinue(Vec<u8>),
    SaslFinal(Vec<u8>),
    /// Kerberos, GSSAPI, SSPI…: methods a check cannot take part in.
    Other(u32),
}

pub fn parse_auth(body: &[u8]) -> Result<Auth, PgError> {
    let (code, rest) = body.split_at_checked(4).ok_or(PgError::Malformed)?;
    let code = u32::from_be_bytes([code[0], code[1], code[2], code[3]]);
    Ok(match code {
        0 => Auth::Ok,
        3 => Auth::Cleartext,
        5 => Auth::Md5(rest.try_into().map_err(|_| PgError::Malformed)?),
        10 => Auth::Sasl(
            rest.split(|b| *b == 0)
                .filter(|m| !m.is_empty())
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .collect(),
        ),
        11 => Auth::SaslContinue(rest.to_vec()),
        12 => Auth::SaslFinal(rest.to_vec()),
        other => Auth::Other(other),
    })
}

/// The fields of an ErrorResponse a log line needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerError {
    pub severity: String,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.code, self.message)
    }
}

/// ErrorResponse body: (field type, NUL-terminated text)*, then a NUL.
pub fn parse_error(body: &[u8]) -> ServerError {
    let mut e = ServerError::default();
    for field in body.split(|b| *b == 0) {
        let Some((&kind, text)) = field.split_first() else {
            continue;
        };
        let text = String::from_utf8_lossy(text).into_owned();
        match kind {
            b'S' => e.severity = text,
            b'C' => e.code = text,
            b'M' => e.message = text,
            _ => {}
        }
    }
    e
}

/// What a simple query produced, fed one message at a time until ReadyForQuery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryTally {
    pub rows: u64,
    pub error: Option<ServerError>,
}

impl QueryTally {
    /// Counts DataRows and keeps the first error; true once the server is ready again.
    pub fn feed(&mut self, message: Message<'_>) -> bool {
        match message.tag {
            b'D' => self.rows += 1,
            b'E' if self.error.is_none() => self.error = Some(parse_error(message.body)),
            b'Z' => return true,
            _ => {}
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_bytes() {
        let mut expected = vec![0, 0, 0, 64, 0, 3, 0, 0];
        expected.extend(b"user\0probe\0database\0app\0application_name\0lvsctl-health\0\0");
        assert_eq!(startup("probe", "app").unwrap(), expected);
        let mut no_db = vec![0, 0, 0, 51, 0, 3, 0, 0];
        no_db.extend(b"user\0probe\0application_name\0lvsctl-health\0\0");
        assert_eq!(startup("probe", "").unwrap(), no_db);
        assert_eq!(startup("a\0b", ""), Err(PgError::Nul("login")));
    }

    #[test]
    fn frontend_message_bytes() {
        assert_eq!(query("SELECT 1").unwrap(), b"Q\0\0\0\x0dSELECT 1\0");
        assert_eq!(password("pw").unwrap(), b"p\0\0\0\x07pw\0");
        assert_eq!(terminate(), b"X\0\0\0\x04");
        assert_eq!(ssl_request(), [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
        assert_eq!(
            sasl_initial("SCRAM-SHA-256", b"n,,n=,r=abc").unwrap(),
            b"p\0\0\0\x21SCRAM-SHA-256\0\0\0\0\x0bn,,n=,r=abc"
        );
        assert_eq!(sasl_response(b"c=biws"), b"p\0\0\0\x0ac=biws");
        assert_eq!(query("x\0"), Err(PgError::Nul("request")));
    }

    #[test]
    fn md5_password_matches_the_server_formula() {
        // Computed independently: "md5" + md5(md5("secret" + "postgres").hex + salt).hex
        assert_eq!(
            md5_password("postgres", "secret", [1, 2, 3, 4]),
            "md5bb41a296aab6baccb36ff243a562abff"
        );
    }

    #[test]
    fn parses_backend_messages() {
        assert_eq!(parse_auth(&[0, 0, 0, 0]), Ok(Auth::Ok));
        assert_eq!(parse_auth(&[0, 0, 0, 3]), Ok(Auth::Cleartext));
        assert_eq!(
            parse_auth(&[0, 0, 0, 5, 9, 8, 7, 6]),
            Ok(Auth::Md5([9, 8, 7, 6]))
        );
        assert_eq!(parse_auth(&[0, 0, 0, 5, 9]), Err(PgError::Malformed));
        assert_eq!(
            parse_auth(b"\0\0\0\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"),
            Ok(Auth::Sasl(vec![
                "SCRAM-SHA-256-PLUS".into(),
                "SCRAM-SHA-256".into()
            ]))
        );
        assert_eq!(parse_auth(&[0, 0, 0, 7]), Ok(Auth::Other(7)));
        assert_eq!(parse_auth(&[0, 0]), Err(PgError::Malformed));

        let e = parse_error(
            b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user \"probe\"\0\0",
        );
        assert_eq!(
            e.to_string(),
            "FATAL 28P01: password authentication failed for user \"probe\""
        );

        assert_eq!(message_len(b"Z\0\0\0"), Ok(None));
        assert_eq!(message_len(b"Z\0\0\0\x05I"), Ok(Some(6)));
        assert_eq!(message_len(b"Z\0\0\0\x03"), Err(PgError::Malformed));
        assert_eq!(
            message_len(b"D\x7f\xff\xff\xff"),
            Err(PgError::TooLarge(0x7fff_ffff))
        );
        let frame = b"Z\0\0\0\x05I";
        assert_eq!(
            split(frame),
            Message {
                tag: b'Z',
                body: b"I"
            }
        );
    }

    #[test]
    fn tally_counts_rows_across_statements() {
        let mut t = QueryTally::default();
        let msgs: [(u8, &[u8]); 6] = [
            (b'T', b"\0\x01x\0"),
            (b'D', b"\0\x01\0\0\0\x011"),
            (b'C', b"SELECT 1\0"),
            (b'D', b"\0\x01\0\0\0\x012"),
            (b'C', b"SELECT 1\0"),
            (b'Z', b"I"),
        ];
        let done: Vec<bool> = msgs
            .iter()
            .map(|(tag, body)| t.feed(Message { tag: *tag, body }))
            .collect();
        assert_eq!(done, [false, false, false, false, false, true]);
        assert_eq!(t.rows, 2);
        let mut t = QueryTally::default();
        t.feed(Message {
            tag: b'E',
            body: b"SERROR\0C42P01\0Mrelation \"nope\" does not exist\0\0",
        });
        assert_eq!(t.error.unwrap().code, "42P01");
    }

    proptest::proptest! {
        /// Any backend bytes: the framing never admits a message past MAX_MESSAGE, and the
        /// message parsers never panic and return only what the input holds.
        #[test]
        fn any_backend_bytes_parse_within_their_bounds(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            tags in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..8),
        ) {
            if let Ok(Some(len)) = message_len(&raw) {
                proptest::prop_assert!(len <= MAX_MESSAGE + 1);
            }
            let mut tally = QueryTally::default();
            for (i, tag) in tags.iter().enumerate() {
                let body = &raw[(i * 37).min(raw.len())..];
                let mut frame = vec![*tag];
                frame.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
                frame.extend_from_slice(body);
                proptest::prop_assert_eq!(message_len(&frame).ok().flatten(), Some(frame.len()));
                let message = split(&frame);
                proptest::prop_assert!(message.body.len() <= body.len());
                if let Ok(Auth::Sasl(mechanisms)) = parse_auth(message.body) {
                    proptest::prop_assert!(mechanisms.iter().map(String::len).sum::<usize>() <= 3 * body.len());
                }
                let e = parse_error(message.body).to_string();
                proptest::prop_assert!(e.len() <= 3 * body.len() + 64);
                if tally.feed(message) {
                    tally = QueryTally::default();
                }
                let _ = split(&raw);
            }
        }
    }
}
