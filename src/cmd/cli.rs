//! Command line: every flag has an environment fallback.
//!
//! Boolean flags take stakater/Reloader's (Go's) forms: bare (`--auto-reload-all`), or with
//! a Go boolean (`--auto-reload-all=true`, `=false`, `=1`, `=f`, …), also as the next word.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{ArgAction, Args, Parser, Subcommand};
use reloader_core::keys;
use reloader_core::policy::parse_go_bool;

use crate::cmd::telemetry::LogFormat;

/// The serving certificate's Secret, as `reloader certs` suggests creating it.
pub const DEFAULT_TLS_SECRET: &str = "reloader-tls";

#[derive(Debug, Parser)]
#[command(
    name = "reloader",
    version,
    about = "Rolls workloads when the Secrets and ConfigMaps they use change"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log format: `text` (also stakater's empty value) or `json`.
    #[arg(long, global = true, env = "RELOADER_LOG_FORMAT", default_value = "text", value_parser = LogFormat::parse_flag)]
    pub log_format: LogFormat,

    /// Log filter: a level (`info`, `trace`; stakater's `warning`, `fatal`, `panic` too) or
    /// directives (`reloader=debug,hyper=info`).
    #[arg(
        long,
        global = true,
        env = "RELOADER_LOG_LEVEL",
        default_value = "info"
    )]
    pub log_level: String,
}

impl Cli {
    /// The command line of this process; see [`Cli::try_parse_args`].
    pub fn parse_args() -> Cli {
        Cli::try_parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses a command line. stakater/Reloader's image takes its flags with no subcommand
    /// (`--log-level=info --reload-on-create=true`), so a command line that starts with a
    /// flag and does not parse as it is is read as `serve` with those flags.
    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let error = match Cli::try_parse_from(&args) {
            Ok(cli) => return Ok(cli),
            Err(e) => e,
        };
        let asked = matches!(
            error.kind(),
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
        );
        let starts_with_flag = args
            .get(1)
            .and_then(|a| a.to_str())
            .is_some_and(|a| a.starts_with('-'));
        if asked || !starts_with_flag {
            return Err(error);
        }
        let mut serve = args;
        serve.insert(1, "serve".into());
        Cli::try_parse_from(serve)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the ReloaderConfig CustomResourceDefinition as YAML.
    Crd,
    /// Serve the admission webhooks (HTTPS) and health and metrics (HTTP).
    Serve(Box<ServeArgs>),
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
    /// Image the Deployment runs (default: this release's image).
    #[arg(long, env = "RELOADER_IMAGE")]
    pub image: Option<String>,
    /// kubernetes.io/tls Secret holding the serving certificate, mounted by the Deployment.
    #[arg(long, env = "RELOADER_TLS_SECRET", default_value = DEFAULT_TLS_SECRET)]
    pub tls_secret: String,
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

    /// Also serve HTTP/2 on the webhook port, to clients that ask for it by ALPN. Off by
    /// default: the API server calls webhooks over HTTP/1.1, and HTTP/2 only adds attack
    /// surface (rapid reset).
    #[arg(long, env = "RELOADER_WEBHOOK_HTTP2", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub webhook_http2: bool,

    /// Most connections the webhook port holds open at once, TLS handshakes included; one
    /// more is closed as soon as it is accepted.
    #[arg(
        long,
        env = "RELOADER_WEBHOOK_MAX_CONNECTIONS",
        default_value_t = crate::webhook::body::MAX_CONNECTIONS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub webhook_max_connections: usize,

    /// Address of the plain-HTTP server for /healthz, /readyz and /metrics.
    #[arg(long, env = "RELOADER_METRICS_ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_addr: SocketAddr,

    /// Kubeconfig file; without it, the in-cluster configuration, else `KUBECONFIG` or
    /// `~/.kube/config`.
    #[arg(long, env = "RELOADER_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Serve the webhooks without the reload engine and without API access: admitted
    /// changes are logged and nothing is reloaded (for trying the webhook out). Without
    /// this flag, a missing or unusable Kubernetes configuration fails the start.
    #[arg(long, env = "RELOADER_LOG_ONLY", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub log_only: bool,

    /// Serve `GET`/`PUT /log-level` on the metrics address: read or replace the log filter
    /// (`--log-level` syntax) without a restart. Off by default: anyone who can reach the
    /// metrics port could then raise the level.
    #[arg(long, env = "RELOADER_LOG_LEVEL_ENDPOINT", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub log_level_endpoint: bool,

    /// Also count reconciles per workload namespace
    /// (`reloader_reconciles_by_namespace_total`); its size grows with the namespaces.
    #[arg(long, env = "RELOADER_METRICS_BY_NAMESPACE", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub metrics_by_namespace: bool,

    /// Also reload when a followed Secret or ConfigMap is created.
    #[arg(long, env = "RELOADER_RELOAD_ON_CREATE", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub reload_on_create: bool,

    /// Also reload when a followed Secret or ConfigMap is deleted.
    #[arg(long, env = "RELOADER_RELOAD_ON_DELETE", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub reload_on_delete: bool,

    /// Accept `http://` alert URLs in ReloaderConfigs (alert URLs are credentials; only for
    /// clusters whose alert receivers sit inside the cluster network).
    #[arg(long, env = "RELOADER_ALLOW_INSECURE_ALERT_URLS", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub allow_insecure_alert_urls: bool,

    /// How often the certificate files are checked for a rotation, in milliseconds.
    #[arg(long, env = "RELOADER_CERT_CHECK_INTERVAL_MS", default_value_t = 2000)]
    pub cert_check_interval_ms: u64,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub alerts: AlertArgs,

    #[command(flatten)]
    pub go_only: GoOnlyArgs,
}

/// stakater/Reloader flags about its Go runtime, accepted so its command lines start
/// reloader, and otherwise without effect (a warning says so).
#[derive(Debug, Clone, Args)]
pub struct GoOnlyArgs {
    /// Accepted and ignored: reloader has no Go profiler to serve (stakater's pprof).
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub enable_pprof: bool,

