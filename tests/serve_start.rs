//! `reloader serve` without API access: a failed start that says why, unless `--log-only`
//! asks for the webhooks alone. A pod that cannot reach the API server must not report
//! Ready while it reloads nothing.

use std::time::{Duration, Instant};

use reloader::cmd::certs::Ca;

mod webhook_harness;
use webhook_harness::tls::*;

fn serve(dir: &std::path::Path, extra: &[&str]) -> std::process::Child {
    serve_command(dir)
        .args(extra)
        .spawn()
        .expect("reloader runs")
}

#[test]
fn without_api_access_the_start_fails_and_says_why() {
    let (_keep, dir) = temp_dir();
    write_pair(&Ca::generate("test CA", 1).unwrap(), &dir);
    let out = serve(&dir, &[]).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no Kubernetes API access (--log-only serves the webhooks without it)"),
        "{stderr}"
    );
    assert!(stderr.contains("not in a cluster"), "{stderr}");
}

#[test]
fn log_only_serves_the_webhooks_without_api_access() {
    let (_keep, dir) = temp_dir();
    write_pair(&Ca::generate("test CA", 1).unwrap(), &dir);
    let mut child = serve(&dir, &["--log-only"]);
    // Still running after the moment a failed start takes.
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        assert!(child.try_wait().unwrap().is_none(), "--log-only exited");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--log-only: admitted changes are logged"),
        "{stderr}"
    );
}
