//! The Deployment of the plain manifests: what the Helm chart installs with its default
//! values, for clusters that apply `webhook-config/` directly.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction,
    ObjectFieldSelector, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SeccompProfile, SecretVolumeSource, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{METRICS_PORT, RenderOptions, WEBHOOK_PORT, labels, meta, strings};

/// Where the serving certificate Secret is mounted.
const CERT_DIR: &str = "/certs";

/// Two replicas: the webhook stays up through a rolling update or a node drain (the
/// sources webhook fails open, but ReloaderConfig validation fails closed).
const REPLICAS: i32 = 2;

/// The pod's name and namespace, for the leader Lease.
fn downward(name: &str, field: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field.to_owned(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn probe(path: &str) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String("metrics".to_owned()),
            ..HTTPGetAction::default()
        }),
        ..Probe::default()
    }
}

fn port(name: &str, port: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_owned()),
        container_port: port,
        protocol: Some("TCP".to_owned()),
        ..ContainerPort::default()
    }
}

fn quantities(cpu: &str, memory: &str) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_owned(), Quantity(cpu.to_owned())),
        ("memory".to_owned(), Quantity(memory.to_owned())),
    ])
}

/// The hash key Secret reloader creates in its namespace at first start.
pub const HASH_KEY_SECRET: &str = "reloader-hash-key";

/// The arguments of `reloader serve` in the cluster.
pub fn serve_args() -> Vec<String> {
    let mut args = strings(&["serve"]);
    args.extend([
        format!("--webhook-addr=0.0.0.0:{WEBHOOK_PORT}"),
        format!("--metrics-addr=0.0.0.0:{METRICS_PORT}"),
        format!("--tls-cert-file={CERT_DIR}/tls.crt"),
        format!("--tls-key-file={CERT_DIR}/tls.key"),
        "--log-format=json".to_owned(),
        "--leader-elect".to_owned(),
        format!("--hash-key-secret={HASH_KEY_SECRET}"),
    ]);
    args
}

fn container(opts: &RenderOptions) -> Container {
    Container {
        name: "reloader".to_owned(),
        image: Some(opts.image.clone()),
        args: Some(serve_args()),
        env: Some(vec![
            downward("POD_NAME", "metadata.name"),
            downward("POD_NAMESPACE", "metadata.namespace"),
            // Where stakater's reloader-meta-info ConfigMap is published.
            downward("RELOADER_NAMESPACE", "metadata.namespace"),
            EnvVar {
                name: "RELOADER_DEPLOYMENT_NAME".to_owned(),
                value: Some("reloader".to_owned()),
                ..EnvVar::default()
            },
        ]),
        ports: Some(vec![
            port("webhook", WEBHOOK_PORT),
            port("metrics", METRICS_PORT),
        ]),
        readiness_probe: Some(probe("/readyz")),
        liveness_probe: Some(probe("/healthz")),
        resources: Some(ResourceRequirements {
            requests: Some(quantities("50m", "64Mi")),
            limits: Some(BTreeMap::from([(
                "memory".to_owned(),
                Quantity("256Mi".to_owned()),
            )])),
            ..ResourceRequirements::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(strings(&["ALL"])),
                ..Capabilities::default()
            }),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(vec![VolumeMount {
            name: "certs".to_owned(),
            mount_path: CERT_DIR.to_owned(),
            read_only: Some(true),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    }
}

/// The reloader Deployment: serves the webhook with the certificate from the TLS Secret
/// `opts.tls_secret` (kubernetes.io/tls: `tls.crt`, `tls.key`).
pub fn deployment(opts: &RenderOptions) -> Deployment {
    let selector = BTreeMap::from([("app.kubernetes.io/name".to_owned(), "reloader".to_owned())]);
    Deployment {
        metadata: meta("reloader", Some(&opts.namespace)),
        spec: Some(DeploymentSpec {
            replicas: Some(REPLICAS),
            selector: LabelSelector {
                match_labels: Some(selector),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels()),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some("reloader".to_owned()),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".to_owned(),
                            ..SeccompProfile::default()
                        }),
                        ..PodSecurityContext::default()
                    }),
                    containers: vec![container(opts)],
                    volumes: Some(vec![Volume {
                        name: "certs".to_owned(),
                        secret: Some(SecretVolumeSource {
                            secret_name: Some(opts.tls_secret.clone()),
                            ..SecretVolumeSource::default()
                        }),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests;
