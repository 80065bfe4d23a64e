//! What the server does to an object on its way into storage: system metadata,
//! type-specific normalisation, and validation.

use base64::Engine;
use serde_json::{Value, json};

use crate::crd;
use crate::generation::next_generation;
use crate::object::{metadata_mut, new_uid, now_timestamp, random_suffix, remove_meta, set_meta};
use crate::resources::ResourceType;
use crate::status::ApiError;

/// Checks `apiVersion`/`kind` of a request body against the URL's resource.
pub fn check_type_meta(resource: &ResourceType, object: &mut Value) -> Result<(), ApiError> {
    let expected = resource.api_version();
    match object["apiVersion"].as_str() {
        None | Some("") => object["apiVersion"] = json!(expected),
        Some(v) if v == expected => {}
        Some(v) => {
            return Err(ApiError::BadRequest(format!(
                "the API version in the data ({v}) does not match the expected API version ({expected})"
            )));
        }
    }
    match object["kind"].as_str() {
        None | Some("") => object["kind"] = json!(resource.kind),
        Some(k) if k == resource.kind => {}
        Some(k) => {
            return Err(ApiError::BadRequest(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                resource.kind
            )));
        }
    }
    Ok(())
}

/// Rejects bodies whose well-known fields have the wrong JSON shape, as decoding into
/// the Go types fails on the real server (400).
pub fn check_decodable(resource: &ResourceType, object: &Value) -> Result<(), ApiError> {
    let is_map_or_absent = |v: &Value| v.is_null() || v.is_object();
    let maps: &[&str] = match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "secrets") => &["data", "stringData"],
        ("", "configmaps") => &["data", "binaryData"],
        _ => &[],
    };
    let bad_field = maps
        .iter()
        .map(|f| (f.to_string(), &object[*f]))
        .chain(
            ["labels", "annotations"]
                .iter()
                .map(|f| (format!("metadata.{f}"), &object["metadata"][*f])),
        )
        .chain(std::iter::once((
            "metadata".to_string(),
            &object["metadata"],
        )))
        .chain(
            ["spec", "status"]
                .iter()
                .map(|f| (f.to_string(), &object[*f])),
        )
        .find(|(_, value)| !is_map_or_absent(value));
    match bad_field {
        Some((field, _)) => Err(ApiError::BadRequest(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: field {field} must be an object",
            kind = resource.kind,
            version = resource.version
        ))),
        None => Ok(()),
    }
}

/// Fills the namespace from the URL, rejecting a different one in the body.
pub fn check_namespace(
    resource: &ResourceType,
    object: &mut Value,
    namespace: &str,
) -> Result<(), ApiError> {
    if !resource.namespaced {
        remove_meta(object, "namespace");
        return Ok(());
    }
    match object["metadata"]["namespace"].as_str() {
        Some(ns) if !ns.is_empty() && ns != namespace => Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
                .into(),
        )),
        _ => {
            set_meta(object, "namespace", json!(namespace));
            Ok(())
        }
    }
}

/// Resolves `generateName` into a name (the real server does it after mutating admission).
pub fn assign_name(resource: &ResourceType, object: &mut Value) -> Result<String, ApiError> {
    if let Some(name) = object["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
    {
        return Ok(name.to_string());
    }
    match object["metadata"]["generateName"]
        .as_str()
        .filter(|n| !n.is_empty())
    {
        Some(prefix) => {
            let name = format!("{prefix}{}", random_suffix());
            set_meta(object, "name", json!(name));
            Ok(name)
        }
        None => Err(ApiError::invalid(
            &resource.kind,
            &resource.group,
            "",
            "metadata.name",
            "Required value: name or generateName is required",
        )),
    }
}

/// System fields of a new object.
pub fn prepare_create(resource: &ResourceType, object: &mut Value) {
    let metadata = metadata_mut(object);
    metadata.insert("uid".into(), json!(new_uid()));
    metadata.insert("creationTimestamp".into(), json!(now_timestamp()));
    for field in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    ] {
        metadata.remove(field);
    }
    if resource.tracks_generation {
        metadata.insert("generation".into(), json!(1));
    } else {
        metadata.remove("generation");
    }
    if resource.has_status {
        if resource.custom {
            if let Some(map) = object.as_object_mut() {
                map.remove("status");
            }
        } else {
            object["status"] = json!({});
        }
    }
    normalize(resource, object);
}

