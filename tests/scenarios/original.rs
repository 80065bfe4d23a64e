//! The four scenarios of the product's original write-up, typed as a user would.

use std::time::Duration;

use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::api::ListParams;
use reloader_core::crd::ReloaderConfig;
use reloader_core::keys::LAST_RELOAD_AT;

use crate::cluster_harness::fixtures::{deployment, namespace, reloader_config, secret};
use crate::cluster_harness::{Cluster, env_value, eventually, template_annotation};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_based_reload_with_env_vars_reports_status_and_an_event() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&namespace("shop"));
    cluster.kubectl(&[
        "create",
        "secret",
        "generic",
        "db",
        "-n",
        "shop",
        "--from-literal=url=postgres://a",
    ]);
    cluster.apply(&deployment("shop", "api").env_from_secret("db").yaml());
    cluster.apply(
        &reloader_config("shop", "api-reload")
            .secrets(&["db"])
            .target("Deployment", "api")
            .strategy("env-vars")
            .yaml(),
    );
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.kubectl_stdin(
        &["apply", "-f", "-"],
        &secret("shop", "db", &[("url", "postgres://b")]),
    );
    cluster.wait_rolled("shop", "api", 2).await;
    let d = cluster.deployment("shop", "api").await;
    assert!(env_value(&d, "STAKATER_DB_SECRET").is_some());
    assert!(
        d.metadata
            .annotations
            .unwrap_or_default()
            .contains_key(LAST_RELOAD_AT)
    );

    let configs: Api<ReloaderConfig> = Api::namespaced(cluster.client.clone(), "shop");
    eventually("ReloaderConfig status after the reload", || async {
        let rc = configs.get("api-reload").await.expect("rc");
        rc.status.is_some_and(|s| {
            s.reload_count == 1
                && s.last_reload_time.is_some()
                && s.watched_resource_hashes.contains_key("shop/Secret/db")
                && s.observed_generation.is_some()
                && s.conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
        })
    })
    .await;
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), "shop");
    let events_v1: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(cluster.client.clone(), "shop");
    eventually("a Reloaded event on the deployment", || async {
        let core = events.list(&ListParams::default()).await.map(|l| {
            l.items.iter().any(|e| {
                e.reason.as_deref() == Some("Reloaded")
                    && e.involved_object.name.as_deref() == Some("api")
            })
        });
        let v1 = events_v1.list(&ListParams::default()).await.map(|l| {
            l.items.iter().any(|e| {
                e.reason.as_deref() == Some("Reloaded")
                    && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("api")
            })
        });
        core.unwrap_or(false) || v1.unwrap_or(false)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotation_based_reload_with_a_secret_volume() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&namespace("shop"));
    cluster.kubectl(&[
        "create",
        "secret",
        "generic",
        "tls-files",
        "-n",
        "shop",
        "--from-literal=cert=a",
    ]);
    cluster.apply(
        &deployment("shop", "proxy")
            .annotation("secret.reloader.stakater.com/reload", "tls-files")
            .secret_volume("tls", "tls-files")
            .yaml(),
    );
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.kubectl_stdin(
        &["apply", "-f", "-"],
        &secret("shop", "tls-files", &[("cert", "b")]),
    );
    cluster.wait_rolled("shop", "proxy", 2).await;
    let d = cluster.deployment("shop", "proxy").await;
    assert!(env_value(&d, "STAKATER_TLS_FILES_SECRET").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_and_reloaderconfig_with_the_annotations_strategy() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&namespace("shop"));
    cluster.kubectl(&[
        "create",
        "configmap",
        "settings",
        "-n",
        "shop",
        "--from-literal=mode=a",
    ]);
    cluster.apply(
        &deployment("shop", "worker")
            .env_from_configmap("settings")
            .yaml(),
    );
    cluster.apply(
        &reloader_config("shop", "worker-reload")
            .configmaps(&["settings"])
            .target("Deployment", "worker")
            .strategy("annotations")
            .yaml(),
    );
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.kubectl(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "shop",
        "-p",
        r#"{"data":{"mode":"b"}}"#,
    ]);
    cluster.wait_rolled("shop", "worker", 2).await;
    let d = cluster.deployment("shop", "worker").await;
    let hashes =
        template_annotation(&d, reloader_core::keys::SOURCE_HASHES).expect("hash annotation");
    assert!(hashes.contains("ConfigMap/settings"), "{hashes}");
    assert!(template_annotation(&d, reloader_core::keys::LAST_RELOADED_FROM).is_some());
    assert_eq!(
        env_value(&d, "STAKATER_SETTINGS_CONFIGMAP"),
        None,
        "annotations strategy adds no env var"
    );
}

