//! stakater's `reloader-meta-info` ConfigMap: with `RELOADER_NAMESPACE` set (its chart sets
//! it, and so does ours), the running instance publishes what it is and how it was started,
//! under the name, label and data keys stakater uses, so the tools and runbooks that read
//! it keep working. Written at start (created, or replaced when present); a failure is a
//! warning, never a reason not to serve.
//!
//! The content is built by a plain function from the parsed flags; only [`publish`] talks
//! to the API.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, PostParams};
use serde_json::{Value, json};

use crate::alerts::url::shown;
use crate::cmd::cli::{EngineArgs, ServeArgs};
use crate::cmd::telemetry::LogFormat;

/// stakater's names for the ConfigMap and its label.
pub const NAME: &str = "reloader-meta-info";
pub const LABEL_KEY: &str = "reloader.stakater.com/meta-info";
pub const LABEL_VALUE: &str = "reloader";

/// Where and as what the instance runs (`RELOADER_NAMESPACE`, `RELOADER_DEPLOYMENT_NAME`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub namespace: String,
    pub deployment: String,
}

impl Placement {
    /// From the environment; `None` without `RELOADER_NAMESPACE` (nothing is published).
    pub fn from_env() -> Option<Placement> {
        let namespace = std::env::var("RELOADER_NAMESPACE")
            .ok()
            .filter(|n| !n.is_empty())?;
        Some(Placement {
            namespace,
            deployment: std::env::var("RELOADER_DEPLOYMENT_NAME").unwrap_or_default(),
        })
    }
}

/// The logging flags, which are global to the command line rather than `serve`'s.
#[derive(Clone, Debug)]
pub struct Logging {
    pub format: LogFormat,
    pub level: String,
}

/// The ConfigMap for this instance.
pub fn config_map(args: &ServeArgs, logging: &Logging, at: &Placement) -> ConfigMap {
    let data = BTreeMap::from([
        ("buildInfo".to_owned(), build_info().to_string()),
        (
            "reloaderOptions".to_owned(),
            options(args, logging).to_string(),
        ),
        (
            "deploymentInfo".to_owned(),
            json!({"name": at.deployment, "namespace": at.namespace}).to_string(),
        ),
    ]);
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(NAME.to_owned()),
            namespace: Some(at.namespace.clone()),
            labels: Some(BTreeMap::from([(
                LABEL_KEY.to_owned(),
                LABEL_VALUE.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// stakater's `buildInfo` fields that mean the same here; its `goVersion` has no
/// counterpart (no Go), and no commit is stamped into the binary.
fn build_info() -> Value {
    json!({
        "releaseVersion": env!("CARGO_PKG_VERSION"),
        "commitHash": "unknown",
        "commitTime": "0001-01-01T00:00:00Z",
        "edition": "oss",
    })
}

/// stakater's `reloaderOptions`, field by field, from reloader's flags.
fn options(args: &ServeArgs, logging: &Logging) -> Value {
    let e: &EngineArgs = &args.engine;
    let a = &e.annotations;
    let resources_to_ignore: Vec<&str> = e
        .resources_to_ignore
        .iter()
        .map(String::as_str)
        .chain(e.ignore_secrets.then_some("secrets"))
        .chain(e.ignore_configmaps.then_some("configmaps"))
        .collect();
    json!({
        "autoReloadAll": e.auto_reload_all,
        "configmapUpdateOnChangeAnnotation": a.configmap_annotation,
        "secretUpdateOnChangeAnnotation": a.secret_annotation,
        "reloaderAutoAnnotation": a.auto_annotation,
        "ignoreResourceAnnotation": a.ignore_annotation,
        "configmapReloaderAutoAnnotation": a.configmap_auto_annotation,
        "secretReloaderAutoAnnotation": a.secret_auto_annotation,
        "autoSearchAnnotation": a.auto_search_annotation,
        "searchMatchAnnotation": a.search_match_annotation,
        "pauseDeploymentAnnotation": a.pause_deployment_annotation,
        "pauseDeploymentTimeAnnotation": a.pause_deployment_time_annotation,
        "logFormat": match logging.format {
            LogFormat::Text => "",
            LogFormat::Json => "json",
        },
        "logLevel": logging.level,
        "isArgoRollouts": e.is_argo_rollouts != "false",
        "reloadStrategy": e.reload_strategy,
        "reloadOnCreate": args.reload_on_create,
        "reloadOnDelete": args.reload_on_delete,
        "syncAfterRestart": e.sync_after_restart,
        "enableHA": e.leader_elect,
        "enableCSIIntegration": e.enable_csi_integration,
        "webhookUrl": e.webhook_url.as_deref().map(origin).unwrap_or_default(),
        "resourcesToIgnore": resources_to_ignore,
        "workloadTypesToIgnore": e.ignored_workload_types,
        "namespaceSelectors": e.namespace_selector,
        "resourceSelectors": e.resource_label_selector,
        "namespacesToIgnore": e.namespaces_to_ignore,
        "enablePProf": args.go_only.enable_pprof,
        "pprofAddr": args.go_only.pprof_addr,
    })
}

/// A notification URL's scheme and host only: its path and query often carry a token
/// (a chat hook), and a ConfigMap is readable by far more people than the flag.
fn origin(text: &str) -> String {
    reqwest::Url::parse(text.trim()).map_or_else(|_| "(set)".to_owned(), |u| shown(&u))
}

/// Creates the ConfigMap, or replaces the one a previous instance left.
pub async fn publish(client: kube::Client, cm: ConfigMap) {
    let namespace = cm.metadata.namespace.clone().unwrap_or_default();
    let api: Api<ConfigMap> = Api::namespaced(client, &namespace);
    let result = match api.get_opt(NAME).await {
        Ok(Some(old)) => {
            let mut cm = cm;
            cm.metadata.resource_version = old.metadata.resource_version;
            api.replace(NAME, &PostParams::default(), &cm).await
        }
        Ok(None) => api.create(&PostParams::default(), &cm).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => tracing::info!(%namespace, name = NAME, "meta info ConfigMap published"),
        Err(e) => tracing::warn!(%namespace, name = NAME, error = %e,
            "could not publish the meta info ConfigMap"),
    }
}

#[cfg(test)]
mod tests;
