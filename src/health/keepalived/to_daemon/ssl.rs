//! The top-level `SSL` block: the client certificate every SSL_GET presents, read from its
//! files as keepalived 2.2.7 reads them.
//!
//! What keepalived does with the block (check_ssl.c, check_daemon.c):
//! - The files are read only when the configuration has an SSL_GET, once at start (and
//!   again at each reload), never per check. A file that does not load stops keepalived's
//!   checker at start; lvsctl refuses to start (or keeps its running configuration on a
//!   reload), naming the file.
//! - `certificate`: a PEM chain, the client's certificate first, all of it sent.
//! - `key`: a PEM key, which must belong to the certificate. With `password` OpenSSL
//!   decrypts an encrypted key; lvsctl does not (no light, well-kept crate decrypts the
//!   PEM forms OpenSSL writes), so an encrypted key is refused. `password` beside a key
//!   that is not encrypted is never asked for, in keepalived too.
//! - `ca`: loaded (it must hold a certificate), and that is all: keepalived never turns on
//!   verification, so the server's certificate is not checked against it, nor at all.
//! - A certificate without key (or a key without certificate) loads but nothing is
//!   presented: OpenSSL sends its certificate only with the key.
//!
//! The mapping itself (`to_daemon`) stays in memory; this is its one step that reads
//! files, behind `read` so that the tests give the files' contents.

use std::io;
use std::path::Path;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::super::{KeepalivedConfig, SslContext};
use crate::health::check::tls;
use crate::health::config::{Config, TlsClientCert};

/// Sets every SSL_GET's client certificate from `ka`'s `SSL` block. `file` names the
/// configuration in the error, which names the `SSL` keyword and its file too.
pub fn load_ssl(
    file: &str,
    ka: &KeepalivedConfig,
    config: &mut Config,
    read: &dyn Fn(&Path) -> io::Result<Vec<u8>>,
) -> Result<(), String> {
    let ssl_gets = config
        .virtuals
        .iter_mut()
        .filter_map(|v| v.keepalived_http.as_mut())
        .filter(|k| k.tls);
    let mut ssl_gets = ssl_gets.peekable();
    let Some(block) = &ka.ssl else { return Ok(()) };
    if ssl_gets.peek().is_none() {
        return Ok(());
    }
    let cert = client_cert(block, read).map_err(|e| format!("{file}: {e}"))?;
    for k in ssl_gets {
        k.client_cert.clone_from(&cert);
    }
    Ok(())
}

/// The block's certificate and key, None when it does not have both; an error names the
/// keyword and file that does not load.
pub fn client_cert(
    block: &SslContext,
    read: &dyn Fn(&Path) -> io::Result<Vec<u8>>,
) -> Result<Option<TlsClientCert>, String> {
    let load = |kw: &str, path: &Path| {
        read(path).map_err(|e| format!("SSL `{kw}` {}: cannot read it: {e}", path.display()))
    };
    let chain = match &block.certificate {
        Some(path) => Some(
            certificates(&load("certificate", path)?)
                .map_err(|e| format!("SSL `certificate` {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let key = match &block.key {
        Some(path) => Some(
            private_key(&load("key", path)?, block.password.is_some())
                .map_err(|e| format!("SSL `key` {}: {e}", path.display()))?,
        ),
        None => None,
    };
    if let Some(path) = &block.ca {
        certificates(&load("ca", path)?)
            .map_err(|e| format!("SSL `ca` {}: {e}", path.display()))?;
    }
    let (Some(chain), Some(key)) = (chain, key) else {
        return Ok(None);
    };
    let cert = TlsClientCert { chain, key };
    if let Err(e) = tls::client_config(&cert) {
        let key = block.key.as_deref().unwrap_or(Path::new(""));
        return Err(format!(
            "SSL `key` {}: not usable with the certificate: {e}",
            key.display()
        ));
    }
    Ok(Some(cert))
}

/// Every PEM certificate of a file, at least one.
fn certificates(text: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(&e))?;
    if certs.is_empty() {
        return Err("no PEM certificate in it".to_owned());
    }
    Ok(certs)
}

/// The first PEM private key of a file (PKCS#8, PKCS#1 or SEC1), not encrypted.
fn private_key(text: &[u8], password: bool) -> Result<PrivateKeyDer<'static>, String> {
    let encrypted =
        contains(text, b"ENCRYPTED PRIVATE KEY") || contains(text, b"Proc-Type: 4,ENCRYPTED");
    if encrypted {
        return Err(if password {
            "an encrypted key (SSL `password`) is not supported by lvsctl health yet; \
             decrypt it with `openssl pkey`"
                .to_owned()
        } else {
            "the key is encrypted and the SSL block has no `password`".to_owned()
        });
    }
    PrivateKeyDer::from_pem_slice(text).map_err(|e| match e {
        pem::Error::NoItemsFound => "no PEM private key in it".to_owned(),
        e => pem_error(&e),
    })
}

fn pem_error(e: &pem::Error) -> String {
    format!("not readable as PEM: {e}")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
