use serde_json::json;

use super::*;

fn status(class: &str, version: &str) -> serde_json::Value {
    json!({"status": {"secretProviderClassName": class,
                      "objects": [{"id": "secret/db", "version": version}]}})
}

#[test]
fn only_a_change_of_versions_on_a_status_seen_before_is_a_rotation() {
    let class = SourceRef::new("shop", SourceKind::SecretProviderClass, "vault-db");
    // (what happens, status name, object, rotated)
    let steps = [
        (
            "a new pod's first mount",
            "web-1",
            status("vault-db", "1"),
            false,
        ),
        (
            "written again unchanged",
            "web-1",
            status("vault-db", "1"),
            false,
        ),
        (
            "a status without a class yet",
            "web-2",
            json!({"status": {}}),
            false,
        ),
        (
            "the class on it appears",
            "web-2",
            status("vault-db", "1"),
            false,
        ),
        ("rotated", "web-1", status("vault-db", "2"), true),
        (
            "the other pod follows",
            "web-2",
            status("vault-db", "2"),
            true,
        ),
        (
            "unchanged after rotating",
            "web-1",
            status("vault-db", "2"),
            false,
        ),
    ];
    let mut log = StatusLog::default();
    for (what, name, object, rotated) in steps {
        let seen = log.applied("shop", name, &object);
        match seen {
            Seen::Rotated(source, versions) => {
                assert!(rotated, "{what}: rotated");
                assert_eq!(source, class, "{what}");
                assert_eq!(versions, MountedVersions::from_object(&object).unwrap());
            }
            Seen::Nothing => assert!(!rotated, "{what}: not rotated"),
        }
    }
    assert_eq!(log.len(), 2);
    log.deleted("shop", "web-1");
    assert_eq!(
        log.applied("shop", "web-1", &status("vault-db", "3")),
        Seen::Nothing,
        "a status re-created after its delete is a first mount"
    );
}
