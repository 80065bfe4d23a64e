//! The coalescing window, globally and per workload.

use std::time::Duration;

use crate::support::Cluster;

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
