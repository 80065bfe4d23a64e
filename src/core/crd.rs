//! The `ReloaderConfig` custom resource: which workloads follow which Secrets and ConfigMaps.
//!
//! Kinds, strategies and durations stay strings in the Rust types so that the admission
//! webhook can say precisely what is wrong with a bad value; the generated schema still
//! carries enums, patterns and CEL rules so the API server rejects most mistakes itself.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, CustomResourceExt, KubeSchema};
use serde::{Deserialize, Serialize};

/// Go-style durations (`30s`, `5m`, `1h30m`, `0`), as accepted by `duration::parse_duration`.
pub const DURATION_PATTERN: &str = r"^(0|([0-9]+(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$";
/// A DNS-1123 subdomain, the rule for the names of Secrets, ConfigMaps and workloads.
pub const DNS1123_SUBDOMAIN_PATTERN: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// Which workloads follow which Secrets and ConfigMaps, and how they are rolled.
// Each `printcolumn(...)` repeats `type_`; clippy mistakes those for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "reloader.stakater.com",
    version = "v1alpha1",
    kind = "ReloaderConfig",
    plural = "reloaderconfigs",
    singular = "reloaderconfig",
    shortname = "rlc",
    shortname = "reloadercfg",
    category = "reloader",
    namespaced,
    status = "ReloaderConfigStatus",
    derive = "PartialEq",
    doc = "ReloaderConfig names workloads that roll when the Secrets or ConfigMaps they follow change.",
    printcolumn(
        name = "Strategy",
        type_ = "string",
        json_path = ".spec.reloadStrategy"
    ),
    printcolumn(name = "Targets", type_ = "integer", json_path = ".status.targetCount"),
    printcolumn(name = "Reloads", type_ = "integer", json_path = ".status.reloadCount"),
    printcolumn(
        name = "Last Reload",
        type_ = "date",
        json_path = ".status.lastReloadTime"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(
    cel,
    validation = Rule::new(
        "(has(self.autoReloadAll) && self.autoReloadAll) || (has(self.watchedResources) && ((has(self.watchedResources.secrets) && size(self.watchedResources.secrets) > 0) || (has(self.watchedResources.configMaps) && size(self.watchedResources.configMaps) > 0)))"
    ).message("spec.watchedResources must name at least one Secret or ConfigMap unless spec.autoReloadAll is true").reason(kube::core::Reason::FieldValueRequired)
)]
#[serde(rename_all = "camelCase")]
pub struct ReloaderConfigSpec {
    /// Secrets and ConfigMaps, in this namespace, whose changes roll the targets.
    #[serde(default)]
    pub watched_resources: WatchedResources,

    /// Workloads in this namespace to roll.
    #[schemars(length(min = 1, max = 100))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["kind", "name"]))]
    pub targets: Vec<Target>,

    /// How a reload is recorded on the pod template: `env-vars` (default) adds an env var
    /// holding the hash; `annotations` sets a pod-template annotation.
    #[serde(default = "default_strategy")]
    #[schemars(extend("enum" = ["env-vars", "annotations"]))]
    pub reload_strategy: String,

    /// Minimum time between two reloads of a target (Go duration: `30s`, `5m`, `1h30m`).
    /// A change inside the window is applied when it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = DURATION_PATTERN))]
    pub pause_period: Option<String>,

    /// Changes to one target within this time of the first become one rollout (Go
    /// duration); overrides the workload's `reloader.stakater.com/coalesce-window`
    /// annotation and `--coalesce-window` for the changes this ReloaderConfig asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = DURATION_PATTERN))]
    pub coalesce_window: Option<String>,

    /// When true, targets follow every Secret and ConfigMap their pod spec references.
    #[serde(default)]
    pub auto_reload_all: bool,

    /// Where to announce reloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Alerts>,
}

fn default_strategy() -> String {
    "env-vars".to_owned()
}

