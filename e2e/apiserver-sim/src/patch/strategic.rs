//! Strategic merge patch, scoped to the fields Kubernetes workloads use: maps merge
//! recursively, lists with a merge key merge item by item, other lists are replaced,
//! and the `$patch`, `$retainKeys`, `$setElementOrder` and `$deleteFromPrimitiveList`
//! directives are honoured.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StrategicMergeError {
    #[error("strategic merge patch must be a JSON object")]
    NotAnObject,
    #[error("unknown $patch directive {0:?}")]
    UnknownDirective(String),
    #[error("list item in {field} lacks merge key {key}")]
    MissingMergeKey { field: String, key: String },
}

/// The merge key of a list field, chosen by field name (and, for `ports`, by item shape:
/// container ports merge on containerPort, service ports on port).
pub fn merge_key(field: &str, sample_items: &[&Value]) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "ports" => {
            if sample_items
                .iter()
                .any(|i| i.get("containerPort").is_some())
            {
                Some("containerPort")
            } else {
                Some("port")
            }
        }
        "conditions" => Some("type"),
        "ownerReferences" => Some("uid"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        _ => None,
    }
}

/// Lists of scalars that merge as sets instead of being replaced.
fn merges_as_set(field: &str) -> bool {
    field == "finalizers"
}

/// Applies `patch` to `original`, returning the result.
pub fn apply(original: &Value, patch: &Value) -> Result<Value, StrategicMergeError> {
    let patch = patch.as_object().ok_or(StrategicMergeError::NotAnObject)?;
    let original = original.as_object().cloned().unwrap_or_default();
    merge_map(original, patch).map(|m| m.map(Value::Object).unwrap_or(Value::Null))
}

/// Merges a patch map into a map; `None` means the map itself is deleted.
fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<Option<Map<String, Value>>, StrategicMergeError> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("delete") => return Ok(None),
        Some("replace") => return Ok(Some(strip_directives(patch))),
        Some("merge") | None => {}
        Some(other) => return Err(StrategicMergeError::UnknownDirective(other.into())),
    }
    for (field, value) in patch {
        if let Some(list_field) = field.strip_prefix("$deleteFromPrimitiveList/") {
            let remove: Vec<&Value> = value
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            if let Some(Value::Array(items)) = original.get_mut(list_field) {
                items.retain(|item| !remove.contains(&item));
            }
            continue;
        }
        if field.starts_with('$') {
            continue;
        }
        match value {
            Value::Null => {
                original.remove(field);
            }
            Value::Object(patch_map) => {
                let base = match original.remove(field) {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                if let Some(merged) = merge_map(base, patch_map)? {
                    original.insert(field.clone(), Value::Object(merged));
                }
            }
            Value::Array(patch_items) => {
                let base = match original.remove(field) {
                    Some(Value::Array(items)) => items,
                    _ => vec![],
                };
                let merged = merge_list(field, base, patch_items)?;
                original.insert(field.clone(), Value::Array(merged));
            }
            scalar => {
                original.insert(field.clone(), scalar.clone());
            }
        }
    }
    if let Some(retain) = patch.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = retain.iter().filter_map(Value::as_str).collect();
        original.retain(|k, _| keep.contains(&k.as_str()));
    }
    Ok(Some(original))
}

fn merge_list(
    field: &str,
    original: Vec<Value>,
    patch: &[Value],
) -> Result<Vec<Value>, StrategicMergeError> {
    if patch
        .iter()
        .any(|item| item.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        return Ok(patch
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .map(strip_value)
            .collect());
    }
    if merges_as_set(field) {
        let mut merged = original;
        for item in patch {
            if !merged.contains(item) {
                merged.push(item.clone());
            }
        }
        return Ok(merged);
    }
    let samples: Vec<&Value> = original.iter().chain(patch.iter()).collect();
    let Some(key) = merge_key(field, &samples) else {
        return Ok(patch.iter().map(strip_value).collect());
    };
    if !patch.iter().chain(original.iter()).all(Value::is_object) {
        return Ok(patch.to_vec());
    }
    let mut merged = original;
    for item in patch {
        let Some(key_value) = item.get(key) else {
            return Err(StrategicMergeError::MissingMergeKey {
                field: field.into(),
                key: key.into(),
            });
        };
        let position = merged.iter().position(|m| m.get(key) == Some(key_value));
        let deleting = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (position, deleting) {
            (Some(i), true) => {
                merged.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => {
                let base = merged[i].as_object().cloned().unwrap_or_default();
                let patch_map = item.as_object().cloned().unwrap_or_default();
                match merge_map(base, &patch_map)? {
                    Some(m) => merged[i] = Value::Object(m),
                    None => {
                        merged.remove(i);
                    }
                }
            }
            (None, false) => merged.push(strip_value(item)),
        }
    }
    Ok(merged)
}

fn strip_directives(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(k, _)| !k.starts_with('$'))
        .map(|(k, v)| (k.clone(), strip_value(v)))
        .collect()
}

