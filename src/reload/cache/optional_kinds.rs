//! Caches of the optional kinds (Argo Rollouts, OpenShift DeploymentConfigs) as
//! `DynamicObject`s, pruned like the typed kinds: only metadata, and of the spec only the pod
//! template (itself pruned) or a Rollout's `workloadRef`.

use std::collections::HashSet;
use std::future::Future;

use futures::StreamExt;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store, store::Writer};
use kube::runtime::watcher;
use serde_json::{Map, Value};

use super::{Relist, Scope, SharedIndex, apply_event, prune_meta, prune_template};
use crate::reload::apply::api_resource;
use crate::reload::discovery::{self, Detect};
use reloader_core::untyped;
use reloader_core::workload::WorkloadKind;

/// Keeps the metadata (less managed fields and last-applied), the pruned pod template and a
/// `workloadRef`; drops status and every other spec field.
pub fn prune(obj: &mut DynamicObject) {
    prune_meta(&mut obj.metadata);
    let mut spec = Map::new();
    if let Some(template) = obj.data.pointer("/spec/template")
        && let Ok(mut template) = serde_json::from_value::<PodTemplateSpec>(template.clone())
    {
        prune_template(&mut template);
        if let Ok(value) = serde_json::to_value(template) {
            spec.insert("template".into(), value);
        }
    }
    if let Some(reference) = obj.data.pointer("/spec/workloadRef") {
        spec.insert("workloadRef".into(), reference.clone());
    }
    let mut data = Map::new();
    data.insert("spec".into(), Value::Object(spec));
    obj.data = Value::Object(data);
}

/// Starts the cache of an optional kind. The returned future first asks whether the API is
/// served; when it is not, the future ends and the store's writer is dropped, so waiting
/// for the store to be ready returns at once.
pub fn dynamic_cache(
    client: Client,
    kind: WorkloadKind,
    detect: Detect,
    index: SharedIndex,
    scope: Scope,
) -> (Store<DynamicObject>, impl Future<Output = ()> + Send) {
    let resource = api_resource(kind);
    let writer = Writer::new(resource.clone());
    let reader = writer.as_reader();
    let task = async move {
        if !discovery::should_watch(&client, kind, &resource, detect).await {
            return;
        }
        let api: Api<DynamicObject> = Api::all_with(client, &resource);
        let stream = reflector::reflector(
            writer,
            watcher::watcher(api, watcher::Config::default())
                .default_backoff()
                .modify(prune),
        );
        let mut seen = None;
        let mut known = HashSet::new();
        let input = |o: &DynamicObject| untyped::input(kind, &o.metadata, &o.data);
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => {
                    let mut relist = Relist {
                        seen: &mut seen,
                        known: &mut known,
                    };
                    apply_event(&index, &scope, &mut relist, kind, input, &event);
                }
                Err(e) => tracing::warn!(%kind, error = %e, "watch failed; retrying"),
            }
        }
    };
    (reader, task)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(spec: Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {
                "name": "web", "namespace": "ns",
                "annotations": {
                    "reloader.stakater.com/auto": "true",
                    "kubectl.kubernetes.io/last-applied-configuration": "{...}"
                },
                "managedFields": [{"manager": "kubectl"}]
            },
            "spec": spec,
            "status": {"phase": "Healthy"}
        }))
        .unwrap()
    }

    #[test]
    fn pruning_keeps_what_the_index_reads_only() {
        let mut obj = object(json!({
            "replicas": 3,
            "strategy": {"canary": {"steps": [{"setWeight": 20}]}},
            "template": {
                "metadata": {"annotations": {"a": "b"}},
                "spec": {
                    "containers": [{"name": "app", "image": "app:1", "resources": {"limits": {"cpu": "1"}},
                                    "envFrom": [{"secretRef": {"name": "db"}}]}],
                    "nodeSelector": {"disk": "ssd"}
                }
            }
        }));
        prune(&mut obj);
        assert!(obj.metadata.managed_fields.is_none());
        let annotations = obj.metadata.annotations.clone().unwrap();
        assert!(annotations.contains_key("reloader.stakater.com/auto"));
        assert!(!annotations.contains_key("kubectl.kubernetes.io/last-applied-configuration"));
        assert_eq!(obj.data.get("status"), None);
        assert_eq!(obj.data.pointer("/spec/replicas"), None);
        assert_eq!(obj.data.pointer("/spec/strategy"), None);
        assert_eq!(obj.data.pointer("/spec/template/spec/nodeSelector"), None);
        assert_eq!(
            obj.data.pointer("/spec/template/spec/containers/0/image"),
            None
        );
        assert_eq!(
            obj.data
                .pointer("/spec/template/spec/containers/0/envFrom/0/secretRef/name"),
            Some(&json!("db"))
        );
        assert_eq!(
            obj.data.pointer("/spec/template/metadata/annotations/a"),
            Some(&json!("b"))
        );
    }

    #[test]
    fn pruning_keeps_a_workload_ref_so_the_rollout_is_known_as_unpatchable() {
        let mut obj = object(json!({"workloadRef": {"kind": "Deployment", "name": "web"}}));
        prune(&mut obj);
        let err = untyped::input(WorkloadKind::Rollout, &obj.metadata, &obj.data).unwrap_err();
        assert!(err.to_string().contains("workloadRef"));
    }

    #[test]
    fn a_pruned_object_gives_the_same_index_input() {
        let obj = object(json!({
            "template": {"spec": {"containers": [{"name": "app", "image": "app",
                "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}]}]}}
        }));
        let mut pruned = obj.clone();
        prune(&mut pruned);
        let before = untyped::input(WorkloadKind::Rollout, &obj.metadata, &obj.data).unwrap();
        let after = untyped::input(WorkloadKind::Rollout, &pruned.metadata, &pruned.data).unwrap();
        assert_eq!(before.refs, after.refs);
        assert_eq!(before.workload, after.workload);
    }
}
