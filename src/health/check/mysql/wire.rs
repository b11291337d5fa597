//! MySQL client/server protocol pieces for a login and one text query (MySQL internals
//! manual, "Client/Server Protocol"): packet framing, the v10 handshake, the
//! HandshakeResponse41, the two password scrambles in common use, auth replies, and
//! counting the rows of a text result set. Pure.

use super::super::crypto::{sha1, sha256, xor};

/// Capability flags used here.
pub mod cap {
    pub const LONG_PASSWORD: u32 = 0x0000_0001;
    pub const CONNECT_WITH_DB: u32 = 0x0000_0008;
    pub const PROTOCOL_41: u32 = 0x0000_0200;
    pub const SSL: u32 = 0x0000_0800;
    pub const TRANSACTIONS: u32 = 0x0000_2000;
    pub const SECURE_CONNECTION: u32 = 0x0000_8000;
    pub const MULTI_RESULTS: u32 = 0x0002_0000;
    pub const PLUGIN_AUTH: u32 = 0x0008_0000;
}

/// `SERVER_MORE_RESULTS_EXISTS` in OK/EOF status flags.
const MORE_RESULTS: u16 = 0x0008;
/// Largest packet accepted (a health query's rows are small).
pub const MAX_PACKET: usize = 8 << 20;
/// utf8mb4_general_ci.
const CHARSET: u8 = 45;