/// Removes directive keys (and nulls, which mean "absent" in a patch) from new content.
fn strip_value(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
                .map(|(k, v)| (k.clone(), strip_value(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_value).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_spec() -> Value {
        json!({"spec": {"template": {"spec": {
            "containers": [
                {"name": "app", "image": "app:1",
                 "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                 "ports": [{"containerPort": 80, "protocol": "TCP"}],
                 "volumeMounts": [{"mountPath": "/etc/cfg", "name": "cfg"}]},
                {"name": "sidecar", "image": "side:1"}
            ],
            "volumes": [{"name": "cfg", "configMap": {"name": "c"}}]
        }}}})
    }

    #[test]
    fn strategic_merge_table() {
        let cases: Vec<(&str, Value, Value, Value)> = vec![
            (
                "map fields merge and null deletes",
                json!({"a": 1, "b": {"c": 2, "d": 3}}),
                json!({"b": {"c": null, "e": 4}}),
                json!({"a": 1, "b": {"d": 3, "e": 4}}),
            ),
            (
                "lists without merge key are replaced",
                json!({"args": ["a", "b"]}),
                json!({"args": ["c"]}),
                json!({"args": ["c"]}),
            ),
            (
                "finalizers merge as a set",
                json!({"metadata": {"finalizers": ["a"]}}),
                json!({"metadata": {"finalizers": ["b", "a"]}}),
                json!({"metadata": {"finalizers": ["a", "b"]}}),
            ),
            (
                "delete from primitive list",
                json!({"metadata": {"finalizers": ["a", "b"]}}),
                json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
                json!({"metadata": {"finalizers": ["b"]}}),
            ),
            (
                "map $patch replace",
                json!({"m": {"a": 1, "b": 2}}),
                json!({"m": {"$patch": "replace", "c": 3}}),
                json!({"m": {"c": 3}}),
            ),
            (
                "map $patch delete",
                json!({"m": {"a": 1}, "n": 1}),
                json!({"m": {"$patch": "delete"}}),
                json!({"n": 1}),
            ),
            (
                "retainKeys drops unlisted keys",
                json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}),
                json!({"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}),
                json!({"strategy": {"type": "Recreate"}}),
            ),
        ];
        for (name, original, patch, expected) in cases {
            assert_eq!(apply(&original, &patch).expect(name), expected, "{name}");
        }
    }

    #[test]
    fn env_merges_by_name_inside_container_merged_by_name() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}]}
        ]}}}});
        let result = apply(&pod_spec(), &patch).expect("merge");
        let containers = &result["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().map(Vec::len), Some(2), "sidecar kept");
        assert_eq!(containers[0]["image"], "app:1");
        assert_eq!(
            containers[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}])
        );
    }

    #[test]
    fn patch_delete_removes_list_item_by_key() {
        let patch = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "sidecar", "$patch": "delete"}],
            "volumes": [{"name": "cfg", "$patch": "delete"}]
        }}}});
        let result = apply(&pod_spec(), &patch).expect("merge");
        let spec = &result["spec"]["template"]["spec"];
        assert_eq!(spec["containers"].as_array().map(Vec::len), Some(1));
        assert_eq!(spec["containers"][0]["name"], "app");
        assert_eq!(spec["volumes"], json!([]));
    }

    #[test]
    fn list_patch_replace_replaces_whole_list() {
        let patch = json!({"spec": {"template": {"spec": {
            "volumes": [{"$patch": "replace"}, {"name": "other", "emptyDir": {}}]
        }}}});
        let result = apply(&pod_spec(), &patch).expect("merge");
        assert_eq!(
            result["spec"]["template"]["spec"]["volumes"],
            json!([{"name": "other", "emptyDir": {}}])
        );
    }

    #[test]
    fn ports_merge_on_container_port_and_mounts_on_mount_path() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app",
            "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
            "volumeMounts": [{"mountPath": "/etc/cfg", "readOnly": true}]}]}}}});
        let result = apply(&pod_spec(), &patch).expect("merge");
        let app = &result["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            app["ports"],
            json!([{"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 443}])
        );
        assert_eq!(
            app["volumeMounts"],
            json!([{"mountPath": "/etc/cfg", "name": "cfg", "readOnly": true}])
        );
    }

    #[test]
    fn set_element_order_directives_are_ignored() {
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
            "containers": [{"name": "app", "image": "app:2"}]}}}});
        let result = apply(&pod_spec(), &patch).expect("merge");
        assert_eq!(
            result["spec"]["template"]["spec"]["containers"][0]["image"],
            "app:2"
        );
        assert!(
            result["spec"]["template"]["spec"]
                .get("$setElementOrder/containers")
                .is_none()
        );
    }

    #[test]
    fn unknown_directive_and_missing_key_are_errors() {
        assert!(apply(&json!({}), &json!({"$patch": "explode"})).is_err());
        let missing = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        assert!(matches!(
            apply(&pod_spec(), &missing),
            Err(StrategicMergeError::MissingMergeKey { .. })
        ));
        assert_eq!(
            apply(&json!({}), &json!([1])),
            Err(StrategicMergeError::NotAnObject)
        );
    }
}
