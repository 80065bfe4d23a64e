//! Watch-fed caches of the workloads and ReloaderConfigs, feeding the follower index.
//!
//! Every workload kind is cached the same way, from its row in `workload::KINDS`: a
//! kube-runtime watcher of `DynamicObject`s with the default backoff, where `.modify()`
//! prunes what reloader never reads (see `pod_template::prune`); each event is indexed
//! from the whole object, and a compact `workload_store` keeps only its identity and
//! coalescing window, so no object is held whole. Kinds whose API is optional are watched
//! only once discovery finds them served. Secrets and ConfigMaps are never listed or
//! watched. With `--namespaces`, each of those namespaces is watched by itself
//! (`namespaced`), so Roles in them suffice; otherwise one watch covers the cluster.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::{Arc, RwLock};

use futures::StreamExt;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, ResourceExt};

pub use crate::reload::cache::workload_store::WorkloadStore;
use crate::reload::discovery::{self, Detect};
use crate::reload::scope::Scope;
use reloader_core::crd::ReloaderConfig;
use reloader_core::existence::Presence;
use reloader_core::index::{ConfigId, ConfigInput, FollowerIndex};
use reloader_core::pod_template::{self, prune_meta};
use reloader_core::policy::ConfigRule;
use reloader_core::refs::SourceKey;
use reloader_core::source::SourceKind;
use reloader_core::validation;
use reloader_core::workload::{WorkloadKind, WorkloadRef};

/// The index shared by the caches (writers) and the engine (readers).
pub type SharedIndex = Arc<RwLock<FollowerIndex>>;

/// Where a kind lives in the API, from its row in `workload::KINDS`.
pub fn api_resource(kind: WorkloadKind) -> ApiResource {
    let spec = kind.spec();
    ApiResource {
        group: spec.group.into(),
        version: spec.version.into(),
        api_version: kind.api_version(),
        kind: spec.name.into(),
        plural: spec.plural.into(),
    }
}

/// Drops what the index never reads (see `pod_template::prune`).
pub fn prune(kind: WorkloadKind, obj: &mut DynamicObject) {
    prune_meta(&mut obj.metadata);
    pod_template::prune(kind, &mut obj.data);
}

/// What a ReloaderConfig contributes to the index: its targets (in its own namespace) and
/// the sources it watches. A target in another namespace is left out whatever admission
/// said (`validation::target_allowed`); its status and a Warning Event say why
/// (`first_status`).
pub fn config_input(rc: &ReloaderConfig) -> Option<(ConfigId, ConfigInput)> {
    let namespace = rc.namespace()?;
    let id = ConfigId::new(&namespace, rc.name_any());
    let targets = rc
        .spec
        .targets
        .iter()
        .filter(|t| validation::target_allowed(&namespace, t))
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

/// What a workload cache remembers between events.
pub struct Relist<'a> {
    /// The objects of a relist in progress.
    pub seen: &'a mut Option<HashSet<WorkloadRef>>,
    /// Every object indexed by this cache.
    pub known: &'a mut HashSet<WorkloadRef>,
}

fn identity(kind: WorkloadKind, obj: &DynamicObject) -> Option<WorkloadRef> {
    Some(WorkloadRef::new(
        obj.metadata.namespace.clone()?,
        kind,
        obj.metadata.name.clone()?,
    ))
}

