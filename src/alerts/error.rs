//! Why an alert was not delivered. No variant holds a URL or a Secret's value: these
//! messages are logged.

/// One alert that did not reach its receiver.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("the alert URL is not an absolute http(s) URL with a host")]
    InvalidUrl,
    #[error("the alert URL is http://; only https:// is used without --allow-insecure-alert-urls")]
    InsecureUrl,
    #[error("Secret {namespace}/{name} holding the alert URL does not exist")]
    SecretNotFound { namespace: String, name: String },
    #[error("Secret {namespace}/{name} has no key {key:?} (or it is not UTF-8)")]
    SecretKeyMissing {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("cannot read Secret {namespace}/{name} holding the alert URL: {source}")]
    SecretRead {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("Secret {namespace}/{name} holds the alert URL but no Kubernetes client is available")]
    NoKubernetesClient { namespace: String, name: String },
    #[error("the receiver answered HTTP {status}")]
    Status { status: u16 },
    /// HTTP 429, with the wait the receiver asked for (`Retry-After`) if it said one.
    #[error("the receiver is rate limiting (HTTP 429)")]
    RateLimited {
        retry_after: Option<std::time::Duration>,
    },
    #[error("the receiver did not answer within the timeout")]
    Timeout,
    /// The error has its URL stripped (`reqwest::Error::without_url`).
    #[error("cannot reach the receiver: {0}")]
    Transport(#[source] reqwest::Error),
}

impl AlertError {
    /// Label for `reloader_alerts_sent_total{result}`.
    pub fn label(&self) -> &'static str {
        match self {
            AlertError::InvalidUrl => "invalid_url",
            AlertError::InsecureUrl => "insecure_url",
            AlertError::SecretNotFound { .. }
            | AlertError::SecretKeyMissing { .. }
            | AlertError::SecretRead { .. }
            | AlertError::NoKubernetesClient { .. } => "secret_unreadable",
            AlertError::Status { .. } => "http_error",
            AlertError::RateLimited { .. } => "rate_limited",
            AlertError::Timeout => "timeout",
            AlertError::Transport(_) => "unreachable",
        }
    }

    /// From a request that failed before any answer, with the URL removed.
    pub fn from_transport(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            AlertError::Timeout
        } else {
            AlertError::Transport(error.without_url())
        }
    }
}
