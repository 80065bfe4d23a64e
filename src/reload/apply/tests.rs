use std::time::Duration;

use super::*;

#[test]
fn errors_are_classified_for_retry() {
    let api = |code: u16| {
        kube::Error::Api(
            kube::core::Status::failure("x", "y")
                .with_code(code)
                .boxed(),
        )
    };
    let cases = [
        (404, Retry::Gone),
        (409, Retry::Reread),
        (422, Retry::Reread),
        (429, Retry::Later),
        (503, Retry::Later),
        (403, Retry::Never),
    ];
    for (code, want) in cases {
        assert_eq!(classify(&api(code)), want, "{code}");
    }
}

#[test]
fn backoff_grows_and_stays_bounded() {
    assert!(backoff(1) <= Duration::from_millis(30));
    for attempt in 0..40 {
        assert!(backoff(attempt) <= Duration::from_millis(1500));
    }
}
