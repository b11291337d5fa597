//! The subset of BER that LDAPv3 uses (RFC 4511 §5.1): one-byte tags and definite lengths.
//!
//! Pure functions over byte slices. Anything outside that subset (multi-byte tags,
//! indefinite lengths, absurd sizes) is rejected as an error rather than half understood,
//! so a garbage reply can only ever make a check fail.

/// Universal tags LDAP needs.
pub mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const ENUMERATED: u8 = 0x0a;
    pub const SEQUENCE: u8 = 0x30;
}

/// Largest element accepted from a peer.
pub const MAX_ELEMENT: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    #[error("truncated BER element")]
    Truncated,
    #[error("BER tag {0:#04x} needs more than one byte")]
    LongTag(u8),
    #[error("BER indefinite length is not allowed in LDAP")]
    Indefinite,
    #[error("BER element of {0} bytes is too large")]
    TooLarge(u64),
    #[error("expected BER tag {expected:#04x}, found {found:#04x}")]
    UnexpectedTag { expected: u8, found: u8 },
    #[error("malformed BER integer")]
    BadInteger,
    #[error("trailing bytes after a BER element")]
    Trailing,
}

/// `tag`, definite length, `content`.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// An INTEGER or ENUMERATED (by `tag`) in the fewest two's-complement bytes.
pub fn integer(tag: u8, value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < bytes.len() - 1 {
        let (b, next_high) = (bytes[start], bytes[start + 1] & 0x80);
        if (b == 0 && next_high == 0) || (b == 0xff && next_high != 0) {
            start += 1;
        } else {
            break;
        }
    }
    encode(tag, &bytes[start..])
}

/// A constructed element whose content is `parts` concatenated.
pub fn constructed(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    encode(tag, &parts.concat())
}

/// Header size and content size of the element at the start of `buf`; `Ok(None)` while the
/// header itself is incomplete.
pub fn header(buf: &[u8]) -> Result<Option<(usize, usize)>, BerError> {
    let Some(&tag) = buf.first() else {
        return Ok(None);
    };
    if tag & 0x1f == 0x1f {
        return Err(BerError::LongTag(tag));
    }
    let Some(&first) = buf.get(1) else {
        return Ok(None);
    };
    if first < 0x80 {
        return Ok(Some((2, first as usize)));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 {
        return Err(BerError::Indefinite);
    }
    if n > 8 {
        return Err(BerError::TooLarge(u64::MAX));
    }
    let Some(len_bytes) = buf.get(2..2 + n) else {
        return Ok(None);
    };
    let len = len_bytes
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if len > MAX_ELEMENT as u64 {
        return Err(BerError::TooLarge(len));
    }
    Ok(Some((2 + n, len as usize)))
}

/// Total size of the element at the start of `buf` once its header is complete.
pub fn element_len(buf: &[u8]) -> Result<Option<usize>, BerError> {
    Ok(header(buf)?.map(|(h, c)| h + c))
}

/// One decoded element; `content` borrows from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    pub tag: u8,
    pub content: &'a [u8],
}

/// Splits the first element off `buf`.
pub fn read(buf: &[u8]) -> Result<(Element<'_>, &[u8]), BerError> {
    let (h, c) = header(buf)?.ok_or(BerError::Truncated)?;
    let end = h.checked_add(c).ok_or(BerError::Truncated)?;
    let content = buf.get(h..end).ok_or(BerError::Truncated)?;
    Ok((
        Element {
            tag: buf[0],
            content,
        },
        &buf[end..],
    ))
}

/// Decodes `buf` as exactly one element.
pub fn read_one(buf: &[u8]) -> Result<Element<'_>, BerError> {
    let (e, rest) = read(buf)?;
    if rest.is_empty() {
        Ok(e)
    } else {
        Err(BerError::Trailing)
    }
}

impl<'a> Element<'a> {
    /// Fails unless the element has tag `expected`.
    pub fn expect(self, expected: u8) -> Result<Self, BerError> {
        if self.tag == expected {
            Ok(self)
        } else {
            Err(BerError::UnexpectedTag {
                expected,
                found: self.tag,
            })
        }
    }

