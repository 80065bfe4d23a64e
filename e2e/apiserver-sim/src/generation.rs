//! When `metadata.generation` moves: only when the desired state changes, as the real
//! registry strategies decide it. For a Deployment (and only for it) kube-apiserver counts
//! its metadata annotations as desired state too (`pkg/registry/apps/deployment`).

use serde_json::Value;

use crate::resources::ResourceType;

/// The part of an object whose change means "new desired state" for this type.
fn desired_state(resource: &ResourceType, object: &Value) -> Value {
    if resource.custom {
        let mut copy = object.clone();
        if let Some(map) = copy.as_object_mut() {
            map.remove("metadata");
            map.remove("apiVersion");
            map.remove("kind");
            if resource.has_status {
                map.remove("status");
            }
        }
        return copy;
    }
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("admissionregistration.k8s.io", _) => object["webhooks"].clone(),
        ("apps", "deployments") => {
            serde_json::json!([object["spec"], object["metadata"]["annotations"]])
        }
        _ => object["spec"].clone(),
    }
}

/// The generation an updated object should carry, or `None` for types without one.
pub fn next_generation(resource: &ResourceType, old: &Value, new: &Value) -> Option<i64> {
    if !resource.tracks_generation {
        return None;
    }
    let current = old["metadata"]["generation"].as_i64().unwrap_or(1);
    if desired_state(resource, old) != desired_state(resource, new) {
        Some(current + 1)
    } else {
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtin_resources;
    use serde_json::json;

    fn builtin(plural: &str) -> ResourceType {
        builtin_resources()
            .into_iter()
            .find(|r| r.plural == plural)
            .expect("builtin")
    }

    fn custom(has_status: bool) -> ResourceType {
        ResourceType {
            custom: true,
            has_status,
            ..builtin("deployments")
        }
    }

    fn deployment(image: &str, replicas_ready: i64, label: &str) -> Value {
        annotated(image, replicas_ready, label, "a")
    }

    fn annotated(image: &str, replicas_ready: i64, label: &str, note: &str) -> Value {
        json!({
            "metadata": {"generation": 4, "labels": {"l": label}, "annotations": {"note": note}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}},
            "status": {"readyReplicas": replicas_ready}
        })
    }

    #[test]
    fn generation_table() {
        let cases = [
            (
                "deployment spec change bumps",
                builtin("deployments"),
                deployment("a", 1, "x"),
                deployment("b", 1, "x"),
                Some(5),
            ),
            (
                "deployment status change keeps",
                builtin("deployments"),
                deployment("a", 1, "x"),
                deployment("a", 2, "x"),
                Some(4),
            ),
            (
                "deployment label change keeps",
                builtin("deployments"),
                deployment("a", 1, "x"),
                deployment("a", 1, "y"),
                Some(4),
            ),
            (
                "deployment annotation change bumps, as kube-apiserver does",
                builtin("deployments"),
                annotated("a", 1, "x", "a"),
                annotated("a", 1, "x", "b"),
                Some(5),
            ),
            (
                "statefulset annotation change keeps",
                builtin("statefulsets"),
                annotated("a", 1, "x", "a"),
                annotated("a", 1, "x", "b"),
                Some(4),
            ),
            (
                "configmap has no generation",
                builtin("configmaps"),
                json!({"data": {"a": "1"}}),
                json!({"data": {"a": "2"}}),
                None,
            ),
            (
                "custom with status: spec bumps",
                custom(true),
                deployment("a", 1, "x"),
                deployment("b", 1, "x"),
                Some(5),
            ),
            (
                "custom with status: status keeps",
                custom(true),
                deployment("a", 1, "x"),
                deployment("a", 3, "x"),
                Some(4),
            ),
            (
                "custom without status: status bumps",
                custom(false),
                deployment("a", 1, "x"),
                deployment("a", 3, "x"),
                Some(5),
            ),
            (
                "webhook configuration webhooks bump",
                builtin("validatingwebhookconfigurations"),
                json!({"metadata": {"generation": 1}, "webhooks": []}),
                json!({"metadata": {"generation": 1}, "webhooks": [{"name": "a"}]}),
                Some(2),
            ),
        ];
        for (name, resource, old, new, expected) in cases {
            assert_eq!(next_generation(&resource, &old, &new), expected, "{name}");
        }
    }
}
