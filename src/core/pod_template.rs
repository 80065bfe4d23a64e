//! Where a workload's pods come from, read from the object as JSON, for every kind alike:
//! the template sits at the kind's pointer (see `workload::KINDS`), and a Rollout may
//! instead point at another object's template with `spec.workloadRef`, leaving nothing on
//! it to patch. Also what the caches keep of an object: only what the index reads.

use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Map, Value};

use crate::index::{IndexError, WorkloadInput};
use crate::keys::LAST_APPLIED;
use crate::workload::WorkloadKind;

/// Where an object's pods come from.
#[derive(Clone, Debug, PartialEq)]
pub enum PodTemplate {
    /// The template at the kind's pointer, decoded.
    Inline(Box<PodTemplateSpec>),
    /// A Rollout's `spec.workloadRef`: the template belongs to another object.
    Referenced,
    /// No template, or one that does not decode: followed by name only, never by references.
    Missing,
}

fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

/// The pod template of `object` (the whole object, or only its fields besides metadata).
pub fn pod_template(kind: WorkloadKind, object: &Value) -> PodTemplate {
    let spec = kind.spec();
    match present(object.pointer(spec.template)) {
        Some(template) => serde_json::from_value(template.clone())
            .map_or(PodTemplate::Missing, |t| PodTemplate::Inline(Box::new(t))),
        None if spec
            .template_ref
            .is_some_and(|r| present(object.pointer(r)).is_some()) =>
        {
            PodTemplate::Referenced
        }
        None => PodTemplate::Missing,
    }
}

/// What the index needs from a workload. One whose template is referenced is refused
/// (reloader can only roll what it can patch), and so is a CronJob's Job (its CronJob is
/// what reloads).
pub fn input(
    kind: WorkloadKind,
    meta: &ObjectMeta,
    object: &Value,
) -> Result<WorkloadInput, IndexError> {
    let owners: Vec<(String, String)> = meta
        .owner_references
        .iter()
        .flatten()
        .map(|o| (o.api_version.clone(), o.kind.clone()))
        .collect();
    if kind.spec().recreates && crate::recreate::owned_by_cronjob(&owners) {
        return Err(IndexError::OwnedByCronJob {
            kind,
            name: meta.name.clone().unwrap_or_default(),
        });
    }
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

/// Strips metadata reloader never reads: managed fields and the last-applied annotation.
pub fn prune_meta(meta: &mut ObjectMeta) {
    meta.managed_fields = None;
    if let Some(a) = meta.annotations.as_mut() {
        a.remove(LAST_APPLIED);
    }
}

fn prune_container(c: &Container) -> Container {
    Container {
        name: c.name.clone(),
        env: c.env.clone(),
        env_from: c.env_from.clone(),
        volume_mounts: c.volume_mounts.clone(),
        ..Container::default()
    }
}

/// Keeps only what reference finding reads: container names, env, envFrom, volume mounts,
/// and the volumes.
pub fn prune_pod_spec(spec: &mut PodSpec) {
    *spec = PodSpec {
        containers: spec.containers.iter().map(prune_container).collect(),
        init_containers: spec
            .init_containers
            .as_ref()
            .map(|cs| cs.iter().map(prune_container).collect()),
        volumes: spec.volumes.take(),
        ..PodSpec::default()
    };
}

fn prune_template(t: &mut PodTemplateSpec) {
    if let Some(m) = t.metadata.as_mut() {
        m.managed_fields = None;
    }
    if let Some(spec) = t.spec.as_mut() {
        prune_pod_spec(spec);
    }
}

/// Sets `value` at `pointer` in `root`, creating the objects on the way.
fn insert_at(root: &mut Map<String, Value>, pointer: &str, value: Value) {
    let mut parts = pointer.trim_start_matches('/').split('/').peekable();
    let mut here = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            here.insert(part.to_owned(), value);
            return;
        }
        let next = here
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(next) = next else { return };
        here = next;
    }
}

/// Keeps, of an object's fields besides metadata, only the pruned pod template at the
/// kind's pointer and its template reference; drops status and every other field.
pub fn prune(kind: WorkloadKind, data: &mut Value) {
    let spec = kind.spec();
    let mut kept = Map::new();
    if let Some(template) = present(data.pointer(spec.template))
        && let Ok(mut template) = serde_json::from_value::<PodTemplateSpec>(template.clone())
    {
        prune_template(&mut template);
        if let Ok(value) = serde_json::to_value(template) {
            insert_at(&mut kept, spec.template, value);
        }
    }
    if let Some(pointer) = spec.template_ref
        && let Some(reference) = present(data.pointer(pointer))
    {
        insert_at(&mut kept, pointer, reference.clone());
    }
    *data = Value::Object(kept);
}

#[cfg(test)]
mod tests;
