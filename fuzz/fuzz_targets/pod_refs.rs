//! Which Secrets and ConfigMaps a pod spec uses decides who follows what: a reference
//! missed is a reload missed. This target decodes arbitrary pod specs and checks
//! `PodRefs::from_pod_spec` against an independent walk of the same spec as JSON (env
//! `valueFrom`, `envFrom`, and mounted secret, configMap and projected volumes, in main,
//! init and ephemeral containers), that `container_for` picks a container that exists and
//! prefers one that mounts, then one that reads, the source, and that what the caches keep
//! of a workload (`pod_template::prune`) has the same references, and is stable when
//! pruned again, for every workload kind.
//!
//! Input: a pod spec as JSON (`{"containers": [...], "volumes": [...]}`).
#![no_main]

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::PodSpec;
use libfuzzer_sys::fuzz_target;
use reloader_core::pod_template::{PodTemplate, pod_template, prune};
use reloader_core::refs::{FollowMode, PodRefs, SourceKey};
use reloader_core::source::SourceKind;
use reloader_core::workload::WorkloadKind;
use serde_json::{Value, json};

type Key = (SourceKind, String);

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn list<'a>(v: &'a Value, field: &str) -> &'a [Value] {
    v.get(field).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// The sources a volume carries.
fn volume_keys(volume: &Value) -> Vec<Key> {
    let mut out = Vec::new();
    if let Some(n) = str_at(volume, "/secret/secretName") {
        out.push((SourceKind::Secret, n.to_owned()));
    }
    if let Some(n) = str_at(volume, "/configMap/name") {
        out.push((SourceKind::ConfigMap, n.to_owned()));
    }
    for p in volume.pointer("/projected/sources").and_then(Value::as_array).into_iter().flatten() {
        if let Some(n) = str_at(p, "/secret/name") {
            out.push((SourceKind::Secret, n.to_owned()));
        }
        if let Some(n) = str_at(p, "/configMap/name") {
            out.push((SourceKind::ConfigMap, n.to_owned()));
        }
    }
    out
}

/// Per source: the main containers that mount it and those that read it via env, and
/// whether any container of any group uses it.
#[derive(Default)]
struct Oracle {
    mounted_by_main: BTreeMap<Key, Vec<usize>>,
    env_by_main: BTreeMap<Key, Vec<usize>>,
    used: BTreeSet<Key>,
    named: BTreeSet<Key>,
}

fn oracle(spec: &Value) -> Oracle {
    let mut o = Oracle::default();
    let mut by_volume: BTreeMap<&str, Vec<Key>> = BTreeMap::new();
    for v in list(spec, "volumes") {
        let keys = volume_keys(v);
        o.named.extend(keys.iter().cloned());
        by_volume.entry(v.get("name").and_then(Value::as_str).unwrap_or("")).or_default().extend(keys);
    }
    for (group, field) in [(0, "containers"), (1, "initContainers"), (2, "ephemeralContainers")] {
        for (i, c) in list(spec, field).iter().enumerate() {
            let mut mounted = Vec::new();
            for m in list(c, "volumeMounts") {
                let name = m.get("name").and_then(Value::as_str).unwrap_or("");
                mounted.extend(by_volume.get(name).into_iter().flatten().cloned());
            }
            let mut env = Vec::new();
            for e in list(c, "env") {
                if let Some(n) = str_at(e, "/valueFrom/secretKeyRef/name") {
                    env.push((SourceKind::Secret, n.to_owned()));
                }
                if let Some(n) = str_at(e, "/valueFrom/configMapKeyRef/name") {
                    env.push((SourceKind::ConfigMap, n.to_owned()));
                }
            }
            for e in list(c, "envFrom") {
                if let Some(n) = str_at(e, "/secretRef/name") {
                    env.push((SourceKind::Secret, n.to_owned()));
                }
                if let Some(n) = str_at(e, "/configMapRef/name") {
                    env.push((SourceKind::ConfigMap, n.to_owned()));
                }
            }
            o.named.extend(env.iter().cloned());
            o.used.extend(mounted.iter().cloned().chain(env.iter().cloned()));
            if group == 0 {
                for k in mounted {
                    o.mounted_by_main.entry(k).or_default().push(i);
                }
                for k in env {
                    o.env_by_main.entry(k).or_default().push(i);
                }
            }
        }
    }
    o
}

fn check_refs(spec: &PodSpec, as_json: &Value) -> PodRefs {
    let refs = PodRefs::from_pod_spec(spec);
    let o = oracle(as_json);
    let referenced: BTreeSet<Key> =
        refs.referenced().map(|SourceKey { kind, name }| (*kind, name.clone())).collect();
    assert_eq!(referenced, o.used, "referenced sources");
    let containers = spec.containers.len();
    for key @ (kind, name) in o.named.iter().chain([(SourceKind::Secret, "absent".to_owned())].iter()) {
        assert_eq!(refs.references(*kind, name), o.used.contains(key));
        for mode in [FollowMode::Explicit, FollowMode::Auto] {
            let chosen = refs.container_for(*kind, name, mode);
            if let Some(i) = chosen {
                assert!(i < containers, "container {i} of {containers}");
            }
            let first = (containers > 0).then_some(0);
            let want = if let Some(m) = o.mounted_by_main.get(key) {
                m.first().copied()
            } else if let Some(e) = o.env_by_main.get(key) {
                e.first().copied()
            } else if o.used.contains(key) || mode == FollowMode::Explicit {
                first
            } else {
                None
            };
            assert_eq!(chosen, want, "{kind}/{name:?} {mode:?}");
        }
    }
    refs
}

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = serde_json::from_slice::<PodSpec>(data) else {
        return;
    };
    let Ok(as_json) = serde_json::to_value(&spec) else {
        return;
    };
    let refs = check_refs(&spec, &as_json);
    // Pod templates cannot carry ephemeral containers (the API server refuses them), and
    // the caches drop them.
    if spec.ephemeral_containers.as_ref().is_some_and(|e| !e.is_empty()) {
        return;
    }
    for kind in WorkloadKind::ALL {
        let mut object = json!({});
        let pointer = kind.template_pointer();
        let mut at = &mut object;
        for part in pointer.trim_start_matches('/').split('/') {
            at = at.as_object_mut().unwrap().entry(part).or_insert(json!({}));
        }
        *at = json!({"metadata": {"annotations": {"a": "b"}}, "spec": as_json.clone()});
        let mut pruned = object.clone();
        prune(kind, &mut pruned);
        let PodTemplate::Inline(template) = pod_template(kind, &pruned) else {
            panic!("{kind}: the pruned template no longer decodes");
        };
        let kept = PodRefs::from_pod_spec(template.spec.as_ref().expect("a pod spec"));
        assert_eq!(kept, refs, "{kind}: pruning changed the references");
        let mut again = pruned.clone();
        prune(kind, &mut again);
        assert_eq!(again, pruned, "{kind}: pruning is not stable");
    }
});
