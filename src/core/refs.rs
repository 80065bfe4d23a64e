//! Which sources a pod spec uses, and which container uses each.
//!
//! Counted: `env[].valueFrom.{secretKeyRef,configMapKeyRef}`, `envFrom[].{secretRef,configMapRef}`,
//! `volumes[].{secret,configMap}` and `volumes[].projected.sources[].{secret,configMap}`, in
//! containers, init containers and ephemeral containers, optional or not; and the
//! SecretProviderClass a CSI volume names in `volumeAttributes.secretProviderClass` (whatever
//! the driver, as stakater reads it), followed only with `--enable-csi-integration`.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Container, EnvFromSource, EnvVar, PodSpec, Volume, VolumeMount};

use crate::source::SourceKind;

/// Which list of a pod spec a container comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContainerGroup {
    Main,
    Init,
    Ephemeral,
}

/// One container, by position in its list and by name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerId {
    pub group: ContainerGroup,
    pub index: usize,
    pub name: String,
}

/// A Secret or ConfigMap named from a pod spec (the namespace is the pod's own).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceKey {
    pub kind: SourceKind,
    pub name: String,
}

impl SourceKey {
    pub fn new(kind: SourceKind, name: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.into(),
        }
    }
}

/// How one source is used by a pod spec. Container lists are in pod-spec order
/// (main containers, then init, then ephemeral), without duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Names of pod volumes that carry the source (directly or as a projected source).
    pub volumes: Vec<String>,
    /// Containers that mount one of those volumes.
    pub mounted_by: Vec<ContainerId>,
    /// Containers that read it through `env[].valueFrom` or `envFrom`.
    pub env_from: Vec<ContainerId>,
}

impl Usage {
    /// Some container (of any group) uses the source. A volume that no container mounts does
    /// not count: it cannot change what any process sees.
    pub fn is_referenced(&self) -> bool {
        !self.mounted_by.is_empty() || !self.env_from.is_empty()
    }

    /// Only init or ephemeral containers use it.
    pub fn only_init_or_ephemeral(&self) -> bool {
        self.is_referenced() && !self.containers().any(|c| c.group == ContainerGroup::Main)
    }

    fn containers(&self) -> impl Iterator<Item = &ContainerId> {
        self.mounted_by.iter().chain(self.env_from.iter())
    }
}

/// Every source a pod spec names, with its usage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodRefs {
    pub sources: BTreeMap<SourceKey, Usage>,
    /// `spec.containers.len()`, so the container choice knows whether `containers[0]` exists.
    pub main_containers: usize,
}

/// How a workload came to follow a source; the container choice differs between the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowMode {
    /// Named by an explicit reload list (or a ReloaderConfig's watched resources).
    Explicit,
    /// Followed because it is referenced (auto, search, auto-reload-all).
    Auto,
}

impl PodRefs {
    /// Reads every Secret/ConfigMap reference out of a pod spec.
    pub fn from_pod_spec(spec: &PodSpec) -> Self {
        let mut refs = PodRefs {
            sources: BTreeMap::new(),
            main_containers: spec.containers.len(),
        };
        // Volume name → the sources it carries, so each mount is one hash lookup.
        let mut by_volume: HashMap<&str, Vec<SourceKey>> = HashMap::new();
        for volume in spec.volumes.as_deref().unwrap_or_default() {
            let keys = volume_sources(volume);
            for key in &keys {
                push_unique(
                    &mut refs.usage_mut(key.clone()).volumes,
                    volume.name.clone(),
                );
            }
            by_volume
                .entry(volume.name.as_str())
                .or_default()
                .extend(keys);
        }
        for view in &container_views(spec) {
            let mounted = view
                .mounts
                .iter()
                .filter_map(|m| by_volume.get(m.name.as_str()));
            for key in mounted.flatten() {
                push_unique(&mut refs.usage_mut(key.clone()).mounted_by, view.id.clone());
            }
            for key in env_sources(view.env, view.env_from) {
                push_unique(&mut refs.usage_mut(key).env_from, view.id.clone());
            }
        }
        refs
    }

