//! The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: no
//! channel binding (`n,,`), and the user name left empty because the server takes it
//! from the startup message. Pure apart from the caller-supplied nonce.
//!
//! The password goes through SASLprep (RFC 4013) first, with the exceptions PostgreSQL
//! makes on both sides (libpq when it logs in, the server when it stores the verifier):
//! a password that is ASCII, not UTF-8, not valid SASLprep input, or prepared to nothing
//! is used as it is. Anything else would compute a different salted password from the
//! one the server stored.
//!
//! Not `postgres-protocol`'s `ScramSha256`: it draws its own nonce and always sends an
//! empty user name, so the RFC 7677 exchange could not be checked against it, and it
//! would bring a second SHA-256 and digest family next to ring.

use std::num::NonZeroU32;

use super::super::crypto::{hmac_sha256, pbkdf2_sha256, sha256, xor};

/// Iteration counts above this are refused: a hostile server could otherwise make every
/// check burn CPU (PostgreSQL's default is 4096).
pub const MAX_ITERATIONS: u32 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    #[error("malformed SCRAM server message: {0:?}")]
    Malformed(String),
    #[error("server nonce does not extend ours")]
    NonceMismatch,
    #[error("SCRAM iteration count {0} is out of range")]
    Iterations(u64),
    #[error("server rejected the SCRAM proof: {0}")]
    ServerError(String),
    #[error("server signature is wrong: it does not know the password")]
    BadServerSignature,
}

#[derive(Debug, Clone)]
pub struct ScramClient {
    password: Vec<u8>,
    nonce: String,
    client_first_bare: String,
    /// Set once the proof is computed.
    server_signature: Option<[u8; 32]>,
}

impl ScramClient {
    /// `nonce` must be printable ASCII without `,` (the caller base64-encodes random bytes).
    pub fn new(user: &str, password: &str, nonce: &str) -> Self {
        let user = user.replace('=', "=3D").replace(',', "=2C");
        Self {
            password: saslprep(password),
            nonce: nonce.to_owned(),
            client_first_bare: format!("n={user},r={nonce}"),
            server_signature: None,
        }
    }

    /// The client-first message.
    pub fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// The client-final message (with the proof) for `server_first`.
    pub fn client_final(&mut self, server_first: &str) -> Result<String, ScramError> {
        let malformed = || ScramError::Malformed(server_first.chars().take(200).collect());
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for part in server_first.split(',') {
            match part.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(base64_decode(v).ok_or_else(malformed)?),
                Some(("i", v)) => iterations = Some(v.parse::<u64>().map_err(|_| malformed())?),
                Some(("e", v)) => return Err(ScramError::ServerError(v.to_owned())),
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(malformed());
        };
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(ScramError::NonceMismatch);
        }
        let rounds = u32::try_from(iterations)
            .ok()
            .filter(|i| *i <= MAX_ITERATIONS)
            .and_then(NonZeroU32::new)
            .ok_or(ScramError::Iterations(iterations))?;
        // "biws" is base64("n,,"): no channel binding.
        let final_without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!(
            "{},{server_first},{final_without_proof}",
            self.client_first_bare
        );
        let salted = pbkdf2_sha256(&self.password, &salt, rounds);
        let client_key = hmac_sha256(&salted, b"Client Key");
        let stored_key = sha256(&[&client_key]);
        let signature = hmac_sha256(&stored_key, auth_message.as_bytes());
        let proof = xor(&client_key, &signature);
        let server_key = hmac_sha256(&salted, b"Server Key");
        self.server_signature = Some(hmac_sha256(&server_key, auth_message.as_bytes()));
        Ok(format!("{final_without_proof},p={}", base64_encode(&proof)))
    }

    /// Checks the server-final message proves the server knows the password too.
    pub fn verify_server_final(&self, server_final: &str) -> Result<(), ScramError> {
        if let Some(e) = server_final.strip_prefix("e=") {
            return Err(ScramError::ServerError(e.to_owned()));
        }
        let verifier = server_final
            .split(',')
            .find_map(|p| p.strip_prefix("v="))
            .and_then(base64_decode)
            .ok_or_else(|| ScramError::Malformed(server_final.chars().take(200).collect()))?;
        match self.server_signature {
            Some(expected) if verifier == expected => Ok(()),
            _ => Err(ScramError::BadServerSignature),
        }
    }
}

