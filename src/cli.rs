//! Command line: every flag has an environment fallback.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "reloader",
    version,
    about = "Rolls workloads when the Secrets and ConfigMaps they use change"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log format.
    #[arg(long, global = true, env = "RELOADER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter: a level (`info`, `trace`) or directives (`reloader=debug,hyper=info`).
    #[arg(
        long,
        global = true,
        env = "RELOADER_LOG_LEVEL",
        default_value = "info"
    )]
    pub log_level: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the ReloaderConfig CustomResourceDefinition as YAML.
    Crd,
    /// Serve the admission webhooks (HTTPS) and health and metrics (HTTP).
    Serve(ServeArgs),
    /// Write a development CA and a serving certificate for the webhook Service, and print
    /// the base64 caBundle.
    Certs(CertsArgs),
    /// Print (or write) the ValidatingWebhookConfiguration, Service and RBAC manifests.
    WebhookConfig(WebhookConfigArgs),
    /// Print the version.
    Version,
}

#[derive(Debug, Clone, Args)]
pub struct CertsArgs {
    /// Directory for ca.crt, ca.key, tls.crt and tls.key.
    #[arg(long, env = "RELOADER_CERTS_DIR", default_value = "certs")]
    pub out_dir: PathBuf,
    /// Name of the webhook Service.
    #[arg(long, env = "RELOADER_SERVICE_NAME", default_value = "reloader")]
    pub service_name: String,
    /// Namespace of the webhook Service.
    #[arg(long, env = "RELOADER_NAMESPACE", default_value = "reloader")]
    pub namespace: String,
    /// Extra subject alternative name (DNS name or IP address); repeatable.
    #[arg(long = "san", env = "RELOADER_EXTRA_SANS", value_delimiter = ',')]
    pub sans: Vec<String>,
    /// Validity of the certificates, in days.
    #[arg(long, env = "RELOADER_CERT_DAYS", default_value_t = 365)]
    pub days: u32,
}

#[derive(Debug, Clone, Args)]
pub struct WebhookConfigArgs {
    /// Namespace reloader runs in.
    #[arg(long, env = "RELOADER_NAMESPACE", default_value = "reloader")]
    pub namespace: String,
    /// Name of the webhook Service.
    #[arg(long, env = "RELOADER_SERVICE_NAME", default_value = "reloader")]
    pub service_name: String,
    /// Base64 of the PEM CA that signed the serving certificate (`reloader certs` prints it).
    #[arg(long, env = "RELOADER_CA_BUNDLE")]
    pub ca_bundle: Option<String>,
    /// Call the webhooks at this https:// base URL instead of the Service (local runs).
    #[arg(long, env = "RELOADER_WEBHOOK_URL")]
    pub url: Option<String>,
    /// Namespace whose Secrets and ConfigMaps are never sent to the webhook; repeatable.
    #[arg(
        long = "exclude-namespace",
        env = "RELOADER_EXCLUDE_NAMESPACES",
        value_delimiter = ','
    )]
    pub exclude_namespaces: Vec<String>,
    /// Write one file per manifest group into this directory instead of printing.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// PEM certificate chain served by the webhook; reloaded when it changes.
    #[arg(long, env = "RELOADER_TLS_CERT_FILE", default_value = "certs/tls.crt")]
    pub tls_cert_file: PathBuf,

    /// PEM private key of the serving certificate; reloaded when it changes.
    #[arg(long, env = "RELOADER_TLS_KEY_FILE", default_value = "certs/tls.key")]
    pub tls_key_file: PathBuf,

    /// Address of the HTTPS webhook server.
    #[arg(long, env = "RELOADER_WEBHOOK_ADDR", default_value = "0.0.0.0:9443")]
    pub webhook_addr: SocketAddr,

    /// Address of the plain-HTTP server for /healthz, /readyz and /metrics.
    #[arg(long, env = "RELOADER_METRICS_ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_addr: SocketAddr,

    /// Kubeconfig file; without it, the in-cluster configuration, else `KUBECONFIG` or
    /// `~/.kube/config`.
    #[arg(long, env = "RELOADER_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Also reload when a followed Secret or ConfigMap is created.
    #[arg(long, env = "RELOADER_RELOAD_ON_CREATE")]
    pub reload_on_create: bool,

    /// Also reload when a followed Secret or ConfigMap is deleted.
    #[arg(long, env = "RELOADER_RELOAD_ON_DELETE")]
    pub reload_on_delete: bool,

    /// Accept `http://` alert URLs in ReloaderConfigs (alert URLs are credentials; only for
    /// clusters whose alert receivers sit inside the cluster network).
    #[arg(long, env = "RELOADER_ALLOW_INSECURE_ALERT_URLS")]
    pub allow_insecure_alert_urls: bool,

    /// How often the certificate files are checked for a rotation, in milliseconds.
    #[arg(long, env = "RELOADER_CERT_CHECK_INTERVAL_MS", default_value_t = 2000)]
    pub cert_check_interval_ms: u64,
}
