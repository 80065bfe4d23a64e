//! A release as users get it: `e2e/release/render.sh` (what `make release-manifests` runs)
//! renders the one-file install with the image pinned and validates it; applied to the real
//! control plane with the documented steps (namespace, serving Secret, `kubectl apply`, the
//! caBundle), it runs — the binary standing in for the pod, as its ServiceAccount — rolls
//! a Deployment on a Secret change, and passes `e2e/installed-check.sh`, the kubectl-only
//! check the kind suite runs against reloader in a pod.

use std::process::Command;

use crate::cluster_harness::control_plane::repo_root;
use crate::cluster_harness::install::{helm_binary, succeeded};
use crate::cluster_harness::{Cluster, kubectl_binary};
use crate::{
    SHOP, a_secret_change_rolls_the_deployment, stand_in_for_the_pod,
    the_local_reloader_holds_the_lease,
};

const VERSION: &str = "0.0.0-test.1";
const NAMESPACE: &str = "reloader";

/// Runs the release script into `out`; its output when it fails.
fn render(out: &std::path::Path, version: &str) -> std::process::Output {
    let venv = repo_root().join(".tools/venv/bin");
    Command::new("bash")
        .arg(repo_root().join("e2e/release/render.sh"))
        .args([version, out.to_str().unwrap()])
        .env("RELOADER", env!("CARGO_BIN_EXE_reloader"))
        .env("HELM", helm_binary())
        .env("KUBERNETES_VALIDATE", venv.join("kubernetes-validate"))
        .env("PYTHON", venv.join("python"))
        .output()
        .expect("bash runs")
}

#[test]
fn a_version_that_is_not_semantic_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = render(&dir.path().join("v"), "1.2");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("semantic version"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_manifests_install_and_reload_on_the_real_control_plane() {
    let mut cluster = Cluster::start_real().await;
    let out = cluster.dir.path().join("dist");
    let rendered = render(&out, VERSION);
    succeeded(&rendered, "render.sh");
    for file in [
        "reloader.yaml",
        "SHA256SUMS",
        &format!("reloader-{VERSION}.tgz"),
    ] {
        assert!(out.join(file).is_file(), "{file} in the release");
    }
    let sums = Command::new("sha256sum")
        .args(["--check", "--quiet", "SHA256SUMS"])
        .current_dir(&out)
        .status()
        .expect("sha256sum");
    assert!(sums.success(), "SHA256SUMS matches the files");

    // docs/install.md, "Plain manifests of a release".
    cluster.create_serving_secret(NAMESPACE);
    cluster.kubectl(&["apply", "-f", out.join("reloader.yaml").to_str().unwrap()]);
    let image = cluster.kubectl(&[
        "-n",
        NAMESPACE,
        "get",
        "deployment",
        "reloader",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, format!("ghcr.io/reloader/reloader:{VERSION}"));
    cluster.apply(&SHOP);
    let reloader = stand_in_for_the_pod(&mut cluster, NAMESPACE);
    a_secret_change_rolls_the_deployment(&cluster, &reloader, NAMESPACE, "reloader").await;
    the_local_reloader_holds_the_lease(&cluster, NAMESPACE).await;

    // The kubectl-only check the kind suite runs against reloader in a pod.
    let check = Command::new("bash")
        .arg(repo_root().join("e2e/installed-check.sh"))
        .env("KUBECONFIG", cluster.kubeconfig())
        .env("KUBECTL", kubectl_binary())
        .output()
        .expect("bash runs");
    succeeded(
        &check,
        &format!(
            "e2e/installed-check.sh (reloader's log:\n{})",
            reloader.log_text()
        ),
    );
}