/// An update keeps system metadata from the stored object; for types with a status
/// subresource, the main endpoint keeps the stored status and `/status` keeps all else.
pub fn prepare_update(
    resource: &ResourceType,
    old: &Value,
    candidate: Value,
    subresource: &str,
) -> Value {
    let mut new = if subresource == "status" {
        let mut new = old.clone();
        new["status"] = candidate["status"].clone();
        new
    } else {
        let mut new = candidate;
        if resource.has_status {
            match old.get("status") {
                Some(status) => new["status"] = status.clone(),
                None => {
                    if let Some(map) = new.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
        }
        new
    };
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "name",
        "namespace",
        "resourceVersion",
    ] {
        match old["metadata"].get(field) {
            Some(value) => set_meta(&mut new, field, value.clone()),
            None => remove_meta(&mut new, field),
        }
    }
    remove_meta(&mut new, "managedFields");
    match next_generation(resource, old, &new) {
        Some(generation) => set_meta(&mut new, "generation", json!(generation)),
        None => remove_meta(&mut new, "generation"),
    }
    if subresource.is_empty() {
        normalize(resource, &mut new);
    }
    new
}

/// Type-specific defaulting the real server does on write.
fn normalize(resource: &ResourceType, object: &mut Value) {
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "secrets") => {
            if let Some(string_data) = object.get("stringData").and_then(Value::as_object).cloned()
            {
                for (key, value) in string_data {
                    let encoded = base64::engine::general_purpose::STANDARD
                        .encode(value.as_str().unwrap_or_default());
                    object["data"][key] = json!(encoded);
                }
            }
            if let Some(map) = object.as_object_mut() {
                map.remove("stringData");
            }
            if object["type"].as_str().is_none_or(str::is_empty) {
                object["type"] = json!("Opaque");
            }
        }
        ("", "namespaces") => {
            let name = object["metadata"]["name"].clone();
            let labels = metadata_mut(object)
                .entry("labels")
                .or_insert_with(|| json!({}));
            if !labels.is_object() {
                *labels = json!({});
            }
            if let Some(labels) = labels.as_object_mut() {
                labels.insert("kubernetes.io/metadata.name".into(), name);
            }
            if !object["spec"].is_object() {
                object["spec"] = json!({});
            }
            if object["spec"]["finalizers"].is_null() {
                object["spec"]["finalizers"] = json!(["kubernetes"]);
            }
            if !object["status"].is_object() {
                object["status"] = json!({});
            }
            if object["status"]["phase"].is_null() {
                object["status"]["phase"] = json!("Active");
            }
        }
        ("apps", _)
            if object["spec"].is_object()
                && object["spec"]["replicas"].is_null()
                && resource.plural != "daemonsets" =>
        {
            object["spec"]["replicas"] = json!(1);
        }
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            // The real server's controllers accept names and establish the CRD within
            // moments; the simulator does it at write time.
            let names = object["spec"]["names"].clone();
            object["status"] = json!({
                "acceptedNames": names,
                "storedVersions": object["spec"]["versions"].as_array().into_iter().flatten()
                    .filter(|v| v["storage"].as_bool() == Some(true)).map(|v| v["name"].clone()).collect::<Vec<_>>(),
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now_timestamp()},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now_timestamp()}
                ]
            });
        }
        _ => {}
    }
}

fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_config_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

