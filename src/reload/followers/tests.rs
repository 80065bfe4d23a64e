use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::reload::cache::config_input;
use reloader_core::hash::{Hasher, StakaterHash};
use reloader_core::index::{ConfigInput, WorkloadInput};
use reloader_core::pod_template::input_from_json;
use reloader_core::policy::{AnnotationKeys, GlobalOptions};
use reloader_core::source::SourceKind;
use reloader_core::workload::WorkloadKind;

fn deployment(name: &str, annotations: serde_json::Value) -> WorkloadInput {
    input_from_json(
        WorkloadKind::Deployment,
        &json!({
            "metadata": {"name": name, "namespace": "ns", "annotations": annotations},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {"spec": {"containers": [{
                    "name": "app",
                    "envFrom": [{"secretRef": {"name": "creds"}}]
                }]}}
            }
        }),
    )
    .unwrap()
}

fn rc() -> ReloaderConfig {
    serde_json::from_value(json!({
        "apiVersion": "reloader.stakater.com/v1alpha1", "kind": "ReloaderConfig",
        "metadata": {"name": "rc", "namespace": "ns"},
        "spec": {
            "watchedResources": {"secrets": ["creds"]},
            "reloadStrategy": "annotations",
            "pausePeriod": "1m",
            "coalesceWindow": "3s",
            "targets": [{"kind": "Deployment", "name": "by-config", "pausePeriod": "5m", "coalesceWindow": "2s"}]
        }
    }))
    .unwrap()
}

fn index() -> FollowerIndex {
    let mut index = FollowerIndex::new(AnnotationKeys::default(), GlobalOptions::default());
    let annotated = deployment(
        "annotated",
        json!({"reloader.stakater.com/auto": "true", "deployment.reloader.stakater.com/pause-period": "30s"}),
    );
    index.apply_workload(annotated);
    index.apply_workload(deployment("by-config", json!({})));
    index.apply_workload(deployment("bystander", json!({})));
    let (id, input): (ConfigId, ConfigInput) = config_input(&rc()).unwrap();
    index.apply_config(id, input);
    index
}

#[test]
fn each_follower_gets_its_own_strategy_pause_and_window() {
    let index = index();
    let source = SourceRef::new("ns", SourceKind::Secret, "creds");
    let config = Arc::new(rc());
    let entries = entries_for(
        &index,
        |_| Some(config.clone()),
        ReloadStrategy::EnvVars,
        Reading {
            source: &source,
            stored: None,
            seq: 7,
            baseline_required: false,
            hasher: &Hasher::Plain,
            keep_stakater: false,
        },
    );
    let by = |name: &str| {
        entries
            .iter()
            .find(|(w, _)| w.name == name)
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| panic!("{name} missing from {entries:?}"))
    };
    assert_eq!(entries.len(), 2, "{entries:?}");
    let annotated = by("annotated");
    assert_eq!(annotated.wanted.strategy, ReloadStrategy::EnvVars);
    assert_eq!(annotated.pause, Some(Duration::from_secs(30)));
    assert_eq!(annotated.config, None);
    assert_eq!(
        annotated.coalesce, None,
        "annotation followers use the workload's window"
    );
    let targeted = by("by-config");
    assert_eq!(targeted.wanted.strategy, ReloadStrategy::Annotations);
    assert_eq!(targeted.pause, Some(Duration::from_secs(300)));
    assert_eq!(targeted.coalesce, Some(Duration::from_secs(2)));
    assert_eq!(targeted.config, Some(ConfigId::new("ns", "rc")));
    assert_eq!(targeted.seq, 7);
    assert_eq!(
        targeted.wanted.record.hash,
        absent_hash(&Hasher::Plain, SourceKind::Secret)
    );
    assert!(
        entries
            .iter()
            .all(|(w, _)| w.kind == WorkloadKind::Deployment)
    );
}

#[test]
fn a_source_marked_ignore_has_no_followers() {
    let index = index();
    let source = SourceRef::new("ns", SourceKind::Secret, "creds");
    let stored = StoredSource {
        hash: absent_hash(&Hasher::Plain, SourceKind::Secret),
        same_data: Vec::new(),
        stakater: StakaterHash::configmap(&Default::default()),
        labels: Default::default(),
        annotations: [(
            "reloader.stakater.com/ignore".to_string(),
            "true".to_string(),
        )]
        .into(),
        resource_version: None,
    };
    let config = Arc::new(rc());
    let entries = entries_for(
        &index,
        |_| Some(config.clone()),
        ReloadStrategy::EnvVars,
        Reading {
            source: &source,
            stored: Some(&stored),
            seq: 1,
            baseline_required: false,
            hasher: &Hasher::Plain,
            keep_stakater: false,
        },
    );
    assert!(entries.is_empty(), "{entries:?}");
}
