//! API errors rendered as `metav1.Status`, the shape every Kubernetes client expects.

use serde_json::{Value, json};

/// Where an error happened, for the `details` block of a Status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusTarget {
    pub group: String,
    pub kind: String,
    pub name: String,
}

/// Every failure the API layer reports to a client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    NotFound {
        target: StatusTarget,
        message: String,
    },
    #[error("{message}")]
    AlreadyExists {
        target: StatusTarget,
        message: String,
    },
    #[error("{message}")]
    Conflict {
        target: StatusTarget,
        message: String,
    },
    #[error("{message}")]
    Invalid {
        target: StatusTarget,
        message: String,
        causes: Vec<Value>,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    MethodNotSupported(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("Internal error occurred: {0}")]
    InternalError(String),
    /// A webhook denial or any status chosen by someone else (webhook, fault injection).
    #[error("{message}")]
    Custom {
        code: u16,
        reason: String,
        message: String,
    },
}

impl ApiError {
    pub fn not_found(resource: &str, group: &str, name: &str) -> Self {
        ApiError::NotFound {
            target: StatusTarget {
                group: group.into(),
                kind: resource.into(),
                name: name.into(),
            },
            message: format!("{} \"{}\" not found", qualified(resource, group), name),
        }
    }

    pub fn already_exists(resource: &str, group: &str, name: &str) -> Self {
        ApiError::AlreadyExists {
            target: StatusTarget {
                group: group.into(),
                kind: resource.into(),
                name: name.into(),
            },
            message: format!("{} \"{}\" already exists", qualified(resource, group), name),
        }
    }

    pub fn conflict(resource: &str, group: &str, name: &str) -> Self {
        ApiError::Conflict {
            target: StatusTarget {
                group: group.into(),
                kind: resource.into(),
                name: name.into(),
            },
            message: format!(
                "Operation cannot be fulfilled on {} \"{}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                qualified(resource, group),
                name
            ),
        }
    }

    pub fn conflict_with(resource: &str, group: &str, name: &str, why: &str) -> Self {
        ApiError::Conflict {
            target: StatusTarget {
                group: group.into(),
                kind: resource.into(),
                name: name.into(),
            },
            message: format!(
                "Operation cannot be fulfilled on {} \"{}\": {}",
                qualified(resource, group),
                name,
                why
            ),
        }
    }

    /// 422 with one field cause, worded like the real validation errors.
    pub fn invalid(kind: &str, group: &str, name: &str, field: &str, detail: &str) -> Self {
        Self::invalid_with_reason(kind, group, name, field, detail, "FieldValueInvalid")
    }

    /// `invalid` with another cause reason (`FieldValueNotSupported`, …).
    pub fn invalid_with_reason(
        kind: &str,
        group: &str,
        name: &str,
        field: &str,
        detail: &str,
        cause_reason: &str,
    ) -> Self {
        let kind_group = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        ApiError::Invalid {
            target: StatusTarget {
                group: group.into(),
                kind: kind.into(),
                name: name.into(),
            },
            message: format!("{kind_group} \"{name}\" is invalid: {field}: {detail}"),
            causes: vec![json!({"reason": cause_reason, "message": detail, "field": field})],
        }
    }

    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::Gone(_) => 410,
            ApiError::MethodNotSupported(_) => 405,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Unauthorized(_) => 401,
            ApiError::InternalError(_) => 500,
            ApiError::Custom { code, .. } => *code,
        }
    }

    pub fn reason(&self) -> String {
        match self {
            ApiError::NotFound { .. } => "NotFound".into(),
            ApiError::AlreadyExists { .. } => "AlreadyExists".into(),
            ApiError::Conflict { .. } => "Conflict".into(),
            ApiError::Invalid { .. } => "Invalid".into(),
            ApiError::BadRequest(_) => "BadRequest".into(),
            ApiError::Gone(_) => "Expired".into(),
            ApiError::MethodNotSupported(_) => "MethodNotAllowed".into(),
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType".into(),
            ApiError::Unauthorized(_) => "Unauthorized".into(),
            ApiError::InternalError(_) => "InternalError".into(),
            ApiError::Custom { reason, .. } => reason.clone(),
        }
    }

    /// The `metav1.Status` body for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "code": self.code(),
        });
        let reason = self.reason();
        if !reason.is_empty() {
            status["reason"] = json!(reason);
        }
        let details = match self {
            ApiError::NotFound { target, .. }
            | ApiError::AlreadyExists { target, .. }
            | ApiError::Conflict { target, .. } => Some(details_of(target, &[])),
            ApiError::Invalid { target, causes, .. } => Some(details_of(target, causes)),
            _ => None,
        };
        if let Some(details) = details {
            status["details"] = details;
        }
        status
    }
}

/// The reason Kubernetes uses for a bare HTTP status code.
pub fn reason_for_code(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "",
    }
}

fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

fn details_of(target: &StatusTarget, causes: &[Value]) -> Value {
    let mut details = json!({"name": target.name, "kind": target.kind});
    if !target.group.is_empty() {
        details["group"] = json!(target.group);
    }
    if !causes.is_empty() {
        details["causes"] = json!(causes);
    }
    details
}

/// A successful deletion answered as a Status, as most built-in resources do.
pub fn success_status(target: &StatusTarget, uid: &str) -> Value {
    let mut details = details_of(target, &[]);
    details["uid"] = json!(uid);
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_resource_with_group() {
        let status = ApiError::not_found("deployments", "apps", "web").to_status();
        assert_eq!(status["code"], 404);
        assert_eq!(status["reason"], "NotFound");
        assert_eq!(status["message"], "deployments.apps \"web\" not found");
        assert_eq!(status["details"]["group"], "apps");
    }

    #[test]
    fn core_resources_have_no_group_suffix() {
        let status = ApiError::already_exists("secrets", "", "s").to_status();
        assert_eq!(status["code"], 409);
        assert_eq!(status["reason"], "AlreadyExists");
        assert_eq!(status["message"], "secrets \"s\" already exists");
    }

    #[test]
    fn invalid_carries_field_cause() {
        let status =
            ApiError::invalid("Widget", "ex.io", "w", "spec.size", "Required value").to_status();
        assert_eq!(status["code"], 422);
        assert_eq!(status["details"]["causes"][0]["field"], "spec.size");
        assert_eq!(
            status["message"],
            "Widget.ex.io \"w\" is invalid: spec.size: Required value"
        );
    }

    #[test]
    fn gone_is_expired() {
        let err = ApiError::Gone("too old resource version: 1 (5)".into());
        assert_eq!((err.code(), err.reason()), (410, "Expired".to_string()));
    }
}
