//! Starting the engine from `reloader serve`'s flags: caches, engine loop, resync, lease,
//! and with `--enable-csi-integration` the watch of the CSI driver's statuses.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::alerts::AlertSender;
use crate::metrics::Metrics;
use crate::reload::baseline::Baseline;
use crate::reload::cache;
use crate::reload::csi;
use crate::reload::discovery::{self, Detect};
use crate::reload::existence::Presences;
use crate::reload::leader::{self, LeaseOptions};
use crate::reload::resync::{self, ResyncOptions};
use crate::reload::scope;
use crate::reload::{Engine, EngineOptions, status_scan};
use crate::trigger::TriggerReceiver;
use reloader_core::index::FollowerIndex;
use reloader_core::policy::{AnnotationKeys, GlobalOptions};
use reloader_core::workload::WorkloadKind;

/// Everything the flags say, checked.
pub struct Settings {
    pub engine: EngineOptions,
    /// Whether to watch each optional API (`--is-argo-rollouts`); absent kinds: `auto`.
    pub detect: BTreeMap<WorkloadKind, Detect>,
    pub global: GlobalOptions,
    pub resync: ResyncOptions,
    /// `--namespace-selector`, as given (empty: every namespace).
    pub namespace_selector: String,
    /// `--leader-elect`: the lease to hold, or `None` to act on every replica.
    pub lease: Option<LeaseOptions>,
    /// `--hash-key-secret`: where the hash key lives; `None`: plain SHA-256.
    pub hash_key: Option<HashKeySecret>,
    /// The annotation keys read (stakater's `--*-annotation` overrides applied).
    pub keys: AnnotationKeys,
}

/// The Secret holding the hash key (see `reload::hash_key`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashKeySecret {
    pub namespace: String,
    pub name: String,
}

/// A started engine.
pub struct Started {
    /// Finishes once `shutdown` is true and in-flight work is drained (lease released).
    pub tasks: JoinSet<()>,
    /// What `/mutate/workloads` needs to stamp baselines.
    pub baseline: Baseline,
    /// What `/validate/reloaderconfigs` needs to warn about missing targets and sources.
    pub existence: Presences,
}

/// Has `metrics` read the cache sizes and the leadership at every scrape.
fn report_state(
    metrics: &Metrics,
    workloads: cache::WorkloadStores,
    leader: watch::Receiver<bool>,
) {
    metrics.on_scrape(move |m| {
        for (kind, objects) in workloads.sizes() {
            m.cache_objects(kind.as_str(), objects);
        }
        m.leader(*leader.borrow());
    });
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
        settings.keys.clone(),
        settings.global.clone(),
    )));
    let scope = settings.engine.scope.clone();
    let mut background = JoinSet::new();
    let mut caches = JoinSet::new();

    if let Some(set) = &settings.engine.scope.selected {
        let selector = scope::namespace_selector(&settings.namespace_selector);
        caches.spawn(scope::namespace_watch(
            client.clone(),
            selector,
            set.clone(),
        ));
    }
    // Every kind from its row in `workload::KINDS`, but those turned off: listed in
    // `--ignored-workload-types`, or an optional API its flag turns off.
    let mut workloads = cache::WorkloadStores::default();
    for kind in WorkloadKind::ALL {
        let detect = settings.detect.get(&kind).copied().unwrap_or_default();
        let ignored = settings.global.ignored_workload_types.contains(&kind);
        if !discovery::wanted(detect, ignored) {
            continue;
        }
        let (store, task) =
            cache::workload_cache(client.clone(), kind, detect, index.clone(), scope.clone());
        caches.spawn(task);
        workloads.0.insert(kind, store);
    }
    let (configs, task) = cache::config_cache(client.clone(), index.clone(), scope);
    caches.spawn(task);

    let baseline = Baseline {
        client: client.clone(),
        keys: settings.keys.clone(),
        global: settings.global.clone(),
        configs: configs.clone(),
        strategy: settings.engine.strategy,
        scope: settings.engine.scope.clone(),
        hash_keys: settings.engine.hash_keys.clone(),
        keep_stakater: settings.engine.keep_stakater,
    };
    let csi_scope = settings.engine.scope.clone();
    let existence = Presences {
        client: client.clone(),
        workloads: workloads.clone(),
    };
    let engine = Engine::new(
        client.clone(),
        index,
        configs.clone(),
        settings.engine,
        metrics.clone(),
        Some(workloads.clone()),
    )
    .with_alerts(alerts);
    let handle = engine.handle();
    background.spawn(engine.run(triggers, shutdown.clone()));
    if settings.global.csi {
        caches.spawn(csi::watch_statuses(
            client.clone(),
            handle.clone(),
            csi_scope,
        ));
    }

    let (leader_tx, leader_rx) = watch::channel(settings.lease.is_none());
    if let Some(options) = settings.lease.clone() {
        background.spawn(leader::run(client, options, leader_tx, shutdown.clone()));
    }
    report_state(&metrics, workloads.clone(), leader_rx.clone());

    let mut resync_shutdown = shutdown.clone();
    let mut cache_stop = shutdown.clone();
    let synced = metrics.clone();
    background.spawn(async move {
        // The first pass needs full caches, or it would miss followers.
        let ready = async {
            workloads.wait_until_ready().await;
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
        synced.caches_synced(true);
        tokio::join!(
            status_scan::run(handle.clone(), leader_rx.clone(), shutdown.clone()),
            resync::run(handle, settings.resync, leader_rx, shutdown),
        );
    });

    background.spawn(async move {
        let _ = cache_stop.wait_for(|s| *s).await;
        caches.abort_all();
    });
    Started {
        tasks: background,
        baseline,
        existence,
    }
}
