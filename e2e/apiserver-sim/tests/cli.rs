//! The command-line contract: announcement line, kubeconfig, token, clean exit.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_apiserver-sim");

#[tokio::test]
async fn announces_writes_kubeconfig_rejects_strangers_and_exits_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let address = line
        .trim()
        .strip_prefix("listening on https://")
        .expect("announcement")
        .to_string();
    assert!(address.starts_with("127.0.0.1:"), "{address}");

    let parsed = kube::config::Kubeconfig::read_from(&kubeconfig).expect("kubeconfig");
    let cluster = parsed.clusters[0].cluster.clone().expect("cluster");
    assert_eq!(
        cluster.server.as_deref(),
        Some(format!("https://{address}").as_str())
    );
    let config =
        kube::Config::from_custom_kubeconfig(parsed, &kube::config::KubeConfigOptions::default())
            .await
            .expect("config");
    let client = kube::Client::try_from(config.clone()).expect("client");
    client
        .apiserver_version()
        .await
        .expect("authorized request");

    let mut stranger = config;
    stranger.auth_info.token = Some("wrong".to_string().into());
    let stranger = kube::Client::try_from(stranger).expect("client");
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(stranger);
    match namespaces.list(&Default::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 401),
        other => panic!("expected 401, got {other:?}"),
    }

    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn missing_kubeconfig_out_is_an_error() {
    let output = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--kubeconfig-out"));
}

#[tokio::test]
async fn test_helper_finds_the_binary_next_to_the_test_executable() {
    let sim = apiserver_sim::testing::SimProcess::start().expect("binary located and started");
    let client = sim.client().await.expect("client");
    client.apiserver_version().await.expect("reachable");
    assert!(sim.url().starts_with("https://127.0.0.1:"));
    assert!(sim.kubeconfig_path().is_file());
}
