use super::*;

#[test]
fn a_service_is_named_four_ways_plus_extras() {
    assert_eq!(
        service_sans("reloader", "ops", &["127.0.0.1".into(), "reloader".into()]),
        [
            "reloader",
            "reloader.ops",
            "reloader.ops.svc",
            "reloader.ops.svc.cluster.local",
            "127.0.0.1"
        ]
    );
}

#[test]
fn written_files_form_a_pair_the_server_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out = write_all(dir.path(), "reloader", "ops", &["10.0.0.7".into()], 30).unwrap();
    assert_eq!(out.files.len(), 4);
    let paths = crate::webhook::tls::CertPaths {
        cert: dir.path().join("tls.crt"),
        key: dir.path().join("tls.key"),
    };
    crate::webhook::tls::load(&paths).unwrap();
    let ca = base64::engine::general_purpose::STANDARD
        .decode(&out.ca_bundle)
        .unwrap();
    assert!(
        String::from_utf8(ca)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
}
