//! `POST /validate/sources`: Secret and ConfigMap writes. Always allowed; decides inline
//! whether the data changed and, if so, queues a trigger for the reload engine. On the
//! path of every Secret and ConfigMap write in the cluster, so it compares and hashes
//! nothing it does not need (an object without `resourceVersion` is the one exception).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;

use super::AppState;
use super::review::{self, Answer, Operation, Review, ReviewError};
use crate::trigger::{self, Before, Offer, Trigger};
use reloader_core::hash::{Hasher, SourceHash, same_map};
use reloader_core::source::SourceKind;

use reloader_core::keys::IGNORE;

const PATH: &str = "/validate/sources";
const OBJECT: &str = "request.object";
const OLD_OBJECT: &str = "request.oldObject";
const WEBHOOK: &str = "sources";

/// Which operations besides UPDATE can trigger.
#[derive(Clone, Debug, Default)]
pub struct SourcesOptions {
    pub reload_on_create: bool,
    pub reload_on_delete: bool,
    /// The hash key of new records (plain SHA-256 without one).
    pub hasher: Hasher,
    /// The key that marks a source ignored (`--ignore-annotation`); `None`: the default.
    pub ignore_annotation: Option<String>,
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
pub enum Verdict {
    Trigger(Trigger),
    Ignore(IgnoreReason),
}

/// The metadata that matters here: annotations (ignored or not), and the
/// `resourceVersion` by which the engine recognises the old object in a read.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    resource_version: Option<String>,
}

/// A JSON string's bytes, borrowed from the body when it has no escapes (always, for
/// base64). Read as bytes, not `str`: only hashing and base64 look at them, so checking
/// that they are UTF-8 (or free of raw control characters, which JSON forbids) would be a
/// wasted pass over most of the review.
/// serde only borrows a `Cow` it meets directly, hence the wrapper inside maps.
#[derive(Deserialize, PartialEq, Eq)]
struct Text<'a>(#[serde(borrow)] Cow<'a, [u8]>);

/// The parts of a Secret or ConfigMap that matter here, decoded while the review is read;
/// everything else in the object (notably `managedFields`) is skipped without being built.
/// `data` stays text: a ConfigMap's values, or a Secret's base64, decoded only when the
/// text differs. Holds data: never `Debug`-print it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceParts<'a> {
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Meta>,
    #[serde(default, borrow)]
    data: Option<BTreeMap<String, Text<'a>>>,
    #[serde(default)]
    string_data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    binary_data: Option<BTreeMap<String, ByteString>>,
}

