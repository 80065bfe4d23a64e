use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use k8s_openapi::api::apps::v1::Deployment;
use kube::runtime::watcher::Event;
use serde_json::json;

use super::*;
use reloader_core::index::FollowerIndex;
use reloader_core::policy::{AnnotationKeys, GlobalOptions};
use reloader_core::source::SourceRef;

fn deployment(ns: &str, name: &str, secret: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {
            "name": name, "namespace": ns,
            "annotations": {"reloader.stakater.com/auto": "true", LAST_APPLIED: "{big}"},
            "managedFields": [{"manager": "kubectl"}]
        },
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{
                        "name": "app", "image": "nginx", "args": ["--big"],
                        "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": secret, "key": "k"}}}],
                        "resources": {"limits": {"cpu": "1"}}
                    }],
                    "nodeSelector": {"a": "b"},
                    "volumes": [{"name": "v", "configMap": {"name": "cfg"}}]
                }
            }
        },
        "status": {"replicas": 1}
    }))
    .unwrap()
}

fn index() -> SharedIndex {
    Arc::new(RwLock::new(FollowerIndex::new(
        AnnotationKeys::default(),
        GlobalOptions::default(),
    )))
}

fn followers(index: &SharedIndex, ns: &str, secret: &str) -> usize {
    let source = SourceRef::new(ns, SourceKind::Secret, secret);
    index
        .read()
        .unwrap()
        .lookup(&source, None)
        .iter()
        .filter(|c| c.decision.reloads())
        .count()
}

#[test]
fn pruning_keeps_exactly_what_reference_finding_reads() {
    let original = deployment("ns", "web", "creds");
    let mut pruned = original.clone();
    pruned.prune();
    assert_eq!(pruned.metadata.managed_fields, None);
    assert_eq!(pruned.status, None);
    let annotations = pruned.metadata.annotations.clone().unwrap();
    assert!(!annotations.contains_key(LAST_APPLIED));
    assert!(annotations.contains_key("reloader.stakater.com/auto"));
    let spec = pruned
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    assert_eq!(spec.node_selector, None);
    assert_eq!(spec.containers[0].image, None);
    assert_eq!(spec.containers[0].resources, None);
    assert!(spec.containers[0].env.is_some());
    assert!(spec.volumes.is_some());
    assert_eq!(
        pruned.input().unwrap().refs,
        original.input().unwrap().refs,
        "pruning never changes what the workload references"
    );
}

#[test]
fn watch_events_feed_the_index_incrementally() {
    let index = index();
    let scope = Scope::default();
    let (mut seen, mut known) = (None, HashSet::new());
    let d = deployment("ns", "web", "creds");
    apply_workload_event(
        &index,
        &scope,
        &mut seen,
        &mut known,
        &Event::Apply(d.clone()),
    );
    assert_eq!(followers(&index, "ns", "creds"), 1);
    let moved = deployment("ns", "web", "other");
    apply_workload_event(
        &index,
        &scope,
        &mut seen,
        &mut known,
        &Event::Apply(moved.clone()),
    );
    assert_eq!(followers(&index, "ns", "creds"), 0);
    assert_eq!(followers(&index, "ns", "other"), 1);
    apply_workload_event(&index, &scope, &mut seen, &mut known, &Event::Delete(moved));
    assert_eq!(followers(&index, "ns", "other"), 0);
    assert_eq!(index.read().unwrap().stats().workloads, 0);
}

#[test]
fn a_relist_removes_workloads_deleted_while_the_watch_was_down() {
    let index = index();
    let scope = Scope::default();
    let (mut seen, mut known) = (None, HashSet::new());
    for name in ["a", "b"] {
        let d = deployment("ns", name, "creds");
        apply_workload_event(&index, &scope, &mut seen, &mut known, &Event::Apply(d));
    }
    assert_eq!(followers(&index, "ns", "creds"), 2);
    apply_workload_event::<Deployment>(&index, &scope, &mut seen, &mut known, &Event::Init);
    let a = deployment("ns", "a", "creds");
    apply_workload_event(&index, &scope, &mut seen, &mut known, &Event::InitApply(a));
    apply_workload_event::<Deployment>(&index, &scope, &mut seen, &mut known, &Event::InitDone);
    assert_eq!(followers(&index, "ns", "creds"), 1);
}

