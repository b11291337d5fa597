//! TLS for `https` checks: rustls on the ring provider, certificates **not** verified.
//!
//! Real servers are addressed by IP and often carry the public name's certificate (or a
//! self-signed one), so ldirectord checks without verification (docs/ldirectord-compat.md,
//! Negotiate services); so do we. Unlike ldirectord, SNI is sent when `virtualhost` is set
//! (docs/ldirectord-compat.md, Deliberate differences).

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::health::config::TlsClientCert;

/// Accepts any certificate but still checks the handshake signatures (so the peer holds
/// the key of the certificate it sent).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One connector for the whole process (its session cache is shared by all checks).
pub fn connector() -> Option<TlsConnector> {
    static CONNECTOR: OnceLock<Option<TlsConnector>> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .ok()?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth();
            Some(TlsConnector::from(Arc::new(config)))
        })
        .clone()
}

/// A client configuration presenting `cert` when a server asks for a certificate, the
/// server's still not verified: keepalived 2.2.7 loads its `SSL` block's `ca` but never
/// turns verification on (docs/keepalived-compat.md, SSL block). Fails when the key does
/// not belong to the certificate or is of a kind rustls cannot sign with, which keepalived
/// (OpenSSL's key load) refuses at start as well.
pub fn client_config(cert: &TlsClientCert) -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_client_auth_cert(cert.chain.clone(), cert.key.clone_key())?;
    Ok(Arc::new(config))
}

/// SNI = `virtual_host` when it is a DNS name; otherwise the IP (rustls then sends no SNI).
pub fn server_name(virtual_host: Option<&str>, ip: IpAddr) -> ServerName<'static> {
    virtual_host
        .and_then(|h| ServerName::try_from(h.to_owned()).ok())
        .unwrap_or_else(|| ServerName::IpAddress(ip.into()))
}

/// The TLS handshake every check runs on a connected (or just upgraded) TCP stream, with
/// SNI as [`server_name`] picks it.
pub async fn handshake(
    tcp: TcpStream,
    virtual_host: Option<&str>,
    ip: IpAddr,
) -> std::io::Result<TlsStream<TcpStream>> {
    handshake_as(None, tcp, virtual_host, ip).await
}

/// [`handshake`] with a [`client_config`] (None: the shared one, no client certificate).
pub async fn handshake_as(
    client: Option<&Arc<ClientConfig>>,
    tcp: TcpStream,
    virtual_host: Option<&str>,
    ip: IpAddr,
) -> std::io::Result<TlsStream<TcpStream>> {
    let connector = match client {
        Some(config) => TlsConnector::from(config.clone()),
        None => connector().ok_or_else(|| std::io::Error::other("TLS is not available"))?,
    };
    connector.connect(server_name(virtual_host, ip), tcp).await
}
