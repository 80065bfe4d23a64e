use super::*;

fn data(entries: &[(&str, &[u8])]) -> BTreeMap<String, ByteString> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), ByteString(v.to_vec())))
        .collect()
}

const K1: &[u8] = b"0123456789abcdef0123456789abcdef";
const K2: &[u8] = b"fedcba9876543210fedcba9876543210";

#[test]
fn the_current_key_makes_records_and_previous_ones_are_recognised() {
    let ring = ring_from(
        "reloader",
        "hash-key",
        &data(&[("key", K2), ("previous", K1)]),
    )
    .unwrap();
    let now = HashKey::new(K2).unwrap().id();
    let before = HashKey::new(K1).unwrap().id();
    assert_eq!(ring.current().key_id(), Some(now));
    let others: Vec<_> = ring
        .same_data(|h| h.secret(&Secret::default()))
        .iter()
        .map(|h| h.key())
        .collect();
    assert_eq!(others, vec![Some(before), None], "previous key, then plain");
}

#[test]
fn bad_secrets_are_refused_naming_the_entry_never_the_bytes() {
    let cases: [(&str, BTreeMap<String, ByteString>, &str); 3] = [
        (
            "no current key",
            data(&[("previous", K1)]),
            "has no entry `key`",
        ),
        (
            "a short current key",
            data(&[("key", b"short")]),
            "entry `key`: a hash key must be at least 16 bytes, got 5",
        ),
        (
            "a short previous key",
            data(&[("key", K1), ("previous-2025", b"tiny")]),
            "entry `previous-2025`",
        ),
    ];
    for (name, entries, want) in cases {
        let error = ring_from("reloader", "hash-key", &entries)
            .unwrap_err()
            .to_string();
        assert!(error.contains(want), "{name}: {error}");
        assert!(error.contains("reloader/hash-key"), "{name}: {error}");
        for bytes in [K1, b"short".as_slice(), b"tiny".as_slice()] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !error.contains(text.as_ref()),
                "{name}: key bytes in {error}"
            );
        }
    }
}
