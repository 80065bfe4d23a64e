//! A stakater/Reloader user's Helm values work with this chart: its default values file
//! (`tests/parity/stakater-v1.4.21-values.yaml`) renders and installs into kube-apiserver,
//! and the installed Deployment's arguments start `reloader serve` and roll a Deployment;
//! keys in stakater's places land where stakater puts them; and what the chart cannot
//! honour fails the render with the key named.

use std::process::Command;

use serde::Deserialize;
use serde_yaml::Value;

use crate::cluster_harness::Cluster;
use crate::cluster_harness::control_plane::repo_root;
use crate::cluster_harness::install::helm_binary;
use crate::{SHOP, a_secret_change_rolls_the_deployment};

const STAKATER_VALUES: &str = "tests/parity/stakater-v1.4.21-values.yaml";
/// What every render below adds: no cert-manager in these tests.
const OUR_TLS: [&str; 6] = [
    "--set",
    "certManager.enabled=false",
    "--set",
    "tls.secretName=reloader-tls",
    "--set",
    "tls.caBundle=Q0E=",
];

/// `helm template rel helm/reloader` with `args`: the documents, or Helm's error text.
fn render(args: &[&str]) -> Result<Vec<Value>, String> {
    let root = repo_root();
    let out = Command::new(helm_binary())
        .current_dir(&root)
        .args([
            "template",
            "rel",
            "helm/reloader",
            "--namespace",
            "platform",
        ])
        .args(OUR_TLS)
        .args(args)
        .output()
        .expect("helm runs");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).expect("YAML"))
        .filter(|d| !d.is_null())
        .collect())
}

fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} rendered"))
}

fn at<'a>(doc: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(doc, |v, key| match key.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[key],
        })
}

