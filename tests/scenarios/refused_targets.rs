//! A ReloaderConfig that names a target in another namespace is refused by
//! `/validate/reloaderconfigs`; one stored while that webhook was not there (admission
//! bypassed) is refused by the engine: the other namespace's workload never rolls, the
//! ReloaderConfig's own target still does, and its status and a Warning Event say why.

use std::time::Duration;

use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::api::ListParams;
use reloader_core::crd::ReloaderConfig;
use serde_json::json;

use crate::cluster_harness::fixtures::{deployment, documents, namespace, secret};
use crate::cluster_harness::{Cluster, eventually};

/// A ReloaderConfig in `team-a`: the Secret `creds`; the Deployment `web` beside it and
/// the Deployment `api` of `team-b`.
fn cross_namespace_config(name: &str) -> String {
    serde_json::to_string_pretty(&json!({
        "apiVersion": "reloader.stakater.com/v1alpha1",
        "kind": "ReloaderConfig",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {
            "watchedResources": {"secrets": ["creds"]},
            "targets": [
                {"kind": "Deployment", "name": "web"},
                {"kind": "Deployment", "name": "api", "namespace": "team-b"},
            ],
        },
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_in_another_namespace_is_refused_by_the_engine_when_admission_was_bypassed() {
    let mut cluster = Cluster::start().await;
    let mut objects = Vec::new();
    for (ns, workload) in [("team-a", "web"), ("team-b", "api")] {
        objects.push(namespace(ns));
        objects.push(secret(ns, "creds", &[("password", "one")]));
        objects.push(deployment(ns, workload).env_from_secret("creds").yaml());
    }
    cluster.apply(&documents(&objects));
    // No webhook is registered yet: nothing judges this ReloaderConfig.
    cluster.apply(&cross_namespace_config("cross"));
    let reloader = cluster.start_reloader(&["--resync-period", "0"]);
    cluster.register_webhook();

    // With the webhook in place the same spec is refused.
    let judged = cluster.kubectl_raw(
        &["create", "--dry-run=server", "-f", "-"],
        Some(&cross_namespace_config("again")),
    );
    let refusal = String::from_utf8_lossy(&judged.stderr);
    assert!(!judged.status.success(), "admitted");
    assert!(
        refusal.contains("spec.targets[1].namespace")
            && refusal.contains("may only roll workloads in its own namespace"),
        "{refusal}"
    );

    let configs: Api<ReloaderConfig> = Api::namespaced(cluster.client.clone(), "team-a");
    let refused = |message: &str| {
        message.contains("spec.targets[1] Deployment team-b/api")
            && message.contains("only rolls workloads in its own namespace \"team-a\"")
    };
    eventually("Ready False, TargetRefused, naming team-b/api", || async {
        let rc = configs.get("cross").await.expect("rc");
        rc.status.is_some_and(|s| {
            s.conditions.iter().any(|c| {
                c.type_ == "Ready"
                    && c.status == "False"
                    && c.reason == "TargetRefused"
                    && refused(&c.message)
            })
        })
    })
    .await;
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), "team-a");
    eventually(
        "a Warning TargetRefused Event on the ReloaderConfig",
        || async {
            events.list(&ListParams::default()).await.is_ok_and(|l| {
                l.items.iter().any(|e| {
                    e.type_.as_deref() == Some("Warning")
                        && e.reason.as_deref() == Some("TargetRefused")
                        && e.involved_object.kind.as_deref() == Some("ReloaderConfig")
                        && e.involved_object.name.as_deref() == Some("cross")
                        && e.involved_object.uid.is_some()
                        && e.message.as_deref().is_some_and(refused)
                })
            })
        },
    )
    .await;
    let none_in_b: Api<Event> = Api::namespaced(cluster.client.clone(), "team-b");
    let in_b = none_in_b
        .list(&ListParams::default())
        .await
        .expect("events");
    assert!(
        in_b.items
            .iter()
            .all(|e| e.reason.as_deref() != Some("Reloaded")),
        "nothing reloaded in team-b"
    );

    // The source changes: the own target rolls, the other namespace's never does.
    cluster.apply(&secret("team-a", "creds", &[("password", "two")]));
    cluster.wait_rolled("team-a", "web", 2).await;
    cluster
        .stays_at("team-b", "api", 1, Duration::from_secs(2))
        .await;
    assert!(
        reloader
            .log_text()
            .contains("ReloaderConfig target refused"),
        "{}",
        reloader.log_text()
    );
    // After the reload, the status still says what is refused.
    eventually(
        "TargetRefused again after the own target's reload",
        || async {
            let rc = configs.get("cross").await.expect("rc");
            rc.status.is_some_and(|s| {
                s.reload_count == 1
                    && s.conditions
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.reason == "TargetRefused")
            })
        },
    )
    .await;
}
