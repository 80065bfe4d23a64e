use super::*;
use reloader_core::hash::{Hasher, hash_configmap};

fn h(n: u8) -> SourceHash {
    let cm = ConfigMap {
        data: Some([("k".to_string(), n.to_string())].into()),
        ..Default::default()
    };
    hash_configmap(&cm)
}

/// A stored source with data `n` at resourceVersion `rv`.
fn stored(n: u8, rv: &str) -> Option<StoredSource> {
    Some(StoredSource {
        hash: h(n),
        same_data: Vec::new(),
        stakater: StakaterHash::configmap(&Default::default()),
        labels: Default::default(),
        annotations: Default::default(),
        resource_version: Some(rv.to_owned()),
    })
}

fn version(rv: &str) -> Before {
    Before::Version(rv.to_owned())
}

#[test]
fn reads_are_classified_against_the_admitted_write() {
    use Admitted::*;
    use Observation::*;
    let cases = [
        (
            "update landed",
            Update,
            version("10"),
            stored(2, "11"),
            Settled(stored(2, "11")),
        ),
        (
            "update not yet stored",
            Update,
            version("10"),
            stored(1, "10"),
            NotYet,
        ),
        (
            "a newer write landed",
            Update,
            version("10"),
            stored(3, "12"),
            Settled(stored(3, "12")),
        ),
        (
            "changed back to the old data by a later write",
            Update,
            version("10"),
            stored(1, "12"),
            Settled(stored(1, "12")),
        ),
        (
            "create not yet stored",
            Create,
            Before::Nothing,
            None,
            NotYet,
        ),
        (
            "create landed",
            Create,
            Before::Nothing,
            stored(2, "1"),
            Settled(stored(2, "1")),
        ),
        ("delete landed", Delete, version("10"), None, Settled(None)),
        ("update, yet no source", Update, version("10"), None, NotYet),
        (
            "delete not yet stored",
            Delete,
            version("10"),
            stored(1, "10"),
            NotYet,
        ),
        (
            "deleted and re-created with the same data",
            Delete,
            version("10"),
            stored(1, "15"),
            Settled(stored(1, "15")),
        ),
        (
            "no version: the old hash stands in, not yet stored",
            Update,
            Before::Hash(h(1)),
            stored(1, "10"),
            NotYet,
        ),
        (
            "no version: the old hash stands in, a newer write landed",
            Update,
            Before::Hash(h(1)),
            stored(3, "12"),
            Settled(stored(3, "12")),
        ),
        (
            "no version: delete not yet stored",
            Delete,
            Before::Hash(h(1)),
            stored(1, "10"),
            NotYet,
        ),
    ];
    for (name, operation, before, read, want) in cases {
        assert_eq!(observe(operation, &before, read), want, "{name}");
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
