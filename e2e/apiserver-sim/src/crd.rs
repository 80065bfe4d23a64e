//! CustomResourceDefinitions: turning one into served resource types, and checking
//! custom objects against its `openAPIV3Schema` (required fields, enums, basic types).

use serde_json::Value;

use crate::resources::{PrinterColumn, ResourceType};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CrdError {
    #[error("{field}: {detail}")]
    Invalid { field: String, detail: String },
}

fn invalid(field: &str, detail: &str) -> CrdError {
    CrdError::Invalid {
        field: field.into(),
        detail: detail.into(),
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The resource types a CRD serves, one per served version; errors mirror the
/// real validation of the fields the simulator relies on.
pub fn resource_types_of(crd: &Value) -> Result<Vec<ResourceType>, CrdError> {
    let name = str_at(crd, &["metadata", "name"]).unwrap_or_default();
    let group =
        str_at(crd, &["spec", "group"]).ok_or_else(|| invalid("spec.group", "Required value"))?;
    let plural = str_at(crd, &["spec", "names", "plural"])
        .ok_or_else(|| invalid("spec.names.plural", "Required value"))?;
    let kind = str_at(crd, &["spec", "names", "kind"])
        .ok_or_else(|| invalid("spec.names.kind", "Required value"))?;
    if name != format!("{plural}.{group}") {
        return Err(invalid(
            "metadata.name",
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    let namespaced = match str_at(crd, &["spec", "scope"]) {
        Some("Namespaced") => true,
        Some("Cluster") => false,
        _ => {
            return Err(invalid(
                "spec.scope",
                "Unsupported value: must be Cluster or Namespaced",
            ));
        }
    };
    let versions = crd["spec"]["versions"].as_array().filter(|v| !v.is_empty());
    let versions = versions.ok_or_else(|| invalid("spec.versions", "Required value"))?;
    let names = &crd["spec"]["names"];
    let singular = names["singular"]
        .as_str()
        .map(String::from)
        .unwrap_or(kind.to_lowercase());
    let list_kind = names["listKind"]
        .as_str()
        .map(String::from)
        .unwrap_or(format!("{kind}List"));
    let mut types = Vec::new();
    for (index, version) in versions.iter().enumerate() {
        let version_name = version["name"]
            .as_str()
            .ok_or_else(|| invalid(&format!("spec.versions[{index}].name"), "Required value"))?;
        if !version["served"].as_bool().unwrap_or(false) {
            continue;
        }
        let subresources = &version["subresources"];
        types.push(ResourceType {
            group: group.into(),
            version: version_name.into(),
            plural: plural.into(),
            singular: singular.clone(),
            kind: kind.into(),
            list_kind: list_kind.clone(),
            namespaced,
            short_names: strings(names.get("shortNames")),
            categories: strings(names.get("categories")),
            has_status: subresources.get("status").is_some(),
            has_scale: subresources.get("scale").is_some(),
            tracks_generation: true,
            custom: true,
            schema: version["schema"].get("openAPIV3Schema").cloned(),
            printer_columns: printer_columns(version),
        });
    }
    Ok(types)
}

fn printer_columns(version: &Value) -> Vec<PrinterColumn> {
    let Some(columns) = version["additionalPrinterColumns"].as_array() else {
        return vec![];
    };
    columns
        .iter()
        .filter_map(|c| {
            Some(PrinterColumn {
                name: c["name"].as_str()?.into(),
                type_: c["type"].as_str().unwrap_or("string").into(),
                json_path: c["jsonPath"].as_str()?.into(),
                priority: c["priority"].as_i64().unwrap_or(0),
                description: c["description"].as_str().unwrap_or_default().into(),
            })
        })
        .collect()
}

/// Checks `object` against an OpenAPI v3 schema: required properties, enums and
/// JSON types, recursively. Returns every violation as (field path, detail).
pub fn validate_against_schema(schema: &Value, object: &Value) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    check(schema, object, "", &mut errors);
    errors
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<(String, String)>) {
    if schema["x-kubernetes-preserve-unknown-fields"].as_bool() == Some(true)
        && schema.get("properties").is_none()
    {
        return;
    }
    if value.is_null() {
        return;
    }
    if let Some(expected) = schema["type"].as_str()
        && !type_matches(expected, value, schema)
    {
        errors.push((
            path.to_string(),
            format!(
                "Invalid value: \"{}\": {path} in body must be of type {expected}",
                json_type(value)
            ),
        ));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
        errors.push((
            path.to_string(),
            format!(
                "Unsupported value: {value}: supported values: {}",
                list.join(", ")
            ),
        ));
    }
    if let Some(object) = value.as_object() {
        for required in strings(schema.get("required")) {
            if !object.contains_key(&required) {
                errors.push((join(path, &required), "Required value".into()));
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (key, sub) in properties {
                if let Some(child) = object.get(key) {
                    check(sub, child, &join(path, key), errors);
                }
            }
        }
        if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            for (key, child) in object {
                check(additional, child, &join(path, key), errors);
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, child) in array.iter().enumerate() {
            check(items, child, &format!("{path}[{i}]"), errors);
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn type_matches(expected: &str, value: &Value, schema: &Value) -> bool {
    let int_or_string = schema["x-kubernetes-int-or-string"].as_bool() == Some(true);
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string() || (int_or_string && value.is_i64()),
        "integer" => value.is_i64() || value.is_u64() || (int_or_string && value.is_string()),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn widget_crd() -> Value {
        json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wdg"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true,
                     "subresources": {"status": {}},
                     "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                     "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                        "spec": {"type": "object", "required": ["size"], "properties": {
                            "size": {"type": "integer"},
                            "color": {"type": "string", "enum": ["red", "blue"]}}}}}}},
                    {"name": "v0", "served": false, "storage": false}
                ]
            }
        })
    }

    #[test]
    fn served_versions_become_resource_types() {
        let types = resource_types_of(&widget_crd()).expect("valid crd");
        assert_eq!(types.len(), 1);
        let t = &types[0];
        assert_eq!(
            (t.group.as_str(), t.version.as_str(), t.plural.as_str()),
            ("example.com", "v1", "widgets")
        );
        assert!(t.namespaced && t.has_status && t.custom && t.tracks_generation);
        assert_eq!(t.short_names, vec!["wdg".to_string()]);
        assert_eq!(t.printer_columns[0].json_path, ".spec.size");
        assert_eq!(t.list_kind, "WidgetList");
    }

    #[test]
    fn crd_name_must_match_plural_and_group() {
        let mut crd = widget_crd();
        crd["metadata"]["name"] = json!("gadgets.example.com");
        assert!(
            matches!(resource_types_of(&crd), Err(CrdError::Invalid { field, .. }) if field == "metadata.name")
        );
    }

    #[test]
    fn unknown_scope_is_rejected() {
        let mut crd = widget_crd();
        crd["spec"]["scope"] = json!("Galactic");
        assert!(resource_types_of(&crd).is_err());
    }

    #[test]
    fn schema_checks() {
        let types = resource_types_of(&widget_crd()).expect("valid crd");
        let schema = types[0].schema.clone().expect("schema");
        let cases = [
            (
                "valid object",
                json!({"spec": {"size": 3, "color": "red"}}),
                vec![],
            ),
            (
                "missing required",
                json!({"spec": {"color": "red"}}),
                vec!["spec.size"],
            ),
            (
                "enum violation",
                json!({"spec": {"size": 1, "color": "green"}}),
                vec!["spec.color"],
            ),
            (
                "wrong type",
                json!({"spec": {"size": "big"}}),
                vec!["spec.size"],
            ),
        ];
        for (name, object, expected_fields) in cases {
            let fields: Vec<String> = validate_against_schema(&schema, &object)
                .into_iter()
                .map(|(f, _)| f)
                .collect();
            assert_eq!(fields, expected_fields, "{name}");
        }
    }
}