/// Applies one watcher event for a workload of `kind` to the index. `state.seen` collects
/// the objects of a relist, so that those gone while the watch was down are removed at
/// `InitDone`.
pub fn apply_workload_event(
    index: &SharedIndex,
    scope: &Scope,
    state: &mut Relist<'_>,
    kind: WorkloadKind,
    event: &Event<DynamicObject>,
) {
    let input = |o: &DynamicObject| pod_template::input(kind, &o.metadata, &o.data);
    let mut index = index.write().unwrap_or_else(|e| e.into_inner());
    let known = &mut *state.known;
    let mut upsert = |obj: &DynamicObject, index: &mut FollowerIndex| match input(obj) {
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

/// The compact stores of the watched workload kinds (see `workload_store`). A kind not
/// watched (ignored, turned off) has no store; one whose API is not served has a store that
/// stays empty.
#[derive(Clone, Default)]
pub struct WorkloadStores(pub BTreeMap<WorkloadKind, WorkloadStore>);

impl WorkloadStores {
    /// The coalescing-window annotation of a cached workload.
    pub fn coalesce_window(&self, w: &WorkloadRef) -> Option<String> {
        self.0.get(&w.kind)?.coalesce_window(&w.namespace, &w.name)
    }

    /// Whether the caches hold `w`: `Unknown` for a kind not watched, or while its store
    /// is still listing; `Missing` too where its API is not served.
    pub fn presence(&self, w: &WorkloadRef) -> Presence {
        let Some(store) = self.0.get(&w.kind) else {
            return Presence::Unknown;
        };
        match (store.is_ready(), store.contains(&w.namespace, &w.name)) {
            (false, _) => Presence::Unknown,
            (true, true) => Presence::Exists,
            (true, false) => Presence::Missing,
        }
    }

    /// How many objects each watched kind's store holds now (for the cache-size gauge).
    pub fn sizes(&self) -> Vec<(WorkloadKind, usize)> {
        self.0
            .iter()
            .map(|(kind, store)| (*kind, store.len()))
            .collect()
    }

    /// Waits until every store has listed once (a store whose API is not served is
    /// ready at once: its writer is gone).
    pub async fn wait_until_ready(&self) {
        for store in self.0.values() {
            store.wait_until_ready().await;
        }
    }
}

/// How a workload kind is listed: in pages of [`LIST_PAGE`] objects (kube's default is 500).
/// A page is held whole, as JSON trees, while it is indexed, and the allocator keeps what a
/// start-up peak took: small pages keep that peak, and so the settled memory, down.
fn list_config() -> watcher::Config {
    watcher::Config::default().page_size(LIST_PAGE)
}

/// Objects per list page of a workload kind (see [`list_config`]).
pub const LIST_PAGE: u32 = 50;

/// Starts the cache of one workload kind; the returned future runs it forever. For an
/// optional API it first asks whether the API is served; when it is not, the future ends
/// and the store's writer is dropped, so waiting for the store returns at once.
pub fn workload_cache(
    client: Client,
    kind: WorkloadKind,
    detect: Detect,
    index: SharedIndex,
    scope: Scope,
) -> (WorkloadStore, impl Future<Output = ()> + Send) {
    let resource = api_resource(kind);
    let (reader, mut writer) = workload_store::store(resource.clone());
    let held = reader.clone();
    let task = async move {
        if kind.spec().optional_api
            && !discovery::should_watch(&client, kind, &resource, detect).await
        {
            return;
        }
        let watch = |api: Api<DynamicObject>| {
            watcher::watcher(api, list_config())
                .default_backoff()
                .modify(move |o| prune(kind, o))
                .boxed()
        };
        let events = match scope.watched_namespaces() {
            None => watch(Api::all_with(client, &resource)),
            Some(namespaces) => namespaced::merge(
                namespaces
                    .into_iter()
                    .map(|ns| {
                        let api = Api::namespaced_with(client.clone(), &ns, &resource);
                        (ns, watch(api))
                    })
                    .collect(),
                held,
            )
            .boxed(),
        };
        let (mut seen, mut known) = (None, HashSet::new());
        let mut stream = events;
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => {
                    let mut relist = Relist {
                        seen: &mut seen,
                        known: &mut known,
                    };
                    // Indexed from the whole object, then all but its identity dropped.
                    apply_workload_event(&index, &scope, &mut relist, kind, &event);
                    writer.apply(&event);
                }
                Err(e) => tracing::warn!(%kind, error = %e, "watch failed; retrying"),
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
    let watch = |api: Api<ReloaderConfig>| {
        watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .modify(|rc: &mut ReloaderConfig| {
                prune_meta(&mut rc.metadata);
            })
            .boxed()
    };
    let events = match scope.watched_namespaces() {
        None => watch(Api::all(client)),
        Some(namespaces) => namespaced::merge(
            namespaces
                .into_iter()
                .map(|ns| {
                    let api = Api::namespaced(client.clone(), &ns);
                    (ns, watch(api))
                })
                .collect(),
            reader.clone(),
        )
        .boxed(),
    };
    let stream = reflector::reflector(writer, events);
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

mod namespaced;
pub mod workload_store;

#[cfg(test)]
mod tests;
