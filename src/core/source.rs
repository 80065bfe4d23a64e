//! The objects a workload can follow: Secrets and ConfigMaps, and (with CSI integration)
//! the Secrets Store CSI driver's SecretProviderClasses, named by namespace and name.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kinds of object whose data changes trigger a reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SourceKind {
    Secret,
    ConfigMap,
    /// A `secrets-store.csi.x-k8s.io` SecretProviderClass: its "data" is the versions of
    /// the objects the CSI driver mounted for it, as its SecretProviderClassPodStatuses
    /// report them (see `csi`). Never admitted through the sources webhook.
    SecretProviderClass,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [
        SourceKind::Secret,
        SourceKind::ConfigMap,
        SourceKind::SecretProviderClass,
    ];

    /// The Kubernetes `kind` string.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Secret => "Secret",
            SourceKind::ConfigMap => "ConfigMap",
            SourceKind::SecretProviderClass => "SecretProviderClass",
        }
    }

    /// The suffix stakater/Reloader uses in env var names and annotation payloads.
    pub fn upper(self) -> &'static str {
        match self {
            SourceKind::Secret => "SECRET",
            SourceKind::ConfigMap => "CONFIGMAP",
            SourceKind::SecretProviderClass => "SECRETPROVIDERCLASS",
        }
    }

    /// Parses the `kind` of an admitted write (`Secret`, `ConfigMap`): the kinds the
    /// sources webhook is called for.
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

/// One source, by identity.
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
