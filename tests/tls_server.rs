//! The webhook over real TLS connections on 127.0.0.1.

mod webhook_harness;

use std::time::Duration;

use axum::body::Bytes;
use hyper::StatusCode;
use reloader::cmd::certs::Ca;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use webhook_harness::tls::*;
use webhook_harness::*;

fn update_body(v: &[u8]) -> Bytes {
    Review::update(secret("db", &[("k", b"old")]), secret("db", &[("k", v)]))
        .body()
        .into()
}

#[tokio::test]
async fn reviews_are_answered_over_tls_1_3_and_1_2() {
    let (_keep, dir) = temp_dir();
    let ca = Ca::generate("test CA", 1).unwrap();
    let paths = write_pair(&ca, &dir);
    let mut h = harness();
    let server = TlsServer::start(&h, &paths).await;
    for (tls12_only, expected) in [
        (false, rustls::ProtocolVersion::TLSv1_3),
        (true, rustls::ProtocolVersion::TLSv1_2),
    ] {
        let config = client_config(&ca.cert_pem, tls12_only, &[b"http/1.1"]);
        let mut client = Client::connect(server.addr, config).await.unwrap();
        assert_eq!(client.protocol, expected);
        let (status, body) = client
            .post("/validate/sources", update_body(b"new"))
            .await
            .unwrap();
        assert_eq!(status, StatusCode::OK);
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(answer["response"]["allowed"], true);
    }
    assert_eq!(h.drain().len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn a_1_mib_secret_review_travels_both_ways_over_keep_alive() {
    let (_keep, dir) = temp_dir();
    let ca = Ca::generate("test CA", 1).unwrap();
    let paths = write_pair(&ca, &dir);
    let mut h = harness();
    let server = TlsServer::start(&h, &paths).await;
    let mut client = Client::connect(server.addr, client_config(&ca.cert_pem, false, &[]))
        .await
        .unwrap();
    // Grow to 1 MiB, change it, and shrink back, on one connection.
    let big1 = secret("big", &[("blob", &blob(1024 * 1024, 1))]);
    let big2 = secret("big", &[("blob", &blob(1024 * 1024, 2))]);
    let small = secret("big", &[("blob", b"x")]);
    for (old, new) in [
        (small.clone(), big1.clone()),
        (big1, big2.clone()),
        (big2, small),
    ] {
        let body = Review::update(old, new).body();
        let (status, answer) = client.post("/validate/sources", body.into()).await.unwrap();
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    assert_eq!(h.drain().len(), 3);
    let (status, _) = client
        .post(
            "/validate/sources",
            Bytes::from(vec![b' '; 3 * 1024 * 1024 + 1]),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    server.stop().await;
}

#[tokio::test]
async fn http2_is_offered_and_served_when_enabled() {
    let (_keep, dir) = temp_dir();
    let ca = Ca::generate("test CA", 1).unwrap();
    let paths = write_pair(&ca, &dir);
    let limits = reloader::webhook::Limits {
        http2: true,
        ..Default::default()
    };
    let mut h = harness_with(Default::default(), limits, 64);
    let server = TlsServer::start(&h, &paths).await;
    let tls = tls_connect(server.addr, client_config(&ca.cert_pem, false, &[b"h2"]))
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::post("https://localhost/validate/sources")
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(update_body(b"h2")))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(h.drain().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_is_disconnected() {
    let (_keep, dir) = temp_dir();
    let ca = Ca::generate("test CA", 1).unwrap();
    let paths = write_pair(&ca, &dir);
    let limits = reloader::webhook::Limits {
        header_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let h = harness_with(Default::default(), limits, 8);
    let server = TlsServer::start(&h, &paths).await;
    let mut tls = tls_connect(
        server.addr,
        client_config(&ca.cert_pem, false, &[b"http/1.1"]),
    )
    .await
    .unwrap();
    tls.write_all(b"POST /validate/sources HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server kept a stalled connection open");
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_does_not_block_others() {
    let (_keep, dir) = temp_dir();
    let ca = Ca::generate("test CA", 1).unwrap();
    let paths = write_pair(&ca, &dir);
    let h = harness();
    let server = TlsServer::start(&h, &paths).await;
    let _silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut client = Client::connect(server.addr, client_config(&ca.cert_pem, false, &[]))
        .await
        .unwrap();
    let (status, _) = client
        .post("/validate/sources", update_body(b"x"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}
