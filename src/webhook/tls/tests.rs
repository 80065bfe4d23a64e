use super::*;

fn pair(name: &str) -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}

fn paths() -> CertPaths {
    CertPaths {
        cert: "tls.crt".into(),
        key: "tls.key".into(),
    }
}

#[test]
fn a_matching_pair_loads() {
    let (cert, key) = pair("a");
    assert!(certified_key(&paths(), cert.as_bytes(), key.as_bytes()).is_ok());
}

#[test]
fn broken_pairs_say_which_file_is_wrong() {
    let (cert_a, key_a) = pair("a");
    let (_, key_b) = pair("b");
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "empty certificate file",
            "",
            &key_a,
            "holds no PEM certificate",
        ),
        (
            "key file without a key",
            &cert_a,
            &cert_a,
            "tls.key holds no usable PEM private key",
        ),
        (
            "key of another certificate",
            &cert_a,
            &key_b,
            "does not belong to the certificate",
        ),
    ];
    for (name, cert, key, expected) in cases {
        let err = certified_key(&paths(), cert.as_bytes(), key.as_bytes())
            .err()
            .unwrap_or_else(|| panic!("{name}: loaded"));
        assert!(err.to_string().contains(expected), "{name}: {err}");
    }
}

#[test]
fn the_watcher_swaps_good_pairs_and_keeps_the_last_good_one_on_a_bad_pair() {
    let dir = tempfile::tempdir().unwrap();
    let paths = CertPaths {
        cert: dir.path().join("tls.crt"),
        key: dir.path().join("tls.key"),
    };
    let (cert_a, key_a) = pair("a");
    std::fs::write(&paths.cert, &cert_a).unwrap();
    std::fs::write(&paths.key, &key_a).unwrap();
    let (first, c, k) = load(&paths).unwrap();
    let first_fp = fingerprint(&first);
    let resolver = ReloadingCert::new(first);
    let mut watcher = CertWatcher::new(
        paths.clone(),
        resolver.clone(),
        Arc::new(Metrics::new()),
        (c, k),
    );

    assert!(!watcher.check(), "unchanged files reload nothing");

    let (cert_b, key_b) = pair("b");
    std::fs::write(&paths.cert, &cert_b).unwrap();
    assert!(
        !watcher.check(),
        "a new certificate with the old key is rejected"
    );
    assert_eq!(fingerprint(&resolver.current()), first_fp);

    std::fs::write(&paths.key, &key_b).unwrap();
    assert!(watcher.check(), "the completed pair is installed");
    assert_ne!(fingerprint(&resolver.current()), first_fp);
}

/// A self-signed pair whose certificate expires at `not_after` (Unix seconds).
fn pair_expiring(not_after: i64) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["reloader".into()]).unwrap();
    params.not_after = time::OffsetDateTime::from_unix_timestamp(not_after).unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[test]
fn the_expiry_gauge_follows_the_certificate_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let paths = CertPaths {
        cert: dir.path().join("tls.crt"),
        key: dir.path().join("tls.key"),
    };
    let expiry = |m: &Metrics| {
        m.encode()
            .lines()
            .find_map(|l| l.strip_prefix("reloader_tls_certificate_expiry_timestamp_seconds "))
            .map(str::to_owned)
    };
    let (cert, key) = pair_expiring(1_900_000_000);
    std::fs::write(&paths.cert, &cert).unwrap();
    std::fs::write(&paths.key, &key).unwrap();
    let (first, c, k) = load(&paths).unwrap();
    let metrics = Arc::new(Metrics::new());
    let mut watcher = CertWatcher::new(
        paths.clone(),
        ReloadingCert::new(first),
        metrics.clone(),
        (c, k),
    );
    assert_eq!(expiry(&metrics).as_deref(), Some("1900000000"), "at start");

    let (cert, key) = pair_expiring(2_000_000_000);
    std::fs::write(&paths.cert, &cert).unwrap();
    std::fs::write(&paths.key, &key).unwrap();
    assert!(watcher.check());
    assert_eq!(
        expiry(&metrics).as_deref(),
        Some("2000000000"),
        "after a reload"
    );

    // A rejected pair leaves the gauge on the certificate still served.
    let (cert, _) = pair_expiring(2_100_000_000);
    std::fs::write(&paths.cert, &cert).unwrap();
    assert!(!watcher.check());
    assert_eq!(
        expiry(&metrics).as_deref(),
        Some("2000000000"),
        "after a rejection"
    );
}
