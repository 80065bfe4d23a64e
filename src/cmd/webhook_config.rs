//! `reloader webhook-config`: the webhook configurations, Service, RBAC and Deployment,
//! rendered from the Kubernetes API types. The files in `webhook-config/` are the default
//! rendering (a test fails when they drift).

mod deployment;

use std::collections::BTreeMap;
use std::path::Path;

use reloader_core::keys::{WEBHOOK_OPT_OUT, WEBHOOK_OPT_OUT_VALUE};
use reloader_core::workload::{KINDS, KindSpec};

use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ServiceReference,
    ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::api::core::v1::{Service, ServiceAccount, ServicePort, ServiceSpec};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub const WEBHOOK_PORT: i32 = 9443;
pub const METRICS_PORT: i32 = 9090;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("--ca-bundle is not base64: {0}")]
    CaBundle(base64::DecodeError),
    #[error(
        "--url must start with https:// (the API server only calls webhooks over TLS), got {0:?}"
    )]
    Url(String),
    #[error("cannot render YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("cannot render the CRD: {0}")]
    Crd(#[from] reloader_core::crd::CrdRenderError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// What the rendering depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    pub namespace: String,
    pub service_name: String,
    /// Base64 of the PEM CA certificate(s), as printed by `reloader certs`.
    pub ca_bundle: Option<String>,
    /// Call the webhooks at this base URL instead of the Service (local runs).
    pub url: Option<String>,
    /// Namespaces whose Secrets and ConfigMaps are never sent to the webhook.
    pub exclude_namespaces: Vec<String>,
    /// The container image the Deployment runs.
    pub image: String,
    /// The kubernetes.io/tls Secret holding the serving certificate.
    pub tls_secret: String,
}

/// The image of this release.
pub fn default_image() -> String {
    format!("ghcr.io/reloader/reloader:{}", env!("CARGO_PKG_VERSION"))
}

/// The serving certificate's Secret, as `reloader certs` suggests creating it.
pub use crate::cmd::cli::DEFAULT_TLS_SECRET;

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            namespace: "reloader".to_owned(),
            service_name: "reloader".to_owned(),
            ca_bundle: None,
            url: None,
            exclude_namespaces: Vec::new(),
            image: default_image(),
            tls_secret: DEFAULT_TLS_SECRET.to_owned(),
        }
    }
}

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), "reloader".to_owned()),
        (
            "app.kubernetes.io/component".to_owned(),
            "webhook".to_owned(),
        ),
    ])
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        labels: Some(labels()),
        ..ObjectMeta::default()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn client_config(opts: &RenderOptions, ca: &Option<ByteString>, path: &str) -> WebhookClientConfig {
    match &opts.url {
        Some(base) => WebhookClientConfig {
            ca_bundle: ca.clone(),
            url: Some(format!("{}{path}", base.trim_end_matches('/'))),
            service: None,
        },
        None => WebhookClientConfig {
            ca_bundle: ca.clone(),
            url: None,
            service: Some(ServiceReference {
                name: opts.service_name.clone(),
                namespace: opts.namespace.clone(),
                path: Some(path.to_owned()),
                port: Some(443),
            }),
        },
    }
}

fn namespace_selector(opts: &RenderOptions) -> LabelSelector {
    let mut exprs = vec![LabelSelectorRequirement {
        key: WEBHOOK_OPT_OUT.to_owned(),
        operator: "NotIn".to_owned(),
        values: Some(vec![WEBHOOK_OPT_OUT_VALUE.to_owned()]),
    }];
    if !opts.exclude_namespaces.is_empty() {
        exprs.push(LabelSelectorRequirement {
            key: "kubernetes.io/metadata.name".to_owned(),
            operator: "NotIn".to_owned(),
            values: Some(opts.exclude_namespaces.clone()),
        });
    }
    LabelSelector {
        match_expressions: Some(exprs),
        match_labels: None,
    }
}

