//! Optional stand-in for the workload controllers (`--simulate-rollouts`): once a
//! workload's generation moves, its status reports that generation fully rolled out,
//! so `kubectl rollout status` completes. Off by default: without it nothing but
//! clients writes status, as in a cluster without controllers.

use serde_json::{Value, json};

use crate::resources::ResourceType;

/// The status a settled rollout of `object` would have, or `None` if the type is not
/// a workload or the status already reflects the current generation.
pub fn settled_status(resource: &ResourceType, object: &Value) -> Option<Value> {
    if resource.group != "apps" {
        return None;
    }
    let generation = object["metadata"]["generation"].as_i64()?;
    if object["status"]["observedGeneration"].as_i64() == Some(generation) {
        return None;
    }
    let replicas = object["spec"]["replicas"].as_i64().unwrap_or(1);
    let revision = format!(
        "{}-{generation}",
        object["metadata"]["name"].as_str().unwrap_or_default()
    );
    match resource.plural.as_str() {
        "deployments" | "replicasets" => Some(json!({
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "rollout simulated"}
            ]
        })),
        "statefulsets" => Some(json!({
            "observedGeneration": generation,
            "replicas": replicas,
            "readyReplicas": replicas,
            "currentReplicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": replicas,
            "currentRevision": revision,
            "updateRevision": revision
        })),
        "daemonsets" => Some(json!({
            "observedGeneration": generation,
            "currentNumberScheduled": 1,
            "desiredNumberScheduled": 1,
            "numberReady": 1,
            "numberAvailable": 1,
            "updatedNumberScheduled": 1,
            "numberMisscheduled": 0
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtin_resources;

    fn resource(plural: &str) -> ResourceType {
        builtin_resources()
            .into_iter()
            .find(|r| r.plural == plural)
            .expect("builtin")
    }

    #[test]
    fn settled_status_table() {
        let unobserved = json!({"metadata": {"name": "w", "generation": 3}, "spec": {"replicas": 2}, "status": {}});
        let observed = json!({"metadata": {"name": "w", "generation": 3}, "spec": {"replicas": 2}, "status": {"observedGeneration": 3}});
        let cases = [
            (
                "deployment catches up",
                resource("deployments"),
                unobserved.clone(),
                Some(2),
            ),
            ("already observed", resource("deployments"), observed, None),
            (
                "statefulset catches up",
                resource("statefulsets"),
                unobserved.clone(),
                Some(2),
            ),
            (
                "configmaps are not workloads",
                resource("configmaps"),
                unobserved,
                None,
            ),
        ];
        for (name, resource, object, ready) in cases {
            let status = settled_status(&resource, &object);
            assert_eq!(
                status.map(|s| s["readyReplicas"].as_i64().unwrap_or(-1)),
                ready,
                "{name}"
            );
        }
    }
}