#[test]
fn workloads_outside_the_scope_are_not_indexed() {
    let cases = [
        ("no scope", Scope::default(), 1),
        (
            "only other namespaces",
            Scope {
                only: ["x".to_string()].into(),
                ..Scope::default()
            },
            0,
        ),
        (
            "namespace ignored",
            Scope {
                ignore: ["ns".to_string()].into(),
                ..Scope::default()
            },
            0,
        ),
    ];
    for (name, scope, want) in cases {
        let index = index();
        let (mut seen, mut known) = (None, HashSet::new());
        let d = deployment("ns", "web", "creds");
        apply_workload_event(&index, &scope, &mut seen, &mut known, &Event::Apply(d));
        assert_eq!(followers(&index, "ns", "creds"), want, "{name}");
    }
}

#[test]
fn a_reloader_config_names_targets_in_its_own_namespace_only() {
    let rc: ReloaderConfig = serde_json::from_value(json!({
        "apiVersion": "reloader.stakater.com/v1alpha1", "kind": "ReloaderConfig",
        "metadata": {"name": "rc", "namespace": "ns"},
        "spec": {
            "watchedResources": {"secrets": ["creds"], "configMaps": ["cfg"]},
            "targets": [
                {"kind": "Deployment", "name": "web"},
                {"kind": "Deployment", "name": "elsewhere", "namespace": "other"},
                {"kind": "Job", "name": "bad"}
            ]
        }
    }))
    .unwrap();
    let (id, input) = config_input(&rc).unwrap();
    assert_eq!(id, ConfigId::new("ns", "rc"));
    assert_eq!(
        input.targets,
        vec![WorkloadRef::new("ns", WorkloadKind::Deployment, "web")]
    );
    assert_eq!(input.rule.watched.len(), 2);
}

#[test]
fn legacy_namespace_selectors_become_label_selectors() {
    let cases = [
        ("team:a", "team=a"),
        ("team:*", "team"),
        ("team:a,env:*", "team=a,env"),
        ("team=a", "team=a"),
        ("", ""),
    ];
    for (flag, want) in cases {
        assert_eq!(namespace_selector(flag), want, "{flag}");
    }
}

#[test]
fn a_namespace_selector_narrows_the_scope_as_labels_change() {
    let selected = NamespaceSet::default();
    let scope = Scope {
        selected: Some(selected.clone()),
        ..Scope::default()
    };
    assert!(!scope.includes("team-a"));
    assert!(
        scope.includes_static("team-a"),
        "indexing does not depend on labels"
    );
    selected.set("team-a".into(), true);
    assert!(scope.includes("team-a"));
    selected.replace(HashSet::new());
    assert!(!scope.includes("team-a"));
}

fn rollout(spec: serde_json::Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "ns",
                     "annotations": {"reloader.stakater.com/auto": "true"}},
        "spec": spec
    }))
    .unwrap()
}

#[test]
fn rollout_events_feed_the_index_and_a_switch_to_workload_ref_removes_it() {
    let index = index();
    let (mut seen, mut known) = (None, HashSet::new());
    let mut feed = |event: Event<DynamicObject>| {
        let mut relist = Relist {
            seen: &mut seen,
            known: &mut known,
        };
        let input = |o: &DynamicObject| {
            reloader_core::untyped::input(WorkloadKind::Rollout, &o.metadata, &o.data)
        };
        super::apply_event(
            &index,
            &Scope::default(),
            &mut relist,
            WorkloadKind::Rollout,
            input,
            &event,
        );
    };
    let templated = rollout(json!({"template": {"spec": {"containers": [{"name": "app",
        "envFrom": [{"secretRef": {"name": "db"}}]}]}}}));
    feed(Event::Apply(templated.clone()));
    assert_eq!(followers(&index, "ns", "db"), 1);
    feed(Event::Apply(rollout(
        json!({"workloadRef": {"name": "web"}}),
    )));
    assert_eq!(followers(&index, "ns", "db"), 0, "nothing left to patch");
    feed(Event::Apply(templated.clone()));
    assert_eq!(followers(&index, "ns", "db"), 1);
    feed(Event::Delete(templated));
    assert_eq!(followers(&index, "ns", "db"), 0);
    assert_eq!(index.read().unwrap().stats().workloads, 0);
}
