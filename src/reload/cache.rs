//! Watch-fed caches of the workloads and ReloaderConfigs, feeding the follower index.
//!
//! Each kind has a kube-runtime reflector (a store other parts can read) over a watcher with
//! the default backoff, and `.modify()` prunes what reloader never reads before an object is
//! stored: managed fields, status, the last-applied annotation, and everything in the pod
//! spec except container names, env, envFrom, volume mounts and volumes. Secrets and
//! ConfigMaps are never listed or watched. Argo Rollouts and DeploymentConfigs, whose APIs
//! are optional, are cached as dynamic objects (`dynamic`).

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, RwLock};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::reload::apply::api_resource;
use reloader_core::crd::ReloaderConfig;
use reloader_core::index::{ConfigId, ConfigInput, FollowerIndex, IndexError, WorkloadInput};
use reloader_core::policy::ConfigRule;
use reloader_core::refs::SourceKey;
use reloader_core::source::SourceKind;
use reloader_core::workload::{WorkloadKind, WorkloadRef};

/// The index shared by the caches (writers) and the engine (readers).
pub type SharedIndex = Arc<RwLock<FollowerIndex>>;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Namespaces whose labels match `--namespace-selector`, kept current by a watch.
#[derive(Clone, Debug, Default)]
pub struct NamespaceSet(Arc<RwLock<HashSet<String>>>);

impl NamespaceSet {
    pub fn contains(&self, namespace: &str) -> bool {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(namespace)
    }

    fn replace(&self, names: HashSet<String>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = names;
    }

    fn set(&self, name: String, present: bool) {
        let mut set = self.0.write().unwrap_or_else(|e| e.into_inner());
        if present {
            set.insert(name);
        } else {
            set.remove(&name);
        }
    }
}

/// Which namespaces reloader acts in (`--namespaces`, `--namespaces-to-ignore`,
/// `--namespace-selector`).
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Empty: every namespace.
    pub only: HashSet<String>,
    pub ignore: HashSet<String>,
    /// `None`: no selector.
    pub selected: Option<NamespaceSet>,
}

impl Scope {
    /// The fixed part: workloads outside it are never indexed.
    pub fn includes_static(&self, namespace: &str) -> bool {
        (self.only.is_empty() || self.only.contains(namespace)) && !self.ignore.contains(namespace)
    }

    /// Everything, including namespace labels as they are now (checked when acting, since
    /// labels can change after a workload was indexed).
    pub fn includes(&self, namespace: &str) -> bool {
        self.includes_static(namespace)
            && self.selected.as_ref().is_none_or(|s| s.contains(namespace))
    }
}

/// stakater's legacy `k:v` (and `k:*` for "exists") entries become a label selector
/// (`k=v`, `k`); a selector already in Kubernetes syntax is kept.
pub fn namespace_selector(flag: &str) -> String {
    flag.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once(':') {
            Some((k, "*")) => k.to_owned(),
            Some((k, v)) if !t.contains('=') => format!("{k}={v}"),
            _ => t.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Keeps `set` equal to the namespaces matching `selector`.
pub fn namespace_watch(
    client: Client,
    selector: String,
    set: NamespaceSet,
) -> impl Future<Output = ()> + Send {
    use k8s_openapi::api::core::v1::Namespace;
    let api: Api<Namespace> = Api::all(client);
    let stream =
        watcher::watcher(api, watcher::Config::default().labels(&selector)).default_backoff();
    async move {
        let mut stream = std::pin::pin!(stream);
        let mut listing: Option<HashSet<String>> = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Apply(ns)) => set.set(ns.name_any(), true),
                Ok(Event::Delete(ns)) => set.set(ns.name_any(), false),
                Ok(Event::Init) => listing = Some(HashSet::new()),
                Ok(Event::InitApply(ns)) => {
                    if let Some(l) = listing.as_mut() {
                        l.insert(ns.name_any());
                    }
                }
                Ok(Event::InitDone) => {
                    if let Some(l) = listing.take() {
                        tracing::info!(namespaces = l.len(), "namespace selector listed");
                        set.replace(l);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "namespace watch failed; retrying"),
            }
        }
    }
}

