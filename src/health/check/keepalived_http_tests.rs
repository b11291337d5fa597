use super::*;

fn expect(digest: Option<[u8; 16]>) -> Expect {
    Expect {
        status: vec![(200, 299)],
        digest,
        regex: None,
    }
}

fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

fn judge(reads: &[&[u8]], e: &Expect) -> Result<(), Failure> {
    let mut r = Response::new(e);
    for read in reads {
        r.feed(read);
    }
    r.judge(e)
}

#[test]
fn the_request_is_keepalived_s_template() {
    let addr = "192.0.2.5:8080".parse().unwrap();
    assert_eq!(
        request("/x", Protocol::Http10, None, addr),
        b"GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 192.0.2.5:8080\r\n\r\n"
    );
    assert_eq!(
        request("/", Protocol::Http11, Some("www.example"), addr),
        b"GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example\r\n\r\n"
    );
    let v6 = "[2001:db8::1]:80".parse().unwrap();
    assert_eq!(
        request("/", Protocol::Http10Close, None, v6),
        b"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [2001:db8::1]:80\r\n\r\n"
    );
    let long = "/".repeat(3000);
    assert_eq!(request(&long, Protocol::Http10, None, addr).len(), 2047);
}

#[test]
fn status_must_be_three_digits_between_spaces_and_accepted() {
    let ok = expect(None);
    assert_eq!(judge(&[b"HTTP/1.0 200 OK\r\n\r\n"], &ok), Ok(()));
    assert_eq!(judge(&[b"HTTP/1.0 299 x\r\n\r\nbody"], &ok), Ok(()));
    assert_eq!(
        judge(&[b"HTTP/1.0 404 No\r\n\r\n"], &ok),
        Err(Failure::Status)
    );
    assert_eq!(
        judge(&[b"HTTP/1.0 301 Moved\r\nLocation: /\r\n\r\n"], &ok),
        Err(Failure::Status)
    );
    // No reason phrase: the code is not followed by a space.
    assert_eq!(judge(&[b"HTTP/1.0 200\r\n\r\n"], &ok), Err(Failure::Status));
    assert_eq!(
        judge(&[b"HTTP/1.0 +20 OK\r\n\r\n"], &ok),
        Err(Failure::Status)
    );
    let custom = Expect {
        status: vec![(404, 404)],
        digest: None,
        regex: None,
    };
    assert_eq!(judge(&[b"HTTP/1.0 404 No\r\n\r\n"], &custom), Ok(()));
}

#[test]
fn without_a_header_end_in_the_buffer_no_data_was_received() {
    let ok = expect(None);
    assert_eq!(judge(&[], &ok), Err(Failure::NoData));
    assert_eq!(judge(&[b"HTTP/1.0 200 OK\r\n"], &ok), Err(Failure::NoData));
    // Split across reads, the header still ends in the buffer.
    assert_eq!(judge(&[b"HTTP/1.0 200 OK\r\n\r", b"\nhi"], &ok), Ok(()));
    // A header longer than the buffer: it fills, keepalived reads nothing more.
    let mut r = Response::default();
    let big = [b'x'; 5000];
    r.feed(b"HTTP/1.0 200 OK\r\nX: ");
    r.feed(&big);
    assert_eq!(r.room(), 0);
    r.feed(b"\r\n\r\n");
    assert_eq!(r.judge(&ok), Err(Failure::NoData));
}

