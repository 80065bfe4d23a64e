//! Argo Rollouts and OpenShift DeploymentConfigs: watched and rolled where their APIs are
//! served (here: CRDs standing in for them), and no trouble where they are not.

use std::time::Duration;

use kube::Api;
use kube::api::DynamicObject;
use reloader::reload::cache::api_resource;
use reloader_core::keys::ROLLOUT_STRATEGY;
use reloader_core::workload::WorkloadKind;
use serde_json::Value;

use crate::cluster_harness::fixtures::{
    AUTO, deployment, documents, namespace, reloader_config, secret,
};
use crate::cluster_harness::{Cluster, eventually, http_status};

pub(crate) const CRDS: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: rollouts.argoproj.io}
spec:
  group: argoproj.io
  scope: Namespaced
  names: {kind: Rollout, listKind: RolloutList, plural: rollouts, singular: rollout, shortNames: [ro]}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: deploymentconfigs.apps.openshift.io}
spec:
  group: apps.openshift.io
  scope: Namespaced
  names: {kind: DeploymentConfig, listKind: DeploymentConfigList, plural: deploymentconfigs, singular: deploymentconfig, shortNames: [dc]}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

/// The namespace, the Secret `creds`, and a Deployment `plain` that follows it.
fn sources() -> String {
    documents(&[
        namespace("o"),
        secret("o", "creds", &[("password", "1")]),
        deployment("o", "plain")
            .annotation(AUTO, "true")
            .image("app")
            .env_from_secret("creds")
            .yaml(),
    ])
}

/// Rollouts (templated, restarted, or by workloadRef) and a DeploymentConfig, following
/// `creds` by annotations.
const WORKLOADS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: canary, namespace: o, annotations: {reloader.stakater.com/auto: "true"}}
spec:
  selector: {matchLabels: {app: canary}}
  strategy: {canary: {steps: [{setWeight: 20}]}}
  template:
    metadata: {labels: {app: canary}}
    spec:
      containers: [{name: app, image: app, envFrom: [{secretRef: {name: creds}}]}]
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: restarted
  namespace: o
  annotations: {reloader.stakater.com/auto: "true", reloader.stakater.com/rollout-strategy: restart}
spec:
  selector: {matchLabels: {app: restarted}}
  template:
    metadata: {labels: {app: restarted}}
    spec:
      containers: [{name: app, image: app, envFrom: [{secretRef: {name: creds}}]}]
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: referenced, namespace: o, annotations: {secret.reloader.stakater.com/reload: creds}}
spec:
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: plain}
---
apiVersion: apps.openshift.io/v1
kind: DeploymentConfig
metadata: {name: legacy, namespace: o, annotations: {reloader.stakater.com/auto: "true"}}
spec:
  replicas: 1
  selector: {app: legacy}
  triggers: [{type: ConfigChange}]
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: app, image: app, envFrom: [{secretRef: {name: creds}}]}]
"#;

/// A Rollout and a DeploymentConfig with no annotations, for a ReloaderConfig to target.
const BY_CONFIG: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: by-config, namespace: o}
spec:
  template:
    spec:
      containers: [{name: app, image: app}]
---
apiVersion: apps.openshift.io/v1
kind: DeploymentConfig
metadata: {name: dc-by-config, namespace: o}
spec:
  template:
    spec:
      containers: [{name: app, image: app}]
"#;

const VAR: &str = "STAKATER_CREDS_SECRET";
/// Longer than a spurious second reload would take: coalescing window plus source wait.
const QUIET: Duration = Duration::from_secs(3);

fn api(cluster: &Cluster, kind: WorkloadKind) -> Api<DynamicObject> {
    Api::namespaced_with(cluster.client.clone(), "o", &api_resource(kind))
}

async fn object(cluster: &Cluster, kind: WorkloadKind, name: &str) -> Value {
    let obj = api(cluster, kind).get(name).await.expect("object exists");
    serde_json::to_value(obj).expect("json")
}

