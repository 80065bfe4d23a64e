//! The coalescing window, globally, per workload and per ReloaderConfig.

use std::time::Duration;

use crate::cluster_harness::{Cluster, env_value};

fn deployment(name: &str, annotations: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: c, annotations: {{reloader.stakater.com/auto: "true"{annotations}}}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: app, image: nginx, envFrom: [{{configMapRef: {{name: cfg}}}}]}}]
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_annotation_overrides_the_global_window() {
    let mut cluster = Cluster::start().await;
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: c}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: c}\ndata: {v: \"1\"}\n");
    cluster.apply(&deployment(
        "quick",
        r#", reloader.stakater.com/coalesce-window: 50ms"#,
    ));
    cluster.apply(&deployment("patient", ""));
    let _reloader = cluster.start_reloader(&["--coalesce-window", "30s"]);
    cluster.register_webhook();
    cluster.kubectl(&[
        "patch",
        "configmap",
        "cfg",
        "-n",
        "c",
        "-p",
        r#"{"data":{"v":"2"}}"#,
    ]);
    cluster.wait_generation("c", "quick", 2).await;
    cluster
        .stays_at("c", "patient", 1, Duration::from_millis(1000))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaderconfig_window_joins_changes_the_flag_window_would_split() {
    let mut cluster = Cluster::start().await;
    cluster.apply(
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: c}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: c}
data: {v: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: c}
stringData: {token: a}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: c}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: nginx}]
---
apiVersion: reloader.stakater.com/v1alpha1
kind: ReloaderConfig
metadata: {name: web-reload, namespace: c}
spec:
  watchedResources: {configMaps: [cfg], secrets: [creds]}
  targets: [{kind: Deployment, name: web}]
  coalesceWindow: 3s
"#,
    );
    let _reloader = cluster.start_reloader(&["--coalesce-window", "200ms"]);
    cluster.register_webhook();
    cluster.kubectl(&[
        "patch",
        "configmap",
        "cfg",
        "-n",
        "c",
        "-p",
        r#"{"data":{"v":"2"}}"#,
    ]);
    // Long past the flag's window, still inside the ReloaderConfig's.
    cluster
        .stays_at("c", "web", 1, Duration::from_millis(1500))
        .await;
    cluster.kubectl(&[
        "patch",
        "secret",
        "creds",
        "-n",
        "c",
        "-p",
        r#"{"stringData":{"token":"b"}}"#,
    ]);
    cluster.wait_generation("c", "web", 2).await;
    let d = cluster.deployment("c", "web").await;
    assert!(env_value(&d, "STAKATER_CFG_CONFIGMAP").is_some(), "{d:?}");
    assert!(env_value(&d, "STAKATER_CREDS_SECRET").is_some(), "{d:?}");
    cluster
        .stays_at("c", "web", 2, Duration::from_millis(1000))
        .await;
    assert_eq!(cluster.patches("deployments", "web").await, 1);
}
