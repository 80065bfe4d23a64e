//! The reconcile loop for one workload: GET it, let `reloader_core::reconcile::decide` say
//! what to do, PATCH, and on conflicts re-read and retry. Triggers and resync both end here.
//!
//! The wanted hashes were read before the change waited out its coalescing window. If the
//! workload shows a reload since about then (another replica, a resync), that writer may
//! have recorded newer data than ours: the sources are read again before deciding (on every
//! attempt, since a conflict may be that writer), so an older hash never replaces a newer
//! one (which would roll twice).

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Client;
use kube::api::{Api, DynamicObject, PatchParams};
use serde_json::Value;

use reloader_core::baseline::Wanted;
use reloader_core::hash::KeyRing;
use reloader_core::keys::LAST_RELOAD_AT;
use reloader_core::patch::PatchError;
use reloader_core::planner;
use reloader_core::reconcile::{Change, Spacing, Step, decide};
use reloader_core::recreate::{self, RecreateError};
use reloader_core::run_now::{self, RunNowError};
use reloader_core::workload::WorkloadKind;
use reloader_core::workload::WorkloadRef;

pub use crate::reload::retry::{Retry, backoff, classify};
use crate::reload::source_read;

/// How far before the first pending change a recorded reload still counts as "since the
/// read": the reads happen just before queueing, and the record is rounded up to a second.
const STALE_MARGIN: SignedDuration = SignedDuration::from_secs(2);

/// Why a workload could not be reconciled.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot build the patch for {workload}: {error}")]
    Patch {
        workload: WorkloadRef,
        #[source]
        error: PatchError,
    },
    #[error("cannot make {workload}'s run-now Job: {error}")]
    RunNow {
        workload: WorkloadRef,
        #[source]
        error: RunNowError,
    },
    #[error("cannot re-create {workload} with its reload: {error}")]
    Recreate {
        workload: WorkloadRef,
        #[source]
        error: RecreateError,
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
            ApplyError::RunNow { .. } => "run_now",
            ApplyError::Recreate { .. } => "recreate",
            ApplyError::Api { .. } => "api",
        }
    }

    /// What an operator needs to know, without the workload (which the reader has): the
    /// API's status code, reason and message (`403 Forbidden: … cannot patch …`, a
    /// webhook's denial), and how often it was tried.
    pub fn detail(&self) -> String {
        match self {
            ApplyError::Patch { error, .. } => error.to_string(),
            ApplyError::RunNow { error, .. } => error.to_string(),
            ApplyError::Recreate { error, .. } => error.to_string(),
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

/// Attempts per reconcile before the error is recorded (resync tries again later).
pub const MAX_ATTEMPTS: u32 = 6;

/// Reconciles one workload: GET, decide, PATCH; on conflicts re-read and retry.
pub async fn apply(
    client: &Client,
    ring: &KeyRing,
    workload: &WorkloadRef,
    wanted: &[Wanted],
    spacing: Spacing,
    run_cronjobs: bool,
) -> Result<Outcome, ApplyError> {
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &workload.namespace,
        &crate::reload::cache::api_resource(workload.kind),
    );
    let mut wanted = wanted.to_vec();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let object = match api.get(&workload.name).await {
            Ok(object) => Ok(serde_json::to_value(&object).unwrap_or(Value::Null)),
            Err(e) => Err(AttemptError::Api(e)),
        };
        let result = match object {
            Ok(json) => {
                // Every attempt: a conflict on the previous one may be that very writer.
                if reloaded_since(&json, spacing.first_pending) {
                    refresh(client, ring, &mut wanted).await;
                }
                let run_now =
                    (run_cronjobs && workload.kind == WorkloadKind::CronJob).then_some(client);
                attempt_once(&api, workload, &json, &wanted, spacing, run_now).await
            }
            Err(e) => Err(e),
        };
        let error = match result {
            Ok(outcome) => return Ok(outcome),
            Err(AttemptError::Patch(error)) => {
                return Err(ApplyError::Patch {
                    workload: workload.clone(),
                    error,
                });
            }
            Err(AttemptError::Recreate(error)) => {
                return Err(ApplyError::Recreate {
                    workload: workload.clone(),
                    error,
                });
            }
            Err(AttemptError::RunNow(error)) => {
                return Err(ApplyError::RunNow {
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
    RunNow(RunNowError),
    Recreate(RecreateError),
    Api(kube::Error),
}

/// Whether the workload records a reload at or after (about) `since`.
pub fn reloaded_since(object: &Value, since: Timestamp) -> bool {
    let last = planner::last_reload(
        object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(LAST_RELOAD_AT))
            .and_then(Value::as_str),
    );
    let since = since.checked_sub(STALE_MARGIN).unwrap_or(since);
    last.is_some_and(|t| t >= since)
}

/// Reads each wanted source again and takes its current hashes; a source that cannot be
/// read (or is gone) keeps what was read before.
async fn refresh(client: &Client, ring: &KeyRing, wanted: &mut [Wanted]) {
    for w in wanted.iter_mut() {
        match source_read::read(client, ring, &w.record.source).await {
            Ok(Some(stored)) => {
                w.record.hash = stored.hash;
                w.same_data = stored.same_data;
                w.stakater = Some(stored.stakater);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "source re-read failed; keeping the earlier read")
            }
        }
    }
}

async fn attempt_once(
    api: &Api<DynamicObject>,
    workload: &WorkloadRef,
    json: &Value,
    wanted: &[Wanted],
    spacing: Spacing,
    run_now: Option<&Client>,
) -> Result<Outcome, AttemptError> {
    let step = decide(workload.kind, json, wanted, Timestamp::now(), spacing)
        .map_err(AttemptError::Patch)?;
    match step {
        Step::UpToDate => Ok(Outcome::UpToDate),
        Step::WaitUntil(at) => Ok(Outcome::Deferred(at)),
        Step::Patch { patch, changes } => {
            // The Job first: when the patch then fails, the next attempt asks for the same
            // Job again (same name) and finds it made.
            if let Some(client) = run_now {
                let job = run_now::job_for(json, &patch, &changes).map_err(AttemptError::RunNow)?;
                create_job(client, &workload.namespace, job).await?;
            }
            // A Job's template cannot change: it is deleted and made again, reloaded.
            if workload.kind.spec().recreates {
                let new = recreate::recreated(json, &patch).map_err(AttemptError::Recreate)?;
                crate::reload::recreate_job::recreate(api, json, new)
                    .await
                    .map_err(AttemptError::Api)?;
                return Ok(Outcome::Reloaded(changes));
            }
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

/// Creates a CronJob's run-now Job; one that already exists is this very reload's, made by
/// an earlier attempt, another replica or before a restart.
async fn create_job(client: &Client, namespace: &str, job: Value) -> Result<(), AttemptError> {
    let resource = kube::api::ApiResource::erase::<k8s_openapi::api::batch::v1::Job>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let job: DynamicObject = serde_json::from_value(job)
        .map_err(|e| AttemptError::RunNow(RunNowError::Patch(e.to_string())))?;
    match api.create(&kube::api::PostParams::default(), &job).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.reason == "AlreadyExists" => Ok(()),
        Err(e) => Err(AttemptError::Api(e)),
    }
}

#[cfg(test)]
mod tests;
