//! Faults: a missed trigger, conflicts, dropped watches, a vanished workload. The ones
//! that inject faults (409/422/503 answers, dropped watches, compaction, a held PATCH)
//! run on the simulator, which exists for them; the rest on the real control plane.

use std::time::Duration;

use apiserver_sim::testing::fault;

use crate::cluster_harness::fixtures::{Deployment, deployment, documents, namespace, secret};
use crate::cluster_harness::{Cluster, env_value};

/// The namespace, the Secret `creds` and the Deployment `web` that follows it.
fn setup() -> String {
    setup_with(follower("web"))
}

fn setup_with(follower: Deployment) -> String {
    documents(&[namespace("shop"), creds("one"), follower.yaml()])
}

fn follower(name: &str) -> Deployment {
    deployment("shop", name).annotation("secret.reloader.stakater.com/reload", "creds")
}

fn creds(password: &str) -> String {
    secret("shop", "creds", &[("password", password)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_while_the_webhook_was_down_is_rolled_by_the_next_resync() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&setup());
    let mut reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.apply(&creds("two"));
    cluster.wait_rolled("shop", "web", 2).await;
    reloader.kill();
    // failurePolicy: Ignore — the write goes through, nobody is told.
    cluster.apply(&creds("three"));
    assert_eq!(cluster.generation("shop", "web").await, 2);
    let _back = cluster.start_reloader(&[]);
    cluster.wait_rolled("shop", "web", 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_resync_repairs_without_a_restart() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&setup());
    let _reloader = cluster.start_reloader(&["--resync-period", "500ms"]);
    cluster.register_webhook();
    cluster.apply(&creds("two"));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.unregister_webhook();
    cluster.apply(&creds("three"));
    cluster.wait_rolled("shop", "web", 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_and_server_errors_twice_then_success_roll_once() {
    for status in [409, 422, 503] {
        let mut cluster = Cluster::start_sim().await;
        cluster.apply(&setup());
        let _reloader = cluster.start_reloader(&[]);
        cluster.register_webhook();
        cluster
            .hooks()
            .inject_fault(&fault("patch", "deployments", 2, status))
            .await
            .expect("fault");
        cluster.apply(&creds("two"));
        cluster.wait_rolled("shop", "web", 2).await;
        cluster
            .stays_rolled("shop", "web", 2, Duration::from_millis(500))
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
    cluster.apply(&setup());
    let reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.hooks().compact().await.expect("compact");
    cluster.hooks().drop_watches().await.expect("drop");
    // A follower created after the watches came back must be known too.
    cluster.apply(&setup_with(follower("late")));
    crate::cluster_harness::eventually("the Deployment cache to relist after 410 Gone", || async {
        reloader
            .log_text()
            .matches("cache listed kind=Deployment")
            .count()
            >= 2
    })
    .await;
    cluster.apply(&creds("two"));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.wait_rolled("shop", "late", 2).await;
    let d = cluster.deployment("shop", "late").await;
    assert!(env_value(&d, "STAKATER_CREDS_SECRET").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_deleted_while_its_reload_waits_causes_no_error_loop() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&setup_with(
        // Long beside a kubectl call, so the delete below lands inside the pause.
        follower("web").annotation("deployment.reloader.stakater.com/pause-period", "10s"),
    ));
    let reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.apply(&creds("two"));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.apply(&creds("three"));
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
    cluster.apply(&setup());
    let mut reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    let mut slow = fault("patch", "deployments", 1, 200);
    slow.status = None;
    slow.hang_ms = Some(1500);
    cluster.hooks().inject_fault(&slow).await.expect("fault");
    cluster.apply(&creds("two"));
    crate::cluster_harness::eventually("the trigger to reach the engine", || async {
        reloader.log_text().contains("trigger resolved")
    })
    .await;
    // The coalescing window (150 ms) passes and the PATCH arrives and hangs: the fault is
    // used up when the request reaches the API server, before it is answered.
    crate::cluster_harness::eventually("the PATCH to hang in the API server", || async {
        cluster
            .hooks()
            .pending_faults()
            .await
            .expect("faults")
            .is_empty()
    })
    .await;
    assert_eq!(
        cluster.generation("shop", "web").await,
        1,
        "the patch is still in flight"
    );
    reloader.stop_cleanly();
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
