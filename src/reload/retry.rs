//! How a failed API request is handled, for every writer of the engine: re-read, try
//! later, give up, or take the object for gone; and how long to wait between attempts.

use std::time::Duration;

/// How a failed request is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// 409/422: someone else changed the object; re-read and rebuild the patch.
    Reread,
    /// 5xx, 429, timeouts, transport errors: try again after a pause.
    Later,
    /// 404: the workload is gone.
    Gone,
    /// Anything else (403, 400…): retrying will not help.
    Never,
}

pub fn classify(error: &kube::Error) -> Retry {
    match error {
        kube::Error::Api(status) => match status.code {
            404 => Retry::Gone,
            409 | 422 => Retry::Reread,
            429 | 500..=599 => Retry::Later,
            _ => Retry::Never,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => Retry::Later,
        _ => Retry::Never,
    }
}

/// Jittered exponential backoff: 10 ms, 20 ms, … capped at 1 s, ±50 %.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(10u64 << attempt.min(7)).min(Duration::from_secs(1));
    base.mul_f64(0.5 + fastrand::f64())
}
