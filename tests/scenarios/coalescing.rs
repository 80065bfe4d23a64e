//! The coalescing window, globally, per workload and per ReloaderConfig.

use std::time::Duration;

use crate::cluster_harness::fixtures::{
    AUTO, Deployment, configmap, deployment, documents, namespace, reloader_config, secret,
};
use crate::cluster_harness::{Cluster, env_value};

fn cfg() -> String {
    configmap("c", "cfg", &[("v", "1")])
}

/// A Deployment in `c` following the ConfigMap `cfg`.
fn follower(name: &str) -> Deployment {
    deployment("c", name)
        .annotation(AUTO, "true")
        .env_from_configmap("cfg")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_annotation_overrides_the_global_window() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[namespace("c"), cfg()]));
    cluster.apply(
        &follower("quick")
            .annotation("reloader.stakater.com/coalesce-window", "50ms")
            .yaml(),
    );
    cluster.apply(&follower("patient").yaml());
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
    cluster.wait_rolled("c", "quick", 2).await;
    cluster
        .stays_rolled("c", "patient", 1, Duration::from_millis(1000))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaderconfig_window_joins_changes_the_flag_window_would_split() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[
        namespace("c"),
        cfg(),
        secret("c", "creds", &[("token", "a")]),
        deployment("c", "web").yaml(),
        reloader_config("c", "web-reload")
            .configmaps(&["cfg"])
            .secrets(&["creds"])
            .target("Deployment", "web")
            .coalesce_window("8s")
            .yaml(),
    ]));
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
    // The second change comes long past the flag's window (200 ms) and well inside the
    // ReloaderConfig's (8 s, however slow kubectl is): the outcome, one rollout with both
    // changes, tells which window applied.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    cluster.kubectl(&[
        "patch",
        "secret",
        "creds",
        "-n",
        "c",
        "-p",
        r#"{"stringData":{"token":"b"}}"#,
    ]);
    cluster.wait_rolled("c", "web", 2).await;
    let d = cluster.deployment("c", "web").await;
    assert!(env_value(&d, "STAKATER_CFG_CONFIGMAP").is_some(), "{d:?}");
    assert!(env_value(&d, "STAKATER_CREDS_SECRET").is_some(), "{d:?}");
    cluster
        .stays_rolled("c", "web", 2, Duration::from_millis(1000))
        .await;
    assert_eq!(cluster.patches("deployments", "web").await, 1);
}
