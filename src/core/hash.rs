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

fn same_map<V: PartialEq>(
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
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use proptest::prelude::*;

    fn cm(data: &[(&str, &str)], binary: &[(&str, &[u8])]) -> ConfigMap {
        ConfigMap {
            data: (!data.is_empty()).then(|| {
                data.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            binary_data: (!binary.is_empty()).then(|| {
                binary
                    .iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.to_vec())))
                    .collect()
            }),
            ..Default::default()
        }
    }

    fn secret(data: &[(&str, &[u8])]) -> Secret {
        Secret {
            data: Some(
                data.iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.to_vec())))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn equal_sign_inside_key_or_value_is_not_ambiguous() {
        assert_ne!(
            hash_configmap(&cm(&[("a", "b=c")], &[])),
            hash_configmap(&cm(&[("a=b", "c")], &[]))
        );
    }

    #[test]
    fn semicolon_cannot_forge_an_extra_entry() {
        assert_ne!(
            hash_configmap(&cm(&[("a", "1;b=2")], &[])),
            hash_configmap(&cm(&[("a", "1"), ("b", "2")], &[]))
        );
    }

    #[test]
    fn moving_an_entry_between_data_and_binary_data_changes_the_hash() {
        assert_ne!(
            hash_configmap(&cm(&[("k", "v")], &[])),
            hash_configmap(&cm(&[], &[("k", b"v")]))
        );
    }

    #[test]
    fn absent_and_empty_maps_hash_alike() {
        let absent = ConfigMap::default();
        let empty = ConfigMap {
            data: Some(BTreeMap::new()),
            binary_data: Some(BTreeMap::new()),
            ..Default::default()
        };
        assert_eq!(hash_configmap(&absent), hash_configmap(&empty));
        assert_eq!(hash_secret(&Secret::default()), hash_secret(&secret(&[])));
        assert!(!configmap_data_changed(&absent, &empty));
        assert!(!secret_data_changed(&Secret::default(), &secret(&[])));
    }

    #[test]
    fn labels_and_annotations_never_count() {
        let plain = secret(&[("password", b"hunter2")]);
        let mut labelled = plain.clone();
        labelled.metadata = ObjectMeta {
            labels: Some([("team".to_string(), "a".to_string())].into()),
            annotations: Some([("note".to_string(), "x".to_string())].into()),
            ..Default::default()
        };
        assert_eq!(hash_secret(&plain), hash_secret(&labelled));
        assert!(!secret_data_changed(&plain, &labelled));
    }

    #[test]
    fn a_secret_and_a_configmap_with_the_same_text_hash_alike() {
        // Both are "data"; the kind is part of the source's identity, not its hash.
        assert_eq!(
            hash_secret(&secret(&[("k", b"v")])),
            hash_configmap(&cm(&[("k", "v")], &[]))
        );
    }

    #[test]
    fn string_data_is_folded_into_data_like_the_api_server_does() {
        let folded = secret(&[("a", b"1"), ("b", b"2")]);
        let mut written = secret(&[("a", b"1"), ("b", b"old")]);
        written.string_data = Some([("b".to_string(), "2".to_string())].into());
        assert_eq!(hash_secret(&folded), hash_secret(&written));
        assert!(!secret_data_changed(&folded, &written));
    }

    #[test]
    fn value_change_is_detected_for_both_kinds() {
        assert!(secret_data_changed(
            &secret(&[("k", b"1")]),
            &secret(&[("k", b"2")])
        ));
        assert!(configmap_data_changed(
            &cm(&[("k", "1")], &[]),
            &cm(&[("k", "2")], &[])
        ));
        assert!(configmap_data_changed(
            &cm(&[], &[("k", b"1")]),
            &cm(&[], &[("k", b"2")])
        ));
    }

    #[test]
    fn the_streaming_hasher_matches_the_whole_object_hashes() {
        let s = secret(&[("a", b"1"), ("b", b"\x00\xff")]);
        let mut h = MapHasher::data(2);
        h.entry("a", b"1");
        h.entry("b", b"\x00\xff");
        h.binary_data(0);
        assert_eq!(h.finish(), hash_secret(&s));

        let c = cm(&[("t", "x")], &[("b", b"\x01")]);
        let mut h = MapHasher::data(1);
        h.entry("t", b"x");
        h.binary_data(1);
        h.entry("b", b"\x01");
        assert_eq!(h.finish(), hash_configmap(&c));
    }

    #[test]
    fn hash_text_round_trips_and_bad_text_is_a_typed_error() {
        let h = hash_secret(&secret(&[("k", b"v")]));
        assert_eq!(h.to_string().len(), 64);
        assert_eq!(h.to_string().parse::<SourceHash>(), Ok(h));
        assert_eq!(h.short().len(), 12);
        assert_eq!("xyz".parse::<SourceHash>(), Err(BadHash { len: 3 }));
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<SourceHash>(&json).unwrap(), h);
    }

    #[test]
    fn a_huge_value_hashes_without_trouble() {
        let big = vec![0xAB; 8 * 1024 * 1024];
        let a = hash_secret(&secret(&[("blob", &big)]));
        let mut bigger = big.clone();
        bigger.push(0);
        assert_ne!(a, hash_secret(&secret(&[("blob", &bigger)])));
    }

    fn entries() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
        prop::collection::vec((".{0,8}", prop::collection::vec(any::<u8>(), 0..16)), 0..8)
    }

    proptest! {
        #[test]
        fn insertion_order_never_matters(mut e in entries(), seed in any::<u64>()) {
            let a: BTreeMap<String, Vec<u8>> = e.iter().cloned().collect();
            // Rebuild in another order; later duplicates win in both, so dedupe first.
            let mut dedup: Vec<_> = a.clone().into_iter().collect();
            let n = dedup.len().max(1);
            dedup.rotate_left((seed as usize) % n);
            let b: BTreeMap<String, Vec<u8>> = dedup.into_iter().rev().collect();
            prop_assert_eq!(hash_maps(Some(&a), None), hash_maps(Some(&b), None));
            e.clear();
        }

        #[test]
        fn splitting_at_a_different_place_changes_the_hash(
            left in "[a-z=;]{1,8}", right in "[a-z=;]{1,8}", cut in 1usize..8,
        ) {
            // "key"+"value" concatenations that are equal but split differently must differ.
            let joined = format!("{left}{right}");
            prop_assume!(cut < joined.len() && cut != left.len());
            let (k2, v2) = joined.split_at(cut);
            let a = BTreeMap::from([(left.clone(), right.clone().into_bytes())]);
            let b = BTreeMap::from([(k2.to_string(), v2.as_bytes().to_vec())]);
            prop_assert_ne!(hash_maps(Some(&a), None), hash_maps(Some(&b), None));
        }

        #[test]
        fn any_value_change_changes_the_hash(
            e in entries().prop_filter("non-empty", |e| !e.is_empty()), extra in any::<u8>(),
        ) {
            let a: BTreeMap<String, Vec<u8>> = e.into_iter().collect();
            let mut b = a.clone();
            let first = b.keys().next().unwrap().clone();
            b.get_mut(&first).unwrap().push(extra);
            prop_assert_ne!(hash_maps(Some(&a), None), hash_maps(Some(&b), None));
        }
    }
}
