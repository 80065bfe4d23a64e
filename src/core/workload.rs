//! The kinds of workload we roll, and the one table of what differs between them: where
//! each lives in the API, where it keeps its pod template, how it is spelled in flags.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A kind of workload that reloader can roll.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    CronJob,
    Rollout,
    DeploymentConfig,
    Job,
}

/// Everything that differs from one kind to another, in one row per kind (see [`KINDS`]).
/// Adding a kind means adding a variant, its row, and its RBAC in the Helm chart; the
/// caches, the patches, the webhook rules, the generated RBAC and the flags read the row.
#[derive(Debug, PartialEq, Eq)]
pub struct KindSpec {
    pub kind: WorkloadKind,
    /// The API's `kind`, as ReloaderConfig targets and events name it.
    pub name: &'static str,
    /// stakater's spelling in `--ignored-workload-types` and in annotation keys such as
    /// `deployment.reloader.stakater.com/pause-period`.
    pub lower: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    /// JSON Pointer (RFC 6901) of the pod template: what a reload patches.
    pub template: &'static str,
    /// Where the object may instead name another object's template (a Rollout's
    /// `spec.workloadRef`): then there is nothing on it to patch.
    pub template_ref: Option<&'static str>,
    /// Served only where someone installed it: watched after discovery finds it.
    pub optional_api: bool,
    /// Honours `reloader.stakater.com/rollout-strategy: restart` (`spec.restartAt`).
    pub restarts: bool,
    /// Its pod template cannot change once made: a reload deletes the object and creates
    /// it again with the reload applied, which runs it again (see `recreate`).
    pub recreates: bool,
    /// Watched, registered with the webhooks and granted in RBAC only when asked for
    /// (`--reload-jobs`): re-running a Job is not a rollout.
    pub opt_in: bool,
}

/// The kinds we roll, in the order of [`WorkloadKind`]'s variants.
pub const KINDS: [KindSpec; 7] = [
    KindSpec {
        kind: WorkloadKind::Deployment,
        name: "Deployment",
        lower: "deployment",
        group: "apps",
        version: "v1",
        plural: "deployments",
        template: "/spec/template",
        template_ref: None,
        optional_api: false,
        restarts: false,
        recreates: false,
        opt_in: false,
    },
    KindSpec {
        kind: WorkloadKind::StatefulSet,
        name: "StatefulSet",
        lower: "statefulset",
        group: "apps",
        version: "v1",
        plural: "statefulsets",
        template: "/spec/template",
        template_ref: None,
        optional_api: false,
        restarts: false,
        recreates: false,
        opt_in: false,
    },
    KindSpec {
        kind: WorkloadKind::DaemonSet,
        name: "DaemonSet",
        lower: "daemonset",
        group: "apps",
        version: "v1",
        plural: "daemonsets",
        template: "/spec/template",
        template_ref: None,
        optional_api: false,
        restarts: false,
        recreates: false,
        opt_in: false,
    },
    KindSpec {
        kind: WorkloadKind::CronJob,
        name: "CronJob",
        lower: "cronjob",
        group: "batch",
        version: "v1",
        plural: "cronjobs",
        template: "/spec/jobTemplate/spec/template",
        template_ref: None,
        optional_api: false,
        restarts: false,
        recreates: false,
        opt_in: false,
    },
    KindSpec {
        kind: WorkloadKind::Rollout,
        name: "Rollout",
        lower: "rollout",
        group: "argoproj.io",
        version: "v1alpha1",
        plural: "rollouts",
        template: "/spec/template",
        template_ref: Some("/spec/workloadRef"),
        optional_api: true,
        restarts: true,
        recreates: false,
        opt_in: false,
    },
    KindSpec {
        kind: WorkloadKind::DeploymentConfig,
        name: "DeploymentConfig",
        lower: "deploymentconfig",
        group: "apps.openshift.io",
        version: "v1",
        plural: "deploymentconfigs",
        template: "/spec/template",
        template_ref: None,
        optional_api: true,
        restarts: false,
        recreates: false,
        opt_in: false,
    },
    KindSpec {
        kind: WorkloadKind::Job,
        name: "Job",
        lower: "job",
        group: "batch",
        version: "v1",
        plural: "jobs",
        template: "/spec/template",
        template_ref: None,
        optional_api: false,
        restarts: false,
        recreates: true,
        opt_in: true,
    },
];

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 7] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::CronJob,
        WorkloadKind::Rollout,
        WorkloadKind::DeploymentConfig,
        WorkloadKind::Job,
    ];

    /// This kind's row of [`KINDS`].
    pub fn spec(self) -> &'static KindSpec {
        &KINDS[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// JSON Pointer (RFC 6901) of the pod template inside the object.
    pub fn template_pointer(self) -> &'static str {
        self.spec().template
    }

    /// stakater's lower-case spelling (`--ignored-workload-types`, annotation prefixes).
    pub fn lower(self) -> &'static str {
        self.spec().lower
    }

    /// `group/version`, or `version` alone for the core group.
    pub fn api_version(self) -> String {
        let spec = self.spec();
        if spec.group.is_empty() {
            spec.version.to_owned()
        } else {
            format!("{}/{}", spec.group, spec.version)
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `kind` string that is not one we roll.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown workload kind {0:?}: expected one of {names}", names = kind_names())]
pub struct UnknownKind(pub String);

fn kind_names() -> String {
    KINDS.map(|k| k.name).join(", ")
}

impl FromStr for WorkloadKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WorkloadKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// One workload, by identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkloadRef {
    pub namespace: String,
    pub kind: WorkloadKind,
    pub name: String,
}

impl WorkloadRef {
    pub fn new(namespace: impl Into<String>, kind: WorkloadKind, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            kind,
            name: name.into(),
        }
    }
}

impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

#[cfg(test)]
mod tests;
