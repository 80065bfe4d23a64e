//! Posting one alert to one receiver: a per-request timeout, a few retries with backoff
//! on 429, 5xx and timeouts, nothing else retried; a 429's `Retry-After` is waited out
//! (see `pace`). Redirects are refused: a receiver that redirects would learn nothing new,
//! and following one could carry the alert elsewhere.

use std::time::Duration;

use reqwest::{Client, Url};
use serde_json::Value;

use crate::alerts::error::AlertError;
use crate::alerts::pace::{self, MAX_RETRY_AFTER, Pace};

/// How hard one alert is pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// For each request, connecting included.
    pub timeout: Duration,
    /// Requests in all, the first included.
    pub attempts: u32,
    /// Pause before the first retry; doubled for each further one.
    pub backoff: Duration,
}

impl Default for DeliveryPolicy {
    /// At most 4 × 5 s plus 3.5 s of pauses (≈ 24 s) per receiver: long enough to ride
    /// out a receiver's restart, short enough that a dead one does not hold the queue.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            attempts: 4,
            backoff: Duration::from_millis(500),
        }
    }
}

/// Whether another request may succeed where this one failed.
pub fn retryable(error: &AlertError) -> bool {
    match error {
        AlertError::Status { status } => (500..=599).contains(status),
        AlertError::RateLimited { retry_after } => retry_after.is_none_or(|w| w <= MAX_RETRY_AFTER),
        AlertError::Timeout | AlertError::Transport(_) => true,
        _ => false,
    }
}

/// The pause before retry number `retry` (1-based): `backoff`, doubled each time, with
/// ±25 % jitter so receivers recovering from an outage are not hit in lock-step.
pub fn pause(policy: &DeliveryPolicy, retry: u32) -> Duration {
    let base = policy
        .backoff
        .saturating_mul(1 << retry.saturating_sub(1).min(6));
    base.mul_f64(0.75 + fastrand::f64() / 2.0)
}

/// Why the HTTP client could not be built (a bad `--alert-webhook-proxy`).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    // The proxy URL may hold a password: it is not repeated here.
    #[error("--alert-webhook-proxy is not a usable proxy URL")]
    Proxy,
    #[error("cannot build the alert HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

/// The one HTTP client of the alert dispatcher.
pub fn client(proxy: Option<&str>, policy: &DeliveryPolicy) -> Result<Client, ClientError> {
    // reqwest is built without a bundled crypto provider; the binary installs ring at
    // start, and this covers library users and tests that did not.
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let mut builder = Client::builder()
        .timeout(policy.timeout)
        .connect_timeout(policy.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("reloader/", env!("CARGO_PKG_VERSION")));
    if let Some(proxy) = proxy.map(str::trim).filter(|p| !p.is_empty()) {
        builder = builder.proxy(reqwest::Proxy::all(proxy).map_err(|_| ClientError::Proxy)?);
    }
    builder
        .build()
        .map_err(|e| ClientError::Build(e.without_url()))
}

async fn post_once(client: &Client, url: &Url, body: &Value) -> Result<(), AlertError> {
    let response = client
        .post(url.clone())
        .json(body)
        .send()
        .await
        .map_err(AlertError::from_transport)?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| pace::retry_after(v, k8s_openapi::jiff::Timestamp::now()));
        Err(AlertError::RateLimited { retry_after })
    } else {
        Err(AlertError::Status {
            status: status.as_u16(),
        })
    }
}

/// Posts `body` to `url` at the receiver's pace, retrying what may pass later. Returns
/// the requests made.
pub async fn post(
    client: &Client,
    url: &Url,
    body: &Value,
    policy: &DeliveryPolicy,
    pace: &Pace,
) -> Result<u32, AlertError> {
    let mut attempt = 1;
    loop {
        pace.turn(url).await;
        let error = match post_once(client, url, body).await {
            Ok(()) => return Ok(attempt),
            Err(e) => e,
        };
        if let AlertError::RateLimited {
            retry_after: Some(wait),
        } = &error
        {
            // Every alert bound for this receiver waits, not only this one.
            pace.hold(url, (*wait).min(MAX_RETRY_AFTER));
        }
        if !retryable(&error) || attempt >= policy.attempts {
            return Err(error);
        }
        if !matches!(
            error,
            AlertError::RateLimited {
                retry_after: Some(_)
            }
        ) {
            tokio::time::sleep(pause(policy, attempt)).await;
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_retried() {
        let table = [
            (AlertError::Status { status: 503 }, true),
            (AlertError::Status { status: 500 }, true),
            (AlertError::RateLimited { retry_after: None }, true),
            (
                AlertError::RateLimited {
                    retry_after: Some(Duration::from_secs(2)),
                },
                true,
            ),
            (
                AlertError::RateLimited {
                    retry_after: Some(Duration::from_secs(3600)),
                },
                false,
            ),
            (AlertError::Timeout, true),
            (AlertError::Status { status: 400 }, false),
            (AlertError::Status { status: 404 }, false),
            (AlertError::Status { status: 302 }, false),
            (AlertError::InsecureUrl, false),
            (AlertError::InvalidUrl, false),
        ];
        for (error, want) in table {
            assert_eq!(retryable(&error), want, "{error}");
        }
    }

    #[test]
    fn pauses_double_within_their_jitter() {
        let policy = DeliveryPolicy {
            backoff: Duration::from_millis(400),
            ..DeliveryPolicy::default()
        };
        for (retry, low, high) in [(1, 300, 500), (2, 600, 1000), (3, 1200, 2000)] {
            let p = pause(&policy, retry).as_millis();
            assert!((low..=high).contains(&p), "retry {retry}: {p} ms");
        }
    }

    #[test]
    fn a_bad_proxy_is_refused_without_repeating_it() {
        let err = client(Some("http://user:pw@[::1"), &DeliveryPolicy::default()).unwrap_err();
        assert!(!err.to_string().contains("pw"), "{err}");
    }
}
