//! The few primitives the authentication handshakes need, over ring (already linked for
//! TLS): random bytes, SHA-1, SHA-256, HMAC-SHA-256 and PBKDF2-HMAC-SHA-256.

use std::num::NonZeroU32;

use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac, pbkdf2};

/// `N` bytes from the system's CSPRNG (nonces, RADIUS authenticators).
pub fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| "the system random generator failed".to_owned())?;
    Ok(out)
}

fn hash<const N: usize>(algorithm: &'static digest::Algorithm, parts: &[&[u8]]) -> [u8; N] {
    let mut ctx = digest::Context::new(algorithm);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; N];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// SHA-1 of the concatenation of `parts` (MySQL's legacy native password scheme).
pub fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    hash(&digest::SHA1_FOR_LEGACY_USE_ONLY, parts)
}

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    hash(&digest::SHA256, parts)
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut out = [0u8; 32];
    out.copy_from_slice(hmac::sign(&key, data).as_ref());
    out
}

pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: NonZeroU32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password,
        &mut out,
    );
    out
}

/// Byte-wise XOR of two equally long arrays.
pub fn xor<const N: usize>(a: &[u8; N], b: &[u8; N]) -> [u8; N] {
    let mut out = *a;
    for (o, x) in out.iter_mut().zip(b) {
        *o ^= x;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // FIPS 180 "abc" vectors, split across parts.
        assert_eq!(sha1(&[b"a", b"bc"])[..4], [0xa9, 0x99, 0x3e, 0x36],);
        assert_eq!(sha256(&[b"ab", b"c"])[..4], [0xba, 0x78, 0x16, 0xbf],);
        assert_ne!(random::<16>().unwrap(), random::<16>().unwrap());
        assert_eq!(xor(&[0xf0, 0x0f], &[0xff, 0xff]), [0x0f, 0xf0]);
    }
}