/// The pause of the pause-period scenario, long beside what a kubectl call takes.
const PAUSE_SECS: i64 = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_period_two_quick_changes_roll_now_and_at_the_window_end() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&namespace("shop"));
    cluster.kubectl(&[
        "create",
        "configmap",
        "flags",
        "-n",
        "shop",
        "--from-literal=v=0",
    ]);
    cluster.apply(
        &deployment("shop", "front")
            .annotation("configmap.reloader.stakater.com/reload", "flags")
            .annotation(
                "deployment.reloader.stakater.com/pause-period",
                &format!("{PAUSE_SECS}s"),
            )
            .yaml(),
    );
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.kubectl(&[
        "patch",
        "configmap",
        "flags",
        "-n",
        "shop",
        "-p",
        r#"{"data":{"v":"1"}}"#,
    ]);
    cluster.wait_rolled("shop", "front", 2).await;
    let recorded = cluster
        .deployment("shop", "front")
        .await
        .metadata
        .annotations
        .unwrap_or_default();
    let first: k8s_openapi::jiff::Timestamp = recorded[LAST_RELOAD_AT]
        .parse()
        .expect("reload time recorded");
    cluster.kubectl(&[
        "patch",
        "configmap",
        "flags",
        "-n",
        "shop",
        "-p",
        r#"{"data":{"v":"2"}}"#,
    ]);
    // Inside the pause: held back until its end, not dropped. The pause (12 s) runs from
    // the recorded time of the first reload (rounded up to the second); its length leaves
    // kubectl all the time it may need, and the checks below read recorded times, not
    // the clock of this test.
    let pause = k8s_openapi::jiff::SignedDuration::from_secs(PAUSE_SECS);
    let pause_end = first + pause;
    let left = k8s_openapi::jiff::Timestamp::now().duration_until(pause_end);
    assert!(
        left > k8s_openapi::jiff::SignedDuration::from_secs(2),
        "the second change came {left:?} before the pause end: too late to test the pause"
    );
    let quiet = Duration::try_from(left - k8s_openapi::jiff::SignedDuration::from_secs(1))
        .expect("positive");
    cluster.stays_rolled("shop", "front", 2, quiet).await;
    cluster.wait_rolled("shop", "front", 3).await;
    let second: k8s_openapi::jiff::Timestamp = cluster
        .deployment("shop", "front")
        .await
        .metadata
        .annotations
        .unwrap_or_default()[LAST_RELOAD_AT]
        .parse()
        .expect("second reload time recorded");
    assert!(
        second.duration_since(first) >= pause,
        "the second rollout waited for the pause: {first} then {second}"
    );
    let d = cluster.deployment("shop", "front").await;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(cluster.client.clone(), "shop");
    let latest = reloader_core::hash::hash_configmap(&cms.get("flags").await.expect("cm"));
    assert_eq!(
        env_value(&d, "STAKATER_FLAGS_CONFIGMAP"),
        Some(latest.to_string()),
        "the final template has the latest hash"
    );
    assert!(spec_paused(&d).is_none(), "spec.paused is never set");
}

fn spec_paused(d: &k8s_openapi::api::apps::v1::Deployment) -> Option<bool> {
    d.spec.as_ref().and_then(|s| s.paused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaderconfig_counts_every_target_reloaded_together() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&namespace("shop"));
    cluster.kubectl(&[
        "create",
        "configmap",
        "common",
        "-n",
        "shop",
        "--from-literal=v=1",
    ]);
    for name in ["one", "two", "three"] {
        cluster.apply(&deployment("shop", name).yaml());
    }
    cluster.apply(
        &reloader_config("shop", "fleet")
            .configmaps(&["common"])
            .target("Deployment", "one")
            .target("Deployment", "two")
            .target("Deployment", "three")
            .yaml(),
    );
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.kubectl(&[
        "patch",
        "configmap",
        "common",
        "-n",
        "shop",
        "-p",
        r#"{"data":{"v":"2"}}"#,
    ]);
    for name in ["one", "two", "three"] {
        cluster.wait_rolled("shop", name, 2).await;
    }
    let configs: Api<ReloaderConfig> = Api::namespaced(cluster.client.clone(), "shop");
    eventually("three reloads counted", || async {
        let rc = configs.get("fleet").await.expect("rc");
        rc.status
            .is_some_and(|s| s.reload_count == 3 && s.targets.len() == 3 && s.target_count == 3)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaderconfig_naming_a_missing_target_says_so() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&namespace("shop"));
    cluster.apply(
        &reloader_config("shop", "typo")
            .configmaps(&["common"])
            .target("Deployment", "does-not-exist")
            .yaml(),
    );
    let _reloader = cluster.start_reloader(&[]);
    let configs: Api<ReloaderConfig> = Api::namespaced(cluster.client.clone(), "shop");
    eventually("a TargetNotFound condition", || async {
        let rc = configs.get("typo").await.expect("rc");
        rc.status.is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "False" && c.reason == "TargetNotFound")
        })
    })
    .await;
}
