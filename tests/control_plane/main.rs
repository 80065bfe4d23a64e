//! reloader as users install and use it, on the real control plane (kube-apiserver, etcd,
//! kube-controller-manager): the Helm chart installed by `helm install`, the plain manifests
//! of `reloader webhook-config` applied by kubectl, each run as its own ServiceAccount under
//! the real RBAC authorizer; and the ReloaderConfig CRD as the real API server (structural
//! schema, CEL) and reloader's webhook judge it. Every test starts its own control plane.

#[path = "../cluster_harness/mod.rs"]
mod cluster_harness;

mod chart;
mod crd;
mod make_targets;
mod manifests;
mod rbac;
mod readme_install;
mod release;
mod stakater_values;

use std::time::Duration;

use cluster_harness::fixtures::secret;
use cluster_harness::install::service_account_user;
use cluster_harness::{Cluster, Reloader, env_value};

pub use cluster_harness::SHOP;

/// What the installation's ServiceAccount may and may not do with Secrets (and what it
/// needs for the rest), as the ClusterRole intends: `get` only, never `list` or `watch`.
pub const PERMISSIONS: &[(&str, &str, &str)] = &[
    ("get", "secrets", "yes"),
    ("list", "secrets", "no"),
    ("watch", "secrets", "no"),
    ("create", "secrets", "no"),
    ("update", "secrets", "no"),
    ("get", "configmaps", "yes"),
    ("list", "configmaps", "no"),
    ("watch", "configmaps", "no"),
    ("patch", "deployments.apps", "yes"),
    ("update", "deployments.apps", "no"),
    ("delete", "deployments.apps", "no"),
    ("watch", "reloaderconfigs.reloader.stakater.com", "yes"),
    ("update", "reloaderconfigs.reloader.stakater.com", "no"),
    (
        "patch",
        "reloaderconfigs.reloader.stakater.com/status",
        "yes",
    ),
];

/// Each webhook configuration reloader installs, and the paths of its webhooks in order.
const WEBHOOKS: &[(&str, &[&str])] = &[
    (
        "validatingwebhookconfiguration",
        &["/validate/sources", "/validate/reloaderconfigs"],
    ),
    ("mutatingwebhookconfiguration", &["/mutate/workloads"]),
];

/// Every webhook of the configurations named `name` calls `base` plus its path, and none
/// calls a Service: how a reloader outside the cluster is reached.
pub fn every_webhook_calls(cluster: &Cluster, name: &str, base: &str) {
    for &(kind, paths) in WEBHOOKS {
        let jsonpath = |field: &str| {
            cluster.kubectl(&[
                "get",
                kind,
                name,
                "-o",
                &format!("jsonpath={{.webhooks[*].clientConfig.{field}}}"),
            ])
        };
        let want: Vec<String> = paths.iter().map(|p| format!("{base}{p}")).collect();
        assert_eq!(
            jsonpath("url").split_whitespace().collect::<Vec<_>>(),
            want,
            "{kind}"
        );
        assert_eq!(jsonpath("service"), "", "{kind} calls no Service");
    }
}

/// The installed `reloader` Deployment of `namespace` run here instead of in a pod: the
/// webhook configurations named `reloader` are pointed at the local binary (URL and the
/// harness's caBundle, where a cluster uses the Service and the installation's CA), and
/// the binary runs as the installed ServiceAccount with the Deployment's flags.
pub fn stand_in_for_the_pod(cluster: &mut Cluster, namespace: &str) -> Reloader {
    let url = format!("https://127.0.0.1:{}", cluster.webhook_port);
    for &(kind, paths) in WEBHOOKS {
        let ops: Vec<serde_json::Value> = paths
            .iter()
            .enumerate()
            .map(|(i, path)| {
                serde_json::json!({
                    "op": "replace",
                    "path": format!("/webhooks/{i}/clientConfig"),
                    "value": {"url": format!("{url}{path}"), "caBundle": cluster.ca_bundle()},
                })
            })
            .collect();
        let patch = serde_json::Value::Array(ops).to_string();
        cluster.kubectl(&["patch", kind, "reloader", "--type=json", "-p", &patch]);
    }
    every_webhook_calls(cluster, "reloader", &url);
    let kubeconfig = cluster.service_account_kubeconfig(namespace, "reloader");
    cluster.start_installed_reloader(namespace, "reloader", &kubeconfig)
}

