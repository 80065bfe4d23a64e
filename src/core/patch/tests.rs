use super::*;
use crate::hash::hash_maps;
use std::collections::BTreeMap;

pub(super) fn h(text: &str) -> SourceHash {
    hash_maps(
        Some(&BTreeMap::from([(
            "k".to_string(),
            text.as_bytes().to_vec(),
        )])),
        None,
    )
}

fn record(kind: SourceKind, name: &str, hash: SourceHash, container: Option<usize>) -> Record {
    Record {
        source: SourceRef::new("team-a", kind, name),
        hash,
        container,
        stakater: None,
    }
}

fn deployment(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "team-a"},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}}
    })
}

/// The patch for a Deployment with the env-vars strategy.
fn env_vars(doc: &Value, records: &[Record]) -> Patch {
    build_patch(
        WorkloadKind::Deployment,
        doc,
        ReloadStrategy::EnvVars,
        records,
    )
    .unwrap()
}

/// The patch for a Deployment with the annotations strategy.
fn annotations_patch(doc: &Value, records: &[Record]) -> Patch {
    build_patch(
        WorkloadKind::Deployment,
        doc,
        ReloadStrategy::Annotations,
        records,
    )
    .unwrap()
}

pub(super) fn apply(doc: &Value, p: &Patch) -> Result<Value, json_patch::PatchError> {
    let mut out = doc.clone();
    json_patch::patch(&mut out, p)?;
    Ok(out)
}

#[test]
fn env_var_names_are_sanitized_like_stakater() {
    let cases = [
        (
            "dots become underscores",
            SourceKind::ConfigMap,
            "www.stakater.com",
            "STAKATER_WWW_STAKATER_COM_CONFIGMAP",
        ),
        (
            "dashes become underscores",
            SourceKind::Secret,
            "db-creds",
            "STAKATER_DB_CREDS_SECRET",
        ),
        (
            "runs collapse to one",
            SourceKind::Secret,
            "a--..b",
            "STAKATER_A_B_SECRET",
        ),
        (
            "leading junk is dropped",
            SourceKind::Secret,
            "-.a",
            "STAKATER_A_SECRET",
        ),
        (
            "trailing junk leaves one underscore",
            SourceKind::Secret,
            "a.",
            "STAKATER_A__SECRET",
        ),
        (
            "digits are kept",
            SourceKind::ConfigMap,
            "v2",
            "STAKATER_V2_CONFIGMAP",
        ),
        (
            "non-ascii counts as junk",
            SourceKind::Secret,
            "é1",
            "STAKATER_1_SECRET",
        ),
    ];
    for (case, kind, name, expected) in cases {
        assert_eq!(env_var_name(kind, name), expected, "{case}");
    }
}

#[test]
fn strategy_parses_from_its_crd_spelling_only() {
    assert_eq!("env-vars".parse(), Ok(ReloadStrategy::EnvVars));
    assert_eq!("annotations".parse(), Ok(ReloadStrategy::Annotations));
    let err = "envvars".parse::<ReloadStrategy>().unwrap_err();
    assert!(err.to_string().contains("env-vars or annotations"));
}

#[test]
fn env_var_is_added_to_the_chosen_container_and_then_is_idempotent() {
    let doc = deployment(
        json!([{"name": "sidecar"}, {"name": "app", "env": [{"name": "A", "value": "1"}]}]),
    );
    let records = [record(SourceKind::Secret, "db", h("1"), Some(1))];
    let p = env_vars(&doc, &records);
    let after = apply(&doc, &p).unwrap();
    let env = &after["spec"]["template"]["spec"]["containers"][1]["env"];
    assert_eq!(env[0], json!({"name": "A", "value": "1"}));
    assert_eq!(
        env[1],
        json!({"name": "STAKATER_DB_SECRET", "value": h("1").to_string()})
    );
    assert!(
        after["spec"]["template"]["spec"]["containers"][0]
            .get("env")
            .is_none()
    );
    let again = env_vars(&after, &records);
    assert!(
        again.0.is_empty(),
        "same hash must not patch again: {again:?}"
    );
}

