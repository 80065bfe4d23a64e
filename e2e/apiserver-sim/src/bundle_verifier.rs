//! How the webhook client verifies a serving certificate against `caBundle`, the way
//! Go's crypto/x509 (and so kube-apiserver) does: a certificate that is itself one of
//! the bundle's certificates is trusted as it is, once its name and validity period
//! check out (webpki would refuse a self-signed CA certificate used as a server's
//! with `CaUsedAsEndEntity`); every other certificate is verified by webpki.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

use crate::cert_validity::validity;

#[derive(Debug)]
pub struct BundleVerifier {
    bundle: Vec<CertificateDer<'static>>,
    webpki: Arc<WebPkiServerVerifier>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl BundleVerifier {
    pub fn new(
        bundle: Vec<CertificateDer<'static>>,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, Error> {
        let mut roots = RootCertStore::empty();
        for cert in &bundle {
            roots.add(cert.clone())?;
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Error::General(e.to_string()))?;
        Ok(BundleVerifier {
            bundle,
            webpki,
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

/// The checks Go makes of a leaf that is one of the roots: its validity period and
/// that it names the server.
fn verify_bundle_leaf(
    end_entity: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<(), Error> {
    let (not_before, not_after) = validity(end_entity.as_ref())
        .ok_or(Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    if now < not_before {
        return Err(Error::InvalidCertificate(CertificateError::NotValidYet));
    }
    if now > not_after {
        return Err(Error::InvalidCertificate(CertificateError::Expired));
    }
    let parsed = ParsedCertificate::try_from(end_entity)?;
    rustls::client::verify_server_name(&parsed, server_name)
}

impl ServerCertVerifier for BundleVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if self
            .bundle
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            verify_bundle_leaf(end_entity, server_name, now)?;
            return Ok(ServerCertVerified::assertion());
        }
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(name: &str, expired: bool) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let key = rcgen::KeyPair::generate().expect("key");
        params.self_signed(&key).expect("cert").der().clone()
    }

    fn verify(
        bundle: Vec<CertificateDer<'static>>,
        leaf: &CertificateDer<'_>,
        name: &str,
    ) -> Result<ServerCertVerified, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = BundleVerifier::new(bundle, provider).expect("verifier");
        let server_name = ServerName::try_from(name.to_string()).expect("name");
        verifier.verify_server_cert(leaf, &[], &server_name, &[], UnixTime::now())
    }

    #[test]
    fn a_ca_certificate_in_the_bundle_serves_for_its_own_name() {
        let leaf = self_signed("hook.sys.svc", false);
        assert!(verify(vec![leaf.clone()], &leaf, "hook.sys.svc").is_ok());
        assert!(matches!(
            verify(vec![leaf.clone()], &leaf, "other.sys.svc"),
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForNameContext { .. }
            ))
        ));
    }

    #[test]
    fn an_expired_bundle_certificate_is_refused() {
        let leaf = self_signed("hook.sys.svc", true);
        assert!(matches!(
            verify(vec![leaf.clone()], &leaf, "hook.sys.svc"),
            Err(Error::InvalidCertificate(CertificateError::Expired))
        ));
    }

    #[test]
    fn certificates_outside_the_bundle_go_through_webpki() {
        let leaf = self_signed("hook.sys.svc", false);
        let other = self_signed("hook.sys.svc", false);
        assert!(verify(vec![other], &leaf, "hook.sys.svc").is_err());
    }
}