/// Strips metadata reloader never reads.
pub fn prune_meta(meta: &mut ObjectMeta) {
    meta.managed_fields = None;
    if let Some(a) = meta.annotations.as_mut() {
        a.remove(LAST_APPLIED);
    }
}

fn prune_container(c: &Container) -> Container {
    Container {
        name: c.name.clone(),
        env: c.env.clone(),
        env_from: c.env_from.clone(),
        volume_mounts: c.volume_mounts.clone(),
        ..Container::default()
    }
}

/// Keeps only what reference finding reads: container names, env, envFrom, volume mounts,
/// and the volumes.
pub fn prune_pod_spec(spec: &mut PodSpec) {
    *spec = PodSpec {
        containers: spec.containers.iter().map(prune_container).collect(),
        init_containers: spec
            .init_containers
            .as_ref()
            .map(|cs| cs.iter().map(prune_container).collect()),
        volumes: spec.volumes.take(),
        ..PodSpec::default()
    };
}

fn prune_template(t: &mut PodTemplateSpec) {
    if let Some(m) = t.metadata.as_mut() {
        m.managed_fields = None;
    }
    if let Some(spec) = t.spec.as_mut() {
        prune_pod_spec(spec);
    }
}

/// A kind the caches hold: how to prune it and how the index reads it.
pub trait Cached:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static
{
    const KIND: WorkloadKind;
    fn prune(&mut self);
    fn input(&self) -> Result<WorkloadInput, IndexError>;
}

impl Cached for Deployment {
    const KIND: WorkloadKind = WorkloadKind::Deployment;
    fn prune(&mut self) {
        prune_meta(&mut self.metadata);
        self.status = None;
        if let Some(s) = self.spec.as_mut() {
            prune_template(&mut s.template);
        }
    }
    fn input(&self) -> Result<WorkloadInput, IndexError> {
        WorkloadInput::from_deployment(self)
    }
}

impl Cached for StatefulSet {
    const KIND: WorkloadKind = WorkloadKind::StatefulSet;
    fn prune(&mut self) {
        prune_meta(&mut self.metadata);
        self.status = None;
        if let Some(s) = self.spec.as_mut() {
            prune_template(&mut s.template);
            s.volume_claim_templates = None;
        }
    }
    fn input(&self) -> Result<WorkloadInput, IndexError> {
        WorkloadInput::from_stateful_set(self)
    }
}

impl Cached for DaemonSet {
    const KIND: WorkloadKind = WorkloadKind::DaemonSet;
    fn prune(&mut self) {
        prune_meta(&mut self.metadata);
        self.status = None;
        if let Some(s) = self.spec.as_mut() {
            prune_template(&mut s.template);
        }
    }
    fn input(&self) -> Result<WorkloadInput, IndexError> {
        WorkloadInput::from_daemon_set(self)
    }
}

impl Cached for CronJob {
    const KIND: WorkloadKind = WorkloadKind::CronJob;
    fn prune(&mut self) {
        prune_meta(&mut self.metadata);
        self.status = None;
        if let Some(s) = self
            .spec
            .as_mut()
            .and_then(|s| s.job_template.spec.as_mut())
        {
            prune_template(&mut s.template);
        }
    }
    fn input(&self) -> Result<WorkloadInput, IndexError> {
        WorkloadInput::from_cron_job(self)
    }
}

/// What a ReloaderConfig contributes to the index: its targets (in its own namespace) and
/// the sources it watches.
pub fn config_input(rc: &ReloaderConfig) -> Option<(ConfigId, ConfigInput)> {
    let namespace = rc.namespace()?;
    let id = ConfigId::new(&namespace, rc.name_any());
    let targets = rc
        .spec
        .targets
        .iter()
        .filter(|t| t.namespace.as_deref().is_none_or(|n| n == namespace))
        .filter_map(|t| {
            let kind = t.kind.parse::<WorkloadKind>().ok()?;
            Some(WorkloadRef::new(&namespace, kind, &t.name))
        })
        .collect();
    let watched = &rc.spec.watched_resources;
    let rule = ConfigRule {
        watched: watched
            .secrets
            .iter()
            .map(|n| SourceKey::new(SourceKind::Secret, n))
            .chain(
                watched
                    .config_maps
                    .iter()
                    .map(|n| SourceKey::new(SourceKind::ConfigMap, n)),
            )
            .collect(),
        auto_reload_all: rc.spec.auto_reload_all,
    };
    Some((id, ConfigInput { targets, rule }))
}

