//! `--enable-csi-integration`, on the real control plane (CRDs of our own standing in for
//! the Secrets Store CSI driver's): when the driver writes new versions into a pod's
//! SecretProviderClassPodStatus, the followers of its SecretProviderClass roll once; the
//! other pods' statuses catching up, a new pod's first mount and writes that change no
//! version roll nothing; stakater's records are adopted; without the flag nothing follows a
//! class, and without the CRDs reloader says so and runs.

use std::time::Duration;

use reloader_core::csi::MountedVersions;
use serde_json::{Value, json};

use crate::cluster_harness::fixtures::{
    AUTO, Deployment, deployment, documents, namespace, secret,
};
use crate::cluster_harness::{Cluster, env_value, eventually};

/// A CRD standing in for one of the driver's kinds, accepting any content.
fn crd(kind: &str, plural: &str) -> String {
    let group = "secrets-store.csi.x-k8s.io";
    serde_json::to_string(&json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "listKind": format!("{kind}List"), "plural": plural,
                      "singular": kind.to_lowercase()},
            "versions": [{"name": "v1", "served": true, "storage": true,
                          "schema": {"openAPIV3Schema": {"type": "object",
                              "x-kubernetes-preserve-unknown-fields": true}}}],
        },
    }))
    .unwrap()
}

fn crds() -> String {
    documents(&[
        crd("SecretProviderClass", "secretproviderclasses"),
        crd(
            "SecretProviderClassPodStatus",
            "secretproviderclasspodstatuses",
        ),
    ])
}

const CLASS: &str = "vault-db";
const VAR: &str = "STAKATER_VAULT_DB_SECRETPROVIDERCLASS";
const RELOAD: &str = "secretproviderclass.reloader.stakater.com/reload";
const EXCLUDE: &str = "secretproviderclasses.exclude.reloader.stakater.com/reload";
/// Longer than several resync periods of the reloaders below.
const HOLD: Duration = Duration::from_secs(3);

fn mounting(name: &str) -> Deployment {
    deployment("shop", name).csi_volume("secrets", CLASS)
}

/// The driver's status for pod `pod`, with the version of `secret/db` it mounted.
fn status(pod: &str, version: &str) -> Value {
    json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClassPodStatus",
        "metadata": {"name": format!("{pod}-shop-{CLASS}"), "namespace": "shop",
                     "labels": {"internal.secrets-store.csi.k8s.io/node-name": "node-1"}},
        "status": {"podName": pod, "secretProviderClassName": CLASS, "mounted": true,
                   "targetPath": format!("/var/lib/kubelet/pods/{pod}/volumes/secrets"),
                   "objects": [{"id": "secret/db", "version": version}]}
    })
}

fn write_status(cluster: &Cluster, pod: &str, version: &str) {
    cluster.apply(&serde_json::to_string(&status(pod, version)).unwrap());
}

fn stakater_of(version: &str) -> String {
    MountedVersions::from_object(&status("any", version))
        .unwrap()
        .stakater()
        .to_string()
}

fn workloads() -> String {
    documents(&[
        namespace("shop"),
        serde_json::to_string(&json!({
            "apiVersion": "secrets-store.csi.x-k8s.io/v1",
            "kind": "SecretProviderClass",
            "metadata": {"name": CLASS, "namespace": "shop"},
            "spec": {"provider": "vault", "parameters": {"objects": "db"}}
        }))
        .unwrap(),
        mounting("named").annotation(RELOAD, CLASS).yaml(),
        mounting("auto").annotation(AUTO, "true").yaml(),
        mounting("unannotated").yaml(),
        mounting("excluded")
            .annotation(AUTO, "true")
            .annotation(EXCLUDE, CLASS)
            .yaml(),
        mounting("adopted")
            .annotation(AUTO, "true")
            .env(VAR, &stakater_of("2"))
            .yaml(),
    ])
}

async fn var_of(cluster: &Cluster, name: &str) -> Option<String> {
    env_value(&cluster.deployment("shop", name).await, VAR)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_rolls_the_classs_followers_once() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&crds());
    cluster.apply(&workloads());
    write_status(&cluster, "web-1", "1");
    write_status(&cluster, "web-2", "1");
    let all = ["named", "auto", "unannotated", "excluded", "adopted"];
    for name in all {
        cluster.wait_rolled("shop", name, 1).await;
    }

    // Without the flag, nothing follows a class.
    let mut off = cluster.start_reloader(&["--resync-period=500ms"]);
    write_status(&cluster, "web-1", "2");
    write_status(&cluster, "web-2", "2");
    for name in all {
        cluster.stays_rolled("shop", name, 1, HOLD / 3).await;
    }
    off.stop_cleanly();

    // With it: the start rolls nothing (no record to repair, and `adopted` holds
    // stakater's record of the versions mounted now).
    let reloader = cluster.start_reloader(&["--enable-csi-integration", "--resync-period=500ms"]);
    tokio::time::sleep(HOLD).await;
    for name in all {
        cluster.stays_rolled("shop", name, 1, Duration::ZERO).await;
    }
    assert_eq!(var_of(&cluster, "adopted").await, Some(stakater_of("2")));

    // One pod's driver mounts version 3: every follower rolls once.
    write_status(&cluster, "web-1", "3");
    for name in ["named", "auto", "adopted"] {
        cluster.wait_rolled("shop", name, 2).await;
    }
    assert!(
        var_of(&cluster, "named").await.is_some(),
        "the record is written"
    );
    assert_eq!(
        var_of(&cluster, "adopted").await,
        Some(stakater_of("3")),
        "stakater's record stays in stakater's format"
    );
    // The other pod catching up, a new pod's first mount and a write of other fields
    // change nothing more.
    write_status(&cluster, "web-2", "3");
    write_status(&cluster, "web-3", "3");
    let mut relabelled = status("web-1", "3");
    relabelled["metadata"]["labels"]["extra"] = json!("x");
    cluster.apply(&serde_json::to_string(&relabelled).unwrap());
    for name in ["named", "auto", "adopted"] {
        cluster.stays_rolled("shop", name, 2, HOLD / 3).await;
    }
    for name in ["unannotated", "excluded"] {
        cluster.stays_rolled("shop", name, 1, Duration::ZERO).await;
    }
    let log = reloader.log_text();
    assert!(
        log.contains("watching SecretProviderClassPodStatuses"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_drivers_crds_reloader_says_so_and_runs() {
    let mut cluster = Cluster::start().await;
    let reloader = cluster.start_reloader(&["--enable-csi-integration"]);
    eventually("the warning", || async {
        reloader
            .log_text()
            .contains("SecretProviderClassPodStatus is not served")
    })
    .await;
    // Secrets still reload.
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        deployment("shop", "web")
            .annotation(AUTO, "true")
            .env_from_secret("creds")
            .yaml(),
    ]));
    cluster.wait_rolled("shop", "web", 1).await;
    cluster.register_webhook();
    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    cluster.wait_rolled("shop", "web", 2).await;
}
