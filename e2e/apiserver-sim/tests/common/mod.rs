//! Shared setup for the simulator's integration tests.
#![allow(dead_code)]

use apiserver_sim::testing::{SimOptions, SimProcess};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use serde_json::json;

pub fn options() -> SimOptions {
    SimOptions {
        binary: Some(env!("CARGO_BIN_EXE_apiserver-sim").into()),
        ..SimOptions::default()
    }
}

pub async fn start() -> (SimProcess, kube::Client) {
    start_with(options()).await
}

pub async fn start_with(options: SimOptions) -> (SimProcess, kube::Client) {
    let sim = SimProcess::start_with(options).expect("simulator starts");
    let client = sim.client().await.expect("client from kubeconfig");
    (sim, client)
}

pub async fn create_namespace(client: &kube::Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let namespace = serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
    api.create(&PostParams::default(), &namespace)
        .await
        .expect("namespace created");
}

/// The HTTP status of a kube error, or panics with the error.
pub fn status_code(error: kube::Error) -> u16 {
    match error {
        kube::Error::Api(status) => status.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub fn api_error(error: kube::Error) -> (u16, String, String) {
    match error {
        kube::Error::Api(status) => (status.code, status.reason, status.message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// The kubectl to test with: `KUBECTL`, else the repository's pinned one
/// (`.tools/bin/kubectl`), else `kubectl` on PATH.
pub fn kubectl_binary() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("KUBECTL").filter(|p| !p.is_empty()) {
        return path.into();
    }
    let pinned = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/bin/kubectl");
    if pinned.is_file() {
        return pinned;
    }
    "kubectl".into()
}

/// kubectl against `sim` with a private cache directory.
pub fn kubectl(sim: &SimProcess, cache: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(kubectl_binary());
    command
        .arg("--kubeconfig")
        .arg(sim.kubeconfig_path())
        .arg("--cache-dir")
        .arg(cache);
    command
}

/// Runs kubectl with `stdin` as input; returns (success, stdout, stderr).
pub fn run_kubectl(
    sim: &SimProcess,
    cache: &std::path::Path,
    args: &[&str],
    stdin: &str,
) -> (bool, String, String) {
    use std::io::Write;
    let mut child = kubectl(sim, cache)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    let output = child.wait_with_output().expect("kubectl finishes");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
