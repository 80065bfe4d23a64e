//! Errors that become HTTP answers. Only input we cannot read as an AdmissionReview gets a
//! 4xx; a readable review is always answered 200 with an AdmissionReview.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::review::ReviewError;

/// Why a request was refused before it could be reviewed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Content-Type must be application/json, got {0:?}")]
    UnsupportedMediaType(String),
    #[error("body is larger than the {limit}-byte limit")]
    PayloadTooLarge { limit: usize },
    #[error("body was not received within {0:?}")]
    BodyTimeout(std::time::Duration),
    #[error("body could not be read")]
    BodyRead,
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error("no such path; webhooks are served at /validate/sources and /validate/reloaderconfigs")]
    NotFound,
    #[error("method not allowed; webhooks accept POST")]
    MethodNotAllowed,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::BodyRead | ApiError::Review(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// A short, fixed word for logs, metrics and the `error` field of the body.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::BodyTimeout(_) => "body_timeout",
            ApiError::BodyRead => "body_read",
            ApiError::Review(e) => e.reason(),
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.reason(),
            message: self.to_string(),
        };
        (self.status(), Json(body)).into_response()
    }
}
