use super::*;

fn body(operation: &str, dry_run: bool, object: &str, old: &str) -> String {
    format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"u","kind":{{"group":"","version":"v1","kind":"Secret"}},"operation":"{operation}","name":"s","namespace":"n","dryRun":{dry_run},"object":{object},"oldObject":{old}}}}}"#
    )
}

fn decide_on(b: &str, opts: SourcesOptions) -> Result<Verdict, ReviewError> {
    decide(&parse(b.as_bytes()).unwrap(), &opts, SystemTime::UNIX_EPOCH)
}

#[test]
fn cheap_answers_decode_nothing() {
    // The values are not base64; these paths never decode them.
    let garbage = r#"{"data":{"k":"not base64!"}}"#;
    let both = SourcesOptions {
        reload_on_create: true,
        reload_on_delete: true,
    };
    let cases = [
        (
            "dry run",
            body("UPDATE", true, garbage, garbage),
            both,
            IgnoreReason::DryRun,
        ),
        (
            "create not followed",
            body("CREATE", false, garbage, "null"),
            SourcesOptions::default(),
            IgnoreReason::CreateNotFollowed,
        ),
        (
            "delete not followed",
            body("DELETE", false, "null", garbage),
            SourcesOptions::default(),
            IgnoreReason::DeleteNotFollowed,
        ),
        (
            "connect",
            body("CONNECT", false, "null", "null"),
            both,
            IgnoreReason::Connect,
        ),
    ];
    for (name, b, opts, reason) in cases {
        assert_eq!(decide_on(&b, opts), Ok(Verdict::Ignore(reason)), "{name}");
    }
}

#[test]
fn string_data_counts_as_data() {
    let old = r#"{"kind":"Secret","data":{"k":"MQ=="}}"#;
    let same_via_string_data = r#"{"kind":"Secret","stringData":{"k":"1"}}"#;
    let changed_via_string_data = r#"{"kind":"Secret","data":{"k":"MQ=="},"stringData":{"k":"2"}}"#;
    let opts = SourcesOptions::default();
    assert_eq!(
        decide_on(&body("UPDATE", false, same_via_string_data, old), opts),
        Ok(Verdict::Ignore(IgnoreReason::DataUnchanged))
    );
    assert!(matches!(
        decide_on(&body("UPDATE", false, changed_via_string_data, old), opts),
        Ok(Verdict::Trigger(_))
    ));
}

#[test]
fn base64_values_are_borrowed_and_escaped_text_still_decodes() {
    let b = body(
        "UPDATE",
        false,
        r#"{"kind":"Secret","data":{"k":"MQ=="}}"#,
        r#"{"kind":"Secret","data":{"k":"line\nbreak"}}"#,
    );
    let review = parse(b.as_bytes()).unwrap();
    let new = review.object.as_ref().unwrap().data.as_ref().unwrap();
    assert!(matches!(new["k"].0, Cow::Borrowed(b"MQ==")));
    let old = review.old_object.as_ref().unwrap().data.as_ref().unwrap();
    assert_eq!(old["k"].0.as_ref(), b"line\nbreak");
}
