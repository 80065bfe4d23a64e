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
    /// Serve the admission webhooks (HTTPS) and health and metrics (HTTP).
    Serve(ServeArgs),
    /// Print the version.
    Version,
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
