use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;

use super::*;
use crate::hash::hash_configmap;
use crate::source::SourceKind;

fn hash(v: &str) -> SourceHash {
    hash_configmap(&ConfigMap {
        data: Some([("k".to_string(), v.to_string())].into()),
        ..Default::default()
    })
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap()
}

fn deployment(env: Value, annotations: Value) -> Value {
    json!({
        "metadata": {"name": "web", "namespace": "ns", "annotations": annotations},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "x", "env": env}]}}}
    })
}

fn wanted(name: &str, h: SourceHash, strategy: ReloadStrategy, baseline: bool) -> Wanted {
    Wanted {
        record: Record {
            source: SourceRef::new("ns", SourceKind::ConfigMap, name),
            hash: h,
            container: Some(0),
            stakater: None,
        },
        strategy,
        baseline_required: baseline,
        same_data: Vec::new(),
        keep_stakater: false,
        stakater: None,
    }
}

fn spacing(first: i64, pause: Option<u64>) -> Spacing {
    Spacing {
        first_pending: at(first),
        coalesce: Duration::ZERO,
        pause: pause.map(Duration::from_secs),
    }
}

/// The step for a Deployment whose only pending change arrived at `secs`, without a pause.
fn deployment_step(object: &Value, wanted: &[Wanted], secs: i64) -> Step {
    decide(
        WorkloadKind::Deployment,
        object,
        wanted,
        at(secs),
        spacing(secs, None),
    )
    .unwrap()
}

fn applied(object: &Value, step: &Step) -> Value {
    let Step::Patch { patch, .. } = step else {
        panic!("expected a patch, got {step:?}");
    };
    let mut out = object.clone();
    json_patch::patch(&mut out, patch).expect("patch applies to the object it was built from");
    out
}

#[test]
fn a_new_hash_is_recorded_with_the_reload_time() {
    let object = deployment(json!([]), json!({}));
    let w = [wanted("cfg", hash("1"), ReloadStrategy::EnvVars, false)];
    let step = deployment_step(&object, &w, 10);
    let after = applied(&object, &step);
    assert_eq!(
        recorded_hash(
            WorkloadKind::Deployment,
            &after,
            ReloadStrategy::EnvVars,
            &w[0].record.source
        ),
        Some(hash("1").to_string())
    );
    assert_eq!(
        after["metadata"]["annotations"][LAST_RELOAD_AT],
        json!(planner::format_last_reload(at(10)))
    );
    let Step::Patch { changes, .. } = step else {
        unreachable!()
    };
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].old, None);
}

