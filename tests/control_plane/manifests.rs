//! The plain manifests installed for real: every file `reloader webhook-config` renders is
//! accepted by `kubectl apply` (kubectl's validation on, the server's strict field
//! validation), and the `reloader serve` binary, run here as the rendered ServiceAccount
//! with the rendered Deployment's flags, rolls a Deployment on a Secret change with no more
//! than the rendered RBAC.

use crate::cluster_harness::{Cluster, reloader_cmd};
use crate::{
    SHOP, a_secret_change_rolls_the_deployment, every_webhook_calls,
    the_local_reloader_holds_the_lease, the_meta_info_configmap_is_published,
    the_service_account_has_exactly_the_intended_permissions,
};

const NAMESPACE: &str = "ops";
/// The rendered ServiceAccount, Deployment and Service (`--service-name` default).
const NAME: &str = "reloader";

/// The files `reloader webhook-config --out-dir` writes, in the order a user applies them.
const FILES: [&str; 6] = [
    "crd.yaml",
    "rbac.yaml",
    "service.yaml",
    "deployment.yaml",
    "validating-webhook-configuration.yaml",
    "mutating-webhook-configuration.yaml",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rendered_manifests_apply_and_reloader_as_their_service_account_rolls_a_deployment() {
    let mut cluster = Cluster::start_real().await;
    let out = cluster.dir.path().join("manifests");
    let url = format!("https://127.0.0.1:{}", cluster.webhook_port);
    std::fs::create_dir_all(&out).expect("dir");
    reloader_cmd(&[
        "webhook-config",
        "--url",
        &url,
        "--ca-bundle",
        cluster.ca_bundle(),
        "--namespace",
        NAMESPACE,
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    let mut rendered: Vec<String> = std::fs::read_dir(&out)
        .expect("rendered")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    rendered.sort();
    let mut expected: Vec<String> = FILES.iter().map(|f| f.to_string()).collect();
    expected.sort();
    assert_eq!(rendered, expected, "the files webhook-config renders");

    // As docs/webhook.md installs them: the namespace and the serving Secret first.
    cluster.create_serving_secret(NAMESPACE);
    for file in FILES {
        let path = out.join(file);
        let applied = cluster.kubectl(&["apply", "-f", path.to_str().unwrap()]);
        assert!(
            applied
                .lines()
                .all(|l| [" created", " configured", " unchanged"]
                    .iter()
                    .any(|s| l.ends_with(s))),
            "{file}: {applied}"
        );
    }
    every_webhook_calls(&cluster, NAME, &url);

    cluster.apply(&SHOP);
    let kubeconfig = cluster.service_account_kubeconfig(NAMESPACE, NAME);
    let reloader = cluster.start_installed_reloader(NAMESPACE, NAME, &kubeconfig);

    a_secret_change_rolls_the_deployment(&cluster, &reloader, NAMESPACE, NAME).await;
    the_local_reloader_holds_the_lease(&cluster, NAMESPACE).await;
    the_service_account_has_exactly_the_intended_permissions(&cluster, NAMESPACE, NAME);
    the_meta_info_configmap_is_published(&cluster, NAMESPACE, NAME).await;
}
