//! `meta.k8s.io/v1` Table output for `kubectl get`, with the usual columns of the
//! built-in types and the printer columns of custom resources.

use serde_json::{Value, json};

use crate::resources::{PrinterColumn, ResourceType};

fn column(name: &str, type_: &str, json_path: &str, priority: i64) -> PrinterColumn {
    PrinterColumn {
        name: name.into(),
        type_: type_.into(),
        json_path: json_path.into(),
        priority,
        description: String::new(),
    }
}

/// Columns after NAME; special paths starting with `#` are computed cells.
fn columns_for(resource: &ResourceType) -> Vec<PrinterColumn> {
    if resource.custom {
        let mut columns = resource.printer_columns.clone();
        if columns.is_empty() {
            columns.push(column("Age", "date", ".metadata.creationTimestamp", 0));
        }
        return columns;
    }
    let age = column("Age", "string", "#age", 0);
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "secrets") => vec![
            column("Type", "string", ".type", 0),
            column("Data", "integer", "#data-count", 0),
            age,
        ],
        ("", "configmaps") => vec![column("Data", "integer", "#data-count", 0), age],
        // kubectl's event columns; the name comes last, and only with -o wide.
        ("", "events") => vec![
            column("Last Seen", "string", "#event-last-seen", 0),
            column("Type", "string", ".type", 0),
            column("Reason", "string", ".reason", 0),
            column("Object", "string", "#event-object", 0),
            column("Subobject", "string", ".involvedObject.fieldPath", 1),
            column("Source", "string", "#event-source", 1),
            column("Message", "string", ".message", 0),
            column("First Seen", "string", "#event-first-seen", 1),
            column("Count", "integer", "#event-count", 1),
            column("Name", "string", ".metadata.name", 1),
        ],
        ("", "namespaces") => vec![column("Status", "string", ".status.phase", 0), age],
        ("", "pods") => vec![column("Status", "string", ".status.phase", 0), age],
        ("", "services") => vec![
            column("Type", "string", ".spec.type", 0),
            column("Cluster-IP", "string", ".spec.clusterIP", 0),
            age,
        ],
        ("apps", "deployments") | ("apps", "statefulsets") | ("apps", "replicasets") => vec![
            column("Ready", "string", "#ready", 0),
            column("Up-to-date", "integer", ".status.updatedReplicas", 0),
            column("Available", "integer", ".status.availableReplicas", 0),
            age,
            column("Containers", "string", "#containers", 1),
            column("Images", "string", "#images", 1),
        ],
        _ => vec![age],
    }
}

/// Evaluates a simple JSONPath like `.spec.size` or `.status.conditions[0].type`.
pub fn evaluate_path(object: &Value, path: &str) -> Value {
    let mut current = object;
    for part in path
        .trim_start_matches('.')
        .split('.')
        .filter(|p| !p.is_empty())
    {
        let (field, index) = match part.split_once('[') {
            Some((f, rest)) => (f, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        current = &current[field];
        if let Some(i) = index {
            current = &current[i];
        }
    }
    current.clone()
}

/// Like Kubernetes' HumanDuration: `45s`, `3m20s`, `2h5m`, `3d4h`, `40d`.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 8 * 3600 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s if s < 8 * 86400 => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
        s => format!("{}d", s / 86400),
    }
}

fn age_of(object: &Value) -> String {
    since(&object["metadata"]["creationTimestamp"])
}

/// The time since the first of `candidates` that is a timestamp.
fn since_first(object: &Value, candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|path| evaluate_path(object, path))
        .find(Value::is_string)
        .map(|t| since(&t))
        .unwrap_or_else(|| age_of(object))
}

fn since(timestamp: &Value) -> String {
    let created = timestamp.as_str().unwrap_or_default();
    match created.parse::<k8s_openapi::jiff::Timestamp>() {
        Ok(t) => human_duration(k8s_openapi::jiff::Timestamp::now().as_second() - t.as_second()),
        Err(_) => "<unknown>".into(),
    }
}

