//! The four PATCH flavours the API accepts, chosen by Content-Type.

pub mod strategic;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// The patch document itself is malformed (400).
    #[error("{0}")]
    Malformed(String),
    /// The patch is well formed but cannot be applied (422).
    #[error("{0}")]
    NotApplicable(String),
    /// The content type is not accepted for this resource (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
}

pub const ACCEPTED_PATCH_TYPES: &str = "application/json-patch+json, application/merge-patch+json, \
     application/strategic-merge-patch+json, application/apply-patch+yaml";

impl PatchType {
    pub fn from_content_type(content_type: &str) -> Option<PatchType> {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        match media {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" => Some(PatchType::Apply),
            _ => None,
        }
    }
}

fn parse_json(body: &[u8]) -> Result<Value, PatchError> {
    serde_json::from_slice(body)
        .map_err(|e| PatchError::Malformed(format!("error decoding patch: {e}")))
}

/// Parses an apply-patch body (YAML, of which JSON is a subset).
pub fn parse_apply_body(body: &[u8]) -> Result<Value, PatchError> {
    let value: Value = serde_yaml::from_slice(body)
        .map_err(|e| PatchError::Malformed(format!("error decoding YAML: {e}")))?;
    if !value.is_object() {
        return Err(PatchError::Malformed(
            "apply patch must be an object".into(),
        ));
    }
    Ok(value)
}

/// Applies a patch body to `original`. Custom resources do not support strategic merge.
pub fn apply_patch(
    patch_type: PatchType,
    original: &Value,
    body: &[u8],
    custom_resource: bool,
) -> Result<Value, PatchError> {
    match patch_type {
        PatchType::Json => {
            let patch: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| PatchError::Malformed(format!("error decoding patch: {e}")))?;
            let mut document = original.clone();
            json_patch::patch(&mut document, &patch).map_err(|e| PatchError::NotApplicable(e.to_string()))?;
            Ok(document)
        }
        PatchType::Merge => {
            let patch = parse_json(body)?;
            let mut document = original.clone();
            json_patch::merge(&mut document, &patch);
            Ok(document)
        }
        PatchType::Strategic if custom_resource => Err(PatchError::UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: \
             application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
                .into(),
        )),
        PatchType::Strategic => {
            let patch = parse_json(body)?;
            strategic::apply(original, &patch).map_err(|e| match e {
                strategic::StrategicMergeError::NotAnObject => PatchError::Malformed(e.to_string()),
                _ => PatchError::NotApplicable(e.to_string()),
            })
        }
        PatchType::Apply => {
            let applied = parse_apply_body(body)?;
            Ok(merge_applied_configuration(original, &applied, custom_resource))
        }
    }
}

/// Server-side apply without field ownership: the applied configuration is merged
/// over the live object (strategically for built-ins).
pub fn merge_applied_configuration(live: &Value, applied: &Value, custom_resource: bool) -> Value {
    if custom_resource {
        let mut document = live.clone();
        json_patch::merge(&mut document, applied);
        document
    } else {
        strategic::apply(live, applied).unwrap_or_else(|_| {
            let mut document = live.clone();
            json_patch::merge(&mut document, applied);
            document
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_types_map_to_patch_types() {
        let cases = [
            ("application/json-patch+json", Some(PatchType::Json)),
            (
                "application/merge-patch+json; charset=utf-8",
                Some(PatchType::Merge),
            ),
            (
                "application/strategic-merge-patch+json",
                Some(PatchType::Strategic),
            ),
            ("application/apply-patch+yaml", Some(PatchType::Apply)),
            ("application/json", None),
        ];
        for (content_type, expected) in cases {
            assert_eq!(
                PatchType::from_content_type(content_type),
                expected,
                "{content_type}"
            );
        }
    }

    #[test]
    fn failed_json_patch_test_is_not_applicable() {
        let body =
            br#"[{"op":"test","path":"/a","value":2},{"op":"replace","path":"/a","value":3}]"#;
        let result = apply_patch(PatchType::Json, &json!({"a": 1}), body, false);
        assert!(
            matches!(result, Err(PatchError::NotApplicable(_))),
            "{result:?}"
        );
    }

    #[test]
    fn json_patch_applies_in_order() {
        let body =
            br#"[{"op":"test","path":"/a","value":1},{"op":"replace","path":"/a","value":3}]"#;
        assert_eq!(
            apply_patch(PatchType::Json, &json!({"a": 1}), body, false),
            Ok(json!({"a": 3}))
        );
    }

    #[test]
    fn malformed_patch_is_bad_request() {
        let result = apply_patch(PatchType::Merge, &json!({}), b"{not json", false);
        assert!(matches!(result, Err(PatchError::Malformed(_))));
    }

    #[test]
    fn merge_patch_null_removes_and_lists_replace() {
        let body = br#"{"a":null,"l":[3]}"#;
        let result = apply_patch(
            PatchType::Merge,
            &json!({"a": 1, "b": 2, "l": [1, 2]}),
            body,
            false,
        );
        assert_eq!(result, Ok(json!({"b": 2, "l": [3]})));
    }

    #[test]
    fn strategic_merge_is_unsupported_for_custom_resources() {
        let result = apply_patch(PatchType::Strategic, &json!({}), b"{}", true);
        assert!(matches!(result, Err(PatchError::UnsupportedMediaType(_))));
    }

    #[test]
    fn apply_merges_yaml_configuration() {
        let body = b"spec:\n  replicas: 3\n";
        let result = apply_patch(
            PatchType::Apply,
            &json!({"spec": {"replicas": 1, "paused": false}}),
            body,
            false,
        );
        assert_eq!(
            result,
            Ok(json!({"spec": {"replicas": 3, "paused": false}}))
        );
    }
}