    /// The usage of one source, if the pod spec names it at all.
    pub fn usage(&self, kind: SourceKind, name: &str) -> Option<&Usage> {
        // BTreeMap lookup needs an owned key; names are short, so the allocation is cheap.
        self.sources.get(&SourceKey::new(kind, name))
    }

    /// The source is used by some container.
    pub fn references(&self, kind: SourceKind, name: &str) -> bool {
        self.usage(kind, name).is_some_and(Usage::is_referenced)
    }

    /// Sources used by some container (what auto/search followers are indexed by).
    pub fn referenced(&self) -> impl Iterator<Item = &SourceKey> {
        self.sources
            .iter()
            .filter(|(_, u)| u.is_referenced())
            .map(|(k, _)| k)
    }

    /// The index into `spec.containers` of the container that should carry the reload marker:
    /// the first main container mounting a volume of the source; else the first main container
    /// reading it through env/envFrom; else `containers[0]` when only init/ephemeral containers
    /// use it; else `containers[0]` for an explicit follow and nothing for an auto follow.
    /// `None` also when the pod has no containers.
    pub fn container_for(&self, kind: SourceKind, name: &str, mode: FollowMode) -> Option<usize> {
        let first = (self.main_containers > 0).then_some(0);
        let main = |ids: &[ContainerId]| {
            ids.iter()
                .find(|c| c.group == ContainerGroup::Main && c.index < self.main_containers)
                .map(|c| c.index)
        };
        match self.usage(kind, name) {
            Some(u) if u.is_referenced() => {
                main(&u.mounted_by).or_else(|| main(&u.env_from)).or(first)
            }
            _ => match mode {
                FollowMode::Explicit => first,
                FollowMode::Auto => None,
            },
        }
    }

    fn usage_mut(&mut self, key: SourceKey) -> &mut Usage {
        self.sources.entry(key).or_default()
    }
}

/// What the follower index keeps of a pod spec's references: per source, whether some
/// container uses it and which main container carries its marker, in one sorted list.
/// [`PodRefs`]' container and volume names are dropped: they cost more than the rest of an
/// index entry, in a cache of tens of thousands of workloads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefSummary {
    sources: Vec<(SourceKey, Used)>,
    main_containers: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Used {
    referenced: bool,
    /// The first main container mounting it, else the first reading it through env.
    marker: Option<u16>,
}

impl RefSummary {
    pub fn of(refs: &PodRefs) -> RefSummary {
        let main = |ids: &[ContainerId]| {
            ids.iter()
                .find(|c| c.group == ContainerGroup::Main && c.index < refs.main_containers)
                .and_then(|c| u16::try_from(c.index).ok())
        };
        RefSummary {
            // A BTreeMap iterates sorted: the list is sorted by key.
            sources: refs
                .sources
                .iter()
                .map(|(key, usage)| {
                    let used = Used {
                        referenced: usage.is_referenced(),
                        marker: main(&usage.mounted_by).or_else(|| main(&usage.env_from)),
                    };
                    (key.clone(), used)
                })
                .collect(),
            main_containers: u16::try_from(refs.main_containers).unwrap_or(u16::MAX),
        }
    }

    fn used(&self, kind: SourceKind, name: &str) -> Option<Used> {
        self.sources
            .binary_search_by(|(k, _)| (k.kind, k.name.as_str()).cmp(&(kind, name)))
            .ok()
            .map(|at| self.sources[at].1)
    }

    /// As [`PodRefs::references`].
    pub fn references(&self, kind: SourceKind, name: &str) -> bool {
        self.used(kind, name).is_some_and(|u| u.referenced)
    }

    /// As [`PodRefs::referenced`].
    pub fn referenced(&self) -> impl Iterator<Item = &SourceKey> {
        self.sources
            .iter()
            .filter(|(_, u)| u.referenced)
            .map(|(k, _)| k)
    }

