//! The admission webhooks: HTTP handlers over pure decisions.

pub mod body;
pub mod error;
pub mod review;
pub mod server;
pub mod sources;

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::response::{IntoResponse, Response};

pub use body::Limits;
pub use error::ApiError;
use review::{Answer, AnswerReview, ReviewVersion};

use crate::metrics::Metrics;
use crate::trigger::TriggerQueue;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub metrics: Arc<Metrics>,
    pub queue: TriggerQueue,
    pub sources: sources::SourcesOptions,
    pub limits: Limits,
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
