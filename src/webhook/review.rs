//! AdmissionReview envelopes: parse `admission.k8s.io/v1` and `v1beta1`, answer in the
//! version asked.
//!
//! The body is decoded once; `object` and `oldObject` are kept as borrowed raw JSON and
//! decoded into a typed object only when the handler needs it. Decoding errors never
//! quote the input (serde messages can carry fragments of a Secret's values): they give
//! the JSON path and position only.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub const V1: &str = "admission.k8s.io/v1";
pub const V1BETA1: &str = "admission.k8s.io/v1beta1";
const REVIEW_KIND: &str = "AdmissionReview";

/// The `admission.k8s.io` version a review was sent in, and is answered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewVersion {
    V1,
    V1Beta1,
}

impl ReviewVersion {
    pub fn api_version(self) -> &'static str {
        match self {
            ReviewVersion::V1 => V1,
            ReviewVersion::V1Beta1 => V1BETA1,
        }
    }
}

/// The operation under review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

/// `request.kind`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct GroupVersionKind {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    pub kind: String,
}

/// The parts of an `AdmissionRequest` the webhooks use. `O` is what the objects are
/// decoded into while the body is read (once): raw JSON borrowed from the body by
/// default, or a typed view chosen by the webhook. Its `Debug` leaves the objects out:
/// they may hold Secret data.
pub struct Review<'a, O = &'a RawValue> {
    pub version: ReviewVersion,
    pub uid: String,
    pub kind: GroupVersionKind,
    pub operation: Operation,
    pub name: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub dry_run: bool,
    pub object: Option<O>,
    pub old_object: Option<O>,
    _body: std::marker::PhantomData<&'a [u8]>,
}

impl<O> std::fmt::Debug for Review<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |o: &Option<O>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("Review")
            .field("version", &self.version)
            .field("uid", &self.uid)
            .field("kind", &self.kind)
            .field("operation", &self.operation)
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("dry_run", &self.dry_run)
            .field("object", &redacted(&self.object))
            .field("old_object", &redacted(&self.old_object))
            .finish()
    }
}
/// Why a body is not a usable AdmissionReview. Messages never contain input values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("body is not valid JSON: {0}")]
    Syntax(String),
    #[error("body is not an AdmissionReview: {0}")]
    Shape(String),
    #[error("kind is {0:?}; expected \"AdmissionReview\"")]
    NotAReview(String),
    #[error(
        "apiVersion {0:?} is not supported; expected \"admission.k8s.io/v1\" or \"admission.k8s.io/v1beta1\""
    )]
    UnsupportedVersion(String),
    #[error("request is missing: an AdmissionReview sent to a webhook must carry a request")]
    MissingRequest,
    #[error("{0} is missing")]
    MissingField(&'static str),
    #[error("request.operation {0:?} is unknown; expected CREATE, UPDATE, DELETE or CONNECT")]
    UnknownOperation(String),
    #[error("request.kind is {got:?}; {path} accepts {allowed}")]
    WrongKind {
        got: String,
        path: &'static str,
        allowed: &'static str,
    },
    #[error("{field} has kind {got:?}, expected a {expected}")]
    ObjectKindMismatch {
        field: &'static str,
        got: String,
        expected: &'static str,
    },
    #[error("{field} is not a valid {expected}: {detail}")]
    BadObject {
        field: &'static str,
        expected: &'static str,
        detail: String,
    },
}

impl ReviewError {
    /// A short, fixed word for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            ReviewError::Syntax(_) => "syntax",
            ReviewError::Shape(_) => "shape",
            ReviewError::NotAReview(_) => "not_a_review",
            ReviewError::UnsupportedVersion(_) => "unsupported_version",
            ReviewError::MissingRequest => "missing_request",
            ReviewError::MissingField(_) => "missing_field",
            ReviewError::UnknownOperation(_) => "unknown_operation",
            ReviewError::WrongKind { .. } => "wrong_kind",
            ReviewError::ObjectKindMismatch { .. } => "object_kind_mismatch",
            ReviewError::BadObject { .. } => "bad_object",
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "O: Deserialize<'de>"))]
struct RawReview<O> {
    api_version: Option<String>,
    kind: Option<String>,
    request: Option<RawRequest<O>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "O: Deserialize<'de>"))]
struct RawRequest<O> {
    uid: Option<String>,
    kind: Option<GroupVersionKind>,
    operation: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    dry_run: Option<bool>,
    #[serde(default)]
    object: Option<O>,
    #[serde(default)]
    old_object: Option<O>,
}

/// Describes a serde_json error by category, path and position, without its message
/// (which may quote the input).
fn describe(path: &serde_path_to_error::Path, err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match err.classify() {
        Category::Syntax => "malformed JSON",
        Category::Eof => "unexpected end of input",
        Category::Data => "wrong type or value",
        Category::Io => "read error",
    };
    let path = path.to_string();
    if path == "." || path.is_empty() {
        format!("{what} at line {} column {}", err.line(), err.column())
    } else {
        format!(
            "{what} at `{path}` (line {} column {})",
            err.line(),
            err.column()
        )
    }
}

/// Parses an AdmissionReview request body, keeping the objects as raw JSON.
pub fn parse(body: &[u8]) -> Result<Review<'_>, ReviewError> {
    parse_as(body, "object")
}

