use json_patch::patch;
use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;

use super::*;
use reloader_core::hash::{SourceHash, hash_configmap};
use reloader_core::patch::recorded_hash;
use reloader_core::pod_template::input_from_json as input;
use reloader_core::source::{SourceKind, SourceRef};

fn hash(v: &str) -> SourceHash {
    hash_configmap(&ConfigMap {
        data: Some([("k".to_string(), v.to_string())].into()),
        ..Default::default()
    })
}

fn deployment(image: &str) -> Value {
    json!({
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}
    })
}

fn wanted(strategy: ReloadStrategy) -> Wanted {
    Wanted {
        record: Record {
            source: SourceRef::new("ns", SourceKind::ConfigMap, "cfg"),
            hash: hash("1"),
            container: Some(0),
            stakater: None,
        },
        strategy,
        baseline_required: false,
        same_data: Vec::new(),
        keep_stakater: false,
        stakater: None,
    }
}

#[test]
fn only_writes_that_change_the_template_are_stamped() {
    let cases = [
        ("create", deployment("a"), None, true),
        ("image change", deployment("b"), Some(deployment("a")), true),
        ("scale only", deployment("a"), Some(deployment("a")), false),
    ];
    for (name, object, old, want) in cases {
        assert_eq!(
            template_changed(WorkloadKind::Deployment, &object, old.as_ref()),
            want,
            "{name}"
        );
    }
}

#[test]
fn stamping_records_the_current_hashes_for_both_strategies() {
    for strategy in [ReloadStrategy::EnvVars, ReloadStrategy::Annotations] {
        let object = deployment("a");
        let w = [wanted(strategy)];
        let p = stamp(WorkloadKind::Deployment, &object, &w)
            .unwrap()
            .expect("a patch");
        let mut stamped = object.clone();
        patch(&mut stamped, &p).unwrap();
        assert_eq!(
            recorded_hash(
                WorkloadKind::Deployment,
                &stamped,
                strategy,
                &w[0].record.source
            ),
            Some(hash("1").to_string()),
            "{strategy}"
        );
        assert_eq!(
            stamp(WorkloadKind::Deployment, &stamped, &w).unwrap(),
            None,
            "a stamped template needs nothing more"
        );
    }
}

/// A workload carrying stakater's record edited while stakater may run beside: a record of
/// the current data stays byte for byte; one of older data is rewritten in stakater's
/// format when kept, in reloader's when not.
#[test]
fn stamping_leaves_stakaters_record_of_the_current_data_alone() {
    let sha1 = |v: &str| {
        reloader_core::hash::StakaterHash::configmap(&ConfigMap {
            data: Some([("k".to_string(), v.to_string())].into()),
            ..Default::default()
        })
    };
    let with_var = |value: String| {
        let mut d = deployment("b");
        d["spec"]["template"]["spec"]["containers"][0]["env"] =
            json!([{"name": "STAKATER_CFG_CONFIGMAP", "value": value}]);
        d
    };
    let cases = [
        ("current data, kept", sha1("1"), true, None),
        ("current data, not kept", sha1("1"), false, None),
        (
            "older data, kept",
            sha1("0"),
            true,
            Some(sha1("1").to_string()),
        ),
        (
            "older data, not kept",
            sha1("0"),
            false,
            Some(hash("1").to_string()),
        ),
    ];
    for (name, recorded, keep, written) in cases {
        let mut w = wanted(ReloadStrategy::EnvVars);
        w.stakater = Some(sha1("1"));
        w.keep_stakater = keep;
        let object = with_var(recorded.to_string());
        let p = stamp(WorkloadKind::Deployment, &object, std::slice::from_ref(&w)).unwrap();
        let after = p.map(|p| {
            let mut stamped = object.clone();
            patch(&mut stamped, &p).unwrap();
            recorded_hash(
                WorkloadKind::Deployment,
                &stamped,
                ReloadStrategy::EnvVars,
                &w.record.source,
            )
            .unwrap()
        });
        assert_eq!(after, written, "{name}");
    }
}

#[test]
fn nothing_to_follow_means_no_patch() {
    assert_eq!(
        stamp(WorkloadKind::Deployment, &deployment("a"), &[]).unwrap(),
        None
    );
}

fn rollout(annotations: Value, spec: Value) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "ns", "annotations": annotations},
        "spec": spec
    })
}

#[test]
fn rollouts_and_deploymentconfigs_are_read_like_deployments() {
    let template = json!({"template": {"spec": {"containers": [{"name": "app", "image": "a",
        "envFrom": [{"configMapRef": {"name": "cfg"}}]}]}}});
    for kind in [WorkloadKind::Rollout, WorkloadKind::DeploymentConfig] {
        let object = rollout(
            json!({"reloader.stakater.com/auto": "true"}),
            template.clone(),
        );
        let read = input(kind, &object).expect("a kind the webhook reads");
        assert_eq!(read.workload.kind, kind);
        assert!(read.refs.references(SourceKind::ConfigMap, "cfg"), "{kind}");
    }
    let referenced = rollout(json!({}), json!({"workloadRef": {"name": "web"}}));
    assert!(
        input(WorkloadKind::Rollout, &referenced).is_err(),
        "a Rollout without a template has nothing to stamp"
    );
}

#[test]
fn a_rollout_is_stamped_in_its_template_unless_it_restarts() {
    let spec = json!({"template": {"spec": {"containers": [{"name": "app", "image": "a"}]}}});
    let w = [wanted(ReloadStrategy::EnvVars)];

    let updating = rollout(json!({}), spec.clone());
    let mut stamped = updating.clone();
    patch(
        &mut stamped,
        &stamp(WorkloadKind::Rollout, &updating, &w)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        recorded_hash(
            WorkloadKind::Rollout,
            &stamped,
            ReloadStrategy::EnvVars,
            &w[0].record.source
        ),
        Some(hash("1").to_string())
    );

    let restarting = rollout(
        json!({"reloader.stakater.com/rollout-strategy": "restart"}),
        spec,
    );
    let mut stamped = restarting.clone();
    patch(
        &mut stamped,
        &stamp(WorkloadKind::Rollout, &restarting, &w)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        stamped["spec"], restarting["spec"],
        "no restartAt, no template change"
    );
    assert_eq!(
        restart::recorded_hash(&stamped, &w[0].record.source),
        Some(hash("1").to_string())
    );
    assert_eq!(stamp(WorkloadKind::Rollout, &stamped, &w).unwrap(), None);
}
