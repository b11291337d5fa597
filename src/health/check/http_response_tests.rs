//! The response reader on whole responses, framed prefixes, trickled and hostile input.

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

/// Feeds `raw` in reads of `step` bytes; the reader and the last progress.
fn trickle(
    raw: &[u8],
    step: usize,
    cap: usize,
) -> (ResponseReader, Result<Progress, MalformedResponse>) {
    let mut reader = ResponseReader::new(false, cap);
    let mut last = Ok(Progress::More);
    for chunk in raw.chunks(step.max(1)) {
        last = reader.feed(chunk);
        if last != Ok(Progress::More) {
            break;
        }
    }
    (reader, last)
}

/// A head trickled in a byte at a time is searched in time linear in its length (the
/// old reader parsed the whole buffer again after every read), and its body comes out
/// whole.
#[test]
fn a_trickled_head_is_scanned_once() {
    let mut raw = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    raw.extend_from_slice(&vec![b'v'; 60_000]);
    raw.extend_from_slice(b"\r\nContent-Length: 4\r\n\r\nfine");
    let (reader, last) = trickle(&raw, 1, MAX_BODY);
    assert_eq!(last, Ok(Progress::Done));
    assert!(
        reader.examined <= 3 * raw.len(),
        "{} for {}",
        reader.examined,
        raw.len()
    );
    assert_eq!(reader.into_response().unwrap().body, b"fine");
}

/// A head that does not end within 64 KiB is refused at that point, whatever follows
/// (a server sending 100 MB of header costs 64 KiB).
#[test]
fn heads_past_the_cap_are_refused() {
    let mut raw = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
    raw.extend_from_slice(&vec![b'a'; 2 * MAX_HEAD]);
    let (reader, last) = trickle(&raw, 1000, MAX_BODY);
    assert_eq!(last, Err(MalformedResponse::HeadTooLong));
    assert!(reader.held() <= MAX_HEAD);
    assert_eq!(
        MalformedResponse::HeadTooLong.to_string(),
        "malformed HTTP response: head longer than 65536 bytes"
    );
    // Leading empty lines count against the cap too.
    let (_, last) = trickle(&vec![b'\n'; MAX_HEAD + 1], 7, MAX_BODY);
    assert_eq!(last, Err(MalformedResponse::HeadTooLong));
}

/// The reader stops as soon as it holds the body the caller keeps: nothing after the
/// head without receive=, the first `cap` bytes otherwise.
#[test]
fn the_body_is_read_only_as_far_as_it_is_needed() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
    let (reader, last) = trickle(raw, 5, 0);
    assert_eq!(last, Ok(Progress::Done));
    assert_eq!(reader.into_response().unwrap().body, b"");
    let (reader, last) = trickle(raw, 5, 4);
    assert_eq!(last, Ok(Progress::Done));
    assert_eq!(reader.into_response().unwrap().body, b"0123");
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
    let (reader, last) = trickle(chunked, 3, 2);
    assert_eq!(last, Ok(Progress::Done));
    assert_eq!(reader.into_response().unwrap().body, b"he");
}

proptest::proptest! {
    /// Any bytes, in any read sizes: no panic, and the reader never holds more than a
    /// head's cap, the body's cap and one chunk line.
    #[test]
    fn any_response_bytes_stay_within_the_caps(
        input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4000),
        step in 1usize..300,
        cap in 0usize..1000,
        prefix in proptest::sample::select(vec![
            &b""[..],
            b"HTTP/1.1 200 OK\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n",
        ]),
    ) {
        let raw = [prefix, &input].concat();
        let mut reader = ResponseReader::new(false, cap);
        for chunk in raw.chunks(step) {
            let fed = reader.feed(chunk);
            proptest::prop_assert!(
                reader.held() <= MAX_HEAD + cap + super::super::http_chunked::MAX_CHUNK_LINE + 1
            );
            if fed.is_err() || fed == Ok(Progress::Done) {
                break;
            }
        }
        let _ = reader.into_response();
    }
}
