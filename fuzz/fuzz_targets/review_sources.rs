//! `/validate/sources` reads every Secret and ConfigMap write in the cluster, so its
//! decoder meets whatever a client sends. This target feeds it arbitrary bodies and checks
//! that nothing panics; that the typed decoder (`sources::parse`, which borrows Secret
//! values from the body) agrees with the plain one (`review::parse`) on the envelope and
//! fails only on the objects; that `decide` is consistent (a trigger means changed data by the
//! engine's hashes, an UPDATE or DELETE trigger says what was before, a CREATE nothing);
//! that the hash it streams for an old object without `resourceVersion`
//! entry by entry equals `hash_secret`/`hash_configmap` of the typed object (the engine's
//! hash), so a webhook trigger and a resync never disagree about a change; and that no error
//! message quotes a Secret's value.
//!
//! Input: an AdmissionReview request body, as the API server sends it.
#![no_main]

use std::time::SystemTime;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use libfuzzer_sys::fuzz_target;
use reloader::trigger::{Admitted, Before};
use reloader::webhook::review::{self, Operation, ReviewError};
use reloader::webhook::sources::{self, IgnoreReason, SourcesOptions, Verdict};
use reloader_core::hash::{HashKey, Hasher, SourceHash};
use reloader_core::source::SourceKind;
use reloader_fuzz::{assert_quotes_none, data_values, other_text};
use serde_json::Value;
use serde_json::value::RawValue;

/// The engine's hash of an object, when it decodes as the typed Secret or ConfigMap.
fn typed_hash(
    hasher: &Hasher,
    kind: SourceKind,
    raw: Option<&RawValue>,
    field: &'static str,
) -> Option<SourceHash> {
    let raw = raw?;
    match kind {
        SourceKind::Secret => review::decode_object::<Secret>(raw, field, "Secret")
            .ok()
            .map(|s| hasher.secret(&s)),
        SourceKind::ConfigMap => review::decode_object::<ConfigMap>(raw, field, "ConfigMap")
            .ok()
            .map(|c| hasher.configmap(&c)),
        // Never admitted through /validate/sources (`decide` refuses it first).
        SourceKind::SecretProviderClass => None,
    }
}

