//! Legacy discovery documents (`/api`, `/apis`, `/apis/{group}`, `/{prefix}/{gv}`) and `/version`.

use serde_json::{Value, json};

use crate::registry::Registry;
use crate::resources::ResourceType;

const RESOURCE_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

pub fn version_info() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-apiserver-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api`: the core group's versions.
pub fn core_api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_document(group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": versions,
        "preferredVersion": versions.first().cloned().unwrap_or(Value::Null)
    })
}

/// `/apis`: every named group.
pub fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, versions)| group_document(&g, &versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`, or `None` if the group is not served.
pub fn api_group(registry: &Registry, group: &str) -> Option<Value> {
    let (_, versions) = registry
        .groups()
        .into_iter()
        .find(|(g, _)| g == group && !g.is_empty())?;
    let mut document = group_document(group, &versions);
    document["kind"] = json!("APIGroup");
    document["apiVersion"] = json!("v1");
    Some(document)
}

fn resource_entry(r: &ResourceType) -> Value {
    let mut entry = json!({
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": RESOURCE_VERBS,
    });
    if !r.short_names.is_empty() {
        entry["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        entry["categories"] = json!(r.categories);
    }
    entry
}

/// `/api/v1` or `/apis/{group}/{version}`, or `None` if nothing is served there.
pub fn api_resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let resources: Vec<ResourceType> = registry
        .all()
        .into_iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if resources.is_empty() {
        return None;
    }
    let mut entries = Vec::new();
    for r in &resources {
        entries.push(resource_entry(r));
        if r.has_status {
            entries.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": STATUS_VERBS,
            }));
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": entries}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_resource_list_has_short_names_and_status_subresources() {
        let registry = Registry::new();
        let list = api_resource_list(&registry, "", "v1").expect("core served");
        let resources = list["resources"].as_array().expect("resources");
        let configmaps = resources
            .iter()
            .find(|r| r["name"] == "configmaps")
            .expect("configmaps");
        assert_eq!(configmaps["shortNames"], json!(["cm"]));
        assert_eq!(configmaps["namespaced"], json!(true));
        assert!(resources.iter().any(|r| r["name"] == "namespaces/status"));
        assert!(!resources.iter().any(|r| r["name"] == "secrets/status"));
    }

    #[test]
    fn group_list_excludes_core_and_names_preferred_version() {
        let list = api_group_list(&Registry::new());
        let groups = list["groups"].as_array().expect("groups");
        assert!(groups.iter().all(|g| g["name"] != ""));
        let apps = groups.iter().find(|g| g["name"] == "apps").expect("apps");
        assert_eq!(apps["preferredVersion"]["groupVersion"], "apps/v1");
    }

    #[test]
    fn unknown_group_and_version_are_absent() {
        let registry = Registry::new();
        assert!(api_group(&registry, "nope.io").is_none());
        assert!(api_resource_list(&registry, "apps", "v2").is_none());
        assert!(api_group(&registry, "apps").is_some());
    }

    #[test]
    fn deployments_are_in_category_all_with_every_verb() {
        let list = api_resource_list(&Registry::new(), "apps", "v1").expect("apps");
        let deployments = list["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["name"] == "deployments")
            .cloned()
            .expect("deployments");
        assert_eq!(deployments["categories"], json!(["all"]));
        assert_eq!(deployments["verbs"].as_array().map(Vec::len), Some(8));
    }
}
