//! `/validate/sources` through the router, in process.

mod webhook_harness;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use reloader::trigger::{Admitted, Before};
use reloader::webhook::Limits;
use reloader::webhook::sources::SourcesOptions;
use reloader_core::hash::hash_secret;
use reloader_core::source::SourceKind;
use serde_json::Value;
use tower::ServiceExt;
use webhook_harness::*;

async fn post(router: axum::Router, body: Vec<u8>) -> (StatusCode, Value) {
    send(
        router,
        Request::post("/validate/sources")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn send(router: axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "{status}: body is not JSON: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, value)
}

fn assert_allowed(status: StatusCode, answer: &Value, uid: &str) {
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(answer["response"]["uid"], uid);
    assert_eq!(answer["response"]["allowed"], true);
}

#[tokio::test]
async fn an_update_that_changes_secret_data_queues_one_trigger() {
    let mut h = harness();
    let review = Review::update(
        secret("db", &[("password", b"old")]),
        secret("db", &[("password", b"new")]),
    );
    let (status, answer) = post(h.router(), review.body()).await;
    assert_allowed(status, &answer, &review.uid);
    assert_eq!(answer["apiVersion"], V1);
    let triggers = h.drain();
    assert_eq!(triggers.len(), 1);
    let t = &triggers[0];
    assert_eq!(
        (t.namespace.as_str(), t.kind, t.name.as_str()),
        ("team-a", SourceKind::Secret, "db")
    );
    assert_eq!(t.operation, Admitted::Update);
    assert_eq!(t.uid, review.uid);
    assert_eq!(
        t.before,
        Before::Version("41".into()),
        "the old object's version"
    );
}

/// Each case: (name, review, options, expected trigger operation or None).
#[tokio::test]
async fn what_triggers_and_what_does_not() {
    let s = |v: &[u8]| secret("app", &[("token", v)]);
    let cm = |v: &str| configmap("settings", &[("mode", v)], &[]);
    let both = SourcesOptions {
        reload_on_create: true,
        reload_on_delete: true,
        ..SourcesOptions::default()
    };
    let none = SourcesOptions::default();
    let cases: Vec<(&str, Review, SourcesOptions, Option<Admitted>)> = vec![
        (
            "secret data changed",
            Review::update(s(b"1"), s(b"2")),
            none.clone(),
            Some(Admitted::Update),
        ),
        (
            "configmap data changed",
            Review::update(cm("a"), cm("b")),
            none.clone(),
            Some(Admitted::Update),
        ),
        (
            "configmap binaryData changed",
            Review::update(
                configmap("settings", &[("mode", "a")], &[("logo", b"\x00\x01")]),
                configmap("settings", &[("mode", "a")], &[("logo", b"\x00\x02")]),
            ),
            none.clone(),
            Some(Admitted::Update),
        ),
        (
            "a key moved from data to binaryData",
            Review::update(
                configmap("settings", &[("k", "v")], &[]),
                configmap("settings", &[], &[("k", b"v")]),
            ),
            none.clone(),
            Some(Admitted::Update),
        ),
        (
            "same data",
            Review::update(s(b"1"), s(b"1")),
            none.clone(),
            None,
        ),
        (
            "same data, new labels and annotations",
            Review::update(
                s(b"1"),
                with_meta(
                    with_meta(s(b"1"), "labels", "tier", "db"),
                    "annotations",
                    "note",
                    "x",
                ),
            ),
            none.clone(),
            None,
        ),
        (
            "dry run with changed data",
            Review::update(s(b"1"), s(b"2")).dry_run(),
            both.clone(),
            None,
        ),
        (
            "ignored secret with changed data",
            Review::update(
                with_meta(
                    s(b"1"),
                    "annotations",
                    "reloader.stakater.com/ignore",
                    "true",
                ),
                with_meta(
                    s(b"2"),
                    "annotations",
                    "reloader.stakater.com/ignore",
                    "true",
                ),
            ),
            none.clone(),
            None,
        ),
        (
            "ignore annotation other than \"true\" does not ignore",
            Review::update(
                s(b"1"),
                with_meta(
                    s(b"2"),
                    "annotations",
                    "reloader.stakater.com/ignore",
                    "yes",
                ),
            ),
            none.clone(),
            Some(Admitted::Update),
        ),
        (
            "create without --reload-on-create",
            Review::new("CREATE", Some(s(b"1")), None),
            none.clone(),
            None,
        ),
        (
            "create with --reload-on-create",
            Review::new("CREATE", Some(s(b"1")), None),
            both.clone(),
            Some(Admitted::Create),
        ),
        (
            "ignored create with --reload-on-create",
            Review::new(
                "CREATE",
                Some(with_meta(
                    s(b"1"),
                    "annotations",
                    "reloader.stakater.com/ignore",
                    "true",
                )),
                None,
            ),
            both.clone(),
            None,
        ),
        (
            "delete without --reload-on-delete",
            Review::new("DELETE", None, Some(cm("a"))),
            none.clone(),
            None,
        ),
        (
            "delete with --reload-on-delete",
            Review::new("DELETE", None, Some(cm("a"))),
            both.clone(),
            Some(Admitted::Delete),
        ),
        (
            "dry-run delete",
            Review::new("DELETE", None, Some(cm("a"))).dry_run(),
            both.clone(),
            None,
        ),
    ];
    for (name, review, options, expected) in cases {
        let mut h = harness_with(options, Limits::default(), 8);
        let (status, answer) = post(h.router(), review.body()).await;
        assert_allowed(status, &answer, &review.uid);
        let got: Vec<Admitted> = h.drain().iter().map(|t| t.operation).collect();
        assert_eq!(got, expected.into_iter().collect::<Vec<_>>(), "{name}");
    }
}

#[tokio::test]
async fn create_and_delete_triggers_carry_what_exists() {
    let options = SourcesOptions {
        reload_on_create: true,
        reload_on_delete: true,
        ..SourcesOptions::default()
    };
    let mut h = harness_with(options, Limits::default(), 8);
    let s = secret("app", &[("k", b"v")]);
    let mut unversioned = s.clone();
    unversioned["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    for (op, object, old) in [
        ("CREATE", Some(s.clone()), None),
        ("DELETE", None, Some(s)),
        ("DELETE", None, Some(unversioned)),
    ] {
        post(h.router(), Review::new(op, object, old).body()).await;
    }
    let t = h.drain();
    let got: Vec<(Admitted, Before)> = t.iter().map(|t| (t.operation, t.before.clone())).collect();
    let old_hash = hash_secret(&Secret {
        data: Some([("k".to_string(), ByteString(b"v".to_vec()))].into()),
        ..Secret::default()
    });
    assert_eq!(
        got,
        vec![
            (Admitted::Create, Before::Nothing),
            (Admitted::Delete, Before::Version("41".into())),
            (Admitted::Delete, Before::Hash(old_hash)),
        ],
        "CREATE: nothing before; DELETE: the old version, or its hash without one"
    );
}

#[tokio::test]
async fn a_v1beta1_review_is_answered_in_v1beta1() {
    let mut h = harness();
    let review =
        Review::update(secret("db", &[("k", b"1")]), secret("db", &[("k", b"2")])).version(V1BETA1);
    let (status, answer) = post(h.router(), review.body()).await;
    assert_allowed(status, &answer, &review.uid);
    assert_eq!(answer["apiVersion"], V1BETA1);
    assert_eq!(h.drain().len(), 1);
}

#[tokio::test]
async fn a_one_mebibyte_secret_update_is_accepted() {
    let mut h = harness();
    let body = big_secret_update(1024 * 1024);
    assert!(
        body.len() > 2_700_000 && body.len() < 3 * 1024 * 1024,
        "{}",
        body.len()
    );
    let (status, answer) = post(h.router(), body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["response"]["allowed"], true);
    assert_eq!(h.drain().len(), 1);
}

#[tokio::test]
async fn a_full_queue_still_allows_the_write_and_counts_the_drop() {
    let mut h = harness_with(SourcesOptions::default(), Limits::default(), 1);
    for v in [b"2", b"3"] {
        let review = Review::update(secret("db", &[("k", b"1")]), secret("db", &[("k", v)]));
        let (status, answer) = post(h.router(), review.body()).await;
        assert_allowed(status, &answer, &review.uid);
    }
    assert_eq!(h.drain().len(), 1);
    let metrics = h.state.metrics.encode();
    assert!(
        metrics.contains(r#"reloader_triggers_dropped_total{reason="full"} 1"#),
        "{metrics}"
    );
}

fn json_post(body: impl Into<Body>) -> Request<Body> {
    Request::post("/validate/sources")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

#[tokio::test]
async fn bad_input_gets_a_specific_4xx_with_a_json_body() {
    let valid = Review::update(secret("a", &[("k", b"1")]), secret("a", &[("k", b"2")]));
    let mut no_request = valid.json();
    no_request.as_object_mut().unwrap().remove("request");
    let mut no_uid = valid.json();
    no_uid["request"].as_object_mut().unwrap().remove("uid");
    let mut deployment = valid.json();
    deployment["request"]["kind"] =
        serde_json::json!({"group": "apps", "version": "v1", "kind": "Deployment"});
    let mut not_a_secret = valid.json();
    not_a_secret["request"]["object"] = configmap("a", &[("k", "v")], &[]);
    let mut undecodable = valid.json();
    undecodable["request"]["object"]["data"]["k"] = Value::String("%%% not base64".into());
    let mut no_old_object = valid.json();
    no_old_object["request"]["oldObject"] = Value::Null;
    let over_limit = vec![b' '; 3 * 1024 * 1024 + 1];
    let to_vec = |v: &Value| serde_json::to_vec(v).unwrap();

    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        (
            "not JSON",
            json_post("hello"),
            StatusCode::BAD_REQUEST,
            "syntax",
        ),
        (
            "empty body",
            json_post(""),
            StatusCode::BAD_REQUEST,
            "syntax",
        ),
        (
            "text/plain content type",
            Request::post("/validate/sources")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(valid.body()))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "no content type",
            Request::post("/validate/sources")
                .body(Body::from(valid.body()))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "missing request",
            json_post(to_vec(&no_request)),
            StatusCode::BAD_REQUEST,
            "missing_request",
        ),
        (
            "missing uid",
            json_post(to_vec(&no_uid)),
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            "a Deployment sent to the sources path",
            json_post(to_vec(&deployment)),
            StatusCode::BAD_REQUEST,
            "wrong_kind",
        ),
        (
            "a ConfigMap where a Secret is expected",
            json_post(to_vec(&not_a_secret)),
            StatusCode::BAD_REQUEST,
            "object_kind_mismatch",
        ),
        (
            "a Secret whose data is not base64",
            json_post(to_vec(&undecodable)),
            StatusCode::BAD_REQUEST,
            "bad_object",
        ),
        (
            "an UPDATE without oldObject",
            json_post(to_vec(&no_old_object)),
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            "body over 3 MiB",
            json_post(over_limit.clone()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "body over 3 MiB without Content-Length",
            json_post(Body::from_stream(futures::stream::iter(
                over_limit
                    .chunks(64 * 1024)
                    .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                    .collect::<Vec<_>>(),
            ))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "GET",
            Request::get("/validate/sources")
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "unknown path",
            Request::post("/validate/pods").body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (name, req, status, reason) in cases {
        let mut h = harness();
        let (got, body) = send(h.router(), req).await;
        assert_eq!(got, status, "{name}: {body}");
        assert_eq!(body["error"], reason, "{name}: {body}");
        assert!(
            !body["message"].as_str().unwrap_or("").is_empty(),
            "{name}: {body}"
        );
        assert!(h.drain().is_empty(), "{name}");
    }
}

#[tokio::test]
async fn a_stalled_body_is_cut_with_408() {
    let limits = Limits {
        body_timeout: std::time::Duration::from_millis(100),
        ..Limits::default()
    };
    let h = harness_with(SourcesOptions::default(), limits, 8);
    let stalled = Body::from_stream(futures::stream::pending::<Result<Vec<u8>, std::io::Error>>());
    let (status, body) = send(h.router(), json_post(stalled)).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{body}");
    assert_eq!(body["error"], "body_timeout");
}

#[tokio::test]
async fn error_messages_never_quote_secret_values() {
    let canary = "CANARY-7f3b2a91";
    let mut review =
        Review::update(secret("a", &[("k", b"1")]), secret("a", &[("k", b"2")])).json();
    review["request"]["object"]["data"]["k"] = Value::String(format!("{canary}!!"));
    let h = harness();
    let (status, body) = send(h.router(), json_post(serde_json::to_vec(&review).unwrap())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!body.to_string().contains(canary), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("data.k"),
        "{body}"
    );
}
