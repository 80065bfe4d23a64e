//! Argo Rollouts and OpenShift DeploymentConfigs, read as untyped JSON: their APIs are
//! optional and k8s-openapi has no types for them. Both keep a Deployment-shaped pod
//! template at `spec.template`; a Rollout may instead point at another object's template
//! with `spec.workloadRef`, and then there is nothing on the Rollout to patch.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;

use crate::index::{IndexError, WorkloadInput};
use crate::workload::WorkloadKind;

/// Where an object's pods come from.
#[derive(Clone, Debug, PartialEq)]
pub enum PodTemplate {
    /// `spec.template`, decoded.
    Inline(Box<PodTemplateSpec>),
    /// A Rollout's `spec.workloadRef`: the template belongs to another object.
    Referenced,
    /// No template, or one that does not decode: followed by name only, never by references.
    Missing,
}

/// The pod template of `object` (the whole object, or only its fields besides metadata).
pub fn pod_template(kind: WorkloadKind, object: &Value) -> PodTemplate {
    match object.pointer(kind.template_pointer()) {
        Some(template) if !template.is_null() => serde_json::from_value(template.clone())
            .map_or(PodTemplate::Missing, |t| PodTemplate::Inline(Box::new(t))),
        _ if kind == WorkloadKind::Rollout
            && object
                .pointer("/spec/workloadRef")
                .is_some_and(|r| !r.is_null()) =>
        {
            PodTemplate::Referenced
        }
        _ => PodTemplate::Missing,
    }
}

/// What the index needs from a Rollout or DeploymentConfig. A Rollout using
/// `spec.workloadRef` is refused: reloader can only roll what it can patch.
pub fn input(
    kind: WorkloadKind,
    meta: &ObjectMeta,
    object: &Value,
) -> Result<WorkloadInput, IndexError> {
    match pod_template(kind, object) {
        PodTemplate::Inline(template) => WorkloadInput::from_parts(kind, meta, Some(&template)),
        PodTemplate::Missing => WorkloadInput::from_parts(kind, meta, None),
        PodTemplate::Referenced => Err(IndexError::ReferencedTemplate {
            kind,
            name: meta.name.clone().unwrap_or_default(),
        }),
    }
}

/// The same from a whole object as JSON (as an AdmissionReview carries it).
pub fn input_from_json(kind: WorkloadKind, object: &Value) -> Result<WorkloadInput, IndexError> {
    let meta: ObjectMeta = object
        .get("metadata")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default();
    input(kind, &meta, object)
}

/// Reads an admitted workload of any kind from its JSON: typed kinds through their
/// k8s-openapi type, the optional kinds as untyped objects. `None` when it does not parse.
pub fn input_of_json(
    kind: WorkloadKind,
    object: &Value,
) -> Option<Result<WorkloadInput, IndexError>> {
    let decode = |v: &Value| v.clone();
    Some(match kind {
        WorkloadKind::Deployment => WorkloadInput::from_deployment(
            &serde_json::from_value::<Deployment>(decode(object)).ok()?,
        ),
        WorkloadKind::StatefulSet => WorkloadInput::from_stateful_set(
            &serde_json::from_value::<StatefulSet>(decode(object)).ok()?,
        ),
        WorkloadKind::DaemonSet => WorkloadInput::from_daemon_set(
            &serde_json::from_value::<DaemonSet>(decode(object)).ok()?,
        ),
        WorkloadKind::CronJob => {
            WorkloadInput::from_cron_job(&serde_json::from_value::<CronJob>(decode(object)).ok()?)
        }
        WorkloadKind::Rollout | WorkloadKind::DeploymentConfig => input_from_json(kind, object),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceKind;
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
}
