//! Starting the engine from `reloader serve`'s flags: caches, engine loop, resync, lease.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::alerts::AlertSender;
use crate::cmd::cli::EngineArgs;
use crate::metrics::Metrics;
use crate::reload::cache::{self, Scope};
use crate::reload::discovery::{self, Detect};
use crate::reload::leader::{self, LeaseOptions};
use crate::reload::resync::{self, ResyncOptions};
use crate::reload::{Engine, EngineOptions, status_scan};
use crate::trigger::TriggerReceiver;
use crate::webhook::workloads::Baseline;
use reloader_core::duration::parse_duration;
use reloader_core::index::FollowerIndex;
use reloader_core::policy::{AnnotationKeys, GlobalOptions};
use reloader_core::workload::WorkloadKind;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;

/// `cronjobs`, `CronJob`, `cronjob` → CronJob; kinds we never roll (`jobs`) → None.
pub fn workload_type(name: &str) -> Option<WorkloadKind> {
    let lower = name.trim().to_ascii_lowercase();
    let singular = lower.strip_suffix('s').unwrap_or(&lower);
    WorkloadKind::ALL
        .into_iter()
        .find(|k| k.lower() == singular)
}

/// Everything the flags say, checked.
pub struct Settings {
    pub engine: EngineOptions,
    /// `--is-argo-rollouts`.
    pub argo_rollouts: Detect,
    pub global: GlobalOptions,
    pub resync: ResyncOptions,
}

pub fn settings(args: &EngineArgs) -> anyhow::Result<Settings> {
    let duration = |flag: &str, value: &str| {
        parse_duration(value).with_context(|| format!("--{flag} {value:?}"))
    };
    let global = GlobalOptions {
        ignored_workload_types: args
            .ignored_workload_types
            .iter()
            .filter_map(|t| workload_type(t))
            .collect(),
        ignore_secrets: args.ignore_secrets,
        ignore_configmaps: args.ignore_configmaps,
        auto_reload_all: args.auto_reload_all,
    };
    let engine = EngineOptions {
        strategy: args.reload_strategy.parse().context("--reload-strategy")?,
        coalesce: duration("coalesce-window", &args.coalesce_window)?,
        source_wait: duration("source-wait", &args.source_wait)?,
        resource_selector: args
            .resource_label_selector
            .parse()
            .context("--resource-label-selector")?,
        scope: Scope {
            only: args
                .namespaces
                .iter()
                .filter(|n| !n.is_empty())
                .cloned()
                .collect(),
            ignore: args
                .namespaces_to_ignore
                .iter()
                .filter(|n| !n.is_empty())
                .cloned()
                .collect(),
            selected: (!args.namespace_selector.trim().is_empty())
                .then(cache::NamespaceSet::default),
        },
        instance: std::env::var("POD_NAME").ok(),
        drain: std::time::Duration::from_secs(10),
    };
    let resync = ResyncOptions {
        period: duration("resync-period", &args.resync_period)?,
        qps: args.kube_api_qps,
        burst: args.kube_api_burst,
    };
    Ok(Settings {
        argo_rollouts: args
            .is_argo_rollouts
            .parse()
            .context("--is-argo-rollouts")?,
        engine,
        global,
        resync,
    })
}

fn identity() -> String {
    std::env::var("POD_NAME")
        .unwrap_or_else(|_| format!("reloader-{}-{:08x}", std::process::id(), fastrand::u32(..)))
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
    args: &EngineArgs,
    triggers: TriggerReceiver,
    shutdown: watch::Receiver<bool>,
    metrics: Arc<Metrics>,
    alerts: AlertSender,
) -> anyhow::Result<Started> {
    let settings = settings(args)?;
    let index = Arc::new(RwLock::new(FollowerIndex::new(
        AnnotationKeys::default(),
        settings.global.clone(),
    )));
    let scope = settings.engine.scope.clone();
    let mut background = JoinSet::new();
    let mut caches = JoinSet::new();
    let ignored: HashSet<WorkloadKind> = settings.global.ignored_workload_types.clone();

    if let Some(set) = &settings.engine.scope.selected {
        let selector = cache::namespace_selector(&args.namespace_selector);
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

    let (leader_tx, leader_rx) = watch::channel(!args.leader_elect);
    if args.leader_elect {
        let options = LeaseOptions {
            namespace: args
                .leader_election_namespace
                .clone()
                .or_else(|| std::env::var("POD_NAMESPACE").ok())
                .unwrap_or_else(|| "reloader".into()),
            name: args.leader_election_id.clone(),
            identity: identity(),
            duration: std::time::Duration::from_secs(15),
            retry: std::time::Duration::from_secs(2),
        };
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
    Ok(Started {
        tasks: background,
        baseline,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cmd::cli::{Cli, Command};

    fn argo(flags: &[&str]) -> anyhow::Result<Detect> {
        let args = ["reloader", "serve"].iter().chain(flags);
        let Command::Serve(serve) = Cli::try_parse_from(args)?.command else {
            anyhow::bail!("not serve");
        };
        Ok(settings(&serve.engine)?.argo_rollouts)
    }

    #[test]
    fn the_argo_rollouts_flag_keeps_stakaters_spellings() {
        let cases = [
            (&[][..], Detect::Auto),
            (&["--is-argo-rollouts"][..], Detect::On),
            (&["--is-argo-rollouts=false"][..], Detect::Off),
            (&["--is-Argo-Rollouts=true"][..], Detect::On),
            (&["--is-argo-rollouts=auto"][..], Detect::Auto),
        ];
        for (flags, want) in cases {
            assert_eq!(argo(flags).unwrap(), want, "{flags:?}");
        }
        let err = argo(&["--is-argo-rollouts=maybe"]).unwrap_err();
        assert!(format!("{err:#}").contains("--is-argo-rollouts"), "{err:#}");
    }
}
