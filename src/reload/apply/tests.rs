use std::time::Duration;

use super::*;
use reloader_core::workload::WorkloadKind;

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

#[test]
fn a_failure_reads_as_the_apis_code_reason_and_message() {
    let workload = WorkloadRef::new("team-a", WorkloadKind::Deployment, "web");
    let denied = |attempts| ApplyError::Api {
        workload: workload.clone(),
        attempts,
        error: kube::Error::Api(
            kube::core::Status::failure(
                "deployments.apps \"web\" is forbidden: User \"u\" cannot patch resource",
                "Forbidden",
            )
            .with_code(403)
            .boxed(),
        ),
    };
    let table = [
        (
            denied(1),
            "403 Forbidden: deployments.apps \"web\" is forbidden: User \"u\" cannot patch resource",
        ),
        (
            denied(6),
            "403 Forbidden: deployments.apps \"web\" is forbidden: User \"u\" cannot patch resource (after 6 attempts)",
        ),
        (
            ApplyError::Patch {
                workload: workload.clone(),
                error: PatchError::NoContainer {
                    kind: WorkloadKind::Deployment,
                    index: 3,
                },
            },
            "the Deployment has no container at index 3",
        ),
    ];
    for (error, want) in table {
        assert_eq!(error.detail(), want);
    }
}

#[test]
fn a_reload_recorded_since_about_the_read_asks_for_fresh_sources() {
    let first = Timestamp::from_second(1_700_000_100).unwrap();
    let object = |last: Option<&str>| match last {
        Some(t) => serde_json::json!({"metadata": {"annotations": {LAST_RELOAD_AT: t}}}),
        None => serde_json::json!({"metadata": {}}),
    };
    let at = |secs: i64| planner::format_last_reload(Timestamp::from_second(secs).unwrap());
    let cases = [
        ("never reloaded", object(None), false),
        (
            "reloaded long before",
            object(Some(&at(1_700_000_000))),
            false,
        ),
        (
            "reloaded 3 s before",
            object(Some(&at(1_700_000_097))),
            false,
        ),
        (
            "reloaded within the margin",
            object(Some(&at(1_700_000_099))),
            true,
        ),
        ("reloaded after", object(Some(&at(1_700_000_101))), true),
        ("garbage", object(Some("yesterday")), false),
    ];
    for (name, object, want) in cases {
        assert_eq!(reloaded_since(&object, first), want, "{name}");
    }
}