pub fn validating_webhook_configuration(
    opts: &RenderOptions,
) -> Result<ValidatingWebhookConfiguration, RenderError> {
    use base64::Engine;
    let ca = opts
        .ca_bundle
        .as_deref()
        .map(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()))
        .transpose()
        .map_err(RenderError::CaBundle)?
        .map(ByteString);
    if let Some(url) = &opts.url
        && !url.starts_with("https://")
    {
        return Err(RenderError::Url(url.clone()));
    }
    let sources = ValidatingWebhook {
        name: "sources.reloader.stakater.com".to_owned(),
        admission_review_versions: strings(&["v1"]),
        client_config: client_config(opts, &ca, "/validate/sources"),
        // Never block a write because reloader is down or slow.
        failure_policy: Some("Ignore".to_owned()),
        match_policy: Some("Equivalent".to_owned()),
        namespace_selector: Some(namespace_selector(opts)),
        rules: Some(vec![RuleWithOperations {
            api_groups: Some(strings(&[""])),
            api_versions: Some(strings(&["v1"])),
            operations: Some(strings(&["CREATE", "UPDATE", "DELETE"])),
            resources: Some(strings(&["secrets", "configmaps"])),
            scope: Some("Namespaced".to_owned()),
        }]),
        side_effects: "NoneOnDryRun".to_owned(),
        timeout_seconds: Some(5),
        ..ValidatingWebhook::default()
    };
    let reloaderconfigs = ValidatingWebhook {
        name: "reloaderconfigs.reloader.stakater.com".to_owned(),
        admission_review_versions: strings(&["v1"]),
        client_config: client_config(opts, &ca, "/validate/reloaderconfigs"),
        failure_policy: Some("Fail".to_owned()),
        match_policy: Some("Equivalent".to_owned()),
        rules: Some(vec![RuleWithOperations {
            api_groups: Some(strings(&["reloader.stakater.com"])),
            api_versions: Some(strings(&["v1alpha1"])),
            operations: Some(strings(&["CREATE", "UPDATE"])),
            resources: Some(strings(&["reloaderconfigs"])),
            scope: Some("Namespaced".to_owned()),
        }]),
        side_effects: "None".to_owned(),
        timeout_seconds: Some(5),
        ..ValidatingWebhook::default()
    };
    Ok(ValidatingWebhookConfiguration {
        metadata: meta("reloader", None),
        webhooks: Some(vec![sources, reloaderconfigs]),
    })
}

