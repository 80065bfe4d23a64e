//! The engine loop: triggers in, coalesced reconciles out.
//!
//! Triggers are resolved concurrently (each waits, bounded, for its write to be stored);
//! the records they yield are coalesced per workload in [`PendingSet`]; a workload is
//! reconciled by one task at a time, and what arrives meanwhile waits for the next round.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::runtime::reflector::{ObjectRef, Store};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::alerts::{AlertResult, AlertSender};
use crate::metrics::Metrics;
use crate::reload::apply::{self, ApplyError, Outcome, Retry};
use reloader_core::crd::ReloaderConfig;
use reloader_core::index::ConfigId;
use reloader_core::patch::ReloadStrategy;

/// More reconciles due within a minute than this, and the engine is busy (see
/// [`EngineHandle::busy`]). Sources are shared: a resync pass over tens of thousands of
/// followers would otherwise queue every one of them within seconds, and the allocator
/// keeps that peak (measured at 50,000 workloads: hundreds of MiB), while a real change
/// waits behind them.
pub const BUSY: usize = 1024;

/// When a reconcile that failed on a transient error is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(5);
use crate::reload::alerting;
use crate::reload::cache::{SharedIndex, WorkloadStores};
use crate::reload::coalesce;
use crate::reload::events::Events;
use crate::reload::first_status::{self, Observed};
use crate::reload::followers::{Reading, entries_for};
use crate::reload::labels::LabelSelector;
use crate::reload::notify_only::NotifyOnly;
use crate::reload::queue::{Entry, Pending, PendingSet, after};
use crate::reload::scope::Scope;
use crate::reload::source_read::{self, StoredSource};
use crate::reload::status::{self, TargetOutcome};
use crate::trigger::{Trigger, TriggerReceiver};
use reloader_core::hash::KeyRing;
use reloader_core::source::{SourceKind, SourceRef};
use reloader_core::workload::WorkloadRef;

/// Start-up options of the engine.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    pub strategy: ReloadStrategy,
    /// Changes to one workload within this window of the first become one patch.
    pub coalesce: Duration,
    /// How long a trigger waits for its write to show in the stored source.
    pub source_wait: Duration,
    /// Only sources with matching labels trigger (`--resource-label-selector`).
    pub resource_selector: LabelSelector,
    pub scope: Scope,
    /// Reporting instance for Events (the pod name).
    pub instance: Option<String>,
    /// How long in-flight reconciles may finish after shutdown is asked.
    pub drain: Duration,
    /// The hash key of new records and the schemes of older ones.
    pub hash_keys: Arc<KeyRing>,
    /// `--webhook-url`: post each admitted change there and roll nothing (resync too).
    pub notify_only: Option<NotifyOnly>,
    /// `--run-cronjobs-on-reload`: a reloaded CronJob also runs a Job now, as stakater's.
    pub run_cronjobs: bool,
    /// `--keep-stakater-records`: stakater's records stay in stakater's format.
    pub keep_stakater: bool,
    /// `--max-concurrent-reloads`: reconciles in flight at once.
    pub max_concurrent: usize,
}

/// Records for some workloads, from one source read, with each workload's coalescing window.
type Batch = Vec<(WorkloadRef, Entry, Duration)>;

/// The engine's shared half, cloned into trigger resolution, resync and the status scan.
#[derive(Clone)]
pub struct EngineHandle {
    client: Client,
    index: SharedIndex,
    configs: Store<ReloaderConfig>,
    options: Arc<EngineOptions>,
    seq: Arc<AtomicU64>,
    inbox: mpsc::Sender<Batch>,
    /// Workloads whose reconcile is due within a minute (the run loop's `PendingSet`).
    pending: Arc<AtomicUsize>,
    metrics: Arc<Metrics>,
    workloads: Option<WorkloadStores>,
    status: mpsc::Sender<status::Update>,
}

