//! A ReloaderConfig's status as soon as it is seen, not only at its first reload: the
//! generation observed, how many targets it names, whether they all exist, and which it
//! refuses (another namespace: never rolled, even when admission was bypassed). Whether to
//! write, and what, are plain functions of the stored object and the missing targets.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::reload::conditions::{NOT_FOUND, READY, condition, set_condition};
use reloader_core::crd::ReloaderConfig;
use reloader_core::index::ConfigId;
use reloader_core::validation::{RefusedTarget, refusal_message, refused_targets};
use reloader_core::workload::WorkloadRef;

/// What the observer saw of one ReloaderConfig.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub config: ConfigId,
    pub generation: Option<i64>,
    pub missing: Vec<WorkloadRef>,
}

pub const WATCHING: &str = "Watching";
pub const TARGET_NOT_FOUND: &str = "TargetNotFound";
/// `Ready` is False for this reason while a target names another namespace: the engine
/// never rolls it, whether or not admission let the ReloaderConfig in.
pub const TARGET_REFUSED: &str = "TargetRefused";

/// The targets of `rc` the engine refuses (another namespace than the ReloaderConfig's).
pub fn refused(rc: &ReloaderConfig) -> Vec<RefusedTarget> {
    refused_targets(
        rc.metadata.namespace.as_deref().unwrap_or_default(),
        &rc.spec,
    )
}

fn ready(rc: &ReloaderConfig) -> Option<&Condition> {
    rc.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == READY)
}

/// Whether the stored status is behind: a generation not yet observed, a refused target
/// not reported as such, a missing target not reported as such, or a `TargetNotFound`
/// whose targets all exist now. A `Ready` set by a reload for the current generation is
/// otherwise left as it is; a refused target always wins, since it stays refused until
/// the spec changes.
pub fn needs_write(rc: &ReloaderConfig, missing: &[WorkloadRef]) -> bool {
    let observed = rc.status.as_ref().and_then(|s| s.observed_generation);
    if observed != rc.metadata.generation {
        return true;
    }
    let reason = ready(rc)
        .filter(|c| c.status == "False")
        .map(|c| c.reason.as_str());
    if !refused(rc).is_empty() {
        return reason != Some(TARGET_REFUSED);
    }
    if reason == Some(TARGET_REFUSED) {
        return true;
    }
    let not_found = reason == Some(TARGET_NOT_FOUND);
    not_found == missing.is_empty()
}

fn missing_message(missing: &[WorkloadRef]) -> String {
    let names: Vec<String> = missing
        .iter()
        .map(|w| format!("{} {}", w.kind, w.name))
        .collect();
    format!("not found: {}", names.join(", "))
}

/// The status fields to merge-patch: observedGeneration, targetCount, conditions, and the
/// targets with a stale "not found" cleared. Counts, times and hashes are not part of it,
/// so the patch never resets them.
pub fn observed_patch(rc: &ReloaderConfig, missing: &[WorkloadRef], now: Timestamp) -> Value {
    let mut status = rc.status.clone().unwrap_or_default();
    let generation = rc.metadata.generation;
    let refused = refused(rc);
    let (ok, reason, message) = if !refused.is_empty() {
        let namespace = rc.metadata.namespace.as_deref().unwrap_or_default();
        let mut message = refusal_message(namespace, &refused);
        if !missing.is_empty() {
            message = format!("{message}; {}", missing_message(missing));
        }
        (false, TARGET_REFUSED, message)
    } else if missing.is_empty() {
        (true, WATCHING, "every target exists".to_owned())
    } else {
        (false, TARGET_NOT_FOUND, missing_message(missing))
    };
    set_condition(
        &mut status.conditions,
        condition(READY, ok, reason, message, now, generation),
    );
    let mut patch = json!({
        "observedGeneration": generation,
        "targetCount": rc.spec.targets.len() as i64,
        "conditions": status.conditions,
    });
    let is_missing = |kind: &str, name: &str| {
        missing
            .iter()
            .any(|w| w.kind.as_str() == kind && w.name == name)
    };
    let mut cleared = false;
    for t in &mut status.targets {
        if t.last_error.as_deref() == Some(NOT_FOUND) && !is_missing(&t.kind, &t.name) {
            t.last_error = None;
            cleared = true;
        }
    }
    if cleared {
        patch["targets"] = json!(status.targets);
    }
    json!({ "status": patch })
}

#[cfg(test)]
mod tests;
