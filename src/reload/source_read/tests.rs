use super::*;
use reloader_core::hash::{Hasher, hash_configmap};

fn h(n: u8) -> SourceHash {
    let cm = ConfigMap {
        data: Some([("k".to_string(), n.to_string())].into()),
        ..Default::default()
    };
    hash_configmap(&cm)
}

fn stored(n: u8) -> Option<StoredSource> {
    Some(StoredSource {
        hash: h(n),
        same_data: Vec::new(),
        stakater: StakaterHash::configmap(&Default::default()),
        labels: Default::default(),
        annotations: Default::default(),
    })
}

#[test]
fn reads_are_classified_against_the_admitted_write() {
    use Observation::*;
    let cases = [
        (
            "update landed",
            Some(h(2)),
            Some(h(1)),
            stored(2),
            Settled(stored(2)),
        ),
        (
            "update not yet stored",
            Some(h(2)),
            Some(h(1)),
            stored(1),
            NotYet,
        ),
        (
            "a newer write landed",
            Some(h(2)),
            Some(h(1)),
            stored(3),
            Settled(stored(3)),
        ),
        ("create not yet stored", Some(h(2)), None, None, NotYet),
        (
            "create landed",
            Some(h(2)),
            None,
            stored(2),
            Settled(stored(2)),
        ),
        ("delete landed", None, Some(h(1)), None, Settled(None)),
        ("delete not yet stored", None, Some(h(1)), stored(1), NotYet),
        (
            "deleted and re-created",
            None,
            Some(h(1)),
            stored(4),
            Settled(stored(4)),
        ),
    ];
    for (name, expected, previous, read, want) in cases {
        assert_eq!(observe(expected, previous, read), want, "{name}");
    }
}

#[test]
fn a_missing_source_hashes_like_empty_data() {
    assert_eq!(
        absent_hash(&Hasher::Plain, SourceKind::ConfigMap),
        hash_configmap(&ConfigMap::default())
    );
    assert_ne!(absent_hash(&Hasher::Plain, SourceKind::ConfigMap), h(1));
}