impl EngineHandle {
    fn batch(
        &self,
        source: &SourceRef,
        stored: Option<&StoredSource>,
        baseline_required: bool,
        seq: u64,
        admitted: Option<SystemTime>,
    ) -> Batch {
        if let Some(s) = stored
            && !self.options.resource_selector.matches(&s.labels)
        {
            return Vec::new();
        }
        let entries = {
            let index = self.index.read().unwrap_or_else(|e| e.into_inner());
            let configs = &self.configs;
            entries_for(
                &index,
                |id: &ConfigId| configs.get(&ObjectRef::new(&id.name).within(&id.namespace)),
                self.options.strategy,
                Reading {
                    source,
                    stored,
                    seq,
                    baseline_required,
                    hasher: self.options.hash_keys.current(),
                    keep_stakater: self.options.keep_stakater,
                },
            )
        };
        entries
            .into_iter()
            .map(|(w, mut e)| {
                e.admitted = admitted;
                let coalesce = self.coalesce_for(&w, &e);
                (w, e, coalesce)
            })
            .collect()
    }

    /// The window this change opens (see `coalesce` for the precedence).
    fn coalesce_for(&self, workload: &WorkloadRef, entry: &Entry) -> Duration {
        let annotation = self
            .workloads
            .as_ref()
            .and_then(|s| s.coalesce_window(workload));
        coalesce::window(entry.coalesce, annotation.as_deref(), self.options.coalesce)
    }

    async fn send(&self, batch: Batch) {
        if !batch.is_empty() {
            let _ = self.inbox.send(batch).await;
        }
    }

    /// Resolves one trigger: waits for the admitted write, then queues its followers.
    pub async fn resolve_trigger(&self, trigger: Trigger) {
        if !self.options.scope.includes(&trigger.namespace) {
            self.metrics.stakater.skipped("ignored_or_not_selected");
            return;
        }
        let started = std::time::Instant::now();
        let kind = trigger.kind;
        let result = self.resolve_in_scope(trigger).await;
        self.metrics
            .stakater
            .reconcile(resource_type(kind), result, started.elapsed());
    }

    /// Resolves a change a watch saw (a CSI driver's status): already stored, so nothing
    /// to wait for; queues the followers of `source` as `stored` shows it.
    pub async fn resolve_observed(&self, source: SourceRef, stored: StoredSource) {
        if !self.options.scope.includes(&source.namespace) {
            self.metrics.stakater.skipped("ignored_or_not_selected");
            return;
        }
        let started = std::time::Instant::now();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let kind = source.kind;
        let result = self
            .queue_followers(&source, Some(stored), seq, Some(SystemTime::now()))
            .await;
        self.metrics
            .stakater
            .reconcile(resource_type(kind), result, started.elapsed());
    }

