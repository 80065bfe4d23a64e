//! `/validate/reloaderconfigs` decides whether a ReloaderConfig may be stored, from a body
//! anyone allowed to write one can shape. This target feeds the handler's own answer
//! function (`reloaderconfig::review_answer`) arbitrary bodies and checks that nothing
//! panics, that only ReloaderConfigs are judged, that DELETE and CONNECT are always
//! allowed, that a CREATE or UPDATE is allowed exactly when `validation::validate` finds
//! nothing and otherwise denied with a 422 naming every violated field, that the answer's
//! uid is the request's, and that the answer survives its JSON encoding in the version asked.
//!
//! Input: an AdmissionReview request body, as the API server sends it.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use reloader::metrics::Metrics;
use reloader::trigger;
use reloader::webhook::review::{self, AnswerReview, Operation, ReviewError};
use reloader::webhook::{AppState, reloaderconfig};
use reloader_core::crd::ReloaderConfig;
use reloader_core::validation;
use reloader_fuzz::ready;

thread_local! {
    static STATE: AppState = AppState::new(Arc::new(Metrics::new()), trigger::queue(1).0);
}

fuzz_target!(|data: &[u8]| {
    let Ok(review) = review::parse(data) else {
        return;
    };
    let answer = STATE.with(|state| ready(reloaderconfig::review_answer(&review, state)));
    let is_rc = review.kind.kind == "ReloaderConfig" && review.kind.group == "reloader.stakater.com";
    let answer = match answer {
        Err(ReviewError::WrongKind { .. }) => {
            assert!(!is_rc);
            return;
        }
        Err(ReviewError::MissingField(field)) => {
            assert!(is_rc && review.object.is_none() && field == "request.object");
            return;
        }
        Err(e @ (ReviewError::BadObject { .. } | ReviewError::ObjectKindMismatch { .. })) => {
            assert!(is_rc);
            let raw = review.object.expect("a bad object that is not there");
            assert!(serde_json::from_str::<ReloaderConfig>(raw.get()).is_err(), "{e}");
            return;
        }
        Err(e) => panic!("unexpected {e:?}"),
        Ok(answer) => answer,
    };
    assert!(is_rc, "judged a {:?}", review.kind);
    assert_eq!(answer.uid, review.uid);
    let encoded = serde_json::to_vec(&AnswerReview::new(review.version, answer.clone())).unwrap();
    let decoded: AnswerReview = serde_json::from_slice(&encoded).unwrap();
    assert_eq!(decoded.response, answer);
    assert_eq!(decoded.api_version, review.version.api_version());
    if !matches!(review.operation, Operation::Create | Operation::Update) {
        assert!(answer.allowed && answer.status.is_none());
        return;
    }
    let rc: ReloaderConfig = serde_json::from_str(review.object.unwrap().get()).expect("judged an undecodable object");
    let namespace = match review.namespace.as_str() {
        "" => rc.metadata.namespace.clone().unwrap_or_default(),
        ns => ns.to_owned(),
    };
    let violations = validation::validate(&namespace, &rc.spec, &Default::default());
    assert_eq!(answer.allowed, violations.is_empty(), "{violations:?}");
    if answer.allowed {
        // Nothing is known to be missing without an existence cache.
        assert!(answer.warnings.is_empty() && answer.status.is_none());
    } else {
        let status = answer.status.as_ref().expect("a denial without a status");
        assert_eq!(status.code, 422);
        for v in &violations {
            assert!(status.message.contains(&v.to_string()), "{v} not in {}", status.message);
        }
    }
});
