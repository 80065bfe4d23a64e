//! The admission webhooks: HTTP handlers over pure decisions.

pub mod body;
pub mod error;
pub mod reloaderconfig;
pub mod review;
pub mod server;
pub mod sources;
pub mod tls;
pub mod workloads;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

pub use body::Limits;
pub use error::ApiError;
use review::{Answer, AnswerReview, ReviewVersion};

use crate::metrics::Metrics;
use crate::trigger::TriggerQueue;
use reloader_core::baseline::Baselines;
use reloader_core::existence::{Existence, NoCache};
use reloader_core::validation::ValidationOptions;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub metrics: Arc<Metrics>,
    pub queue: TriggerQueue,
    pub sources: sources::SourcesOptions,
    pub reloaderconfigs: ValidationOptions,
    /// Answers "does it exist?" for ReloaderConfig warnings.
    pub existence: Arc<dyn Existence>,
    pub limits: Limits,
    /// Baseline stamping for `/mutate/workloads`; `None` without API access.
    pub baseline: Option<Arc<dyn Baselines>>,
}

impl AppState {
    /// Default options, no existence cache, default limits.
    pub fn new(metrics: Arc<Metrics>, queue: TriggerQueue) -> Self {
        Self {
            metrics,
            queue,
            sources: sources::SourcesOptions::default(),
            reloaderconfigs: ValidationOptions::default(),
            existence: Arc::new(NoCache),
            limits: Limits::default(),
            baseline: None,
        }
    }
}

/// What a handler's own part makes of a readable body: the review's version, the answer,
/// and the outcome it is counted under.
type Reviewed = Result<(ReviewVersion, Answer, &'static str), ApiError>;

/// The part every handler shares: reads the body within the limits, lets `review` answer
/// it, counts and times the outcome, and rejects what is not a readable review.
async fn serve_review<F, Fut>(
    state: &AppState,
    webhook: &'static str,
    headers: &HeaderMap,
    body: Body,
    review: F,
) -> Response
where
    F: FnOnce(Bytes) -> Fut,
    Fut: Future<Output = Reviewed>,
{
    let started = Instant::now();
    let reviewed = match body::read_json(headers, body, &state.limits).await {
        Ok(bytes) => review(bytes).await,
        Err(err) => Err(err),
    };
    match reviewed {
        Ok((version, response, outcome)) => {
            tracing::debug!(webhook, uid = %response.uid, outcome, "reviewed");
            state.metrics.review(webhook, outcome, started.elapsed());
            answer(version, response)
        }
        Err(err) => reject(state, webhook, err, started),
    }
}

/// A 200 answer carrying an AdmissionReview in the version asked.
fn answer(version: ReviewVersion, response: Answer) -> Response {
    Json(AnswerReview::new(version, response)).into_response()
}

/// A 4xx for input that is not a readable review; counted and logged without the input.
fn reject(state: &AppState, webhook: &'static str, err: ApiError, started: Instant) -> Response {
    tracing::info!(webhook, reason = err.reason(), error = %err, "request rejected");
    state.metrics.review(webhook, "rejected", started.elapsed());
    err.into_response()
}
