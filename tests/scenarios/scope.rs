//! Scope flags: namespaces, namespace labels, source labels, ignored kinds.

use std::time::Duration;

use crate::cluster_harness::Cluster;

fn namespace(name: &str, labels: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Namespace
metadata: {{name: {name}, labels: {{{labels}}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: creds, namespace: {name}, labels: {{reload: "yes"}}}}
stringData: {{k: a}}
---
apiVersion: v1
kind: Secret
metadata: {{name: unlabelled, namespace: {name}}}
stringData: {{k: a}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {name}, annotations: {{reloader.stakater.com/auto: "true"}}}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: app, image: nginx, envFrom: [{{secretRef: {{name: creds}}}}, {{secretRef: {{name: unlabelled}}}}]}}]
"#
    )
}

fn change(ns: &str, name: &str, labels: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}, labels: {{{labels}}}}}\nstringData: {{k: b}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_selected_namespaces_and_labelled_sources_trigger() {
    let mut cluster = Cluster::start().await;
    for (ns, labels) in [
        ("team-a", "team: a"),
        ("team-b", "team: b"),
        ("skipped", "team: a"),
    ] {
        cluster.apply(&namespace(ns, labels));
    }
    let reloader = cluster.start_reloader(&[
        "--namespace-selector",
        "team:a",
        "--namespaces-to-ignore",
        "skipped",
        "--resource-label-selector",
        "reload=yes",
    ]);
    crate::cluster_harness::eventually("the namespace selector to be listed", || async {
        reloader.log_text().contains("namespace selector listed")
    })
    .await;
    cluster.register_webhook();
    // An unlabelled source never triggers, even where everything else matches.
    cluster.apply(&change("team-a", "unlabelled", ""));
    cluster
        .stays_at("team-a", "web", 1, Duration::from_millis(800))
        .await;
    let changes: Vec<String> = ["team-a", "team-b", "skipped"]
        .iter()
        .map(|ns| change(ns, "creds", r#"reload: "yes""#))
        .collect();
    cluster.apply(&changes.join("---\n"));
    cluster.wait_generation("team-a", "web", 2).await;
    cluster
        .stays_at("team-b", "web", 1, Duration::from_millis(800))
        .await;
    assert_eq!(cluster.generation("skipped", "web").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_workload_types_and_source_kinds_are_left_alone() {
    for flags in [
        ["--ignored-workload-types", "deployments"],
        ["--ignore-secrets", "--auto-reload-all"],
    ] {
        let mut cluster = Cluster::start().await;
        cluster.apply(&namespace("plain", ""));
        let _reloader = cluster.start_reloader(&flags);
        cluster.register_webhook();
        cluster.apply(&change("plain", "creds", r#"reload: "yes""#));
        cluster
            .stays_at("plain", "web", 1, Duration::from_millis(1000))
            .await;
    }
}
