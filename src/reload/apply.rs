//! The reconcile loop for one workload: GET it, let `reloader_core::reconcile::decide` say
//! what to do, PATCH, and on conflicts re-read and retry. Triggers and resync both end here.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DynamicObject, PatchParams};
use serde_json::Value;

use reloader_core::baseline::Wanted;
use reloader_core::patch::PatchError;
use reloader_core::reconcile::{Change, Spacing, Step, decide};
use reloader_core::workload::WorkloadRef;

/// Why a workload could not be reconciled.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot build the patch for {workload}: {error}")]
    Patch {
        workload: WorkloadRef,
        #[source]
        error: PatchError,
    },
    #[error("{workload}: gave up after {attempts} attempts: {error}")]
    Api {
        workload: WorkloadRef,
        attempts: u32,
        #[source]
        error: kube::Error,
    },
}

impl ApplyError {
    /// Label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            ApplyError::Patch { .. } => "patch_build",
            ApplyError::Api { .. } => "api",
        }
    }

    /// What an operator needs to know, without the workload (which the reader has): the
    /// API's status code, reason and message (`403 Forbidden: … cannot patch …`, a
    /// webhook's denial), and how often it was tried.
    pub fn detail(&self) -> String {
        match self {
            ApplyError::Patch { error, .. } => error.to_string(),
            ApplyError::Api {
                attempts, error, ..
            } => {
                let text = match error {
                    kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
                    other => other.to_string(),
                };
                match attempts {
                    1 => text,
                    n => format!("{text} (after {n} attempts)"),
                }
            }
        }
    }
}

/// What became of one reconcile.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    UpToDate,
    Deferred(Timestamp),
    Reloaded(Vec<Change>),
    /// The workload no longer exists: nothing to do, nothing to retry.
    Gone,
}

/// How a failed request is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// 409/422: someone else changed the object; re-read and rebuild the patch.
    Reread,
    /// 5xx, 429, timeouts, transport errors: try again after a pause.
    Later,
    /// 404: the workload is gone.
    Gone,
    /// Anything else (403, 400…): retrying will not help.
    Never,
}

pub fn classify(error: &kube::Error) -> Retry {
    match error {
        kube::Error::Api(status) => match status.code {
            404 => Retry::Gone,
            409 | 422 => Retry::Reread,
            429 | 500..=599 => Retry::Later,
            _ => Retry::Never,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => Retry::Later,
        _ => Retry::Never,
    }
}

/// Attempts per reconcile before the error is recorded (resync tries again later).
pub const MAX_ATTEMPTS: u32 = 6;

/// Jittered exponential backoff: 10 ms, 20 ms, … capped at 1 s, ±50 %.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(10u64 << attempt.min(7)).min(Duration::from_secs(1));
    base.mul_f64(0.5 + fastrand::f64())
}

/// Reconciles one workload: GET, decide, PATCH; on conflicts re-read and retry.
pub async fn apply(
    client: &Client,
    workload: &WorkloadRef,
    wanted: &[Wanted],
    spacing: Spacing,
) -> Result<Outcome, ApplyError> {
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &workload.namespace,
        &crate::reload::cache::api_resource(workload.kind),
    );
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = attempt_once(&api, workload, wanted, spacing).await;
        let error = match result {
            Ok(outcome) => return Ok(outcome),
            Err(AttemptError::Patch(error)) => {
                return Err(ApplyError::Patch {
                    workload: workload.clone(),
                    error,
                });
            }
            Err(AttemptError::Api(e)) => e,
        };
        match classify(&error) {
            Retry::Gone => return Ok(Outcome::Gone),
            Retry::Reread | Retry::Later if attempt < MAX_ATTEMPTS => {
                tracing::debug!(%workload, attempt, error = %error, "retrying");
                tokio::time::sleep(backoff(attempt)).await;
            }
            _ => {
                return Err(ApplyError::Api {
                    workload: workload.clone(),
                    attempts: attempt,
                    error,
                });
            }
        }
    }
}

enum AttemptError {
    Patch(PatchError),
    Api(kube::Error),
}

async fn attempt_once(
    api: &Api<DynamicObject>,
    workload: &WorkloadRef,
    wanted: &[Wanted],
    spacing: Spacing,
) -> Result<Outcome, AttemptError> {
    let object = api.get(&workload.name).await.map_err(AttemptError::Api)?;
    let json = serde_json::to_value(&object).unwrap_or(Value::Null);
    let step = decide(workload.kind, &json, wanted, Timestamp::now(), spacing)
        .map_err(AttemptError::Patch)?;
    match step {
        Step::UpToDate => Ok(Outcome::UpToDate),
        Step::WaitUntil(at) => Ok(Outcome::Deferred(at)),
        Step::Patch { patch, changes } => {
            let params = PatchParams::default();
            api.patch(
                &workload.name,
                &params,
                &kube::api::Patch::<()>::Json(patch),
            )
            .await
            .map_err(AttemptError::Api)?;
            Ok(Outcome::Reloaded(changes))
        }
    }
}

#[cfg(test)]
mod tests;