#[test]
fn keys_in_stakaters_places_land_where_stakater_puts_them() {
    let docs = render(&[
        "--set",
        "reloader.deployment.replicas=3",
        "--set",
        "reloader.deployment.nodeSelector.pool=infra",
        "--set",
        "reloader.deployment.priorityClassName=critical",
        "--set",
        "reloader.deployment.pod.annotations.team=a",
        "--set",
        "reloader.deployment.labels.provider=stakater",
        "--set",
        "reloader.deployment.env.open.EXTRA=1",
        "--set",
        "reloader.deployment.env.field.NODE=spec.nodeName",
        "--set",
        "reloader.deployment.livenessProbe.timeoutSeconds=7",
        "--set",
        "reloader.deployment.resources.limits.memory=99Mi",
        "--set",
        "global.imagePullSecrets[0]=regcred",
        "--set",
        "reloader.serviceAccount.name=custom-sa",
        "--set",
        "reloader.custom_annotations.auto=acme.io/auto",
        "--set",
        "reloader.custom_annotations.pauseTime=acme.io/paused-at",
        "--set",
        "reloader.webhookUrl=https://ci.example/hook",
        "--set",
        "reloader.syncAfterRestart=true",
        "--set",
        "reloader.namespaces=team-a\\,team-b",
        "--set",
        "reloader.podDisruptionBudget.maxUnavailable=1",
        "--set",
        "reloader.serviceMonitor.enabled=true",
        "--set",
        "reloader.serviceMonitor.interval=15s",
        "--set",
        "reloader.podMonitor.enabled=true",
        "--set",
        "nameOverride=rl",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let deployment = find(&docs, "Deployment");
    let pod = at(deployment, "spec.template.spec");
    let container = at(pod, "containers.0");
    let cases: [(&str, &Value, Value); 10] = [
        ("replicas", at(deployment, "spec.replicas"), 3.into()),
        ("the name", at(deployment, "metadata.name"), "rel-rl".into()),
        ("nodeSelector", at(pod, "nodeSelector.pool"), "infra".into()),
        (
            "priorityClassName",
            at(pod, "priorityClassName"),
            "critical".into(),
        ),
        (
            "pod annotations",
            at(deployment, "spec.template.metadata.annotations.team"),
            "a".into(),
        ),
        (
            "labels",
            at(deployment, "spec.template.metadata.labels.provider"),
            "stakater".into(),
        ),
        (
            "probe settings",
            at(container, "livenessProbe.timeoutSeconds"),
            7.into(),
        ),
        (
            "resources",
            at(container, "resources.limits.memory"),
            "99Mi".into(),
        ),
        (
            "pull secrets",
            at(pod, "imagePullSecrets.0.name"),
            "regcred".into(),
        ),
        (
            "service account",
            at(pod, "serviceAccountName"),
            "custom-sa".into(),
        ),
    ];
    for (what, got, want) in cases {
        assert_eq!(got, &want, "{what}");
    }
    let env = serde_yaml::to_string(at(container, "env")).unwrap();
    assert!(
        env.contains("name: EXTRA") && env.contains("fieldPath: spec.nodeName"),
        "{env}"
    );
    let args: Vec<&str> = at(container, "args")
        .as_sequence()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for want in [
        "--auto-annotation=acme.io/auto",
        "--pause-deployment-time-annotation=acme.io/paused-at",
        "--webhook-url=https://ci.example/hook",
        "--sync-after-restart",
        "--namespaces=team-a,team-b",
    ] {
        assert!(args.contains(&want), "{want} not in {args:?}");
    }
    assert_eq!(
        at(find(&docs, "ServiceAccount"), "metadata.name"),
        "custom-sa"
    );
    assert_eq!(
        at(find(&docs, "PodDisruptionBudget"), "spec.maxUnavailable"),
        &Value::from(1)
    );
    let monitor = find(&docs, "ServiceMonitor");
    assert_eq!(at(monitor, "spec.endpoints.0.interval"), "15s");
    assert_eq!(
        at(find(&docs, "PodMonitor"), "spec.podMetricsEndpoints.0.port"),
        "metrics"
    );
    let binding = find(&docs, "ClusterRoleBinding");
    assert_eq!(at(binding, "subjects.0.name"), "custom-sa");
}

#[test]
fn enable_ha_false_caps_the_replicas_at_one_as_in_stakaters_chart() {
    let cases = [
        ("HA on keeps the replicas", "reloader.enableHA=true", 3),
        ("HA off caps them at one", "reloader.enableHA=false", 1),
    ];
    for (name, set, want) in cases {
        let docs = render(&["--set", "reloader.deployment.replicas=3", "--set", set])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let deployment = find(&docs, "Deployment");
        assert_eq!(
            at(deployment, "spec.replicas"),
            &Value::from(want),
            "{name}"
        );
    }
}

#[test]
fn csi_integration_passes_the_flag_and_grants_the_drivers_statuses_read_only() {
    for (name, set, on) in [
        ("on", "reloader.enableCSIIntegration=true", true),
        ("off", "reloader.enableCSIIntegration=false", false),
    ] {
        let docs = render(&["--set", set]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let args = serde_yaml::to_string(at(
            find(&docs, "Deployment"),
            "spec.template.spec.containers.0.args",
        ))
        .unwrap();
        assert_eq!(
            args.contains("--enable-csi-integration"),
            on,
            "{name}: {args}"
        );
        let rules = at(find(&docs, "ClusterRole"), "rules")
            .as_sequence()
            .unwrap();
        let csi: Vec<&Value> = rules
            .iter()
            .filter(|r| at(r, "apiGroups.0") == "secrets-store.csi.x-k8s.io")
            .collect();
        assert_eq!(csi.len(), if on { 2 } else { 0 }, "{name}: {csi:?}");
        for rule in csi {
            let verbs = serde_yaml::to_string(at(rule, "verbs")).unwrap();
            assert!(
                !["create", "update", "patch", "delete"]
                    .iter()
                    .any(|v| verbs.contains(v)),
                "{name}: read only: {verbs}"
            );
        }
    }
}

#[test]
fn netpol_keeps_the_webhook_reachable_and_narrows_metrics_and_egress() {
    let docs = render(&[
        "--set",
        "reloader.netpol.enabled=true",
        "--set",
        "reloader.netpol.from[0].podSelector.matchLabels.app=prometheus",
        "--set",
        "reloader.netpol.to[0].ipBlock.cidr=10.0.0.1/32",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let policy = find(&docs, "NetworkPolicy");
    let cases: [(&str, &str, Value); 7] = [
        (
            "the webhook port",
            "spec.ingress.0.ports.0.port",
            "webhook".into(),
        ),
        ("open to every source", "spec.ingress.0.from", Value::Null),
        (
            "the metrics port",
            "spec.ingress.1.ports.0.port",
            "metrics".into(),
        ),
        (
            "metrics only from `from`",
            "spec.ingress.1.from.0.podSelector.matchLabels.app",
            "prometheus".into(),
        ),
        ("DNS out", "spec.egress.0.ports.0.port", 53.into()),
        (
            "the API server out",
            "spec.egress.1.ports.1.port",
            6443.into(),
        ),
        (
            "HTTPS only to `to`",
            "spec.egress.1.to.0.ipBlock.cidr",
            "10.0.0.1/32".into(),
        ),
    ];
    for (name, path, want) in cases {
        assert_eq!(at(policy, path), &want, "{name} ({path})");
    }
    let selector = serde_yaml::to_string(at(policy, "spec.podSelector.matchLabels")).unwrap();
    let deployment = find(&docs, "Deployment");
    let pod_labels = at(deployment, "spec.template.metadata.labels");
    for (key, value) in at(policy, "spec.podSelector.matchLabels")
        .as_mapping()
        .unwrap()
    {
        assert_eq!(
            &pod_labels[key], value,
            "the policy selects the pods: {selector}"
        );
    }
    let off = render(&[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        off.iter().all(|d| d["kind"] != "NetworkPolicy"),
        "off by default"
    );
}

#[test]
fn the_vertical_pod_autoscaler_renders_where_the_cluster_serves_it() {
    let on = [
        "--set",
        "reloader.verticalPodAutoscaler.enabled=true",
        "--set",
        "reloader.verticalPodAutoscaler.maxAllowed.memory=200Mi",
        "--set",
        "reloader.verticalPodAutoscaler.controlledValues=RequestsOnly",
    ];
    let with_api: Vec<&str> = on
        .iter()
        .copied()
        .chain(["--api-versions", "autoscaling.k8s.io/v1"])
        .collect();
    let docs = render(&with_api).unwrap_or_else(|e| panic!("{e}"));
    let vpa = find(&docs, "VerticalPodAutoscaler");
    let deployment = find(&docs, "Deployment");
    let cases: [(&str, &str, &Value); 5] = [
        (
            "targets the Deployment",
            "spec.targetRef.name",
            at(deployment, "metadata.name"),
        ),
        (
            "the container",
            "spec.resourcePolicy.containerPolicies.0.containerName",
            at(deployment, "spec.template.spec.containers.0.name"),
        ),
        (
            "maxAllowed",
            "spec.resourcePolicy.containerPolicies.0.maxAllowed.memory",
            &Value::from("200Mi"),
        ),
        (
            "controlledValues",
            "spec.resourcePolicy.containerPolicies.0.controlledValues",
            &Value::from("RequestsOnly"),
        ),
        (
            "updatePolicy",
            "spec.updatePolicy.updateMode",
            &Value::from("Auto"),
        ),
    ];
    for (name, path, want) in cases {
        assert_eq!(at(vpa, path), want, "{name} ({path})");
    }
    let without_api = render(&on).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        without_api
            .iter()
            .all(|d| d["kind"] != "VerticalPodAutoscaler"),
        "not rendered where autoscaling.k8s.io/v1 is not served"
    );
}

#[test]
fn what_the_chart_cannot_honour_fails_the_render_naming_the_key() {
    let cases = [
        ("reloader.enablePProf=true", "reloader.enablePProf"),
        (
            "reloader.deployment.gomaxprocsOverride=2",
            "reloader.deployment.gomaxprocsOverride",
        ),
        (
            "reloader.deployment.gomemlimitOverride=100MiB",
            "reloader.deployment.gomemlimitOverride",
        ),
        ("reloader.custom_annotations.bogus=x", "'bogus' not allowed"),
        ("reloader.deploymnt.replicas=2", "'deploymnt' not allowed"),
        ("reloader.deployment.replicaz=2", "'replicaz' not allowed"),
        ("replicaCount=2", "'replicaCount' not allowed"),
        ("reloader.reloadStrategy=restart", "reloadStrategy"),
    ];
    for (set, want) in cases {
        let err = render(&["--set", set])
            .err()
            .unwrap_or_else(|| panic!("{set} rendered"));
        assert!(err.contains(want), "{set}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakaters_default_values_install_and_the_pod_arguments_start_reloader() {
    const NAMESPACE: &str = "platform";
    const FULLNAME: &str = "rel-reloader";
    let mut cluster = Cluster::start_real().await;
    cluster.create_serving_secret(NAMESPACE);
    let ours = cluster.dir.path().join("ours.yaml");
    std::fs::write(
        &ours,
        format!(
            "certManager: {{enabled: false}}\ntls: {{secretName: reloader-tls, caBundle: \"{}\"}}\nwebhook: {{url: \"https://127.0.0.1:{}\"}}\n",
            cluster.ca_bundle(),
            cluster.webhook_port
        ),
    )
    .expect("values");
    let stakater = repo_root().join(STAKATER_VALUES);
    let chart = repo_root().join("helm/reloader");
    let out = cluster.helm(&[
        "install",
        "rel",
        chart.to_str().unwrap(),
        "--namespace",
        NAMESPACE,
        "--create-namespace",
        "--values",
        stakater.to_str().unwrap(),
        "--values",
        ours.to_str().unwrap(),
    ]);
    assert!(out.contains("STATUS: deployed"), "{out}");
    let args = cluster.deployment_args(NAMESPACE, FULLNAME);
    for want in [
        "--log-format=",
        "--reload-strategy=default",
        "--is-argo-rollouts=false",
    ] {
        assert!(args.iter().any(|a| a == want), "{want} not in {args:?}");
    }
    cluster.apply(&SHOP);
    let kubeconfig = cluster.service_account_kubeconfig(NAMESPACE, FULLNAME);
    let reloader = cluster.start_installed_reloader(NAMESPACE, FULLNAME, &kubeconfig);
    a_secret_change_rolls_the_deployment(&cluster, &reloader, NAMESPACE, FULLNAME).await;
}
