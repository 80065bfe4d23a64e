//! Faults: a missed trigger, conflicts, dropped watches, a vanished workload. The ones
//! that inject faults (409/422/503 answers, dropped watches, compaction, a held PATCH)
//! run on the simulator, which exists for them; the rest on the real control plane.

use std::time::Duration;

use apiserver_sim::testing::fault;

use crate::cluster_harness::{Cluster, env_value};

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
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations: {secret.reloader.stakater.com/reload: creds}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: nginx}]
"#;

fn secret(password: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: creds, namespace: shop}}\nstringData: {{password: {password}}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_while_the_webhook_was_down_is_rolled_by_the_next_resync() {
    let mut cluster = Cluster::start().await;
    cluster.apply(SETUP);
    let mut reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.apply(&secret("two"));
    cluster.wait_generation("shop", "web", 2).await;
    reloader.kill();
    // failurePolicy: Ignore — the write goes through, nobody is told.
    cluster.apply(&secret("three"));
    assert_eq!(cluster.generation("shop", "web").await, 2);
    let _back = cluster.start_reloader(&[]);
    cluster.wait_generation("shop", "web", 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_resync_repairs_without_a_restart() {
    let mut cluster = Cluster::start().await;
    cluster.apply(SETUP);
    let _reloader = cluster.start_reloader(&["--resync-period", "500ms"]);
    cluster.register_webhook();
    cluster.apply(&secret("two"));
    cluster.wait_generation("shop", "web", 2).await;
    cluster.unregister_webhook();
    cluster.apply(&secret("three"));
    cluster.wait_generation("shop", "web", 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_and_server_errors_twice_then_success_roll_once() {
    for status in [409, 422, 503] {
        let mut cluster = Cluster::start_sim().await;
        cluster.apply(SETUP);
        let _reloader = cluster.start_reloader(&[]);
        cluster.register_webhook();
        cluster
            .hooks()
            .inject_fault(&fault("patch", "deployments", 2, status))
            .await
            .expect("fault");
        cluster.apply(&secret("two"));
        cluster.wait_generation("shop", "web", 2).await;
        cluster
            .stays_at("shop", "web", 2, Duration::from_millis(500))
            .await;
        assert_eq!(
            cluster.patches("deployments", "web").await,
            1,
            "{status}: one successful patch"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caches_recover_from_dropped_watches_and_compacted_history() {
    let mut cluster = Cluster::start_sim().await;
    cluster.apply(SETUP);
    let reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.hooks().compact().await.expect("compact");
    cluster.hooks().drop_watches().await.expect("drop");
    // A follower created after the watches came back must be known too.
    cluster.apply(
        &SETUP
            .replace("name: web", "name: late")
            .replace("app: web", "app: late"),
    );
    crate::cluster_harness::eventually("the Deployment cache to relist after 410 Gone", || async {
        reloader
            .log_text()
            .matches("cache listed kind=Deployment")
            .count()
            >= 2
    })
    .await;
    cluster.apply(&secret("two"));
    cluster.wait_generation("shop", "web", 2).await;
    cluster.wait_generation("shop", "late", 2).await;
    let d = cluster.deployment("shop", "late").await;
    assert!(env_value(&d, "STAKATER_CREDS_SECRET").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_deleted_while_its_reload_waits_causes_no_error_loop() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&SETUP.replace(
        "annotations: {secret.reloader.stakater.com/reload: creds}",
        "annotations: {secret.reloader.stakater.com/reload: creds, deployment.reloader.stakater.com/pause-period: 2s}",
    ));
    let reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.apply(&secret("two"));
    cluster.wait_generation("shop", "web", 2).await;
    cluster.apply(&secret("three"));
    crate::cluster_harness::eventually("the second change to be held by the pause", || async {
        reloader
            .log_text()
            .contains("paused; reloading at the end of the pause")
    })
    .await;
    cluster.kubectl(&["delete", "deployment", "web", "-n", "shop"]);
    crate::cluster_harness::eventually("the held reload to be dropped", || async {
        reloader.log_text().contains("workload gone")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let log = reloader.log_text();
    assert_eq!(log.matches("workload gone").count(), 1, "{log}");
    assert!(!log.contains("reload failed"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_patch_finish() {
    let mut cluster = Cluster::start_sim().await;
    cluster.apply(SETUP);
    let mut reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    let mut slow = fault("patch", "deployments", 1, 200);
    slow.status = None;
    slow.hang_ms = Some(1500);
    cluster.hooks().inject_fault(&slow).await.expect("fault");
    cluster.apply(&secret("two"));
    crate::cluster_harness::eventually("the trigger to reach the engine", || async {
        reloader.log_text().contains("trigger resolved")
    })
    .await;
    // The coalescing window (150 ms) passes and the PATCH hangs in the API server.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        cluster.generation("shop", "web").await,
        1,
        "the patch is still in flight"
    );
    reloader.terminate();
    assert!(reloader.exited());
    assert_eq!(
        cluster.generation("shop", "web").await,
        2,
        "finished before exiting"
    );
    assert!(
        reloader.log_text().contains("reloaded"),
        "{}",
        reloader.log_text()
    );
}