/// Classifies a failed decode: errors inside `object`/`oldObject` are about the object
/// (`expected` names what it should be); the rest are about the envelope.
fn envelope_error(
    body: &[u8],
    expected: &'static str,
    parse: impl FnOnce(
        &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
    ) -> Result<(), serde_path_to_error::Error<serde_json::Error>>,
) -> ReviewError {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let Err(e) = parse(de) else {
        // The fast decoder failed but the path-tracking one did not: report it plainly.
        return ReviewError::Shape("cannot be decoded".to_owned());
    };
    let detail = describe(e.path(), e.inner());
    let path = e.path().to_string();
    let object_field = if path.starts_with("request.oldObject") {
        Some("request.oldObject")
    } else if path.starts_with("request.object") {
        Some("request.object")
    } else {
        None
    };
    match (e.inner().classify(), object_field) {
        (serde_json::error::Category::Data, Some(field)) => ReviewError::BadObject {
            field,
            expected,
            detail,
        },
        (serde_json::error::Category::Data, None) => ReviewError::Shape(detail),
        _ => ReviewError::Syntax(detail),
    }
}

/// Parses an AdmissionReview request body, decoding `object` and `oldObject` as `O` in the
/// same pass. `expected` names what `O` stands for, for error messages.
pub fn parse_as<'a, O: Deserialize<'a>>(
    body: &'a [u8],
    expected: &'static str,
) -> Result<Review<'a, O>, ReviewError> {
    // Fast path without path tracking; on failure decode again to say where it broke.
    let raw: RawReview<O> = match serde_json::from_slice(body) {
        Ok(raw) => raw,
        Err(_) => {
            return Err(envelope_error(body, expected, |de| {
                serde_path_to_error::deserialize::<_, RawReview<serde::de::IgnoredAny>>(de)
                    .map(drop)
                    .and_then(|_| {
                        let de = &mut serde_json::Deserializer::from_slice(body);
                        serde_path_to_error::deserialize::<_, RawReview<O>>(de).map(drop)
                    })
            }));
        }
    };
    match raw.kind.as_deref() {
        Some(REVIEW_KIND) => {}
        Some(other) => return Err(ReviewError::NotAReview(other.to_owned())),
        None => return Err(ReviewError::MissingField("kind")),
    }
    let version = match raw.api_version.as_deref() {
        Some(V1) => ReviewVersion::V1,
        Some(V1BETA1) => ReviewVersion::V1Beta1,
        Some(other) => return Err(ReviewError::UnsupportedVersion(other.to_owned())),
        None => return Err(ReviewError::MissingField("apiVersion")),
    };
    let req = raw.request.ok_or(ReviewError::MissingRequest)?;
    let uid = req
        .uid
        .filter(|u| !u.is_empty())
        .ok_or(ReviewError::MissingField("request.uid"))?;
    let kind = req.kind.ok_or(ReviewError::MissingField("request.kind"))?;
    let operation = match req
        .operation
        .as_deref()
        .ok_or(ReviewError::MissingField("request.operation"))?
    {
        "CREATE" => Operation::Create,
        "UPDATE" => Operation::Update,
        "DELETE" => Operation::Delete,
        "CONNECT" => Operation::Connect,
        other => return Err(ReviewError::UnknownOperation(other.to_owned())),
    };
    Ok(Review {
        version,
        uid,
        kind,
        operation,
        name: req.name.unwrap_or_default(),
        namespace: req.namespace.unwrap_or_default(),
        dry_run: req.dry_run.unwrap_or(false),
        object: req.object,
        old_object: req.old_object,
        _body: std::marker::PhantomData,
    })
}

#[derive(Deserialize)]
struct KindProbe {
    kind: Option<String>,
}

/// Decodes `request.object` or `request.oldObject` as a `T` whose Kubernetes kind is
/// `expected`. Errors name the field and the JSON path, never a value.
pub fn decode_object<T: DeserializeOwned>(
    raw: &RawValue,
    field: &'static str,
    expected: &'static str,
) -> Result<T, ReviewError> {
    // Fast path without path tracking; on failure decode again to say where it broke.
    if let Ok(v) = serde_json::from_str(raw.get()) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_str(raw.get());
    let err = match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    // Look at `kind` to say "a ConfigMap, expected a Secret".
    if let Ok(KindProbe { kind: Some(got) }) = serde_json::from_str(raw.get())
        && got != expected
    {
        return Err(ReviewError::ObjectKindMismatch {
            field,
            got,
            expected,
        });
    }
    Err(ReviewError::BadObject {
        field,
        expected,
        detail: describe(err.path(), err.inner()),
    })
}

/// `status` of a denied answer (a subset of `metav1.Status`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenyStatus {
    pub code: u16,
    pub reason: String,
    pub message: String,
}

/// The `response` of an answered review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub uid: String,
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DenyStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Base64 of a JSON Patch (mutating webhooks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(default, rename = "patchType", skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
}

impl Answer {
    pub fn allow(uid: impl Into<String>) -> Self {
        Self {
            uid: uid.into(),
            allowed: true,
            status: None,
            warnings: Vec::new(),
            patch: None,
            patch_type: None,
        }
    }

    pub fn with_warnings(mut self, warnings: Vec<String>) -> Self {
        self.warnings = warnings;
        self
    }

    /// Denies as invalid (422), with a message kubectl shows to the user.
    pub fn deny(uid: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            uid: uid.into(),
            allowed: false,
            status: Some(DenyStatus {
                code: 422,
                reason: "Invalid".to_owned(),
                message: message.into(),
            }),
            warnings: Vec::new(),
            patch: None,
            patch_type: None,
        }
    }
}

/// The whole answer body: an AdmissionReview with `response`, in the version asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerReview {
    pub api_version: String,
    pub kind: String,
    pub response: Answer,
}

impl AnswerReview {
    pub fn new(version: ReviewVersion, response: Answer) -> Self {
        Self {
            api_version: version.api_version().to_owned(),
            kind: REVIEW_KIND.to_owned(),
            response,
        }
    }
}

#[cfg(test)]
mod tests;
