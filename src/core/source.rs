//! The objects a workload can follow: Secrets and ConfigMaps, named by namespace and name.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The two kinds of object whose data changes trigger a reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SourceKind {
    Secret,
    ConfigMap,
}

impl SourceKind {
    /// The Kubernetes `kind` string.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Secret => "Secret",
            SourceKind::ConfigMap => "ConfigMap",
        }
    }

    /// The suffix stakater/Reloader uses in env var names and annotation payloads.
    pub fn upper(self) -> &'static str {
        match self {
            SourceKind::Secret => "SECRET",
            SourceKind::ConfigMap => "CONFIGMAP",
        }
    }

    /// Parses a Kubernetes `kind` string (`Secret`, `ConfigMap`).
    pub fn from_kind(kind: &str) -> Option<Self> {
        match kind {
            "Secret" => Some(SourceKind::Secret),
            "ConfigMap" => Some(SourceKind::ConfigMap),
            _ => None,
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Secret or ConfigMap, by identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceRef {
    pub namespace: String,
    pub kind: SourceKind,
    pub name: String,
}

impl SourceRef {
    pub fn new(namespace: impl Into<String>, kind: SourceKind, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            kind,
            name: name.into(),
        }
    }
}

impl fmt::Display for SourceRef {
    /// `namespace/Kind/name`, the key used in `ReloaderConfig` status.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.namespace, self.kind, self.name)
    }
}