/// The password bytes SCRAM hashes, as PostgreSQL prepares them (see the module doc).
fn saslprep(password: &str) -> Vec<u8> {
    if password.is_ascii() {
        return password.as_bytes().to_vec();
    }
    match stringprep::saslprep(password) {
        Ok(prepared) if !prepared.is_empty() => prepared.into_owned().into_bytes(),
        _ => password.as_bytes().to_vec(),
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding; None on any other input.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.len() / 4;
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && index + 1 != chunks) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            let v = ALPHABET.iter().position(|a| *a == c)? as u32;
            n = (n << 6) | v;
        }
        n <<= 6 * pad as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 §3: user "user", password "pencil".
    #[test]
    fn rfc7677_exchange() {
        let mut c = ScramClient::new("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            c.client_final(server_first).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            c.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Ok(())
        );
        assert_eq!(
            c.verify_server_final("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Err(ScramError::BadServerSignature)
        );
        assert_eq!(
            c.verify_server_final("e=invalid-proof"),
            Err(ScramError::ServerError("invalid-proof".into()))
        );
    }

    /// SASLprep maps a no-break space to a space and drops a soft hyphen, so these log in
    /// where "pencil" does; a password SASLprep refuses (a control character, or one that
    /// prepares to nothing) is hashed as it is, as PostgreSQL does.
    #[test]
    fn passwords_are_saslprepped() {
        for spelled in ["pen\u{AD}cil", "\u{AD}pencil\u{AD}", "penc\u{FE00}il"] {
            let mut c = ScramClient::new("user", spelled, "rOprNGfwEbeRWgbNEkqO");
            let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
            assert_eq!(
                c.client_final(server_first).unwrap(),
                "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                "{spelled:?}"
            );
        }
        assert_eq!(saslprep("pg\u{A0}pass"), b"pg pass");
        assert_eq!(saslprep("pg\u{200B}pass"), b"pg pass"); // a space, not nothing
        assert_eq!(saslprep("\u{FB01}x"), b"fix"); // NFKC: the ligature is two letters
        assert_eq!(saslprep("pg\u{7}pass"), b"pg\x07pass"); // ASCII: as is
        assert_eq!(saslprep("\u{AD}"), "\u{AD}".as_bytes()); // prepared to nothing
        assert_eq!(saslprep("a\u{80}b"), "a\u{80}b".as_bytes()); // prohibited control
    }

    #[test]
    fn hostile_server_first_messages() {
        let mut c = ScramClient::new("", "pw", "abc");
        assert_eq!(c.client_first(), "n,,n=,r=abc");
        assert_eq!(
            c.client_final("r=xyz123,s=QUJD,i=4096"),
            Err(ScramError::NonceMismatch)
        );
        assert_eq!(
            c.client_final("r=abc,s=QUJD,i=4096"),
            Err(ScramError::NonceMismatch)
        );
        assert_eq!(
            c.client_final("r=abcd,s=QUJD,i=4294967296"),
            Err(ScramError::Iterations(4_294_967_296))
        );
        assert_eq!(
            c.client_final("r=abcd,s=QUJD,i=0"),
            Err(ScramError::Iterations(0))
        );
        assert!(matches!(
            c.client_final("r=abcd,s=!!!,i=1"),
            Err(ScramError::Malformed(_))
        ));
        assert!(matches!(
            c.client_final("garbage"),
            Err(ScramError::Malformed(_))
        ));
        // No proof was computed, so no server signature can be right.
        assert_eq!(
            c.verify_server_final("v=QUJD"),
            Err(ScramError::BadServerSignature)
        );
    }

    #[test]
    fn base64_round_trips() {
        for (plain, coded) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"\xff\xfe\x00", "//4A"),
        ] {
            assert_eq!(base64_encode(plain), coded);
            assert_eq!(base64_decode(coded).as_deref(), Some(plain));
        }
        for bad in ["Zg=", "Z===", "Zg==Zg==", "Zm9*", "===="] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }
}
