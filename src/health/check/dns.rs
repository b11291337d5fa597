//! `service=dns`: one query to the real server, over TCP when the virtual
//! is TCP and UDP otherwise. A name is looked up as A; an IP address as PTR. Up when some A
//! address or PTR name matches `receive`; an empty receive is always down (as ldirectord).
//! A minimal hand-written DNS client: one question, answers only, compression understood.
//! Over UDP the query is sent again after 5 s, then 10 s, 20 s… (Net::DNS's `retrans`
//! schedule), so one lost datagram does not fail a check with the default 30 s timeout.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use regex::Regex;
use tokio::io::AsyncWriteExt;

use super::net::{self, Failure};
use super::{BoxFuture, Check, Outcome, Target, bounded, with_deadline};

const TYPE_A: u16 = 1;
const TYPE_PTR: u16 = 12;
/// Net::DNS's default first retransmission interval (doubled after each resend).
pub const RETRANSMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct DnsCheck {
    /// The name or address to look up (leading `/` already removed).
    pub query: String,
    pub receive: Option<Regex>,
    pub tcp: bool,
    pub timeout: Duration,
    /// First UDP resend interval ([`RETRANSMIT`]); doubles after every resend.
    pub retransmit: Duration,
}

impl Check for DnsCheck {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(receive) = &self.receive else {
                return Outcome::Down("dns check without receive".to_owned());
            };
            let Some(port) = target.check_port else {
                return Outcome::Down("no port to query".to_owned());
            };
            let server = SocketAddr::new(target.real_addr, port);
            let (name, qtype) = question(&self.query);
            let id = (std::process::id() as u16) ^ 0x5a5a;
            let query = build_query(id, &name, qtype);
            with_deadline(self.timeout, async move {
                let reply = if self.tcp {
                    exchange_tcp(server, &query).await
                } else {
                    exchange_udp(server, &query, self.retransmit).await
                };
                match reply.map(|r| parse_answers(&r, id, qtype)) {
                    Ok(Ok(answers)) if answers.iter().any(|a| receive.is_match(a)) => Outcome::Up,
                    Ok(Ok(answers)) => Outcome::Down(format!(
                        "no answer for {name} matches receive ({})",
                        answers.join(", ")
                    )),
                    Ok(Err(why)) => Outcome::Down(why),
                    Err(e) => Failure::io(format_args!("dns query to {server}"), &e).into_outcome(),
                }
            })
            .await
        })
    }
}

/// The name to ask and its type: PTR in in-addr.arpa/ip6.arpa for an address, else A.
pub fn question(query: &str) -> (String, u16) {
    match query.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => {
            let o = a.octets();
            (
                format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0]),
                TYPE_PTR,
            )
        }
        Ok(IpAddr::V6(a)) => {
            let nibbles: Vec<String> = a
                .octets()
                .iter()
                .rev()
                .flat_map(|b| [b & 0x0f, b >> 4])
                .map(|n| format!("{n:x}"))
                .collect();
            (format!("{}.ip6.arpa", nibbles.join(".")), TYPE_PTR)
        }
        Err(_) => (query.trim_end_matches('.').to_owned(), TYPE_A),
    }
}

pub fn build_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; one question
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let bytes = &label.as_bytes()[..label.len().min(63)];
        q.push(bytes.len() as u8);
        q.extend_from_slice(bytes);
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    q
}

async fn exchange_udp(
    server: SocketAddr,
    query: &[u8],
    retransmit: Duration,
) -> std::io::Result<Vec<u8>> {
    let sock = net::udp(server).await?;
    // A datagram longer than the buffer is cut by the kernel: the read is bounded.
    let mut buf = vec![0u8; 4096];
    let mut wait = retransmit.max(Duration::from_millis(10));
    loop {
        sock.send(query).await?;
        // The caller's deadline ends this loop.
        if let Ok(received) = tokio::time::timeout(wait, sock.recv(&mut buf)).await {
            let n = received?;
            buf.truncate(n);
            return Ok(buf);
        }
        wait = wait.saturating_mul(2);
    }
}

async fn exchange_tcp(server: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = tokio::net::TcpStream::connect(server).await?;
    let len = u16::try_from(query.len()).map_err(std::io::Error::other)?;
    s.write_all(&len.to_be_bytes()).await?;
    s.write_all(query).await?;
    let mut buf = Vec::new();
    let n = bounded::read_frame(&mut s, &mut buf, TCP_FRAME_CAP, |b: &[u8]| {
        Ok::<_, std::convert::Infallible>(tcp_frame_len(b))
    })
    .await?;
    buf.truncate(n);
    buf.drain(..2);
    Ok(buf)
}

/// A DNS message over TCP: a 16-bit length, then the message.
const TCP_FRAME_CAP: usize = 2 + u16::MAX as usize;

