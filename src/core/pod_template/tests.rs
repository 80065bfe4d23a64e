use super::*;
use crate::source::SourceKind;
use crate::workload::KINDS;
use serde_json::json;

fn rollout(spec: Value) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "team-a",
                     "annotations": {"reloader.stakater.com/auto": "true"}},
        "spec": spec,
    })
}

fn template_using(secret: &str) -> Value {
    json!({
        "metadata": {"annotations": {"team": "a"}},
        "spec": {"containers": [{"name": "app", "image": "app",
            "envFrom": [{"secretRef": {"name": secret}}]}]}
    })
}

#[test]
fn where_the_pods_come_from() {
    let cases = [
        (
            "a Rollout's inline template",
            WorkloadKind::Rollout,
            rollout(json!({"template": template_using("db")})),
            "inline",
        ),
        (
            "a DeploymentConfig's template",
            WorkloadKind::DeploymentConfig,
            rollout(json!({"template": template_using("db")})),
            "inline",
        ),
        (
            "a Rollout with workloadRef",
            WorkloadKind::Rollout,
            rollout(
                json!({"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}),
            ),
            "referenced",
        ),
        (
            "a template wins over a workloadRef",
            WorkloadKind::Rollout,
            rollout(json!({"template": template_using("db"), "workloadRef": {"name": "web"}})),
            "inline",
        ),
        (
            "workloadRef means nothing to a DeploymentConfig",
            WorkloadKind::DeploymentConfig,
            rollout(json!({"workloadRef": {"name": "web"}})),
            "missing",
        ),
        (
            "a null workloadRef is no reference",
            WorkloadKind::Rollout,
            rollout(json!({"workloadRef": null})),
            "missing",
        ),
        (
            "no spec at all",
            WorkloadKind::Rollout,
            json!({"metadata": {"name": "web"}}),
            "missing",
        ),
        (
            "a template that does not decode",
            WorkloadKind::Rollout,
            rollout(json!({"template": "not an object"})),
            "missing",
        ),
    ];
    for (name, kind, object, want) in cases {
        let got = match pod_template(kind, &object) {
            PodTemplate::Inline(_) => "inline",
            PodTemplate::Referenced => "referenced",
            PodTemplate::Missing => "missing",
        };
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn inline_templates_give_references_and_both_annotation_levels() {
    let object = rollout(json!({"template": template_using("db")}));
    let input = input_from_json(WorkloadKind::Rollout, &object).unwrap();
    assert_eq!(
        input.workload.to_string(),
        "team-a/Rollout/web",
        "identity from metadata"
    );
    assert_eq!(
        input
            .annotations
            .get("reloader.stakater.com/auto")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(
        input.template_annotations.get("team").map(String::as_str),
        Some("a")
    );
    assert!(input.refs.references(SourceKind::Secret, "db"));
    assert!(!input.refs.references(SourceKind::ConfigMap, "db"));
}

#[test]
fn a_rollout_with_a_workload_ref_is_refused_with_a_reason() {
    let object = rollout(json!({"workloadRef": {"name": "web"}}));
    let err = input_from_json(WorkloadKind::Rollout, &object).unwrap_err();
    assert_eq!(
        err,
        IndexError::ReferencedTemplate {
            kind: WorkloadKind::Rollout,
            name: "web".into()
        }
    );
    assert!(err.to_string().contains("workloadRef"));
}

#[test]
fn a_missing_template_is_indexed_without_references() {
    let object = rollout(json!({}));
    let input = input_from_json(WorkloadKind::DeploymentConfig, &object).unwrap();
    assert_eq!(input.workload.kind, WorkloadKind::DeploymentConfig);
    assert_eq!(input.refs, Default::default());
}

#[test]
fn objects_without_a_namespace_are_refused() {
    let object = json!({"metadata": {"name": "web"}, "spec": {}});
    assert_eq!(
        input_from_json(WorkloadKind::Rollout, &object),
        Err(IndexError::MissingNamespace {
            kind: WorkloadKind::Rollout,
            name: "web".into()
        })
    );
}

#[test]
fn every_kind_is_read_at_its_own_template_pointer() {
    for spec in &KINDS {
        // Builds `{"spec": {... "template": T}}` along the kind's pointer.
        let mut object = template_using("db");
        for part in spec.template.trim_start_matches('/').split('/').rev() {
            object = json!({ part: object });
        }
        object["metadata"] = json!({"name": "web", "namespace": "ns"});
        let input = input_from_json(spec.kind, &object).unwrap();
        assert_eq!(input.workload.kind, spec.kind);
        assert!(
            input.refs.references(SourceKind::Secret, "db"),
            "{}",
            spec.name
        );

        let mut pruned = object.clone();
        prune(spec.kind, &mut pruned);
        pruned["metadata"] = object["metadata"].clone();
        assert_eq!(
            input_from_json(spec.kind, &pruned).unwrap(),
            input,
            "{}: pruning keeps what the index reads",
            spec.name
        );
        assert_eq!(
            pruned.pointer(&format!("{}/spec/containers/0/image", spec.template)),
            None,
            "{}: pruning drops the rest",
            spec.name
        );
    }
}

#[test]
fn a_cronjobs_job_is_not_indexed_and_a_job_of_its_own_is() {
    let job = |owners: Value| {
        json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "nightly-29000000", "namespace": "team-a",
                         "annotations": {"reloader.stakater.com/auto": "true"},
                         "ownerReferences": owners},
            "spec": {"template": template_using("db")},
        })
    };
    let cron = json!([{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly",
                       "uid": "u", "controller": true}]);
    let cases = [
        (
            "a CronJob's run",
            job(cron.clone()),
            WorkloadKind::Job,
            false,
        ),
        ("a Job of its own", job(json!([])), WorkloadKind::Job, true),
        (
            "a Deployment owned by a CronJob (only Jobs are re-created)",
            job(cron),
            WorkloadKind::Deployment,
            true,
        ),
    ];
    for (name, object, kind, indexed) in cases {
        let got = input_from_json(kind, &object);
        assert_eq!(got.is_ok(), indexed, "{name}: {got:?}");
    }
}
