//! The record stakater/Reloader leaves on a workload it reloaded: SHA-1 (40 hex digits) over
//! its own encoding of the data, in `STAKATER_<NAME>_<KIND>` or in the `hash` of
//! `reloader.stakater.com/last-reloaded-from`. reloader reads it and never writes it: the
//! same hash of a source's current data tells a workload that is up to date (adopt it,
//! touch nothing) from one whose source changed since, so installing reloader where
//! stakater ran rolls nothing by itself.
//!
//! The encoding, as stakater's `GetSHAfromSecret`/`GetSHAfromConfigmap` do it: one
//! `key=value` string per entry (a ConfigMap's `binaryData` values in standard base64, a
//! Secret's values as their decoded bytes), the strings sorted bytewise, joined with `;`.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use sha1::{Digest, Sha1};

/// A stakater record: the SHA-1 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StakaterHash([u8; 20]);

impl StakaterHash {
    /// stakater's hash of a Secret's data (`stringData` folded in as the API server does).
    pub fn secret(secret: &Secret) -> StakaterHash {
        let mut entries: Vec<Vec<u8>> = Vec::new();
        for (k, v) in secret.data.iter().flatten() {
            if secret
                .string_data
                .as_ref()
                .is_some_and(|s| s.contains_key(k))
            {
                continue;
            }
            entries.push(entry(k, &v.0));
        }
        for (k, v) in secret.string_data.iter().flatten() {
            entries.push(entry(k, v.as_bytes()));
        }
        digest(entries)
    }

    /// stakater's hash of a ConfigMap's `data` and `binaryData`.
    pub fn configmap(cm: &ConfigMap) -> StakaterHash {
        let mut entries: Vec<Vec<u8>> = Vec::new();
        for (k, v) in cm.data.iter().flatten() {
            entries.push(entry(k, v.as_bytes()));
        }
        for (k, v) in cm.binary_data.iter().flatten() {
            let text = base64::engine::general_purpose::STANDARD.encode(&v.0);
            entries.push(entry(k, text.as_bytes()));
        }
        digest(entries)
    }
}

impl StakaterHash {
    /// stakater's hash of a SecretProviderClassPodStatus: one `id=version` string per
    /// mounted object and `SecretProviderClassName=<class>`, sorted and joined as above.
    pub fn secret_provider_class(
        class: &str,
        objects: &std::collections::BTreeMap<String, String>,
    ) -> StakaterHash {
        let mut entries: Vec<Vec<u8>> = objects
            .iter()
            .map(|(id, version)| entry(id, version.as_bytes()))
            .collect();
        entries.push(entry("SecretProviderClassName", class.as_bytes()));
        digest(entries)
    }
}

fn entry(key: &str, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 1 + value.len());
    out.extend_from_slice(key.as_bytes());
    out.push(b'=');
    out.extend_from_slice(value);
    out
}

fn digest(mut entries: Vec<Vec<u8>>) -> StakaterHash {
    entries.sort();
    let mut h = Sha1::new();
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            h.update(b";");
        }
        h.update(e);
    }
    StakaterHash(h.finalize().into())
}

impl fmt::Display for StakaterHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for StakaterHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StakaterHash({})", &hex::encode(self.0)[..12])
    }
}

/// Text that is not 40 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a stakater record: expected 40 hex digits, got {len} characters")]
pub struct NotStakater {
    pub len: usize,
}

impl FromStr for StakaterHash {
    type Err = NotStakater;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut digest = [0u8; 20];
        hex::decode_to_slice(s, &mut digest).map_err(|_| NotStakater { len: s.len() })?;
        Ok(StakaterHash(digest))
    }
}

#[cfg(test)]
mod tests;
