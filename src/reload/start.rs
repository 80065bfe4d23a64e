//! Starting the engine from `reloader serve`'s flags: caches, engine loop, resync, lease.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::alerts::AlertSender;
use crate::metrics::Metrics;
use crate::reload::baseline::Baseline;
use crate::reload::cache;
use crate::reload::discovery::{self, Detect};
use crate::reload::leader::{self, LeaseOptions};
use crate::reload::resync::{self, ResyncOptions};
use crate::reload::{Engine, EngineOptions, status_scan};
use crate::trigger::TriggerReceiver;
use reloader_core::index::FollowerIndex;
use reloader_core::policy::{AnnotationKeys, GlobalOptions};
use reloader_core::workload::WorkloadKind;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;

/// Everything the flags say, checked.
pub struct Settings {
    pub engine: EngineOptions,
    /// `--is-argo-rollouts`.
    pub argo_rollouts: Detect,
    pub global: GlobalOptions,
    pub resync: ResyncOptions,
    /// `--namespace-selector`, as given (empty: every namespace).
    pub namespace_selector: String,
    /// `--leader-elect`: the lease to hold, or `None` to act on every replica.
    pub lease: Option<LeaseOptions>,
}

/// A started engine.
pub struct Started {
    /// Finishes once `shutdown` is true and in-flight work is drained (lease released).
    pub tasks: JoinSet<()>,
    /// What `/mutate/workloads` needs to stamp baselines.
    pub baseline: Baseline,
}

/// Starts caches, engine, resync, the status observer and (with `--leader-elect`) the lease.
pub fn start(
    client: Client,
    settings: Settings,
    triggers: TriggerReceiver,
    shutdown: watch::Receiver<bool>,
    metrics: Arc<Metrics>,
    alerts: AlertSender,
) -> Started {
    let index = Arc::new(RwLock::new(FollowerIndex::new(
        AnnotationKeys::default(),
        settings.global.clone(),
    )));
    let scope = settings.engine.scope.clone();
    let mut background = JoinSet::new();
    let mut caches = JoinSet::new();
    let ignored: HashSet<WorkloadKind> = settings.global.ignored_workload_types.clone();

    if let Some(set) = &settings.engine.scope.selected {
        let selector = cache::namespace_selector(&settings.namespace_selector);
        caches.spawn(cache::namespace_watch(
            client.clone(),
            selector,
            set.clone(),
        ));
    }
    let (deployments, task) =
        cache::workload_cache::<Deployment>(client.clone(), index.clone(), scope.clone());
    caches.spawn(task);
    let (statefulsets, task) =
        cache::workload_cache::<StatefulSet>(client.clone(), index.clone(), scope.clone());
    caches.spawn(task);
    let (daemonsets, task) =
        cache::workload_cache::<DaemonSet>(client.clone(), index.clone(), scope.clone());
    caches.spawn(task);
    let cronjobs = if ignored.contains(&WorkloadKind::CronJob) {
        None
    } else {
        let (store, task) =
            cache::workload_cache::<CronJob>(client.clone(), index.clone(), scope.clone());
        caches.spawn(task);
        Some(store)
    };
    // Optional APIs; DeploymentConfigs have no flag of their own: they are watched where
    // the OpenShift API is served, unless `--ignored-workload-types` names them.
    let mut optional =
        |kind: WorkloadKind, detect: Detect| match discovery::plan(detect, ignored.contains(&kind))
        {
            discovery::Plan::Skip => None,
            discovery::Plan::Discover(detect) => {
                let (store, task) = cache::optional_kinds::dynamic_cache(
                    client.clone(),
                    kind,
                    detect,
                    index.clone(),
                    scope.clone(),
                );
                caches.spawn(task);
                Some(store)
            }
        };
    let rollouts = optional(WorkloadKind::Rollout, settings.argo_rollouts);
    let deployment_configs = optional(WorkloadKind::DeploymentConfig, Detect::Auto);
    let (configs, task) = cache::config_cache(client.clone(), index.clone(), scope);
    caches.spawn(task);

    let baseline = Baseline {
        client: client.clone(),
        keys: AnnotationKeys::default(),
        global: settings.global.clone(),
        configs: configs.clone(),
        strategy: settings.engine.strategy,
        scope: settings.engine.scope.clone(),
    };
    let engine = Engine::new(
        client.clone(),
        index,
        configs.clone(),
        settings.engine,
        metrics,
        Some(cache::WorkloadStores {
            deployments: deployments.clone(),
            statefulsets: statefulsets.clone(),
            daemonsets: daemonsets.clone(),
            cronjobs: cronjobs.clone(),
            rollouts: rollouts.clone(),
            deployment_configs: deployment_configs.clone(),
        }),
    )
    .with_alerts(alerts);
    let resolver = engine.resolver();
    background.spawn(engine.run(triggers, shutdown.clone()));

    let (leader_tx, leader_rx) = watch::channel(settings.lease.is_none());
    if let Some(options) = settings.lease.clone() {
        background.spawn(leader::run(client, options, leader_tx, shutdown.clone()));
    }

    let mut resync_shutdown = shutdown.clone();
    let mut cache_stop = shutdown.clone();
    background.spawn(async move {
        // The first pass needs full caches, or it would miss followers.
        let ready = async {
            let _ = deployments.wait_until_ready().await;
            let _ = statefulsets.wait_until_ready().await;
            let _ = daemonsets.wait_until_ready().await;
            if let Some(c) = &cronjobs {
                let _ = c.wait_until_ready().await;
            }
            // Returns at once when discovery found no API (the writer is dropped).
            for store in rollouts.iter().chain(deployment_configs.iter()) {
                let _ = store.wait_until_ready().await;
            }
            // ReloaderConfigs may not be installed; then their cache joins when it can.
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                configs.wait_until_ready(),
            )
            .await;
        };
        tokio::select! {
            _ = resync_shutdown.wait_for(|s| *s) => return,
            _ = ready => {}
        }
        tracing::info!("workload caches filled");
        tokio::join!(
            status_scan::run(resolver.clone(), leader_rx.clone(), shutdown.clone()),
            resync::run(resolver, settings.resync, leader_rx, shutdown),
        );
    });

    background.spawn(async move {
        let _ = cache_stop.wait_for(|s| *s).await;
        caches.abort_all();
    });
    Started {
        tasks: background,
        baseline,
    }
}