/// Validation of a new or updated object; `old` is set for updates.
pub fn validate(
    resource: &ResourceType,
    object: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let invalid = |field: &str, detail: &str| {
        ApiError::invalid(&resource.kind, &resource.group, name, field, detail)
    };
    if !is_dns_subdomain(name) {
        return Err(invalid(
            "metadata.name",
            &format!(
                "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
            ),
        ));
    }
    if matches!(resource.plural.as_str(), "secrets" | "configmaps") && resource.group.is_empty() {
        for field in ["data", "binaryData"] {
            for key in object[field].as_object().into_iter().flat_map(|m| m.keys()) {
                if !is_config_key(key) {
                    return Err(invalid(
                        &format!("{field}[{key}]"),
                        &format!(
                            "Invalid value: \"{key}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
                        ),
                    ));
                }
            }
        }
        if let Some(old) = old
            && old["immutable"].as_bool() == Some(true)
        {
            let same = ["data", "binaryData", "type"]
                .iter()
                .all(|f| old[*f] == object[*f]);
            if !same || object["immutable"].as_bool() != Some(true) {
                return Err(invalid(
                    "data",
                    "Forbidden: field is immutable when `immutable` is set",
                ));
            }
        }
    }
    if resource.custom
        && let Some(schema) = &resource.schema
    {
        let mut body = object.clone();
        if let Some(map) = body.as_object_mut() {
            map.remove("metadata");
        }
        let errors = crd::validate_against_schema(schema, &body);
        if let Some((field, detail)) = errors.first() {
            return Err(invalid(field, detail));
        }
    }
    if resource.group == "apiextensions.k8s.io" {
        crd::resource_types_of(object)
            .map_err(|crd::CrdError::Invalid { field, detail }| invalid(&field, &detail))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtin_resources;

    fn builtin(plural: &str) -> ResourceType {
        builtin_resources()
            .into_iter()
            .find(|r| r.plural == plural)
            .expect("builtin")
    }

    #[test]
    fn secret_string_data_is_folded_into_data() {
        let mut secret = json!({"metadata": {"name": "s"}, "stringData": {"password": "hunter2"}});
        prepare_create(&builtin("secrets"), &mut secret);
        assert_eq!(secret["data"]["password"], "aHVudGVyMg==");
        assert!(secret.get("stringData").is_none());
        assert_eq!(secret["type"], "Opaque");
    }

    #[test]
    fn create_sets_generation_only_for_tracked_types() {
        let mut deployment = json!({"metadata": {"name": "d", "generation": 7}, "spec": {}, "status": {"replicas": 3}});
        prepare_create(&builtin("deployments"), &mut deployment);
        assert_eq!(deployment["metadata"]["generation"], 1);
        assert_eq!(deployment["status"], json!({}));
        let mut configmap = json!({"metadata": {"name": "c", "generation": 7}});
        prepare_create(&builtin("configmaps"), &mut configmap);
        assert!(configmap["metadata"].get("generation").is_none());
    }

    #[test]
    fn main_endpoint_update_keeps_stored_status_and_status_endpoint_keeps_spec() {
        let deployments = builtin("deployments");
        let old = json!({"metadata": {"name": "d", "uid": "u", "generation": 1, "resourceVersion": "5"}, "spec": {"replicas": 1}, "status": {"readyReplicas": 0}});
        let candidate = json!({"metadata": {"name": "d"}, "spec": {"replicas": 2}, "status": {"readyReplicas": 9}});
        let main = prepare_update(&deployments, &old, candidate.clone(), "");
        assert_eq!(
            (
                main["spec"]["replicas"].clone(),
                main["status"]["readyReplicas"].clone()
            ),
            (json!(2), json!(0))
        );
        assert_eq!(main["metadata"]["generation"], 2);
        assert_eq!(main["metadata"]["uid"], "u");
        let status = prepare_update(&deployments, &old, candidate, "status");
        assert_eq!(
            (
                status["spec"]["replicas"].clone(),
                status["status"]["readyReplicas"].clone()
            ),
            (json!(1), json!(9))
        );
        assert_eq!(status["metadata"]["generation"], 1);
    }

    #[test]
    fn namespaces_get_their_name_label() {
        let mut namespace = json!({"metadata": {"name": "team-a"}});
        prepare_create(&builtin("namespaces"), &mut namespace);
        assert_eq!(
            namespace["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "team-a"
        );
        assert_eq!(namespace["status"]["phase"], "Active");
    }

    #[test]
    fn validation_table() {
        let cm = builtin("configmaps");
        let cases = [
            (
                "valid",
                json!({"metadata": {"name": "ok"}, "data": {"a.b": "1"}}),
                None,
                true,
            ),
            (
                "uppercase name",
                json!({"metadata": {"name": "Bad"}}),
                None,
                false,
            ),
            (
                "bad key",
                json!({"metadata": {"name": "ok"}, "data": {"a b": "1"}}),
                None,
                false,
            ),
            (
                "immutable data change",
                json!({"metadata": {"name": "ok"}, "immutable": true, "data": {"a": "2"}}),
                Some(json!({"metadata": {"name": "ok"}, "immutable": true, "data": {"a": "1"}})),
                false,
            ),
            (
                "immutable unchanged",
                json!({"metadata": {"name": "ok", "labels": {"x": "y"}}, "immutable": true, "data": {"a": "1"}}),
                Some(json!({"metadata": {"name": "ok"}, "immutable": true, "data": {"a": "1"}})),
                true,
            ),
        ];
        for (name, object, old, ok) in cases {
            assert_eq!(validate(&cm, &object, old.as_ref()).is_ok(), ok, "{name}");
        }
    }

    #[test]
    fn type_meta_mismatch_is_bad_request() {
        let mut object = json!({"apiVersion": "apps/v1beta1", "kind": "Deployment"});
        assert!(matches!(
            check_type_meta(&builtin("deployments"), &mut object),
            Err(ApiError::BadRequest(_))
        ));
        let mut object = json!({});
        check_type_meta(&builtin("deployments"), &mut object).expect("fills type meta");
        assert_eq!(object["apiVersion"], "apps/v1");
    }
}
