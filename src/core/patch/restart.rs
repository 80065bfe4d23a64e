//! Argo Rollouts' `restart` strategy: instead of changing the pod template, set
//! `spec.restartAt` so the Rollout controller restarts its pods in place.
//!
//! stakater writes only `restartAt`, so nothing tells a second trigger that the change was
//! already applied. Here the hashes are recorded in the Rollout's own metadata annotation
//! `reloader.stakater.com/source-hashes` (metadata, not the template: a template change would
//! roll the Rollout a second way), in the same patch as `restartAt`, and the patch is guarded
//! by the Rollout's `resourceVersion`: of two concurrent reconciles only one can succeed, the
//! other re-reads and finds the hash recorded.

use json_patch::{Patch, PatchOperation};
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::{Record, add, annotation_ops, pointer, recorded_entry, source_hashes, test};
use crate::keys::ROLLOUT_STRATEGY;
use crate::planner::format_last_reload;
use crate::source::SourceRef;
use crate::workload::WorkloadKind;

/// How an Argo Rollout is rolled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RolloutStrategy {
    /// Update the pod template, like a Deployment.
    #[default]
    Rollout,
    /// Set `spec.restartAt`.
    Restart,
}

impl RolloutStrategy {
    /// stakater's rule: exactly `restart` restarts; absent, `rollout` or anything else
    /// updates the template.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("restart") => RolloutStrategy::Restart,
            _ => RolloutStrategy::Rollout,
        }
    }

    /// The strategy of a workload given as JSON; only kinds that restart (Rollouts) can.
    pub fn of(kind: WorkloadKind, object: &Value) -> Self {
        if !kind.spec().restarts {
            return RolloutStrategy::Rollout;
        }
        RolloutStrategy::parse(
            object
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(ROLLOUT_STRATEGY))
                .and_then(Value::as_str),
        )
    }
}

/// The hash recorded for `source` in the Rollout's metadata, if any.
pub fn recorded_hash(object: &Value, source: &SourceRef) -> Option<String> {
    recorded_entry(source_hashes(object), source)
}

/// The operations recording `records` in the Rollout's metadata annotations, without
/// restarting anything (a baseline for a Rollout being created).
pub fn record_ops(object: &Value, records: &[Record]) -> Vec<PatchOperation> {
    let pending: Vec<&Record> = records
        .iter()
        .filter(|r| {
            recorded_hash(object, &r.source).as_deref() != Some(r.hash.to_string().as_str())
        })
        .collect();
    if pending.is_empty() {
        return Vec::new();
    }
    annotation_ops("", object, &pending)
}

/// The guarded patch that records `records` and restarts the Rollout's pods at `now`;
/// empty when every hash is already recorded.
pub fn restart_patch(object: &Value, records: &[Record], now: Timestamp) -> Patch {
    let records_ops = record_ops(object, records);
    if records_ops.is_empty() {
        return Patch(Vec::new());
    }
    let mut ops = Vec::new();
    if let Some(version) = object.pointer("/metadata/resourceVersion") {
        ops.push(test(
            pointer("/metadata", &["resourceVersion"]),
            version.clone(),
        ));
    }
    ops.extend(records_ops);
    // `add` replaces an earlier restartAt.
    ops.push(add(
        pointer("/spec", &["restartAt"]),
        Value::String(format_last_reload(now)),
    ));
    Patch(ops)
}

#[cfg(test)]
mod tests;
