//! RADIUS packets (RFC 2865) for an authentication probe: Access-Request encoding with the
//! hidden User-Password (§5.2), and verification of the reply's Response Authenticator
//! (§3) and, when present, its Message-Authenticator (RFC 3579 §3.2). Pure.
//!
//! Both authenticators of a reply are compared in constant time: a comparison that stops
//! at the first differing byte tells an attacker who can time it how much of a forgery
//! was right.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

pub mod code {
    pub const ACCESS_REQUEST: u8 = 1;
    pub const ACCESS_ACCEPT: u8 = 2;
    pub const ACCESS_REJECT: u8 = 3;
    pub const ACCESS_CHALLENGE: u8 = 11;
}

pub mod attr {
    pub const USER_NAME: u8 = 1;
    pub const USER_PASSWORD: u8 = 2;
    pub const NAS_IP_ADDRESS: u8 = 4;
    #[cfg(test)]
    pub const NAS_PORT: u8 = 5;
    pub const REPLY_MESSAGE: u8 = 18;
    pub const MESSAGE_AUTHENTICATOR: u8 = 80;
    pub const NAS_IPV6_ADDRESS: u8 = 95;
}

const HEADER: usize = 20;
/// RFC 2865 §3: the largest packet.
pub const MAX_PACKET: usize = 4096;
/// RFC 2865 §5.2: the longest password.
const MAX_PASSWORD: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RadiusError {
    #[error("password longer than {MAX_PASSWORD} bytes")]
    PasswordTooLong,
    #[error("attribute {0} longer than 253 bytes")]
    AttributeTooLong(u8),
    #[error("request larger than {MAX_PACKET} bytes")]
    PacketTooLarge,
    #[error("reply shorter than a RADIUS header or than its length field")]
    Truncated,
    #[error("reply is for request id {0}, not ours")]
    WrongId(u8),
    #[error("malformed attribute in reply")]
    BadAttribute,
    #[error("reply authenticator is wrong (different shared secret?)")]
    BadAuthenticator,
    #[error("reply Message-Authenticator is wrong (different shared secret?)")]
    BadMessageAuthenticator,
    /// HMAC takes keys of any length, so this does not happen; the crate's API is fallible
    /// only because other MACs have fixed key sizes.
    #[error("the shared secret cannot key HMAC-MD5")]
    BadSecret,
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// HMAC-MD5 (RFC 2104) keyed with the shared secret and fed `data`: the keyed hash of
/// Message-Authenticator.
fn keyed_hmac(secret: &[u8], data: &[u8]) -> Result<Hmac<Md5>, RadiusError> {
    let mut mac = Hmac::<Md5>::new_from_slice(secret).map_err(|_| RadiusError::BadSecret)?;
    mac.update(data);
    Ok(mac)
}

/// The Message-Authenticator of `packet` (with that attribute's value zeroed) under
/// `secret`.
pub fn hmac_md5(secret: &[u8], packet: &[u8]) -> Result<[u8; 16], RadiusError> {
    Ok(keyed_hmac(secret, packet)?.finalize().into_bytes().into())
}

/// User-Password hidden as RFC 2865 §5.2 says: NUL-padded to 16-byte blocks, each XORed
/// with MD5(secret + previous ciphertext block), the first with the Request Authenticator.
pub fn hide_password(
    password: &[u8],
    secret: &[u8],
    authenticator: &[u8; 16],
) -> Result<Vec<u8>, RadiusError> {
    if password.len() > MAX_PASSWORD {
        return Err(RadiusError::PasswordTooLong);
    }
    let blocks = password.len().div_ceil(16).max(1);
    let mut plain = password.to_vec();
    plain.resize(blocks * 16, 0);
    let mut out = Vec::with_capacity(plain.len());
    let mut previous: Vec<u8> = authenticator.to_vec();
    for chunk in plain.chunks(16) {
        let pad = md5(&[secret, &previous]);
        let cipher: Vec<u8> = chunk.iter().zip(pad).map(|(p, k)| p ^ k).collect();
        out.extend_from_slice(&cipher);
        previous = cipher;
    }
    Ok(out)
}

/// An Access-Request with `attributes` in order. With `message_authenticator`, a
/// Message-Authenticator comes first (the Blast-RADIUS advice, RFC 3579 + 2024 errata),
/// computed over the whole packet with `secret`.
pub fn access_request(
    id: u8,
    authenticator: &[u8; 16],
    attributes: &[(u8, Vec<u8>)],
    secret: &[u8],
    message_authenticator: bool,
) -> Result<Vec<u8>, RadiusError> {
    let mut packet = vec![code::ACCESS_REQUEST, id, 0, 0];
    packet.extend_from_slice(authenticator);
    let ma_at = packet.len() + 2;
    if message_authenticator {
        packet.extend_from_slice(&[attr::MESSAGE_AUTHENTICATOR, 18]);
        packet.extend_from_slice(&[0; 16]);
    }
    for (kind, value) in attributes {
        if value.len() > 253 {
            return Err(RadiusError::AttributeTooLong(*kind));
        }
        packet.extend_from_slice(&[*kind, value.len() as u8 + 2]);
        packet.extend_from_slice(value);
    }
    if packet.len() > MAX_PACKET {
        return Err(RadiusError::PacketTooLarge);
    }
    let len = (packet.len() as u16).to_be_bytes();
    packet[2..4].copy_from_slice(&len);
    if message_authenticator {
        let mac = hmac_md5(secret, &packet)?;
        packet[ma_at..ma_at + 16].copy_from_slice(&mac);
    }
    Ok(packet)
}

/// A verified reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u8,
    /// Reply-Message texts, joined (what the server says about a reject).
    pub message: Option<String>,
}