    /// As [`PodRefs::container_for`].
    pub fn container_for(&self, kind: SourceKind, name: &str, mode: FollowMode) -> Option<usize> {
        let first = (self.main_containers > 0).then_some(0);
        match self.used(kind, name) {
            Some(u) if u.referenced => u.marker.map(usize::from).or(first),
            _ => match mode {
                FollowMode::Explicit => first,
                FollowMode::Auto => None,
            },
        }
    }
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The parts of a container we read; main/init containers and ephemeral containers are
/// different types with the same fields.
struct ContainerView<'a> {
    id: ContainerId,
    env: &'a [EnvVar],
    env_from: &'a [EnvFromSource],
    mounts: &'a [VolumeMount],
}

fn container_views(spec: &PodSpec) -> Vec<ContainerView<'_>> {
    fn of(group: ContainerGroup, index: usize, c: &Container) -> ContainerView<'_> {
        ContainerView {
            id: ContainerId {
                group,
                index,
                name: c.name.clone(),
            },
            env: c.env.as_deref().unwrap_or_default(),
            env_from: c.env_from.as_deref().unwrap_or_default(),
            mounts: c.volume_mounts.as_deref().unwrap_or_default(),
        }
    }
    let main = spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| of(ContainerGroup::Main, i, c));
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| of(ContainerGroup::Init, i, c));
    let ephemeral = spec
        .ephemeral_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| ContainerView {
            id: ContainerId {
                group: ContainerGroup::Ephemeral,
                index: i,
                name: c.name.clone(),
            },
            env: c.env.as_deref().unwrap_or_default(),
            env_from: c.env_from.as_deref().unwrap_or_default(),
            mounts: c.volume_mounts.as_deref().unwrap_or_default(),
        });
    main.chain(init).chain(ephemeral).collect()
}

fn volume_sources(volume: &Volume) -> Vec<SourceKey> {
    let mut out = Vec::new();
    if let Some(name) = volume.secret.as_ref().and_then(|s| s.secret_name.as_ref()) {
        out.push(SourceKey::new(SourceKind::Secret, name.as_str()));
    }
    if let Some(cm) = &volume.config_map {
        out.push(SourceKey::new(SourceKind::ConfigMap, cm.name.as_str()));
    }
    if let Some(class) = volume
        .csi
        .as_ref()
        .and_then(|c| c.volume_attributes.as_ref())
        .and_then(|a| a.get("secretProviderClass"))
    {
        out.push(SourceKey::new(
            SourceKind::SecretProviderClass,
            class.as_str(),
        ));
    }
    let projections = volume
        .projected
        .as_ref()
        .and_then(|p| p.sources.as_deref())
        .unwrap_or_default();
    for p in projections {
        if let Some(s) = &p.secret {
            out.push(SourceKey::new(SourceKind::Secret, s.name.as_str()));
        }
        if let Some(cm) = &p.config_map {
            out.push(SourceKey::new(SourceKind::ConfigMap, cm.name.as_str()));
        }
    }
    out.retain(|k| !k.name.is_empty());
    out
}

fn env_sources(env: &[EnvVar], env_from: &[EnvFromSource]) -> Vec<SourceKey> {
    let mut out = Vec::new();
    for from in env.iter().filter_map(|e| e.value_from.as_ref()) {
        if let Some(s) = &from.secret_key_ref {
            out.push(SourceKey::new(SourceKind::Secret, s.name.as_str()));
        }
        if let Some(cm) = &from.config_map_key_ref {
            out.push(SourceKey::new(SourceKind::ConfigMap, cm.name.as_str()));
        }
    }
    for from in env_from {
        if let Some(s) = &from.secret_ref {
            out.push(SourceKey::new(SourceKind::Secret, s.name.as_str()));
        }
        if let Some(cm) = &from.config_map_ref {
            out.push(SourceKey::new(SourceKind::ConfigMap, cm.name.as_str()));
        }
    }
    // An empty name cannot name an object; the API server rejects it anyway.
    out.retain(|k| !k.name.is_empty());
    out
}

#[cfg(test)]
mod tests;
