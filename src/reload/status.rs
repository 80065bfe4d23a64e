//! ReloaderConfig status: what reloader last did for each target. The new status is a pure
//! function of the old one and an outcome; writing it is one merge patch of the status
//! subresource.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

pub use crate::reload::conditions::{NOT_FOUND, READY};
use crate::reload::conditions::{condition, set_condition};
use crate::reload::events::Events;
use crate::reload::first_status;
use reloader_core::crd::{ReloaderConfig, ReloaderConfigStatus, TargetStatus};
use reloader_core::index::ConfigId;
use reloader_core::reconcile::Change;
use reloader_core::validation::refusal_message;
use reloader_core::workload::WorkloadRef;

/// What happened to one target.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetOutcome {
    Reloaded(Vec<Change>),
    Paused(Timestamp),
    NotFound,
    Failed(String),
}

/// The status after `outcome` for `target`.
pub fn next_status(
    rc: &ReloaderConfig,
    target: &WorkloadRef,
    outcome: &TargetOutcome,
    now: Timestamp,
) -> ReloaderConfigStatus {
    let mut status = rc.status.clone().unwrap_or_default();
    let generation = rc.metadata.generation;
    status.observed_generation = generation;
    status.target_count = rc.spec.targets.len() as i64;
    let index = match status
        .targets
        .iter()
        .position(|t| t.kind == target.kind.as_str() && t.name == target.name)
    {
        Some(i) => i,
        None => {
            status.targets.push(TargetStatus {
                kind: target.kind.as_str().into(),
                name: target.name.clone(),
                ..TargetStatus::default()
            });
            status.targets.len() - 1
        }
    };
    let entry = &mut status.targets[index];
    let (ready, reason, message) = match outcome {
        TargetOutcome::Reloaded(changes) => {
            entry.reload_count += 1;
            entry.last_reload_time = Some(Time(now));
            entry.last_error = None;
            entry.paused_until = None;
            status.reload_count += 1;
            status.last_reload_time = Some(Time(now));
            for c in changes {
                status
                    .watched_resource_hashes
                    .insert(c.source.to_string(), c.new.to_string());
            }
            (
                true,
                "Reloaded",
                format!("{} {} reloaded", target.kind, target.name),
            )
        }
        TargetOutcome::Paused(until) => {
            entry.paused_until = Some(Time(*until));
            set_condition(
                &mut status.conditions,
                condition(
                    "Paused",
                    true,
                    "Paused",
                    format!("{} {} paused until {until}", target.kind, target.name),
                    now,
                    generation,
                ),
            );
            return status;
        }
        TargetOutcome::NotFound => {
            entry.last_error = Some(NOT_FOUND.into());
            (
                false,
                "TargetNotFound",
                format!("{} {} not found", target.kind, target.name),
            )
        }
        TargetOutcome::Failed(error) => {
            entry.last_error = Some(error.clone());
            (
                false,
                "ReloadFailed",
                format!("{} {}: {error}", target.kind, target.name),
            )
        }
    };
    set_condition(
        &mut status.conditions,
        condition(READY, ready, reason, message, now, generation),
    );
    if status.targets.iter().all(|t| t.paused_until.is_none()) {
        status.conditions.retain(|c| c.type_ != "Paused");
    }
    status
}

/// Reads the ReloaderConfig and merge-patches its status subresource.
pub async fn record(
    client: &Client,
    config: &ConfigId,
    target: &WorkloadRef,
    outcome: &TargetOutcome,
) -> Result<(), kube::Error> {
    let api: Api<ReloaderConfig> = Api::namespaced(client.clone(), &config.namespace);
    let rc = api.get_status(&config.name).await?;
    let status = next_status(&rc, target, outcome, Timestamp::now());
    let patch = json!({ "status": status });
    api.patch_status(
        &rc.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

/// One status update to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// What happened to one target.
    Target(ConfigId, WorkloadRef, TargetOutcome),
    /// A ReloaderConfig seen with a status that is behind.
    Observed(first_status::Observed),
}

/// Reads the ReloaderConfig and, unless its generation moved on meanwhile or its status
/// already says so (another replica wrote it), merge-patches what was observed. When the
/// status written refuses targets (another namespace), the ReloaderConfig and why, for a
/// Warning Event.
pub async fn record_observed(
    client: &Client,
    config: &ConfigId,
    generation: Option<i64>,
    missing: &[WorkloadRef],
) -> Result<Option<(ObjectReference, String)>, kube::Error> {
    let api: Api<ReloaderConfig> = Api::namespaced(client.clone(), &config.namespace);
    let rc = api.get_status(&config.name).await?;
    if rc.metadata.generation != generation || !first_status::needs_write(&rc, missing) {
        return Ok(None);
    }
    let patch = first_status::observed_patch(&rc, missing, Timestamp::now());
    api.patch_status(
        &rc.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    let refused = first_status::refused(&rc);
    Ok((!refused.is_empty()).then(|| {
        (
            rc.object_ref(&()),
            refusal_message(&config.namespace, &refused),
        )
    }))
}

/// Status writes per second, and how many may go at once after a quiet period.
const WRITES_PER_SECOND: f64 = 10.0;
const WRITE_BURST: u32 = 20;
/// Updates waiting to be written; beyond this, new ones are dropped (the next reload of the
/// same target writes a complete status again).
pub const QUEUE: usize = 1024;

/// Writes status updates one at a time, rate-limited. One writer means two targets of the
/// same ReloaderConfig reloaded together never lose a count to a read-modify-write race.
pub async fn writer(
    client: Client,
    events: Events,
    mut updates: tokio::sync::mpsc::Receiver<Update>,
) {
    let mut bucket = crate::reload::token_bucket::TokenBucket::new(
        WRITES_PER_SECOND,
        WRITE_BURST,
        tokio::time::Instant::now(),
    );
    while let Some(update) = updates.recv().await {
        let wait = bucket.take(tokio::time::Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let (config, result) = match &update {
            Update::Target(config, target, outcome) => {
                (config, record(&client, config, target, outcome).await)
            }
            Update::Observed(seen) => {
                let written =
                    record_observed(&client, &seen.config, seen.generation, &seen.missing).await;
                let result = match written {
                    Ok(Some((reference, why))) => {
                        tracing::warn!(config = ?seen.config, %why, "ReloaderConfig target refused");
                        events.refused(&reference, &why).await;
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(e) => Err(e),
                };
                (&seen.config, result)
            }
        };
        if let Err(e) = result {
            tracing::debug!(?config, error = %e, "cannot update ReloaderConfig status");
        }
    }
}

#[cfg(test)]
mod tests;
