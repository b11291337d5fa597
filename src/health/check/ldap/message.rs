//! The four LDAPv3 messages the check needs (RFC 4511 §4): simple bind, base-scope search,
//! unbind, and the decoding of the server's responses. Pure; built on `ber`.

use super::ber::{self, BerError, Element, tag};

/// Application tags of the protocol operations used here.
mod op {
    pub const BIND_REQUEST: u8 = 0x60;
    pub const BIND_RESPONSE: u8 = 0x61;
    pub const UNBIND_REQUEST: u8 = 0x42;
    pub const SEARCH_REQUEST: u8 = 0x63;
    pub const SEARCH_ENTRY: u8 = 0x64;
    pub const SEARCH_DONE: u8 = 0x65;
    pub const SEARCH_REFERENCE: u8 = 0x73;
    pub const EXTENDED_RESPONSE: u8 = 0x78;
    /// `[0]` simple password inside a bind request.
    pub const SIMPLE_AUTH: u8 = 0x80;
    /// `[7]` present filter.
    pub const FILTER_PRESENT: u8 = 0x87;
}

/// `resultCode` 0.
pub const SUCCESS: i64 = 0;

fn message(id: i64, operation: &[u8]) -> Vec<u8> {
    ber::constructed(tag::SEQUENCE, &[&ber::integer(tag::INTEGER, id), operation])
}

/// A version-3 simple bind; empty `name` and `password` make it anonymous.
pub fn bind_request(id: i64, name: &str, password: &str) -> Vec<u8> {
    let bind = ber::constructed(
        op::BIND_REQUEST,
        &[
            &ber::integer(tag::INTEGER, 3),
            &ber::encode(tag::OCTET_STRING, name.as_bytes()),
            &ber::encode(op::SIMPLE_AUTH, password.as_bytes()),
        ],
    );
    message(id, &bind)
}

/// A search of exactly `base` (scope baseObject) for `(objectClass=*)`, asking for no
/// attributes (`1.1`): only the entry's DN matters to the check.
pub fn base_search_request(id: i64, base: &str) -> Vec<u8> {
    let search = ber::constructed(
        op::SEARCH_REQUEST,
        &[
            &ber::encode(tag::OCTET_STRING, base.as_bytes()),
            // scope baseObject
            &ber::integer(tag::ENUMERATED, 0),
            // derefFindingBaseObj, Net::LDAP's default ("find")
            &ber::integer(tag::ENUMERATED, 2),
            // no size or time limit, types and values
            &ber::integer(tag::INTEGER, 0),
            &ber::integer(tag::INTEGER, 0),
            &ber::encode(tag::BOOLEAN, &[0]),
            &ber::encode(op::FILTER_PRESENT, b"objectClass"),
            &ber::constructed(tag::SEQUENCE, &[&ber::encode(tag::OCTET_STRING, b"1.1")]),
        ],
    );
    message(id, &search)
}

pub fn unbind_request(id: i64) -> Vec<u8> {
    message(id, &ber::encode(op::UNBIND_REQUEST, &[]))
}

/// The `LDAPResult` part of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapResult {
    pub code: i64,
    pub diagnostic: String,
}

impl std::fmt::Display for LdapResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", result_name(self.code), self.code)?;
        if !self.diagnostic.is_empty() {
            write!(f, ": {}", self.diagnostic)?;
        }
        Ok(())
    }
}

/// One server response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Bind(LdapResult),
    /// A search result entry: its DN.
    Entry(String),
    Reference,
    SearchDone(LdapResult),
    /// An extended response; with message id 0 it is a notice of disconnection.
    Extended(LdapResult),
    /// Any other operation, by tag.
    Other(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub response: Response,
}

/// Decodes one complete LDAPMessage.
pub fn parse(bytes: &[u8]) -> Result<Message, BerError> {
    let parts = ber::read_one(bytes)?.expect(tag::SEQUENCE)?.children()?;
    let (Some(id), Some(operation)) = (parts.first(), parts.get(1)) else {
        return Err(BerError::Truncated);
    };
    let id = id.expect(tag::INTEGER)?.integer()?;
    let response = match operation.tag {
        op::BIND_RESPONSE => Response::Bind(ldap_result(operation)?),
        op::SEARCH_DONE => Response::SearchDone(ldap_result(operation)?),
        op::EXTENDED_RESPONSE => Response::Extended(ldap_result(operation)?),
        op::SEARCH_ENTRY => {
            let fields = operation.children()?;
            let dn = fields.first().ok_or(BerError::Truncated)?;
            Response::Entry(dn.expect(tag::OCTET_STRING)?.text())
        }
        op::SEARCH_REFERENCE => Response::Reference,
        other => Response::Other(other),
    };
    Ok(Message { id, response })
}