fn tcp_frame_len(buf: &[u8]) -> Option<usize> {
    buf.get(..2)
        .map(|n| 2 + usize::from(u16::from_be_bytes([n[0], n[1]])))
}

/// Bytes of answer text [`parse_answers`] keeps at most. A reply of legal size (64 KiB over
/// TCP) holds at most a few thousand A records, under 64 KiB as text; compression pointers
/// let a hostile one make each PTR answer repeat a 255-byte name, which this bounds.
pub const MAX_ANSWER_TEXT: usize = 1 << 20;

/// The A addresses or PTR names among the answers; Err for a reply that is not ours or
/// reports an error.
pub fn parse_answers(r: &[u8], id: u16, qtype: u16) -> Result<Vec<String>, String> {
    let bad = || "malformed DNS reply".to_owned();
    if r.len() < 12 || r[0..2] != id.to_be_bytes() || r[2] & 0x80 == 0 {
        return Err(bad());
    }
    let rcode = r[3] & 0x0f;
    if rcode != 0 {
        return Err(format!("DNS error code {rcode}"));
    }
    let qd = u16::from_be_bytes([r[4], r[5]]);
    let an = u16::from_be_bytes([r[6], r[7]]);
    let mut pos = 12;
    for _ in 0..qd {
        pos = skip_name(r, pos).ok_or_else(bad)? + 4;
    }
    let mut out: Vec<String> = Vec::new();
    let mut text = 0;
    for _ in 0..an {
        pos = skip_name(r, pos).ok_or_else(bad)?;
        let head = r.get(pos..pos + 10).ok_or_else(bad)?;
        let rtype = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[8], head[9]]));
        let data_at = pos + 10;
        let data = r.get(data_at..data_at + len).ok_or_else(bad)?;
        let answer = match rtype {
            TYPE_A if qtype == TYPE_A && len == 4 => {
                Some(format!("{}.{}.{}.{}", data[0], data[1], data[2], data[3]))
            }
            TYPE_PTR if qtype == TYPE_PTR => Some(read_name(r, data_at).ok_or_else(bad)?),
            _ => None,
        };
        if let Some(answer) = answer {
            text += answer.len();
            if text > MAX_ANSWER_TEXT {
                return Err(format!(
                    "DNS reply with more than {MAX_ANSWER_TEXT} bytes of answers"
                ));
            }
            out.push(answer);
        }
        pos = data_at + len;
    }
    Ok(out)
}

/// The position after a (possibly compressed) name.
fn skip_name(r: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *r.get(pos)?;
        match len {
            0 => return Some(pos + 1),
            l if l & 0xc0 == 0xc0 => return Some(pos + 2),
            l => pos += 1 + usize::from(l),
        }
    }
}

/// Steps (a label, a compression pointer, or the root that ends the name) [`read_name`]
/// takes before it gives up. A name is at most 255 bytes, so it has at most 127 labels; a
/// legal compressed name jumps at most once before each run of labels (127 pointers), and
/// the root ends it: 255 steps read any legal name, and a pointer loop in a hostile reply
/// ends there.
const MAX_NAME_STEPS: usize = 255;

/// Longest name on the wire (labels with their length bytes, and the root).
const MAX_NAME: usize = 255;

