use super::*;

fn review(api_version: &str, request: &str) -> String {
    format!(r#"{{"apiVersion":"{api_version}","kind":"AdmissionReview","request":{request}}}"#)
}

const REQ: &str = r#"{"uid":"u-1","kind":{"group":"","version":"v1","kind":"Secret"},"operation":"UPDATE","name":"s","namespace":"ns","dryRun":true,"object":{"kind":"Secret"},"oldObject":null}"#;

#[test]
fn a_v1_review_parses_with_borrowed_objects() {
    let body = review(V1, REQ);
    let r = parse(body.as_bytes()).unwrap();
    assert_eq!(r.version, ReviewVersion::V1);
    assert_eq!(r.uid, "u-1");
    assert_eq!(r.kind.kind, "Secret");
    assert_eq!(r.operation, Operation::Update);
    assert_eq!((r.name.as_str(), r.namespace.as_str()), ("s", "ns"));
    assert!(r.dry_run);
    assert_eq!(r.object.unwrap().get(), r#"{"kind":"Secret"}"#);
    assert!(r.old_object.is_none());
    let debug = format!("{r:?}");
    assert!(
        debug.contains("<redacted>") && !debug.contains(r#""kind":"Secret""#),
        "{debug}"
    );
}

#[test]
fn a_v1beta1_review_is_answered_in_v1beta1() {
    let body = review(V1BETA1, REQ);
    let r = parse(body.as_bytes()).unwrap();
    let answer = serde_json::to_value(AnswerReview::new(r.version, Answer::allow(r.uid))).unwrap();
    assert_eq!(answer["apiVersion"], V1BETA1);
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(answer["response"]["uid"], "u-1");
    assert_eq!(answer["response"]["allowed"], true);
}

#[test]
fn malformed_envelopes_are_told_apart() {
    let cases: &[(&str, String, &str)] = &[
        ("not JSON", "{nope".into(), "syntax"),
        ("truncated", r#"{"kind":"#.into(), "syntax"),
        ("a JSON array", "[1,2]".into(), "shape"),
        ("uid of the wrong type", review(V1, r#"{"uid":7}"#), "shape"),
        (
            "another kind",
            r#"{"apiVersion":"v1","kind":"Secret"}"#.into(),
            "not_a_review",
        ),
        (
            "no kind",
            r#"{"apiVersion":"admission.k8s.io/v1"}"#.into(),
            "missing_field",
        ),
        (
            "unknown version",
            r#"{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview"}"#.into(),
            "unsupported_version",
        ),
        (
            "no request",
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.into(),
            "missing_request",
        ),
        (
            "no uid",
            review(V1, r#"{"operation":"CREATE"}"#),
            "missing_field",
        ),
        ("empty uid", review(V1, r#"{"uid":""}"#), "missing_field"),
        (
            "unknown operation",
            review(
                V1,
                r#"{"uid":"u","kind":{"kind":"Secret"},"operation":"PATCH"}"#,
            ),
            "unknown_operation",
        ),
    ];
    for (name, body, reason) in cases {
        let err = parse(body.as_bytes()).expect_err(name);
        assert_eq!(err.reason(), *reason, "{name}: {err}");
    }
}

#[test]
fn errors_name_the_path_but_never_quote_values() {
    let body = review(V1, r#"{"uid":"u","kind":{"kind":"Secret"},"operation":42}"#);
    let err = parse(body.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("request.operation"), "{err}");

    let raw: Box<RawValue> =
        serde_json::from_str(r#"{"data":{"password":"not base64 CANARY!"}}"#).unwrap();
    let err = decode_object::<k8s_openapi::api::core::v1::Secret>(&raw, "request.object", "Secret")
        .unwrap_err()
        .to_string();
    assert!(err.contains("data.password"), "{err}");
    assert!(!err.contains("CANARY"), "{err}");
}

#[test]
fn an_object_of_another_kind_is_named_as_such() {
    let raw: Box<RawValue> =
        serde_json::from_str(r#"{"apiVersion":"v1","kind":"ConfigMap","data":{}}"#).unwrap();
    let err = decode_object::<k8s_openapi::api::core::v1::Secret>(&raw, "request.object", "Secret")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "request.object has kind \"ConfigMap\", expected a Secret"
    );
}