fn ldap_result(operation: &Element<'_>) -> Result<LdapResult, BerError> {
    let fields = operation.children()?;
    let code = fields
        .first()
        .ok_or(BerError::Truncated)?
        .expect(tag::ENUMERATED)?
        .integer()?;
    let diagnostic = fields.get(2).map(Element::text).unwrap_or_default();
    Ok(LdapResult { code, diagnostic })
}

/// RFC 4511 Appendix A names of the result codes operators meet most.
pub fn result_name(code: i64) -> &'static str {
    match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        13 => "confidentialityRequired",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "result",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_bind_bytes() {
        // The bind every LDAP client sends first (as ldapsearch -x does).
        assert_eq!(
            bind_request(1, "", ""),
            [
                0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00
            ]
        );
    }

    #[test]
    fn simple_bind_bytes() {
        let mut expected = vec![0x30, 0x1b, 0x02, 0x01, 0x01, 0x60, 0x16, 0x02, 0x01, 0x03];
        expected.extend([0x04, 0x0b]);
        expected.extend(b"cn=a,dc=ex\x21");
        expected.extend([0x80, 0x04]);
        expected.extend(b"pw!!");
        assert_eq!(bind_request(1, "cn=a,dc=ex!", "pw!!"), expected);
    }

    #[test]
    fn base_search_bytes() {
        let mut expected = vec![0x30, 0x2e, 0x02, 0x01, 0x02, 0x63, 0x29];
        expected.extend([0x04, 0x04]);
        expected.extend(b"dc=x");
        expected.extend([0x0a, 0x01, 0x00, 0x0a, 0x01, 0x02]);
        expected.extend([0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00]);
        expected.extend([0x87, 0x0b]);
        expected.extend(b"objectClass");
        expected.extend([0x30, 0x05, 0x04, 0x03]);
        expected.extend(b"1.1");
        assert_eq!(base_search_request(2, "dc=x"), expected);
    }

    #[test]
    fn unbind_bytes() {
        assert_eq!(
            unbind_request(3),
            [0x30, 0x05, 0x02, 0x01, 0x03, 0x42, 0x00]
        );
    }

    #[test]
    fn parses_responses() {
        // BindResponse success, as OpenLDAP sends it.
        let bind_ok = [
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
        ];
        assert_eq!(
            parse(&bind_ok),
            Ok(Message {
                id: 1,
                response: Response::Bind(LdapResult {
                    code: 0,
                    diagnostic: String::new()
                })
            })
        );
        let mut bad = vec![0x30, 0x11, 0x02, 0x01, 0x01, 0x61, 0x0c, 0x0a, 0x01, 49];
        bad.extend([0x04, 0x00, 0x04, 0x05]);
        bad.extend(b"nope!");
        let parsed = parse(&bad).unwrap();
        let Response::Bind(result) = parsed.response else {
            panic!("{parsed:?}")
        };
        assert_eq!(result.to_string(), "invalidCredentials (49): nope!");

        // SearchResultEntry "dc=x" with one attribute, then a control-bearing done.
        let mut entry = vec![0x30, 0x1c, 0x02, 0x01, 0x02, 0x64, 0x17, 0x04, 0x04];
        entry.extend(b"dc=x");
        entry.extend([0x30, 0x0f, 0x30, 0x0d, 0x04, 0x02, b'd', b'c', 0x31, 0x07]);
        entry.extend([0x04, 0x01, b'x', 0x04, 0x02, b'y', b'z']);
        assert_eq!(
            parse(&entry).unwrap().response,
            Response::Entry("dc=x".into())
        );
        let done = [
            0x30, 0x0e, 0x02, 0x01, 0x02, 0x65, 0x07, 0x0a, 0x01, 0x20, 0x04, 0x00, 0x04, 0x00,
            0xa0, 0x00,
        ];
        assert_eq!(
            parse(&done).unwrap().response,
            Response::SearchDone(LdapResult {
                code: 32,
                diagnostic: String::new()
            })
        );
    }

    #[test]
    fn garbage_is_an_error() {
        for junk in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01",
            b"\x30\x00",
            b"\x30\x03\x02\x01\x01",
            b"\x04\x00",
            b"\x30\x05\x02\x01\x01\x61\x00",
            b"\x30\x06\x04\x01\x01\x64\x01\x00",
            b"HTTP/1.1 400 Bad Request\r\n",
        ] {
            assert!(parse(junk).is_err(), "{junk:?}");
        }
    }
}