pub const NATIVE: &str = "mysql_native_password";
pub const CACHING_SHA2: &str = "caching_sha2_password";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("malformed {0} packet")]
    Malformed(&'static str),
    #[error("packet of {0} bytes is too large")]
    TooLarge(usize),
    #[error("protocol version {0} is not supported (only 10)")]
    Protocol(u8),
    #[error("the server lacks {0}")]
    MissingCapability(&'static str),
    #[error("{0} contains a NUL byte")]
    Nul(&'static str),
    #[error("the query asked for LOCAL INFILE, which the check refuses")]
    LocalInfile,
}

/// An ERR packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub code: u16,
    pub state: String,
    pub message: String,
}

impl std::fmt::Display for ServerError {
    /// The mysql client's format: `ERROR 1045 (28000): Access denied…`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ERROR {}", self.code)?;
        if !self.state.is_empty() {
            write!(f, " ({})", self.state)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// An ERR packet's fields (the payload starts with 0xff).
pub fn parse_err(payload: &[u8]) -> ServerError {
    let code = match payload.get(1..3) {
        Some(c) => u16::from_le_bytes([c[0], c[1]]),
        None => 0,
    };
    let rest = payload.get(3..).unwrap_or(&[]);
    let (state, message) = match rest.strip_prefix(b"#") {
        Some(r) if r.len() >= 5 => (&r[..5], &r[5..]),
        _ => (&b""[..], rest),
    };
    ServerError {
        code,
        state: String::from_utf8_lossy(state).into_owned(),
        message: String::from_utf8_lossy(message).into_owned(),
    }
}

/// `payload` behind its 4-byte header (3-byte little-endian length, sequence id).
pub fn frame(seq: u8, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_le_bytes();
    let mut out = vec![len[0], len[1], len[2], seq];
    out.extend_from_slice(payload);
    out
}

/// Length and sequence id of the packet whose header starts `buf`.
pub fn header(buf: &[u8]) -> Result<Option<(usize, u8)>, WireError> {
    let Some(h) = buf.get(..4) else {
        return Ok(None);
    };
    let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
    if len > MAX_PACKET {
        return Err(WireError::TooLarge(len));
    }
    Ok(Some((len, h[3])))
}

/// The server's initial handshake, as far as the login needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub server_version: String,
    pub capabilities: u32,
    /// The 20-byte nonce (both parts, trailing NUL dropped).
    pub scramble: Vec<u8>,
    /// The server's default auth plugin (empty when it names none).
    pub plugin: String,
}

/// What the first packet said: a handshake, or an ERR (e.g. host not allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Greeting {
    Handshake(Handshake),
    Refused(ServerError),
}

fn cstr(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = buf.iter().position(|b| *b == 0)?;
    Some((&buf[..end], &buf[end + 1..]))
}

pub fn parse_greeting(payload: &[u8]) -> Result<Greeting, WireError> {
    let bad = WireError::Malformed("handshake");
    match payload.first() {
        Some(0xff) => return Ok(Greeting::Refused(parse_err(payload))),
        Some(10) => {}
        Some(v) => return Err(WireError::Protocol(*v)),
        None => return Err(bad),
    }
    let (version, rest) = cstr(&payload[1..]).ok_or(bad.clone())?;
    // connection id (4), scramble part 1 (8), filler (1), capabilities low (2)
    let fixed = rest.get(..15).ok_or(bad.clone())?;
    let mut scramble = fixed[4..12].to_vec();
    let mut capabilities = u32::from(u16::from_le_bytes([fixed[13], fixed[14]]));
    let mut plugin = String::new();
    // charset (1), status (2), capabilities high (2), auth data length (1), reserved (10)
    if let Some(ext) = rest.get(15..31) {
        capabilities |= u32::from(u16::from_le_bytes([ext[3], ext[4]])) << 16;
        let auth_len = ext[5] as usize;
        let tail = &rest[31..];
        if capabilities & cap::SECURE_CONNECTION != 0 {
            let part2_len = auth_len.saturating_sub(8).max(13).min(tail.len());
            let part2 = &tail[..part2_len];
            scramble.extend_from_slice(part2.strip_suffix(&[0]).unwrap_or(part2));
            if capabilities & cap::PLUGIN_AUTH != 0 {
                let name = &tail[part2_len..];
                // Some servers omit the final NUL.
                let name = cstr(name).map_or(name, |(n, _)| n);
                plugin = String::from_utf8_lossy(name).into_owned();
            }
        }
    }
    Ok(Greeting::Handshake(Handshake {
        server_version: String::from_utf8_lossy(version).into_owned(),
        capabilities,
        scramble,
        plugin,
    }))
}

/// mysql_native_password: `SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))`; empty for an
/// empty password.
pub fn native_scramble(password: &str, scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = sha1(&[password.as_bytes()]);
    let stage2 = sha1(&[&stage1]);
    xor(&stage1, &sha1(&[scramble, &stage2])).to_vec()
}

/// caching_sha2_password's fast path: `SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble)`.
pub fn caching_sha2_scramble(password: &str, scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = sha256(&[password.as_bytes()]);
    let stage2 = sha256(&[&stage1]);
    xor(&stage1, &sha256(&[&stage2, scramble])).to_vec()
}

/// Whether the check can answer `plugin`.
pub fn supported(plugin: &str) -> bool {
    matches!(plugin, NATIVE | CACHING_SHA2)
}

/// The auth data for `plugin`, None for plugins the check cannot speak.
pub fn auth_data(plugin: &str, password: &str, scramble: &[u8]) -> Option<Vec<u8>> {
    match plugin {
        NATIVE => Some(native_scramble(password, scramble)),
        CACHING_SHA2 => Some(caching_sha2_scramble(password, scramble)),
        _ => None,
    }
}

/// The capability flags the client announces; `tls` adds CLIENT_SSL (the server must
/// offer it).
fn client_flags(h: &Handshake, database: &str, tls: bool) -> u32 {
    let mut flags = cap::LONG_PASSWORD
        | cap::PROTOCOL_41
        | cap::TRANSACTIONS
        | cap::SECURE_CONNECTION
        | cap::MULTI_RESULTS;
    if !database.is_empty() {
        flags |= cap::CONNECT_WITH_DB;
    }
    if h.capabilities & cap::PLUGIN_AUTH != 0 {
        flags |= cap::PLUGIN_AUTH;
    }
    if tls {
        flags |= cap::SSL;
    }
    flags & (h.capabilities | cap::PROTOCOL_41 | cap::SECURE_CONNECTION)
}

/// The fixed 32 bytes both the SSLRequest and the HandshakeResponse41 start with:
/// flags, max packet size, character set, 23 reserved zeros.
fn fixed_part(flags: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&(16u32 << 20).to_le_bytes());
    out.push(CHARSET);
    out.extend_from_slice(&[0; 23]);
}

