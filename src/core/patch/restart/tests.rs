use super::*;
use crate::hash::SourceHash;
use crate::patch::tests::{apply as applied, h};
use crate::source::SourceKind;
use serde_json::json;

fn record(name: &str, hash: SourceHash) -> Record {
    Record {
        source: SourceRef::new("team-a", SourceKind::Secret, name),
        hash,
        container: Some(0),
        stakater: None,
    }
}

fn rollout(annotations: Option<Value>) -> Value {
    let mut metadata = json!({"name": "web", "namespace": "team-a", "resourceVersion": "41"});
    if let Some(a) = annotations {
        metadata["annotations"] = a;
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": metadata,
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app"}]}}}
    })
}

fn now() -> Timestamp {
    "2026-01-02T03:04:05.678Z".parse().unwrap()
}

#[test]
fn only_exactly_restart_restarts_as_in_stakater() {
    let cases = [
        (None, RolloutStrategy::Rollout),
        (Some(""), RolloutStrategy::Rollout),
        (Some("rollout"), RolloutStrategy::Rollout),
        (Some("restart"), RolloutStrategy::Restart),
        (Some("Restart"), RolloutStrategy::Rollout),
        (Some(" restart"), RolloutStrategy::Rollout),
        (Some("anything else"), RolloutStrategy::Rollout),
    ];
    for (value, want) in cases {
        assert_eq!(RolloutStrategy::parse(value), want, "{value:?}");
    }
}

#[test]
fn only_rollouts_read_the_strategy_annotation() {
    let annotated = rollout(Some(json!({ROLLOUT_STRATEGY: "restart"})));
    let cases = [
        (WorkloadKind::Rollout, &annotated, RolloutStrategy::Restart),
        (
            WorkloadKind::Deployment,
            &annotated,
            RolloutStrategy::Rollout,
        ),
        (
            WorkloadKind::DeploymentConfig,
            &annotated,
            RolloutStrategy::Rollout,
        ),
    ];
    for (kind, object, want) in cases {
        assert_eq!(RolloutStrategy::of(kind, object), want, "{kind}");
    }
    assert_eq!(
        RolloutStrategy::of(WorkloadKind::Rollout, &rollout(None)),
        RolloutStrategy::Rollout
    );
}

#[test]
fn a_restart_sets_restart_at_and_records_the_hash_in_metadata_only() {
    let object = rollout(Some(json!({ROLLOUT_STRATEGY: "restart"})));
    let patch = restart_patch(&object, &[record("db", h("1"))], now());
    let after = applied(&object, &patch).unwrap();
    // The time of the decision, rounded up to the second as every recorded reload time.
    assert_eq!(after["spec"]["restartAt"], "2026-01-02T03:04:06Z");
    assert_eq!(
        after["spec"]["template"], object["spec"]["template"],
        "the template is untouched, so the Rollout is not rolled a second way"
    );
    let source = SourceRef::new("team-a", SourceKind::Secret, "db");
    assert_eq!(recorded_hash(&after, &source), Some(h("1").to_string()));
    assert_eq!(
        after["metadata"]["annotations"][ROLLOUT_STRATEGY], "restart",
        "other annotations are kept"
    );
}

#[test]
fn a_rollout_without_annotations_gets_them() {
    let object = rollout(None);
    let after = applied(
        &object,
        &restart_patch(&object, &[record("db", h("1"))], now()),
    )
    .unwrap();
    let source = SourceRef::new("team-a", SourceKind::Secret, "db");
    assert_eq!(recorded_hash(&after, &source), Some(h("1").to_string()));
}

#[test]
fn a_recorded_hash_restarts_nothing() {
    let object = rollout(Some(json!({ROLLOUT_STRATEGY: "restart"})));
    let once = applied(
        &object,
        &restart_patch(&object, &[record("db", h("1"))], now()),
    )
    .unwrap();
    assert_eq!(
        restart_patch(&once, &[record("db", h("1"))], now()),
        Patch(Vec::new())
    );
    let twice = restart_patch(&once, &[record("db", h("2"))], now());
    assert!(!twice.0.is_empty(), "a new hash restarts again");
}

#[test]
fn the_patch_is_refused_once_the_rollout_changed() {
    let object = rollout(None);
    let patch = restart_patch(&object, &[record("db", h("1"))], now());
    let mut moved = object.clone();
    moved["metadata"]["resourceVersion"] = json!("42");
    assert!(
        applied(&moved, &patch).is_err(),
        "a concurrent writer (another replica) wins; this one re-reads"
    );
}

#[test]
fn recording_keeps_the_hashes_of_other_sources() {
    let object = rollout(None);
    let first = applied(
        &object,
        &restart_patch(&object, &[record("db", h("1"))], now()),
    )
    .unwrap();
    let second = applied(
        &first,
        &restart_patch(&first, &[record("api", h("2"))], now()),
    )
    .unwrap();
    let db = SourceRef::new("team-a", SourceKind::Secret, "db");
    let api = SourceRef::new("team-a", SourceKind::Secret, "api");
    assert_eq!(recorded_hash(&second, &db), Some(h("1").to_string()));
    assert_eq!(recorded_hash(&second, &api), Some(h("2").to_string()));
}

#[test]
fn a_baseline_records_without_restarting() {
    let object = rollout(None);
    let ops = record_ops(&object, &[record("db", h("1"))]);
    let after = applied(&object, &Patch(ops)).unwrap();
    assert!(after["spec"].get("restartAt").is_none());
    let db = SourceRef::new("team-a", SourceKind::Secret, "db");
    assert_eq!(recorded_hash(&after, &db), Some(h("1").to_string()));
}
