//! Canonical hash of a Secret's or ConfigMap's data: HMAC-SHA256 under the install's hash
//! key (see [`key`]), or plain SHA-256 when no key is configured.
//!
//! The encoding is unambiguous: each map is hashed under its own tag, entries in key order,
//! every key and value prefixed by its length. So `{a: "b=c"}` and `{"a=b": "c"}` differ
//! (stakater's `k=v;` join makes them equal), and moving an entry between `data` and
//! `binaryData` changes the hash. Labels and annotations never count; an absent map and an
//! empty one hash alike.
//!
//! A record is written as 64 hex digits (plain) or `<key id>:<64 hex digits>` (keyed), so a
//! record made under another key is recognised as such rather than taken for a change.

pub mod key;
pub mod stakater;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use key::{HashKey, Hasher, KeyError, KeyId, KeyRing};
pub use stakater::StakaterHash;

/// A hash over a source's data: the digest and, when keyed, the id of the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceHash {
    digest: [u8; 32],
    key: Option<KeyId>,
}

impl SourceHash {
    /// The first 12 hex digits of the digest, enough for humans in events and logs.
    pub fn short(&self) -> String {
        hex::encode(&self.digest[..6])
    }

    /// The key it was made under; `None` for plain SHA-256.
    pub fn key(&self) -> Option<KeyId> {
        self.key
    }
}

impl fmt::Display for SourceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(key) = self.key {
            write!(f, "{key}:")?;
        }
        f.write_str(&hex::encode(self.digest))
    }
}

impl fmt::Debug for SourceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key {
            Some(key) => write!(f, "SourceHash({key}:{})", self.short()),
            None => write!(f, "SourceHash({})", self.short()),
        }
    }
}

/// Text that is neither 64 hex digits nor `<8 hex digits>:<64 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a source hash: expected 64 hex digits, optionally after an 8-digit key id and ':', got {len} characters"
)]
pub struct BadHash {
    pub len: usize,
}

impl FromStr for SourceHash {
    type Err = BadHash;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadHash { len: s.len() };
        let (key, digest_text) = match s.split_once(':') {
            Some((id, rest)) => (Some(id.parse::<KeyId>().map_err(|_| bad())?), rest),
            None => (None, s),
        };
        let mut digest = [0u8; 32];
        hex::decode_to_slice(digest_text, &mut digest).map_err(|_| bad())?;
        Ok(SourceHash { digest, key })
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

/// A hash being computed: plain or keyed.
enum Running {
    Plain(Sha256),
    Keyed(KeyId, Box<Hmac<Sha256>>),
}

impl Running {
    fn update(&mut self, bytes: impl AsRef<[u8]>) {
        match self {
            Running::Plain(h) => h.update(bytes),
            Running::Keyed(_, m) => m.update(bytes.as_ref()),
        }
    }

    fn finish(self) -> SourceHash {
        match self {
            Running::Plain(h) => SourceHash {
                digest: h.finalize().into(),
                key: None,
            },
            Running::Keyed(id, m) => SourceHash {
                digest: m.finalize().into_bytes().into(),
                key: Some(id),
            },
        }
    }
}

fn put_len_prefixed(h: &mut Running, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// Hashes one map under `tag`: entry count, then each key and value length-prefixed, in
/// key order (a `BTreeMap` iterates sorted).
fn put_map<'a, V: AsRef<[u8]> + 'a>(
    h: &mut Running,
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

impl Hasher {
    /// Hash of textual `data` and binary `binaryData` maps. Either may be absent.
    pub fn maps(
        &self,
        data: Option<&BTreeMap<String, Vec<u8>>>,
        binary_data: Option<&BTreeMap<String, Vec<u8>>>,
    ) -> SourceHash {
        let empty = BTreeMap::new();
        let mut h = self.start();
        put_map(&mut h, TAG_DATA, data.unwrap_or(&empty).iter());
        put_map(
            &mut h,
            TAG_BINARY_DATA,
            binary_data.unwrap_or(&empty).iter(),
        );
        h.finish()
    }

    /// Hash of a Secret's data. `stringData` (write-only; the API server folds it into
    /// `data` before anyone reads the object) is folded in the same way, so a Secret hashes
    /// the same whether it is seen before or after that step.
    pub fn secret(&self, secret: &Secret) -> SourceHash {
        let mut h = self.start();
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
        h.finish()
    }

    /// Hash of a ConfigMap's `data` and `binaryData`.
    pub fn configmap(&self, cm: &ConfigMap) -> SourceHash {
        let mut h = self.start();
        match &cm.data {
            Some(m) => put_map(&mut h, TAG_DATA, m.iter()),
            None => put_map(&mut h, TAG_DATA, std::iter::empty::<(&String, &[u8])>()),
        }
        put_bytestring_map(&mut h, TAG_BINARY_DATA, cm.binary_data.as_ref());
        h.finish()
    }

    /// A [`MapHasher`] whose `data` map has `entries` entries.
    pub fn map_hasher(&self, entries: usize) -> MapHasher {
        let mut h = self.start();
        h.update(TAG_DATA);
        h.update((entries as u64).to_be_bytes());
        MapHasher { h }
    }
}

/// Plain SHA-256 of `data` and `binaryData` ([`Hasher::maps`] without a key).
pub fn hash_maps(
    data: Option<&BTreeMap<String, Vec<u8>>>,
    binary_data: Option<&BTreeMap<String, Vec<u8>>>,
) -> SourceHash {
    Hasher::Plain.maps(data, binary_data)
}

/// Plain SHA-256 of a Secret's data ([`Hasher::secret`] without a key).
pub fn hash_secret(secret: &Secret) -> SourceHash {
    Hasher::Plain.secret(secret)
}

/// Plain SHA-256 of a ConfigMap's data ([`Hasher::configmap`] without a key).
pub fn hash_configmap(cm: &ConfigMap) -> SourceHash {
    Hasher::Plain.configmap(cm)
}

fn put_bytestring_map(h: &mut Running, tag: &[u8], map: Option<&BTreeMap<String, ByteString>>) {
    match map {
        Some(m) => put_map(h, tag, m.iter().map(|(k, v)| (k, &v.0))),
        None => put_map(h, tag, std::iter::empty::<(&String, &[u8])>()),
    }
}

/// Builds the same hash as [`Hasher::secret`] and [`Hasher::configmap`] one entry at a
/// time, so a caller can feed values it decodes into a reused buffer instead of building
/// the whole object first. Maps come in the encoding's order: `data`, then `binaryData`;
/// each opened with its entry count, entries in key order. Made by [`Hasher::map_hasher`].
pub struct MapHasher {
    h: Running,
}

impl MapHasher {
    /// Plain SHA-256, starting with the `data` map of `entries` entries.
    pub fn data(entries: usize) -> Self {
        Hasher::Plain.map_hasher(entries)
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
        self.h.finish()
    }
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
