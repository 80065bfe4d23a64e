//! The serving certificate: rustls configuration (TLS 1.2 and 1.3 only) and hot reload.
//!
//! A `ReloadingCert` resolver hands every new handshake the last good certificate; a
//! watcher polls the files and swaps in a new pair once it loads and matches. Polling
//! file contents (rather than inotify) sees every way a file can change, including
//! Kubernetes' atomic swap of the `..data` symlink of a mounted Secret. A broken or
//! half-written pair is logged once and the last good one stays in use; established
//! connections are never touched, so no in-flight request fails during a rotation.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

use crate::metrics::Metrics;

pub mod expiry;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} is not a PEM certificate chain: {reason}")]
    BadCertificate { path: PathBuf, reason: String },
    #[error("{path} holds no usable PEM private key: {reason}")]
    BadKey { path: PathBuf, reason: String },
    #[error("the key in {key} does not belong to the certificate in {cert}: {reason}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("cannot build the TLS configuration: {0}")]
    Config(rustls::Error),
}

/// Where the serving certificate and key are read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn provider() -> Arc<CryptoProvider> {
    // The provider is chosen here, not taken from a process default, so the TLS setup
    // never depends on which crate installed one first.
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds a certified key from PEM bytes, checking that key and certificate match.
pub fn certified_key(
    paths: &CertPaths,
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCertificate {
            path: paths.cert.clone(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: paths.cert.clone(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::BadKey {
        path: paths.key.clone(),
        reason: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, &provider()).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => TlsError::Mismatch {
            cert: paths.cert.clone(),
            key: paths.key.clone(),
            reason: e.to_string(),
        },
        other => TlsError::BadKey {
            path: paths.key.clone(),
            reason: other.to_string(),
        },
    })
}

/// SHA-256 of the leaf certificate, for logs ("which certificate is served now?").
pub fn fingerprint(key: &CertifiedKey) -> String {
    key.cert
        .first()
        .map(|c| hex::encode(&Sha256::digest(c.as_ref())[..8]))
        .unwrap_or_default()
}

/// Sets the expiry gauge from the leaf of `key`; a leaf it cannot read is logged.
fn record_expiry(metrics: &Metrics, key: &CertifiedKey) {
    let Some(leaf) = key.cert.first() else {
        return;
    };
    match expiry::not_after(leaf.as_ref()) {
        Ok(not_after) => metrics.cert_expiry(not_after),
        Err(e) => tracing::warn!(error = %e, "cannot read the serving certificate's notAfter"),
    }
}

/// Resolves every handshake to the current certificate.
#[derive(Debug)]
pub struct ReloadingCert {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingCert {
    pub fn new(initial: CertifiedKey) -> Arc<Self> {
        Arc::new(Self {
            current: RwLock::new(Arc::new(initial)),
        })
    }

    pub fn current(&self) -> Arc<CertifiedKey> {
        // A poisoned lock still holds a valid Arc: keep serving it.
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn replace(&self, key: CertifiedKey) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// A TLS 1.2/1.3 server configuration that asks `resolver` for the certificate and offers
/// HTTP/1.1 only (`server::serve_tls` sets the offer from its limits).
pub fn server_config(resolver: Arc<ReloadingCert>) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = alpn_protocols(false);
    Ok(Arc::new(config))
}

/// The ALPN offer: `http/1.1`, and `h2` first when HTTP/2 is served. A client that offers
/// ALPN but neither of these is refused in the handshake.
pub fn alpn_protocols(http2: bool) -> Vec<Vec<u8>> {
    let mut protocols = Vec::new();
    if http2 {
        protocols.push(b"h2".to_vec());
    }
    protocols.push(b"http/1.1".to_vec());
    protocols
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads and loads the pair from disk.
pub fn load(paths: &CertPaths) -> Result<(CertifiedKey, Vec<u8>, Vec<u8>), TlsError> {
    let cert = read(&paths.cert)?;
    let key = read(&paths.key)?;
    let certified = certified_key(paths, &cert, &key)?;
    Ok((certified, cert, key))
}

/// Polls the certificate files and swaps a changed, valid pair into the resolver.
pub struct CertWatcher {
    paths: CertPaths,
    resolver: Arc<ReloadingCert>,
    metrics: Arc<Metrics>,
    /// The file contents last looked at (good or bad), so a bad pair is reported once.
    seen: (Vec<u8>, Vec<u8>),
}

impl CertWatcher {
    /// `seen` are the bytes the resolver's current certificate was loaded from.
    pub fn new(
        paths: CertPaths,
        resolver: Arc<ReloadingCert>,
        metrics: Arc<Metrics>,
        seen: (Vec<u8>, Vec<u8>),
    ) -> Self {
        record_expiry(&metrics, &resolver.current());
        Self {
            paths,
            resolver,
            metrics,
            seen,
        }
    }

    /// Looks at the files once; returns whether a new certificate was installed.
    pub fn check(&mut self) -> bool {
        let (cert, key) = match (read(&self.paths.cert), read(&self.paths.key)) {
            (Ok(c), Ok(k)) => (c, k),
            (Err(e), _) | (_, Err(e)) => {
                // Mid-rotation a file can be briefly absent; try again next tick.
                tracing::debug!(error = %e, "serving certificate not readable; keeping the current one");
                return false;
            }
        };
        if (&cert, &key) == (&self.seen.0, &self.seen.1) {
            return false;
        }
        let outcome = certified_key(&self.paths, &cert, &key);
        self.seen = (cert, key);
        match outcome {
            Ok(new) => {
                tracing::info!(fingerprint = %fingerprint(&new), "serving certificate reloaded");
                record_expiry(&self.metrics, &new);
                self.resolver.replace(new);
                self.metrics.cert_reload("success");
                true
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    fingerprint = %fingerprint(&self.resolver.current()),
                    "new serving certificate rejected; keeping the last good one"
                );
                self.metrics.cert_reload("failure");
                false
            }
        }
    }

    /// Checks every `interval` until the task is dropped.
    pub async fn run(mut self, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.check();
        }
    }
}

#[cfg(test)]
mod tests;
