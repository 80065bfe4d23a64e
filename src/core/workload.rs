//! The kinds of workload we roll, and where each keeps its pod template.

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
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 6] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::CronJob,
        WorkloadKind::Rollout,
        WorkloadKind::DeploymentConfig,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::Rollout => "Rollout",
            WorkloadKind::DeploymentConfig => "DeploymentConfig",
        }
    }

    /// JSON Pointer (RFC 6901) of the pod template inside the object.
    pub fn template_pointer(self) -> &'static str {
        match self {
            WorkloadKind::CronJob => "/spec/jobTemplate/spec/template",
            _ => "/spec/template",
        }
    }

    /// The lower-case plural name used by stakater's `--ignored-workload-types`
    /// and in annotation keys such as `deployment.reloader.stakater.com/pause-period`.
    pub fn lower(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
            WorkloadKind::CronJob => "cronjob",
            WorkloadKind::Rollout => "rollout",
            WorkloadKind::DeploymentConfig => "deploymentconfig",
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
#[error(
    "unknown workload kind {0:?}: expected one of Deployment, StatefulSet, DaemonSet, CronJob, Rollout, DeploymentConfig"
)]
pub struct UnknownKind(pub String);

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
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_back_from_its_name() {
        for kind in WorkloadKind::ALL {
            assert_eq!(kind.as_str().parse::<WorkloadKind>(), Ok(kind));
        }
    }

    #[test]
    fn unknown_kind_is_a_typed_error_naming_the_allowed_kinds() {
        let err = "Job".parse::<WorkloadKind>().unwrap_err();
        assert!(err.to_string().contains("Job"));
        assert!(err.to_string().contains("StatefulSet"));
    }

    #[test]
    fn cronjob_template_lives_under_the_job_template() {
        assert_eq!(
            WorkloadKind::CronJob.template_pointer(),
            "/spec/jobTemplate/spec/template"
        );
        assert_eq!(
            WorkloadKind::Deployment.template_pointer(),
            "/spec/template"
        );
    }
}
