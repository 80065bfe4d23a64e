//! What one reconcile does to one workload, decided purely: from the workload's stored
//! JSON, the records it should carry and the timing, whether it is up to date, must wait
//! for its pause to end, or gets a guarded JSON Patch. The engine's `reload::apply` is the
//! GET, PATCH and retry loop around [`decide`]; triggers and resync both end there.

use std::time::Duration;

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, Patch, PatchOperation};
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::baseline::{Verdict, Wanted};
use crate::hash::SourceHash;
use crate::keys::LAST_RELOAD_AT;
use crate::patch::restart::{self, RolloutStrategy};
use crate::patch::{PatchError, Record, ReloadStrategy, build_patch, recorded_hash};
use crate::planner::{self, Plan, Timing};
use crate::source::SourceRef;
use crate::workload::WorkloadKind;

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
            .map(|h| {
                let digest = h.split_once(':').map_or(h, |(_, d)| d);
                digest.chars().take(12).collect::<String>()
            })
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
/// changes they make. Resync never makes a first record, nor replaces one made under a key
/// it does not have.
fn pending(
    wanted: &[&Wanted],
    recorded: impl Fn(&SourceRef) -> Option<String>,
    changes: &mut Vec<Change>,
) -> Vec<Record> {
    wanted
        .iter()
        .filter_map(|w| {
            let old = recorded(&w.record.source);
            match w.judge(old.as_deref()) {
                Verdict::UpToDate => return None,
                Verdict::NoRecord | Verdict::ForeignKey if w.baseline_required => return None,
                Verdict::NoRecord | Verdict::ForeignKey | Verdict::Changed => {}
            }
            let record = w.record_replacing(old.as_deref());
            changes.push(Change {
                source: w.record.source.clone(),
                old,
                new: w.record.hash,
            });
            Some(record)
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
    // Annotations first: their guard may test the whole template, which the env ops change.
    for strategy in [ReloadStrategy::Annotations, ReloadStrategy::EnvVars] {
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

#[cfg(test)]
mod tests;
