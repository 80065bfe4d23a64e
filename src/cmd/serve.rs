//! `reloader serve`: wires TLS, the webhook and operations servers, the trigger queue and
//! the certificate watcher together.

use std::sync::Arc;

use reloader_core::baseline::Baselines;
use reloader_core::existence::{Existence, NoCache};
use reloader_core::hash::Hasher;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::cmd::cli::ServeArgs;
use crate::metrics::Metrics;
use crate::trigger;
use crate::webhook::server::{self, Readiness};
use crate::webhook::sources::SourcesOptions;
use crate::webhook::tls::{self, CertPaths, CertWatcher, ReloadingCert};
use crate::webhook::{AppState, Limits};
use reloader_core::validation::ValidationOptions;

/// How long open connections may finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

/// A Kubernetes client configuration: `--kubeconfig`, else in-cluster, else `KUBECONFIG`
/// (or `~/.kube/config`).
pub async fn kube_config(path: Option<&std::path::Path>) -> anyhow::Result<kube::Config> {
    use kube::config::{KubeConfigOptions, Kubeconfig};
    let options = KubeConfigOptions::default();
    if let Some(path) = path {
        let kc = Kubeconfig::read_from(path)
            .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
        return Ok(kube::Config::from_custom_kubeconfig(kc, &options).await?);
    }
    match kube::Config::incluster() {
        Ok(c) => Ok(c),
        Err(in_cluster) => kube::Config::from_kubeconfig(&options)
            .await
            .with_context(|| format!("not in a cluster ({in_cluster}) and no usable KUBECONFIG")),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

pub async fn run(args: ServeArgs, logging: crate::cmd::meta_info::Logging) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::new());
    // stakater's switch is METRICS_COUNT_BY_NAMESPACE=enabled (its chart's
    // enableMetricsByNamespace).
    let by_namespace = std::env::var("METRICS_COUNT_BY_NAMESPACE").is_ok_and(|v| v == "enabled");
    metrics.count_by_namespace(args.metrics_by_namespace || by_namespace);
    if args.go_only.enable_pprof {
        tracing::warn!(
            pprof_addr = %args.go_only.pprof_addr,
            "--enable-pprof is stakater's Go profiler; reloader has none, nothing is served"
        );
    }
    let paths = CertPaths {
        cert: args.tls_cert_file.clone(),
        key: args.tls_key_file.clone(),
    };
    let (key, cert_pem, key_pem) = tls::load(&paths).context("serving certificate")?;
    tracing::info!(fingerprint = %tls::fingerprint(&key), "serving certificate loaded");
    let resolver = ReloadingCert::new(key);
    let acceptor = TlsAcceptor::from(tls::server_config(resolver.clone())?);
    let watcher = CertWatcher::new(paths, resolver, metrics.clone(), (cert_pem, key_pem));
    let watch_task =
        tokio::spawn(watcher.run(Duration::from_millis(args.cert_check_interval_ms.max(100))));

    // The reload engine consumes this queue; with `--log-only` a sink logs the triggers.
    let (queue, rx) = trigger::queue(trigger::QUEUE_CAPACITY);
    // reloader_trigger_queue_depth, read at each scrape.
    queue.report_depth(&metrics);
    // Turned true once the webhook has stopped accepting reviews: the engine then drains.
    let (engine_stop_tx, engine_stop_rx) = watch::channel(false);
    // Flags become settings once, here; a bad flag stops the start before anything runs.
    let pod_name = std::env::var("POD_NAME").ok();
    let mut engine_settings = crate::cmd::engine_flags::settings(&args.engine, pod_name, DRAIN)?;
    engine_settings.resync.sync_after_restart =
        args.engine.sync_after_restart && args.reload_on_create;
    if args.engine.sync_after_restart && !args.reload_on_create {
        tracing::warn!(
            "--sync-after-restart has no effect without --reload-on-create (as upstream)"
        );
    }
    if engine_settings.engine.notify_only.is_some() {
        tracing::warn!("--webhook-url: every change is posted there and nothing is reloaded");
    }
    let ignore_annotation = engine_settings.keys.ignore.clone();
    let alert_options =
        crate::cmd::alert_flags::from_args(&args.alerts, args.allow_insecure_alert_urls)?;
    let mut baseline = None;
    let mut existence: Arc<dyn Existence> = Arc::new(NoCache);
    let mut hasher = Hasher::Plain;
    let mut engine = if args.log_only {
        tracing::warn!("--log-only: admitted changes are logged, nothing is reloaded");
        let mut set = tokio::task::JoinSet::new();
        set.spawn(trigger::log_sink(rx));
        set
    } else {
        let c = kube_config(args.kubeconfig.as_deref())
            .await
            .context("no Kubernetes API access (--log-only serves the webhooks without it)")?;
        tracing::info!(cluster = %c.cluster_url, "Kubernetes API configured");
        let host = c
            .cluster_url
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let counted = crate::metrics::client::CountRequests::new(metrics.clone(), &host);
        let client = kube::client::ClientBuilder::try_from(c)
            .context("Kubernetes client")?
            .with_layer(&counted)
            .build();
        if let Some(secret) = &engine_settings.hash_key {
            let ring = crate::reload::hash_key::load(&client, &secret.namespace, &secret.name)
                .await
                .context("--hash-key-secret")?;
            hasher = ring.current().clone();
            engine_settings.engine.hash_keys = Arc::new(ring);
        } else {
            tracing::warn!(
                "no --hash-key-secret: recorded hashes are plain SHA-256 (see docs/security.md)"
            );
        }
        if let Some(at) = crate::cmd::meta_info::Placement::from_env() {
            let cm = crate::cmd::meta_info::config_map(&args, &logging, &at);
            tokio::spawn(crate::cmd::meta_info::publish(client.clone(), cm));
        }
        let (alerts, dispatcher) =
            crate::alerts::start(alert_options, Some(client.clone()), metrics.clone())?;
        let mut started = crate::reload::start::start(
            client,
            engine_settings,
            rx,
            engine_stop_rx,
            metrics.clone(),
            alerts,
        );
        // Ends once the engine has stopped and the queued alerts are sent.
        started.tasks.spawn(dispatcher);
        baseline = Some(Arc::new(started.baseline) as Arc<dyn Baselines>);
        existence = Arc::new(started.existence);
        started.tasks
    };

    let limits = Limits {
        http2: args.webhook_http2,
        max_connections: args.webhook_max_connections,
        ..Limits::default()
    };
    let state = Arc::new(AppState {
        sources: SourcesOptions {
            reload_on_create: args.reload_on_create,
            reload_on_delete: args.reload_on_delete,
            hasher,
            ignore_annotation: Some(ignore_annotation),
        },
        reloaderconfigs: ValidationOptions {
            allow_insecure_alert_urls: args.allow_insecure_alert_urls,
        },
        limits,
        baseline,
        existence,
        ..AppState::new(metrics.clone(), queue)
    });
    let ready = Readiness::default();
    let webhook_listener = server::bind(args.webhook_addr).await?;
    let ops_listener = server::bind(args.metrics_addr).await?;
    tracing::info!(addr = %webhook_listener.local_addr()?, "webhook server listening");
    tracing::info!(addr = %ops_listener.local_addr()?, "metrics server listening");

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let webhook = tokio::spawn(server::serve_tls(
        webhook_listener,
        acceptor,
        server::router(state),
        limits,
        stopped(stop_rx.clone()),
        DRAIN,
    ));
    let ops = tokio::spawn(server::serve_plain(
        ops_listener,
        server::ops_router(metrics, ready.clone(), log_control(args.log_level_endpoint)),
        stopped(stop_rx),
    ));
    ready.set(true);

    shutdown_signal().await;
    tracing::info!("shutting down");
    ready.set(false);
    let _ = stop_tx.send(true);
    let _ = webhook.await;
    // No more reviews: let in-flight reloads finish (bounded), release the lease.
    let _ = engine_stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN + Duration::from_secs(5), async {
        while engine.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        engine.abort_all();
    }
    let _ = ops.await;
    watch_task.abort();
    Ok(())
}

/// The runtime log filter for `/log-level`, when `--log-level-endpoint` asks for it.
fn log_control(enabled: bool) -> Option<&'static dyn server::LogControl> {
    if !enabled {
        return None;
    }
    let level = crate::cmd::telemetry::level();
    if level.is_none() {
        tracing::warn!("--log-level-endpoint: no global logger installed; /log-level is off");
    }
    level.map(|l| l as &'static dyn server::LogControl)
}