/// SSLRequest: the fixed part of a HandshakeResponse41 with CLIENT_SSL set; the TLS
/// handshake follows it, then the full response (with the next sequence id) inside TLS.
pub fn ssl_request(h: &Handshake, database: &str) -> Result<Vec<u8>, WireError> {
    if h.capabilities & cap::SSL == 0 {
        return Err(WireError::MissingCapability("CLIENT_SSL"));
    }
    let mut out = Vec::with_capacity(32);
    fixed_part(client_flags(h, database, true), &mut out);
    Ok(out)
}

/// caching_sha2_password's full-authentication answer on a TLS connection: the password
/// in clear, NUL-terminated (so it cannot hold a NUL itself).
pub fn cleartext_password(password: &str) -> Result<Vec<u8>, WireError> {
    if password.as_bytes().contains(&0) {
        return Err(WireError::Nul("password"));
    }
    let mut out = Vec::with_capacity(password.len() + 1);
    out.extend_from_slice(password.as_bytes());
    out.push(0);
    Ok(out)
}

/// HandshakeResponse41. An unknown default plugin is answered with mysql_native_password,
/// as libmysqlclient does; the server then switches to what the account really uses.
/// `tls` says the response travels inside TLS after an [`ssl_request`].
pub fn handshake_response(
    h: &Handshake,
    user: &str,
    password: &str,
    database: &str,
    tls: bool,
) -> Result<Vec<u8>, WireError> {
    for (flag, name) in [
        (cap::PROTOCOL_41, "CLIENT_PROTOCOL_41"),
        (cap::SECURE_CONNECTION, "CLIENT_SECURE_CONNECTION"),
    ] {
        if h.capabilities & flag == 0 {
            return Err(WireError::MissingCapability(name));
        }
    }
    for (what, text) in [("login", user), ("database", database)] {
        if text.as_bytes().contains(&0) {
            return Err(WireError::Nul(what));
        }
    }
    let flags = client_flags(h, database, tls);
    let plugin_auth = flags & cap::PLUGIN_AUTH != 0;
    let (plugin, data) = match auth_data(&h.plugin, password, &h.scramble) {
        Some(data) => (h.plugin.as_str(), data),
        None => (NATIVE, native_scramble(password, &h.scramble)),
    };
    let mut out = Vec::with_capacity(64 + user.len() + database.len());
    fixed_part(flags, &mut out);
    out.extend_from_slice(user.as_bytes());
    out.push(0);
    out.push(data.len() as u8);
    out.extend_from_slice(&data);
    if flags & cap::CONNECT_WITH_DB != 0 {
        out.extend_from_slice(database.as_bytes());
        out.push(0);
    }
    if plugin_auth {
        out.extend_from_slice(plugin.as_bytes());
        out.push(0);
    }
    Ok(out)
}

/// The server's answer during authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthReply {
    Ok,
    Err(ServerError),
    /// AuthSwitchRequest: use `plugin` with this new scramble.
    Switch {
        plugin: String,
        scramble: Vec<u8>,
    },
    /// AuthMoreData: plugin-specific bytes (caching_sha2: 3 = fast auth ok, 4 = full auth).
    More(Vec<u8>),
}

pub fn parse_auth_reply(payload: &[u8]) -> Result<AuthReply, WireError> {
    match payload.split_first() {
        Some((0x00, _)) => Ok(AuthReply::Ok),
        Some((0xff, _)) => Ok(AuthReply::Err(parse_err(payload))),
        Some((0xfe, rest)) => {
            let (plugin, data) = cstr(rest).ok_or(WireError::Malformed("auth switch"))?;
            Ok(AuthReply::Switch {
                plugin: String::from_utf8_lossy(plugin).into_owned(),
                scramble: data.strip_suffix(&[0]).unwrap_or(data).to_vec(),
            })
        }
        Some((0x01, rest)) => Ok(AuthReply::More(rest.to_vec())),
        _ => Err(WireError::Malformed("authentication reply")),
    }
}

