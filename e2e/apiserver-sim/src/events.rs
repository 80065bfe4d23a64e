//! Events are stored once, in their core/v1 shape, and served both as core/v1 and as
//! events.k8s.io/v1 Events: the two APIs are views of one object, as in kube-apiserver.
//! This module converts between the two shapes.

use serde_json::{Map, Value};

/// events.k8s.io/v1 field name → core/v1 field name, for fields that are renamed.
/// Every other field (metadata, eventTime, series, action, reason, related, type,
/// reportingInstance) keeps its name.
const RENAMED: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

/// True for the resource that is a view of the core Events.
pub fn is_events_view(group: &str, plural: &str) -> bool {
    group == "events.k8s.io" && plural == "events"
}

fn rename(object: Value, to_core: bool, api_version: &str) -> Value {
    let Value::Object(fields) = object else {
        return object;
    };
    let mut out = Map::new();
    for (key, value) in fields {
        let renamed = RENAMED.iter().find_map(|(events, core)| {
            let (from, to) = if to_core {
                (events, core)
            } else {
                (core, events)
            };
            (key == *from).then_some(*to)
        });
        // A field of the other shape that has no counterpart here is dropped, as
        // decoding into the Go type drops it.
        let foreign = RENAMED.iter().any(|(events, core)| {
            let other = if to_core { core } else { events };
            key == *other
        }) && renamed.is_none();
        match renamed {
            Some(name) => {
                out.insert(name.to_string(), value);
            }
            None if !foreign => {
                out.insert(key, value);
            }
            None => {}
        }
    }
    out.insert("apiVersion".into(), Value::from(api_version));
    out.insert("kind".into(), Value::from("Event"));
    Value::Object(out)
}

/// An events.k8s.io/v1 Event in its stored (core/v1) shape.
pub fn to_core(event: Value) -> Value {
    rename(event, true, "v1")
}

/// A stored core/v1 Event as an events.k8s.io/v1 Event.
pub fn to_events_v1(event: Value) -> Value {
    with_go_zero_values(
        rename(event, false, "events.k8s.io/v1"),
        &["regarding", "deprecatedSource"],
        &[
            "eventTime",
            "deprecatedFirstTimestamp",
            "deprecatedLastTimestamp",
        ],
    )
}

/// A stored core/v1 Event as core/v1 serves it.
pub fn core_view(event: Value) -> Value {
    with_go_zero_values(
        event,
        &["involvedObject", "source"],
        &["eventTime", "firstTimestamp", "lastTimestamp"],
    )
}

/// kube-apiserver serializes these struct fields even when empty: `{}` for objects,
/// `null` for timestamps.
fn with_go_zero_values(mut event: Value, objects: &[&str], times: &[&str]) -> Value {
    if let Some(map) = event.as_object_mut() {
        for field in objects {
            map.entry(*field)
                .or_insert_with(|| Value::Object(Map::new()));
        }
        for field in times {
            map.entry(*field).or_insert(Value::Null);
        }
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_map_both_ways() {
        let v1 = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "ns"},
            "regarding": {"kind": "Pod", "name": "p"}, "note": "hello",
            "reportingController": "ctl", "reportingInstance": "ctl-1",
            "deprecatedSource": {"component": "c", "host": "h"},
            "deprecatedFirstTimestamp": "2024-01-01T00:00:00Z",
            "deprecatedLastTimestamp": "2024-01-02T00:00:00Z", "deprecatedCount": 3,
            "eventTime": "2024-01-01T00:00:00.000000Z", "series": {"count": 2, "lastObservedTime": "2024-01-01T00:00:01.000000Z"},
            "action": "Started", "reason": "Go", "type": "Normal", "related": {"kind": "Node", "name": "n"}
        });
        let core = to_core(v1.clone());
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "p");
        assert_eq!(core["message"], "hello");
        assert_eq!(core["reportingComponent"], "ctl");
        assert_eq!(core["reportingInstance"], "ctl-1");
        assert_eq!(core["source"]["host"], "h");
        assert_eq!(core["count"], 3);
        assert_eq!(core["firstTimestamp"], "2024-01-01T00:00:00Z");
        assert_eq!(core["series"]["count"], 2);
        assert!(core.get("note").is_none() && core.get("regarding").is_none());
        assert_eq!(to_events_v1(core), v1);
        let empty = to_events_v1(to_core(json!({"metadata": {"name": "e"}, "note": "n"})));
        assert_eq!(empty["deprecatedSource"], json!({}));
        assert_eq!(empty["deprecatedFirstTimestamp"], Value::Null);
    }

    #[test]
    fn fields_of_the_other_shape_are_dropped() {
        let core = to_core(json!({"metadata": {"name": "e"}, "message": "stale", "note": "kept"}));
        assert_eq!(core["message"], "kept");
        let v1 =
            to_events_v1(json!({"metadata": {"name": "e"}, "note": "stale", "message": "kept"}));
        assert_eq!(v1["note"], "kept");
    }
}
