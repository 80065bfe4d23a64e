use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

use super::*;
use reloader_core::workload::WorkloadKind;

fn rc(generation: i64, status: Value) -> ReloaderConfig {
    serde_json::from_value(json!({
        "apiVersion": "reloader.stakater.com/v1alpha1", "kind": "ReloaderConfig",
        "metadata": {"name": "rc", "namespace": "ns", "generation": generation},
        "spec": {"watchedResources": {"secrets": ["creds"]},
                 "targets": [{"kind": "Deployment", "name": "web"},
                             {"kind": "StatefulSet", "name": "db"}]},
        "status": status
    }))
    .unwrap()
}

fn db() -> WorkloadRef {
    WorkloadRef::new("ns", WorkloadKind::StatefulSet, "db")
}

fn now() -> Timestamp {
    Timestamp::from_second(1_700_000_000).unwrap()
}

fn ready(status: &str, reason: &str) -> Value {
    json!({"type": "Ready", "status": status, "reason": reason, "message": "",
           "lastTransitionTime": "2023-01-01T00:00:00Z"})
}

#[test]
fn a_new_reloaderconfig_needs_a_status() {
    assert!(needs_write(&rc(1, json!(null)), &[]));
    assert!(needs_write(&rc(1, json!(null)), &[db()]));
}

#[test]
fn a_changed_spec_needs_a_status_again() {
    let stored = rc(
        2,
        json!({"observedGeneration": 1, "conditions": [ready("True", "Reloaded")]}),
    );
    assert!(needs_write(&stored, &[]));
}

#[test]
fn a_current_status_is_left_alone() {
    let reloaded = rc(
        2,
        json!({"observedGeneration": 2, "conditions": [ready("True", "Reloaded")]}),
    );
    assert!(!needs_write(&reloaded, &[]));
    let failed = rc(
        2,
        json!({"observedGeneration": 2, "conditions": [ready("False", "ReloadFailed")]}),
    );
    assert!(
        !needs_write(&failed, &[]),
        "a failed reload is not the observer's to clear"
    );
    let not_found = rc(
        2,
        json!({"observedGeneration": 2, "conditions": [ready("False", "TargetNotFound")]}),
    );
    assert!(!needs_write(&not_found, &[db()]));
}

#[test]
fn a_target_appearing_or_disappearing_needs_a_status() {
    let not_found = rc(
        2,
        json!({"observedGeneration": 2, "conditions": [ready("False", "TargetNotFound")]}),
    );
    assert!(
        needs_write(&not_found, &[]),
        "the missing target was created"
    );
    let watching = rc(
        2,
        json!({"observedGeneration": 2, "conditions": [ready("True", "Watching")]}),
    );
    assert!(needs_write(&watching, &[db()]), "a target was deleted");
}

#[test]
fn missing_targets_are_named_in_a_false_ready() {
    let patch = observed_patch(&rc(1, json!(null)), &[db()], now());
    let status = &patch["status"];
    assert_eq!(status["observedGeneration"], 1);
    assert_eq!(status["targetCount"], 2);
    let ready = &status["conditions"][0];
    assert_eq!(ready["type"], "Ready");
    assert_eq!(ready["status"], "False");
    assert_eq!(ready["reason"], "TargetNotFound");
    assert_eq!(ready["message"], "not found: StatefulSet db");
    assert_eq!(ready["observedGeneration"], 1);
}

#[test]
fn all_targets_present_is_ready_and_watching() {
    let patch = observed_patch(&rc(1, json!(null)), &[], now());
    let ready = &patch["status"]["conditions"][0];
    assert_eq!(
        (&ready["status"], &ready["reason"]),
        (&json!("True"), &json!("Watching"))
    );
}

