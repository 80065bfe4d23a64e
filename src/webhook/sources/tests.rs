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
        ..SourcesOptions::default()
    };
    let cases = [
        (
            "dry run",
            body("UPDATE", true, garbage, garbage),
            both.clone(),
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
            both.clone(),
            IgnoreReason::Connect,
        ),
    ];
    for (name, b, opts, reason) in cases {
        assert_eq!(decide_on(&b, opts), Ok(Verdict::Ignore(reason)), "{name}");
    }
}

#[test]
fn the_ignore_key_is_the_configured_one_only() {
    let annotated = |key: &str, data: &str| {
        format!(r#"{{"metadata":{{"annotations":{{"{key}":"true"}}}},"data":{{"k":"{data}"}}}}"#)
    };
    let custom = || SourcesOptions {
        ignore_annotation: Some("acme.io/ignore".into()),
        ..SourcesOptions::default()
    };
    // (name, the key on the source, options, ignored)
    let cases = [
        (
            "default key, default options",
            IGNORE,
            SourcesOptions::default(),
            true,
        ),
        (
            "custom key, default options",
            "acme.io/ignore",
            SourcesOptions::default(),
            false,
        ),
        (
            "custom key, custom options",
            "acme.io/ignore",
            custom(),
            true,
        ),
        ("default key, custom options", IGNORE, custom(), false),
    ];
    for (name, key, opts, ignored) in cases {
        let b = body(
            "UPDATE",
            false,
            &annotated(key, "Mg=="),
            &annotated(key, "MQ=="),
        );
        let verdict = decide_on(&b, opts);
        assert_eq!(
            verdict == Ok(Verdict::Ignore(IgnoreReason::IgnoreAnnotation)),
            ignored,
            "{name}: {verdict:?}"
        );
    }
}

#[test]
fn data_values_are_read_as_raw_bytes_unchecked() {
    // Found by the review_sources fuzz target (invalid UTF-8, raw control characters): the
    // plain decoder rejects such a body, this one reads the values as bytes, unchecked. The API server never sends
    // one; whatever comes, the answer is a decision or a typed error, never a panic.
    let old = b"{\"kind\":\"Secret\",\"data\":{\"k\":\"\x9e\x96ne\"}}";
    let new = r#"{"kind":"Secret","data":{"k":"MQ=="}}"#;
    let mut b = body("UPDATE", false, new, "OLD").into_bytes();
    let at = b.windows(3).position(|w| w == b"OLD").unwrap();
    b.splice(at..at + 3, old.iter().copied());
    assert!(std::str::from_utf8(&b).is_err());
    assert!(
        crate::webhook::review::parse(&b).is_err(),
        "the plain decoder refuses it"
    );
    let review = parse(&b).expect("the typed decoder reads it");
    let verdict = decide(&review, &SourcesOptions::default(), SystemTime::UNIX_EPOCH);
    assert!(
        matches!(verdict, Err(_) | Ok(Verdict::Trigger(_))),
        "a typed error (not base64) or a change: {verdict:?}"
    );

    let raw_control = body(
        "UPDATE",
        false,
        "{\"kind\":\"Secret\",\"data\":{\"k\":\"\n\0MQ==\"}}",
        new,
    );
    assert!(crate::webhook::review::parse(raw_control.as_bytes()).is_err());
    let review = parse(raw_control.as_bytes()).expect("the typed decoder reads it");
    let verdict = decide(&review, &SourcesOptions::default(), SystemTime::UNIX_EPOCH);
    assert!(
        matches!(verdict, Err(_) | Ok(Verdict::Trigger(_))),
        "{verdict:?}"
    );

    let cm = |v: &[u8]| {
        let mut o = b"{\"kind\":\"ConfigMap\",\"data\":{\"k\":\"".to_vec();
        o.extend_from_slice(v);
        o.extend_from_slice(b"\"}}");
        o
    };
    let mut b = body("UPDATE", false, "NEW", "OLD")
        .replace(r#""kind":"Secret""#, r#""kind":"ConfigMap""#)
        .into_bytes();
    for (marker, value) in [(&b"NEW"[..], cm(b"\x9e\x96")), (&b"OLD"[..], cm(b"plain"))] {
        let at = b.windows(3).position(|w| w == marker).unwrap();
        b.splice(at..at + 3, value);
    }
    let review = parse(&b).expect("the typed decoder reads it");
    assert!(matches!(
        decide(&review, &SourcesOptions::default(), SystemTime::UNIX_EPOCH),
        Ok(Verdict::Trigger(_))
    ));
}

#[test]
fn string_data_counts_as_data() {
    let old = r#"{"kind":"Secret","data":{"k":"MQ=="}}"#;
    let same_via_string_data = r#"{"kind":"Secret","stringData":{"k":"1"}}"#;
    let changed_via_string_data = r#"{"kind":"Secret","data":{"k":"MQ=="},"stringData":{"k":"2"}}"#;
    let opts = SourcesOptions::default();
    assert_eq!(
        decide_on(
            &body("UPDATE", false, same_via_string_data, old),
            opts.clone()
        ),
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

mod order {
    use super::*;
    use base64::Engine;
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    use proptest::prelude::*;
    use reloader_core::hash::{hash_configmap, hash_secret};

    /// A JSON object of `entries` in the order given (as it arrives on the wire).
    fn object_in_order(entries: &[(String, String)]) -> String {
        let fields: Vec<String> = entries
            .iter()
            .map(|(k, v)| format!("{}:{}", serde_json::json!(k), serde_json::json!(v)))
            .collect();
        format!("{{{}}}", fields.join(","))
    }

    fn b64(v: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(v)
    }

    /// The hash the webhook computes for `object` (without `resourceVersion`) on a
    /// followed DELETE: what the engine compares the source it reads back with.
    fn webhook_hash(hasher: &Hasher, kind: &str, object: &str) -> SourceHash {
        let b = body("DELETE", false, "null", object)
            .replace(r#""kind":"Secret""#, &format!(r#""kind":"{kind}""#));
        let opts = SourcesOptions {
            reload_on_delete: true,
            hasher: hasher.clone(),
            ..SourcesOptions::default()
        };
        match decide_on(&b, opts) {
            Ok(Verdict::Trigger(Trigger {
                before: Before::Hash(h),
                ..
            })) => h,
            other => panic!("no trigger with the old hash: {other:?}"),
        }
    }

    fn keyed() -> Hasher {
        Hasher::Keyed(
            reloader_core::hash::HashKey::new(b"a test key of 32 bytes, no more.").unwrap(),
        )
    }

    fn entries() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
        prop::collection::btree_map(
            "[a-zA-Z0-9._-]{1,8}",
            prop::collection::vec(any::<u8>(), 0..16),
            0..8,
        )
        .prop_map(|m| m.into_iter().collect())
    }

    /// `entries` in an order of the seed's choosing.
    fn shuffled<T: Clone>(entries: &[T], seed: u64) -> Vec<T> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut out = entries.to_vec();
        rng.shuffle(&mut out);
        out
    }

    proptest! {
        /// Where the webhook hashes (an old object without `resourceVersion`), it hashes as
        /// the engine hashes the same Secret read back by a GET, whatever order either JSON
        /// lists the keys in.
        #[test]
        fn a_secret_hashes_alike_in_a_review_and_in_a_get(
            e in entries(), review_order in any::<u64>(), get_order in any::<u64>(),
        ) {
            let encoded: Vec<(String, String)> = e.iter().map(|(k, v)| (k.clone(), b64(v))).collect();
            let review = format!(r#"{{"kind":"Secret","data":{}}}"#, object_in_order(&shuffled(&encoded, review_order)));
            let get = format!(r#"{{"kind":"Secret","data":{}}}"#, object_in_order(&shuffled(&encoded, get_order)));
            let stored: Secret = serde_json::from_str(&get).unwrap();
            prop_assert_eq!(webhook_hash(&Hasher::Plain, "Secret", &review), hash_secret(&stored));
            let keyed = keyed();
            prop_assert_eq!(webhook_hash(&keyed, "Secret", &review), keyed.secret(&stored));
        }

        /// The same for a ConfigMap's `data` and `binaryData`.
        #[test]
        fn a_configmap_hashes_alike_in_a_review_and_in_a_get(
            text in prop::collection::btree_map("[a-z]{1,6}", "[ -~]{0,12}", 0..6),
            binary in entries(), review_order in any::<u64>(), get_order in any::<u64>(),
        ) {
            let text: Vec<(String, String)> = text.into_iter().collect();
            let binary: Vec<(String, String)> = binary.iter().map(|(k, v)| (k.clone(), b64(v))).collect();
            let json = |order: u64| format!(
                r#"{{"kind":"ConfigMap","data":{},"binaryData":{}}}"#,
                object_in_order(&shuffled(&text, order)),
                object_in_order(&shuffled(&binary, order.rotate_left(7))),
            );
            let stored: ConfigMap = serde_json::from_str(&json(get_order)).unwrap();
            prop_assert_eq!(webhook_hash(&Hasher::Plain, "ConfigMap", &json(review_order)), hash_configmap(&stored));
            let keyed = keyed();
            prop_assert_eq!(webhook_hash(&keyed, "ConfigMap", &json(review_order)), keyed.configmap(&stored));
        }
    }

    /// `old` after one edit of the seed's choosing: none, a value changed, a key removed,
    /// a key added, or a value replaced by the same bytes.
    fn edited(old: &[(String, Vec<u8>)], edit: u8, byte: u8) -> Vec<(String, Vec<u8>)> {
        let mut new = old.to_vec();
        match (edit % 5, new.is_empty()) {
            (1, false) => new[byte as usize % old.len()].1.push(byte),
            (2, false) => {
                new.remove(byte as usize % old.len());
            }
            (3, _) => new.push((format!("added-{byte}"), vec![byte])),
            (4, false) => {
                let i = byte as usize % old.len();
                new[i].1 = old[i].1.clone();
            }
            _ => {}
        }
        new.sort();
        new.dedup_by(|a, b| a.0 == b.0);
        new
    }

    fn secret_json(entries: &[(String, Vec<u8>)], string_data: bool) -> String {
        let encoded: Vec<(String, String)> =
            entries.iter().map(|(k, v)| (k.clone(), b64(v))).collect();
        match (string_data, encoded.split_first()) {
            // The first value as `stringData` (when it is text), the rest as `data`.
            (true, Some((first, rest))) if std::str::from_utf8(&entries[0].1).is_ok() => format!(
                r#"{{"kind":"Secret","metadata":{{"resourceVersion":"7"}},"data":{},"stringData":{}}}"#,
                object_in_order(rest),
                object_in_order(&[(
                    first.0.clone(),
                    String::from_utf8(entries[0].1.clone()).unwrap()
                )]),
            ),
            _ => format!(
                r#"{{"kind":"Secret","metadata":{{"resourceVersion":"7"}},"data":{}}}"#,
                object_in_order(&encoded)
            ),
        }
    }

    proptest! {
        /// The webhook hashes neither object, yet triggers exactly when the engine's
        /// hashes of the two differ: comparing decides "unchanged" alone.
        #[test]
        fn an_update_triggers_exactly_when_the_data_differs(
            old in entries(), edit in any::<u8>(), byte in any::<u8>(),
            old_string_data in any::<bool>(), new_string_data in any::<bool>(),
        ) {
            let new = edited(&old, edit, byte);
            let (old_json, new_json) = (secret_json(&old, old_string_data), secret_json(&new, new_string_data));
            let engine = |j: &str| hash_secret(&serde_json::from_str::<Secret>(j).unwrap());
            let changed = engine(&old_json) != engine(&new_json);
            match decide_on(&body("UPDATE", false, &new_json, &old_json), SourcesOptions::default()) {
                Ok(Verdict::Trigger(t)) => {
                    prop_assert!(changed, "a trigger for unchanged data");
                    prop_assert_eq!(t.before, Before::Version("7".into()));
                }
                Ok(Verdict::Ignore(IgnoreReason::DataUnchanged)) => prop_assert!(!changed, "a change missed"),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
            // The same edit of a ConfigMap's `binaryData`.
            let cm = |e: &[(String, Vec<u8>)]| {
                let encoded: Vec<(String, String)> = e.iter().map(|(k, v)| (k.clone(), b64(v))).collect();
                format!(r#"{{"kind":"ConfigMap","binaryData":{}}}"#, object_in_order(&encoded))
            };
            let cm_body = body("UPDATE", false, &cm(&new), &cm(&old)).replace(r#""kind":"Secret""#, r#""kind":"ConfigMap""#);
            let engine = |j: &str| hash_configmap(&serde_json::from_str::<ConfigMap>(j).unwrap());
            let changed = engine(&cm(&old)) != engine(&cm(&new));
            let triggered = matches!(decide_on(&cm_body, SourcesOptions::default()), Ok(Verdict::Trigger(_)));
            prop_assert_eq!(triggered, changed);
        }
    }
}
