//! Exactly once, and never when nothing changed.

use std::time::Duration;

use crate::cluster_harness::fixtures::{AUTO, configmap, deployment, documents, namespace, secret};
use crate::cluster_harness::{Cluster, env_value, free_port};

/// Longest a spurious reload could take here: source wait (2 s) + window + slack.
const QUIET: Duration = Duration::from_millis(2800);

fn setup() -> String {
    documents(&[
        namespace("shop"),
        creds("one"),
        settings("a"),
        deployment("shop", "web")
            .annotation(AUTO, "true")
            .env_from_secret("creds")
            .env_from_configmap("settings")
            .yaml(),
    ])
}

fn creds(password: &str) -> String {
    secret("shop", "creds", &[("password", password)])
}

fn settings(mode: &str) -> String {
    configmap("shop", "settings", &[("mode", mode)])
}

async fn ready(extra: &[&str]) -> (Cluster, crate::cluster_harness::Reloader) {
    let mut cluster = Cluster::start().await;
    cluster.apply(&setup());
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
    cluster.apply(&documents(&[creds("two"), settings("b")]));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster
        .stays_rolled("shop", "web", 2, Duration::from_millis(800))
        .await;
    cluster.assert_rollouts("shop", "web", 2).await;
    let d = cluster.deployment("shop", "web").await;
    assert!(env_value(&d, "STAKATER_CREDS_SECRET").is_some());
    assert!(env_value(&d, "STAKATER_SETTINGS_CONFIGMAP").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_side_dry_run_rolls_nothing() {
    let (cluster, _reloader) = ready(&[]).await;
    cluster.kubectl_stdin(&["apply", "--dry-run=server", "-f", "-"], &creds("two"));
    cluster.stays_rolled("shop", "web", 1, QUIET).await;
    cluster.assert_rollouts("shop", "web", 1).await;
    // The positive control: the same write, for real, rolls.
    cluster.apply(&creds("two"));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.wait_rollouts("shop", "web", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_denied_by_another_webhook_rolls_nothing() {
    let (cluster, reloader) = ready(&[]).await;
    let _deny = cluster.deny_secret_updates();
    let out = cluster.kubectl_raw(&["apply", "-f", "-"], Some(&creds("two")));
    assert!(!out.status.success(), "the update is denied");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("denied by deny-webhook"),
        "the other webhook's message reaches kubectl: {stderr}"
    );
    cluster.stays_rolled("shop", "web", 1, QUIET).await;
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
    cluster.apply(&creds("two"));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster
        .stays_rolled("shop", "web", 2, Duration::from_millis(1000))
        .await;
    cluster.assert_rollouts("shop", "web", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_reloader_rolls_nothing_unchanged() {
    let (mut cluster, mut reloader) = ready(&[]).await;
    cluster.apply(&creds("two"));
    cluster.wait_rolled("shop", "web", 2).await;
    reloader.stop_cleanly();
    let _again = cluster.start_reloader(&[]);
    // Resync runs at start over every follower: everything is recorded already.
    cluster
        .stays_rolled("shop", "web", 2, Duration::from_millis(1500))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_install_rolls_nothing() {
    let (cluster, _reloader) = ready(&[]).await;
    // Resync at start saw followers without any recorded hash: they are left alone.
    cluster
        .stays_rolled("shop", "web", 1, Duration::from_millis(1500))
        .await;
    cluster.assert_rollouts("shop", "web", 1).await;
    // The positive control: the installed reloader does roll on a change.
    cluster.apply(&creds("two"));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.wait_rollouts("shop", "web", 2).await;
}