/// Applies one watcher event for a workload kind to the index. `seen` collects the objects
/// of a relist, so that those gone while the watch was down are removed at `InitDone`.
pub fn apply_workload_event<K: Cached>(
    index: &SharedIndex,
    scope: &Scope,
    seen: &mut Option<HashSet<WorkloadRef>>,
    known: &mut HashSet<WorkloadRef>,
    event: &Event<K>,
) {
    let mut state = Relist { seen, known };
    apply_event(index, scope, &mut state, K::KIND, K::input, event);
}

/// What a workload cache remembers between events.
pub struct Relist<'a> {
    /// The objects of a relist in progress.
    pub seen: &'a mut Option<HashSet<WorkloadRef>>,
    /// Every object indexed by this cache.
    pub known: &'a mut HashSet<WorkloadRef>,
}

fn identity<K: Resource>(kind: WorkloadKind, obj: &K) -> Option<WorkloadRef> {
    let meta = obj.meta();
    Some(WorkloadRef::new(
        meta.namespace.clone()?,
        kind,
        meta.name.clone()?,
    ))
}

/// [`apply_workload_event`] for any object type, read by `input` (typed and dynamic kinds).
pub fn apply_event<K: Resource>(
    index: &SharedIndex,
    scope: &Scope,
    state: &mut Relist<'_>,
    kind: WorkloadKind,
    input: impl Fn(&K) -> Result<WorkloadInput, IndexError>,
    event: &Event<K>,
) {
    let mut index = index.write().unwrap_or_else(|e| e.into_inner());
    let known = &mut *state.known;
    let mut upsert = |obj: &K, index: &mut FollowerIndex| match input(obj) {
        Ok(input) if scope.includes_static(&input.workload.namespace) => {
            let workload = input.workload.clone();
            for warning in index.apply_workload(input) {
                tracing::debug!(%workload, ?warning, "annotation problem");
            }
            known.insert(workload.clone());
            Some(workload)
        }
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(error = %e, "object not indexed");
            None
        }
    };
    match event {
        Event::Apply(obj) => {
            // An object that can no longer be indexed (a Rollout switched to workloadRef)
            // must not keep its old entries.
            if upsert(obj, &mut index).is_none()
                && let Some(gone) = identity(kind, obj)
                && known.remove(&gone)
            {
                index.delete_workload(&gone);
            }
        }
        Event::Delete(obj) => {
            if let Some(gone) = identity(kind, obj) {
                index.delete_workload(&gone);
                known.remove(&gone);
            }
        }
        Event::Init => *state.seen = Some(HashSet::new()),
        Event::InitApply(obj) => {
            if let (Some(w), Some(seen)) = (upsert(obj, &mut index), state.seen.as_mut()) {
                seen.insert(w);
            }
        }
        Event::InitDone => {
            if let Some(seen) = state.seen.take() {
                tracing::info!(%kind, objects = seen.len(), "cache listed");
                let gone: Vec<WorkloadRef> = known.difference(&seen).cloned().collect();
                for w in gone {
                    index.delete_workload(&w);
                    known.remove(&w);
                }
            }
        }
    }
}

/// Workload-metadata annotation overriding `--coalesce-window` for one workload.
pub const COALESCE_WINDOW: &str = "reloader.stakater.com/coalesce-window";

/// The reflector stores of the cached workload kinds, for reading a workload's metadata.
/// Optional kinds are `None` when not watched (ignored, turned off, or their API is not
/// served: then the store stays empty).
#[derive(Clone)]
pub struct WorkloadStores {
    pub deployments: Store<Deployment>,
    pub statefulsets: Store<StatefulSet>,
    pub daemonsets: Store<DaemonSet>,
    pub cronjobs: Option<Store<CronJob>>,
    pub rollouts: Option<Store<DynamicObject>>,
    pub deployment_configs: Option<Store<DynamicObject>>,
}

