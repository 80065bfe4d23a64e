//! A Secret change rolls its follower exactly once; nothing else does.

use std::time::Duration;

use crate::cluster_harness::fixtures::secret;
use crate::cluster_harness::{Cluster, SHOP, env_value, http_get};

fn app_creds(password: &str) -> String {
    secret("shop", "app-creds", &[("password", password)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_change_rolls_its_deployment_once_and_an_unchanged_apply_does_not() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&SHOP);
    let reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    assert_eq!(cluster.generation("shop", "web").await, 1);
    cluster.wait_rollouts("shop", "web", 1).await;

    cluster.apply(&app_creds("hunter2"));
    cluster.wait_rolled("shop", "web", 2).await;
    // On the real control plane: exactly one new ReplicaSet, revision 2.
    cluster.wait_rollouts("shop", "web", 2).await;
    let d = cluster.deployment("shop", "web").await;
    let recorded = env_value(&d, "STAKATER_APP_CREDS_SECRET").expect("hash recorded");
    assert_eq!(recorded.len(), 64, "a SHA-256 hex hash, never the data");
    assert_eq!(cluster.patches("deployments", "web").await, 1);

    // The same data again: the webhook sees no change, nothing rolls.
    cluster.apply(&app_creds("hunter2"));
    cluster
        .stays_rolled("shop", "web", 2, Duration::from_millis(800))
        .await;

    // A label-only change is not a data change.
    cluster.kubectl(&["label", "secret", "app-creds", "-n", "shop", "team=a"]);
    cluster
        .stays_rolled("shop", "web", 2, Duration::from_millis(800))
        .await;
    assert_eq!(cluster.patches("deployments", "web").await, 1);
    cluster.assert_rollouts("shop", "web", 2).await;

    let metrics = http_get(reloader.metrics_port, "/metrics").expect("metrics served");
    assert!(
        metrics.contains(r#"reloader_reload_executed_total{success="true"} 1"#),
        "{metrics}"
    );
    assert!(!metrics.contains("hunter2"), "no Secret data in metrics");
    assert!(
        !reloader.log_text().contains("hunter2"),
        "no Secret data in logs"
    );
}