#[test]
fn a_workload_without_metadata_annotations_gets_the_map() {
    let mut object = deployment(json!([]), json!({}));
    object["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    let w = [wanted("cfg", hash("1"), ReloadStrategy::Annotations, false)];
    let step = deployment_step(&object, &w, 10);
    let after = applied(&object, &step);
    assert!(after["metadata"]["annotations"][LAST_RELOAD_AT].is_string());
}

#[test]
fn an_already_recorded_hash_needs_nothing() {
    let object = deployment(json!([]), json!({}));
    let w = [wanted("cfg", hash("1"), ReloadStrategy::EnvVars, false)];
    let step = deployment_step(&object, &w, 10);
    let after = applied(&object, &step);
    let again = deployment_step(&after, &w, 11);
    assert_eq!(again, Step::UpToDate);
}

#[test]
fn resync_never_creates_a_first_record() {
    let object = deployment(json!([]), json!({}));
    let w = [wanted("cfg", hash("1"), ReloadStrategy::EnvVars, true)];
    let step = deployment_step(&object, &w, 10);
    assert_eq!(step, Step::UpToDate);
}

#[test]
fn resync_updates_an_outdated_record() {
    let object = deployment(
        json!([{"name": "STAKATER_CFG_CONFIGMAP", "value": hash("0").to_string()}]),
        json!({}),
    );
    let w = [wanted("cfg", hash("1"), ReloadStrategy::EnvVars, true)];
    let step = deployment_step(&object, &w, 10);
    let Step::Patch { changes, .. } = &step else {
        panic!("{step:?}")
    };
    assert_eq!(changes[0].old, Some(hash("0").to_string()));
}

#[test]
fn two_sources_become_one_patch() {
    let object = deployment(json!([]), json!({}));
    let w = [
        wanted("a", hash("1"), ReloadStrategy::EnvVars, false),
        wanted("b", hash("2"), ReloadStrategy::Annotations, false),
    ];
    let step = deployment_step(&object, &w, 10);
    let after = applied(&object, &step);
    for x in &w {
        assert_eq!(
            recorded_hash(
                WorkloadKind::Deployment,
                &after,
                x.strategy,
                &x.record.source
            ),
            Some(x.record.hash.to_string())
        );
    }
}

#[test]
fn inside_the_pause_the_reload_waits_for_its_end() {
    let last = planner::format_last_reload(at(0));
    let object = deployment(json!([]), json!({ LAST_RELOAD_AT: last }));
    let w = [wanted("cfg", hash("1"), ReloadStrategy::EnvVars, false)];
    let cases = [
        ("inside the pause", 30, Step::WaitUntil(at(60))),
        ("pause over", 61, Step::UpToDate),
    ];
    for (name, now, want) in cases {
        let step = decide(
            WorkloadKind::Deployment,
            &object,
            &w,
            at(now),
            spacing(now, Some(60)),
        )
        .unwrap();
        match want {
            Step::UpToDate => assert!(matches!(step, Step::Patch { .. }), "{name}: {step:?}"),
            want => assert_eq!(step, want, "{name}"),
        }
    }
}

#[test]
fn a_change_that_needs_no_patch_ignores_the_pause() {
    let object = deployment(
        json!([{"name": "STAKATER_CFG_CONFIGMAP", "value": hash("1").to_string()}]),
        json!({ LAST_RELOAD_AT: planner::format_last_reload(at(0)) }),
    );
    let w = [wanted("cfg", hash("1"), ReloadStrategy::EnvVars, false)];
    let step = decide(
        WorkloadKind::Deployment,
        &object,
        &w,
        at(5),
        spacing(5, Some(60)),
    )
    .unwrap();
    assert_eq!(step, Step::UpToDate);
}

#[test]
fn change_descriptions_carry_short_hashes_only() {
    let change = Change {
        source: SourceRef::new("ns", SourceKind::Secret, "creds"),
        old: Some(hash("0").to_string()),
        new: hash("1"),
    };
    let text = change.describe();
    assert!(text.starts_with("Secret creds: "));
    assert_eq!(
        text.chars().count(),
        "Secret creds: ".len() + 12 + 1 + 12,
        "{text}"
    );
}

/// The step for a Rollout whose only pending change arrived at `secs`.
fn rollout_step(object: &Value, wanted: &[Wanted], secs: i64, pause: Option<u64>) -> Step {
    decide(
        WorkloadKind::Rollout,
        object,
        wanted,
        at(secs),
        spacing(secs, pause),
    )
    .unwrap()
}

fn rollout(rollout_strategy: Option<&str>) -> Value {
    let annotations = match rollout_strategy {
        Some(s) => json!({ crate::keys::ROLLOUT_STRATEGY: s }),
        None => json!({}),
    };
    let mut object = deployment(json!([]), annotations);
    object["kind"] = json!("Rollout");
    object["metadata"]["resourceVersion"] = json!("7");
    object
}

#[test]
fn rollouts_and_deploymentconfigs_are_rolled_through_their_template_by_default() {
    let cases = [
        (WorkloadKind::Rollout, rollout(None)),
        (WorkloadKind::Rollout, rollout(Some("rollout"))),
        (
            WorkloadKind::DeploymentConfig,
            deployment(json!([]), json!({})),
        ),
    ];
    for (kind, object) in cases {
        let w = [wanted("cfg", hash("1"), ReloadStrategy::EnvVars, false)];
        let step = decide(kind, &object, &w, at(10), spacing(10, None)).unwrap();
        let after = applied(&object, &step);
        assert_eq!(
            recorded_hash(kind, &after, ReloadStrategy::EnvVars, &w[0].record.source),
            Some(hash("1").to_string()),
            "{kind}"
        );
        assert!(after["spec"].get("restartAt").is_none(), "{kind}");
    }
}

#[test]
fn a_restarting_rollout_gets_restart_at_once_and_keeps_its_template() {
    for strategy in [ReloadStrategy::EnvVars, ReloadStrategy::Annotations] {
        let object = rollout(Some("restart"));
        let w = [wanted("cfg", hash("1"), strategy, false)];
        let step = rollout_step(&object, &w, 10, None);
        let Step::Patch { changes, .. } = &step else {
            panic!("expected a patch, got {step:?}");
        };
        assert_eq!(changes.len(), 1);
        let after = applied(&object, &step);
        assert_eq!(after["spec"]["template"], object["spec"]["template"]);
        assert_eq!(
            after["spec"]["restartAt"],
            planner::format_last_reload(at(10))
        );
        assert_eq!(
            after["metadata"]["annotations"][LAST_RELOAD_AT],
            planner::format_last_reload(at(10))
        );
        assert_eq!(
            restart::recorded_hash(&after, &w[0].record.source),
            Some(hash("1").to_string())
        );
        assert_eq!(
            rollout_step(&after, &w, 20, None),
            Step::UpToDate,
            "the same change never restarts twice ({strategy})"
        );
    }
}

#[test]
fn resync_never_restarts_a_rollout_without_a_recorded_hash() {
    let object = rollout(Some("restart"));
    let w = [wanted("cfg", hash("1"), ReloadStrategy::EnvVars, true)];
    assert_eq!(rollout_step(&object, &w, 10, None), Step::UpToDate);
}

#[test]
fn a_restart_waits_out_the_pause_like_any_reload() {
    let mut object = rollout(Some("restart"));
    object["metadata"]["annotations"][LAST_RELOAD_AT] = json!(planner::format_last_reload(at(0)));
    let w = [wanted("cfg", hash("1"), ReloadStrategy::EnvVars, false)];
    assert_eq!(
        rollout_step(&object, &w, 10, Some(60)),
        Step::WaitUntil(at(60))
    );
}

mod keyed_records {
    //! Which records made under another hashing scheme roll, and which do not: a rotation,
    //! turning keys on, and a lost key must never roll by themselves.
    use super::*;
    use crate::hash::{HashKey, Hasher, KeyRing};

    const OLD: &[u8] = b"the previous key, 32 bytes long!";
    const NEW: &[u8] = b"the current key is 32 bytes long";
    const LOST: &[u8] = b"a key nobody has any more, 32 b.";

    fn data(v: &str) -> ConfigMap {
        ConfigMap {
            data: Some([("k".to_string(), v.to_string())].into()),
            ..Default::default()
        }
    }

    fn keyed(key: &[u8], v: &str) -> SourceHash {
        Hasher::Keyed(HashKey::new(key).unwrap()).configmap(&data(v))
    }

    /// What the engine wants for data `v`, with the ring it has after a rotation.
    fn wanted_now(v: &str, resync: bool) -> Wanted {
        let ring = KeyRing::new(
            Some(HashKey::new(NEW).unwrap()),
            vec![HashKey::new(OLD).unwrap()],
        );
        let mut w = wanted(
            "cfg",
            ring.current().configmap(&data(v)),
            ReloadStrategy::EnvVars,
            resync,
        );
        w.same_data = ring.same_data(|h| h.configmap(&data(v)));
        w
    }

    fn recorded(h: &str) -> Value {
        deployment(
            json!([{"name": "STAKATER_CFG_CONFIGMAP", "value": h}]),
            json!({}),
        )
    }

    #[test]
    fn records_under_other_schemes_roll_only_for_a_real_change() {
        let cases: [(&str, String, &str, bool, bool); 10] = [
            (
                "previous key, same data, resync",
                keyed(OLD, "1").to_string(),
                "1",
                true,
                false,
            ),
            (
                "previous key, same data, trigger",
                keyed(OLD, "1").to_string(),
                "1",
                false,
                false,
            ),
            (
                "previous key, changed data, resync",
                keyed(OLD, "0").to_string(),
                "1",
                true,
                true,
            ),
            (
                "plain, same data (keys turned on), resync",
                hash("1").to_string(),
                "1",
                true,
                false,
            ),
            (
                "plain, same data, trigger",
                hash("1").to_string(),
                "1",
                false,
                false,
            ),
            (
                "plain, changed data, resync",
                hash("0").to_string(),
                "1",
                true,
                true,
            ),
            (
                "current key, same data, resync",
                keyed(NEW, "1").to_string(),
                "1",
                true,
                false,
            ),
            (
                "lost key, resync: no baseline",
                keyed(LOST, "1").to_string(),
                "1",
                true,
                false,
            ),
            (
                "lost key, trigger: the change was seen",
                keyed(LOST, "0").to_string(),
                "1",
                false,
                true,
            ),
            (
                "not a hash at all, resync",
                "garbage".to_string(),
                "1",
                true,
                true,
            ),
        ];
        for (name, record, now, resync, rolls) in cases {
            let object = recorded(&record);
            let step = deployment_step(&object, &[wanted_now(now, resync)], 10);
            assert_eq!(
                matches!(step, Step::Patch { .. }),
                rolls,
                "{name}: {step:?}"
            );
            if rolls {
                let after = applied(&object, &step);
                let text = recorded_hash(
                    WorkloadKind::Deployment,
                    &after,
                    ReloadStrategy::EnvVars,
                    &wanted_now(now, resync).record.source,
                );
                assert_eq!(
                    text,
                    Some(keyed(NEW, now).to_string()),
                    "{name}: written under the current key"
                );
            }
        }
    }

    #[test]
    fn an_event_shows_the_digest_not_the_key_id() {
        let change = Change {
            source: SourceRef::new("ns", SourceKind::Secret, "creds"),
            old: Some(keyed(OLD, "0").to_string()),
            new: keyed(NEW, "1"),
        };
        let text = change.describe();
        let old_digest = &keyed(OLD, "0").to_string()[9..21];
        assert_eq!(
            text,
            format!("Secret creds: {old_digest}→{}", keyed(NEW, "1").short())
        );
    }
}

/// A workload stakater/Reloader reloaded carries stakater's SHA-1; reloader compares like
/// with like, so taking over rolls nothing until the data really changes, then once.
mod stakater_records {
    use super::*;
    use crate::hash::StakaterHash;
    use crate::keys::LAST_RELOADED_FROM;

    fn stakater(v: &str) -> String {
        StakaterHash::configmap(&ConfigMap {
            data: Some([("k".to_string(), v.to_string())].into()),
            ..Default::default()
        })
        .to_string()
    }

    fn wanted_now(v: &str, strategy: ReloadStrategy, resync: bool) -> Wanted {
        let mut w = wanted("cfg", hash(v), strategy, resync);
        w.stakater = stakater(v).parse().ok();
        w
    }

    fn env_record(text: &str) -> Value {
        deployment(
            json!([{"name": "STAKATER_CFG_CONFIGMAP", "value": text}]),
            json!({}),
        )
    }

    fn annotation_record(kind: &str, name: &str, namespace: &str, text: &str) -> Value {
        let last = json!({"type": kind, "name": name, "namespace": namespace,
            "hash": text, "containerRefs": ["app"], "observedAt": 1_700_000_000});
        let mut object = deployment(json!([]), json!({}));
        object["spec"]["template"]["metadata"] =
            json!({"annotations": {LAST_RELOADED_FROM: last.to_string()}});
        object
    }

    #[test]
    fn a_stakater_record_rolls_only_for_a_real_change_and_then_once() {
        use ReloadStrategy::{Annotations, EnvVars};
        let cases = [
            (
                "env var, same data, resync",
                env_record(&stakater("1")),
                EnvVars,
                true,
                false,
            ),
            (
                "env var, same data, trigger",
                env_record(&stakater("1")),
                EnvVars,
                false,
                false,
            ),
            (
                "env var, changed data, resync",
                env_record(&stakater("0")),
                EnvVars,
                true,
                true,
            ),
            (
                "env var, changed data, trigger",
                env_record(&stakater("0")),
                EnvVars,
                false,
                true,
            ),
            (
                "last-reloaded-from, same data, resync",
                annotation_record("CONFIGMAP", "cfg", "ns", &stakater("1")),
                Annotations,
                true,
                false,
            ),
            (
                "last-reloaded-from, changed data, trigger",
                annotation_record("CONFIGMAP", "cfg", "ns", &stakater("0")),
                Annotations,
                false,
                true,
            ),
            (
                "last-reloaded-from of another source: no baseline for resync",
                annotation_record("CONFIGMAP", "other", "ns", &stakater("0")),
                Annotations,
                true,
                false,
            ),
            (
                "last-reloaded-from of a Secret of that name: no baseline for resync",
                annotation_record("SECRET", "cfg", "ns", &stakater("0")),
                Annotations,
                true,
                false,
            ),
            (
                "last-reloaded-from in another namespace: no baseline for resync",
                annotation_record("CONFIGMAP", "cfg", "elsewhere", &stakater("0")),
                Annotations,
                true,
                false,
            ),
        ];
        for (name, object, strategy, resync, rolls) in cases {
            let w = wanted_now("1", strategy, resync);
            let step = deployment_step(&object, std::slice::from_ref(&w), 10);
            assert_eq!(
                matches!(step, Step::Patch { .. }),
                rolls,
                "{name}: {step:?}"
            );
            if rolls {
                let after = applied(&object, &step);
                let text =
                    recorded_hash(WorkloadKind::Deployment, &after, strategy, &w.record.source);
                assert_eq!(
                    text,
                    Some(hash("1").to_string()),
                    "{name}: reloader's hash now"
                );
                assert_eq!(
                    deployment_step(&after, std::slice::from_ref(&w), 20),
                    Step::UpToDate,
                    "{name}: once"
                );
            }
        }
    }

    /// Side by side with stakater during a cut-over: where stakater's record is, the
    /// env-vars strategy writes stakater's hash of the new data, which is what stakater
    /// compares its env var with before it rolls (and so it rolls nothing more).
    #[test]
    fn a_kept_stakater_record_is_rewritten_in_stakaters_format() {
        use ReloadStrategy::{Annotations, EnvVars};
        let ours = hash("1").to_string();
        let cases = [
            (
                "kept, env var",
                env_record(&stakater("0")),
                EnvVars,
                true,
                stakater("1"),
            ),
            (
                "not kept, env var",
                env_record(&stakater("0")),
                EnvVars,
                false,
                ours.clone(),
            ),
            (
                "kept, but reloader's own record: reloader's hash",
                env_record(&hash("0").to_string()),
                EnvVars,
                true,
                ours.clone(),
            ),
            (
                "kept, annotations: stakater rolls at every change anyway",
                annotation_record("CONFIGMAP", "cfg", "ns", &stakater("0")),
                Annotations,
                true,
                ours.clone(),
            ),
        ];
        for (name, object, strategy, keep, written) in cases {
            let mut w = wanted_now("1", strategy, false);
            w.keep_stakater = keep;
            let step = deployment_step(&object, std::slice::from_ref(&w), 10);
            assert!(matches!(step, Step::Patch { .. }), "{name}: {step:?}");
            let after = applied(&object, &step);
            let text = recorded_hash(WorkloadKind::Deployment, &after, strategy, &w.record.source);
            assert_eq!(text.as_deref(), Some(written.as_str()), "{name}");
            assert_eq!(
                deployment_step(&after, std::slice::from_ref(&w), 20),
                Step::UpToDate,
                "{name}: once"
            );
        }
    }

    #[test]
    fn a_stakater_record_without_stakaters_hash_of_the_data_is_a_change() {
        // An engine that could not work out stakater's hash (no stored source) must not
        // take the record for up to date.
        let mut w = wanted_now("1", ReloadStrategy::EnvVars, false);
        w.stakater = None;
        let step = deployment_step(&env_record(&stakater("1")), &[w], 10);
        assert!(matches!(step, Step::Patch { .. }), "{step:?}");
    }
}