    /// Accepted and ignored, with `--enable-pprof`.
    #[arg(long, default_value = ":6060")]
    pub pprof_addr: String,
}

/// The process-wide alert sink, under stakater/Reloader's environment variable names.
/// Values from the environment are never shown in `--help`: the URL is a credential.
#[derive(Debug, Clone, Args)]
pub struct AlertArgs {
    /// Send an alert for every reload (success or failure) to `--alert-webhook-url`.
    #[arg(long, env = "ALERT_ON_RELOAD", hide_env_values = true, action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub alert_on_reload: bool,

    /// Format of the process-wide alerts: `slack`, `teams`, `gchat` or `webhook`.
    #[arg(
        long,
        env = "ALERT_SINK",
        default_value = "webhook",
        hide_env_values = true
    )]
    pub alert_sink: String,

    /// Where process-wide alerts are posted (https://; http:// only with
    /// `--allow-insecure-alert-urls`). Prefer the environment variable, from a Secret.
    #[arg(long, env = "ALERT_WEBHOOK_URL", hide_env_values = true)]
    pub alert_webhook_url: Option<String>,

    /// Text put in front of every alert, e.g. the cluster's name.
    #[arg(long, env = "ALERT_ADDITIONAL_INFO", hide_env_values = true)]
    pub alert_additional_info: Option<String>,

    /// HTTP(S) proxy through which every alert is posted.
    #[arg(long, env = "ALERT_WEBHOOK_PROXY", hide_env_values = true)]
    pub alert_webhook_proxy: Option<String>,

    /// One change's rollouts become one alert per receiver, sent once no further rollout
    /// of it was reported for this long (Go duration; at most 30 s after its first).
    #[arg(long, env = "RELOADER_ALERT_GROUP_WAIT", default_value = "2s")]
    pub alert_group_wait: String,

    /// Least time between two requests to one receiver (Go duration; 0: no pacing).
    /// Slack's incoming webhooks take about one message per second.
    #[arg(long, env = "RELOADER_ALERT_PACE", default_value = "1s")]
    pub alert_pace: String,
}

