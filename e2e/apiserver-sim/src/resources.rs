//! What the simulator knows about each resource type: names, scope, verbs and the
//! storage rules that differ between types.

use serde_json::Value;

/// One column of `kubectl get` output, computed from a simple JSON path.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub json_path: String,
    pub priority: i64,
    pub description: String,
}

/// A served resource in one group/version.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    /// Plural, as in URLs.
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub list_kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub has_status: bool,
    pub has_scale: bool,
    /// `generation` is kept, and bumped only on spec (or non-status) changes.
    pub tracks_generation: bool,
    /// Served from a CustomResourceDefinition (affects patch types, validation, delete answers).
    pub custom: bool,
    pub schema: Option<Value>,
    pub printer_columns: Vec<PrinterColumn>,
}

impl ResourceType {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Objects of all versions of a resource share one storage key; events.k8s.io
    /// Events are stored as core Events (see `views`).
    pub fn storage_key(&self) -> String {
        if crate::events::is_events_view(&self.group, &self.plural) {
            return "/events".into();
        }
        format!("{}/{}", self.group, self.plural)
    }
}

/// How a built-in type treats `status` and `generation`.
#[derive(Clone, Copy)]
enum Storage {
    Plain,
    Status,
    Generation,
    StatusAndGeneration,
}

impl Storage {
    const fn has_status(self) -> bool {
        matches!(self, Storage::Status | Storage::StatusAndGeneration)
    }

    const fn tracks_generation(self) -> bool {
        matches!(self, Storage::Generation | Storage::StatusAndGeneration)
    }
}

struct Builtin {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    storage: Storage,
}

const fn b(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    storage: Storage,
) -> Builtin {
    Builtin {
        group,
        version,
        plural,
        kind,
        namespaced,
        short_names,
        storage,
    }
}

const BUILTINS: &[Builtin] = &[
    b(
        "",
        "v1",
        "namespaces",
        "Namespace",
        false,
        &["ns"],
        Storage::Status,
    ),
    b("", "v1", "secrets", "Secret", true, &[], Storage::Plain),
    b(
        "",
        "v1",
        "configmaps",
        "ConfigMap",
        true,
        &["cm"],
        Storage::Plain,
    ),
    b("", "v1", "events", "Event", true, &["ev"], Storage::Plain),
    b(
        "",
        "v1",
        "serviceaccounts",
        "ServiceAccount",
        true,
        &["sa"],
        Storage::Plain,
    ),
    b(
        "",
        "v1",
        "services",
        "Service",
        true,
        &["svc"],
        Storage::Status,
    ),
    b("", "v1", "pods", "Pod", true, &["po"], Storage::Status),
    b(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        true,
        &["deploy"],
        Storage::StatusAndGeneration,
    ),
    b(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        true,
        &["sts"],
        Storage::StatusAndGeneration,
    ),
    b(
        "apps",
        "v1",
        "daemonsets",
        "DaemonSet",
        true,
        &["ds"],
        Storage::StatusAndGeneration,
    ),
    b(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        true,
        &["rs"],
        Storage::StatusAndGeneration,
    ),
    b(
        "batch",
        "v1",
        "jobs",
        "Job",
        true,
        &[],
        Storage::StatusAndGeneration,
    ),
    b(
        "batch",
        "v1",
        "cronjobs",
        "CronJob",
        true,
        &["cj"],
        Storage::StatusAndGeneration,
    ),
    b(
        "events.k8s.io",
        "v1",
        "events",
        "Event",
        true,
        &["ev"],
        Storage::Plain,
    ),
    b(
        "coordination.k8s.io",
        "v1",
        "leases",
        "Lease",
        true,
        &[],
        Storage::Plain,
    ),
    b(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        false,
        &["crd", "crds"],
        Storage::StatusAndGeneration,
    ),
    b(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        false,
        &[],
        Storage::Generation,
    ),
    b(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        false,
        &[],
        Storage::Generation,
    ),
];

fn categories_for(group: &str, plural: &str) -> Vec<String> {
    let all = matches!(
        (group, plural),
        ("", "pods" | "services")
            | (
                "apps",
                "deployments" | "statefulsets" | "daemonsets" | "replicasets"
            )
            | ("batch", "jobs" | "cronjobs")
    );
    let api_extensions = group == "apiextensions.k8s.io" || group == "admissionregistration.k8s.io";
    match (all, api_extensions) {
        (true, _) => vec!["all".into()],
        (_, true) => vec!["api-extensions".into()],
        _ => vec![],
    }
}

fn scale_for(group: &str, plural: &str) -> bool {
    matches!(
        (group, plural),
        ("apps", "deployments" | "statefulsets" | "replicasets")
    )
}

/// The built-in resources, in discovery order.
pub fn builtin_resources() -> Vec<ResourceType> {
    BUILTINS
        .iter()
        .map(|r| ResourceType {
            group: r.group.into(),
            version: r.version.into(),
            plural: r.plural.into(),
            singular: r.kind.to_lowercase(),
            kind: r.kind.into(),
            list_kind: format!("{}List", r.kind),
            namespaced: r.namespaced,
            short_names: r.short_names.iter().map(|s| s.to_string()).collect(),
            categories: categories_for(r.group, r.plural),
            has_status: r.storage.has_status(),
            has_scale: scale_for(r.group, r.plural),
            tracks_generation: r.storage.tracks_generation(),
            custom: false,
            schema: None,
            printer_columns: vec![],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(group: &str, plural: &str) -> ResourceType {
        builtin_resources()
            .into_iter()
            .find(|r| r.group == group && r.plural == plural)
            .expect("builtin exists")
    }

    #[test]
    fn workloads_track_generation_and_have_status() {
        for plural in ["deployments", "statefulsets", "daemonsets"] {
            let r = find("apps", plural);
            assert!(r.tracks_generation && r.has_status, "{plural}");
        }
    }

    #[test]
    fn secrets_and_configmaps_do_not_track_generation() {
        assert!(!find("", "secrets").tracks_generation);
        assert!(!find("", "configmaps").tracks_generation);
    }

    #[test]
    fn api_version_omits_empty_group() {
        assert_eq!(find("", "secrets").api_version(), "v1");
        assert_eq!(find("apps", "deployments").api_version(), "apps/v1");
    }

    #[test]
    fn workloads_are_in_category_all() {
        assert_eq!(
            find("apps", "deployments").categories,
            vec!["all".to_string()]
        );
        assert!(find("", "secrets").categories.is_empty());
    }
}