impl WorkloadStores {
    /// A metadata annotation of a cached workload.
    pub fn annotation(&self, w: &WorkloadRef, key: &str) -> Option<String> {
        fn get<K: Cached>(store: &Store<K>, w: &WorkloadRef, key: &str) -> Option<String> {
            let obj = store.get(&reflector::ObjectRef::new(&w.name).within(&w.namespace))?;
            obj.meta().annotations.as_ref()?.get(key).cloned()
        }
        fn get_dynamic(
            store: Option<&Store<DynamicObject>>,
            w: &WorkloadRef,
            key: &str,
        ) -> Option<String> {
            let key_ref =
                reflector::ObjectRef::new_with(&w.name, api_resource(w.kind)).within(&w.namespace);
            let obj = store?.get(&key_ref)?;
            obj.metadata.annotations.as_ref()?.get(key).cloned()
        }
        match w.kind {
            WorkloadKind::Deployment => get(&self.deployments, w, key),
            WorkloadKind::StatefulSet => get(&self.statefulsets, w, key),
            WorkloadKind::DaemonSet => get(&self.daemonsets, w, key),
            WorkloadKind::CronJob => self.cronjobs.as_ref().and_then(|s| get(s, w, key)),
            WorkloadKind::Rollout => get_dynamic(self.rollouts.as_ref(), w, key),
            WorkloadKind::DeploymentConfig => get_dynamic(self.deployment_configs.as_ref(), w, key),
        }
    }
}

/// Starts the reflector of one workload kind; the returned future runs it forever.
pub fn workload_cache<K: Cached>(
    client: Client,
    index: SharedIndex,
    scope: Scope,
) -> (Store<K>, impl Future<Output = ()> + Send) {
    let (reader, writer) = reflector::store::<K>();
    let api: Api<K> = Api::all(client);
    let stream = reflector::reflector(
        writer,
        watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .modify(K::prune),
    );
    let task = async move {
        let mut seen = None;
        let mut known = HashSet::new();
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => apply_workload_event(&index, &scope, &mut seen, &mut known, &event),
                Err(e) => tracing::warn!(kind = %K::KIND, error = %e, "watch failed; retrying"),
            }
        }
    };
    (reader, task)
}

/// Starts the ReloaderConfig reflector.
pub fn config_cache(
    client: Client,
    index: SharedIndex,
    scope: Scope,
) -> (Store<ReloaderConfig>, impl Future<Output = ()> + Send) {
    let (reader, writer) = reflector::store::<ReloaderConfig>();
    let api: Api<ReloaderConfig> = Api::all(client);
    let stream = reflector::reflector(
        writer,
        watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .modify(|rc: &mut ReloaderConfig| {
                prune_meta(&mut rc.metadata);
            }),
    );
    let task = async move {
        let mut seen: Option<HashSet<ConfigId>> = None;
        let mut known: HashSet<ConfigId> = HashSet::new();
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            let event = match event {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "ReloaderConfig watch failed; retrying");
                    continue;
                }
            };
            let mut index = index.write().unwrap_or_else(|e| e.into_inner());
            match event {
                Event::Apply(rc) | Event::InitApply(rc) => {
                    if let Some((id, input)) = config_input(&rc)
                        && scope.includes_static(&id.namespace)
                    {
                        if let Some(seen) = seen.as_mut() {
                            seen.insert(id.clone());
                        }
                        known.insert(id.clone());
                        index.apply_config(id, input);
                    }
                }
                Event::Delete(rc) => {
                    if let Some((id, _)) = config_input(&rc) {
                        known.remove(&id);
                        index.delete_config(&id);
                    }
                }
                Event::Init => seen = Some(HashSet::new()),
                Event::InitDone => {
                    if let Some(seen) = seen.take() {
                        let gone: Vec<ConfigId> = known.difference(&seen).cloned().collect();
                        for id in gone {
                            known.remove(&id);
                            index.delete_config(&id);
                        }
                    }
                }
            }
        }
    };
    (reader, task)
}

pub mod optional_kinds;

#[cfg(test)]
mod tests;
