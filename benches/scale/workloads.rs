//! The workloads the scale benchmark loads: shaped like real ones (about 4 KB of JSON
//! each with the server's `managedFields`: two containers, env/envFrom/volume references,
//! probes, resources, and kubectl's `last-applied-configuration` copy of the object), of
//! three kinds, in 20 namespaces, following sources shared between them.

use serde_json::{Value, json};

pub const NAMESPACES: usize = 20;
/// Followed Secrets and ConfigMaps per namespace.
pub const SOURCES: usize = 50;

pub fn namespace(i: usize) -> String {
    format!("team-{i:02}")
}

/// The `i`-th workload: its kind's plural and its object.
pub fn workload(i: usize) -> (&'static str, Value) {
    let ns = namespace(i % NAMESPACES);
    let name = format!("app-{i:06}");
    // Sources shared between workloads: a few of the namespace's 50 of each kind.
    let secret = |k: usize| format!("secret-{:02}", (i / NAMESPACES * 7 + k * 13) % SOURCES);
    let configmap = |k: usize| format!("config-{:02}", (i / NAMESPACES * 11 + k * 17) % SOURCES);
    let app = json!({
        "name": "app",
        "image": format!("registry.example.com/{ns}/{name}:1.{}.{}", i % 17, i % 5),
        "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "REGION", "value": "eu-west-1"},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret(0), "key": "password"}}},
            {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret(1), "key": "token"}}},
            {"name": "FEATURES", "valueFrom": {"configMapKeyRef": {"name": configmap(0), "key": "features"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "envFrom": [{"configMapRef": {"name": configmap(1)}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 15},
        "volumeMounts": [
            {"name": "tls", "mountPath": "/etc/tls", "readOnly": true},
            {"name": "config", "mountPath": "/etc/app"},
        ],
    });
    let sidecar = json!({
        "name": "proxy",
        "image": "registry.example.com/platform/proxy:2.4.1",
        "args": ["--upstream=127.0.0.1:8080", "--listen=:8443"],
        "ports": [{"name": "https", "containerPort": 8443}],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
        "volumeMounts": [{"name": "tls", "mountPath": "/etc/tls", "readOnly": true}],
    });
    let tier = ["web", "api", "worker"][i % 3];
    let labels = json!({"app": name, "team": ns, "tier": tier});
    let pod = json!({
        "metadata": {"labels": labels},
        "spec": {
            "serviceAccountName": "app",
            "containers": [app, sidecar],
            "volumes": [
                {"name": "tls", "secret": {"secretName": secret(2)}},
                {"name": "config", "configMap": {"name": configmap(2)}},
            ],
        },
    });
    // Half follow what they reference, the others a named Secret and ConfigMap.
    let annotations = if i.is_multiple_of(2) {
        json!({"reloader.stakater.com/auto": "true"})
    } else {
        json!({
            "secret.reloader.stakater.com/reload": secret(0),
            "configmap.reloader.stakater.com/reload": configmap(1),
        })
    };
    let meta = json!({"name": name, "namespace": ns, "labels": labels, "annotations": annotations});
    let (plural, mut object) = match i % 10 {
        0..=6 => (
            "deployments",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                            "template": pod}}),
        ),
        7 | 8 => (
            "statefulsets",
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta,
                   "spec": {"replicas": 1, "serviceName": name,
                            "selector": {"matchLabels": {"app": name}}, "template": pod}}),
        ),
        _ => {
            let mut pod = pod;
            pod["spec"]["restartPolicy"] = json!("OnFailure");
            (
                "cronjobs",
                json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
                       "spec": {"schedule": format!("{} * * * *", i % 60),
                                "jobTemplate": {"spec": {"template": pod}}}}),
            )
        }
    };
    let applied = serde_json::to_string(&object).expect("JSON");
    object["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
        json!(applied);
    (plural, object)
}

/// A followed Secret or ConfigMap of namespace `ns`.
pub fn source(ns: &str, kind: &str, k: usize) -> Value {
    let data = json!({"password": "c2VjcmV0", "token": "dG9rZW4=", "features": "YQ=="});
    match kind {
        "secrets" => json!({"apiVersion": "v1", "kind": "Secret",
                            "metadata": {"name": format!("secret-{k:02}"), "namespace": ns},
                            "data": data}),
        _ => json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("config-{k:02}"), "namespace": ns},
                    "data": {"features": "a", "mode": "fast"}}),
    }
}

/// A Secret nobody follows (the "100k Secrets present" load).
pub fn noise_secret(i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret",
           "metadata": {"name": format!("noise-{i:06}"), "namespace": namespace(i % NAMESPACES),
                        "labels": {"bench": "noise"}},
           "data": {"value": "bm9pc2Ugbm9pc2Ugbm9pc2U="}})
}

/// A ConfigMap nobody follows.
pub fn noise_configmap(i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": format!("noise-{i:06}"), "namespace": namespace(i % NAMESPACES),
                        "labels": {"bench": "noise"}},
           "data": {"value": "noise noise noise"}})
}