/// A name as dotted text without the final dot; `None` past [`MAX_NAME_STEPS`] or
/// [`MAX_NAME`] (pointers could otherwise make one short reply spell a name of 16 KiB).
fn read_name(r: &[u8], mut pos: usize) -> Option<String> {
    let mut labels = Vec::new();
    let mut wire = 1;
    for _ in 0..MAX_NAME_STEPS {
        let len = *r.get(pos)?;
        if len == 0 {
            return Some(labels.join("."));
        }
        if len & 0xc0 == 0xc0 {
            pos = usize::from(u16::from_be_bytes([len & 0x3f, *r.get(pos + 1)?]));
            continue;
        }
        wire += 1 + usize::from(len);
        if wire > MAX_NAME {
            return None;
        }
        let label = r.get(pos + 1..pos + 1 + usize::from(len))?;
        labels.push(String::from_utf8_lossy(label).into_owned());
        pos += 1 + usize::from(len);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UdpSocket;

    fn reply(id: u16, q: &[u8], answers: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut r = q.to_vec();
        r[0..2].copy_from_slice(&id.to_be_bytes());
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = answers.len() as u8;
        for (t, data) in answers {
            r.extend_from_slice(&[0xc0, 12]);
            r.extend_from_slice(&t.to_be_bytes());
            r.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            r.extend_from_slice(&(data.len() as u16).to_be_bytes());
            r.extend_from_slice(data);
        }
        r
    }

    /// A and PTR questions and answers (matching is in DnsCheck::run).
    #[test]
    fn t43_a_and_ptr_answers() {
        let (name, t) = question("www.example.com");
        assert_eq!((name.as_str(), t), ("www.example.com", TYPE_A));
        let q = build_query(7, &name, t);
        let r = reply(7, &q, &[(TYPE_A, vec![192, 0, 2, 9]), (5, vec![0])]);
        assert_eq!(parse_answers(&r, 7, TYPE_A).unwrap(), ["192.0.2.9"]);
        assert!(parse_answers(&r, 8, TYPE_A).is_err());

        let (name, t) = question("192.0.2.9");
        assert_eq!((name.as_str(), t), ("9.2.0.192.in-addr.arpa", TYPE_PTR));
        let q = build_query(1, &name, t);
        let ptr = b"\x03web\x07example\x00".to_vec();
        let r = reply(1, &q, &[(TYPE_PTR, ptr)]);
        assert_eq!(parse_answers(&r, 1, TYPE_PTR).unwrap(), ["web.example"]);
        let mut nx = reply(1, &q, &[]);
        nx[3] = 0x83;
        assert_eq!(
            parse_answers(&nx, 1, TYPE_PTR).unwrap_err(),
            "DNS error code 3"
        );
        assert!(parse_answers(&q[..5], 1, TYPE_PTR).is_err());
    }

    /// The longest legal name is read across pointers; a pointer loop is malformed.
    #[test]
    fn names_are_read_within_their_step_bound() {
        // 127 one-letter labels (254 bytes with the root) in runs of one label chained by
        // pointers: 127 labels, 126 pointers and the root.
        let mut r = vec![0u8; 12];
        let mut previous = None;
        for _ in 0..127 {
            let at = r.len();
            r.extend_from_slice(b"\x01a");
            match previous {
                Some(p) => r.extend_from_slice(&[0xc0 | (p >> 8) as u8, p as u8]),
                None => r.push(0),
            }
            previous = Some(at);
        }
        let start = previous.unwrap();
        assert_eq!(read_name(&r, start).unwrap(), vec!["a"; 127].join("."));
        // A pointer to itself.
        let looped = [vec![0u8; 12], vec![0xc0, 12]].concat();
        assert_eq!(read_name(&looped, 12), None);
    }

    /// A UDP server that ignores the first query and answers the resend.
    #[tokio::test]
    async fn a_lost_udp_query_is_sent_again() {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = sock.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let _ = sock.recv_from(&mut buf).await.unwrap();
            let (n, peer) = sock.recv_from(&mut buf).await.unwrap();
            let id = u16::from_be_bytes([buf[0], buf[1]]);
            let r = reply(id, &buf[..n], &[(TYPE_A, vec![192, 0, 2, 1])]);
            sock.send_to(&r, peer).await.unwrap();
        });
        let check = DnsCheck {
            query: "www.example".into(),
            receive: Some(Regex::new("^192\\.0\\.2\\.1$").unwrap()),
            tcp: false,
            timeout: Duration::from_secs(2),
            retransmit: Duration::from_millis(200),
        };
        let t = crate::health::check::fake::target_udp(port);
        assert_eq!(check.run(&t).await, Outcome::Up);
    }

    /// A name longer than 255 bytes on the wire is malformed, however it is spelt.
    #[test]
    fn names_past_255_bytes_are_malformed() {
        // 64 labels of 3 letters: 256 bytes with the root.
        let mut r = vec![0u8; 12];
        for _ in 0..64 {
            r.extend_from_slice(b"\x03abc");
        }
        r.push(0);
        assert_eq!(read_name(&r, 12), None);
        r.truncate(12 + 4 * 63);
        r.push(0);
        assert_eq!(read_name(&r, 12).map(|n| n.len()), Some(63 * 4 - 1));
    }

    proptest::proptest! {
        /// Any reply bytes after a header that passes the id check: no panic, every name
        /// within its length, the answers within their cap.
        #[test]
        fn any_reply_parses_within_its_bounds(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1500),
            counts in proptest::prelude::any::<[u8; 4]>(),
            ptr in proptest::prelude::any::<bool>(),
        ) {
            let mut r = vec![0, 7, 0x81, 0x80, 0, counts[0] & 3, counts[1], counts[2], 0, 0, 0, counts[3]];
            r.extend_from_slice(&body);
            let qtype = if ptr { TYPE_PTR } else { TYPE_A };
            if let Ok(answers) = parse_answers(&r, 7, qtype) {
                proptest::prop_assert!(answers.iter().map(String::len).sum::<usize>() <= MAX_ANSWER_TEXT);
                for a in &answers {
                    // Lossy UTF-8 may turn each stray byte into a 3-byte U+FFFD.
                    proptest::prop_assert!(a.len() <= 3 * MAX_NAME, "{}", a.len());
                }
            }
            for at in 0..r.len() {
                if let Some(name) = read_name(&r, at) {
                    proptest::prop_assert!(name.len() <= 3 * MAX_NAME);
                }
            }
        }
    }
}