pub fn service(opts: &RenderOptions) -> Service {
    let port = |name: &str, port: i32, target: i32| ServicePort {
        name: Some(name.to_owned()),
        port,
        target_port: Some(IntOrString::Int(target)),
        protocol: Some("TCP".to_owned()),
        ..ServicePort::default()
    };
    Service {
        metadata: meta(&opts.service_name, Some(&opts.namespace)),
        spec: Some(ServiceSpec {
            selector: Some(BTreeMap::from([(
                "app.kubernetes.io/name".to_owned(),
                "reloader".to_owned(),
            )])),
            ports: Some(vec![
                port("webhook", 443, WEBHOOK_PORT),
                port("metrics", METRICS_PORT, METRICS_PORT),
            ]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

const FOLLOW: &[&str] = &["get", "list", "watch", "patch"];

/// The workload kinds of `workload::KINDS` (those `include` keeps), grouped by API group
/// in the table's order: `(group, version, plurals)`.
fn kinds_by_group(
    include: impl Fn(&KindSpec) -> bool,
) -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    let mut groups: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for kind in KINDS.iter().filter(|k| include(k)) {
        match groups.iter_mut().find(|(g, _, _)| *g == kind.group) {
            Some((_, _, plurals)) => plurals.push(kind.plural),
            None => groups.push((kind.group, kind.version, vec![kind.plural])),
        }
    }
    groups
}

/// ServiceAccount, ClusterRole and binding, and the namespaced Role for leader election
/// and the hash key.
/// Secrets and ConfigMaps get `get` only: the data arrives in the AdmissionReview, so
/// reloader never lists or watches them.
pub fn rbac(
    opts: &RenderOptions,
) -> (
    ServiceAccount,
    ClusterRole,
    ClusterRoleBinding,
    Role,
    RoleBinding,
) {
    let sa = ServiceAccount {
        metadata: meta("reloader", Some(&opts.namespace)),
        ..ServiceAccount::default()
    };
    let cluster_role = ClusterRole {
        metadata: meta("reloader", None),
        rules: Some(
            vec![
                rule(&[""], &["secrets", "configmaps"], &["get"]),
                // `--namespace-selector` watches namespace labels.
                rule(&[""], &["namespaces"], &["get", "list", "watch"]),
            ]
            .into_iter()
            // Every kind reloader rolls: watched, and patched to roll.
            .chain(
                kinds_by_group(|k| !k.opt_in)
                    .into_iter()
                    .map(|(group, _, plurals)| rule(&[group], &plurals, FOLLOW)),
            )
            .chain([
                rule(
                    &["reloader.stakater.com"],
                    &["reloaderconfigs"],
                    &["get", "list", "watch"],
                ),
                rule(
                    &["reloader.stakater.com"],
                    &["reloaderconfigs/status"],
                    &["get", "patch", "update"],
                ),
                rule(&["", "events.k8s.io"], &["events"], &["create", "patch"]),
                // A reloaded CronJob's run-now Job (--run-cronjobs-on-reload).
                rule(&["batch"], &["jobs"], &["create"]),
            ])
            .collect(),
        ),
        aggregation_rule: None,
    };
    let subject = Subject {
        kind: "ServiceAccount".to_owned(),
        name: "reloader".to_owned(),
        namespace: Some(opts.namespace.clone()),
        api_group: None,
    };
    let binding = ClusterRoleBinding {
        metadata: meta("reloader", None),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "ClusterRole".to_owned(),
            name: "reloader".to_owned(),
        },
        subjects: Some(vec![subject.clone()]),
    };
    let role = Role {
        metadata: meta("reloader-leader-election", Some(&opts.namespace)),
        rules: Some(vec![
            rule(
                &["coordination.k8s.io"],
                &["leases"],
                &["get", "list", "watch", "create", "update", "patch"],
            ),
            // The hash key Secret, made at first start in reloader's own namespace
            // (`create` cannot be narrowed to one name).
            rule(&[""], &["secrets"], &["create"]),
            // stakater's reloader-meta-info ConfigMap, published at start
            // (`cmd::meta_info`): created once, then read and replaced by name.
            rule(&[""], &["configmaps"], &["create"]),
            PolicyRule {
                resource_names: Some(strings(&[crate::cmd::meta_info::NAME])),
                ..rule(&[""], &["configmaps"], &["get", "update"])
            },
        ]),
    };
    let role_binding = RoleBinding {
        metadata: meta("reloader-leader-election", Some(&opts.namespace)),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "Role".to_owned(),
            name: "reloader-leader-election".to_owned(),
        },
        subjects: Some(vec![subject]),
    };
    (sa, cluster_role, binding, role, role_binding)
}

const HEADER: &str = "# Generated by `reloader webhook-config`; do not edit. Regenerate with `make webhook-config`.\n";

fn documents(docs: &[&dyn erased::Yaml]) -> Result<String, RenderError> {
    let mut out = String::from(HEADER);
    for doc in docs {
        out.push_str("---\n");
        out.push_str(&doc.to_yaml()?);
    }
    Ok(out)
}

mod erased {
    pub trait Yaml {
        fn to_yaml(&self) -> Result<String, serde_yaml::Error>;
    }
    impl<T: serde::Serialize> Yaml for T {
        fn to_yaml(&self) -> Result<String, serde_yaml::Error> {
            serde_yaml::to_string(self)
        }
    }
}

/// The MutatingWebhookConfiguration that stamps baseline hashes into workloads as they are
/// created or their template changes (`/mutate/workloads`). It never blocks a write.
pub fn mutating_webhook_configuration(
    opts: &RenderOptions,
) -> Result<MutatingWebhookConfiguration, RenderError> {
    let validating = validating_webhook_configuration(opts)?;
    let ca = validating
        .webhooks
        .as_ref()
        .and_then(|w| w.first())
        .and_then(|w| w.client_config.ca_bundle.clone());
    let rule = |group: &str, version: &str, resources: &[&str]| RuleWithOperations {
        api_groups: Some(strings(&[group])),
        api_versions: Some(strings(&[version])),
        operations: Some(strings(&["CREATE", "UPDATE"])),
        resources: Some(strings(resources)),
        scope: Some("Namespaced".to_owned()),
    };
    let workloads = MutatingWebhook {
        name: "workloads.reloader.stakater.com".to_owned(),
        admission_review_versions: strings(&["v1"]),
        client_config: client_config(opts, &ca, "/mutate/workloads"),
        failure_policy: Some("Ignore".to_owned()),
        match_policy: Some("Equivalent".to_owned()),
        namespace_selector: Some(namespace_selector(opts)),
        reinvocation_policy: Some("Never".to_owned()),
        // The kinds whose API every cluster serves, as the chart registers them.
        rules: Some(
            kinds_by_group(|k| !k.optional_api && !k.opt_in)
                .into_iter()
                .map(|(group, version, plurals)| rule(group, version, &plurals))
                .collect(),
        ),
        side_effects: "None".to_owned(),
        timeout_seconds: Some(5),
        ..MutatingWebhook::default()
    };
    Ok(MutatingWebhookConfiguration {
        metadata: meta("reloader", None),
        webhooks: Some(vec![workloads]),
    })
}

/// The rendered files, by name, in a stable order: the CRD (as `reloader crd` prints it),
/// the webhook configurations, the Service, the RBAC and the Deployment.
pub fn render(opts: &RenderOptions) -> Result<Vec<(&'static str, String)>, RenderError> {
    let (sa, cluster_role, binding, role, role_binding) = rbac(opts);
    Ok(vec![
        ("crd.yaml", reloader_core::crd::crd_yaml()?),
        (
            "validating-webhook-configuration.yaml",
            documents(&[&validating_webhook_configuration(opts)?])?,
        ),
        (
            "mutating-webhook-configuration.yaml",
            documents(&[&mutating_webhook_configuration(opts)?])?,
        ),
        ("service.yaml", documents(&[&service(opts)])?),
        (
            "rbac.yaml",
            documents(&[&sa, &cluster_role, &binding, &role, &role_binding])?,
        ),
        (
            "deployment.yaml",
            documents(&[&deployment::deployment(opts)])?,
        ),
    ])
}

/// Writes the rendered files into `dir`, or prints them all when `dir` is `None`.
pub fn run(opts: &RenderOptions, dir: Option<&Path>) -> Result<(), RenderError> {
    let files = render(opts)?;
    match dir {
        None => {
            for (_, text) in files {
                if !text.starts_with('#') {
                    println!("---");
                }
                print!("{text}");
            }
        }
        Some(dir) => {
            // Like `reloader certs --out-dir`: the directory is made when missing.
            std::fs::create_dir_all(dir).map_err(|source| RenderError::Write {
                path: dir.to_path_buf(),
                source,
            })?;
            for (name, text) in files {
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .map_err(|source| RenderError::Write { path, source })?;
            }
        }
    }
    Ok(())
}

/// `reloader webhook-config`.
pub fn run_cli(args: &crate::cmd::cli::WebhookConfigArgs) -> Result<(), RenderError> {
    let opts = RenderOptions {
        namespace: args.namespace.clone(),
        service_name: args.service_name.clone(),
        ca_bundle: args.ca_bundle.clone().filter(|b| !b.trim().is_empty()),
        url: args.url.clone(),
        exclude_namespaces: args.exclude_namespaces.clone(),
        image: args.image.clone().unwrap_or_else(default_image),
        tls_secret: args.tls_secret.clone(),
    };
    run(&opts, args.out_dir.as_deref())
}

#[cfg(test)]
mod tests;