    /// [`Self::resolve_trigger`] past the scope check: `success`, or `error` when the
    /// write could not be confirmed in the stored source.
    async fn resolve_in_scope(&self, trigger: Trigger) -> &'static str {
        // Numbered on arrival, before waiting, so later triggers outrank earlier ones.
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let source = trigger.source();
        let notify = self.options.notify_only.as_ref();
        // Most Secret and ConfigMap writes concern nobody: skip the read entirely
        // (`--webhook-url` posts for followed and unfollowed sources alike, as stakater).
        if notify.is_none() && !self.follows(&source) {
            self.metrics.trigger_result("unfollowed");
            return "success";
        }
        let stored = match source_read::wait_for(
            &self.client,
            &self.options.hash_keys,
            &source,
            trigger.operation,
            &trigger.before,
            self.options.source_wait,
        )
        .await
        {
            Ok(stored) => stored,
            Err(e) => {
                self.metrics.trigger_result(e.label());
                tracing::info!(%source, reason = e.label(), error = %e, "trigger dropped");
                return "error";
            }
        };
        self.queue_followers(&source, stored, seq, Some(trigger.admitted_at))
            .await
    }

    /// The source as stored now (`None`: deleted) to its followers' records, queued; or,
    /// with `--webhook-url`, posted.
    async fn queue_followers(
        &self,
        source: &SourceRef,
        stored: Option<StoredSource>,
        seq: u64,
        admitted: Option<SystemTime>,
    ) -> &'static str {
        let notify = self.options.notify_only.as_ref();
        let source = source.clone();
        let selected = stored
            .as_ref()
            .is_none_or(|s| self.options.resource_selector.matches(&s.labels));
        if !selected {
            self.metrics.stakater.skipped("ignored_or_not_selected");
        }
        if let Some(notify) = notify {
            // A deletion reaches here only with --reload-on-delete, and is posted too.
            if selected {
                notify.send(&source, &self.metrics).await;
            } else {
                self.metrics.trigger_result("unselected");
            }
            return "success";
        }
        let batch = self.batch(&source, stored.as_ref(), false, seq, admitted);
        tracing::debug!(%source, followers = batch.len(), "trigger resolved");
        self.metrics.trigger_result(if batch.is_empty() {
            "no_followers"
        } else {
            "followers"
        });
        for (workload, _, _) in &batch {
            self.metrics.stakater.matched(workload.kind.as_str(), 1);
        }
        self.send(batch).await;
        "success"
    }

    /// Resync of one source: read it now and queue its followers. With
    /// `baseline_required` only those that already record it (the usual pass); without,
    /// also those that record nothing (`--sync-after-restart`'s first pass).
    pub async fn resync_source(
        &self,
        source: &SourceRef,
        baseline_required: bool,
    ) -> Result<(), source_read::SourceError> {
        // --webhook-url rolls nothing, not even a repair.
        if !self.options.scope.includes(&source.namespace) || self.options.notify_only.is_some() {
            return Ok(());
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let stored = source_read::read(&self.client, &self.options.hash_keys, source).await?;
        // A source that does not exist is left alone by resync: deletes only roll through
        // their trigger (`--reload-on-delete`).
        if let Some(stored) = stored {
            let batch = self.batch(source, Some(&stored), baseline_required, seq, None);
            self.send(batch).await;
        }
        Ok(())
    }

    /// Reports ReloaderConfig targets that do not exist (`TargetNotFound`); resync calls it.
    pub fn report_missing_targets(&self) -> usize {
        let missing: Vec<status::Update> = {
            let index = self.index.read().unwrap_or_else(|e| e.into_inner());
            self.configs
                .state()
                .iter()
                .filter_map(|rc| crate::reload::cache::config_input(rc))
                .filter(|(id, _)| self.options.scope.includes(&id.namespace))
                .flat_map(|(id, input)| {
                    input
                        .targets
                        .into_iter()
                        .filter(|t| index.workload(t).is_none())
                        .map(move |t| {
                            status::Update::Target(id.clone(), t, TargetOutcome::NotFound)
                        })
                })
                .collect()
        };
        let count = missing.len();
        for update in missing {
            let _ = self.status.try_send(update);
        }
        count
    }

    /// ReloaderConfigs in scope whose stored status is behind, with their missing targets.
    pub fn stale_configs(&self) -> Vec<Observed> {
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        self.configs
            .state()
            .iter()
            .filter_map(|rc| {
                let (config, input) = crate::reload::cache::config_input(rc)?;
                if !self.options.scope.includes(&config.namespace) {
                    return None;
                }
                let missing: Vec<WorkloadRef> = input
                    .targets
                    .into_iter()
                    .filter(|t| index.workload(t).is_none())
                    .collect();
                first_status::needs_write(rc, &missing).then(|| Observed {
                    config,
                    generation: rc.metadata.generation,
                    missing,
                })
            })
            .collect()
    }

    /// Queues a status update for the writer; false when its queue is full.
    pub fn queue_status(&self, update: status::Update) -> bool {
        self.status.try_send(update).is_ok()
    }

    /// Whether more than [`BUSY`] workloads wait for a reconcile due within a minute: resync
    /// reads no further source meanwhile (a paused workload does not count).
    pub fn busy(&self) -> bool {
        self.pending.load(Ordering::Relaxed) > BUSY
    }

    /// The hash key of new records and the schemes of older ones.
    pub fn hash_keys(&self) -> &KeyRing {
        &self.options.hash_keys
    }

    /// Whether any follower (whatever its decision) is listed for the source.
    pub fn follows(&self, source: &SourceRef) -> bool {
        !self
            .index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .lookup(source, None)
            .is_empty()
    }

    /// Every source some workload follows by name.
    pub fn followed_sources(&self) -> Vec<SourceRef> {
        self.index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .sources()
    }
}

