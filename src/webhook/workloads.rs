//! `POST /mutate/workloads`: gives every follower a baseline without a rollout.
//!
//! Resync only updates hashes already recorded on a workload (so installing reloader rolls
//! nothing). To get that first record without a restart, this mutating webhook stamps the
//! current hashes of the sources a workload follows into its pod template while the
//! template is being changed anyway (CREATE, or an UPDATE that changes the template): the
//! rollout that follows would have happened regardless. An UPDATE that leaves the template
//! alone is never touched, since stamping it would cause a rollout by itself.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use json_patch::Patch;
use serde_json::Value;

use super::AppState;
use super::review::{self, Answer, Operation};
use reloader_core::baseline::{Baselines, Verdict, Wanted};
use reloader_core::patch::restart::{self, RolloutStrategy};
use reloader_core::patch::{PatchError, Record, ReloadStrategy, build_patch, recorded_hash};
use reloader_core::workload::WorkloadKind;

const WEBHOOK: &str = "workloads";

/// Whether the admitted write changes the pod template (always true on CREATE).
pub fn template_changed(kind: WorkloadKind, object: &Value, old: Option<&Value>) -> bool {
    let pointer = kind.template_pointer();
    old.is_none_or(|old| old.pointer(pointer) != object.pointer(pointer))
}

/// The JSON Patch recording every wanted hash not yet recorded; `None` when all are. A
/// record already of the current data, in any scheme (stakater's included), is left as it
/// is: rewriting stakater's own value would make a stakater still running beside roll.
pub fn stamp(
    kind: WorkloadKind,
    object: &Value,
    wanted: &[Wanted],
) -> Result<Option<Patch>, PatchError> {
    let to_write = |w: &Wanted, recorded: Option<String>| {
        (w.judge(recorded.as_deref()) != Verdict::UpToDate)
            .then(|| w.record_replacing(recorded.as_deref()))
    };
    // A restarting Rollout keeps its record in its own metadata (see `patch::restart`);
    // recording it there restarts nothing.
    if RolloutStrategy::of(kind, object) == RolloutStrategy::Restart {
        let records: Vec<Record> = wanted
            .iter()
            .filter_map(|w| to_write(w, restart::recorded_hash(object, &w.record.source)))
            .collect();
        let ops = restart::record_ops(object, &records);
        return Ok((!ops.is_empty()).then_some(Patch(ops)));
    }
    let mut ops = Vec::new();
    for strategy in [ReloadStrategy::EnvVars, ReloadStrategy::Annotations] {
        let records: Vec<Record> = wanted
            .iter()
            .filter(|w| w.strategy == strategy)
            .filter_map(|w| to_write(w, recorded_hash(kind, object, strategy, &w.record.source)))
            .collect();
        if !records.is_empty() {
            ops.extend(build_patch(kind, object, strategy, &records)?.0);
        }
    }
    Ok((!ops.is_empty()).then_some(Patch(ops)))
}

/// Works out the stamping patch for one admitted workload: the engine says what to
/// record, [`stamp`] says how.
async fn baseline_patch(
    baseline: &dyn Baselines,
    kind: WorkloadKind,
    namespace: &str,
    mut object: Value,
) -> Option<Patch> {
    // On CREATE the namespace may only be in the request.
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.entry("namespace")
            .or_insert_with(|| Value::String(namespace.to_owned()));
    }
    let wanted = baseline.wanted(kind, namespace, &object).await;
    stamp(kind, &object, &wanted).ok().flatten()
}

/// The handler: always allows; adds a patch when there is a baseline to record.
pub async fn handle(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let state: &AppState = &state;
    super::serve_review(state, WEBHOOK, &headers, body, |bytes| async move {
        let review = review::parse(&bytes)?;
        let mut answer = Answer::allow(review.uid.clone());
        let kind = review.kind.kind.parse::<WorkloadKind>().ok();
        let object: Option<Value> = review
            .object
            .and_then(|o| serde_json::from_str(o.get()).ok());
        let old: Option<Value> = review
            .old_object
            .and_then(|o| serde_json::from_str(o.get()).ok());
        let outcome = match (&state.baseline, kind, object, review.operation) {
            (Some(baseline), Some(kind), Some(object), Operation::Create | Operation::Update)
                if template_changed(kind, &object, old.as_ref()) =>
            {
                match baseline_patch(baseline.as_ref(), kind, &review.namespace, object).await {
                    Some(patch) => {
                        let json = serde_json::to_vec(&patch).unwrap_or_default();
                        answer.patch = Some(base64::engine::general_purpose::STANDARD.encode(json));
                        answer.patch_type = Some("JSONPatch".to_owned());
                        "stamped"
                    }
                    None => "unchanged",
                }
            }
            _ => "skipped",
        };
        Ok((review.version, answer, outcome))
    })
    .await
}

#[cfg(test)]
mod tests;