pub fn com_query(sql: &str) -> Vec<u8> {
    let mut out = vec![0x03];
    out.extend_from_slice(sql.as_bytes());
    out
}

pub const COM_QUIT: [u8; 1] = [0x01];

/// A length-encoded integer at the start of `buf`, and the bytes it took.
pub fn lenenc(buf: &[u8]) -> Option<(u64, usize)> {
    let wide = |n: usize| -> Option<(u64, usize)> {
        let bytes = buf.get(1..=n)?;
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(bytes);
        Some((u64::from_le_bytes(v), n + 1))
    };
    match *buf.first()? {
        b @ 0..=0xfa => Some((u64::from(b), 1)),
        0xfc => wide(2),
        0xfd => wide(3),
        0xfe => wide(8),
        _ => None,
    }
}

/// Where a text-protocol query response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting OK, ERR or a column count.
    Start,
    Columns(u64),
    ColumnsEof,
    Rows,
}

/// Counts rows over all result sets of a COM_QUERY response (CLIENT_DEPRECATE_EOF off).
#[derive(Debug, Clone)]
pub struct ResultReader {
    state: State,
    pub rows: u64,
}

/// What one more packet did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    More,
    /// The response is complete: rows, or the server's error.
    Done(Result<u64, ServerError>),
}

impl Default for ResultReader {
    fn default() -> Self {
        Self {
            state: State::Start,
            rows: 0,
        }
    }
}

impl ResultReader {
    pub fn feed(&mut self, payload: &[u8]) -> Result<Step, WireError> {
        let first = *payload.first().ok_or(WireError::Malformed("result"))?;
        // EOF: 0xfe and shorter than 9 bytes (a row may begin with 0xfe, but is longer).
        let eof = first == 0xfe && payload.len() < 9;
        if first == 0xff {
            return Ok(Step::Done(Err(parse_err(payload))));
        }
        match self.state {
            State::Start if first == 0x00 => {
                let (_, a) = lenenc(&payload[1..]).ok_or(WireError::Malformed("OK"))?;
                let (_, b) = lenenc(&payload[1 + a..]).ok_or(WireError::Malformed("OK"))?;
                let status = payload
                    .get(1 + a + b..3 + a + b)
                    .ok_or(WireError::Malformed("OK"))?;
                return Ok(self.after_result(u16::from_le_bytes([status[0], status[1]])));
            }
            State::Start if first == 0xfb => return Err(WireError::LocalInfile),
            State::Start => {
                let (n, _) = lenenc(payload).ok_or(WireError::Malformed("column count"))?;
                if n == 0 {
                    return Err(WireError::Malformed("column count"));
                }
                self.state = State::Columns(n);
            }
            State::Columns(n) => {
                self.state = if n > 1 {
                    State::Columns(n - 1)
                } else {
                    State::ColumnsEof
                };
            }
            State::ColumnsEof if eof => self.state = State::Rows,
            State::ColumnsEof => return Err(WireError::Malformed("column EOF")),
            State::Rows if eof => {
                let status = payload.get(3..5).ok_or(WireError::Malformed("EOF"))?;
                return Ok(self.after_result(u16::from_le_bytes([status[0], status[1]])));
            }
            State::Rows => self.rows += 1,
        }
        Ok(Step::More)
    }