#[test]
fn a_container_without_env_gets_one() {
    let doc = deployment(json!([{"name": "app"}]));
    let records = [record(SourceKind::ConfigMap, "cfg", h("1"), Some(0))];
    let p = env_vars(&doc, &records);
    let after = apply(&doc, &p).unwrap();
    assert_eq!(
        after["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "STAKATER_CFG_CONFIGMAP", "value": h("1").to_string()}])
    );
}

#[test]
fn a_changed_hash_replaces_the_value_where_it_already_is() {
    let doc = deployment(json!([
        {"name": "a"},
        {"name": "b", "env": [{"name": "STAKATER_DB_SECRET", "value": h("1").to_string()}]}
    ]));
    // The chosen container moved to 0, but the var lives in 1: update it there, never duplicate.
    let records = [record(SourceKind::Secret, "db", h("2"), Some(0))];
    let p = env_vars(&doc, &records);
    let after = apply(&doc, &p).unwrap();
    let containers = &after["spec"]["template"]["spec"]["containers"];
    assert!(containers[0].get("env").is_none());
    assert_eq!(
        containers[1]["env"],
        json!([{"name": "STAKATER_DB_SECRET", "value": h("2").to_string()}])
    );
    assert_eq!(
        recorded_hash(
            WorkloadKind::Deployment,
            &after,
            ReloadStrategy::EnvVars,
            &records[0].source
        ),
        Some(h("2").to_string())
    );
}

#[test]
fn several_sources_become_one_patch() {
    let doc = deployment(json!([{"name": "app"}]));
    let records = [
        record(SourceKind::Secret, "db", h("1"), Some(0)),
        record(SourceKind::ConfigMap, "cfg", h("2"), Some(0)),
    ];
    let p = env_vars(&doc, &records);
    let after = apply(&doc, &p).unwrap();
    let env = after["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(env.len(), 2);
}

#[test]
fn no_container_means_nothing_recorded_for_env_vars() {
    let doc = deployment(json!([{"name": "app"}]));
    let records = [record(SourceKind::Secret, "db", h("1"), None)];
    let p = env_vars(&doc, &records);
    assert!(p.0.is_empty());
}

#[test]
fn a_concurrent_env_edit_makes_the_patch_fail_instead_of_clobbering() {
    let doc = deployment(json!([{"name": "app", "env": [{"name": "A", "value": "1"}]}]));
    let records = [record(SourceKind::Secret, "db", h("1"), Some(0))];
    let p = env_vars(&doc, &records);
    let mut edited = doc.clone();
    edited["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = json!("2");
    assert!(apply(&edited, &p).is_err());
    let mut reordered = doc.clone();
    reordered["spec"]["template"]["spec"]["containers"][0]["name"] = json!("renamed");
    assert!(apply(&reordered, &p).is_err());
}

#[test]
fn cronjob_patches_land_in_the_job_template() {
    let doc = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}});
    let records = [record(SourceKind::Secret, "db", h("1"), Some(0))];
    let p = build_patch(
        WorkloadKind::CronJob,
        &doc,
        ReloadStrategy::EnvVars,
        &records,
    )
    .unwrap();
    let after = apply(&doc, &p).unwrap();
    assert!(
        after
            .pointer("/spec/jobTemplate/spec/template/spec/containers/0/env/0")
            .is_some()
    );
}

#[test]
fn missing_template_or_container_is_a_typed_error() {
    let records = [record(SourceKind::Secret, "db", h("1"), Some(3))];
    let no_template = json!({"spec": {}});
    assert!(matches!(
        build_patch(
            WorkloadKind::Deployment,
            &no_template,
            ReloadStrategy::EnvVars,
            &records
        ),
        Err(PatchError::NoTemplate { .. })
    ));
    let doc = deployment(json!([{"name": "app"}]));
    assert_eq!(
        build_patch(
            WorkloadKind::Deployment,
            &doc,
            ReloadStrategy::EnvVars,
            &records
        ),
        Err(PatchError::NoContainer {
            kind: WorkloadKind::Deployment,
            index: 3
        })
    );
}

#[test]
fn annotations_strategy_records_every_hash_without_a_timestamp() {
    let doc = deployment(json!([{"name": "app"}]));
    let records = [
        record(SourceKind::Secret, "db", h("1"), None),
        record(SourceKind::ConfigMap, "cfg", h("2"), None),
    ];
    let p = annotations_patch(&doc, &records);
    let after = apply(&doc, &p).unwrap();
    let annotations = &after["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(
        after["spec"]["template"]["metadata"]["labels"]["app"],
        "web"
    );
    let last: Value =
        serde_json::from_str(annotations[LAST_RELOADED_FROM].as_str().unwrap()).unwrap();
    assert_eq!(last["type"], "CONFIGMAP");
    assert_eq!(last["name"], "cfg");
    assert_eq!(last["namespace"], "team-a");
    assert_eq!(last["hash"], h("2").to_string());
    assert!(last.get("observedAt").is_none());
    for r in &records {
        assert_eq!(
            recorded_hash(
                WorkloadKind::Deployment,
                &after,
                ReloadStrategy::Annotations,
                &r.source
            ),
            Some(r.hash.to_string())
        );
    }
    let again = annotations_patch(&after, &records);
    assert!(again.0.is_empty());
}

#[test]
fn annotations_strategy_keeps_other_annotations_and_guards_its_own() {
    let mut doc = deployment(json!([{"name": "app"}]));
    doc["spec"]["template"]["metadata"]["annotations"] = json!({"keep": "me"});
    let first = [record(SourceKind::Secret, "db", h("1"), None)];
    let p1 = annotations_patch(&doc, &first);
    let after1 = apply(&doc, &p1).unwrap();
    assert_eq!(
        after1["spec"]["template"]["metadata"]["annotations"]["keep"],
        "me"
    );
    let second = [record(SourceKind::Secret, "db", h("2"), None)];
    let p2 = annotations_patch(&after1, &second);
    // Someone else recorded another hash meanwhile: the guard refuses the stale patch.
    let mut raced = after1.clone();
    let key = SOURCE_HASHES;
    raced["spec"]["template"]["metadata"]["annotations"][key] = json!("{}");
    assert!(apply(&raced, &p2).is_err());
    assert!(apply(&after1, &p2).is_ok());
}