fn is_object_error(err: &ReviewError) -> bool {
    let about_objects = |s: &str| s.contains("request.object") || s.contains("request.oldObject");
    match err {
        ReviewError::BadObject { field, .. } => about_objects(field),
        // A string a `RawValue` skips but a typed field refuses (a lone surrogate escape).
        ReviewError::Syntax(detail) => about_objects(detail),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let plain = review::parse(data);
    let typed = sources::parse(data);
    let mut messages = Vec::new();
    match (&plain, &typed) {
        (Ok(p), Ok(t)) => {
            assert_eq!(
                (p.version, &p.uid, &p.kind, p.operation, &p.name, &p.namespace, p.dry_run),
                (t.version, &t.uid, &t.kind, t.operation, &t.name, &t.namespace, t.dry_run)
            );
            assert_eq!(p.object.is_some(), t.object.is_some());
            assert_eq!(p.old_object.is_some(), t.old_object.is_some());
            assert!(!p.uid.is_empty());
        }
        (Ok(_), Err(e)) => {
            assert!(is_object_error(e), "the envelope decoded, yet {e:?}");
            messages.push(e.to_string());
        }
        // The typed decoder reads data values as raw bytes and, on purpose, does not check
        // them (a wasted pass over most of the review; see `sources::Text`): it may accept a
        // body whose only faults are inside those strings (invalid UTF-8, raw control
        // characters), which the plain decoder rejects. Repaired, the body must decode.
        (Err(e), Ok(_)) => {
            let repaired: Vec<u8> = String::from_utf8_lossy(data)
                .bytes()
                .map(|b| if b < 0x20 { b' ' } else { b })
                .collect();
            assert!(repaired != data, "only the typed decoder accepts the body: {e:?}");
            assert!(
                review::parse(&repaired).is_ok(),
                "only the typed decoder accepts the body, and not for its strings: {e:?}"
            );
        }
        (Err(a), Err(b)) => {
            assert!(!a.reason().is_empty());
            messages.extend([a.to_string(), b.to_string()]);
        }
    }
    if let (Ok(p), Ok(t)) = (&plain, &typed) {
        let keyed = Hasher::Keyed(HashKey::new(&[7; 32]).expect("a long enough key"));
        for (on_create, on_delete, hasher) in
            [(false, false, Hasher::Plain), (true, true, Hasher::Plain), (true, true, keyed)]
        {
            let opts = SourcesOptions {
                reload_on_create: on_create,
                reload_on_delete: on_delete,
                hasher,
                ..SourcesOptions::default()
            };
            let verdict = match sources::decide(t, &opts, SystemTime::UNIX_EPOCH) {
                Ok(v) => v,
                Err(e) => {
                    messages.push(e.to_string());
                    continue;
                }
            };
            let kind = SourceKind::from_kind(&t.kind.kind).expect("decided on a non-source");
            assert!(t.kind.group.is_empty());
            let old = typed_hash(&opts.hasher, kind, p.old_object, "request.oldObject");
            let new = typed_hash(&opts.hasher, kind, p.object, "request.object");
            match verdict {
                Verdict::Ignore(IgnoreReason::DryRun) => assert!(t.dry_run),
                Verdict::Ignore(IgnoreReason::Connect) => assert_eq!(t.operation, Operation::Connect),
                Verdict::Ignore(IgnoreReason::CreateNotFollowed) => {
                    assert!(t.operation == Operation::Create && !on_create)
                }
                Verdict::Ignore(IgnoreReason::DeleteNotFollowed) => {
                    assert!(t.operation == Operation::Delete && !on_delete)
                }
                Verdict::Ignore(IgnoreReason::IgnoreAnnotation) => {}
                Verdict::Ignore(IgnoreReason::DataUnchanged) => {
                    assert_eq!(t.operation, Operation::Update);
                    if let (Some(o), Some(n)) = (old, new) {
                        assert_eq!(o, n, "unchanged data, different engine hashes");
                    }
                }
                Verdict::Trigger(trigger) => {
                    assert!(!t.dry_run);
                    assert_eq!((&trigger.uid, &trigger.name, &trigger.namespace), (&t.uid, &t.name, &t.namespace));
                    assert_eq!(trigger.kind, kind);
                    match (t.operation, trigger.operation) {
                        (Operation::Update, Admitted::Update) => {
                            assert!(trigger.before != Before::Nothing, "an UPDATE with nothing before");
                            if let (Some(o), Some(n)) = (old, new) {
                                assert_ne!(o, n, "a trigger for unchanged data");
                            }
                        }
                        (Operation::Create, Admitted::Create) => {
                            assert!(on_create && trigger.before == Before::Nothing)
                        }
                        (Operation::Delete, Admitted::Delete) => {
                            assert!(on_delete && trigger.before != Before::Nothing)
                        }
                        (op, admitted) => panic!("{op:?} triggered as {admitted:?}"),
                    }
                    if let (Before::Hash(streamed), Some(engine)) = (&trigger.before, old) {
                        assert_eq!(*streamed, engine, "the webhook and the engine hash request.oldObject apart");
                    }
                }
            }
        }
    }
    // No message quotes a data value.
    if messages.is_empty() {
        return;
    }
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let mut values = Vec::new();
    data_values(body.pointer("/request/object"), &mut values);
    data_values(body.pointer("/request/oldObject"), &mut values);
    let mut elsewhere = String::new();
    other_text(&body, &values, &mut elsewhere);
    // A value may happen to spell part of a message's fixed words ("t.oldObject is mis"):
    // the messages of the same body with every data value emptied are fixed text too.
    if messages.iter().any(|m| values.iter().any(|v| m.contains(v.as_str()))) {
        let mut redacted = body.clone();
        for object in ["/request/object", "/request/oldObject"] {
            empty_data_values(redacted.pointer_mut(object));
        }
        let redacted = serde_json::to_vec(&redacted).expect("a Value serializes");
        for m in error_messages(&redacted) {
            elsewhere.push_str(&m);
            elsewhere.push('\n');
        }
    }
    for m in &messages {
        assert_quotes_none(m, &values, &elsewhere);
    }
});

/// Every error message the decoders and `decide` give for `body`, checking nothing.
fn error_messages(body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(e) = review::parse(body) {
        out.push(e.to_string());
    }
    match sources::parse(body) {
        Err(e) => out.push(e.to_string()),
        Ok(t) => {
            let opts = SourcesOptions {
                reload_on_create: true,
                reload_on_delete: true,
                ..SourcesOptions::default()
            };
            if let Err(e) = sources::decide(&t, &opts, SystemTime::UNIX_EPOCH) {
                out.push(e.to_string());
            }
        }
    }
    out
}

/// Empties the string values of `data`, `stringData` and `binaryData` of `object`.
fn empty_data_values(object: Option<&mut Value>) {
    let Some(object) = object else { return };
    for field in ["data", "stringData", "binaryData"] {
        if let Some(map) = object.get_mut(field).and_then(Value::as_object_mut) {
            for v in map.values_mut().filter(|v| v.is_string()) {
                *v = Value::String(String::new());
            }
        }
    }
}
