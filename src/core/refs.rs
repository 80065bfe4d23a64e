//! Which Secrets and ConfigMaps a pod spec uses, and which container uses each.
//!
//! Counted: `env[].valueFrom.{secretKeyRef,configMapKeyRef}`, `envFrom[].{secretRef,configMapRef}`,
//! `volumes[].{secret,configMap}` and `volumes[].projected.sources[].{secret,configMap}`, in
//! containers, init containers and ephemeral containers, optional or not. CSI volumes are out of
//! scope: their contents come from a driver, not from an object we can see change.

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
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> PodSpec {
        serde_json::from_value(v).expect("valid pod spec")
    }

    fn refs(v: serde_json::Value) -> PodRefs {
        PodRefs::from_pod_spec(&spec(v))
    }

    fn main(index: usize, name: &str) -> ContainerId {
        ContainerId {
            group: ContainerGroup::Main,
            index,
            name: name.into(),
        }
    }

    const CM: SourceKind = SourceKind::ConfigMap;
    const SECRET: SourceKind = SourceKind::Secret;

    #[test]
    fn env_value_from_secret_and_configmap_key_refs_are_found() {
        let r = refs(json!({"containers": [{"name": "app", "env": [
            {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "k"}}},
            {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "c1", "key": "k", "optional": true}}},
            {"name": "C", "value": "plain"}
        ]}]}));
        assert_eq!(
            r.usage(SECRET, "s1").unwrap().env_from,
            vec![main(0, "app")]
        );
        assert_eq!(r.usage(CM, "c1").unwrap().env_from, vec![main(0, "app")]);
        assert_eq!(r.sources.len(), 2);
    }

    #[test]
    fn env_from_secret_and_configmap_refs_are_found() {
        let r = refs(json!({"containers": [{"name": "app", "envFrom": [
            {"secretRef": {"name": "s1"}}, {"configMapRef": {"name": "c1"}, "prefix": "X_"}
        ]}]}));
        assert!(r.references(SECRET, "s1"));
        assert!(r.references(CM, "c1"));
    }

    #[test]
    fn secret_configmap_and_projected_volumes_are_found_with_their_mounting_containers() {
        let r = refs(json!({
            "containers": [
                {"name": "a"},
                {"name": "b", "volumeMounts": [{"name": "v-secret", "mountPath": "/s"}, {"name": "v-proj", "mountPath": "/p"}]},
                {"name": "c", "volumeMounts": [{"name": "v-cm", "mountPath": "/c"}]}
            ],
            "volumes": [
                {"name": "v-secret", "secret": {"secretName": "s1"}},
                {"name": "v-cm", "configMap": {"name": "c1"}},
                {"name": "v-proj", "projected": {"sources": [
                    {"secret": {"name": "s2"}}, {"configMap": {"name": "c2"}}, {"downwardAPI": {}}
                ]}},
                {"name": "v-csi", "csi": {"driver": "secrets-store.csi.k8s.io"}}
            ]
        }));
        assert_eq!(
            r.usage(SECRET, "s1").unwrap().mounted_by,
            vec![main(1, "b")]
        );
        assert_eq!(
            r.usage(SECRET, "s2").unwrap().mounted_by,
            vec![main(1, "b")]
        );
        assert_eq!(r.usage(CM, "c1").unwrap().mounted_by, vec![main(2, "c")]);
        assert_eq!(
            r.usage(CM, "c2").unwrap().volumes,
            vec!["v-proj".to_string()]
        );
        assert_eq!(r.sources.len(), 4, "CSI volumes are not followed");
    }

    #[test]
    fn a_volume_no_container_mounts_is_listed_but_not_referenced() {
        let r = refs(json!({"containers": [{"name": "a"}],
            "volumes": [{"name": "v", "configMap": {"name": "c1"}}]}));
        let u = r.usage(CM, "c1").unwrap();
        assert_eq!(u.volumes, vec!["v".to_string()]);
        assert!(!u.is_referenced());
        assert_eq!(r.referenced().count(), 0);
    }

    #[test]
    fn init_and_ephemeral_containers_count_as_references() {
        let r = refs(json!({
            "containers": [{"name": "app"}],
            "initContainers": [{"name": "init", "envFrom": [{"secretRef": {"name": "s-init"}}]}],
            "ephemeralContainers": [{"name": "debug", "env": [
                {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c-eph", "key": "k"}}}]}]
        }));
        let init = r.usage(SECRET, "s-init").unwrap();
        assert!(init.is_referenced() && init.only_init_or_ephemeral());
        assert_eq!(init.env_from[0].group, ContainerGroup::Init);
        let eph = r.usage(CM, "c-eph").unwrap();
        assert!(eph.only_init_or_ephemeral());
        assert_eq!(eph.env_from[0].group, ContainerGroup::Ephemeral);
    }

    #[test]
    fn a_secret_and_a_configmap_with_the_same_name_are_distinct() {
        let r = refs(
            json!({"containers": [{"name": "a", "envFrom": [{"secretRef": {"name": "same"}}]}]}),
        );
        assert!(r.references(SECRET, "same"));
        assert!(!r.references(CM, "same"));
    }

    #[test]
    fn container_choice_prefers_the_first_container_mounting_a_volume() {
        let r = refs(json!({
            "containers": [
                {"name": "env-user", "envFrom": [{"configMapRef": {"name": "c"}}]},
                {"name": "mounter", "volumeMounts": [{"name": "v", "mountPath": "/c"}]}
            ],
            "volumes": [{"name": "v", "configMap": {"name": "c"}}]
        }));
        assert_eq!(r.container_for(CM, "c", FollowMode::Auto), Some(1));
        assert_eq!(r.container_for(CM, "c", FollowMode::Explicit), Some(1));
    }

    #[test]
    fn container_choice_finds_a_mount_of_a_second_volume_of_the_same_source() {
        let r = refs(json!({
            "containers": [{"name": "a"}, {"name": "b", "volumeMounts": [{"name": "second", "mountPath": "/c"}]}],
            "volumes": [{"name": "first", "secret": {"secretName": "s"}},
                        {"name": "second", "projected": {"sources": [{"secret": {"name": "s"}}]}}]
        }));
        assert_eq!(r.container_for(SECRET, "s", FollowMode::Auto), Some(1));
    }

    #[test]
    fn container_choice_falls_back_to_the_first_env_reference() {
        let r = refs(json!({"containers": [
            {"name": "a"},
            {"name": "b", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
            {"name": "c", "envFrom": [{"secretRef": {"name": "s"}}]}
        ]}));
        assert_eq!(r.container_for(SECRET, "s", FollowMode::Auto), Some(1));
    }

    #[test]
    fn container_choice_is_the_first_container_when_only_an_init_container_uses_it() {
        let r = refs(json!({
            "containers": [{"name": "a"}, {"name": "b"}],
            "initContainers": [{"name": "i", "volumeMounts": [{"name": "v", "mountPath": "/x"}]}],
            "volumes": [{"name": "v", "secret": {"secretName": "s"}}]
        }));
        assert_eq!(r.container_for(SECRET, "s", FollowMode::Auto), Some(0));
    }

    #[test]
    fn container_choice_for_an_unreferenced_source_depends_on_the_follow_mode() {
        let r = refs(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
        assert_eq!(r.container_for(CM, "nope", FollowMode::Explicit), Some(0));
        assert_eq!(r.container_for(CM, "nope", FollowMode::Auto), None);
    }

    #[test]
    fn container_choice_is_none_for_a_pod_without_containers() {
        let r = refs(json!({"containers": [],
            "initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "s"}}]}]}));
        assert_eq!(r.container_for(SECRET, "s", FollowMode::Explicit), None);
        assert_eq!(r.container_for(SECRET, "other", FollowMode::Explicit), None);
    }

    #[test]
    fn an_empty_pod_spec_has_no_references() {
        let r = PodRefs::from_pod_spec(&PodSpec::default());
        assert!(r.sources.is_empty());
        assert_eq!(r.main_containers, 0);
    }

    /// One generated reference: (kind, name, how: 0 env, 1 envFrom, 2 volume, 3 projected,
    /// group: 0 main, 1 init, 2 ephemeral).
    fn arb_ref() -> impl Strategy<Value = (bool, String, u8, u8)> {
        (any::<bool>(), "[a-z0-9.-]{1,12}", 0u8..4, 0u8..3)
    }

    fn build(refs: &[(bool, String, u8, u8)], extra_main: usize) -> PodSpec {
        let mut containers: Vec<serde_json::Value> = (0..=extra_main)
            .map(|i| json!({"name": format!("main-{i}")}))
            .collect();
        let mut init = Vec::new();
        let mut eph = Vec::new();
        let mut volumes = Vec::new();
        for (i, (secret, name, how, group)) in refs.iter().enumerate() {
            let vol = format!("vol-{i}");
            let mut c = json!({"name": format!("c-{i}")});
            match (*how, *secret) {
                (0, true) => {
                    c["env"] = json!([{"name": "E", "valueFrom": {"secretKeyRef": {"name": name, "key": "k"}}}])
                }
                (0, false) => {
                    c["env"] = json!([{"name": "E", "valueFrom": {"configMapKeyRef": {"name": name, "key": "k"}}}])
                }
                (1, true) => c["envFrom"] = json!([{"secretRef": {"name": name}}]),
                (1, false) => c["envFrom"] = json!([{"configMapRef": {"name": name}}]),
                (2, true) => volumes.push(json!({"name": vol, "secret": {"secretName": name}})),
                (2, false) => volumes.push(json!({"name": vol, "configMap": {"name": name}})),
                (_, true) => volumes.push(
                    json!({"name": vol, "projected": {"sources": [{"secret": {"name": name}}]}}),
                ),
                (_, false) => volumes.push(
                    json!({"name": vol, "projected": {"sources": [{"configMap": {"name": name}}]}}),
                ),
            }
            if *how >= 2 {
                c["volumeMounts"] = json!([{"name": vol, "mountPath": "/m"}]);
            }
            match group {
                0 => containers.push(c),
                1 => init.push(c),
                _ => eph.push(c),
            }
        }
        spec(json!({"containers": containers, "initContainers": init,
            "ephemeralContainers": eph, "volumes": volumes}))
    }

    proptest! {
        #[test]
        fn every_reference_put_in_is_found_and_gets_a_container(
            input in prop::collection::vec(arb_ref(), 0..12),
            extra_main in 0usize..3,
        ) {
            let r = PodRefs::from_pod_spec(&build(&input, extra_main));
            for (secret, name, _, _) in &input {
                let kind = if *secret { SECRET } else { CM };
                prop_assert!(r.references(kind, name), "{kind} {name} not found");
                let chosen = r.container_for(kind, name, FollowMode::Auto);
                prop_assert!(chosen.is_some_and(|i| i < r.main_containers));
            }
        }

        #[test]
        fn arbitrary_pod_spec_shapes_never_panic(
            names in prop::collection::vec(".{0,8}", 0..6),
            mounts in prop::collection::vec(".{0,8}", 0..6),
            no_containers in any::<bool>(),
        ) {
            let containers: Vec<_> = if no_containers { vec![] } else {
                vec![json!({"name": "a", "volumeMounts": mounts.iter()
                    .map(|m| json!({"name": m, "mountPath": "/"})).collect::<Vec<_>>(),
                    "envFrom": names.iter().map(|n| json!({"secretRef": {"name": n}})).collect::<Vec<_>>()})]
            };
            let volumes: Vec<_> = names.iter().zip(&mounts)
                .map(|(n, m)| json!({"name": m, "configMap": {"name": n}, "projected": {}}))
                .collect();
            let r = PodRefs::from_pod_spec(&spec(json!({"containers": containers, "volumes": volumes})));
            for n in &names {
                let _ = r.container_for(SECRET, n, FollowMode::Explicit);
                let _ = r.container_for(CM, n, FollowMode::Auto);
            }
        }
    }
}
