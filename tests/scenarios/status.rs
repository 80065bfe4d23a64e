//! A ReloaderConfig's status before any reload: written when it is seen, and kept current
//! as its targets come and go.

use kube::Api;
use reloader_core::crd::{ReloaderConfig, ReloaderConfigStatus};

use crate::cluster_harness::fixtures::{deployment, namespace, reloader_config};
use crate::cluster_harness::{Cluster, eventually};

/// A Deployment in `st` reading the ConfigMap `cfg`.
fn reader(name: &str) -> String {
    deployment("st", name).env_from_configmap("cfg").yaml()
}

fn ready(status: &ReloaderConfigStatus) -> Option<(&str, &str, &str)> {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status.as_str(), c.reason.as_str(), c.message.as_str()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_reloaderconfig_gets_its_status_and_becomes_ready_when_its_target_appears() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&namespace("st"));
    cluster.apply(&reader("web"));
    // Resync only at start, before the ReloaderConfig exists: the status below is not its doing.
    let _reloader = cluster.start_reloader(&["--resync-period", "0"]);
    cluster.register_webhook();
    cluster.apply(
        &reloader_config("st", "pair")
            .configmaps(&["cfg"])
            .target("Deployment", "web")
            .target("Deployment", "api")
            .yaml(),
    );
    let configs: Api<ReloaderConfig> = Api::namespaced(cluster.client.clone(), "st");
    eventually(
        "observedGeneration, targetCount 2 and Ready False naming api",
        || async {
            let rc = configs.get("pair").await.expect("rc");
            let generation = rc.metadata.generation;
            rc.status.is_some_and(|s| {
                s.observed_generation == generation
                    && s.target_count == 2
                    && s.reload_count == 0
                    && ready(&s).is_some_and(|(status, reason, message)| {
                        status == "False"
                            && reason == "TargetNotFound"
                            && message.contains("api")
                            && !message.contains("web")
                    })
            })
        },
    )
    .await;

    cluster.apply(&reader("api"));
    eventually("Ready True once api exists", || async {
        let rc = configs.get("pair").await.expect("rc");
        rc.status.is_some_and(|s| {
            s.target_count == 2 && ready(&s).is_some_and(|(status, _, _)| status == "True")
        })
    })
    .await;
}
