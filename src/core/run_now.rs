//! A CronJob's run at a reload, as stakater runs one: the Job its job template makes, with
//! the reload applied, created now rather than at the next scheduled time. Its name comes
//! from the change (the CronJob's name and the new hashes), so a retry, a second replica
//! or a restart that makes the same reload asks for the same Job, and the API server's
//! "already exists" makes it run once.

use json_patch::Patch;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::reconcile::Change;

/// The annotation `kubectl create job --from=cronjob/…` and the CronJob controller's
/// manual runs carry.
pub const INSTANTIATE: &str = "cronjob.kubernetes.io/instantiate";

/// Why no Job could be made from the CronJob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunNowError {
    #[error("the reload does not apply to the CronJob: {0}")]
    Patch(String),
    #[error("the CronJob has no {0}")]
    Missing(&'static str),
}

/// The Job's name: at most 40 characters of the CronJob's, `-reload-`, and ten hex
/// digits of the change (58 at most, within the 63 a Job's name may have for its pods'
/// `job-name` label).
pub fn job_name(cronjob: &str, changes: &[Change]) -> String {
    let mut digest = Sha256::new();
    for c in changes {
        digest.update(c.source.to_string().as_bytes());
        digest.update([0]);
        digest.update(c.new.to_string().as_bytes());
        digest.update([0]);
    }
    let hex = hex::encode(digest.finalize());
    let prefix: String = cronjob.chars().take(40).collect();
    format!("{}-reload-{}", prefix.trim_end_matches('-'), &hex[..10])
}

/// The Job to create for `changes`: `cronjob` (as read) with `patch` (the reload) applied,
/// its job template's metadata and spec, owned by the CronJob.
pub fn job_for(cronjob: &Value, patch: &Patch, changes: &[Change]) -> Result<Value, RunNowError> {
    let mut patched = cronjob.clone();
    json_patch::patch(&mut patched, patch).map_err(|e| RunNowError::Patch(e.to_string()))?;
    let text = |pointer: &'static str| {
        patched
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(RunNowError::Missing(pointer))
    };
    let (name, namespace, uid) = (
        text("/metadata/name")?,
        text("/metadata/namespace")?,
        text("/metadata/uid")?,
    );
    let template = patched
        .pointer("/spec/jobTemplate")
        .ok_or(RunNowError::Missing("/spec/jobTemplate"))?;
    let spec = template
        .get("spec")
        .cloned()
        .ok_or(RunNowError::Missing("/spec/jobTemplate/spec"))?;
    let meta = |key: &str| {
        template
            .pointer(&format!("/metadata/{key}"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let mut annotations: Map<String, Value> = meta("annotations");
    annotations.insert(INSTANTIATE.into(), "manual".into());
    Ok(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(&name, changes),
            "namespace": namespace,
            "labels": meta("labels"),
            "annotations": annotations,
            "ownerReferences": [{
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": name,
                "uid": uid,
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": spec,
    }))
}

#[cfg(test)]
mod tests;