/// The reload engine's flags (stakater/Reloader's names where it has one).
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Only act in these namespaces (comma-separated); empty: all.
    #[arg(long, env = "RELOADER_NAMESPACES", value_delimiter = ',')]
    pub namespaces: Vec<String>,

    /// Never act in these namespaces (comma-separated).
    #[arg(long, env = "RELOADER_NAMESPACES_TO_IGNORE", value_delimiter = ',')]
    pub namespaces_to_ignore: Vec<String>,

    /// Only act in namespaces whose labels match (`k=v,k2`, `k in (a,b)`, or stakater's
    /// `k:v,k2:*`); repeatable, the terms ANDed.
    #[arg(long, env = "RELOADER_NAMESPACE_SELECTOR", action = ArgAction::Append)]
    pub namespace_selector: Vec<String>,

    /// Only Secrets and ConfigMaps whose labels match this selector trigger reloads
    /// (`k=v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, or stakater's `k:v`, `k:*`;
    /// comma-separated); repeatable, the terms ANDed.
    #[arg(long, env = "RELOADER_RESOURCE_LABEL_SELECTOR", action = ArgAction::Append)]
    pub resource_label_selector: Vec<String>,

    /// Never reload for Secrets.
    #[arg(long, env = "RELOADER_IGNORE_SECRETS", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub ignore_secrets: bool,

    /// Never reload for ConfigMaps.
    #[arg(long, env = "RELOADER_IGNORE_CONFIGMAPS", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub ignore_configmaps: bool,

    /// stakater's spelling of `--ignore-secrets`/`--ignore-configmaps`: `secrets` or
    /// `configmaps` (one of them; comma-separated).
    #[arg(long, env = "RELOADER_RESOURCES_TO_IGNORE", value_delimiter = ',')]
    pub resources_to_ignore: Vec<String>,

    /// Workload types never rolled, e.g. `cronjobs,daemonsets` (comma-separated).
    #[arg(long, env = "RELOADER_IGNORED_WORKLOAD_TYPES", value_delimiter = ',')]
    pub ignored_workload_types: Vec<String>,

    /// Watch and roll Argo Rollouts: `auto` when the argoproj.io/v1alpha1 API is served at
    /// start, `true` likewise but warn when it is not, `false` never (stakater's
    /// `--is-Argo-Rollouts`; a bare flag means true).
    #[arg(
        long,
        alias = "is-Argo-Rollouts",
        env = "RELOADER_IS_ARGO_ROLLOUTS",
        default_value = "auto",
        num_args = 0..=1,
        default_missing_value = "true",
        require_equals = true
    )]
    pub is_argo_rollouts: String,

    /// Reload every workload for every Secret and ConfigMap it references, unless its
    /// annotations say otherwise.
    #[arg(long, env = "RELOADER_AUTO_RELOAD_ALL", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub auto_reload_all: bool,

    /// How a reload is recorded on the pod template: `env-vars` or `annotations`.
    #[arg(long, env = "RELOADER_RELOAD_STRATEGY", default_value = "env-vars")]
    pub reload_strategy: String,

    /// Changes to one workload within this window become one rollout (Go duration).
    #[arg(long, env = "RELOADER_COALESCE_WINDOW", default_value = "1s")]
    pub coalesce_window: String,

    /// How long to wait for an admitted write to show in the stored Secret or ConfigMap
    /// before giving up on it (Go duration).
    #[arg(long, env = "RELOADER_SOURCE_WAIT", default_value = "10s")]
    pub source_wait: String,

    /// Workloads patched at once; a fan-out beyond it waits its turn, earliest change first,
    /// so one Secret followed by thousands of workloads never opens thousands of API calls.
    #[arg(long, env = "RELOADER_MAX_CONCURRENT_RELOADS", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent_reloads: u16,

    /// How often every follower is reconciled against its sources (Go duration; 0: only
    /// at start).
    #[arg(long, env = "RELOADER_RESYNC_PERIOD", default_value = "10m")]
    pub resync_period: String,

    /// Source reads per second during resync.
    #[arg(long, env = "RELOADER_KUBE_API_QPS", default_value_t = 20.0)]
    pub kube_api_qps: f64,

    /// Source reads allowed in a burst during resync.
    #[arg(long, env = "RELOADER_KUBE_API_BURST", default_value_t = 30)]
    pub kube_api_burst: u32,

    /// Run resync only while holding a Lease (several replicas; stakater's `--enable-ha`).
    #[arg(long, alias = "enable-ha", env = "RELOADER_LEADER_ELECT", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub leader_elect: bool,

    /// Namespace of the leader Lease (default: `POD_NAMESPACE`, else `reloader`).
    #[arg(long, env = "RELOADER_LEADER_ELECTION_NAMESPACE")]
    pub leader_election_namespace: Option<String>,

    /// Name of the leader Lease.
    #[arg(
        long,
        env = "RELOADER_LEADER_ELECTION_ID",
        default_value = "reloader-leader"
    )]
    pub leader_election_id: String,

    /// Secret holding the hash key (entry `key`; `previous…` entries after a rotation):
    /// recorded hashes are then HMAC-SHA256 under it. Created with a random key when
    /// missing. Empty: plain SHA-256, which a reader of the pod template can brute-force
    /// for a low-entropy Secret value (see docs/security.md).
    #[arg(long, env = "RELOADER_HASH_KEY_SECRET", default_value = "")]
    pub hash_key_secret: String,

    /// Namespace of the hash key Secret (default: `POD_NAMESPACE`, else `reloader`).
    #[arg(long, env = "RELOADER_HASH_KEY_NAMESPACE")]
    pub hash_key_namespace: Option<String>,

    /// Follow SecretProviderClasses (stakater's flag): watch the Secrets Store CSI
    /// driver's SecretProviderClassPodStatuses and roll a class's followers when the
    /// driver mounts new versions. Needs list/watch on those and get on the classes.
    #[arg(long, env = "RELOADER_ENABLE_CSI_INTEGRATION", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub enable_csi_integration: bool,

    /// Where a workload carries stakater/Reloader's record (`STAKATER_<NAME>_<KIND>` with
    /// its SHA-1), the env-vars strategy keeps writing stakater's hash of the new data, so
    /// a stakater still running beside during a cut-over finds its own value and rolls
    /// nothing more: one rollout per change. `false` once stakater is gone: the next
    /// change writes reloader's own (keyed) hash instead, still one rollout.
    #[arg(long, env = "RELOADER_KEEP_STAKATER_RECORDS", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "true", default_missing_value = "true", value_parser = parse_go_bool)]
    pub keep_stakater_records: bool,

    /// Reload Jobs too, as stakater does: a Job whose source changed is deleted and created
    /// again with the change recorded, so it runs again (a CronJob's own Jobs never are;
    /// their CronJob is reloaded). Off by default: re-running a Job is not a rollout.
    #[arg(long, env = "RELOADER_RELOAD_JOBS", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub reload_jobs: bool,

    /// A reloaded CronJob also runs now: a Job from its (reloaded) job template, as
    /// stakater does, besides the template patch its next scheduled runs use. `false`:
    /// only the template is patched and nothing runs before the schedule says so.
    #[arg(long, env = "RELOADER_RUN_CRONJOBS_ON_RELOAD", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "true", default_missing_value = "true", value_parser = parse_go_bool)]
    pub run_cronjobs_on_reload: bool,

    /// With `--reload-on-create`: the first resync after a start also rolls followers that
    /// record no hash yet, as stakater does when it replays its informers' adds.
    #[arg(long, env = "RELOADER_SYNC_AFTER_RESTART", action = ArgAction::Set, num_args = 0..=1, require_equals = false, default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub sync_after_restart: bool,

    /// Roll nothing: POST `{"webhook":"update successful"}` to this URL once for every
    /// admitted change of a Secret's or ConfigMap's data in scope (stakater's meaning).
    #[arg(long, env = "RELOADER_WEBHOOK_NOTIFY_URL", hide_env_values = true)]
    pub webhook_url: Option<String>,

    #[command(flatten)]
    pub annotations: AnnotationArgs,
}