#[test]
fn the_patch_never_touches_counts_times_or_hashes() {
    let stored = rc(
        2,
        json!({"observedGeneration": 1, "reloadCount": 4,
               "lastReloadTime": "2023-01-01T00:00:00Z",
               "watchedResourceHashes": {"ns/Secret/creds": "abc"},
               "conditions": [ready("True", "Reloaded"),
                              {"type": "Paused", "status": "True", "reason": "Paused", "message": "",
                               "lastTransitionTime": "2023-01-01T00:00:00Z"}],
               "targets": [{"kind": "Deployment", "name": "web", "reloadCount": 4}]}),
    );
    let patch = observed_patch(&stored, &[], now());
    let status = patch["status"].as_object().unwrap();
    let mut keys: Vec<&str> = status.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["conditions", "observedGeneration", "targetCount"]);
    let conditions = status["conditions"].as_array().unwrap();
    assert_eq!(conditions.len(), 2, "Paused is kept");
    // Same status: the transition time of the stored condition stays.
    let ready: Condition = serde_json::from_value(conditions[0].clone()).unwrap();
    assert_eq!(ready.reason, "Watching");
    assert_eq!(
        ready.last_transition_time,
        Time("2023-01-01T00:00:00Z".parse().unwrap())
    );
}

#[test]
fn a_stale_not_found_is_cleared_from_a_target_that_exists_now() {
    let stored = rc(
        1,
        json!({"observedGeneration": 1, "conditions": [ready("False", "TargetNotFound")],
               "targets": [{"kind": "Deployment", "name": "web", "reloadCount": 2, "lastError": "not found"},
                           {"kind": "StatefulSet", "name": "db", "lastError": "not found"}]}),
    );
    let patch = observed_patch(&stored, &[db()], now());
    let targets = &patch["status"]["targets"];
    assert_eq!(targets[0]["reloadCount"], 2);
    assert!(targets[0].get("lastError").is_none(), "{targets}");
    assert_eq!(targets[1]["lastError"], "not found");
}

/// `rc` with a third target, in namespace `other`: admission was bypassed.
fn with_foreign_target(generation: i64, status: Value) -> ReloaderConfig {
    let mut stored = rc(generation, status);
    stored.spec.targets.push(reloader_core::crd::Target {
        kind: "Deployment".into(),
        name: "web".into(),
        namespace: Some("other".into()),
        ..Default::default()
    });
    stored
}

#[test]
fn a_target_in_another_namespace_is_refused_in_a_false_ready() {
    let stored = with_foreign_target(1, json!(null));
    assert_eq!(refused(&stored).len(), 1);
    assert!(refused(&rc(1, json!(null))).is_empty());
    let patch = observed_patch(&stored, &[db()], now());
    let ready = &patch["status"]["conditions"][0];
    assert_eq!(
        (&ready["status"], &ready["reason"]),
        (&json!("False"), &json!("TargetRefused"))
    );
    assert_eq!(
        ready["message"],
        "refused, not rolled: spec.targets[2] Deployment other/web; a ReloaderConfig only rolls workloads in its own namespace \"ns\"; not found: StatefulSet db"
    );
    assert_eq!(patch["status"]["targetCount"], 3);
}

#[test]
fn a_refusal_is_written_until_ready_says_so_and_then_left_alone() {
    for reason in ["Reloaded", "Watching"] {
        let stored = with_foreign_target(
            2,
            json!({"observedGeneration": 2, "conditions": [ready("True", reason)]}),
        );
        assert!(needs_write(&stored, &[]), "over Ready True {reason}");
    }
    let not_found = with_foreign_target(
        2,
        json!({"observedGeneration": 2, "conditions": [ready("False", "TargetNotFound")]}),
    );
    assert!(needs_write(&not_found, &[db()]), "the refusal comes first");
    let refused = with_foreign_target(
        2,
        json!({"observedGeneration": 2, "conditions": [ready("False", "TargetRefused")]}),
    );
    assert!(!needs_write(&refused, &[]));
    assert!(!needs_write(&refused, &[db()]));
    let fixed = rc(
        2,
        json!({"observedGeneration": 2, "conditions": [ready("False", "TargetRefused")]}),
    );
    assert!(needs_write(&fixed, &[]), "no refused target any more");
}
