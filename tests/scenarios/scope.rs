//! Scope flags: namespaces, namespace labels, source labels, ignored kinds.

use std::time::Duration;

use crate::cluster_harness::fixtures::{
    AUTO, Source, configmap, deployment, documents, namespace_labelled,
};
use crate::cluster_harness::{Cluster, eventually};

/// A namespace with a Secret labelled `reload: "yes"`, an unlabelled one, and a
/// Deployment following both.
fn setup(ns: &str, labels: &[(&str, &str)]) -> String {
    documents(&[
        namespace_labelled(ns, labels),
        secret_k(ns, "creds", "a", true),
        secret_k(ns, "unlabelled", "a", false),
        deployment(ns, "web")
            .annotation(AUTO, "true")
            .env_from_secret("creds")
            .env_from_secret("unlabelled")
            .yaml(),
    ])
}

/// The Secret `ns/name` whose one key `k` is `value`, labelled `reload: "yes"` or not.
fn secret_k(ns: &str, name: &str, value: &str, labelled: bool) -> String {
    let secret = Source::secret(ns, name, &[("k", value)]);
    if labelled {
        secret.label("reload", "yes").yaml()
    } else {
        secret.yaml()
    }
}

fn change(ns: &str, name: &str, labelled: bool) -> String {
    secret_k(ns, name, "b", labelled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_selected_namespaces_and_labelled_sources_trigger() {
    let mut cluster = Cluster::start().await;
    for (ns, team) in [("team-a", "a"), ("team-b", "b"), ("skipped", "a")] {
        cluster.apply(&setup(ns, &[("team", team)]));
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
    cluster.apply(&change("team-a", "unlabelled", false));
    cluster
        .stays_rolled("team-a", "web", 1, Duration::from_millis(800))
        .await;
    let changes: Vec<String> = ["team-a", "team-b", "skipped"]
        .iter()
        .map(|ns| change(ns, "creds", true))
        .collect();
    cluster.apply(&documents(&changes));
    cluster.wait_rolled("team-a", "web", 2).await;
    cluster
        .stays_rolled("team-b", "web", 1, Duration::from_millis(800))
        .await;
    assert_eq!(cluster.generation("skipped", "web").await, 1);
}

/// A CronJob that names `creds` (CronJobs are not ignored when Deployments are).
const NIGHTLY: &str = r#"
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: plain, annotations: {secret.reloader.stakater.com/reload: creds}}
spec:
  schedule: "0 0 * * *"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: job, image: busybox}]}}}}
"#;

/// `metadata.generation` of `kind/name` in `plain`, as kubectl prints it.
fn generation_of(cluster: &Cluster, kind: &str, name: &str) -> String {
    cluster.kubectl(&[
        "get",
        kind,
        name,
        "-n",
        "plain",
        "-o",
        "jsonpath={.metadata.generation}",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_workload_types_and_source_kinds_are_left_alone() {
    // Each run also makes a change that must roll something (the positive control), so a
    // reloader that does nothing at all fails here.
    let settings = |v: &str| configmap("plain", "settings", &[("k", v)]);
    let api = deployment("plain", "api")
        .env_from_configmap("settings")
        .yaml();
    let cases = [
        (
            ["--ignored-workload-types", "deployments"],
            NIGHTLY.to_owned(),
            None,
            ("cronjob", "nightly"),
        ),
        (
            ["--ignore-secrets", "--auto-reload-all"],
            documents(&[settings("a"), api]),
            Some(settings("b")),
            ("deployment", "api"),
        ),
    ];
    for (flags, control, control_change, (kind, name)) in cases {
        let mut cluster = Cluster::start().await;
        cluster.apply(&setup("plain", &[]));
        cluster.apply(&control);
        let _reloader = cluster.start_reloader(&flags);
        cluster.register_webhook();
        cluster.apply(&change("plain", "creds", true));
        if let Some(change) = &control_change {
            cluster.apply(change);
        }
        eventually(&format!("{kind}/{name} to roll with {flags:?}"), || async {
            generation_of(&cluster, kind, name) == "2"
        })
        .await;
        cluster
            .stays_rolled("plain", "web", 1, Duration::from_millis(1000))
            .await;
    }
}
