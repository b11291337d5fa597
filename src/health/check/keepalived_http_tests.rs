use super::*;

fn expect(digest: Option<[u8; 16]>) -> Expect {
    Expect {
        status: vec![(200, 299)],
        digest,
    }
}

fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

fn judge(reads: &[&[u8]], e: &Expect) -> Result<(), Failure> {
    let mut r = Response::default();
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
