//! The reconcile step for one workload: make the hashes recorded on its pod template (on a
//! restarting Argo Rollout: its metadata, see `patch::restart`) equal the hashes of its
//! sources as stored now. Triggers and resync both end here.
//!
//! [`decide`] is pure: from the workload's JSON, the wanted records and the timing, it says
//! whether the workload is up to date, must wait for its pause to end, or gets this guarded
//! JSON Patch. [`apply`] is the thin loop of GET, PATCH and retry around it.

use std::time::Duration;

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, Patch, PatchOperation};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DynamicObject, PatchParams};
use serde_json::{Value, json};

use reloader_core::hash::SourceHash;
use reloader_core::patch::restart::{self, RolloutStrategy};
use reloader_core::patch::{PatchError, Record, ReloadStrategy, build_patch, recorded_hash};
use reloader_core::planner::{self, LAST_RELOAD_AT, Plan, Timing};
use reloader_core::source::SourceRef;
use reloader_core::workload::{WorkloadKind, WorkloadRef};

pub use reloader_core::baseline::Wanted;

/// One change the patch makes, for Events and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub source: SourceRef,
    pub old: Option<String>,
    pub new: SourceHash,
}

impl Change {
    /// `Secret app-creds: 1a2b3c4d5e6f→7a8b9c0d1e2f`, for Events (hashes only, never data).
    pub fn describe(&self) -> String {
        let old = self
            .old
            .as_deref()
            .map(|h| h.chars().take(12).collect::<String>())
            .unwrap_or_else(|| "none".into());
        format!(
            "{} {}: {}→{}",
            self.source.kind,
            self.source.name,
            old,
            self.new.short()
        )
    }
}

/// What to do with a workload now.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Every wanted hash is already recorded (or, for resync, there is no baseline).
    UpToDate,
    /// Inside the pause period: try again at this time (trailing edge; nothing is dropped).
    WaitUntil(Timestamp),
    /// Send this patch.
    Patch { patch: Patch, changes: Vec<Change> },
}

/// When the pending changes of a workload started and how they may be spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spacing {
    pub first_pending: Timestamp,
    pub coalesce: Duration,
    pub pause: Option<Duration>,
}

/// Decides what to do with a workload, given its stored JSON.
pub fn decide(
    kind: WorkloadKind,
    object: &Value,
    wanted: &[Wanted],
    now: Timestamp,
    spacing: Spacing,
) -> Result<Step, PatchError> {
    let (ops, changes) = match RolloutStrategy::of(kind, object) {
        RolloutStrategy::Rollout => template_ops(kind, object, wanted)?,
        RolloutStrategy::Restart => restart_ops(object, wanted, now),
    };
    if ops.is_empty() {
        return Ok(Step::UpToDate);
    }
    let last_reload = planner::last_reload(
        object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(LAST_RELOAD_AT))
            .and_then(Value::as_str),
    );
    let timing = Timing {
        now,
        first_pending: Some(spacing.first_pending),
        coalesce: spacing.coalesce,
        last_reload,
        pause: spacing.pause,
    };
    if let Plan::ReloadAt(at) = planner::plan(timing) {
        return Ok(Step::WaitUntil(at));
    }
    // A restarting Rollout always has metadata annotations (the strategy is one), so this
    // never replaces the map the restart ops write into.
    let mut ops = ops;
    ops.push(last_reload_op(object, now));
    Ok(Step::Patch {
        patch: Patch(ops),
        changes,
    })
}

/// The records of `wanted` still to write, given what is recorded now (`recorded`), and the
/// changes they make. Resync never makes a first record.
fn pending(
    wanted: &[&Wanted],
    recorded: impl Fn(&SourceRef) -> Option<String>,
    changes: &mut Vec<Change>,
) -> Vec<Record> {
    wanted
        .iter()
        .filter_map(|w| {
            let old = recorded(&w.record.source);
            if w.baseline_required && old.is_none() {
                return None;
            }
            if old.as_deref() != Some(w.record.hash.to_string().as_str()) {
                changes.push(Change {
                    source: w.record.source.clone(),
                    old,
                    new: w.record.hash,
                });
            }
            Some(w.record.clone())
        })
        .collect()
}

/// Records on the pod template, each with its own strategy (every kind but a restarting
/// Rollout).
fn template_ops(
    kind: WorkloadKind,
    object: &Value,
    wanted: &[Wanted],
) -> Result<(Vec<PatchOperation>, Vec<Change>), PatchError> {
    let mut changes = Vec::new();
    let mut ops = Vec::new();
    for strategy in [ReloadStrategy::EnvVars, ReloadStrategy::Annotations] {
        let of_strategy: Vec<&Wanted> = wanted.iter().filter(|w| w.strategy == strategy).collect();
        let records = pending(
            &of_strategy,
            |source| recorded_hash(kind, object, strategy, source),
            &mut changes,
        );
        if records.is_empty() {
            continue;
        }
        ops.extend(build_patch(kind, object, strategy, &records)?.0);
    }
    Ok((ops, changes))
}

/// A Rollout with `rollout-strategy: restart`: the hashes go to its metadata whatever the
/// reload strategy, and `spec.restartAt` restarts its pods.
fn restart_ops(
    object: &Value,
    wanted: &[Wanted],
    now: Timestamp,
) -> (Vec<PatchOperation>, Vec<Change>) {
    let mut changes = Vec::new();
    let mut unique: Vec<&Wanted> = Vec::new();
    for w in wanted {
        if !unique.iter().any(|u| u.record.source == w.record.source) {
            unique.push(w);
        }
    }
    let records = pending(
        &unique,
        |source| restart::recorded_hash(object, source),
        &mut changes,
    );
    (restart::restart_patch(object, &records, now).0, changes)
}

/// Records the time of this reload on the workload's metadata (not the template: writing it
/// rolls nothing), so a pause survives restarts of reloader.
fn last_reload_op(object: &Value, now: Timestamp) -> PatchOperation {
    let value = planner::format_last_reload(now);
    let mut path = PointerBuf::parse("/metadata/annotations").unwrap_or_default();
    if object
        .pointer("/metadata/annotations")
        .is_some_and(Value::is_object)
    {
        path.push_back(LAST_RELOAD_AT);
        PatchOperation::Add(AddOperation {
            path,
            value: Value::String(value),
        })
    } else {
        PatchOperation::Add(AddOperation {
            path,
            value: json!({ LAST_RELOAD_AT: value }),
        })
    }
}

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
