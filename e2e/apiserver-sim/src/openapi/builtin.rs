//! The schemas of the built-in kinds, generated once from the `k8s-openapi` types
//! (their `schemars` implementations), named as kube-apiserver names them
//! (`io.k8s.api.apps.v1.Deployment`, …).

use std::sync::OnceLock;

use k8s_openapi::api::{admissionregistration, apps, batch, coordination, core, events};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Status};
use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

/// Every definition, and which definition is the root of each built-in resource.
pub struct Catalog {
    pub definitions: Map<String, Value>,
    /// (group, plural) → definition name.
    pub roots: Vec<((&'static str, &'static str), String)>,
}

impl Catalog {
    pub fn root(&self, group: &str, plural: &str) -> Option<&str> {
        self.roots
            .iter()
            .find(|((g, p), _)| *g == group && *p == plural)
            .map(|(_, name)| name.as_str())
    }
}

pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
pub const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
pub const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";

fn root<T: JsonSchema>(
    generator: &mut SchemaGenerator,
    key: (&'static str, &'static str),
) -> ((&'static str, &'static str), String) {
    generator.subschema_for::<T>();
    (key, T::schema_name().into_owned())
}

fn build() -> Catalog {
    let mut g = SchemaSettings::openapi3().into_generator();
    let roots = vec![
        root::<core::v1::Namespace>(&mut g, ("", "namespaces")),
        root::<core::v1::Secret>(&mut g, ("", "secrets")),
        root::<core::v1::ConfigMap>(&mut g, ("", "configmaps")),
        root::<core::v1::Event>(&mut g, ("", "events")),
        root::<core::v1::ServiceAccount>(&mut g, ("", "serviceaccounts")),
        root::<core::v1::Service>(&mut g, ("", "services")),
        root::<core::v1::Pod>(&mut g, ("", "pods")),
        root::<apps::v1::Deployment>(&mut g, ("apps", "deployments")),
        root::<apps::v1::StatefulSet>(&mut g, ("apps", "statefulsets")),
        root::<apps::v1::DaemonSet>(&mut g, ("apps", "daemonsets")),
        root::<apps::v1::ReplicaSet>(&mut g, ("apps", "replicasets")),
        root::<batch::v1::Job>(&mut g, ("batch", "jobs")),
        root::<batch::v1::CronJob>(&mut g, ("batch", "cronjobs")),
        root::<events::v1::Event>(&mut g, ("events.k8s.io", "events")),
        root::<coordination::v1::Lease>(&mut g, ("coordination.k8s.io", "leases")),
        root::<apiextensions::v1::CustomResourceDefinition>(
            &mut g,
            ("apiextensions.k8s.io", "customresourcedefinitions"),
        ),
        root::<admissionregistration::v1::ValidatingWebhookConfiguration>(
            &mut g,
            (
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations",
            ),
        ),
        root::<admissionregistration::v1::MutatingWebhookConfiguration>(
            &mut g,
            (
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
            ),
        ),
    ];
    g.subschema_for::<ObjectMeta>();
    g.subschema_for::<Status>();
    let mut definitions = g.take_definitions(true);
    // Patch bodies are any JSON; the generated schema says "object".
    definitions.insert(PATCH.into(), json!({"type": "object"}));
    Catalog { definitions, roots }
}

/// The catalog, built on first use.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_schema_has_spec_fields_and_refs_resolve() {
        let catalog = catalog();
        let name = catalog
            .root("apps", "deployments")
            .expect("deployment root");
        assert_eq!(name, "io.k8s.api.apps.v1.Deployment");
        let spec = &catalog.definitions["io.k8s.api.apps.v1.DeploymentSpec"];
        assert!(spec["properties"]["replicas"].is_object());
        assert!(catalog.definitions.contains_key(OBJECT_META));
        let text = serde_json::to_string(&catalog.definitions).expect("json");
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let target = reference.split('"').next().unwrap_or_default();
            assert!(catalog.definitions.contains_key(target), "{target}");
        }
    }
}