    /// The content as a sequence of elements.
    pub fn children(&self) -> Result<Vec<Element<'a>>, BerError> {
        let mut out = Vec::new();
        let mut rest = self.content;
        while !rest.is_empty() {
            let (e, r) = read(rest)?;
            out.push(e);
            rest = r;
        }
        Ok(out)
    }

    /// The content as a two's-complement integer of at most 8 bytes.
    pub fn integer(&self) -> Result<i64, BerError> {
        let c = self.content;
        if c.is_empty() || c.len() > 8 {
            return Err(BerError::BadInteger);
        }
        let fill = if c[0] & 0x80 == 0 { 0 } else { 0xff };
        let mut bytes = [fill; 8];
        bytes[8 - c.len()..].copy_from_slice(c);
        Ok(i64::from_be_bytes(bytes))
    }

    /// The content as text (lossy: DNs and messages are only shown and matched).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.content).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_use_the_fewest_bytes() {
        assert_eq!(integer(tag::INTEGER, 0), [0x02, 0x01, 0x00]);
        assert_eq!(integer(tag::INTEGER, 127), [0x02, 0x01, 0x7f]);
        assert_eq!(integer(tag::INTEGER, 128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer(tag::INTEGER, 256), [0x02, 0x02, 0x01, 0x00]);
        assert_eq!(integer(tag::INTEGER, -1), [0x02, 0x01, 0xff]);
        assert_eq!(integer(tag::INTEGER, -129), [0x02, 0x02, 0xff, 0x7f]);
        assert_eq!(integer(tag::ENUMERATED, 3), [0x0a, 0x01, 0x03]);
        for v in [0, 1, -1, 127, 128, -128, -129, 65_535, i64::MAX, i64::MIN] {
            let bytes = integer(tag::INTEGER, v);
            assert_eq!(read_one(&bytes).unwrap().integer().unwrap(), v, "{v}");
        }
    }

    #[test]
    fn long_lengths() {
        let long = encode(tag::OCTET_STRING, &[b'x'; 200]);
        assert_eq!(&long[..3], [0x04, 0x81, 200]);
        let longer = encode(tag::OCTET_STRING, &[0; 300]);
        assert_eq!(&longer[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(element_len(&longer[..3]), Ok(None));
        assert_eq!(element_len(&longer[..4]), Ok(Some(304)));
        assert_eq!(read_one(&longer).unwrap().content.len(), 300);
    }

    #[test]
    fn rejects_what_ldap_never_sends() {
        assert_eq!(header(&[0x1f, 0x01]), Err(BerError::LongTag(0x1f)));
        assert_eq!(header(&[0x30, 0x80]), Err(BerError::Indefinite));
        assert_eq!(
            header(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            Err(BerError::TooLarge(0xffff_ffff))
        );
        assert!(matches!(
            header(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            Err(BerError::TooLarge(_))
        ));
        assert_eq!(read(&[0x04, 0x05, b'a']), Err(BerError::Truncated));
        assert_eq!(read_one(&[0x05, 0x00, 0x00]), Err(BerError::Trailing));
        assert_eq!(
            read_one(&[0x02, 0x00]).unwrap().integer(),
            Err(BerError::BadInteger)
        );
        let e = read_one(&[0x04, 0x00]).unwrap();
        assert_eq!(
            e.expect(tag::INTEGER),
            Err(BerError::UnexpectedTag {
                expected: 0x02,
                found: 0x04
            })
        );
    }

    #[test]
    fn children_of_a_sequence() {
        let seq = constructed(
            tag::SEQUENCE,
            &[
                &integer(tag::INTEGER, 7),
                &encode(tag::OCTET_STRING, b"dc=x"),
            ],
        );
        assert_eq!(
            seq,
            [
                0x30, 0x09, 0x02, 0x01, 0x07, 0x04, 0x04, b'd', b'c', b'=', b'x'
            ]
        );
        let kids = read_one(&seq).unwrap().children().unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[0].integer(), Ok(7));
        assert_eq!(kids[1].text(), "dc=x");
    }
}