#[test]
fn the_digest_covers_the_body_up_to_content_length() {
    let body = b"hello world";
    let e = expect(Some(md5(body)));
    assert_eq!(
        judge(&[b"HTTP/1.0 200 OK\r\n\r\nhello ", b"world"], &e),
        Ok(())
    );
    assert_eq!(
        judge(
            &[b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world and more"],
            &e
        ),
        Ok(())
    );
    assert_eq!(
        judge(
            &[b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello world"],
            &e
        ),
        Err(Failure::Digest)
    );
    assert_eq!(
        judge(
            &[b"HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhello world"],
            &e
        ),
        Ok(()),
        "the tag is matched as written"
    );
    // The status is checked before the digest.
    assert_eq!(
        judge(&[b"HTTP/1.0 500 E\r\n\r\nhello world"], &e),
        Err(Failure::Status)
    );
}

#[test]
fn content_length_is_read_as_strtoul_would() {
    assert_eq!(content_length(b"Content-Length: 12\r\n"), Some(12));
    assert_eq!(content_length(b"Content-Length:12"), Some(12));
    assert_eq!(content_length(b"Content-Length: 12 \r\n"), None);
    assert_eq!(content_length(b"Content-Length:\r\n"), Some(0));
    assert_eq!(content_length(b"Content-Length: x\r\n"), None);
    assert_eq!(content_length(b"Content-Length: -1\r\n"), None);
    assert_eq!(
        content_length(b"Content-Length: 99999999999999999999\r\n"),
        None
    );
    assert_eq!(content_length(b"X: \0Content-Length: 3\r\n"), None);
    assert_eq!(content_length(b"body says Content-Length: 3\r\n"), Some(3));
}

fn with_regex(pattern: &str, no_match: bool) -> Expect {
    Expect {
        regex: Some(crate::health::config::KeepalivedRegex {
            literal: pattern.as_bytes().to_vec(),
            no_match,
            min_offset: 0,
            max_offset: 0,
        }),
        ..expect(None)
    }
}

/// http_process_response hands check_regex the whole buffer that completed the header:
/// the status line matches when a body byte came with it, not when the header came alone.
#[test]
fn the_regex_sees_the_header_only_in_a_buffer_with_body_bytes() {
    let e = with_regex("200 OK", false);
    assert_eq!(judge(&[b"HTTP/1.0 200 OK\r\n\r\nx"], &e), Ok(()));
    assert_eq!(
        judge(&[b"HTTP/1.0 200 OK\r\n\r\n", b"x"], &e),
        Err(Failure::Regex)
    );
}

/// A partial match at a buffer's end is carried into the next read (PCRE2_PARTIAL_HARD);
/// one still partial at the end of the stream is no match.
#[test]
fn the_regex_matches_across_reads_but_not_past_the_end() {
    let e = with_regex("alive", false);
    assert_eq!(
        judge(&[b"HTTP/1.0 200 OK\r\n\r\nal", b"iv", b"e"], &e),
        Ok(())
    );
    assert_eq!(
        judge(&[b"HTTP/1.0 200 OK\r\n\r\nal", b"iv"], &e),
        Err(Failure::Regex)
    );
    let none = with_regex("down", true);
    assert_eq!(judge(&[b"HTTP/1.0 200 OK\r\n\r\nup"], &none), Ok(()));
    assert_eq!(
        judge(&[b"HTTP/1.0 200 OK\r\n\r\nis down"], &none),
        Err(Failure::Regex)
    );
}

/// Status, then digest, then regex: the first that fails names the failure.
#[test]
fn the_regex_is_judged_after_status_and_digest() {
    let e = Expect {
        digest: Some(md5(b"nope")),
        ..with_regex("x", false)
    };
    assert_eq!(
        judge(&[b"HTTP/1.0 500 E\r\n\r\ny"], &e),
        Err(Failure::Status)
    );
    assert_eq!(
        judge(&[b"HTTP/1.0 200 OK\r\n\r\ny"], &e),
        Err(Failure::Digest)
    );
}

/// Bytes a partial match kept take room in the buffer (the next read is smaller) and are
/// counted again in rx_bytes, which limits the digest by Content-Length.
#[test]
fn kept_bytes_shrink_the_next_read_and_count_again_against_content_length() {
    let e = with_regex("abc", false);
    let mut r = Response::new(&e);
    r.feed(b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nab");
    assert_eq!(r.room(), BUFFER - 2);
    // rx_bytes is 2; this read's 3 bytes are digested up to 4 - 2 = 2 of them, then
    // rx_bytes becomes 2 + 5 (the kept "ab" again).
    r.feed(b"cde");
    assert_eq!(r.room(), BUFFER);
    r.feed(b"f");
    let mut want = expect(Some(md5(b"abcd")));
    want.regex = e.regex.clone();
    assert_eq!(r.judge(&want), Ok(()));
}
