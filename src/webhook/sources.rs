//! `POST /validate/sources`: Secret and ConfigMap writes. Always allowed; decides inline
//! whether the data changed and, if so, queues a trigger for the reload engine.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::AppState;
use super::body::read_json;
use super::review::{self, Operation, Review, ReviewError};
use crate::hash::{self, SourceHash};
use crate::source::SourceKind;
use crate::trigger::{self, Offer, Trigger};

/// The annotation that keeps a source from ever triggering (stakater-compatible).
pub const IGNORE_ANNOTATION: &str = "reloader.stakater.com/ignore";

const PATH: &str = "/validate/sources";
const WEBHOOK: &str = "sources";

/// Which operations besides UPDATE can trigger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourcesOptions {
    pub reload_on_create: bool,
    pub reload_on_delete: bool,
}

/// Why an admitted write triggers nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IgnoreReason {
    DryRun,
    CreateNotFollowed,
    DeleteNotFollowed,
    Connect,
    IgnoreAnnotation,
    DataUnchanged,
}

impl IgnoreReason {
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreReason::DryRun => "dry_run",
            IgnoreReason::CreateNotFollowed => "create_not_followed",
            IgnoreReason::DeleteNotFollowed => "delete_not_followed",
            IgnoreReason::Connect => "connect",
            IgnoreReason::IgnoreAnnotation => "ignore_annotation",
            IgnoreReason::DataUnchanged => "data_unchanged",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Trigger(Trigger),
    Ignore(IgnoreReason),
}

/// The parts of a Secret or ConfigMap that matter here; everything else in the object
/// (notably `managedFields`) is skipped without being built.
#[derive(Default, Deserialize)]
struct Meta {
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecretParts {
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Meta>,
    #[serde(default)]
    data: Option<BTreeMap<String, ByteString>>,
    #[serde(default)]
    string_data: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigMapParts {
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Meta>,
    #[serde(default)]
    data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    binary_data: Option<BTreeMap<String, ByteString>>,
}

fn check_kind(
    got: Option<String>,
    field: &'static str,
    expected: &'static str,
) -> Result<(), ReviewError> {
    match got {
        Some(got) if got != expected => Err(ReviewError::ObjectKindMismatch {
            field,
            got,
            expected,
        }),
        _ => Ok(()),
    }
}

fn object_meta(meta: Option<Meta>) -> ObjectMeta {
    ObjectMeta {
        annotations: meta.and_then(|m| m.annotations),
        ..ObjectMeta::default()
    }
}

/// A decoded Secret or ConfigMap. Holds data: never `Debug`-print it.
enum Source {
    Secret(Box<Secret>),
    ConfigMap(Box<ConfigMap>),
}

impl Source {
    fn decode(kind: SourceKind, raw: &RawValue, field: &'static str) -> Result<Self, ReviewError> {
        Ok(match kind {
            SourceKind::Secret => {
                let p: SecretParts = review::decode_object(raw, field, "Secret")?;
                check_kind(p.kind, field, "Secret")?;
                Source::Secret(Box::new(Secret {
                    metadata: object_meta(p.metadata),
                    data: p.data,
                    string_data: p.string_data,
                    ..Secret::default()
                }))
            }
            SourceKind::ConfigMap => {
                let p: ConfigMapParts = review::decode_object(raw, field, "ConfigMap")?;
                check_kind(p.kind, field, "ConfigMap")?;
                Source::ConfigMap(Box::new(ConfigMap {
                    metadata: object_meta(p.metadata),
                    data: p.data,
                    binary_data: p.binary_data,
                    ..ConfigMap::default()
                }))
            }
        })
    }

    fn annotations(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Source::Secret(s) => s.metadata.annotations.as_ref(),
            Source::ConfigMap(c) => c.metadata.annotations.as_ref(),
        }
    }

    fn ignored(&self) -> bool {
        self.annotations()
            .and_then(|a| a.get(IGNORE_ANNOTATION))
            .is_some_and(|v| v == "true")
    }

    fn hash(&self) -> SourceHash {
        match self {
            Source::Secret(s) => hash::hash_secret(s),
            Source::ConfigMap(c) => hash::hash_configmap(c),
        }
    }

    fn data_changed(old: &Source, new: &Source) -> bool {
        match (old, new) {
            (Source::Secret(a), Source::Secret(b)) => hash::secret_data_changed(a, b),
            (Source::ConfigMap(a), Source::ConfigMap(b)) => hash::configmap_data_changed(a, b),
            _ => true,
        }
    }
}

fn required<'a>(
    raw: Option<&'a RawValue>,
    field: &'static str,
) -> Result<&'a RawValue, ReviewError> {
    // `null` arrives as `None` already; a missing object on UPDATE is malformed.
    raw.ok_or(ReviewError::MissingField(field))
}