/// Sources, by name, in the ReloaderConfig's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct WatchedResources {
    #[serde(default)]
    #[schemars(length(max = 256), extend("x-kubernetes-list-type" = "set"))]
    #[schemars(inner(length(min = 1, max = 253), regex(pattern = DNS1123_SUBDOMAIN_PATTERN)))]
    pub secrets: Vec<String>,

    #[serde(default)]
    #[schemars(length(max = 256), extend("x-kubernetes-list-type" = "set"))]
    #[schemars(inner(length(min = 1, max = 253), regex(pattern = DNS1123_SUBDOMAIN_PATTERN)))]
    pub config_maps: Vec<String>,
}

/// One workload to roll.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[schemars(extend("enum" = ["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Rollout", "DeploymentConfig", "Job"]))]
    pub kind: String,

    #[schemars(length(min = 1, max = 253), regex(pattern = DNS1123_SUBDOMAIN_PATTERN))]
    pub name: String,

    /// Must be absent or the ReloaderConfig's own namespace: a ReloaderConfig never rolls
    /// another namespace's workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63))]
    pub namespace: Option<String>,

    /// Overrides `spec.reloadStrategy` for this target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["env-vars", "annotations"]), transform = not_nullable)]
    pub reload_strategy: Option<String>,

    /// Overrides `spec.pausePeriod` for this target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = DURATION_PATTERN))]
    pub pause_period: Option<String>,

    /// Overrides `spec.coalesceWindow` for this target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = DURATION_PATTERN))]
    pub coalesce_window: Option<String>,
}

/// Keeps an optional field out of the schema's `nullable` fields. kube-apiserver checks an
/// `enum` against the null of a nullable field, and refuses it (`Unsupported value: null`),
/// while it drops the null of a field that is not nullable, as if the field were absent:
/// for an optional enum, only the second gives `null` the meaning `None` has in Rust.
fn not_nullable(schema: &mut schemars::Schema) {
    schema.remove("nullable");
    let Some(serde_json::Value::Array(types)) = schema.get_mut("type") else {
        return;
    };
    types.retain(|t| t != "null");
    if let [only] = types.as_slice() {
        let only = only.clone();
        schema.insert("type".to_owned(), only);
    }
}

/// Alert sinks; each is optional.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Alerts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<AlertSink>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<AlertSink>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_chat: Option<AlertSink>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<AlertSink>,
}

/// Where an alert goes: a URL given inline, or read from a Secret key (URLs of chat
/// webhooks are credentials).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[x_kube(
    cel,
    validation = Rule::new("has(self.url) != has(self.secretRef)")
        .message("exactly one of url or secretRef must be set")
)]
#[serde(rename_all = "camelCase")]
pub struct AlertSink {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://"))]
    pub url: Option<String>,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
}

/// A key of a Secret in the ReloaderConfig's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    #[schemars(length(min = 1, max = 253), regex(pattern = DNS1123_SUBDOMAIN_PATTERN))]
    pub name: String,
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// What reloader last did for a ReloaderConfig.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ReloaderConfigStatus {
    /// Standard conditions; `Ready` tells whether every target could be reloaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Number of targets, for `kubectl get` (printer columns cannot count a list).
    #[serde(default)]
    pub target_count: i64,

    /// Reloads performed for this ReloaderConfig, all targets together.
    #[serde(default)]
    pub reload_count: i64,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reload_time: Option<Time>,

    /// Current hash of each watched source, keyed `namespace/Kind/name`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub watched_resource_hashes: BTreeMap<String, String>,

    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["kind", "name"]))]
    pub targets: Vec<TargetStatus>,
}

/// What reloader last did for one target.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reload_time: Option<Time>,
    #[serde(default)]
    pub reload_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<Time>,
}

/// A CRD that cannot be rendered (a bug in the types, never user input).
#[derive(Debug, thiserror::Error)]
#[error("rendering the ReloaderConfig CRD as YAML: {0}")]
pub struct CrdRenderError(#[from] serde_yaml::Error);

/// The CustomResourceDefinition as YAML, exactly what `reloader crd` prints and
/// `webhook-config/crd.yaml` holds.
pub fn crd_yaml() -> Result<String, CrdRenderError> {
    Ok(serde_yaml::to_string(&ReloaderConfig::crd())?)
}

#[cfg(test)]
mod tests;
