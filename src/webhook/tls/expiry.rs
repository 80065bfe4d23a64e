//! The notAfter of the serving certificate, for the expiry gauge, read with x509-parser.
//! Nothing here checks signatures or trust: rustls and the API server do that.

/// Why a certificate's notAfter could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a DER X.509 certificate: {0}")]
pub struct ExpiryError(String);

/// The certificate's notAfter, in Unix seconds.
pub fn not_after(der: &[u8]) -> Result<i64, ExpiryError> {
    let (_, certificate) =
        x509_parser::parse_x509_certificate(der).map_err(|e| ExpiryError(e.to_string()))?;
    Ok(certificate.validity().not_after.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(not_after: time::OffsetDateTime) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["reloader".into()]).unwrap();
        params.not_after = not_after;
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn reads_not_after_in_both_time_forms() {
        let cases = [
            ("UTCTime, this century", 1_900_000_000),
            ("UTCTime, last second before GeneralizedTime", 2_524_607_999),
            ("GeneralizedTime from 2050 on", 2_524_608_000),
            ("far future", 4_102_444_800),
        ];
        for (name, unix) in cases {
            let at = time::OffsetDateTime::from_unix_timestamp(unix).unwrap();
            assert_eq!(not_after(&certificate(at)), Ok(unix), "{name}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_certificate() {
        let good = certificate(time::OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap());
        let cases: &[(&str, Vec<u8>)] = &[
            ("empty", vec![]),
            ("not a sequence", vec![0x02, 0x01, 0x00]),
            ("truncated", good[..good.len() / 3].to_vec()),
            ("long length form", vec![0x30, 0x85, 0, 0, 0, 0, 1]),
            ("empty sequence", vec![0x30, 0x00]),
        ];
        for (name, der) in cases {
            assert!(not_after(der).is_err(), "{name}");
        }
    }
}
