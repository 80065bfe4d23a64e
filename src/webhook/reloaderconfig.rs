//! `POST /validate/reloaderconfigs`: denies invalid ReloaderConfigs with field-specific
//! messages and allows valid ones, with warnings for targets and sources the engine knows
//! are missing.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::AppState;
use super::review::{self, Answer, Operation, Review, ReviewError};
use reloader_core::crd::ReloaderConfig;
use reloader_core::existence::Existence;
use reloader_core::validation;

const PATH: &str = "/validate/reloaderconfigs";
const WEBHOOK: &str = "reloaderconfigs";
const GROUP: &str = "reloader.stakater.com";

/// Asks the engine about every subject at once; each answer is bounded by the engine.
async fn existence_warnings(
    existence: &dyn Existence,
    namespace: &str,
    rc: &ReloaderConfig,
) -> Vec<String> {
    let subjects = validation::subjects(namespace, &rc.spec);
    let presences =
        futures::future::join_all(subjects.iter().map(|(_, s)| existence.presence(s))).await;
    let answers: Vec<_> = subjects
        .into_iter()
        .zip(presences)
        .map(|((field, subject), presence)| (field, subject, presence))
        .collect();
    validation::warnings(&answers)
}

/// The answer for one review, given the options and the existence oracle.
pub async fn review_answer(review: &Review<'_>, state: &AppState) -> Result<Answer, ReviewError> {
    if review.kind.kind != "ReloaderConfig" || review.kind.group != GROUP {
        return Err(ReviewError::WrongKind {
            got: format!("{}/{}", review.kind.group, review.kind.kind),
            path: PATH,
            allowed: "reloader.stakater.com ReloaderConfig",
        });
    }
    if !matches!(review.operation, Operation::Create | Operation::Update) {
        return Ok(Answer::allow(review.uid.clone()));
    }
    let raw = review
        .object
        .ok_or(ReviewError::MissingField("request.object"))?;
    let rc: ReloaderConfig = review::decode_object(raw, "request.object", "ReloaderConfig")?;
    let namespace = match review.namespace.as_str() {
        "" => rc.metadata.namespace.clone().unwrap_or_default(),
        ns => ns.to_owned(),
    };
    let violations = validation::validate(&namespace, &rc.spec, &state.reloaderconfigs);
    if violations.is_empty() {
        let warnings = existence_warnings(state.existence.as_ref(), &namespace, &rc).await;
        return Ok(Answer::allow(review.uid.clone()).with_warnings(warnings));
    }
    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
    Ok(Answer::deny(
        review.uid.clone(),
        format!(
            "ReloaderConfig {namespace}/{} is invalid: {}",
            review.name,
            list.join("; ")
        ),
    ))
}

pub async fn handle(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let state: &AppState = &state;
    super::serve_review(state, WEBHOOK, &headers, body, |bytes| async move {
        let review = review::parse(&bytes)?;
        let answer = review_answer(&review, state).await?;
        let outcome = match (answer.allowed, answer.warnings.is_empty()) {
            (false, _) => "denied",
            (true, false) => "warned",
            (true, true) => "allowed",
        };
        Ok((review.version, answer, outcome))
    })
    .await
}