#[test]
fn a_template_without_metadata_gets_it() {
    let doc = json!({"spec": {"template": {"spec": {"containers": [{"name": "app"}]}}}});
    let records = [record(SourceKind::Secret, "db", h("1"), None)];
    let p = build_patch(
        WorkloadKind::StatefulSet,
        &doc,
        ReloadStrategy::Annotations,
        &records,
    )
    .unwrap();
    let after = apply(&doc, &p).unwrap();
    assert!(after["spec"]["template"]["metadata"]["annotations"][SOURCE_HASHES].is_string());
}

#[test]
fn annotation_keys_are_escaped_in_pointers() {
    let mut doc = deployment(json!([{"name": "app"}]));
    doc["spec"]["template"]["metadata"]["annotations"] = json!({"x": "y"});
    let records = [record(SourceKind::Secret, "db", h("1"), None)];
    let p = annotations_patch(&doc, &records);
    let text = serde_json::to_string(&p).unwrap();
    assert!(
        text.contains("reloader.stakater.com~1source-hashes"),
        "{text}"
    );
}

#[test]
fn a_garbled_hash_annotation_is_treated_as_nothing_recorded() {
    let mut doc = deployment(json!([{"name": "app"}]));
    doc["spec"]["template"]["metadata"]["annotations"] = json!({SOURCE_HASHES: "not json"});
    let records = [record(SourceKind::Secret, "db", h("1"), None)];
    let p = annotations_patch(&doc, &records);
    let after = apply(&doc, &p).unwrap();
    assert_eq!(
        recorded_hash(
            WorkloadKind::Deployment,
            &after,
            ReloadStrategy::Annotations,
            &records[0].source
        ),
        Some(h("1").to_string())
    );
}

#[test]
fn entries_of_other_sources_are_kept_byte_for_byte() {
    // Found by the patch_roundtrip fuzz target: a number parsed and written again changed.
    let cases = [
        ("a hash", r#""abc""#),
        ("a huge number", "1111111111111111111111"),
        ("a float", "0.30000000000000004"),
        ("an object", r#"{"b":[1,null,"x"]}"#),
        ("an escaped string", r#""\u00e9\n""#),
    ];
    for (name, entry) in cases {
        let mut doc = deployment(json!([{"name": "app"}]));
        let text = format!(r#"{{"ConfigMap/other":{entry},"Secret/db":"old"}}"#);
        doc["spec"]["template"]["metadata"]["annotations"] = json!({SOURCE_HASHES: text});
        let records = [record(SourceKind::Secret, "db", h("1"), None)];
        let after = apply(&doc, &annotations_patch(&doc, &records)).unwrap();
        let written = after["spec"]["template"]["metadata"]["annotations"][SOURCE_HASHES]
            .as_str()
            .unwrap();
        assert!(
            written.starts_with(&format!(r#"{{"ConfigMap/other":{entry},"#)),
            "{name}: {written}"
        );
        let other = SourceRef::new("team-a", SourceKind::ConfigMap, "other");
        let kept = recorded_hash(
            WorkloadKind::Deployment,
            &after,
            ReloadStrategy::Annotations,
            &other,
        );
        assert_eq!(
            kept.is_some(),
            entry.starts_with('"'),
            "{name}: only a string is a hash"
        );
    }
}

#[test]
fn a_first_record_fails_instead_of_clobbering_one_another_replica_wrote_meanwhile() {
    // Two replicas read the same object (no env, no template annotations) and both build a
    // first record; the second one's patch must fail on the first one's result, whatever
    // else that write brought with it.
    let doc = deployment(json!([{"name": "app"}]));
    let records = [record(SourceKind::Secret, "db", h("1"), Some(0))];
    let cases: [(&str, ReloadStrategy, &str, Value); 4] = [
        (
            "env added",
            ReloadStrategy::EnvVars,
            "/spec/template/spec/containers/0/env",
            json!([{"name": "X", "value": "1"}]),
        ),
        (
            "image changed",
            ReloadStrategy::EnvVars,
            "/spec/template/spec/containers/0/image",
            json!("web:2"),
        ),
        (
            "annotations added",
            ReloadStrategy::Annotations,
            "/spec/template/metadata/annotations",
            json!({"a": "b"}),
        ),
        (
            "labels changed",
            ReloadStrategy::Annotations,
            "/spec/template/metadata/labels/app",
            json!("other"),
        ),
    ];
    for (case, strategy, pointer, value) in cases {
        let p = build_patch(WorkloadKind::Deployment, &doc, strategy, &records).unwrap();
        assert!(
            apply(&doc, &p).is_ok(),
            "{case}: applies to what it was built from"
        );
        let mut meanwhile = doc.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        meanwhile.pointer_mut(parent).expect(parent)[key] = value;
        assert!(
            apply(&meanwhile, &p).is_err(),
            "{case}: clobbered a concurrent write"
        );
    }
}
