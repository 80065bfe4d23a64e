//! `/mutate/workloads` reads every workload write the API server admits and may answer
//! with a patch the API server applies before storing the object. This target feeds the
//! decoder arbitrary bodies and checks that it never panics, that an accepted review is
//! well formed, that `template_changed` is false for an unchanged template and true on
//! CREATE, and that the baseline patch `stamp` builds for the sources the pod spec
//! references (both strategies at once, or a Rollout's restart record) applies with the
//! `json-patch` crate, records every hash, survives the base64-JSON encoding of the
//! answer, and leaves nothing to stamp a second time.
//!
//! Input: an AdmissionReview request body, as the API server sends it.
#![no_main]

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use libfuzzer_sys::fuzz_target;
use reloader::webhook::review;
use reloader::webhook::workloads::{stamp, template_changed};
use reloader_core::baseline::Wanted;
use reloader_core::patch::restart::{self, RolloutStrategy};
use reloader_core::patch::{PatchError, Record, ReloadStrategy, env_var_name, recorded_hash};
use reloader_core::pod_template::{PodTemplate, pod_template};
use reloader_core::refs::FollowMode;
use reloader_core::source::SourceRef;
use reloader_core::workload::WorkloadKind;
use reloader_fuzz::hash_from;
use serde_json::Value;

/// What the engine would ask to record: every source the pod spec references, strategies
/// alternating, the env var in the container `container_for` picks.
fn wanted(kind: WorkloadKind, namespace: &str, object: &Value) -> Vec<Wanted> {
    let PodTemplate::Inline(template) = pod_template(kind, object) else {
        return Vec::new();
    };
    let Some(spec) = template.spec.as_ref() else {
        return Vec::new();
    };
    let refs = reloader_core::refs::PodRefs::from_pod_spec(spec);
    refs.referenced()
        .enumerate()
        .map(|(i, key)| Wanted {
            record: Record {
                source: SourceRef::new(namespace, key.kind, &key.name),
                hash: hash_from(&key.name),
                container: refs.container_for(key.kind, &key.name, FollowMode::Auto),
                stakater: None,
            },
            strategy: if i % 2 == 0 { ReloadStrategy::EnvVars } else { ReloadStrategy::Annotations },
            baseline_required: false,
            same_data: Vec::new(),
            keep_stakater: false,
            stakater: None,
        })
        .collect()
}

fn check_stamp(kind: WorkloadKind, namespace: &str, object: &Value) {
    let wanted = wanted(kind, namespace, object);
    let patch = match stamp(kind, object, &wanted) {
        Ok(None) => return,
        Ok(Some(patch)) => patch,
        Err(PatchError::NoTemplate { .. }) => {
            assert!(object.pointer(kind.template_pointer()).is_none());
            return;
        }
        // The container indices come from the pod spec itself.
        Err(e @ PatchError::NoContainer { .. }) => panic!("{e}"),
    };
    assert!(!patch.0.is_empty(), "an empty patch is answered as none");
    let encoded = serde_json::to_vec(&patch).expect("the patch encodes");
    let decoded: json_patch::Patch = serde_json::from_slice(&encoded).expect("and decodes");
    assert_eq!(decoded, patch);
}

/// `object` as the API server writes it: its metadata and pod template decoded and encoded
/// again (no nulls, no unknown fields); `None` when either does not decode.
fn as_served(kind: WorkloadKind, object: &Value) -> Option<Value> {
    let mut out = object.clone();
    if let Some(meta) = object.get("metadata") {
        let typed: ObjectMeta = serde_json::from_value(meta.clone()).ok()?;
        out["metadata"] = serde_json::to_value(typed).ok()?;
    }
    let template = object.pointer(kind.template_pointer())?;
    let typed: PodTemplateSpec = serde_json::from_value(template.clone()).ok()?;
    *out.pointer_mut(kind.template_pointer())? = serde_json::to_value(typed).ok()?;
    Some(out)
}

/// The round trip, owed to a workload as the API server writes it.
fn check_round_trip(kind: WorkloadKind, namespace: &str, object: &Value) {
    let wanted = wanted(kind, namespace, object);
    let restarts = RolloutStrategy::of(kind, object) == RolloutStrategy::Restart;
    let Some(patch) = stamp(kind, object, &wanted).expect("a served workload is stamped") else {
        return;
    };
    let mut vars = BTreeMap::new();
    for w in wanted.iter().filter(|w| w.strategy == ReloadStrategy::EnvVars) {
        let s = &w.record.source;
        if vars.insert(env_var_name(s.kind, &s.name), s.clone()).is_some_and(|o| &o != s) {
            return; // colliding stakater env var names, see docs/fuzzing.md
        }
    }
    let mut stamped = object.clone();
    json_patch::patch(&mut stamped, &patch).unwrap_or_else(|e| panic!("the stamp does not apply: {e}"));
    for w in &wanted {
        let source = &w.record.source;
        let recorded = if restarts {
            restart::recorded_hash(&stamped, source)
        } else {
            recorded_hash(kind, &stamped, w.strategy, source)
        };
        if restarts || w.strategy == ReloadStrategy::Annotations || w.record.container.is_some() {
            assert_eq!(recorded, Some(w.record.hash.to_string()), "{source} not stamped");
        }
    }
    assert_eq!(stamp(kind, &stamped, &wanted), Ok(None), "a stamped workload is stamped again");
}

fuzz_target!(|data: &[u8]| {
    let Ok(review) = review::parse(data) else {
        return;
    };
    assert!(!review.uid.is_empty());
    let Ok(kind) = review.kind.kind.parse::<WorkloadKind>() else {
        return;
    };
    let Some(object) = review.object.and_then(|o| serde_json::from_str::<Value>(o.get()).ok()) else {
        return;
    };
    assert!(template_changed(kind, &object, None), "CREATE always changes the template");
    assert!(!template_changed(kind, &object, Some(&object)), "the same template changed");
    if let Some(old) = review.old_object.and_then(|o| serde_json::from_str::<Value>(o.get()).ok()) {
        assert_eq!(template_changed(kind, &object, Some(&old)), template_changed(kind, &old, Some(&object)));
    }
    check_stamp(kind, &review.namespace, &object);
    if let Some(served) = as_served(kind, &object) {
        check_round_trip(kind, &review.namespace, &served);
    }
});