fn generation(object: &Value) -> i64 {
    object["metadata"]["generation"].as_i64().unwrap_or(0)
}

fn template_env(object: &Value, var: &str) -> Option<String> {
    object["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == var)
        .and_then(|e| e["value"].as_str().map(str::to_owned))
}

fn change_secret(cluster: &Cluster, value: &str) {
    cluster.kubectl(&[
        "patch",
        "secret",
        "creds",
        "-n",
        "o",
        "-p",
        &format!(r#"{{"stringData":{{"password":"{value}"}}}}"#),
    ]);
}

async fn plain_rolled(cluster: &Cluster) {
    eventually("the Deployment to roll", || async {
        crate::cluster_harness::env_value(&cluster.deployment("o", "plain").await, VAR).is_some()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollouts_and_deploymentconfigs_roll_exactly_once() {
    let mut cluster = Cluster::start().await;
    cluster.apply(CRDS);
    cluster.apply(&sources());
    cluster.apply(WORKLOADS);
    let reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    change_secret(&cluster, "2");

    for (kind, name) in [
        (WorkloadKind::Rollout, "canary"),
        (WorkloadKind::DeploymentConfig, "legacy"),
    ] {
        eventually(
            &format!("the {kind} template to record the hash"),
            || async { template_env(&object(&cluster, kind, name).await, VAR).is_some() },
        )
        .await;
    }
    eventually("the restarting Rollout to get restartAt", || async {
        object(&cluster, WorkloadKind::Rollout, "restarted").await["spec"]["restartAt"].is_string()
    })
    .await;
    plain_rolled(&cluster).await;
    tokio::time::sleep(QUIET).await;

    let canary = object(&cluster, WorkloadKind::Rollout, "canary").await;
    assert_eq!(generation(&canary), 2, "one template change");
    let legacy = object(&cluster, WorkloadKind::DeploymentConfig, "legacy").await;
    assert_eq!(generation(&legacy), 2, "one ConfigChange rollout");
    let restarted = object(&cluster, WorkloadKind::Rollout, "restarted").await;
    assert_eq!(generation(&restarted), 2, "one restart");
    assert_eq!(
        restarted["spec"]["template"]["spec"]["containers"][0].get("env"),
        None,
        "a restart leaves the template alone"
    );
    assert_eq!(
        restarted["metadata"]["annotations"][ROLLOUT_STRATEGY],
        "restart"
    );
    assert!(
        restarted["metadata"]["annotations"][reloader_core::keys::SOURCE_HASHES]
            .as_str()
            .is_some_and(|h| h.contains("Secret/creds")),
        "the restart is recorded on the Rollout"
    );
    for (resource, name) in [
        ("rollouts", "canary"),
        ("rollouts", "restarted"),
        ("deploymentconfigs", "legacy"),
    ] {
        assert_eq!(
            cluster.patches(resource, name).await,
            1,
            "{name}: one patch"
        );
    }
    let referenced = object(&cluster, WorkloadKind::Rollout, "referenced").await;
    assert_eq!(
        generation(&referenced),
        1,
        "a workloadRef Rollout is skipped"
    );
    assert_eq!(cluster.patches("rollouts", "referenced").await, 0);

    // The next change restarts once more, with a new restartAt record.
    change_secret(&cluster, "3");
    eventually("the second restart", || async {
        generation(&object(&cluster, WorkloadKind::Rollout, "restarted").await) == 3
    })
    .await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        generation(&object(&cluster, WorkloadKind::Rollout, "restarted").await),
        3
    );
    let log = reloader.log_text();
    assert_eq!(log.matches("API served; watching").count(), 2, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_apis_reloader_starts_and_keeps_serving() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&sources());
    // Asked for explicitly, yet absent: a warning, not a failure.
    let reloader = cluster.start_reloader(&["--is-argo-rollouts=true"]);
    cluster.register_webhook();
    change_secret(&cluster, "2");
    plain_rolled(&cluster).await;
    assert_eq!(
        http_status(reloader.metrics_port, "/readyz"),
        Some(200),
        "still ready"
    );
    let log = reloader.log_text();
    assert_eq!(
        log.matches("API not served").count(),
        2,
        "told once per kind:\n{log}"
    );
    assert!(log.contains("although asked for"), "{log}");
    assert!(
        !log.contains("watch failed"),
        "no watch of a missing API:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollouts_are_left_alone_when_turned_off() {
    let mut cluster = Cluster::start().await;
    cluster.apply(CRDS);
    cluster.apply(&sources());
    cluster.apply(WORKLOADS);
    let reloader = cluster.start_reloader(&["--is-argo-rollouts=false"]);
    cluster.register_webhook();
    change_secret(&cluster, "2");
    plain_rolled(&cluster).await;
    eventually(
        "the DeploymentConfig, still auto-detected, to roll",
        || async {
            template_env(
                &object(&cluster, WorkloadKind::DeploymentConfig, "legacy").await,
                VAR,
            )
            .is_some()
        },
    )
    .await;
    tokio::time::sleep(QUIET).await;
    for name in ["canary", "restarted"] {
        let rollout = object(&cluster, WorkloadKind::Rollout, name).await;
        assert_eq!(generation(&rollout), 1, "{name} untouched");
    }
    assert!(
        !reloader.log_text().contains("kind=Rollout"),
        "Rollouts are not even looked up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaderconfig_rolls_its_rollout_and_deploymentconfig_targets() {
    use k8s_openapi::api::events::v1::Event as EventV1;
    use kube::api::ListParams;
    use reloader_core::crd::ReloaderConfig;

    let mut cluster = Cluster::start().await;
    cluster.apply(CRDS);
    cluster.apply(&sources());
    cluster.apply(&documents(&[
        BY_CONFIG.to_string(),
        reloader_config("o", "both")
            .secrets(&["creds"])
            .strategy("annotations")
            .target("Rollout", "by-config")
            .target("DeploymentConfig", "dc-by-config")
            .yaml(),
    ]));
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    let configs: Api<ReloaderConfig> = Api::namespaced(cluster.client.clone(), "o");
    eventually("Ready before any reload: both targets exist", || async {
        configs
            .get("both")
            .await
            .expect("rc")
            .status
            .is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
            })
    })
    .await;
    change_secret(&cluster, "2");
    eventually("two reloads counted on the ReloaderConfig", || async {
        configs
            .get("both")
            .await
            .expect("rc")
            .status
            .is_some_and(|s| s.reload_count == 2)
    })
    .await;
    for (kind, name) in [
        (WorkloadKind::Rollout, "by-config"),
        (WorkloadKind::DeploymentConfig, "dc-by-config"),
    ] {
        let obj = object(&cluster, kind, name).await;
        assert_eq!(generation(&obj), 2, "{name}");
        assert!(
            obj["spec"]["template"]["metadata"]["annotations"][reloader_core::keys::SOURCE_HASHES]
                .as_str()
                .is_some_and(|h| h.contains("Secret/creds")),
            "{name}: annotations strategy on the template"
        );
    }
    let events: Api<EventV1> = Api::namespaced(cluster.client.clone(), "o");
    let core: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(cluster.client.clone(), "o");
    eventually("a Reloaded event naming the Rollout", || async {
        let v1 = events.list(&ListParams::default()).await.is_ok_and(|l| {
            l.items.iter().any(|e| {
                e.reason.as_deref() == Some("Reloaded")
                    && e.regarding
                        .as_ref()
                        .is_some_and(|r| r.kind.as_deref() == Some("Rollout"))
            })
        });
        let old = core.list(&ListParams::default()).await.is_ok_and(|l| {
            l.items.iter().any(|e| {
                e.reason.as_deref() == Some("Reloaded")
                    && e.involved_object.kind.as_deref() == Some("Rollout")
            })
        });
        v1 || old
    })
    .await;
}
