//! A Job's reload, as stakater does it: a Job's pod template cannot change once made, so the
//! Job is deleted and created again with the reload applied, which runs it again. What the
//! new Job must not carry is decided here, as plain JSON: everything the API server and the
//! Job controller set on the old one (identity, status, the selector generated from the old
//! uid and the labels it matches).
//!
//! A Job made by a CronJob is never reloaded this way: the CronJob's own template is, and
//! its next run carries the reload.

use json_patch::Patch;
use serde_json::Value;

/// Why the re-created object could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecreateError {
    #[error("the reload does not apply to the Job: {0}")]
    Patch(String),
}

/// Metadata the API server sets; a create must not carry them.
const SERVER_SET: [&str; 8] = [
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The labels the Job controller derives from the old Job's uid and name; a generated
/// selector for the new Job would not match pods labelled with the old uid.
const CONTROLLER_LABELS: [&str; 4] = [
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
];

/// Whether a CronJob owns this object.
pub fn owned_by_cronjob(owners: &[(String, String)]) -> bool {
    owners
        .iter()
        .any(|(api_version, kind)| kind == "CronJob" && api_version.starts_with("batch/"))
}

/// The Job to create in place of `job` (as read): `patch` (the reload) applied, without
/// server-set metadata and status, and, unless it chose its selector itself
/// (`spec.manualSelector: true`), without the selector and the controller's labels.
pub fn recreated(job: &Value, patch: &Patch) -> Result<Value, RecreateError> {
    let mut new = job.clone();
    json_patch::patch(&mut new, patch).map_err(|e| RecreateError::Patch(e.to_string()))?;
    if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_SET {
            meta.remove(field);
        }
    }
    if let Some(object) = new.as_object_mut() {
        object.remove("status");
    }
    let manual = new
        .pointer("/spec/manualSelector")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !manual {
        if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("selector");
        }
        for pointer in ["/metadata/labels", "/spec/template/metadata/labels"] {
            if let Some(labels) = new.pointer_mut(pointer).and_then(Value::as_object_mut) {
                for key in CONTROLLER_LABELS {
                    labels.remove(key);
                }
            }
        }
    }
    Ok(new)
}

#[cfg(test)]
mod tests;
