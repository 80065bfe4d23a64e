//! A ReloaderConfig naming what does not exist is admitted, and kubectl prints a warning
//! for each missing target and watched source; what exists gets none. The engine answers
//! the webhook from its workload caches and a metadata read of each source.

use crate::cluster_harness::fixtures::reloader_config;
use crate::cluster_harness::{Cluster, SHOP, eventually};

/// A ReloaderConfig in `shop` targeting the shop's Deployment and a StatefulSet it does not
/// have, watching the shop's Secret and a ConfigMap it does not have.
fn shop_config(name: &str) -> String {
    reloader_config("shop", name)
        .secrets(&["app-creds"])
        .configmaps(&["app-config"])
        .target("Deployment", "web")
        .target("StatefulSet", "db")
        .yaml()
}

const WEB: &str = "Warning: spec.targets[0]: Deployment shop/web does not exist yet; it will be rolled once it does";
const DB: &str = "Warning: spec.targets[1]: StatefulSet shop/db does not exist yet; it will be rolled once it does";
const CREDS: &str =
    "Warning: spec.watchedResources.secrets[0]: Secret shop/app-creds does not exist yet";
const CONFIG: &str =
    "Warning: spec.watchedResources.configMaps[0]: ConfigMap shop/app-config does not exist yet";

/// kubectl's stderr for creating `object` (`dry_run`: judged, not stored).
fn create(cluster: &Cluster, object: &str, dry_run: bool) -> String {
    let mut args = vec!["create", "-f", "-"];
    if dry_run {
        args.push("--dry-run=server");
    }
    let out = cluster.kubectl_raw(&args, Some(object));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "a valid ReloaderConfig is admitted: {stderr}"
    );
    stderr
}

fn warned(stderr: &str) -> Vec<&'static str> {
    [WEB, DB, CREDS, CONFIG]
        .into_iter()
        .filter(|w| stderr.contains(w))
        .collect()
}

async fn missing_objects_are_warned_about(mut cluster: Cluster) {
    cluster.kubectl(&["create", "namespace", "shop"]);
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();

    // Until the workload caches have listed, nothing is known and nothing is warned.
    eventually("the caches know the shop has no Deployment web", || async {
        warned(&create(&cluster, &shop_config("probe"), true)).contains(&WEB)
    })
    .await;
    let stderr = create(&cluster, &shop_config("rc"), false);
    assert_eq!(warned(&stderr), [WEB, DB, CREDS, CONFIG], "{stderr}");

    // Once the Deployment and the Secret exist, only the other two are warned about.
    cluster.apply(&SHOP);
    eventually("the caches hold the new Deployment", || async {
        !warned(&create(&cluster, &shop_config("probe"), true)).contains(&WEB)
    })
    .await;
    let stderr = create(&cluster, &shop_config("rc2"), false);
    assert_eq!(warned(&stderr), [DB, CONFIG], "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_targets_and_sources_are_warned_about_on_the_real_control_plane() {
    missing_objects_are_warned_about(Cluster::start_real().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_targets_and_sources_are_warned_about_on_the_simulator() {
    missing_objects_are_warned_about(Cluster::start_sim().await).await;
}
