//! Canonical SHA-256 of a Secret's or ConfigMap's data.
//!
//! The encoding is unambiguous: each map is hashed under its own tag, entries in key order,
//! every key and value prefixed by its length. So `{a: "b=c"}` and `{"a=b": "c"}` differ
//! (stakater's `k=v;` join makes them equal), and moving an entry between `data` and
//! `binaryData` changes the hash. Labels and annotations never count; an absent map and an
//! empty one hash alike.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A SHA-256 over a source's data, shown as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceHash([u8; 32]);

impl SourceHash {
    /// The first 12 hex digits, enough for humans in events and logs.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_owned()
    }
}

impl fmt::Display for SourceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for SourceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceHash({})", self.short())
    }
}

/// Text that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 hash: expected 64 hex digits, got {len} characters")]
pub struct BadHash {
    pub len: usize,
}

impl FromStr for SourceHash {
    type Err = BadHash;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| BadHash { len: s.len() })?;
        Ok(SourceHash(out))
    }
}

impl Serialize for SourceHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SourceHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Tags that keep the maps apart in the encoding.
const TAG_DATA: &[u8] = b"data\0";
const TAG_BINARY_DATA: &[u8] = b"binaryData\0";

fn put_len_prefixed(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// Hashes one map under `tag`: entry count, then each key and value length-prefixed, in
/// key order (a `BTreeMap` iterates sorted).
fn put_map<'a, V: AsRef<[u8]> + 'a>(
    h: &mut Sha256,
    tag: &[u8],
    entries: impl ExactSizeIterator<Item = (&'a String, V)>,
) {
    h.update(tag);
    h.update((entries.len() as u64).to_be_bytes());
    for (k, v) in entries {
        put_len_prefixed(h, k.as_bytes());
        put_len_prefixed(h, v.as_ref());
    }
}

/// Hash of textual `data` and binary `binaryData` maps. Either may be absent.
pub fn hash_maps(
    data: Option<&BTreeMap<String, Vec<u8>>>,
    binary_data: Option<&BTreeMap<String, Vec<u8>>>,
) -> SourceHash {
    let empty = BTreeMap::new();
    let mut h = Sha256::new();
    put_map(&mut h, TAG_DATA, data.unwrap_or(&empty).iter());
    put_map(
        &mut h,
        TAG_BINARY_DATA,
        binary_data.unwrap_or(&empty).iter(),
    );
    SourceHash(h.finalize().into())
}

/// Hash of a Secret's data. `stringData` (write-only; the API server folds it into `data`
/// before anyone reads the object) is folded in the same way, so a Secret hashes the same
/// whether it is seen before or after that step.
pub fn hash_secret(secret: &Secret) -> SourceHash {
    let mut h = Sha256::new();
    match &secret.string_data {
        Some(string_data) if !string_data.is_empty() => {
            let mut merged: BTreeMap<&String, &[u8]> = BTreeMap::new();
            for (k, v) in secret.data.iter().flatten() {
                merged.insert(k, &v.0);
            }
            for (k, v) in string_data {
                merged.insert(k, v.as_bytes());
            }
            put_map(&mut h, TAG_DATA, merged.into_iter());
        }
        _ => put_bytestring_map(&mut h, TAG_DATA, secret.data.as_ref()),
    }
    put_map(
        &mut h,
        TAG_BINARY_DATA,
        std::iter::empty::<(&String, &[u8])>(),
    );
    SourceHash(h.finalize().into())
}

fn put_bytestring_map(h: &mut Sha256, tag: &[u8], map: Option<&BTreeMap<String, ByteString>>) {
    match map {
        Some(m) => put_map(h, tag, m.iter().map(|(k, v)| (k, &v.0))),
        None => put_map(h, tag, std::iter::empty::<(&String, &[u8])>()),
    }
}

/// Builds the same hash as [`hash_secret`] and [`hash_configmap`] one entry at a time, so a
/// caller can feed values it decodes into a reused buffer instead of building the whole
/// object first. Maps come in the encoding's order: `data`, then `binaryData`; each opened
/// with its entry count, entries in key order.
pub struct MapHasher {
    h: Sha256,
}

impl MapHasher {
    /// Starts with the `data` map of `entries` entries.
    pub fn data(entries: usize) -> Self {
        let mut h = Sha256::new();
        h.update(TAG_DATA);
        h.update((entries as u64).to_be_bytes());
        Self { h }
    }

    /// Opens the `binaryData` map of `entries` entries (after all `data` entries).
    pub fn binary_data(&mut self, entries: usize) {
        self.h.update(TAG_BINARY_DATA);
        self.h.update((entries as u64).to_be_bytes());
    }

    pub fn entry(&mut self, key: &str, value: &[u8]) {
        put_len_prefixed(&mut self.h, key.as_bytes());
        put_len_prefixed(&mut self.h, value);
    }

    pub fn finish(self) -> SourceHash {
        SourceHash(self.h.finalize().into())
    }
}

/// Hash of a ConfigMap's `data` and `binaryData`.
pub fn hash_configmap(cm: &ConfigMap) -> SourceHash {
    let mut h = Sha256::new();
    match &cm.data {
        Some(m) => put_map(&mut h, TAG_DATA, m.iter()),
        None => put_map(&mut h, TAG_DATA, std::iter::empty::<(&String, &[u8])>()),
    }
    put_bytestring_map(&mut h, TAG_BINARY_DATA, cm.binary_data.as_ref());
    SourceHash(h.finalize().into())
}

/// Equal maps, an absent map counting as empty (as the API server treats them).
pub fn same_map<V: PartialEq>(
    a: Option<&BTreeMap<String, V>>,
    b: Option<&BTreeMap<String, V>>,
) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        (Some(m), None) | (None, Some(m)) => m.is_empty(),
        (None, None) => true,
    }
}

/// Whether a Secret's data differs between two versions. Compares bytes directly, so an
/// unchanged Secret costs no hashing.
pub fn secret_data_changed(old: &Secret, new: &Secret) -> bool {
    let plain = |s: &Secret| s.string_data.as_ref().is_none_or(|m| m.is_empty());
    if plain(old) && plain(new) {
        !same_map(old.data.as_ref(), new.data.as_ref())
    } else {
        hash_secret(old) != hash_secret(new)
    }
}

/// Whether a ConfigMap's `data` or `binaryData` differs between two versions.
pub fn configmap_data_changed(old: &ConfigMap, new: &ConfigMap) -> bool {
    !same_map(old.data.as_ref(), new.data.as_ref())
        || !same_map(old.binary_data.as_ref(), new.binary_data.as_ref())
}

#[cfg(test)]
mod tests;
