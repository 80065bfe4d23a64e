//! Side effects of committed writes that controllers perform in a real cluster:
//! serving CRDs and emptying deleted namespaces.

use serde_json::Value;

use crate::app::App;
use crate::crd;
use crate::resources::ResourceType;

pub fn after_write(app: &App, resource: &ResourceType, object: &Value) {
    if app.simulate_rollouts
        && let Some(status) = crate::rollouts::settled_status(resource, object)
    {
        let mut settled = object.clone();
        settled["status"] = status;
        let namespace = crate::object::namespace_of(object).to_string();
        let version = crate::store::resource_version_of(object);
        // A concurrent write wins; its own after_write settles it again.
        let _ = app
            .store
            .update(&resource.storage_key(), &namespace, settled, version);
    }
    if resource.group == "apiextensions.k8s.io"
        && resource.plural == "customresourcedefinitions"
        && let Ok(types) = crd::resource_types_of(object)
    {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        app.registry.register_crd(name, types);
    }
}

pub fn after_delete(app: &App, resource: &ResourceType, object: &Value) {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            let removed = app.registry.unregister_crd(name);
            if let Some(served) = removed.first() {
                let (items, _) = app.store.list(&served.storage_key(), None);
                for item in items {
                    let ns = item["metadata"]["namespace"].as_str().unwrap_or_default();
                    let _ = app.store.delete(
                        &served.storage_key(),
                        ns,
                        crate::object::name_of(&item),
                        None,
                    );
                }
            }
        }
        ("", "namespaces") => {
            for (storage_key, object_name) in app.store.keys_in_namespace(name) {
                let _ = app.store.delete(&storage_key, name, &object_name, None);
            }
        }
        _ => {}
    }
}
