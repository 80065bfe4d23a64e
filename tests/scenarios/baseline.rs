//! Baseline stamping: a workload admitted while reloader runs records the current hashes
//! without a rollout, so a change missed later is still repaired by resync.

use std::time::Duration;

use crate::cluster_harness::{Cluster, env_value};

const SOURCES: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: shop}
stringData: {password: one}
"#;

const WORKLOAD: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations: {reloader.stakater.com/auto: "true"}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx
        envFrom: [{secretRef: {name: creds}}]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_workload_gets_a_baseline_and_resync_repairs_a_missed_change() {
    let mut cluster = Cluster::start().await;
    cluster.apply(SOURCES);
    let mut reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.apply(WORKLOAD);
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
    cluster.apply(&SOURCES.replace("password: one", "password: two"));
    let _back = cluster.start_reloader(&[]);
    cluster.wait_generation("shop", "web", 3).await;
    let d = cluster.deployment("shop", "web").await;
    assert_ne!(env_value(&d, "STAKATER_CREDS_SECRET"), Some(baseline));
}
