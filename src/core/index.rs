//! Reverse index: (namespace, kind, name) of a Secret/ConfigMap → the followers to consider.
//!
//! Plain data with no locks: callers wrap it in `Arc<RwLock<_>>` and feed it from the workload
//! and ReloaderConfig reflectors. Every workload is applied (not only annotated ones), because
//! `--auto-reload-all` and ReloaderConfig `autoReloadAll` targets follow whatever a pod spec
//! references.
//!
//! Cost of a lookup: one hash lookup for followers by exact name (literal reload entries,
//! ReloaderConfig watched resources, and every reference-based follower — auto, search,
//! auto-reload-all — indexed under the sources its pod spec references), plus the regex reload
//! entries of the source's own namespace only.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::policy::{
    AnnotationKeys, Annotations, ConfigRule, Decision, GlobalOptions, PolicyWarning, SourceFacts,
    WorkloadPolicy, decide, decide_config,
};
use crate::refs::{PodRefs, RefSummary, SourceKey};
use crate::source::{SourceKind, SourceRef};
use crate::workload::{WorkloadKind, WorkloadRef};

/// A Kubernetes object that cannot be indexed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("{kind} without metadata.name cannot be indexed")]
    MissingName { kind: WorkloadKind },
    #[error("{kind} {name} without metadata.namespace cannot be indexed")]
    MissingNamespace { kind: WorkloadKind, name: String },
    #[error("{kind} {name} takes its pods from spec.workloadRef: it has no pod template to patch")]
    ReferencedTemplate { kind: WorkloadKind, name: String },
    #[error("{kind} {name} is a CronJob's run: the CronJob is reloaded, not its Jobs")]
    OwnedByCronJob { kind: WorkloadKind, name: String },
}

/// What the index needs to know about one workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadInput {
    pub workload: WorkloadRef,
    pub annotations: Annotations,
    pub template_annotations: Annotations,
    pub refs: PodRefs,
}

impl WorkloadInput {
    pub fn new(
        workload: WorkloadRef,
        annotations: Annotations,
        template_annotations: Annotations,
        refs: PodRefs,
    ) -> Self {
        Self {
            workload,
            annotations,
            template_annotations,
            refs,
        }
    }

    /// Builds the input from an object's metadata and its pod template (absent → no refs).
    pub fn from_parts(
        kind: WorkloadKind,
        meta: &ObjectMeta,
        template: Option<&PodTemplateSpec>,
    ) -> Result<Self, IndexError> {
        let name = meta.name.clone().ok_or(IndexError::MissingName { kind })?;
        let namespace = meta
            .namespace
            .clone()
            .ok_or_else(|| IndexError::MissingNamespace {
                kind,
                name: name.clone(),
            })?;
        let template_annotations = template
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.annotations.clone())
            .unwrap_or_default();
        let refs = template
            .and_then(|t| t.spec.as_ref())
            .map(PodRefs::from_pod_spec)
            .unwrap_or_default();
        Ok(Self::new(
            WorkloadRef::new(namespace, kind, name),
            meta.annotations.clone().unwrap_or_default(),
            template_annotations,
            refs,
        ))
    }
}

/// A ReloaderConfig, by identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigId {
    pub namespace: String,
    pub name: String,
}

impl ConfigId {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

/// What the index needs to know about one ReloaderConfig. Watched sources live in the
/// ReloaderConfig's own namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigInput {
    pub targets: Vec<WorkloadRef>,
    pub rule: ConfigRule,
}

/// Who follows a source: a workload through its own annotations, or a workload named as a
/// target of a ReloaderConfig. The same workload can appear both ways; the planner coalesces.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Follower {
    /// Shared between the sources it is listed under.
    Workload(Arc<WorkloadRef>),
    /// Shared between the sources it is listed under (and small: a follower is stored once
    /// per source it follows).
    ConfigTarget {
        config: Arc<ConfigId>,
        target: Arc<WorkloadRef>,
    },
}

