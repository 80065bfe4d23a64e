//! `reloader certs`: a development CA and a serving certificate for the webhook Service.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no subject alternative names given")]
    NoNames,
}

/// The names a Service is reached by inside the cluster, then any `extra` ones (DNS names
/// or IP addresses), without duplicates.
pub fn service_sans(service: &str, namespace: &str, extra: &[String]) -> Vec<String> {
    let mut sans = vec![
        service.to_owned(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ];
    for name in extra {
        if !sans.contains(name) {
            sans.push(name.clone());
        }
    }
    sans
}

fn validity(params: &mut CertificateParams, days: u32) {
    let now = time::OffsetDateTime::now_utc();
    // A little slack for clocks that run behind.
    params.not_before = now - Duration::from_secs(300);
    params.not_after = now + Duration::from_secs(u64::from(days) * 86_400);
}

/// A certificate authority that signs serving certificates.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Ca {
    pub fn generate(common_name: &str, days: u32) -> Result<Self, CertsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut params, days);
        let cert = params.self_signed(&key)?;
        let key_pem = key.serialize_pem();
        Ok(Self {
            issuer: Issuer::new(params, key),
            cert_pem: cert.pem(),
            key_pem,
        })
    }

    /// The CA certificate as a webhook `caBundle`: base64 of the PEM.
    pub fn ca_bundle(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.cert_pem)
    }

    /// Issues a serving certificate for `sans`; returns `(certificate PEM, key PEM)`.
    pub fn issue(&self, sans: &[String], days: u32) -> Result<(String, String), CertsError> {
        let first = sans.first().ok_or(CertsError::NoNames)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(sans.to_vec())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, first.as_str());
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params, days);
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

fn write(path: &Path, contents: &str, private: bool) -> Result<(), CertsError> {
    let err = |source| CertsError::Write {
        path: path.to_owned(),
        source,
    };
    std::fs::write(path, contents).map_err(err)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    #[cfg(not(unix))]
    let _ = private;
    Ok(())
}

/// What `reloader certs` produced.
#[derive(Debug)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub ca_bundle: String,
}

/// Writes `ca.crt`, `ca.key`, `tls.crt` and `tls.key` into `dir`.
pub fn write_all(
    dir: &Path,
    service: &str,
    namespace: &str,
    extra_sans: &[String],
    days: u32,
) -> Result<Written, CertsError> {
    std::fs::create_dir_all(dir).map_err(|source| CertsError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let ca = Ca::generate("reloader webhook CA", days)?;
    let (cert, key) = ca.issue(&service_sans(service, namespace, extra_sans), days)?;
    let files = [
        ("ca.crt", ca.cert_pem.as_str(), false),
        ("ca.key", ca.key_pem.as_str(), true),
        ("tls.crt", cert.as_str(), false),
        ("tls.key", key.as_str(), true),
    ];
    let mut written = Vec::new();
    for (name, contents, private) in files {
        let path = dir.join(name);
        write(&path, contents, private)?;
        written.push(path);
    }
    Ok(Written {
        files: written,
        ca_bundle: ca.ca_bundle(),
    })
}

/// `reloader certs`: writes the files, tells where on stderr, prints the caBundle on stdout.
pub fn run(args: &crate::cmd::cli::CertsArgs) -> Result<(), CertsError> {
    let out = write_all(
        &args.out_dir,
        &args.service_name,
        &args.namespace,
        &args.sans,
        args.days,
    )?;
    for file in &out.files {
        eprintln!("wrote {}", file.display());
    }
    println!("{}", out.ca_bundle);
    Ok(())
}

#[cfg(test)]
mod tests;
