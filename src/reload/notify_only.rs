//! stakater's `--webhook-url`: roll nothing, and instead POST one fixed body to one URL for
//! every admitted change of a Secret's or ConfigMap's data in scope. The body says nothing
//! about the change (as upstream's does not); the URL may hold a token and is never logged.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde_json::{Value, json};

use crate::alerts::delivery::{self, DeliveryPolicy};
use crate::alerts::pace::Pace;
use crate::metrics::Metrics;
use reloader_core::source::SourceRef;

/// What is posted, byte for byte upstream's.
pub fn body() -> Value {
    json!({"webhook": "update successful"})
}

/// Why `--webhook-url` is not usable. The URL itself is not repeated.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("--webhook-url is not a URL")]
    NotAUrl,
    #[error("--webhook-url must be http:// or https://, not {0}://")]
    Scheme(String),
    #[error(transparent)]
    Client(#[from] delivery::ClientError),
}

/// The notifier; cheap to clone.
#[derive(Clone)]
pub struct NotifyOnly {
    client: reqwest::Client,
    url: Url,
    policy: DeliveryPolicy,
    pace: Arc<Pace>,
}

impl fmt::Debug for NotifyOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifyOnly").finish_non_exhaustive()
    }
}

impl NotifyOnly {
    pub fn new(url: &str) -> Result<NotifyOnly, NotifyError> {
        let url = Url::parse(url.trim()).map_err(|_| NotifyError::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(NotifyError::Scheme(url.scheme().to_owned()));
        }
        let policy = DeliveryPolicy::default();
        Ok(NotifyOnly {
            client: delivery::client(None, &policy)?,
            url,
            policy,
            pace: Arc::new(Pace::new(Duration::ZERO)),
        })
    }

    /// Posts once for `source`'s change (retrying what may pass later); counted in
    /// `reloader_trigger_results_total` as `notified` or `notify_failed`.
    pub async fn send(&self, source: &SourceRef, metrics: &Metrics) {
        match delivery::post(&self.client, &self.url, &body(), &self.policy, &self.pace).await {
            Ok(_) => {
                metrics.trigger_result("notified");
                tracing::info!(%source, "change posted to --webhook-url; nothing rolled");
            }
            Err(e) => {
                metrics.trigger_result("notify_failed");
                tracing::warn!(%source, error = %e, "cannot post the change to --webhook-url");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_accepted_and_none_is_repeated() {
        let cases = [
            ("https://hooks.example/x?token=s3cr3t", None),
            ("http://jenkins.ci.svc:8080/build", None),
            (
                "ftp://files.example/s3cr3t",
                Some("must be http:// or https://, not ftp://"),
            ),
            ("no url s3cr3t", Some("is not a URL")),
        ];
        for (url, error) in cases {
            let got = NotifyOnly::new(url).err().map(|e| e.to_string());
            match (error, got) {
                (None, None) => {}
                (Some(want), Some(got)) => {
                    assert!(got.contains(want), "{url}: {got}");
                    assert!(
                        !got.contains("s3cr3t"),
                        "{url}: the error repeats it: {got}"
                    );
                }
                (want, got) => panic!("{url}: wanted {want:?}, got {got:?}"),
            }
        }
        let debug = format!("{:?}", NotifyOnly::new("https://h.example/s3cr3t").unwrap());
        assert!(!debug.contains("s3cr3t"), "{debug}");
    }

    #[test]
    fn the_body_is_stakaters() {
        assert_eq!(body().to_string(), r#"{"webhook":"update successful"}"#);
    }
}
