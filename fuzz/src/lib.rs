//! What the fuzz targets share: a poller for futures that are ready at once, and the
//! small oracles several targets check their answers against.

use std::collections::BTreeMap;
use std::future::Future;
use std::task::{Context, Poll, Waker};

use k8s_openapi::api::core::v1::ConfigMap;
use reloader_core::hash::{SourceHash, hash_configmap};
use serde_json::Value;

/// Polls `fut` once. The handlers the targets drive await only ready futures (no
/// existence cache, no network), so a pending one is itself a finding.
pub fn ready<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a handler awaited something that is not ready"),
    }
}

/// A hash to record: `text` itself when it is a recorded hash (plain or keyed), else the
/// hash of a one-entry ConfigMap holding it.
pub fn hash_from(text: &str) -> SourceHash {
    text.parse().unwrap_or_else(|_| {
        hash_configmap(&ConfigMap {
            data: Some(BTreeMap::from([("k".to_owned(), text.to_owned())])),
            ..ConfigMap::default()
        })
    })
}

/// The string values of a Secret-shaped object's `data`, `stringData` and `binaryData`:
/// what an error message must never quote.
pub fn data_values(object: Option<&Value>, out: &mut Vec<String>) {
    let Some(object) = object else { return };
    for field in ["data", "stringData", "binaryData"] {
        if let Some(map) = object.get(field).and_then(Value::as_object) {
            out.extend(map.values().filter_map(Value::as_str).map(str::to_owned));
        }
    }
}

/// Every object key and every string value of `value` that is not one of `skip`, joined:
/// text an error message may legitimately repeat.
pub fn other_text(value: &Value, skip: &[String], out: &mut String) {
    match value {
        Value::String(s) if !skip.contains(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| other_text(v, skip, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push_str(k);
                out.push('\n');
                other_text(v, skip, out);
            }
        }
        _ => {}
    }
}

/// Asserts that `message` quotes none of the `values` that are long enough to be told
/// apart from the fixed words of a message, unless the same text also stands elsewhere in
/// the input (a key, a kind, a name), where quoting it is fine.
pub fn assert_quotes_none(message: &str, values: &[String], elsewhere: &str) {
    for v in values {
        if v.chars().count() >= 16 && message.contains(v.as_str()) && !elsewhere.contains(v.as_str())
        {
            panic!("an error message quotes a data value: {message}");
        }
    }
}