impl Follower {
    pub fn workload(&self) -> &WorkloadRef {
        match self {
            Follower::Workload(w) => w,
            Follower::ConfigTarget { target, .. } => target,
        }
    }
}

/// One follower found for a source, with the policy decision for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub follower: Follower,
    pub decision: Decision,
    /// Index into `spec.containers` for the env-var marker, when the decision is to reload.
    pub container: Option<usize>,
}

/// An indexed workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadEntry {
    pub policy: WorkloadPolicy,
    pub refs: RefSummary,
    /// Keys this workload is listed under (in its own namespace), so a re-apply or delete
    /// removes exactly them.
    keys: Vec<SourceKey>,
    pattern_kinds: Vec<SourceKind>,
}

#[derive(Clone, Debug, Default)]
struct PatternFollowers {
    secret: HashSet<WorkloadRef>,
    configmap: HashSet<WorkloadRef>,
    secret_provider_class: HashSet<WorkloadRef>,
}

impl PatternFollowers {
    fn of(&mut self, kind: SourceKind) -> &mut HashSet<WorkloadRef> {
        match kind {
            SourceKind::Secret => &mut self.secret,
            SourceKind::ConfigMap => &mut self.configmap,
            SourceKind::SecretProviderClass => &mut self.secret_provider_class,
        }
    }

    fn get(&self, kind: SourceKind) -> &HashSet<WorkloadRef> {
        match kind {
            SourceKind::Secret => &self.secret,
            SourceKind::ConfigMap => &self.configmap,
            SourceKind::SecretProviderClass => &self.secret_provider_class,
        }
    }

    fn is_empty(&self) -> bool {
        self.secret.is_empty() && self.configmap.is_empty() && self.secret_provider_class.is_empty()
    }
}

/// Sizes, for metrics and for tests that check nothing stale is left behind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub workloads: usize,
    pub configs: usize,
    /// Distinct sources with at least one follower by exact name.
    pub source_keys: usize,
    /// (source, follower) pairs listed by exact name.
    pub follower_entries: usize,
    /// Namespaces holding regex reload entries.
    pub pattern_namespaces: usize,
}

/// The reverse index. Fixed annotation keys and global options: both come from start-up flags.
#[derive(Clone, Debug, Default)]
pub struct FollowerIndex {
    keys: AnnotationKeys,
    global: GlobalOptions,
    workloads: HashMap<WorkloadRef, WorkloadEntry>,
    configs: HashMap<ConfigId, ConfigInput>,
    configs_by_target: HashMap<WorkloadRef, HashSet<ConfigId>>,
    target_keys: HashMap<(ConfigId, WorkloadRef), Vec<SourceRef>>,
    by_source: HashMap<SourceRef, HashSet<Follower>>,
    patterns: HashMap<String, PatternFollowers>,
}

impl FollowerIndex {
    pub fn new(keys: AnnotationKeys, global: GlobalOptions) -> Self {
        Self {
            keys,
            global,
            ..Self::default()
        }
    }

    /// Adds or replaces a workload. Returns the annotation problems found while parsing,
    /// for the caller to log or report as an Event.
    pub fn apply_workload(&mut self, input: WorkloadInput) -> Vec<PolicyWarning> {
        let workload = input.workload;
        self.unlist_workload(&workload);
        let policy = WorkloadPolicy::parse(
            workload.kind,
            Some(&input.annotations),
            Some(&input.template_annotations),
            &self.keys,
        );
        let mut keys = Vec::new();
        let mut pattern_kinds = Vec::new();
        for kind in SourceKind::ALL
            .into_iter()
            .filter(|k| self.global.follows_kind(*k))
        {
            let p = policy.for_kind(kind);
            for pattern in &p.reload {
                match pattern.literal() {
                    Some(name) => keys.push(SourceKey::new(kind, name)),
                    None if !pattern_kinds.contains(&kind) => pattern_kinds.push(kind),
                    None => {}
                }
            }
            if policy.follows_references(kind, &self.global) {
                keys.extend(input.refs.referenced().filter(|k| k.kind == kind).cloned());
            }
        }
        keys.sort();
        keys.dedup();
        // One allocation of the identity, shared by every source it is listed under.
        let follower = Follower::Workload(Arc::new(workload.clone()));
        for key in &keys {
            let source = SourceRef::new(&workload.namespace, key.kind, &key.name);
            list(&mut self.by_source, source, follower.clone());
        }
        for kind in &pattern_kinds {
            self.patterns
                .entry(workload.namespace.clone())
                .or_default()
                .of(*kind)
                .insert(workload.clone());
        }
        let warnings = policy.warnings.clone();
        let entry = WorkloadEntry {
            policy,
            refs: RefSummary::of(&input.refs),
            keys,
            pattern_kinds,
        };
        self.workloads.insert(workload.clone(), entry);
        self.relist_targets_of(&workload);
        warnings
    }

