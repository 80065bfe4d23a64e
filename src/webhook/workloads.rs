//! `POST /mutate/workloads`: gives every follower a baseline without a rollout.
//!
//! Resync only updates hashes already recorded on a workload (so installing reloader rolls
//! nothing). To get that first record without a restart, this mutating webhook stamps the
//! current hashes of the sources a workload follows into its pod template while the
//! template is being changed anyway (CREATE, or an UPDATE that changes the template): the
//! rollout that follows would have happened regardless. An UPDATE that leaves the template
//! alone is never touched, since stamping it would cause a rollout by itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use json_patch::Patch;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use kube::runtime::reflector::{ObjectRef, Store};
use serde_json::Value;

use super::AppState;
use super::body::read_json;
use super::review::{self, Answer, Operation};
use crate::reload::apply::Wanted;
use crate::reload::cache::{Scope, config_input};
use crate::reload::followers::{Reading, entries_for};
use crate::reload::source_read;
use reloader_core::crd::ReloaderConfig;
use reloader_core::index::{ConfigId, FollowerIndex, IndexError, WorkloadInput};
use reloader_core::patch::restart::{self, RolloutStrategy};
use reloader_core::patch::{PatchError, Record, ReloadStrategy, build_patch};
use reloader_core::policy::{AnnotationKeys, GlobalOptions};
use reloader_core::untyped;
use reloader_core::workload::WorkloadKind;

const WEBHOOK: &str = "workloads";
/// Source reads must fit in the webhook's own timeout (5 s); past this, admit unstamped.
const READ_BUDGET: Duration = Duration::from_secs(2);

/// What the handler needs from the engine.
#[derive(Clone)]
pub struct Baseline {
    pub client: kube::Client,
    pub keys: AnnotationKeys,
    pub global: GlobalOptions,
    pub configs: Store<ReloaderConfig>,
    pub strategy: ReloadStrategy,
    pub scope: Scope,
}

impl std::fmt::Debug for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Baseline")
            .field("strategy", &self.strategy)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Whether the admitted write changes the pod template (always true on CREATE).
pub fn template_changed(kind: WorkloadKind, object: &Value, old: Option<&Value>) -> bool {
    let pointer = kind.template_pointer();
    old.is_none_or(|old| old.pointer(pointer) != object.pointer(pointer))
}

/// The JSON Patch recording every wanted hash not yet recorded; `None` when all are.
pub fn stamp(
    kind: WorkloadKind,
    object: &Value,
    wanted: &[Wanted],
) -> Result<Option<Patch>, PatchError> {
    // A restarting Rollout keeps its record in its own metadata (see `patch::restart`);
    // recording it there restarts nothing.
    if RolloutStrategy::of(kind, object) == RolloutStrategy::Restart {
        let records: Vec<Record> = wanted.iter().map(|w| w.record.clone()).collect();
        let ops = restart::record_ops(object, &records);
        return Ok((!ops.is_empty()).then_some(Patch(ops)));
    }
    let mut ops = Vec::new();
    for strategy in [ReloadStrategy::EnvVars, ReloadStrategy::Annotations] {
        let records: Vec<Record> = wanted
            .iter()
            .filter(|w| w.strategy == strategy)
            .map(|w| w.record.clone())
            .collect();
        if !records.is_empty() {
            ops.extend(build_patch(kind, object, strategy, &records)?.0);
        }
    }
    Ok((!ops.is_empty()).then_some(Patch(ops)))
}

fn input(kind: WorkloadKind, object: &Value) -> Option<Result<WorkloadInput, IndexError>> {
    let decode = |v: &Value| v.clone();
    Some(match kind {
        WorkloadKind::Deployment => WorkloadInput::from_deployment(
            &serde_json::from_value::<Deployment>(decode(object)).ok()?,
        ),
        WorkloadKind::StatefulSet => WorkloadInput::from_stateful_set(
            &serde_json::from_value::<StatefulSet>(decode(object)).ok()?,
        ),
        WorkloadKind::DaemonSet => WorkloadInput::from_daemon_set(
            &serde_json::from_value::<DaemonSet>(decode(object)).ok()?,
        ),
        WorkloadKind::CronJob => {
            WorkloadInput::from_cron_job(&serde_json::from_value::<CronJob>(decode(object)).ok()?)
        }
        WorkloadKind::Rollout | WorkloadKind::DeploymentConfig => {
            untyped::input_from_json(kind, object)
        }
    })
}

/// Works out the stamping patch for one admitted workload.
async fn baseline_patch(
    baseline: &Baseline,
    kind: WorkloadKind,
    namespace: &str,
    mut object: Value,
) -> Option<Patch> {
    if !baseline.scope.includes(namespace) {
        return None;
    }
    // On CREATE the namespace may only be in the request.
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.entry("namespace")
            .or_insert_with(|| Value::String(namespace.to_owned()));
    }
    let input = input(kind, &object)?.ok()?;
    let workload = input.workload.clone();
    let mut index = FollowerIndex::new(baseline.keys.clone(), baseline.global.clone());
    index.apply_workload(input);
    for rc in baseline.configs.state() {
        if let Some((id, cfg)) = config_input(&rc)
            && cfg.targets.contains(&workload)
        {
            index.apply_config(id, cfg);
        }
    }
    let started = Instant::now();
    let mut wanted: Vec<Wanted> = Vec::new();
    for source_ref in index.sources() {
        if started.elapsed() > READ_BUDGET {
            break;
        }
        let Ok(Some(stored)) = source_read::read(&baseline.client, &source_ref).await else {
            continue;
        };
        let configs = &baseline.configs;
        let entries = entries_for(
            &index,
            |id: &ConfigId| configs.get(&ObjectRef::new(&id.name).within(&id.namespace)),
            baseline.strategy,
            Reading {
                source: &source_ref,
                stored: Some(&stored),
                seq: 0,
                baseline_required: false,
            },
        );
        wanted.extend(
            entries
                .into_iter()
                .filter(|(w, _)| *w == workload)
                .map(|(_, e)| e.wanted),
        );
    }
    wanted.dedup_by(|a, b| a.record.source == b.record.source && a.strategy == b.strategy);
    stamp(kind, &object, &wanted).ok().flatten()
}

/// The handler: always allows; adds a patch when there is a baseline to record.
pub async fn handle(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let bytes = match read_json(&headers, body, &state.limits).await {
        Ok(b) => b,
        Err(e) => return super::reject(&state, WEBHOOK, e, started),
    };
    let review = match review::parse(&bytes) {
        Ok(r) => r,
        Err(e) => return super::reject(&state, WEBHOOK, e.into(), started),
    };
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
            match baseline_patch(baseline, kind, &review.namespace, object).await {
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
    tracing::debug!(uid = %review.uid, outcome, "workload admission");
    state.metrics.review(WEBHOOK, outcome, started.elapsed());
    super::answer(review.version, answer)
}

#[cfg(test)]
mod tests;
