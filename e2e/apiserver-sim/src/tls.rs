//! Certificates (a private CA and the serving certificates it signs) and the rustls
//! configurations built from them.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS configuration failed: {0}")]
    Config(#[from] rustls::Error),
    #[error("caBundle has no usable PEM certificate")]
    EmptyBundle,
    #[error("caBundle is not valid PEM: {0}")]
    BadBundle(String),
}

/// A self-signed CA that signs serving certificates.
pub struct CertificateAuthority {
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A serving certificate (PEM chain ending at the leaf) and its private key.
pub struct ServingCertificate {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key_der: Vec<u8>,
}

impl CertificateAuthority {
    pub fn generate(common_name: &str) -> Result<Self, TlsError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(CertificateAuthority {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// Issues a serving certificate for DNS names and/or IP addresses.
    pub fn issue(&self, names: &[&str]) -> Result<ServingCertificate, TlsError> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone())?;
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(ServingCertificate {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }
}

/// A rustls server configuration offering h2 and http/1.1.
pub fn server_config(serving: &ServingCertificate) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(serving.key_der.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(vec![serving.cert_der.clone()], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A rustls client configuration trusting exactly the certificates of a PEM bundle,
/// verified as Go verifies them (see `bundle_verifier`).
pub fn client_config_trusting(ca_bundle_pem: &[u8]) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut bundle = Vec::new();
    let mut reader = ca_bundle_pem;
    for cert in rustls_pemfile::certs(&mut reader) {
        bundle.push(cert.map_err(|e| TlsError::BadBundle(e.to_string()))?);
    }
    if bundle.is_empty() {
        return Err(TlsError::EmptyBundle);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = crate::bundle_verifier::BundleVerifier::new(bundle, provider.clone())
        .map_err(|e| TlsError::BadBundle(e.to_string()))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_certificates_build_server_and_client_configs() {
        let ca = CertificateAuthority::generate("test-ca").expect("ca");
        let serving = ca.issue(&["127.0.0.1", "localhost"]).expect("leaf");
        assert!(server_config(&serving).is_ok());
        assert!(client_config_trusting(ca.cert_pem.as_bytes()).is_ok());
    }

    #[test]
    fn empty_bundle_is_rejected() {
        assert!(matches!(
            client_config_trusting(b""),
            Err(TlsError::EmptyBundle)
        ));
    }
}