/// Checks `packet` answers request (`id`, `request_auth`) under `secret`: length, id,
/// Response Authenticator, attribute framing, and Message-Authenticator when present.
pub fn verify_reply(
    packet: &[u8],
    id: u8,
    request_auth: &[u8; 16],
    secret: &[u8],
) -> Result<Reply, RadiusError> {
    if packet.len() < HEADER {
        return Err(RadiusError::Truncated);
    }
    let len = u16::from_be_bytes([packet[2], packet[3]]) as usize;
    if len < HEADER || len > packet.len() {
        return Err(RadiusError::Truncated);
    }
    // Octets past the length field are padding (RFC 2865 §3) and are ignored.
    let packet = &packet[..len];
    if packet[1] != id {
        return Err(RadiusError::WrongId(packet[1]));
    }
    // Not an HMAC: RFC 2865 defines it as MD5 over the packet followed by the secret.
    let expected = md5(&[&packet[..4], request_auth, &packet[HEADER..], secret]);
    if !bool::from(packet[4..HEADER].ct_eq(&expected)) {
        return Err(RadiusError::BadAuthenticator);
    }
    let mut messages = Vec::new();
    let mut rest = &packet[HEADER..];
    let mut offset = HEADER;
    while !rest.is_empty() {
        let &[kind, alen, ..] = rest else {
            return Err(RadiusError::BadAttribute);
        };
        let alen = alen as usize;
        if alen < 2 || alen > rest.len() {
            return Err(RadiusError::BadAttribute);
        }
        let value = &rest[2..alen];
        match kind {
            attr::REPLY_MESSAGE => messages.push(String::from_utf8_lossy(value).into_owned()),
            attr::MESSAGE_AUTHENTICATOR => {
                if value.len() != 16 {
                    return Err(RadiusError::BadAttribute);
                }
                let mut copy = packet.to_vec();
                copy[4..HEADER].copy_from_slice(request_auth);
                copy[offset + 2..offset + alen].fill(0);
                keyed_hmac(secret, &copy)?
                    .verify_slice(value)
                    .map_err(|_| RadiusError::BadMessageAuthenticator)?;
            }
            _ => {}
        }
        rest = &rest[alen..];
        offset += alen;
    }
    Ok(Reply {
        code: packet[0],
        message: (!messages.is_empty()).then(|| messages.concat()),
    })
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

    /// RFC 2865 §7.1: user "nemo", password "arctangent", secret "xyzzy5461".
    const RFC_AUTH: [u8; 16] = [
        0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57, 0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22,
        0x7a,
    ];
    const SECRET: &[u8] = b"xyzzy5461";

    #[test]
    fn rfc2865_access_request_bytes() {
        let hidden = hide_password(b"arctangent", SECRET, &RFC_AUTH).unwrap();
        assert_eq!(hidden, hex("0dbe708d93d413ce3196e43f782a0aee"));
        let attrs = [
            (attr::USER_NAME, b"nemo".to_vec()),
            (attr::USER_PASSWORD, hidden),
            (attr::NAS_IP_ADDRESS, vec![192, 168, 1, 16]),
            (attr::NAS_PORT, vec![0, 0, 0, 3]),
        ];
        let packet = access_request(0, &RFC_AUTH, &attrs, SECRET, false).unwrap();
        assert_eq!(
            packet,
            hex(concat!(
                "01000038",
                "0f403f9473978057bd83d5cb98f4227a",
                "01066e656d6f",
                "02120dbe708d93d413ce3196e43f782a0aee",
                "0406c0a80110",
                "050600000003"
            ))
        );
    }

    /// The RFC 2865 §7.1 request with a Message-Authenticator first; the MAC was computed
    /// outside this code (Python's `hmac` module with MD5 over the packet, MAC zeroed).
    #[test]
    fn message_authenticator_golden_bytes() {
        let hidden = hide_password(b"arctangent", SECRET, &RFC_AUTH).unwrap();
        let attrs = [
            (attr::USER_NAME, b"nemo".to_vec()),
            (attr::USER_PASSWORD, hidden),
            (attr::NAS_IP_ADDRESS, vec![192, 168, 1, 16]),
            (attr::NAS_PORT, vec![0, 0, 0, 3]),
        ];
        let packet = access_request(0, &RFC_AUTH, &attrs, SECRET, true).unwrap();
        assert_eq!(
            packet,
            hex(concat!(
                "0100004a",
                "0f403f9473978057bd83d5cb98f4227a",
                "50128f16b45f90d3494989a4f14f4421c618",
                "01066e656d6f",
                "02120dbe708d93d413ce3196e43f782a0aee",
                "0406c0a80110",
                "050600000003"
            ))
        );
    }

    #[test]
    fn rfc2865_access_accept_verifies() {
        let reply = hex(concat!(
            "02000026",
            "86fe220e7624ba2a1005f6bf9b55e0b2",
            "0606000000010f06000000000e06c0a80103"
        ));
        assert_eq!(
            verify_reply(&reply, 0, &RFC_AUTH, SECRET),
            Ok(Reply {
                code: code::ACCESS_ACCEPT,
                message: None
            })
        );
        assert_eq!(
            verify_reply(&reply, 0, &RFC_AUTH, b"other"),
            Err(RadiusError::BadAuthenticator)
        );
        assert_eq!(
            verify_reply(&reply, 1, &RFC_AUTH, SECRET),
            Err(RadiusError::WrongId(0))
        );
        let mut tampered = reply.clone();
        tampered[25] ^= 1;
        assert_eq!(
            verify_reply(&tampered, 0, &RFC_AUTH, SECRET),
            Err(RadiusError::BadAuthenticator)
        );
    }

    #[test]
    fn hmac_md5_rfc2104_vector() {
        assert_eq!(
            hmac_md5(&[0x0b; 16], b"Hi There").unwrap().to_vec(),
            hex("9294727a3638bb1c13f48ef8158bfc9d")
        );
        // RFC 2202 test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hmac_md5(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )
            .unwrap()
            .to_vec(),
            hex("6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd")
        );
    }

    #[test]
    fn long_passwords_use_chained_blocks() {
        let auth = [7u8; 16];
        let hidden = hide_password(&[b'p'; 20], b"s", &auth).unwrap();
        assert_eq!(hidden.len(), 32);
        let first_pad = md5(&[b"s", &auth]);
        assert_eq!(hidden[0], b'p' ^ first_pad[0]);
        let second_pad = md5(&[b"s", &hidden[..16]]);
        assert_eq!(hidden[16], b'p' ^ second_pad[0]);
        assert_eq!(hidden[20], second_pad[4]);
        assert_eq!(hide_password(b"", b"s", &auth).unwrap().len(), 16);
        assert_eq!(
            hide_password(&[0; 129], b"s", &auth),
            Err(RadiusError::PasswordTooLong)
        );
    }

    #[test]
    fn message_authenticator_round_trip() {
        let auth = [9u8; 16];
        let req =
            access_request(5, &auth, &[(attr::USER_NAME, b"u".to_vec())], b"k", true).unwrap();
        assert_eq!(&req[20..22], [attr::MESSAGE_AUTHENTICATOR, 18]);
        let mut zeroed = req.clone();
        zeroed[22..38].fill(0);
        assert_eq!(req[22..38], hmac_md5(b"k", &zeroed).unwrap());

        // A server reply carrying its own Message-Authenticator (as FreeRADIUS 3.2.5+).
        let mut reply = vec![code::ACCESS_REJECT, 5, 0, 0];
        reply.extend_from_slice(&auth);
        reply.extend_from_slice(&[attr::MESSAGE_AUTHENTICATOR, 18]);
        reply.extend_from_slice(&[0; 16]);
        reply.extend_from_slice(&[attr::REPLY_MESSAGE, 6]);
        reply.extend_from_slice(b"nope");
        let len = reply.len() as u16;
        reply[2..4].copy_from_slice(&len.to_be_bytes());
        let mac = hmac_md5(b"k", &reply).unwrap();
        reply[22..38].copy_from_slice(&mac);
        let resp_auth = md5(&[&reply[..4], &auth, &reply[20..], b"k"]);
        reply[4..20].copy_from_slice(&resp_auth);
        assert_eq!(
            verify_reply(&reply, 5, &auth, b"k"),
            Ok(Reply {
                code: code::ACCESS_REJECT,
                message: Some("nope".into())
            })
        );
        // Same packet with a forged MAC but a recomputed authenticator.
        reply[22] ^= 1;
        let resp_auth = md5(&[&reply[..4], &auth, &reply[20..], b"k"]);
        reply[4..20].copy_from_slice(&resp_auth);
        assert_eq!(
            verify_reply(&reply, 5, &auth, b"k"),
            Err(RadiusError::BadMessageAuthenticator)
        );
    }

    #[test]
    fn garbage_replies_are_errors() {
        let auth = [0u8; 16];
        for junk in [
            &b""[..],
            &[2, 0, 0, 19][..],
            &[
                2, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
        ] {
            assert_eq!(
                verify_reply(junk, 0, &auth, b"s"),
                Err(RadiusError::Truncated)
            );
        }
        // Valid authenticator over a broken attribute (length 1).
        let mut bad = vec![2, 0, 0, 22];
        bad.extend_from_slice(&auth);
        bad.extend_from_slice(&[18, 1]);
        let resp_auth = md5(&[&bad[..4], &auth, &bad[20..], b"s"]);
        bad[4..20].copy_from_slice(&resp_auth);
        assert_eq!(
            verify_reply(&bad, 0, &auth, b"s"),
            Err(RadiusError::BadAttribute)
        );
    }
}
