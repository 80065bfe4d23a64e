//! The OpenAPI v3 documents: the root (`/openapi/v3`, one entry per group-version)
//! and each group-version's document, with the operations kubectl looks for (a PATCH
//! per kind that takes `fieldValidation`) and the schemas of the kinds served there,
//! built-in or from a CRD's `openAPIV3Schema`.

use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Map, Value, json};

use super::builtin::{OBJECT_META, PATCH, STATUS, catalog};
use crate::registry::Registry;
use crate::resources::ResourceType;

const REF_PREFIX: &str = "#/components/schemas/";

/// `api/v1` or `apis/{group}/{version}`.
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn served_in<'a>(types: &'a [ResourceType], group: &str, version: &str) -> Vec<&'a ResourceType> {
    types
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect()
}

/// The root document; each URL carries a hash of what its document depends on.
pub fn root(registry: &Registry) -> Value {
    let types = registry.all();
    let mut paths = Map::new();
    for (group, versions) in registry.groups() {
        for version in versions {
            let mut hasher = DefaultHasher::new();
            format!("{:?}", served_in(&types, &group, &version)).hash(&mut hasher);
            let path = gv_path(&group, &version);
            let url = format!("/openapi/v3/{path}?hash={:016X}", hasher.finish());
            paths.insert(path, json!({"serverRelativeURL": url}));
        }
    }
    json!({"paths": paths})
}

/// The schema name kube-apiserver gives a custom resource: `com.example.v1.Widget`.
fn custom_schema_name(resource: &ResourceType) -> String {
    let reversed: Vec<&str> = resource.group.split('.').rev().collect();
    format!(
        "{}.{}.{}",
        reversed.join("."),
        resource.version,
        resource.kind
    )
}

fn gvk(resource: &ResourceType) -> Value {
    json!({"group": resource.group, "version": resource.version, "kind": resource.kind})
}

/// The root schema of one kind, with its `x-kubernetes-group-version-kind`.
fn kind_schema(resource: &ResourceType) -> Option<(String, Value)> {
    let (name, mut schema) = if resource.custom {
        let mut schema = resource
            .schema
            .clone()
            .unwrap_or_else(|| json!({"type": "object"}));
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut all = Map::new();
        all.insert("apiVersion".into(), json!({"type": "string"}));
        all.insert("kind".into(), json!({"type": "string"}));
        all.insert(
            "metadata".into(),
            json!({"$ref": format!("{REF_PREFIX}{OBJECT_META}")}),
        );
        all.extend(properties);
        schema["type"] = json!("object");
        schema["properties"] = Value::Object(all);
        (custom_schema_name(resource), schema)
    } else {
        let catalog = catalog();
        let name = catalog.root(&resource.group, &resource.plural)?;
        (name.to_string(), catalog.definitions.get(name)?.clone())
    };
    schema["x-kubernetes-group-version-kind"] = json!([gvk(resource)]);
    Some((name, schema))
}

fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(target) = map.get("$ref").and_then(Value::as_str) {
                out.push(target.trim_start_matches(REF_PREFIX).to_string());
            }
            map.values().for_each(|v| references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// Adds every definition reachable from `schemas` to it.
fn close_over_references(schemas: &mut Map<String, Value>) {
    let definitions = &catalog().definitions;
    let mut pending: Vec<String> = Vec::new();
    schemas.values().for_each(|s| references(s, &mut pending));
    pending.extend([STATUS.to_string(), PATCH.to_string()]);
    let mut seen: BTreeSet<String> = schemas.keys().cloned().collect();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(definition) = definitions.get(&name) {
            references(definition, &mut pending);
            schemas.insert(name, definition.clone());
        }
    }
}

fn query(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .map(|n| json!({"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": true}}))
        .collect()
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}})
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("{REF_PREFIX}{name}")})
}

fn operation(
    resource: &ResourceType,
    action: &str,
    params: &[&str],
    body: &[&str],
    reply: &str,
) -> Value {
    let body_schema = if action == "patch" { PATCH } else { reply };
    let mut op = json!({
        "operationId": format!("{action}{}", resource.kind),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(resource),
        "parameters": query(params),
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": schema_ref(reply)}}},
                      "401": {"description": "Unauthorized"}},
    });
    if !body.is_empty() {
        let content: Map<String, Value> = body
            .iter()
            .map(|t| (t.to_string(), json!({"schema": schema_ref(body_schema)})))
            .collect();
        op["requestBody"] = json!({"content": content, "required": true});
    }
    op
}

/// Strategic merge patch is not listed: kubectl then computes its patches from its
/// compiled-in types, which the simulator's merge keys follow.
const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];
const WRITE_PARAMS: &[&str] = &["dryRun", "fieldManager", "fieldValidation", "pretty"];
const PATCH_PARAMS: &[&str] = &[
    "dryRun",
    "fieldManager",
    "fieldValidation",
    "force",
    "pretty",
];

fn paths_of(resource: &ResourceType, kind_name: &str, paths: &mut Map<String, Value>) {
    let base = format!("/{}", gv_path(&resource.group, &resource.version));
    let scope = if resource.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let collection = format!("{base}{scope}/{}", resource.plural);
    let mut common = vec![];
    if resource.namespaced {
        common.push(path_param("namespace"));
    }
    let json = &["application/json", "application/yaml"];
    paths.insert(
        collection.clone(),
        json!({
            "get": operation(resource, "list", &["labelSelector", "fieldSelector", "limit", "continue", "watch"], &[], kind_name),
            "post": operation(resource, "post", WRITE_PARAMS, json, kind_name),
            "parameters": common.clone(),
        }),
    );
    common.push(path_param("name"));
    let item = |actions: &[&str]| {
        let mut entry = json!({"parameters": common.clone()});
        for action in actions {
            let (method, op) = match *action {
                "get" => ("get", operation(resource, "get", &[], &[], kind_name)),
                "put" => (
                    "put",
                    operation(resource, "put", WRITE_PARAMS, json, kind_name),
                ),
                "patch" => (
                    "patch",
                    operation(resource, "patch", PATCH_PARAMS, PATCH_TYPES, kind_name),
                ),
                _ => (
                    "delete",
                    operation(resource, "delete", &["dryRun"], &[], STATUS),
                ),
            };
            entry[method] = op;
        }
        entry
    };
    paths.insert(
        format!("{collection}/{{name}}"),
        item(&["get", "put", "patch", "delete"]),
    );
    if resource.has_status {
        paths.insert(
            format!("{collection}/{{name}}/status"),
            item(&["get", "put", "patch"]),
        );
    }
}

/// The document of one group-version, or None when nothing is served there.
pub fn group_version(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types = registry.all();
    let served = served_in(&types, group, version);
    if served.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for resource in served {
        if let Some((name, schema)) = kind_schema(resource) {
            paths_of(resource, &name, &mut paths);
            schemas.insert(name, schema);
        }
    }
    close_over_references(&mut schemas);
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": crate::discovery::version_info()["gitVersion"].clone()},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}