    /// Removes a workload and everything listed for it.
    pub fn delete_workload(&mut self, workload: &WorkloadRef) {
        self.unlist_workload(workload);
        self.workloads.remove(workload);
        // ReloaderConfigs keep naming it; their watched entries stay so that a re-created
        // workload is followed again, while auto entries from its old pod spec go.
        self.relist_targets_of(workload);
    }

    /// Adds or replaces a ReloaderConfig.
    pub fn apply_config(&mut self, id: ConfigId, input: ConfigInput) {
        self.delete_config(&id);
        for target in &input.targets {
            self.configs_by_target
                .entry(target.clone())
                .or_default()
                .insert(id.clone());
        }
        let targets = input.targets.clone();
        self.configs.insert(id.clone(), input);
        for target in &targets {
            self.list_target(&id, target);
        }
    }

    /// Removes a ReloaderConfig and all its targets' entries.
    pub fn delete_config(&mut self, id: &ConfigId) {
        let Some(old) = self.configs.remove(id) else {
            return;
        };
        for target in &old.targets {
            self.unlist_target(id, target);
            if let Some(set) = self.configs_by_target.get_mut(target) {
                set.remove(id);
                if set.is_empty() {
                    self.configs_by_target.remove(target);
                }
            }
        }
    }

    /// The followers of a source, each with its decision. `source_annotations` are the
    /// admitted object's (for the ignore and match keys). Followers whose workload is not (or
    /// no longer) indexed are left out. Sorted, so the result is deterministic.
    pub fn lookup(
        &self,
        source: &SourceRef,
        source_annotations: Option<&Annotations>,
    ) -> Vec<Candidate> {
        let mut followers: Vec<Follower> = self
            .by_source
            .get(source)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default();
        if let Some(patterns) = self.patterns.get(&source.namespace) {
            for workload in patterns.get(source.kind) {
                let matches = self.workloads.get(workload).is_some_and(|e| {
                    e.policy
                        .for_kind(source.kind)
                        .reload
                        .iter()
                        .any(|p| p.literal().is_none() && p.matches(&source.name))
                });
                if matches {
                    followers.push(Follower::Workload(Arc::new(workload.clone())));
                }
            }
        }
        followers.sort();
        followers.dedup();
        followers
            .into_iter()
            .filter_map(|f| self.candidate(f, source, source_annotations))
            .collect()
    }

    /// The indexed state of a workload (its parsed policy, e.g. for the pause period).
    pub fn workload(&self, workload: &WorkloadRef) -> Option<&WorkloadEntry> {
        self.workloads.get(workload)
    }

    /// Every source some follower names or references (not regex reload entries: those
    /// match names no one has written yet). Sorted.
    pub fn sources(&self) -> Vec<SourceRef> {
        let mut out: Vec<SourceRef> = self.by_source.keys().cloned().collect();
        out.sort();
        out
    }

    pub fn stats(&self) -> IndexStats {
        IndexStats {
            workloads: self.workloads.len(),
            configs: self.configs.len(),
            source_keys: self.by_source.len(),
            follower_entries: self.by_source.values().map(HashSet::len).sum(),
            pattern_namespaces: self.patterns.len(),
        }
    }

