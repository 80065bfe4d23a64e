//! The log filter changed without a restart: `PUT /log-level` on the ops port when
//! `--log-level-endpoint` is on, nothing there when it is off. Tried on the real binary.

mod webhook_harness;

use std::net::SocketAddr;

use reloader::cmd::certs::Ca;
use webhook_harness::logged::{Server, addr, http1};
use webhook_harness::tls::*;

const DEBUG: &str = r#""level":"DEBUG""#;

struct Started {
    _dir: tempfile::TempDir,
    server: Server,
    webhook: SocketAddr,
    ops: SocketAddr,
}

/// Starts `reloader serve --log-only` at `info` with `extra`.
fn start(extra: &[&str]) -> Started {
    let (keep, dir) = temp_dir();
    write_pair(&Ca::generate("test CA", 1).unwrap(), &dir);
    let mut args = vec!["--log-only", "--log-format", "json", "--log-level", "info"];
    args.extend(extra);
    let server = Server::start(&dir, &args);
    let webhook = addr(&server.wait_for("webhook server listening"));
    let ops = addr(&server.wait_for("metrics server listening"));
    Started {
        _dir: keep,
        server,
        webhook,
        ops,
    }
}

/// Plain text to the TLS port: the server logs the failed handshake at debug.
async fn failed_handshake(webhook: SocketAddr) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(webhook).await.unwrap();
    let _ = tcp.write_all(b"GET / HTTP/1.1\r\n\r\n").await;
    let mut sink = Vec::new();
    let _ = tcp.read_to_end(&mut sink).await;
}

/// Waits a moment for the server's log to catch up, then whether it holds a debug line.
async fn logged_debug(server: &Server) -> bool {
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    server.lines().iter().any(|l| l.contains(DEBUG))
}

#[tokio::test]
async fn the_log_filter_changes_at_runtime_when_the_endpoint_is_on() {
    let Started {
        server,
        webhook,
        ops,
        ..
    } = start(&["--log-level-endpoint"]);
    assert_eq!(
        http1(ops, "GET", "/log-level", "").await,
        (200, "info\n".into())
    );
    failed_handshake(webhook).await;
    assert!(!logged_debug(&server).await, "no debug line at info");

    // (body, status, the filter afterwards)
    let table = [
        ("reloader=loud", 400, "info"),
        ("debug", 200, "debug"),
        ("  warn  ", 200, "warn"),
        ("debug", 200, "debug"),
    ];
    for (body, status, after) in table {
        let (got, text) = http1(ops, "PUT", "/log-level", body).await;
        assert_eq!(got, status, "PUT {body:?}: {text}");
        assert_eq!(
            http1(ops, "GET", "/log-level", "").await.1,
            format!("{after}\n")
        );
    }
    failed_handshake(webhook).await;
    assert!(logged_debug(&server).await, "a debug line at debug");
    let lines = server.stop();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("log level changed at runtime")),
        "the change is logged"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(DEBUG) && l.contains("TLS handshake failed")),
        "{}",
        lines.join("\n")
    );
}

#[tokio::test]
async fn without_the_flag_there_is_no_log_level_endpoint() {
    let Started {
        server,
        webhook,
        ops,
        ..
    } = start(&[]);
    for method in ["GET", "PUT"] {
        assert_eq!(
            http1(ops, method, "/log-level", "debug").await.0,
            404,
            "{method}"
        );
    }
    failed_handshake(webhook).await;
    assert!(!logged_debug(&server).await, "still at info");
}