/// stakater's `resource_type` metric label for a source kind.
fn resource_type(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Secret => "secrets",
        SourceKind::ConfigMap => "configmaps",
        SourceKind::SecretProviderClass => "secretproviderclasspodstatuses",
    }
}

/// Queues a batch's records, each workload's window opening now.
fn queue_batch(pending: &mut PendingSet, batch: Batch) {
    let now = Timestamp::now();
    for (workload, entry, coalesce) in batch {
        pending.add(workload, entry, now, coalesce);
    }
}

/// The reload engine.
pub struct Engine {
    client: Client,
    options: Arc<EngineOptions>,
    handle: EngineHandle,
    inbox: mpsc::Receiver<Batch>,
    events: Events,
    metrics: Arc<Metrics>,
    status: mpsc::Sender<status::Update>,
    alerts: AlertSender,
}

/// Result of one reconcile task.
struct Done {
    workload: WorkloadRef,
    pending: Pending,
    result: Result<Outcome, ApplyError>,
}

impl Engine {
    pub fn new(
        client: Client,
        index: SharedIndex,
        configs: Store<ReloaderConfig>,
        options: EngineOptions,
        metrics: Arc<Metrics>,
        workloads: Option<WorkloadStores>,
    ) -> Self {
        // Bounded like the trigger queue: each batch is small and drained at once.
        let (tx, rx) = mpsc::channel(1024);
        let options = Arc::new(options);
        let (status_tx, status_rx) = mpsc::channel(status::QUEUE);
        tokio::spawn(status::writer(
            client.clone(),
            Events::new(client.clone(), options.instance.clone()),
            status_rx,
        ));
        let handle = EngineHandle {
            status: status_tx.clone(),
            client: client.clone(),
            index,
            configs,
            options: options.clone(),
            seq: Arc::new(AtomicU64::new(1)),
            pending: Arc::new(AtomicUsize::new(0)),
            inbox: tx,
            metrics: metrics.clone(),
            workloads,
        };
        Self {
            status: status_tx,
            events: Events::new(client.clone(), options.instance.clone()),
            client,
            options,
            handle,
            inbox: rx,
            metrics,
            alerts: AlertSender::disabled(),
        }
    }

    /// Reports every reload attempt (rolled, up to date, deferred, failed) to `alerts`.
    pub fn with_alerts(mut self, alerts: AlertSender) -> Self {
        self.alerts = alerts;
        self
    }

    fn alert(
        &self,
        workload: &WorkloadRef,
        p: &Pending,
        configs: &[ConfigId],
        result: AlertResult,
    ) {
        let event = alerting::event(workload, p, result, Timestamp::now());
        let sinks = alerting::config_sinks(&self.handle.configs, configs);
        self.alerts.send(event, sinks);
    }

    /// A handle for resync and the status scan.
    pub fn handle(&self) -> EngineHandle {
        self.handle.clone()
    }

