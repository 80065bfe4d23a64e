//! Server-side field validation (`fieldValidation=Strict|Warn|Ignore`, Warn when
//! unset): unknown fields are always dropped, as decoding into the Go types drops
//! them; Strict turns them into the real server's errors, Warn into warnings.

use serde_json::Value;

use crate::openapi::builtin::{OBJECT_META, catalog};
use crate::openapi::prune::{Dialect, Walker};
use crate::resources::ResourceType;
use crate::status::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    Strict,
    Warn,
    Ignore,
}

/// Parses `fieldValidation`; `options_kind` names the options type in the error.
pub fn directive(value: Option<&str>, options_kind: &str) -> Result<Directive, ApiError> {
    match value.unwrap_or_default() {
        "" | "Warn" => Ok(Directive::Warn),
        "Strict" => Ok(Directive::Strict),
        "Ignore" => Ok(Directive::Ignore),
        other => Err(ApiError::invalid_with_reason(
            options_kind,
            "meta.k8s.io",
            "",
            "fieldValidation",
            &format!(
                "Unsupported value: \"{other}\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
            ),
            "FieldValueNotSupported",
        )),
    }
}

/// Drops the fields `resource`'s schema does not declare and returns their paths:
/// for custom resources the ones under `metadata` first, as the real server lists them.
pub fn prune_unknown(resource: &ResourceType, object: &mut Value) -> Vec<String> {
    let catalog = catalog();
    let builtin = Walker {
        definitions: &catalog.definitions,
        dialect: Dialect::Builtin,
    };
    let mut unknown = Vec::new();
    if !resource.custom {
        if let Some(root) = catalog.root(&resource.group, &resource.plural)
            && let Some(schema) = catalog.definitions.get(root)
        {
            builtin.prune(schema, object, "", &mut unknown);
        }
        return unknown;
    }
    let Some(map) = object.as_object_mut() else {
        return unknown;
    };
    if let (Some(meta_schema), Some(metadata)) = (
        catalog.definitions.get(OBJECT_META),
        map.get_mut("metadata"),
    ) {
        builtin.prune(meta_schema, metadata, "metadata", &mut unknown);
    }
    let Some(schema) = &resource.schema else {
        return unknown;
    };
    let structural = Walker {
        definitions: &catalog.definitions,
        dialect: Dialect::Structural,
    };
    let type_meta = ["apiVersion", "kind", "metadata"];
    let mut body: Value = map
        .iter()
        .filter(|(k, _)| !type_meta.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    structural.prune(schema, &mut body, "", &mut unknown);
    map.retain(|k, _| type_meta.contains(&k.as_str()));
    if let Value::Object(kept) = body {
        map.extend(kept);
    }
    unknown
}

fn listed(unknown: &[String]) -> String {
    unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Warnings for Warn; the decoding error of a create or update body for Strict.
pub fn check_body(
    resource: &ResourceType,
    object: &mut Value,
    directive: Directive,
) -> Result<Vec<String>, ApiError> {
    let unknown = prune_unknown(resource, object);
    outcome(unknown, directive, |list| {
        ApiError::BadRequest(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {list}",
            kind = resource.kind,
            version = resource.version
        ))
    })
}

/// The same for the result of a JSON, merge or strategic merge patch: Strict answers
/// 422 naming the patched object, as the real server does.
pub fn check_patched(
    resource: &ResourceType,
    object: &mut Value,
    directive: Directive,
) -> Result<Vec<String>, ApiError> {
    let before = serde_json::to_string(object).unwrap_or_default();
    let unknown = prune_unknown(resource, object);
    outcome(unknown, directive, |list| {
        let quoted = serde_json::to_string(&before).unwrap_or_default();
        ApiError::invalid(
            "",
            "",
            "",
            "patch",
            &format!("Invalid value: {quoted}: strict decoding error: {list}"),
        )
    })
}

/// Server-side apply is typed: any undeclared field fails the request (500).
pub fn check_apply(resource: &ResourceType, name: &str, object: &Value) -> Result<(), ApiError> {
    let mut copy = object.clone();
    match prune_unknown(resource, &mut copy).first() {
        None => Ok(()),
        // The real answer carries no reason.
        Some(field) => Err(ApiError::Custom {
            code: 500,
            reason: String::new(),
            message: format!(
                "failed to create typed patch object (/{name}; {}, Kind={}): .{field}: field not declared in schema",
                resource.api_version(),
                resource.kind
            ),
        }),
    }
}

fn outcome(
    unknown: Vec<String>,
    directive: Directive,
    strict_error: impl FnOnce(String) -> ApiError,
) -> Result<Vec<String>, ApiError> {
    if unknown.is_empty() {
        return Ok(vec![]);
    }
    match directive {
        Directive::Ignore => Ok(vec![]),
        Directive::Warn => Ok(unknown
            .iter()
            .map(|f| format!("unknown field \"{f}\""))
            .collect()),
        Directive::Strict => Err(strict_error(listed(&unknown))),
    }
}