/// Decides what an admitted Secret or ConfigMap write means for the reload engine.
/// Cheap checks come first so dry runs and unfollowed operations decode nothing.
pub fn decide(
    review: &Review<'_>,
    opts: &SourcesOptions,
    now: SystemTime,
) -> Result<Decision, ReviewError> {
    let kind = SourceKind::from_kind(&review.kind.kind)
        .filter(|_| review.kind.group.is_empty())
        .ok_or_else(|| ReviewError::WrongKind {
            got: review.kind.kind.clone(),
            path: PATH,
            allowed: "Secret and ConfigMap (core group)",
        })?;
    if review.dry_run {
        return Ok(Decision::Ignore(IgnoreReason::DryRun));
    }
    let (old, new) = match review.operation {
        Operation::Connect => return Ok(Decision::Ignore(IgnoreReason::Connect)),
        Operation::Create if !opts.reload_on_create => {
            return Ok(Decision::Ignore(IgnoreReason::CreateNotFollowed));
        }
        Operation::Delete if !opts.reload_on_delete => {
            return Ok(Decision::Ignore(IgnoreReason::DeleteNotFollowed));
        }
        Operation::Create => {
            let new = Source::decode(
                kind,
                required(review.object, "request.object")?,
                "request.object",
            )?;
            (None, Some(new))
        }
        Operation::Delete => {
            let old = Source::decode(
                kind,
                required(review.old_object, "request.oldObject")?,
                "request.oldObject",
            )?;
            (Some(old), None)
        }
        Operation::Update => {
            let new = Source::decode(
                kind,
                required(review.object, "request.object")?,
                "request.object",
            )?;
            let old = Source::decode(
                kind,
                required(review.old_object, "request.oldObject")?,
                "request.oldObject",
            )?;
            (Some(old), Some(new))
        }
    };
    // The object as it will be (or was, on DELETE) decides whether it is ignored.
    if new.as_ref().or(old.as_ref()).is_some_and(Source::ignored) {
        return Ok(Decision::Ignore(IgnoreReason::IgnoreAnnotation));
    }
    if let (Some(o), Some(n)) = (&old, &new)
        && !Source::data_changed(o, n)
    {
        return Ok(Decision::Ignore(IgnoreReason::DataUnchanged));
    }
    let operation = match review.operation {
        Operation::Create => trigger::Operation::Create,
        Operation::Delete => trigger::Operation::Delete,
        _ => trigger::Operation::Update,
    };
    Ok(Decision::Trigger(Trigger {
        namespace: review.namespace.clone(),
        kind,
        name: review.name.clone(),
        old_hash: old.as_ref().map(Source::hash),
        new_hash: new.as_ref().map(Source::hash),
        operation,
        uid: review.uid.clone(),
        admitted_at: now,
    }))
}

/// The handler. Input we cannot read gets a 4xx; every readable review is allowed.
pub async fn handle(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let result = async {
        let bytes = read_json(&headers, body, &state.limits).await?;
        let review = review::parse(&bytes)?;
        let decision = decide(&review, &state.sources, SystemTime::now())?;
        Ok::<_, super::ApiError>((review.version, review.uid, decision))
    }
    .await;
    match result {
        Ok((version, uid, decision)) => {
            let outcome = match decision {
                Decision::Ignore(reason) => {
                    tracing::debug!(%uid, reason = reason.as_str(), "source write ignored");
                    "ignored"
                }
                Decision::Trigger(t) => {
                    tracing::debug!(
                        %uid,
                        namespace = %t.namespace,
                        kind = %t.kind,
                        name = %t.name,
                        operation = t.operation.as_str(),
                        "source data changed"
                    );
                    match state.queue.offer(t) {
                        Offer::Queued => {
                            state.metrics.trigger_queued();
                            "triggered"
                        }
                        Offer::DroppedFull => {
                            state.metrics.trigger_dropped("full");
                            tracing::warn!(%uid, "trigger queue full; change left to resync");
                            "dropped"
                        }
                        Offer::DroppedClosed => {
                            state.metrics.trigger_dropped("closed");
                            "dropped"
                        }
                    }
                }
            };
            state.metrics.review(WEBHOOK, outcome, started.elapsed());
            super::answer(version, review::Answer::allow(uid))
        }
        Err(err) => super::reject(&state, WEBHOOK, err, started),
    }
}
