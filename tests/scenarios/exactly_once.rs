//! Exactly once, and never when nothing changed.

use std::time::Duration;

use crate::cluster_harness::{Cluster, env_value, free_port};

/// Longest a spurious reload could take here: source wait (2 s) + window + slack.
const QUIET: Duration = Duration::from_millis(2800);

const SETUP: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: shop}
stringData: {password: one}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: a}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations: {reloader.stakater.com/auto: "true"}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx
        envFrom: [{secretRef: {name: creds}}, {configMapRef: {name: settings}}]
"#;

fn secret(password: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: creds, namespace: shop}}\nstringData: {{password: {password}}}\n"
    )
}

fn configmap(mode: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: shop}}\ndata: {{mode: {mode}}}\n"
    )
}

async fn ready(extra: &[&str]) -> (Cluster, crate::cluster_harness::Reloader) {
    let mut cluster = Cluster::start().await;
    cluster.apply(SETUP);
    let reloader = cluster.start_reloader(extra);
    cluster.register_webhook();
    cluster.wait_rollouts("shop", "web", 1).await;
    (cluster, reloader)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configmap_and_a_secret_changed_together_roll_once() {
    // One `kubectl apply` of both writes them one after the other: on the real API server
    // a few hundred milliseconds apart. The product's default window (1 s) joins them;
    // the harness's short one (150 ms) would not.
    let (cluster, _reloader) = ready(&["--coalesce-window", "1s"]).await;
    cluster.apply(&format!("{}---\n{}", secret("two"), configmap("b")));
    cluster.wait_generation("shop", "web", 2).await;
    cluster
        .stays_at("shop", "web", 2, Duration::from_millis(800))
        .await;
    cluster.assert_rollouts("shop", "web", 2).await;
    let d = cluster.deployment("shop", "web").await;
    assert!(env_value(&d, "STAKATER_CREDS_SECRET").is_some());
    assert!(env_value(&d, "STAKATER_SETTINGS_CONFIGMAP").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_side_dry_run_rolls_nothing() {
    let (cluster, _reloader) = ready(&[]).await;
    cluster.kubectl_stdin(&["apply", "--dry-run=server", "-f", "-"], &secret("two"));
    cluster.stays_at("shop", "web", 1, QUIET).await;
    cluster.assert_rollouts("shop", "web", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_denied_by_another_webhook_rolls_nothing() {
    let (cluster, reloader) = ready(&[]).await;
    let _deny = cluster.deny_secret_updates();
    let out = cluster.kubectl_raw(&["apply", "-f", "-"], Some(&secret("two")));
    assert!(!out.status.success(), "the update is denied");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("denied by deny-webhook"),
        "the other webhook's message reaches kubectl: {stderr}"
    );
    cluster.stays_at("shop", "web", 1, QUIET).await;
    cluster.assert_rollouts("shop", "web", 1).await;
    assert!(
        reloader.log_text().contains("not_persisted"),
        "the trigger was seen and given up:\n{}",
        reloader.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_receiving_the_same_change_roll_once() {
    let (mut cluster, _first) = ready(&[]).await;
    let port = free_port();
    let _second = cluster.start_reloader_on(port, &[]);
    cluster.register_webhook_named("reloader-replica", port);
    cluster.apply(&secret("two"));
    cluster.wait_generation("shop", "web", 2).await;
    cluster
        .stays_at("shop", "web", 2, Duration::from_millis(1000))
        .await;
    cluster.assert_rollouts("shop", "web", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_reloader_rolls_nothing_unchanged() {
    let (mut cluster, mut reloader) = ready(&[]).await;
    cluster.apply(&secret("two"));
    cluster.wait_generation("shop", "web", 2).await;
    reloader.terminate();
    let _again = cluster.start_reloader(&[]);
    // Resync runs at start over every follower: everything is recorded already.
    cluster
        .stays_at("shop", "web", 2, Duration::from_millis(1500))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_install_rolls_nothing() {
    let (cluster, _reloader) = ready(&[]).await;
    // Resync at start saw followers without any recorded hash: they are left alone.
    cluster
        .stays_at("shop", "web", 1, Duration::from_millis(1500))
        .await;
}
