//! Reading a request body: JSON only, bounded in size and in time.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::ApiError;

/// The API server's own request limit: a review of a 1 MiB Secret UPDATE (old and new
/// object, base64) is about 2.7 MB and fits.
pub const BODY_LIMIT: usize = 3 * 1024 * 1024;

/// Connections the webhook port holds open by default: far more than the API servers' own
/// connection pools use, and few enough that idle TLS connections (about 35 KiB each,
/// measured by `tests/hostile_http.rs`) stay well inside the chart's memory limit.
pub const MAX_CONNECTIONS: usize = 1024;

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
    /// Serve HTTP/2 to clients that ask for it by ALPN (`--webhook-http2`); otherwise
    /// HTTP/1.1 only, the protocol the API server calls webhooks with.
    pub http2: bool,
    /// Connections held open at once, TLS handshakes included; one more is closed as soon
    /// as it is accepted.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: BODY_LIMIT,
            body_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            http2: false,
            max_connections: MAX_CONNECTIONS,
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
///
/// A body over the limit is answered 413 only once the client has stopped sending, or once
/// as much again has been read (and thrown away, not kept): HTTP/2 closes a stream whose
/// body was not read to its end with a reset, HTTP/1.1 the connection, and a client still
/// uploading then sees that instead of the 413 (curl: "Stream error in the HTTP/2 framing
/// layer"). A body declared longer than twice the limit is refused without reading it.
pub async fn read_json(
    headers: &HeaderMap,
    mut body: Body,
    limits: &Limits,
) -> Result<Bytes, ApiError> {
    is_json(headers)?;
    let deadline = tokio::time::Instant::now() + limits.body_timeout;
    let limit = limits.body_bytes as u64;
    let too_large = ApiError::PayloadTooLarge {
        limit: limits.body_bytes,
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(declared) = declared
        && declared > limit
    {
        if declared <= limit.saturating_mul(2) {
            discard(&mut body, declared, deadline).await;
        }
        return Err(too_large);
    }
    let collect = Limited::new(&mut body, limits.body_bytes).collect();
    match tokio::time::timeout_at(deadline, collect).await {
        Err(_) => Err(ApiError::BodyTimeout(limits.body_timeout)),
        Ok(Err(e)) if e.is::<LengthLimitError>() => {
            discard(&mut body, limit, deadline).await;
            Err(too_large)
        }
        Ok(Err(_)) => Err(ApiError::BodyRead),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Reads the rest of `body` and throws it away, until its end, more than `max` bytes, or
/// `deadline`, whichever comes first.
async fn discard(body: &mut Body, max: u64, deadline: tokio::time::Instant) {
    let read = async {
        let mut read = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, |d| d.len() as u64);
            if read > max {
                break;
            }
        }
    };
    let _ = tokio::time::timeout_at(deadline, read).await;
}
