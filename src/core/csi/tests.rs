use serde_json::json;

use super::*;

fn status(class: &str, objects: &[(&str, &str)]) -> Value {
    let objects: Vec<Value> = objects
        .iter()
        .map(|(id, version)| json!({"id": id, "version": version}))
        .collect();
    json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClassPodStatus",
        "metadata": {"name": "web-1-shop-spc", "namespace": "shop"},
        "status": {"podName": "web-1", "secretProviderClassName": class, "mounted": true,
                   "targetPath": "/var/lib/kubelet/pods/x/volumes/y", "objects": objects}
    })
}

fn versions(class: &str, objects: &[(&str, &str)]) -> MountedVersions {
    MountedVersions::from_object(&status(class, objects)).expect("a status")
}

#[test]
fn a_status_is_read_as_its_class_and_the_versions_it_mounted() {
    let cases = [
        (
            "objects by id",
            status("vault-db", &[("secret/db", "1"), ("secret/api", "7")]),
            Some(("vault-db", vec![("secret/api", "7"), ("secret/db", "1")])),
        ),
        (
            "no objects yet",
            json!({"status": {"secretProviderClassName": "vault-db"}}),
            Some(("vault-db", vec![])),
        ),
        (
            "an object without a version",
            json!({"status": {"secretProviderClassName": "c", "objects": [{"id": "k"}]}}),
            Some(("c", vec![("k", "")])),
        ),
        (
            "an object without an id is skipped",
            json!({"status": {"secretProviderClassName": "c", "objects": [{"version": "1"}]}}),
            Some(("c", vec![])),
        ),
        ("no status", json!({"metadata": {"name": "x"}}), None),
        (
            "no class",
            json!({"status": {"objects": [{"id": "k", "version": "1"}]}}),
            None,
        ),
        (
            "an empty class",
            json!({"status": {"secretProviderClassName": ""}}),
            None,
        ),
    ];
    for (name, object, want) in cases {
        let want = want.map(|(class, objects)| MountedVersions {
            class: class.to_owned(),
            objects: objects
                .into_iter()
                .map(|(id, v)| (id.to_owned(), v.to_owned()))
                .collect(),
        });
        assert_eq!(MountedVersions::from_object(&object), want, "{name}");
    }
}

#[test]
fn stakaters_hash_of_a_status_is_its_sha1_over_sorted_id_version_strings() {
    // Known answers: SHA-1 of the sorted strings joined with ';', computed independently.
    let cases = [
        (
            versions("vault-db", &[("secret/db", "1"), ("secret/api", "7")]),
            "2de102797ce30b2a49d01f0858f52b22e205620c",
        ),
        (
            versions("empty", &[]),
            "e0ea8dd927505d2995e864ab691992036af13cd3",
        ),
    ];
    for (v, want) in cases {
        assert_eq!(v.stakater().to_string(), want, "{v:?}");
    }
}

#[test]
fn the_hash_changes_with_any_version_and_not_with_the_order() {
    let hasher = Hasher::Plain;
    let base = versions("c", &[("a", "1"), ("b", "1")]);
    let reordered = versions("c", &[("b", "1"), ("a", "1")]);
    assert_eq!(base.hash(&hasher), reordered.hash(&hasher));
    let cases = [
        ("a new version", versions("c", &[("a", "2"), ("b", "1")])),
        (
            "an object more",
            versions("c", &[("a", "1"), ("b", "1"), ("c", "1")]),
        ),
        ("an object less", versions("c", &[("a", "1")])),
    ];
    for (name, changed) in cases {
        assert_ne!(base.hash(&hasher), changed.hash(&hasher), "{name}");
        assert_ne!(base.stakater(), changed.stakater(), "{name}");
    }
}

#[test]
fn a_class_reads_as_what_all_its_statuses_agree_on() {
    let v1 = versions("c", &[("a", "1")]);
    let v2 = versions("c", &[("a", "2")]);
    let cases: [(&str, Vec<&MountedVersions>, Option<&MountedVersions>); 4] = [
        ("no status", vec![], None),
        ("one status", vec![&v1], Some(&v1)),
        ("all agree", vec![&v2, &v2, &v2], Some(&v2)),
        ("a rotation in progress", vec![&v2, &v1, &v2], None),
    ];
    for (name, statuses, want) in cases {
        assert_eq!(agreed(statuses.into_iter()), want, "{name}");
    }
}
