use super::*;
use k8s_openapi::api::core::v1::Secret;
use reloader_core::hash::hash_secret;
use reloader_core::source::{SourceKind, SourceRef};
use reloader_core::workload::WorkloadKind;

fn rc() -> ReloaderConfig {
    serde_json::from_value(json!({
        "apiVersion": "reloader.stakater.com/v1alpha1", "kind": "ReloaderConfig",
        "metadata": {"name": "rc", "namespace": "ns", "generation": 3},
        "spec": {"watchedResources": {"secrets": ["creds"]},
                 "targets": [{"kind": "Deployment", "name": "web"}]}
    }))
    .unwrap()
}

fn web() -> WorkloadRef {
    WorkloadRef::new("ns", WorkloadKind::Deployment, "web")
}

fn ready(status: &ReloaderConfigStatus) -> (String, String) {
    let c = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    (c.status.clone(), c.reason.clone())
}

#[test]
fn a_reload_counts_and_records_hashes() {
    let hash = hash_secret(&Secret::default());
    let change = Change {
        source: SourceRef::new("ns", SourceKind::Secret, "creds"),
        old: None,
        new: hash,
    };
    let now = Timestamp::from_second(1_700_000_000).unwrap();
    let mut config = rc();
    let first = next_status(
        &config,
        &web(),
        &TargetOutcome::Reloaded(vec![change.clone()]),
        now,
    );
    config.status = Some(first);
    let second = next_status(&config, &web(), &TargetOutcome::Reloaded(vec![change]), now);
    assert_eq!(second.reload_count, 2);
    assert_eq!(second.targets[0].reload_count, 2);
    assert_eq!(second.observed_generation, Some(3));
    assert_eq!(second.target_count, 1);
    assert_eq!(
        second.watched_resource_hashes["ns/Secret/creds"],
        hash.to_string()
    );
    assert_eq!(ready(&second), ("True".into(), "Reloaded".into()));
}

#[test]
fn failures_and_missing_targets_have_their_reasons() {
    let now = Timestamp::from_second(1_700_000_000).unwrap();
    let cases = [
        (TargetOutcome::NotFound, "TargetNotFound"),
        (TargetOutcome::Failed("boom".into()), "ReloadFailed"),
    ];
    for (outcome, reason) in cases {
        let status = next_status(&rc(), &web(), &outcome, now);
        assert_eq!(ready(&status), ("False".into(), reason.into()));
        assert!(status.targets[0].last_error.is_some());
    }
}

#[test]
fn a_pause_is_shown_until_the_next_reload() {
    let now = Timestamp::from_second(1_700_000_000).unwrap();
    let mut config = rc();
    config.status = Some(next_status(
        &config,
        &web(),
        &TargetOutcome::Paused(now),
        now,
    ));
    assert!(
        config
            .status
            .as_ref()
            .unwrap()
            .conditions
            .iter()
            .any(|c| c.type_ == "Paused")
    );
    let after = next_status(&config, &web(), &TargetOutcome::Reloaded(vec![]), now);
    assert!(after.conditions.iter().all(|c| c.type_ != "Paused"));
    assert!(after.targets[0].paused_until.is_none());
}
