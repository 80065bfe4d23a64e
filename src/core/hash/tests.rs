use super::*;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use proptest::prelude::*;

/// A ConfigMap with these `data` and `binaryData` entries (also for `stakater`'s tests).
pub(super) fn cm(data: &[(&str, &str)], binary: &[(&str, &[u8])]) -> ConfigMap {
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

/// A Secret with these `data` entries.
pub(super) fn secret(data: &[(&str, &[u8])]) -> Secret {
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
fn known_answers_pin_the_recorded_encoding() {
    // These hashes are recorded on workloads: a change to the encoding would roll every
    // follower after an upgrade. Each was computed independently of this code, from the
    // encoding in the module comment: SHA-256 of `data\0`, u64-BE entry count, then per
    // entry in key order u64-BE key length, key, u64-BE value length, value; the same under
    // `binaryData\0`.
    let cases: [(&str, Secret, ConfigMap, &str); 4] = [
        (
            "nothing at all",
            Secret::default(),
            cm(&[], &[]),
            "5ead966cbaf252b6bb5b09767f4e17b0d393b423f7162cc8c95805ac2e345603",
        ),
        (
            "one entry",
            secret(&[("password", b"hunter2")]),
            cm(&[("password", "hunter2")], &[]),
            "890fe7754743cf0bd0c5c9574952b2b092e934da8eac0102065577a6c1a76203",
        ),
        (
            "two entries, in key order",
            secret(&[("b", b"2"), ("a", b"1")]),
            cm(&[("b", "2"), ("a", "1")], &[]),
            "41ea3272aa7aa358574939d4113d8d8db9dc4a63827ff46b8a3bd3aec43dcef9",
        ),
        (
            "binary data only (a Secret has none: its twin is empty data)",
            Secret::default(),
            cm(&[], &[("blob", &[0, 255, 1])]),
            "47172ba7bff5c15bccb003a57e72e4dcfda46e557f6e89e51494c9189f69d6bd",
        ),
    ];
    for (name, secret, configmap, want) in cases {
        assert_eq!(
            hash_configmap(&configmap).to_string(),
            want,
            "ConfigMap: {name}"
        );
        if configmap.binary_data.is_none() {
            assert_eq!(hash_secret(&secret).to_string(), want, "Secret: {name}");
        }
    }
    let both = cm(&[("mode", "fast")], &[("blob", &[0, 255, 1])]);
    assert_eq!(
        hash_configmap(&both).to_string(),
        "7ba4507b86158f707d42cf33035c7926c8ca6cde39a397f6e150f647bb6b213f"
    );
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

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

#[test]
fn keyed_known_answers_pin_the_recorded_encoding() {
    // HMAC-SHA256 under KEY of the same encoding as the plain pins above, and the key id:
    // the first 4 bytes of SHA-256("reloader hash key id\0" || key). Computed independently
    // (Python's hmac and hashlib) from the encoding in the module comment.
    let hasher = Hasher::Keyed(HashKey::new(KEY).unwrap());
    let cases: [(&str, Secret, &str); 3] = [
        (
            "nothing at all",
            Secret::default(),
            "e06c7e95:4d86fda72d44248aa85d70df80a356d9e89e439b6e1242d2f51e4941eeb5cb07",
        ),
        (
            "one entry",
            secret(&[("password", b"hunter2")]),
            "e06c7e95:2ee49d8a10a66af262ca1fcaed14dc1caf5ddeaa99728a5c035d0a181ecb32af",
        ),
        (
            "two entries, in key order",
            secret(&[("b", b"2"), ("a", b"1")]),
            "e06c7e95:877c4b228a89b130887d2fa3148ff3cf28289f023aecb3d11c3bfb23a5500dbc",
        ),
    ];
    for (name, s, want) in cases {
        assert_eq!(hasher.secret(&s).to_string(), want, "{name}");
        let mut streamed = hasher.map_hasher(s.data.as_ref().map_or(0, BTreeMap::len));
        for (k, v) in s.data.iter().flatten() {
            streamed.entry(k, &v.0);
        }
        streamed.binary_data(0);
        assert_eq!(streamed.finish().to_string(), want, "{name}, streamed");
    }
}

#[test]
fn keyed_records_name_their_key_and_parse_back() {
    let keyed = Hasher::Keyed(HashKey::new(KEY).unwrap()).secret(&secret(&[("k", b"v")]));
    let plain = hash_secret(&secret(&[("k", b"v")]));
    assert_ne!(keyed, plain, "a key changes the digest");
    assert_eq!(keyed.to_string().parse::<SourceHash>(), Ok(keyed));
    assert_eq!(
        keyed.key().map(|k| k.to_string()).as_deref(),
        Some("e06c7e95")
    );
    assert_eq!(plain.key(), None);
    assert_eq!(keyed.short().len(), 12, "short is the digest only");
    let bad = ["e06c7e9:00", "zzzzzzzz:", ":abc", "e06c7e95:xyz"];
    for text in bad {
        assert!(text.parse::<SourceHash>().is_err(), "{text:?} parses");
    }
}

#[test]
fn keys_shorter_than_128_bits_are_refused_and_debug_never_shows_key_bytes() {
    assert_eq!(
        HashKey::new(b"0123456789abcde").unwrap_err(),
        KeyError::TooShort(15)
    );
    let key = HashKey::new(KEY).unwrap();
    let shown = format!("{key:?} {:?}", Hasher::Keyed(key.clone()));
    assert_eq!(shown, "HashKey(e06c7e95) Keyed(HashKey(e06c7e95))");
}

#[test]
fn a_key_ring_recognises_previous_keys_and_plain_hashes_of_the_same_data() {
    let other = HashKey::new(b"another key of at least 16 bytes").unwrap();
    let data = secret(&[("k", b"v")]);
    let cases: [(&str, KeyRing, Vec<Option<KeyId>>); 4] = [
        ("no key: nothing else", KeyRing::plain(), vec![]),
        (
            "a key: plain besides",
            KeyRing::new(Some(HashKey::new(KEY).unwrap()), vec![]),
            vec![None],
        ),
        (
            "after a rotation: the previous key, then plain",
            KeyRing::new(Some(HashKey::new(KEY).unwrap()), vec![other.clone()]),
            vec![Some(other.id()), None],
        ),
        (
            "the current key listed as previous too: once",
            KeyRing::new(Some(other.clone()), vec![other.clone(), other.clone()]),
            vec![None],
        ),
    ];
    for (name, ring, want) in cases {
        let same: Vec<Option<KeyId>> = ring
            .same_data(|h| h.secret(&data))
            .iter()
            .map(|h| h.key())
            .collect();
        assert_eq!(same, want, "{name}");
    }
}
