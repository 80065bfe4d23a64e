//! Glue between request handling and the admission chain.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::admission::Selection;
use crate::admission::review::Attributes;
use crate::admission::rules::Operation;
use crate::app::App;
use crate::resources::ResourceType;
use crate::selectors::labels_of;
use crate::status::ApiError;

pub const USERNAME: &str = "sim-admin";

pub fn user_groups() -> Vec<String> {
    vec!["system:masters".into(), "system:authenticated".into()]
}

/// The request's options object as webhooks see it.
pub fn options(kind: &str, dry_run: bool, field_manager: Option<&str>) -> Value {
    let mut options = json!({"kind": kind, "apiVersion": "meta.k8s.io/v1"});
    if dry_run {
        options["dryRun"] = json!(["All"]);
    }
    if let Some(manager) = field_manager {
        options["fieldManager"] = json!(manager);
    }
    options
}

pub struct Admission<'a> {
    pub app: &'a App,
    pub resource: &'a ResourceType,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub dry_run: bool,
    pub options: Value,
}

impl Admission<'_> {
    fn configurations(&self, plural: &str) -> Vec<Value> {
        self.app
            .store
            .list(&format!("admissionregistration.k8s.io/{plural}"), None)
            .0
    }

    fn namespace_labels(&self, object: Option<&Value>) -> Option<BTreeMap<String, String>> {
        if self.resource.group.is_empty() && self.resource.plural == "namespaces" {
            return Some(object.map(labels_of).unwrap_or_default());
        }
        if !self.resource.namespaced {
            return None;
        }
        let namespace = self.app.store.get("/namespaces", "", self.namespace);
        Some(namespace.as_ref().map(labels_of).unwrap_or_default())
    }

    fn attributes(
        &self,
        operation: Operation,
        name: &str,
        object: Option<Value>,
        old_object: Option<Value>,
    ) -> Attributes {
        // kube-apiserver reads /api/v1/namespaces/{name} as being "in" that namespace.
        let addresses_a_namespace = self.resource.group.is_empty()
            && self.resource.plural == "namespaces"
            && operation != Operation::Create;
        let namespace = if addresses_a_namespace {
            name
        } else {
            self.namespace
        };
        Attributes {
            operation,
            resource: self.resource.clone(),
            subresource: self.subresource.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            object,
            old_object,
            dry_run: self.dry_run,
            options: self.options.clone(),
            username: USERNAME.into(),
            groups: user_groups(),
        }
    }

    /// Mutating webhooks; returns the object to continue with and their warnings.
    pub async fn mutate(
        &self,
        operation: Operation,
        name: &str,
        object: Option<Value>,
        old: Option<Value>,
    ) -> Result<(Option<Value>, Vec<String>), ApiError> {
        let labels = self.namespace_labels(object.as_ref().or(old.as_ref()));
        let selection = Selection {
            namespace_labels: labels.as_ref(),
        };
        let attributes = self.attributes(operation, name, object, old);
        self.app
            .admission
            .mutate(
                &self.configurations("mutatingwebhookconfigurations"),
                attributes,
                &selection,
            )
            .await
    }

    /// Validating webhooks; returns their warnings.
    pub async fn validate(
        &self,
        operation: Operation,
        name: &str,
        object: Option<Value>,
        old: Option<Value>,
    ) -> Result<Vec<String>, ApiError> {
        let labels = self.namespace_labels(object.as_ref().or(old.as_ref()));
        let selection = Selection {
            namespace_labels: labels.as_ref(),
        };
        let attributes = self.attributes(operation, name, object, old);
        self.app
            .admission
            .validate(
                &self.configurations("validatingwebhookconfigurations"),
                &attributes,
                &selection,
            )
            .await
    }
}
