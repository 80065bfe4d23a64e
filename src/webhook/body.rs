//! Reading a request body: JSON only, bounded in size and in time.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::ApiError;

/// The API server's own request limit: a review of a 1 MiB Secret UPDATE (old and new
/// object, base64) is about 2.7 MB and fits.
pub const BODY_LIMIT: usize = 3 * 1024 * 1024;

/// Bounds on what a client may send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub body_bytes: usize,
    /// Time allowed to receive the whole body once the headers are in.
    pub body_timeout: Duration,
    /// Time allowed to receive the request headers (HTTP/1.1), enforced by the server.
    pub header_timeout: Duration,
    /// Time allowed for the TLS handshake.
    pub handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: BODY_LIMIT,
            body_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

fn is_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = value.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            value.chars().take(100).collect(),
        ))
    }
}

/// Checks the media type, then reads at most `limits.body_bytes` within
/// `limits.body_timeout`.
pub async fn read_json(
    headers: &HeaderMap,
    body: Body,
    limits: &Limits,
) -> Result<Bytes, ApiError> {
    is_json(headers)?;
    let too_large = ApiError::PayloadTooLarge {
        limit: limits.body_bytes,
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.body_bytes as u64) {
        return Err(too_large);
    }
    let collect = Limited::new(body, limits.body_bytes).collect();
    match tokio::time::timeout(limits.body_timeout, collect).await {
        Err(_) => Err(ApiError::BodyTimeout(limits.body_timeout)),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(too_large),
        Ok(Err(_)) => Err(ApiError::BodyRead),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}
