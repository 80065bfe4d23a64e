//! The engine's half of a Job's reload (`reloader_core::recreate` decides what the new Job
//! is): delete the Job as read, then create it again.
//!
//! The delete is guarded by the uid and resourceVersion that were read, so of two replicas
//! reloading the same Job only one deletes it (the other's delete is a 409 or a 404, and
//! its next read finds the new Job already recording the change). Background propagation,
//! as stakater's: the old pods are collected after the Job is gone. Between the delete and
//! the create the Job exists nowhere, so the create is tried until it succeeds or the
//! error is not transient; a Job still being deleted (a finalizer) is waited for.

use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, PostParams, Preconditions, PropagationPolicy};
use serde_json::Value;

use crate::reload::retry::{Retry, backoff, classify};

/// Create attempts after the delete: with the back-off capped at a second, about half a
/// minute for the API server to take it.
const CREATE_ATTEMPTS: u32 = 30;

/// Deletes `old` (as read) and creates `new` in its place.
pub async fn recreate(
    api: &Api<DynamicObject>,
    old: &Value,
    new: Value,
) -> Result<(), kube::Error> {
    let text = |p: &str| old.pointer(p).and_then(Value::as_str).map(str::to_owned);
    let name = text("/metadata/name").unwrap_or_default();
    let old_uid = text("/metadata/uid");
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        preconditions: Some(Preconditions {
            uid: old_uid.clone(),
            resource_version: text("/metadata/resourceVersion"),
        }),
        ..DeleteParams::default()
    };
    api.delete(&name, &params).await?;
    let new: DynamicObject = serde_json::from_value(new).map_err(kube::Error::SerdeError)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let error = match api.create(&PostParams::default(), &new).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.reason == "AlreadyExists" => {
                // Ours (an earlier attempt whose answer was lost) or the old one still
                // being deleted: only the latter is waited for.
                match api.get_opt(&name).await {
                    Ok(Some(found)) if found.metadata.uid == old_uid => kube::Error::Api(s),
                    Ok(_) => return Ok(()),
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        let again = matches!(classify(&error), Retry::Later)
            || matches!(&error, kube::Error::Api(s) if s.reason == "AlreadyExists");
        if !again || attempt >= CREATE_ATTEMPTS {
            tracing::error!(job = %name, namespace = ?api_namespace(old), error = %error,
                "the Job was deleted for its reload and could not be created again");
            return Err(error);
        }
        tokio::time::sleep(backoff(attempt).min(Duration::from_secs(1))).await;
    }
}

fn api_namespace(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
}
