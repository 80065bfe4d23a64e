use json_patch::Patch;
use serde_json::{Value, json};

use super::*;

/// A Job as the API server returns it after the Job controller ran it.
fn stored_job(manual_selector: Option<bool>) -> Value {
    let uid = "0b1c7b5e-0000-4000-8000-000000000001";
    let mut job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "migrate",
            "namespace": "shop",
            "uid": uid,
            "resourceVersion": "4711",
            "generation": 1,
            "creationTimestamp": "2026-12-01T10:00:00Z",
            "managedFields": [{"manager": "kubectl"}],
            "labels": {
                "app": "shop",
                "controller-uid": uid,
                "batch.kubernetes.io/controller-uid": uid,
                "job-name": "migrate",
                "batch.kubernetes.io/job-name": "migrate"
            },
            "annotations": {"team": "db"}
        },
        "spec": {
            "backoffLimit": 2,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
            "template": {
                "metadata": {"labels": {
                    "app": "shop",
                    "controller-uid": uid,
                    "batch.kubernetes.io/controller-uid": uid,
                    "job-name": "migrate",
                    "batch.kubernetes.io/job-name": "migrate"
                }},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "m:1"}]}
            }
        },
        "status": {"succeeded": 1}
    });
    if let Some(m) = manual_selector {
        job["spec"]["manualSelector"] = json!(m);
    }
    job
}

fn reload() -> Patch {
    serde_json::from_value(json!([{
        "op": "add",
        "path": "/spec/template/spec/containers/0/env",
        "value": [{"name": "STAKATER_DB_SECRET", "value": "sha256:ab"}]
    }]))
    .unwrap()
}

#[test]
fn the_new_job_carries_the_reload_and_nothing_the_server_set() {
    let new = recreated(&stored_job(None), &reload()).unwrap();
    assert_eq!(
        new.pointer("/spec/template/spec/containers/0/env/0/value"),
        Some(&json!("sha256:ab")),
        "the reload is applied"
    );
    for gone in [
        "/metadata/uid",
        "/metadata/resourceVersion",
        "/metadata/generation",
        "/metadata/creationTimestamp",
        "/metadata/managedFields",
        "/status",
        "/spec/selector",
    ] {
        assert_eq!(new.pointer(gone), None, "{gone}");
    }
    let labels = json!({"app": "shop"});
    assert_eq!(new.pointer("/metadata/labels"), Some(&labels));
    assert_eq!(new.pointer("/spec/template/metadata/labels"), Some(&labels));
    for kept in [
        "/metadata/name",
        "/metadata/namespace",
        "/metadata/annotations/team",
        "/spec/backoffLimit",
    ] {
        assert!(new.pointer(kept).is_some(), "{kept}");
    }
}

#[test]
fn a_selector_the_job_chose_itself_is_kept_with_its_labels() {
    for (name, manual, kept) in [
        ("manual selector", Some(true), true),
        ("manualSelector false", Some(false), false),
        ("generated selector", None, false),
    ] {
        let new = recreated(&stored_job(manual), &reload()).unwrap();
        assert_eq!(new.pointer("/spec/selector").is_some(), kept, "{name}");
        assert_eq!(
            new.pointer("/spec/template/metadata/labels/controller-uid")
                .is_some(),
            kept,
            "{name}"
        );
    }
}

#[test]
fn a_patch_that_does_not_apply_is_an_error_not_a_job() {
    let stale: Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "other"}
    ]))
    .unwrap();
    assert!(matches!(
        recreated(&stored_job(None), &stale),
        Err(RecreateError::Patch(_))
    ));
}

#[test]
fn only_a_cronjob_of_the_batch_api_counts_as_the_owner() {
    let owner = |v: &str, k: &str| vec![(v.to_owned(), k.to_owned())];
    let cases = [
        ("batch/v1 CronJob", owner("batch/v1", "CronJob"), true),
        (
            "batch/v1beta1 CronJob",
            owner("batch/v1beta1", "CronJob"),
            true,
        ),
        (
            "another API's CronJob",
            owner("example.com/v1", "CronJob"),
            false,
        ),
        ("a Deployment", owner("apps/v1", "Deployment"), false),
        ("no owner", vec![], false),
    ];
    for (name, owners, want) in cases {
        assert_eq!(owned_by_cronjob(&owners), want, "{name}");
    }
}