/// stakater/Reloader's ten annotation-key overrides (its chart's `custom_annotations`). A
/// key given here replaces the default one: only it is read.
#[derive(Debug, Clone, Args)]
pub struct AnnotationArgs {
    /// Workload key: follow every referenced Secret and ConfigMap.
    #[arg(long, env = "RELOADER_AUTO_ANNOTATION", default_value = keys::AUTO)]
    pub auto_annotation: String,

    /// Workload key: follow every referenced Secret.
    #[arg(long, env = "RELOADER_SECRET_AUTO_ANNOTATION", default_value = keys::SECRET_AUTO)]
    pub secret_auto_annotation: String,

    /// Workload key: follow every referenced ConfigMap.
    #[arg(long, env = "RELOADER_CONFIGMAP_AUTO_ANNOTATION", default_value = keys::CONFIGMAP_AUTO)]
    pub configmap_auto_annotation: String,

    /// Workload key: the Secrets to follow, by name (comma-separated regexes).
    #[arg(long, env = "RELOADER_SECRET_ANNOTATION", default_value = keys::SECRET_RELOAD)]
    pub secret_annotation: String,

    /// Workload key: the ConfigMaps to follow, by name (comma-separated regexes).
    #[arg(long, env = "RELOADER_CONFIGMAP_ANNOTATION", default_value = keys::CONFIGMAP_RELOAD)]
    pub configmap_annotation: String,

    /// Workload key: follow referenced sources that carry the match key.
    #[arg(long, env = "RELOADER_AUTO_SEARCH_ANNOTATION", default_value = keys::SEARCH)]
    pub auto_search_annotation: String,

    /// Secret/ConfigMap key: found by workloads with the search key.
    #[arg(long, env = "RELOADER_SEARCH_MATCH_ANNOTATION", default_value = keys::MATCH)]
    pub search_match_annotation: String,

    /// Secret/ConfigMap key: its changes never roll anything.
    #[arg(long, env = "RELOADER_IGNORE_ANNOTATION", default_value = keys::IGNORE)]
    pub ignore_annotation: String,

    /// Deployment key of the pause period; it must start with `deployment.`, and the same
    /// key with the kind in front is read for the other kinds (`statefulset.…`).
    #[arg(
        long,
        env = "RELOADER_PAUSE_DEPLOYMENT_ANNOTATION",
        default_value = "deployment.reloader.stakater.com/pause-period"
    )]
    pub pause_deployment_annotation: String,

    /// Accepted for stakater's command lines and not used: stakater records a pause by
    /// pausing the Deployment and writing this key; reloader never pauses a Deployment
    /// and records its last reload in `reloader.stakater.com/last-reload-at`.
    #[arg(
        long,
        env = "RELOADER_PAUSE_DEPLOYMENT_TIME_ANNOTATION",
        default_value = "deployment.reloader.stakater.com/paused-at"
    )]
    pub pause_deployment_time_annotation: String,
}

#[cfg(test)]
mod tests;
