//! Response bodies and the helpers that build JSON answers.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use serde_json::Value;

use crate::status::ApiError;

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// What a handler answers before it becomes an HTTP response.
pub enum Reply {
    Json {
        status: u16,
        body: Value,
        warnings: Vec<String>,
    },
    /// A streamed watch (always 200).
    Stream(Body),
    /// A 200 with a body that is not JSON.
    Raw {
        content_type: &'static str,
        body: Bytes,
    },
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply::Json {
            status: 200,
            body,
            warnings: vec![],
        }
    }

    pub fn with_status(status: u16, body: Value, warnings: Vec<String>) -> Reply {
        Reply::Json {
            status,
            body,
            warnings,
        }
    }
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

/// Formats a warning the way kube-apiserver does (`299 - "text"`).
fn warning_header(text: &str) -> Option<HeaderValue> {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    HeaderValue::from_str(&format!("299 - \"{escaped}\"")).ok()
}

pub fn into_response(reply: Reply) -> Response<Body> {
    match reply {
        Reply::Json {
            status,
            body,
            warnings,
        } => {
            let mut response = Response::new(full(serde_json::to_vec(&body).unwrap_or_default()));
            *response.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            for warning in warnings.iter().filter_map(|w| warning_header(w)) {
                response.headers_mut().append(header::WARNING, warning);
            }
            response
        }
        Reply::Raw { content_type, body } => {
            let mut response = Response::new(full(body));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        }
        Reply::Stream(body) => {
            let mut response = Response::new(body);
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache, private"),
            );
            response
        }
    }
}

pub fn error_reply(error: &ApiError) -> Reply {
    Reply::Json {
        status: error.code(),
        body: error.to_status(),
        warnings: vec![],
    }
}