fn containers(object: &Value) -> Vec<Value> {
    evaluate_path(object, ".spec.template.spec.containers")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn cell(object: &Value, column: &PrinterColumn, custom: bool) -> Value {
    match column.json_path.as_str() {
        "#age" => json!(age_of(object)),
        "#data-count" => {
            let data = object["data"].as_object().map(|m| m.len()).unwrap_or(0);
            let binary = object["binaryData"]
                .as_object()
                .map(|m| m.len())
                .unwrap_or(0);
            json!(data + binary)
        }
        "#ready" => json!(format!(
            "{}/{}",
            object["status"]["readyReplicas"].as_i64().unwrap_or(0),
            object["spec"]["replicas"].as_i64().unwrap_or(1)
        )),
        "#event-last-seen" => json!(since_first(
            object,
            &[".series.lastObservedTime", ".lastTimestamp", ".eventTime"]
        )),
        "#event-first-seen" => json!(since_first(object, &[".firstTimestamp", ".eventTime"])),
        "#event-object" => json!(format!(
            "{}/{}",
            object["involvedObject"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase(),
            object["involvedObject"]["name"]
                .as_str()
                .unwrap_or_default()
        )),
        "#event-source" => {
            let reporting = object["reportingComponent"].as_str().unwrap_or_default();
            let (component, host) = if reporting.is_empty() {
                (&object["source"]["component"], &object["source"]["host"])
            } else {
                (&object["reportingComponent"], &object["reportingInstance"])
            };
            let parts: Vec<&str> = [component, host]
                .iter()
                .filter_map(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .collect();
            json!(parts.join(", "))
        }
        "#event-count" => json!(
            object["series"]["count"]
                .as_i64()
                .or(object["count"].as_i64())
                .unwrap_or(1)
        ),
        "#containers" => json!(
            containers(object)
                .iter()
                .filter_map(|c| c["name"].as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
        "#images" => json!(
            containers(object)
                .iter()
                .filter_map(|c| c["image"].as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
        path => {
            let value = evaluate_path(object, path);
            match (column.type_.as_str(), &value) {
                ("date", Value::String(_)) if column.name == "Age" => json!(age_of(object)),
                // Built-in printers show unset counters as 0.
                ("integer", Value::Null) if !custom => json!(0),
                (_, Value::Null) => Value::Null,
                (_, v) => v.clone(),
            }
        }
    }
}

/// Renders objects as a Table; `include_object` is `None`, `Metadata` (default) or `Object`.
pub fn to_table(
    resource: &ResourceType,
    objects: &[Value],
    include_object: &str,
    list_metadata: Value,
) -> Value {
    let columns = columns_for(resource);
    let leads_with_name = !columns.iter().any(|c| c.name == "Name");
    let mut definitions = vec![];
    if leads_with_name {
        definitions.push(json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}));
    }
    definitions.extend(columns.iter().map(|c| {
        json!({"name": c.name, "type": c.type_, "format": "", "description": c.description, "priority": c.priority})
    }));
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut cells = vec![];
            if leads_with_name {
                cells.push(object["metadata"]["name"].clone());
            }
            cells.extend(columns.iter().map(|c| cell(object, c, resource.custom)));
            let mut row = json!({"cells": cells});
            match include_object {
                "None" => {}
                "Object" => row["object"] = object.clone(),
                _ => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": object["metadata"].clone()
                    })
                }
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_metadata,
        "columnDefinitions": definitions,
        "rows": rows
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtin_resources;

    #[test]
    fn human_duration_table() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (200, "3m20s"),
            (3000, "50m"),
            (4 * 3600 + 120, "4h2m"),
            (30 * 3600, "30h"),
            (3 * 86400 + 7200, "3d2h"),
            (40 * 86400, "40d"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(human_duration(seconds), expected, "{seconds}");
        }
    }

    #[test]
    fn json_path_evaluation() {
        let object = json!({"spec": {"size": 3, "list": [{"a": "x"}]}});
        assert_eq!(evaluate_path(&object, ".spec.size"), json!(3));
        assert_eq!(evaluate_path(&object, ".spec.list[0].a"), json!("x"));
        assert_eq!(evaluate_path(&object, ".spec.missing"), Value::Null);
    }

    #[test]
    fn configmap_table_counts_data() {
        let configmaps = builtin_resources()
            .into_iter()
            .find(|r| r.plural == "configmaps")
            .expect("cm");
        let object = json!({"metadata": {"name": "c", "creationTimestamp": "2020-01-01T00:00:00Z"}, "data": {"a": "1", "b": "2"}});
        let table = to_table(&configmaps, &[object], "Metadata", json!({}));
        assert_eq!(table["rows"][0]["cells"][0], "c");
        assert_eq!(table["rows"][0]["cells"][1], 2);
        assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(table["columnDefinitions"][1]["name"], "Data");
    }
}
