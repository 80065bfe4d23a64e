//! The Secrets Store CSI driver as a source (`--enable-csi-integration`): what reloader reads
//! from a `SecretProviderClassPodStatus`, and what that says about its SecretProviderClass.
//!
//! The driver keeps one SecretProviderClassPodStatus per pod and mounted class, and writes
//! into its `status` the id and version of every object it mounted. When it rotates a
//! secret, it rewrites that list. So a class's "data" is those versions: never the secret
//! values, which the driver alone sees. The hash of a class is the hash of `id → version`;
//! stakater's is its SHA-1 over `id=version` strings and `SecretProviderClassName=<class>`.
//!
//! Pods rotate one by one, so the statuses of one class may disagree for a while. A change
//! seen on one status says what its class holds now (the engine rolls to it); a resync
//! reads the class as the versions all its statuses agree on, and nothing while they do not.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::hash::{Hasher, SourceHash, StakaterHash};

/// What one SecretProviderClassPodStatus reports: the class and the mounted versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountedVersions {
    /// `status.secretProviderClassName`.
    pub class: String,
    /// `status.objects[].id` → `status.objects[].version`.
    pub objects: BTreeMap<String, String>,
}

impl MountedVersions {
    /// Reads a SecretProviderClassPodStatus as JSON; `None` when its status names no class.
    /// An object without an id is skipped; a missing version counts as empty.
    pub fn from_object(object: &Value) -> Option<MountedVersions> {
        let status = object.get("status")?;
        let class = status
            .get("secretProviderClassName")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())?;
        let objects = status
            .get("objects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| {
                let id = o.get("id").and_then(Value::as_str)?;
                let version = o.get("version").and_then(Value::as_str).unwrap_or("");
                Some((id.to_owned(), version.to_owned()))
            })
            .collect();
        Some(MountedVersions {
            class: class.to_owned(),
            objects,
        })
    }

    /// reloader's hash of the class: its `id → version` map as a source's data.
    pub fn hash(&self, hasher: &Hasher) -> SourceHash {
        let data: BTreeMap<String, Vec<u8>> = self
            .objects
            .iter()
            .map(|(id, version)| (id.clone(), version.as_bytes().to_vec()))
            .collect();
        hasher.maps(Some(&data), None)
    }

    /// stakater's hash (its `GetSHAfromSecretProviderClassPodStatus`).
    pub fn stakater(&self) -> StakaterHash {
        StakaterHash::secret_provider_class(&self.class, &self.objects)
    }
}

/// The versions every status of a class agrees on; `None` when there are none, or while
/// they disagree (a rotation in progress).
pub fn agreed<'a>(
    mut statuses: impl Iterator<Item = &'a MountedVersions>,
) -> Option<&'a MountedVersions> {
    let first = statuses.next()?;
    statuses
        .all(|s| s.objects == first.objects)
        .then_some(first)
}

#[cfg(test)]
mod tests;
