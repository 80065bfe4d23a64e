//! Certificate rotation under load: zero failed requests, new connections get the new pair.

mod webhook_harness;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use hyper::StatusCode;
use reloader::cmd::certs::Ca;
use reloader::webhook::tls::CertPaths;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use webhook_harness::tls::*;
use webhook_harness::*;

fn leaf_der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// Lays out `dir` as the kubelet does for a mounted Secret: `tls.crt -> ..data/tls.crt`,
/// `..data -> ..<version>`, and rotates by swapping the `..data` symlink atomically.
fn publish(dir: &Path, version: &str, cert: &str, key: &str) {
    let versioned = dir.join(format!("..{version}"));
    std::fs::create_dir(&versioned).unwrap();
    std::fs::write(versioned.join("tls.crt"), cert).unwrap();
    std::fs::write(versioned.join("tls.key"), key).unwrap();
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(format!("..{version}"), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
    for name in ["tls.crt", "tls.key"] {
        let link = dir.join(name);
        if !link.exists() {
            std::os::unix::fs::symlink(format!("..data/{name}"), link).unwrap();
        }
    }
}

fn sans() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into()]
}

/// Opens new connections until one presents `expected`, or gives up after 5 s.
async fn wait_for_cert(addr: std::net::SocketAddr, ca_pem: &str, expected: &[u8]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let client = Client::connect(addr, client_config(ca_pem, false, &[]))
            .await
            .unwrap();
        if client.peer_cert == expected {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_load_fails_no_request_and_new_connections_see_the_new_certificate() {
    let (_keep, dir) = temp_dir();
    let ca = Ca::generate("test CA", 1).unwrap();
    let (cert_a, key_a) = ca.issue(&sans(), 1).unwrap();
    publish(&dir, "v1", &cert_a, &key_a);
    let paths = CertPaths {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
    };
    let h = harness_with(Default::default(), Default::default(), 1_000_000);
    let server = TlsServer::start(&h, &paths).await;

    // Load: four clients, each on one keep-alive connection opened before any rotation,
    // plus a fifth that opens a fresh connection for every request.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let body: Bytes = Review::update(secret("db", &[("k", b"1")]), secret("db", &[("k", b"2")]))
        .body()
        .into();
    let mut load = Vec::new();
    for fresh in [false, false, false, false, true] {
        let (stop, sent, failed, body, ca_pem) = (
            stop.clone(),
            sent.clone(),
            failed.clone(),
            body.clone(),
            ca.cert_pem.clone(),
        );
        let addr = server.addr;
        load.push(tokio::spawn(async move {
            let config = client_config(&ca_pem, false, &[]);
            let mut client = Client::connect(addr, config.clone()).await.unwrap();
            while !stop.load(Ordering::Relaxed) {
                if fresh {
                    match Client::connect(addr, config.clone()).await {
                        Ok(c) => client = c,
                        Err(_) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                }
                sent.fetch_add(1, Ordering::Relaxed);
                match client.post("/validate/sources", body.clone()).await {
                    Ok((StatusCode::OK, _)) => {}
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(wait_for_cert(server.addr, &ca.cert_pem, &leaf_der(&cert_a)).await);

    // 1. A new pair arrives by symlink swap.
    let (cert_b, key_b) = ca.issue(&sans(), 1).unwrap();
    publish(&dir, "v2", &cert_b, &key_b);
    assert!(
        wait_for_cert(server.addr, &ca.cert_pem, &leaf_der(&cert_b)).await,
        "new connections never saw the rotated certificate"
    );

    // 2. A broken pair (certificate and key do not match) is refused; B stays.
    let (cert_c, _) = ca.issue(&sans(), 1).unwrap();
    publish(&dir, "v3", &cert_c, &key_b);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = Client::connect(server.addr, client_config(&ca.cert_pem, false, &[]))
        .await
        .unwrap();
    assert_eq!(
        client.peer_cert,
        leaf_der(&cert_b),
        "a broken pair replaced the good one"
    );

    // 3. Files rewritten in place, one after the other (a half-rotated pair in between).
    let (cert_d, key_d) = ca.issue(&sans(), 1).unwrap();
    let v3 = dir.join("..v3");
    std::fs::write(v3.join("tls.crt"), &cert_d).unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    std::fs::write(v3.join("tls.key"), &key_d).unwrap();
    assert!(wait_for_cert(server.addr, &ca.cert_pem, &leaf_der(&cert_d)).await);

    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent > 100, "the load ran: {sent} requests");
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "failed requests out of {sent}"
    );
    let metrics = h.state.metrics.encode();
    assert!(
        metrics.contains(r#"reloader_tls_certificate_reloads_total{result="success"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"reloader_tls_certificate_reloads_total{result="failure"}"#)
            && !metrics.contains(r#"reloader_tls_certificate_reloads_total{result="failure"} 0"#),
        "{metrics}"
    );
    server.stop().await;
}
