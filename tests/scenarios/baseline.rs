//! Baseline stamping: a workload admitted while reloader runs records the current hashes
//! without a rollout, so a change missed later is still repaired by resync.

use std::time::Duration;

use crate::cluster_harness::fixtures::{AUTO, deployment, documents, namespace, secret};
use crate::cluster_harness::{Cluster, env_value};

/// The namespace and the Secret `creds` with `password`.
fn sources(password: &str) -> String {
    documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", password)]),
    ])
}

fn workload() -> String {
    deployment("shop", "web")
        .annotation(AUTO, "true")
        .replicas(1)
        .env_from_secret("creds")
        .yaml()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_workload_gets_a_baseline_and_resync_repairs_a_missed_change() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&sources("one"));
    let mut reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.apply(&workload());
    let d = cluster.deployment("shop", "web").await;
    assert_eq!(
        d.metadata.generation,
        Some(1),
        "stamped on admission, not rolled"
    );
    let baseline = env_value(&d, "STAKATER_CREDS_SECRET").expect("baseline stamped at create");

    // Scaling does not touch the template: nothing is stamped.
    cluster.kubectl(&[
        "patch",
        "deployment",
        "web",
        "-n",
        "shop",
        "-p",
        r#"{"spec":{"replicas":2}}"#,
    ]);
    // (replicas is part of the spec, so the generation moves; the template must not.)
    cluster.wait_generation("shop", "web", 2).await;
    let scaled = cluster.deployment("shop", "web").await;
    assert_eq!(
        scaled.spec.as_ref().map(|s| &s.template),
        d.spec.as_ref().map(|s| &s.template)
    );
    cluster
        .stays_at("shop", "web", 2, Duration::from_millis(500))
        .await;

    // The webhook is down while the Secret changes; the restart's resync repairs it.
    reloader.kill();
    cluster.apply(&sources("two"));
    let _back = cluster.start_reloader(&[]);
    cluster.wait_generation("shop", "web", 3).await;
    let d = cluster.deployment("shop", "web").await;
    assert_ne!(env_value(&d, "STAKATER_CREDS_SECRET"), Some(baseline));
}
