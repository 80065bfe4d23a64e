use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use kube::runtime::watcher::Event;
use serde_json::{Value, json};

use super::*;
use reloader_core::index::{FollowerIndex, WorkloadInput};
use reloader_core::policy::{AnnotationKeys, GlobalOptions};
use reloader_core::source::SourceRef;

use reloader_core::keys::LAST_APPLIED;
const DEPLOYMENT: WorkloadKind = WorkloadKind::Deployment;
const ROLLOUT: WorkloadKind = WorkloadKind::Rollout;

fn deployment(ns: &str, name: &str, secret: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
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

fn rollout(spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {
            "name": "web", "namespace": "ns",
            "annotations": {"reloader.stakater.com/auto": "true", LAST_APPLIED: "{...}"},
            "managedFields": [{"manager": "kubectl"}]
        },
        "spec": spec,
        "status": {"phase": "Healthy"}
    }))
    .unwrap()
}

fn input(
    kind: WorkloadKind,
    o: &DynamicObject,
) -> Result<WorkloadInput, reloader_core::index::IndexError> {
    pod_template::input(kind, &o.metadata, &o.data)
}

/// What the index reads of an object, but the last-applied annotation (which pruning drops).
fn read(kind: WorkloadKind, o: &DynamicObject) -> WorkloadInput {
    let mut read = input(kind, o).unwrap();
    read.annotations.remove(LAST_APPLIED);
    read
}

/// One workload cache's view of its watch: the index it feeds and what it remembers.
struct Feed {
    index: SharedIndex,
    scope: Scope,
    seen: Option<HashSet<WorkloadRef>>,
    known: HashSet<WorkloadRef>,
}

impl Feed {
    fn new(scope: Scope) -> Self {
        let index = Arc::new(RwLock::new(FollowerIndex::new(
            AnnotationKeys::default(),
            GlobalOptions::default(),
        )));
        Self {
            index,
            scope,
            seen: None,
            known: HashSet::new(),
        }
    }

    fn event(&mut self, kind: WorkloadKind, event: Event<DynamicObject>) {
        let mut relist = Relist {
            seen: &mut self.seen,
            known: &mut self.known,
        };
        apply_workload_event(&self.index, &self.scope, &mut relist, kind, &event);
    }

    fn followers(&self, ns: &str, secret: &str) -> usize {
        let source = SourceRef::new(ns, SourceKind::Secret, secret);
        self.index
            .read()
            .unwrap()
            .lookup(&source, None)
            .iter()
            .filter(|c| c.decision.reloads())
            .count()
    }

    fn workloads(&self) -> usize {
        self.index.read().unwrap().stats().workloads
    }
}

#[test]
fn pruning_keeps_exactly_what_reference_finding_reads() {
    let original = deployment("ns", "web", "creds");
    let mut pruned = original.clone();
    prune(DEPLOYMENT, &mut pruned);
    assert_eq!(pruned.metadata.managed_fields, None);
    assert_eq!(pruned.data.get("status"), None);
    let annotations = pruned.metadata.annotations.clone().unwrap();
    assert!(!annotations.contains_key(LAST_APPLIED));
    assert!(annotations.contains_key("reloader.stakater.com/auto"));
    let spec = &pruned.data["spec"];
    assert_eq!(spec.get("selector"), None);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod.get("nodeSelector"), None);
    assert_eq!(pod["containers"][0].get("image"), None);
    assert_eq!(pod["containers"][0].get("resources"), None);
    assert!(pod["containers"][0].get("env").is_some());
    assert!(pod.get("volumes").is_some());
    assert_eq!(
        read(DEPLOYMENT, &pruned),
        read(DEPLOYMENT, &original),
        "pruning never changes what the index reads"
    );
}

