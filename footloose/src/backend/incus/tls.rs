//! The TLS side of an https remote, as the `incus` client sets it up: the
//! client's certificate and key (`client.crt`, `client.key` in its
//! configuration directory), and the server's certificate the client
//! stored when the remote was added (`servercerts/REMOTE.crt`), trusted as
//! it is, whatever names it carries: Incus servers and clusters sign their
//! own. A remote without a stored certificate is checked against the
//! system's certificate authorities.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// Where an https remote's certificates are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    /// The client's certificate.
    pub(crate) client_cert: PathBuf,
    /// The client's key.
    pub(crate) client_key: PathBuf,
    /// The server's certificate, when the client stored one.
    pub(crate) server_cert: Option<PathBuf>,
}

/// Why the TLS set-up could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    /// A certificate or key file could not be read.
    #[error("cannot read {path}: {reason} (the incus client makes it: `incus remote add`)")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the set-up.
    #[error("{0}")]
    Rustls(#[from] rustls::Error),
}

/// The client configuration for `credentials`.
pub(crate) fn client_config(credentials: &Credentials) -> Result<Arc<ClientConfig>, TlsError> {
    // ring, which the Docker backend's TLS builds on already (aws-lc-rs
    // would need a C toolchain with cmake); Incus's TLS 1.3 with X25519
    // needs none of the post-quantum groups ring lacks.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = CertificateDer::pem_file_iter(&credentials.client_cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| unreadable(&credentials.client_cert, e))?;
    let key = PrivateKeyDer::from_pem_file(&credentials.client_key)
        .map_err(|e| unreadable(&credentials.client_key, e))?;
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match &credentials.server_cert {
        Some(path) => {
            let pinned = CertificateDer::from_pem_file(path).map_err(|e| unreadable(path, e))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Pinned { pinned, provider }))
        }
        None => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            builder.with_root_certificates(roots)
        }
    };
    Ok(Arc::new(builder.with_client_auth_cert(chain, key)?))
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// Trusts exactly the server certificate the client stored.
#[derive(Debug)]
struct Pinned {
    pinned: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the server's certificate is not the one the incus client stored for this remote (servercerts/)".to_owned(),
            ))
        }
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