    /// Runs until `shutdown` turns true, then lets in-flight reconciles finish within
    /// the drain bound.
    pub async fn run(mut self, mut triggers: TriggerReceiver, mut shutdown: watch::Receiver<bool>) {
        let mut pending = PendingSet::default();
        let mut busy: HashSet<WorkloadRef> = HashSet::new();
        let mut applying: JoinSet<Done> = JoinSet::new();
        let mut resolving: JoinSet<()> = JoinSet::new();
        let mut triggers_open = true;
        loop {
            let now = Timestamp::now();
            let room = self.options.max_concurrent.saturating_sub(applying.len());
            for (workload, p) in pending.take_due(now, |w| busy.contains(w), room) {
                self.spawn_apply(&mut applying, &mut busy, workload, p);
            }
            // Counting the due ones scans the set: only when the count could pass BUSY.
            let waiting = match pending.len() {
                n if n <= BUSY => n,
                _ => pending.due_within(now, Duration::from_secs(60)),
            };
            self.handle.pending.store(waiting, Ordering::Relaxed);
            // At capacity, only a finished reconcile makes room.
            let wait = (applying.len() < self.options.max_concurrent)
                .then(|| pending.next_due(|w| busy.contains(w)))
                .flatten()
                .map(|due| {
                    let ms = due.duration_since(Timestamp::now()).as_millis().max(0);
                    Duration::from_millis(ms as u64)
                })
                .unwrap_or(Duration::from_secs(3600));
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => break,
                t = triggers.recv(), if triggers_open => match t {
                    Some(t) => {
                        let waited = SystemTime::now().duration_since(t.admitted_at).unwrap_or_default();
                        self.metrics.stakater.dequeued(waited);
                        self.spawn_resolve(&mut resolving, t);
                    }
                    None => triggers_open = false,
                },
                Some(batch) = self.inbox.recv() => queue_batch(&mut pending, batch),
                Some(done) = applying.join_next() => match done {
                    Ok(done) => {
                        busy.remove(&done.workload);
                        self.finish(done, &mut pending);
                    }
                    Err(e) => tracing::error!(error = %e, "reconcile task failed"),
                },
                Some(_) = resolving.join_next() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        let drained = tokio::time::timeout(
            self.options.drain,
            self.drain(
                &mut triggers,
                &mut resolving,
                &mut pending,
                &mut busy,
                &mut applying,
            ),
        )
        .await;
        resolving.abort_all();
        if drained.is_err() {
            tracing::warn!("reconciles still running at the end of the drain period");
        }
    }

    /// At shutdown (the webhook no longer admits anything): every change already admitted
    /// is applied now, within the drain bound, rather than left to a resync (which can make
    /// no first record): triggers still queued or being resolved, changes still in their
    /// coalescing window, and those waiting for `--max-concurrent-reloads`. Each workload is
    /// tried once; what a pause defers stays for the next holder.
    async fn drain(
        &mut self,
        triggers: &mut TriggerReceiver,
        resolving: &mut JoinSet<()>,
        pending: &mut PendingSet,
        busy: &mut HashSet<WorkloadRef>,
        applying: &mut JoinSet<Done>,
    ) {
        while let Ok(t) = triggers.try_recv() {
            self.spawn_resolve(resolving, t);
        }
        // Resolution sends into the inbox: receive while it runs, so it never waits on us.
        while !resolving.is_empty() {
            tokio::select! {
                _ = resolving.join_next() => {}
                Some(batch) = self.inbox.recv() => queue_batch(pending, batch),
            }
        }
        while let Ok(batch) = self.inbox.try_recv() {
            queue_batch(pending, batch);
        }
        let mut tried: HashSet<WorkloadRef> = HashSet::new();
        loop {
            let room = self.options.max_concurrent.saturating_sub(applying.len());
            let skip = |w: &WorkloadRef| busy.contains(w) || tried.contains(w);
            for (workload, p) in pending.take_due(Timestamp::MAX, skip, room) {
                tried.insert(workload.clone());
                self.spawn_apply(applying, busy, workload, p);
            }
            let Some(done) = applying.join_next().await else {
                break;
            };
            if let Ok(done) = done {
                busy.remove(&done.workload);
                self.finish(done, pending);
            }
        }
    }

    fn spawn_resolve(&self, resolving: &mut JoinSet<()>, trigger: Trigger) {
        let handle = self.handle.clone();
        resolving.spawn(async move { handle.resolve_trigger(trigger).await });
    }

    /// Starts one workload's reconcile; it stays busy until its result is handled.
    fn spawn_apply(
        &self,
        applying: &mut JoinSet<Done>,
        busy: &mut HashSet<WorkloadRef>,
        workload: WorkloadRef,
        p: Pending,
    ) {
        busy.insert(workload.clone());
        let client = self.client.clone();
        let ring = self.options.hash_keys.clone();
        let run_cronjobs = self.options.run_cronjobs;
        applying.spawn(async move {
            let (wanted, spacing) = (p.wanted(), p.spacing());
            let result =
                apply::apply(&client, &ring, &workload, &wanted, spacing, run_cronjobs).await;
            Done {
                workload,
                pending: p,
                result,
            }
        });
    }

    fn finish(&self, done: Done, pending: &mut PendingSet) {
        let Done {
            workload,
            pending: p,
            result,
        } = done;
        let configs: Vec<ConfigId> = p
            .entries
            .values()
            .filter_map(|e| e.config.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let outcome = match result {
            Ok(Outcome::UpToDate) => {
                self.metrics.reconcile(
                    workload.kind.as_str(),
                    &workload.namespace,
                    "up_to_date",
                    "none",
                );
                tracing::debug!(%workload, "already up to date");
                self.alert(&workload, &p, &configs, AlertResult::UpToDate);
                return;
            }
            Ok(Outcome::Reloaded(changes)) => {
                self.metrics.reconcile(
                    workload.kind.as_str(),
                    &workload.namespace,
                    "reloaded",
                    "none",
                );
                let patched = |s: &SourceRef| changes.iter().any(|c| &c.source == s);
                if let Some(admitted) = p.first_admitted(patched) {
                    let took = SystemTime::now()
                        .duration_since(admitted)
                        .unwrap_or_default();
                    self.metrics.write_to_patch(took);
                    self.metrics
                        .stakater
                        .action_latency(workload.kind.as_str(), took);
                }
                let described: Vec<String> = changes
                    .iter()
                    .map(reloader_core::reconcile::Change::describe)
                    .collect();
                tracing::info!(%workload, changes = %described.join(", "), "reloaded");
                self.alert(&workload, &p, &configs, AlertResult::Rolled);
                let events = self.events.clone();
                let (w, c) = (workload.clone(), changes.clone());
                tokio::spawn(async move { events.reloaded(&w, &c).await });
                TargetOutcome::Reloaded(changes)
            }
            Ok(Outcome::Deferred(until)) => {
                self.metrics.reconcile(
                    workload.kind.as_str(),
                    &workload.namespace,
                    "deferred",
                    "none",
                );
                tracing::info!(%workload, %until, "paused; reloading at the end of the pause");
                self.alert(&workload, &p, &configs, AlertResult::Deferred { until });
                let mut p = p;
                p.paused = true;
                pending.restore(workload.clone(), p, until);
                TargetOutcome::Paused(until)
            }
            Ok(Outcome::Gone) => {
                self.metrics
                    .reconcile(workload.kind.as_str(), &workload.namespace, "gone", "none");
                tracing::info!(%workload, "workload gone; dropping its pending reload");
                TargetOutcome::NotFound
            }
            Err(e) => {
                self.metrics.reconcile(
                    workload.kind.as_str(),
                    &workload.namespace,
                    "failed",
                    e.label(),
                );
                tracing::warn!(%workload, reason = e.label(), error = %e, "reload failed");
                let failure = AlertResult::Failed {
                    class: e.label(),
                    detail: crate::alerts::event::failure_detail(&e.detail()),
                };
                self.alert(&workload, &p, &configs, failure);
                let events = self.events.clone();
                let (w, text) = (workload.clone(), e.to_string());
                tokio::spawn(async move { events.failed(&w, &text).await });
                // Transient failures are tried again shortly; others wait for resync, so a
                // permanent error never loops.
                if let ApplyError::Api { error, .. } = &e
                    && matches!(apply::classify(error), Retry::Later | Retry::Reread)
                {
                    pending.restore(workload.clone(), p, after(Timestamp::now(), RETRY_AFTER));
                    self.metrics.stakater.retry();
                }
                TargetOutcome::Failed(e.to_string())
            }
        };
        for config in configs {
            let update = status::Update::Target(config, workload.clone(), outcome.clone());
            if self.status.try_send(update).is_err() {
                tracing::debug!(%workload, "status queue full; update skipped");
            }
        }
    }
}