/// A Secret change, with reloader running as `namespace/service_account`, rolls the
/// Deployment once: generation 2, and on the deployment controller's side a second
/// ReplicaSet and revision 2. reloader's own requests were all authorized.
pub async fn a_secret_change_rolls_the_deployment(
    cluster: &Cluster,
    reloader: &Reloader,
    namespace: &str,
    service_account: &str,
) {
    cluster.wait_rollouts("shop", "web", 1).await;
    assert_eq!(cluster.generation("shop", "web").await, 1);

    cluster.apply(&secret(
        "shop",
        "app-creds",
        &[("password", "canary-7d1e9b")],
    ));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.wait_rollouts("shop", "web", 2).await;
    let d = cluster.deployment("shop", "web").await;
    let hash = env_value(&d, "STAKATER_APP_CREDS_SECRET").expect("hash recorded");
    let parsed: reloader_core::hash::SourceHash = hash.parse().expect("a source hash");
    assert!(
        parsed.key().is_some(),
        "installed with a hash key: HMAC-SHA256 under its id, got {hash}"
    );
    cluster
        .stays_rolled("shop", "web", 2, Duration::from_millis(1500))
        .await;
    cluster.assert_rollouts("shop", "web", 2).await;

    let user = service_account_user(namespace, service_account);
    let cluster_harness::Backend::Real(plane) = &cluster.backend else {
        panic!("the real control plane")
    };
    let audit = plane.audit();
    let patched_by: Vec<&str> = audit
        .iter()
        .filter(|r| r.verb == "patch" && r.resource == "deployments" && r.subresource.is_empty())
        .filter(|r| r.namespace == "shop" && r.name == "web")
        .filter(|r| r.code < 300)
        .map(|r| r.user.as_str())
        .collect();
    assert_eq!(
        patched_by,
        [user.as_str()],
        "one PATCH, by the ServiceAccount"
    );
    let refused: Vec<String> = audit
        .iter()
        .filter(|r| r.user == user && r.code == 403)
        .map(|r| format!("{} {}/{} {}", r.verb, r.resource, r.subresource, r.name))
        .collect();
    assert!(refused.is_empty(), "writes refused by RBAC: {refused:?}");
    let log = reloader.log_text();
    for refusal in ["forbidden", "code: 403", "\"code\":403"] {
        assert!(
            !log.to_lowercase().contains(refusal),
            "reloader was refused something ({refusal}):\n{log}"
        );
    }
    assert!(!log.contains("canary-7d1e9b"), "no Secret data in the log");
}

/// The leader Lease in the installation's namespace is held by the local reloader: the
/// Role allows leader election.
pub async fn the_local_reloader_holds_the_lease(cluster: &Cluster, namespace: &str) {
    cluster_harness::eventually("the leader Lease", || async {
        let out = cluster.kubectl_raw(
            &[
                "get",
                "lease",
                "reloader-leader",
                "-n",
                namespace,
                "-o",
                "jsonpath={.spec.holderIdentity}",
            ],
            None,
        );
        String::from_utf8_lossy(&out.stdout).starts_with("reloader-local-")
    })
    .await;
}

/// `kubectl auth can-i --as` the ServiceAccount answers [`PERMISSIONS`].
pub fn the_service_account_has_exactly_the_intended_permissions(
    cluster: &Cluster,
    namespace: &str,
    service_account: &str,
) {
    let user = service_account_user(namespace, service_account);
    let got: Vec<(&str, &str, String)> = PERMISSIONS
        .iter()
        .map(|(verb, resource, _)| {
            (
                *verb,
                *resource,
                cluster.can_i(&user, verb, resource, "shop"),
            )
        })
        .collect();
    let want: Vec<(&str, &str, String)> = PERMISSIONS
        .iter()
        .map(|(verb, resource, answer)| (*verb, *resource, answer.to_string()))
        .collect();
    assert_eq!(got, want, "kubectl auth can-i --as={user} -n shop");
    // Leader election: Leases in its own namespace only.
    assert_eq!(
        cluster.can_i(&user, "update", "leases.coordination.k8s.io", namespace),
        "yes"
    );
    assert_eq!(
        cluster.can_i(&user, "update", "leases.coordination.k8s.io", "shop"),
        "no"
    );
    // stakater's meta-info ConfigMap: created in its own namespace, replaced only by name.
    assert_eq!(
        cluster.can_i(&user, "create", "configmaps", namespace),
        "yes"
    );
    assert_eq!(cluster.can_i(&user, "create", "configmaps", "shop"), "no");
    for (name, want) in [("reloader-meta-info", "yes"), ("someone-elses", "no")] {
        assert_eq!(
            cluster.can_i_on(&user, "update", "configmaps", name, namespace),
            want,
            "update configmaps/{name}"
        );
    }
}

/// The installed reloader, running as its ServiceAccount, published stakater's meta-info
/// ConfigMap in its own namespace, naming its Deployment.
pub async fn the_meta_info_configmap_is_published(
    cluster: &Cluster,
    namespace: &str,
    deployment: &str,
) {
    let info = || {
        cluster.kubectl_raw(
            &[
                "get",
                "configmap",
                "reloader-meta-info",
                "-n",
                namespace,
                "-o",
                "jsonpath={.data.deploymentInfo}",
            ],
            None,
        )
    };
    crate::cluster_harness::eventually("the meta-info ConfigMap", || async {
        info().status.success()
    })
    .await;
    let text = String::from_utf8_lossy(&info().stdout).into_owned();
    let got: serde_json::Value = serde_json::from_str(&text).expect("deploymentInfo");
    assert_eq!(
        got,
        serde_json::json!({"name": deployment, "namespace": namespace})
    );
}