impl SourceParts<'_> {
    fn check_kind(&self, field: &'static str, expected: SourceKind) -> Result<(), ReviewError> {
        match &self.kind {
            Some(got) if got != expected.as_str() => Err(ReviewError::ObjectKindMismatch {
                field,
                got: got.clone(),
                expected: expected.as_str(),
            }),
            _ => Ok(()),
        }
    }

    fn ignored(&self, key: &str) -> bool {
        self.metadata
            .as_ref()
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(key))
            .is_some_and(|v| v == "true")
    }

    fn resource_version(&self) -> Option<&str> {
        self.metadata
            .as_ref()
            .and_then(|m| m.resource_version.as_deref())
            .filter(|v| !v.is_empty())
    }

    fn has_string_data(&self) -> bool {
        self.string_data.as_ref().is_some_and(|m| !m.is_empty())
    }

    /// Whether two Secrets without `stringData` hold the same data: the same keys, and
    /// each value the same base64 text or, where the text differs, the same decoded bytes
    /// (the API server writes canonical base64, so that decode only confirms). Nothing is
    /// hashed; values with equal text are not decoded.
    fn same_secret_data(
        &self,
        new: &SourceParts<'_>,
        bufs: &mut [Vec<u8>; 2],
    ) -> Result<bool, ReviewError> {
        let empty = BTreeMap::new();
        let old_data = self.data.as_ref().unwrap_or(&empty);
        let new_data = new.data.as_ref().unwrap_or(&empty);
        if old_data.len() != new_data.len() || !old_data.keys().eq(new_data.keys()) {
            return Ok(false);
        }
        for ((k, o), n) in old_data.iter().zip(new_data.values()) {
            if o == n {
                continue;
            }
            let [ob, nb] = bufs;
            ob.clear();
            nb.clear();
            decode_value(OLD_OBJECT, k, o, ob)?;
            decode_value(OBJECT, k, n, nb)?;
            if ob != nb {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether the write leaves the data as it was. A ConfigMap's text is its data; a
    /// Secret's base64 is compared value by value. Only a Secret carrying `stringData` (rare:
    /// the API server folds it into `data` before admission) is settled by hashing both.
    fn same_data_as(
        &self,
        new: &SourceParts<'_>,
        kind: SourceKind,
        hasher: &Hasher,
        bufs: &mut [Vec<u8>; 2],
    ) -> Result<bool, ReviewError> {
        match kind {
            SourceKind::ConfigMap => Ok(self.same_configmap_text(new)),
            SourceKind::Secret if self.has_string_data() || new.has_string_data() => {
                let old = self.hash(hasher, kind, OLD_OBJECT, &mut bufs[0])?;
                Ok(old == new.hash(hasher, kind, OBJECT, &mut bufs[0])?)
            }
            SourceKind::Secret => self.same_secret_data(new, bufs),
            SourceKind::SecretProviderClass => Err(wrong_kind(kind.as_str())),
        }
    }
}

impl SourceParts<'_> {
    /// Same `data` and `binaryData` text: for a ConfigMap that is the data itself.
    fn same_configmap_text(&self, other: &SourceParts<'_>) -> bool {
        same_map(self.data.as_ref(), other.data.as_ref())
            && same_map(self.binary_data.as_ref(), other.binary_data.as_ref())
    }

    /// The hash of the data ([`Hasher::secret`], [`Hasher::configmap`]), fed entry by
    /// entry: Secret values are decoded one at a time into `buf`, reused across values and
    /// objects, so no decoded copy of the object is built. A Secret carrying `stringData`
    /// (rare: the API server folds it into `data` before admission) takes the general path.
    fn hash(
        &self,
        hasher: &Hasher,
        kind: SourceKind,
        field: &'static str,
        buf: &mut Vec<u8>,
    ) -> Result<SourceHash, ReviewError> {
        let data_len = self.data.as_ref().map_or(0, BTreeMap::len);
        match kind {
            SourceKind::Secret if self.has_string_data() => {
                Ok(hasher.secret(&self.to_secret(field)?))
            }
            SourceKind::Secret => {
                let mut h = hasher.map_hasher(data_len);
                for (k, v) in self.data.iter().flatten() {
                    buf.clear();
                    decode_value(field, k, v, buf)?;
                    h.entry(k, buf);
                }
                h.binary_data(0);
                Ok(h.finish())
            }
            SourceKind::ConfigMap => {
                let mut h = hasher.map_hasher(data_len);
                for (k, v) in self.data.iter().flatten() {
                    h.entry(k, &v.0);
                }
                h.binary_data(self.binary_data.as_ref().map_or(0, BTreeMap::len));
                for (k, v) in self.binary_data.iter().flatten() {
                    h.entry(k, &v.0);
                }
                Ok(h.finish())
            }
            // `decide` admits Secrets and ConfigMaps only.
            SourceKind::SecretProviderClass => Err(wrong_kind(kind.as_str())),
        }
    }

    /// The Secret with its values decoded, for the `stringData` path.
    fn to_secret(&self, field: &'static str) -> Result<Secret, ReviewError> {
        let mut data = BTreeMap::new();
        for (k, v) in self.data.iter().flatten() {
            let mut bytes = Vec::new();
            decode_value(field, k, v, &mut bytes)?;
            data.insert(k.clone(), ByteString(bytes));
        }
        Ok(Secret {
            data: self.data.is_some().then_some(data),
            string_data: self.string_data.clone(),
            ..Secret::default()
        })
    }
}

/// Appends the base64-decoded `value` to `out`; the error names the key, never the value.
fn decode_value(
    field: &'static str,
    key: &str,
    value: &Text<'_>,
    out: &mut Vec<u8>,
) -> Result<(), ReviewError> {
    // SIMD decoding: Secret values are most of a review's bytes.
    base64_simd::STANDARD
        .decode_append(&value.0, out)
        .map_err(|_| ReviewError::BadObject {
            field,
            expected: "Secret",
            detail: format!("the value of `data.{key}` is not base64"),
        })
}

fn required<'p, 'a>(
    parts: Option<&'p SourceParts<'a>>,
    field: &'static str,
) -> Result<&'p SourceParts<'a>, ReviewError> {
    // `null` arrives as `None` already; a missing object on UPDATE is malformed.
    parts.ok_or(ReviewError::MissingField(field))
}

/// Reads a review for this webhook, decoding the objects in the same pass.
pub fn parse(body: &[u8]) -> Result<Review<'_, SourceParts<'_>>, ReviewError> {
    review::parse_as(body, "Secret or ConfigMap")
}

/// A review of a kind this endpoint is not for.
fn wrong_kind(got: &str) -> ReviewError {
    ReviewError::WrongKind {
        got: got.to_owned(),
        path: PATH,
        allowed: "Secret and ConfigMap (core group)",
    }
}

/// Decides what an admitted Secret or ConfigMap write means for the reload engine.
/// Cheap checks come first so dry runs and unfollowed operations decode no data.
pub fn decide(
    review: &Review<'_, SourceParts<'_>>,
    opts: &SourcesOptions,
    now: SystemTime,
) -> Result<Verdict, ReviewError> {
    let kind = SourceKind::from_kind(&review.kind.kind)
        .filter(|_| review.kind.group.is_empty())
        .ok_or_else(|| wrong_kind(&review.kind.kind))?;
    if review.dry_run {
        return Ok(Verdict::Ignore(IgnoreReason::DryRun));
    }
    let (old, new) = match review.operation {
        Operation::Connect => return Ok(Verdict::Ignore(IgnoreReason::Connect)),
        Operation::Create if !opts.reload_on_create => {
            return Ok(Verdict::Ignore(IgnoreReason::CreateNotFollowed));
        }
        Operation::Delete if !opts.reload_on_delete => {
            return Ok(Verdict::Ignore(IgnoreReason::DeleteNotFollowed));
        }
        Operation::Create => (None, Some(required(review.object.as_ref(), OBJECT)?)),
        Operation::Delete => (
            Some(required(review.old_object.as_ref(), OLD_OBJECT)?),
            None,
        ),
        Operation::Update => (
            Some(required(review.old_object.as_ref(), OLD_OBJECT)?),
            Some(required(review.object.as_ref(), OBJECT)?),
        ),
    };
    if let Some(o) = old {
        o.check_kind(OLD_OBJECT, kind)?;
    }
    if let Some(n) = new {
        n.check_kind(OBJECT, kind)?;
    }
    // The object as it will be (or was, on DELETE) decides whether it is ignored.
    let ignore_key = opts.ignore_annotation.as_deref().unwrap_or(IGNORE);
    if new.or(old).is_some_and(|o| o.ignored(ignore_key)) {
        return Ok(Verdict::Ignore(IgnoreReason::IgnoreAnnotation));
    }
    // Unchanged data is settled by comparing. A change is not hashed at all: the engine
    // hashes the source it reads back, and needs from the review only a way to tell the
    // object before the write from the one after it.
    let mut bufs = [Vec::new(), Vec::new()];
    if let (Some(o), Some(n)) = (old, new)
        && o.same_data_as(n, kind, &opts.hasher, &mut bufs)?
    {
        return Ok(Verdict::Ignore(IgnoreReason::DataUnchanged));
    }
    let before = match old {
        None => Before::Nothing,
        Some(o) => match o.resource_version() {
            Some(v) => Before::Version(v.to_owned()),
            None => Before::Hash(o.hash(&opts.hasher, kind, OLD_OBJECT, &mut bufs[0])?),
        },
    };
    let operation = match review.operation {
        Operation::Create => trigger::Admitted::Create,
        Operation::Delete => trigger::Admitted::Delete,
        _ => trigger::Admitted::Update,
    };
    Ok(Verdict::Trigger(Trigger {
        namespace: review.namespace.clone(),
        kind,
        name: review.name.clone(),
        before,
        operation,
        uid: review.uid.clone(),
        admitted_at: now,
    }))
}

/// stakater's `reloader_events_received_total`: one per reviewed write of a source, as
/// its informers see one event per write.
fn received(state: &AppState, review: &Review<'_, SourceParts<'_>>) {
    let event_type = match review.operation {
        Operation::Create => "add",
        Operation::Update => "update",
        Operation::Delete => "delete",
        Operation::Connect => return,
    };
    let resource_type = match review.kind.kind.as_str() {
        "Secret" => "secrets",
        "ConfigMap" => "configmaps",
        _ => return,
    };
    state
        .metrics
        .stakater
        .event_received(event_type, resource_type);
}

/// The handler. Input we cannot read gets a 4xx; every readable review is allowed.
/// Hands a trigger to the engine's queue; the outcome the review is counted under.
fn act(state: &AppState, uid: &str, verdict: Verdict) -> &'static str {
    let t = match verdict {
        Verdict::Ignore(reason) => {
            tracing::debug!(%uid, reason = reason.as_str(), "source write ignored");
            match reason {
                IgnoreReason::DataUnchanged => state.metrics.stakater.skipped("no_data_change"),
                IgnoreReason::IgnoreAnnotation => {
                    state.metrics.stakater.skipped("ignored_or_not_selected")
                }
                _ => {}
            }
            return "ignored";
        }
        Verdict::Trigger(t) => t,
    };
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

pub async fn handle(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let state: &AppState = &state;
    super::serve_review(state, WEBHOOK, &headers, body, |bytes| async move {
        let review = parse(&bytes)?;
        received(state, &review);
        let verdict = decide(&review, &state.sources, SystemTime::now())?;
        let outcome = act(state, &review.uid, verdict);
        Ok((review.version, Answer::allow(review.uid), outcome))
    })
    .await
}

#[cfg(test)]
mod tests;
