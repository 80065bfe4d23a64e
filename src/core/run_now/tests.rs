use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::hash::{SourceHash, hash_maps};
use crate::patch::{Record, ReloadStrategy, build_patch, env_var_name};
use crate::source::{SourceKind, SourceRef};
use crate::workload::WorkloadKind;

fn hash(text: &str) -> SourceHash {
    hash_maps(
        Some(&BTreeMap::from([(
            "k".to_string(),
            text.as_bytes().to_vec(),
        )])),
        None,
    )
}

fn change(name: &str, data: &str) -> Change {
    Change {
        source: SourceRef::new("ops", SourceKind::Secret, name),
        old: None,
        new: hash(data),
    }
}

fn cronjob(name: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "namespace": "ops", "uid": "c-1", "resourceVersion": "7"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {
            "metadata": {"labels": {"app": "backup"}, "annotations": {"team": "ops"}},
            "spec": {"backoffLimit": 1, "template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "job", "image": "backup"}]}}}}}
    })
}

/// The reload of `db` to `data`, as the engine builds it, and the Job for it.
fn job(cron: &Value, data: &str) -> Result<Value, RunNowError> {
    let records = [Record {
        source: SourceRef::new("ops", SourceKind::Secret, "db"),
        hash: hash(data),
        container: Some(0),
        stakater: None,
    }];
    let patch = build_patch(
        WorkloadKind::CronJob,
        cron,
        ReloadStrategy::EnvVars,
        &records,
    )
    .expect("patch");
    job_for(cron, &patch, &[change("db", data)])
}

#[test]
fn the_job_runs_the_patched_template_owned_by_the_cronjob() {
    let job = job(&cronjob("backup"), "two").expect("job");
    let var = env_var_name(SourceKind::Secret, "db");
    let cases = [
        ("kind", "/kind", json!("Job")),
        ("namespace", "/metadata/namespace", json!("ops")),
        (
            "labels of the template",
            "/metadata/labels/app",
            json!("backup"),
        ),
        (
            "annotations of the template",
            "/metadata/annotations/team",
            json!("ops"),
        ),
        (
            "a manual run",
            &format!("/metadata/annotations/{}", INSTANTIATE.replace('/', "~1")),
            json!("manual"),
        ),
        ("owner", "/metadata/ownerReferences/0/name", json!("backup")),
        (
            "owner's uid",
            "/metadata/ownerReferences/0/uid",
            json!("c-1"),
        ),
        (
            "controller",
            "/metadata/ownerReferences/0/controller",
            json!(true),
        ),
        ("the template's spec", "/spec/backoffLimit", json!(1)),
        (
            "the reload applied",
            "/spec/template/spec/containers/0/env/0/name",
            json!(var),
        ),
    ];
    for (what, pointer, want) in cases {
        assert_eq!(
            job.pointer(pointer),
            Some(&want),
            "{what} at {pointer}: {job:#}"
        );
    }
    assert!(job.pointer("/spec/schedule").is_none());
    assert!(job.pointer("/metadata/resourceVersion").is_none());
}

#[test]
fn the_name_is_the_change_so_the_same_reload_asks_for_the_same_job() {
    let cron = cronjob("backup");
    let name = |data: &str| job(&cron, data).unwrap()["metadata"]["name"].clone();
    assert_eq!(name("two"), name("two"), "a retry or a second replica");
    assert_ne!(name("two"), name("three"), "the next change runs again");
    let text = name("two");
    let text = text.as_str().unwrap();
    assert!(
        text.starts_with("backup-reload-") && text.len() == "backup-reload-".len() + 10,
        "{text}"
    );

    let long = "a-very-long-cronjob-name-that-goes-on-and-on-and-on-past-forty";
    let n = job_name(long, &[change("db", "two")]);
    assert!(n.len() <= 58 && n.starts_with(&long[..40]), "{n}");
    let dash = job_name(&format!("{}-x", "b".repeat(39)), &[change("db", "two")]);
    assert!(!dash.contains("--"), "{dash}");
}

#[test]
fn what_cannot_make_a_job_is_a_typed_error() {
    let mut no_uid = cronjob("backup");
    no_uid["metadata"].as_object_mut().unwrap().remove("uid");
    assert_eq!(
        job(&no_uid, "two"),
        Err(RunNowError::Missing("/metadata/uid"))
    );

    // The patch is built for one object and refused by another (a test operation fails).
    let cron = cronjob("backup");
    let records = [Record {
        source: SourceRef::new("ops", SourceKind::Secret, "db"),
        hash: hash("two"),
        container: Some(0),
        stakater: None,
    }];
    let patch = build_patch(
        WorkloadKind::CronJob,
        &cron,
        ReloadStrategy::EnvVars,
        &records,
    )
    .unwrap();
    let mut edited = cron.clone();
    edited["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["name"] =
        json!("renamed");
    assert!(matches!(
        job_for(&edited, &patch, &[change("db", "two")]),
        Err(RunNowError::Patch(_))
    ));
}