    fn candidate(
        &self,
        follower: Follower,
        source: &SourceRef,
        source_annotations: Option<&Annotations>,
    ) -> Option<Candidate> {
        let target = follower.workload();
        let entry = self.workloads.get(target)?;
        let referenced = target.namespace == source.namespace
            && entry.refs.references(source.kind, &source.name);
        let facts = SourceFacts::from_annotations(
            source.kind,
            &source.name,
            source_annotations,
            &self.keys,
            referenced,
        );
        let decision = match &follower {
            Follower::Workload(_) => decide(&entry.policy, &facts, &self.global),
            Follower::ConfigTarget { config, .. } => {
                let rule = &self.configs.get(config)?.rule;
                decide_config(rule, target.kind, &facts, &self.global)
            }
        };
        let container = match decision {
            Decision::Reload(reason) => {
                entry
                    .refs
                    .container_for(source.kind, &source.name, reason.follow_mode())
            }
            Decision::Skip(_) => None,
        };
        Some(Candidate {
            follower,
            decision,
            container,
        })
    }

    fn unlist_workload(&mut self, workload: &WorkloadRef) {
        let Some(entry) = self.workloads.get_mut(workload) else {
            return;
        };
        let follower = Follower::Workload(Arc::new(workload.clone()));
        for key in std::mem::take(&mut entry.keys) {
            let source = SourceRef::new(&workload.namespace, key.kind, key.name);
            unlist(&mut self.by_source, &source, &follower);
        }
        if let Some(patterns) = self.patterns.get_mut(&workload.namespace) {
            for kind in std::mem::take(&mut entry.pattern_kinds) {
                patterns.of(kind).remove(workload);
            }
            if patterns.is_empty() {
                self.patterns.remove(&workload.namespace);
            }
        }
    }

    /// Re-lists every ReloaderConfig target entry for a workload whose pod spec changed.
    fn relist_targets_of(&mut self, workload: &WorkloadRef) {
        let configs: Vec<ConfigId> = self
            .configs_by_target
            .get(workload)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default();
        for id in configs {
            self.unlist_target(&id, workload);
            self.list_target(&id, workload);
        }
    }

    fn list_target(&mut self, id: &ConfigId, target: &WorkloadRef) {
        let Some(config) = self.configs.get(id) else {
            return;
        };
        let mut keys: Vec<SourceRef> = config
            .rule
            .watched
            .iter()
            .map(|k| SourceRef::new(&id.namespace, k.kind, &k.name))
            .collect();
        if config.rule.auto_reload_all
            && let Some(entry) = self.workloads.get(target)
        {
            keys.extend(
                entry
                    .refs
                    .referenced()
                    .filter(|k| self.global.follows_kind(k.kind))
                    .map(|k| SourceRef::new(&target.namespace, k.kind, &k.name)),
            );
        }
        keys.sort();
        keys.dedup();
        let follower = Follower::ConfigTarget {
            config: Arc::new(id.clone()),
            target: Arc::new(target.clone()),
        };
        for key in &keys {
            list(&mut self.by_source, key.clone(), follower.clone());
        }
        self.target_keys.insert((id.clone(), target.clone()), keys);
    }

    fn unlist_target(&mut self, id: &ConfigId, target: &WorkloadRef) {
        let Some(keys) = self.target_keys.remove(&(id.clone(), target.clone())) else {
            return;
        };
        let follower = Follower::ConfigTarget {
            config: Arc::new(id.clone()),
            target: Arc::new(target.clone()),
        };
        for key in &keys {
            unlist(&mut self.by_source, key, &follower);
        }
    }
}

fn list(map: &mut HashMap<SourceRef, HashSet<Follower>>, key: SourceRef, follower: Follower) {
    map.entry(key).or_default().insert(follower);
}

fn unlist(map: &mut HashMap<SourceRef, HashSet<Follower>>, key: &SourceRef, follower: &Follower) {
    if let Some(set) = map.get_mut(key) {
        set.remove(follower);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests;