    fn after_result(&mut self, status: u16) -> Step {
        if status & MORE_RESULTS != 0 {
            self.state = State::Start;
            Step::More
        } else {
            Step::Done(Ok(self.rows))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const SCRAMBLE: [u8; 20] = [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    ];

    /// A MySQL 8.0 greeting: protocol 10, version, connection id 8, scramble in two parts,
    /// all capabilities but SSL, caching_sha2_password.
    fn mysql8_greeting() -> Vec<u8> {
        let mut p = vec![10];
        p.extend(b"8.0.36\0");
        p.extend([8, 0, 0, 0]);
        p.extend(&SCRAMBLE[..8]);
        p.push(0);
        p.extend([0xff, 0xf7, 0xff, 0x02, 0x00, 0xff, 0xdf, 21]);
        p.extend([0; 10]);
        p.extend(&SCRAMBLE[8..]);
        p.push(0);
        p.extend(b"caching_sha2_password\0");
        p
    }

    #[test]
    fn parses_a_mysql8_greeting() {
        let Greeting::Handshake(h) = parse_greeting(&mysql8_greeting()).unwrap() else {
            panic!("not a handshake")
        };
        assert_eq!(h.server_version, "8.0.36");
        assert_eq!(h.scramble, SCRAMBLE);
        assert_eq!(h.plugin, CACHING_SHA2);
        assert_eq!(h.capabilities, 0xdfff_f7ff);
    }

    #[test]
    fn greeting_errors_and_garbage() {
        let mut refused = vec![0xff, 0x6a, 0x04];
        refused.extend(b"Host '10.0.0.9' is not allowed to connect to this MySQL server");
        let Greeting::Refused(e) = parse_greeting(&refused).unwrap() else {
            panic!()
        };
        assert_eq!(
            e.to_string(),
            "ERROR 1130: Host '10.0.0.9' is not allowed to connect to this MySQL server"
        );
        assert_eq!(parse_greeting(b"SSH-2.0"), Err(WireError::Protocol(b'S')));
        assert!(parse_greeting(b"").is_err());
        assert!(parse_greeting(b"\x0a8.0").is_err());
        assert!(parse_greeting(b"\x0a8.0\0\x01\x02").is_err());
        let g = mysql8_greeting();
        for cut in 0..g.len() {
            let _ = parse_greeting(&g[..cut]);
        }
    }

    #[test]
    fn password_scrambles() {
        // Expected values computed independently (Python hashlib, the formulas of the
        // MySQL manual and PyMySQL).
        assert_eq!(
            native_scramble("secret", &SCRAMBLE),
            hex("b32bb3a583e1340c0a1108d58b1be49781ad8c2f")
        );
        assert_eq!(
            caching_sha2_scramble("secret", &SCRAMBLE),
            hex("746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9")
        );
        assert!(native_scramble("", &SCRAMBLE).is_empty());
        assert_eq!(auth_data("client_ed25519", "x", &SCRAMBLE), None);
    }

    #[test]
    fn handshake_response_bytes() {
        let Greeting::Handshake(h) = parse_greeting(&mysql8_greeting()).unwrap() else {
            panic!()
        };
        let got = handshake_response(&h, "probe", "secret", "app", false).unwrap();
        let mut expected = vec![0x09, 0xa2, 0x0a, 0x00]; // flags
        expected.extend([0x00, 0x00, 0x00, 0x01, 45]);
        expected.extend([0; 23]);
        expected.extend(b"probe\0");
        expected.push(32);
        expected.extend(caching_sha2_scramble("secret", &SCRAMBLE));
        expected.extend(b"app\0caching_sha2_password\0");
        assert_eq!(got, expected);
        assert_eq!(
            frame(1, &got[..3]),
            [0x03, 0x00, 0x00, 0x01, 0x09, 0xa2, 0x0a]
        );

        // An old server without plugin auth, an unknown plugin, no database.
        let old = Handshake {
            server_version: "5.0".into(),
            capabilities: cap::PROTOCOL_41 | cap::SECURE_CONNECTION | cap::LONG_PASSWORD,
            scramble: SCRAMBLE.to_vec(),
            plugin: String::new(),
        };
        let got = handshake_response(&old, "u", "", "", false).unwrap();
        assert_eq!(&got[..4], [0x01, 0x82, 0x00, 0x00]);
        assert_eq!(&got[32..], b"u\0\0");
        let odd = Handshake {
            plugin: "auth_gssapi_client".into(),
            capabilities: old.capabilities | cap::PLUGIN_AUTH,
            ..old.clone()
        };
        let got = handshake_response(&odd, "u", "secret", "", false).unwrap();
        assert!(got.ends_with(b"mysql_native_password\0"));
        let ancient = Handshake {
            capabilities: 0,
            ..old
        };
        assert_eq!(
            handshake_response(&ancient, "u", "", "", false),
            Err(WireError::MissingCapability("CLIENT_PROTOCOL_41"))
        );
    }

    #[test]
    fn ssl_request_and_tls_response_bytes() {
        let Greeting::Handshake(mut h) = parse_greeting(&mysql8_greeting()).unwrap() else {
            panic!()
        };
        // The MySQL 8 greeting above lacks CLIENT_SSL.
        assert_eq!(
            ssl_request(&h, "app"),
            Err(WireError::MissingCapability("CLIENT_SSL"))
        );
        h.capabilities |= cap::SSL;
        let request = ssl_request(&h, "app").unwrap();
        let mut expected = vec![0x09, 0xaa, 0x0a, 0x00]; // flags with CLIENT_SSL (0x800)
        expected.extend([0x00, 0x00, 0x00, 0x01, 45]);
        expected.extend([0; 23]);
        assert_eq!(request, expected);
        let response = handshake_response(&h, "probe", "secret", "app", true).unwrap();
        assert_eq!(response[..32], request[..]);
        assert_eq!(cleartext_password("my pass").unwrap(), b"my pass\0");
        assert_eq!(cleartext_password("a\0b"), Err(WireError::Nul("password")));
    }

    #[test]
    fn auth_replies() {
        assert_eq!(parse_auth_reply(&[0, 0, 0, 2, 0, 0, 0]), Ok(AuthReply::Ok));
        assert_eq!(parse_auth_reply(&[1, 3]), Ok(AuthReply::More(vec![3])));
        let mut switch = vec![0xfe];
        switch.extend(b"mysql_native_password\0");
        switch.extend(&SCRAMBLE);
        switch.push(0);
        assert_eq!(
            parse_auth_reply(&switch),
            Ok(AuthReply::Switch {
                plugin: NATIVE.into(),
                scramble: SCRAMBLE.to_vec()
            })
        );
        let mut denied = vec![0xff, 0x15, 0x04, b'#'];
        denied.extend(b"28000Access denied for user 'probe'@'localhost' (using password: YES)");
        let Ok(AuthReply::Err(e)) = parse_auth_reply(&denied) else {
            panic!()
        };
        assert_eq!(
            e.to_string(),
            "ERROR 1045 (28000): Access denied for user 'probe'@'localhost' (using password: YES)"
        );
        assert!(parse_auth_reply(&[0xfe]).is_err());
        assert!(parse_auth_reply(&[]).is_err());
        assert!(parse_auth_reply(&[0x42]).is_err());
    }

    #[test]
    fn lengths_and_headers() {
        assert_eq!(lenenc(&[0xfa]), Some((250, 1)));
        assert_eq!(lenenc(&[0xfc, 0x34, 0x12]), Some((0x1234, 3)));
        assert_eq!(lenenc(&[0xfd, 1, 2, 3]), Some((0x03_0201, 4)));
        assert_eq!(lenenc(&[0xfe, 1, 0, 0, 0, 0, 0, 0, 0]), Some((1, 9)));
        assert_eq!(lenenc(&[0xfe, 1]), None);
        assert_eq!(lenenc(&[0xfb]), None);
        assert_eq!(header(&[5, 0, 0]), Ok(None));
        assert_eq!(header(&[5, 0, 0, 2]), Ok(Some((5, 2))));
        assert_eq!(
            header(&[0xff, 0xff, 0xff, 0]),
            Err(WireError::TooLarge(0xff_ffff))
        );
        assert_eq!(com_query("SELECT 1"), b"\x03SELECT 1");
    }

    const EOF: &[u8] = &[0xfe, 0, 0, 0x02, 0x00];

    fn feed_all(packets: &[&[u8]]) -> Vec<Step> {
        let mut r = ResultReader::default();
        packets.iter().map(|p| r.feed(p).unwrap()).collect()
    }

    #[test]
    fn counts_rows_of_result_sets() {
        let column: &[u8] = b"\x03def\0\0\0\x011\0\x0c\x3f\0\x01\0\0\0\x08\x81\0\0\0\0";
        let steps = feed_all(&[&[1], column, EOF, b"\x011", b"\x012", EOF]);
        assert_eq!(steps.last(), Some(&Step::Done(Ok(2))));
        let steps = feed_all(&[&[1], column, EOF, EOF]);
        assert_eq!(steps.last(), Some(&Step::Done(Ok(0))));
        // A stored procedure: one result set, more-results flag, then the final OK.
        let more_eof: &[u8] = &[0xfe, 0, 0, 0x0a, 0x00];
        let steps = feed_all(&[
            &[1],
            column,
            EOF,
            b"\x011",
            more_eof,
            &[0, 0, 0, 2, 0, 0, 0],
        ]);
        assert_eq!(steps.last(), Some(&Step::Done(Ok(1))));
        // UPDATE: a bare OK, no rows.
        assert_eq!(feed_all(&[&[0, 1, 0, 2, 0, 0, 0]]), [Step::Done(Ok(0))]);
        // A row whose first column is 0xfe-prefixed (long) is a row, not an EOF.
        let mut long_row = vec![0xfe, 9, 0, 0, 0, 0, 0, 0, 0];
        long_row.extend(b"123456789");
        let steps = feed_all(&[&[1], column, EOF, &long_row, EOF]);
        assert_eq!(steps.last(), Some(&Step::Done(Ok(1))));
    }

    #[test]
    fn query_errors_and_garbage() {
        let mut err = vec![0xff, 0x7a, 0x04, b'#'];
        err.extend(b"42S02Table 'app.nope' doesn't exist");
        let steps = feed_all(&[&err]);
        let Step::Done(Err(e)) = &steps[0] else {
            panic!()
        };
        assert_eq!(e.code, 1146);
        let mut r = ResultReader::default();
        assert_eq!(r.feed(&[0xfb]), Err(WireError::LocalInfile));
        let mut r = ResultReader::default();
        assert!(r.feed(&[]).is_err());
        let mut r = ResultReader::default();
        assert!(r.feed(&[0]).is_err());
        let mut r = ResultReader::default();
        r.feed(&[1]).unwrap();
        r.feed(b"col").unwrap();
        assert_eq!(r.feed(b"row?"), Err(WireError::Malformed("column EOF")));
    }

    proptest::proptest! {
        /// Any packet payloads, in any order: the parsers never panic, a header never
        /// admits a packet past MAX_PACKET, and what they return comes from the input.
        #[test]
        fn any_payload_parses_within_its_bounds(
            payloads in proptest::collection::vec(
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), 0..12),
        ) {
            let mut reader = ResultReader::default();
            for p in &payloads {
                if let Ok(Some((len, _))) = header(p) {
                    proptest::prop_assert!(len <= MAX_PACKET);
                }
                if let Ok(Greeting::Handshake(h)) = parse_greeting(p) {
                    proptest::prop_assert!(h.scramble.len() <= p.len());
                    proptest::prop_assert!(h.server_version.len() <= 3 * p.len());
                    let _ = handshake_response(&h, "u", "p", "db", false);
                    let _ = ssl_request(&h, "db");
                }
                match parse_auth_reply(p) {
                    Ok(AuthReply::Switch { plugin, scramble }) => {
                        proptest::prop_assert!(plugin.len() <= 3 * p.len() && scramble.len() <= p.len());
                        let _ = auth_data(&plugin, "p", &scramble);
                    }
                    Ok(AuthReply::Err(e)) => proptest::prop_assert!(e.message.len() <= 3 * p.len()),
                    _ => {}
                }
                let _ = lenenc(p);
                if let Ok(Step::Done(_)) = reader.feed(p) {
                    reader = ResultReader::default();
                }
            }
        }
    }
}