#[test]
fn pruning_a_rollout_keeps_its_template_or_its_workload_ref() {
    let mut templated = rollout(json!({
        "replicas": 3,
        "strategy": {"canary": {"steps": [{"setWeight": 20}]}},
        "template": {
            "metadata": {"annotations": {"a": "b"}},
            "spec": {
                "containers": [{"name": "app", "image": "app:1", "envFrom": [{"secretRef": {"name": "db"}}]}],
                "nodeSelector": {"disk": "ssd"}
            }
        }
    }));
    let before = read(ROLLOUT, &templated);
    prune(ROLLOUT, &mut templated);
    assert_eq!(templated.data.get("status"), None);
    assert_eq!(templated.data.pointer("/spec/strategy"), None);
    assert_eq!(
        templated.data.pointer("/spec/template/spec/nodeSelector"),
        None
    );
    assert_eq!(
        templated
            .data
            .pointer("/spec/template/metadata/annotations/a"),
        Some(&json!("b"))
    );
    assert_eq!(read(ROLLOUT, &templated), before);

    let mut referencing = rollout(json!({"workloadRef": {"kind": "Deployment", "name": "web"}}));
    prune(ROLLOUT, &mut referencing);
    let err = input(ROLLOUT, &referencing).unwrap_err();
    assert!(
        err.to_string().contains("workloadRef"),
        "still known as unpatchable"
    );
}

#[test]
fn watch_events_feed_the_index_incrementally() {
    let mut feed = Feed::new(Scope::default());
    feed.event(DEPLOYMENT, Event::Apply(deployment("ns", "web", "creds")));
    assert_eq!(feed.followers("ns", "creds"), 1);
    let moved = deployment("ns", "web", "other");
    feed.event(DEPLOYMENT, Event::Apply(moved.clone()));
    assert_eq!(feed.followers("ns", "creds"), 0);
    assert_eq!(feed.followers("ns", "other"), 1);
    feed.event(DEPLOYMENT, Event::Delete(moved));
    assert_eq!(feed.followers("ns", "other"), 0);
    assert_eq!(feed.workloads(), 0);
}

#[test]
fn a_relist_removes_workloads_deleted_while_the_watch_was_down() {
    let mut feed = Feed::new(Scope::default());
    for name in ["a", "b"] {
        feed.event(DEPLOYMENT, Event::Apply(deployment("ns", name, "creds")));
    }
    assert_eq!(feed.followers("ns", "creds"), 2);
    feed.event(DEPLOYMENT, Event::Init);
    feed.event(DEPLOYMENT, Event::InitApply(deployment("ns", "a", "creds")));
    feed.event(DEPLOYMENT, Event::InitDone);
    assert_eq!(feed.followers("ns", "creds"), 1);
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
        let mut feed = Feed::new(scope);
        feed.event(DEPLOYMENT, Event::Apply(deployment("ns", "web", "creds")));
        assert_eq!(feed.followers("ns", "creds"), want, "{name}");
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
                {"kind": "Pod", "name": "bad"}
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
fn rollout_events_feed_the_index_and_a_switch_to_workload_ref_removes_it() {
    let mut feed = Feed::new(Scope::default());
    let templated = rollout(json!({"template": {"spec": {"containers": [{"name": "app",
        "envFrom": [{"secretRef": {"name": "db"}}]}]}}}));
    feed.event(ROLLOUT, Event::Apply(templated.clone()));
    assert_eq!(feed.followers("ns", "db"), 1);
    feed.event(
        ROLLOUT,
        Event::Apply(rollout(json!({"workloadRef": {"name": "web"}}))),
    );
    assert_eq!(feed.followers("ns", "db"), 0, "nothing left to patch");
    feed.event(ROLLOUT, Event::Apply(templated.clone()));
    assert_eq!(feed.followers("ns", "db"), 1);
    feed.event(ROLLOUT, Event::Delete(templated));
    assert_eq!(feed.followers("ns", "db"), 0);
    assert_eq!(feed.workloads(), 0);
}

#[test]
fn sizes_count_the_objects_of_each_watched_kind() {
    let (deployment_store, mut deployments) = workload_store::store(api_resource(DEPLOYMENT));
    let (rollout_store, _rollouts) = workload_store::store(api_resource(ROLLOUT));
    let mut stores = WorkloadStores::default();
    stores.0.insert(DEPLOYMENT, deployment_store);
    stores.0.insert(ROLLOUT, rollout_store);
    let steps: &[(&str, Event<DynamicObject>, usize)] = &[
        ("added", Event::Apply(deployment("ns", "a", "db")), 1),
        ("another", Event::Apply(deployment("ns", "b", "db")), 2),
        ("updated", Event::Apply(deployment("ns", "b", "other")), 2),
        ("deleted", Event::Delete(deployment("ns", "a", "db")), 1),
    ];
    for (name, event, want) in steps {
        deployments.apply(event);
        assert_eq!(
            stores.sizes(),
            vec![(DEPLOYMENT, *want), (ROLLOUT, 0)],
            "{name}"
        );
    }
}
