//! Scope flags: namespaces, namespace labels, source labels, ignored kinds.

use std::time::Duration;

use crate::cluster_harness::Cluster;
use crate::cluster_harness::fixtures::{AUTO, Source, deployment, documents, namespace_labelled};

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
        .stays_at("team-a", "web", 1, Duration::from_millis(800))
        .await;
    let changes: Vec<String> = ["team-a", "team-b", "skipped"]
        .iter()
        .map(|ns| change(ns, "creds", true))
        .collect();
    cluster.apply(&documents(&changes));
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
        cluster.apply(&setup("plain", &[]));
        let _reloader = cluster.start_reloader(&flags);
        cluster.register_webhook();
        cluster.apply(&change("plain", "creds", true));
        cluster
            .stays_at("plain", "web", 1, Duration::from_millis(1000))
            .await;
    }
}
