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

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::policy::{
    AnnotationKeys, Annotations, ConfigRule, Decision, GlobalOptions, PolicyWarning, SourceFacts,
    WorkloadPolicy, decide, decide_config,
};
use crate::refs::PodRefs;
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

    pub fn from_deployment(d: &Deployment) -> Result<Self, IndexError> {
        let template = d.spec.as_ref().map(|s| &s.template);
        Self::from_parts(WorkloadKind::Deployment, &d.metadata, template)
    }

    pub fn from_stateful_set(s: &StatefulSet) -> Result<Self, IndexError> {
        let template = s.spec.as_ref().map(|s| &s.template);
        Self::from_parts(WorkloadKind::StatefulSet, &s.metadata, template)
    }

    pub fn from_daemon_set(d: &DaemonSet) -> Result<Self, IndexError> {
        let template = d.spec.as_ref().map(|s| &s.template);
        Self::from_parts(WorkloadKind::DaemonSet, &d.metadata, template)
    }

    pub fn from_cron_job(c: &CronJob) -> Result<Self, IndexError> {
        let template = c
            .spec
            .as_ref()
            .and_then(|s| s.job_template.spec.as_ref())
            .map(|s| &s.template);
        Self::from_parts(WorkloadKind::CronJob, &c.metadata, template)
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
    Workload(WorkloadRef),
    ConfigTarget {
        config: ConfigId,
        target: WorkloadRef,
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
    pub refs: PodRefs,
    /// Keys this workload is listed under, so a re-apply or delete removes exactly them.
    keys: Vec<SourceRef>,
    pattern_kinds: Vec<SourceKind>,
}

#[derive(Clone, Debug, Default)]
struct PatternFollowers {
    secret: HashSet<WorkloadRef>,
    configmap: HashSet<WorkloadRef>,
}

impl PatternFollowers {
    fn of(&mut self, kind: SourceKind) -> &mut HashSet<WorkloadRef> {
        match kind {
            SourceKind::Secret => &mut self.secret,
            SourceKind::ConfigMap => &mut self.configmap,
        }
    }

    fn get(&self, kind: SourceKind) -> &HashSet<WorkloadRef> {
        match kind {
            SourceKind::Secret => &self.secret,
            SourceKind::ConfigMap => &self.configmap,
        }
    }

    fn is_empty(&self) -> bool {
        self.secret.is_empty() && self.configmap.is_empty()
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
        for kind in [SourceKind::Secret, SourceKind::ConfigMap] {
            let p = policy.for_kind(kind);
            for pattern in &p.reload {
                match pattern.literal() {
                    Some(name) => keys.push(SourceRef::new(&workload.namespace, kind, name)),
                    None if !pattern_kinds.contains(&kind) => pattern_kinds.push(kind),
                    None => {}
                }
            }
            if policy.follows_references(kind, &self.global) {
                keys.extend(
                    input
                        .refs
                        .referenced()
                        .filter(|k| k.kind == kind)
                        .map(|k| SourceRef::new(&workload.namespace, kind, &k.name)),
                );
            }
        }
        keys.sort();
        keys.dedup();
        let follower = Follower::Workload(workload.clone());
        for key in &keys {
            list(&mut self.by_source, key.clone(), follower.clone());
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
            refs: input.refs,
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
                    followers.push(Follower::Workload(workload.clone()));
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
        let follower = Follower::Workload(workload.clone());
        for key in std::mem::take(&mut entry.keys) {
            unlist(&mut self.by_source, &key, &follower);
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
                    .map(|k| SourceRef::new(&target.namespace, k.kind, &k.name)),
            );
        }
        keys.sort();
        keys.dedup();
        let follower = Follower::ConfigTarget {
            config: id.clone(),
            target: target.clone(),
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
            config: id.clone(),
            target: target.clone(),
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
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::*;
    use crate::policy::{ReloadReason, SkipReason};
    use crate::refs::{ContainerGroup, ContainerId, SourceKey, Usage};

    const CM: SourceKind = SourceKind::ConfigMap;
    const SECRET: SourceKind = SourceKind::Secret;

    fn ann(pairs: &[(&str, &str)]) -> Annotations {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Pod refs where container 0 reads each source through envFrom.
    fn uses(sources: &[(SourceKind, &str)]) -> PodRefs {
        let app = ContainerId {
            group: ContainerGroup::Main,
            index: 0,
            name: "app".into(),
        };
        PodRefs {
            sources: sources
                .iter()
                .map(|(kind, name)| {
                    let usage = Usage {
                        env_from: vec![app.clone()],
                        ..Usage::default()
                    };
                    (SourceKey::new(*kind, *name), usage)
                })
                .collect(),
            main_containers: 1,
        }
    }

    fn deployment(ns: &str, name: &str) -> WorkloadRef {
        WorkloadRef::new(ns, WorkloadKind::Deployment, name)
    }

    fn workload(
        ns: &str,
        name: &str,
        annotations: &[(&str, &str)],
        sources: &[(SourceKind, &str)],
    ) -> WorkloadInput {
        WorkloadInput::new(
            deployment(ns, name),
            ann(annotations),
            Annotations::new(),
            uses(sources),
        )
    }

    fn src(ns: &str, kind: SourceKind, name: &str) -> SourceRef {
        SourceRef::new(ns, kind, name)
    }

    /// (workload name, decision) of every candidate.
    fn found(index: &FollowerIndex, source: &SourceRef) -> Vec<(String, Decision)> {
        found_with(index, source, &[])
    }

    fn found_with(
        index: &FollowerIndex,
        source: &SourceRef,
        source_annotations: &[(&str, &str)],
    ) -> Vec<(String, Decision)> {
        index
            .lookup(source, Some(&ann(source_annotations)))
            .into_iter()
            .map(|c| (c.follower.workload().name.clone(), c.decision))
            .collect()
    }

    fn reload(name: &str, reason: ReloadReason) -> (String, Decision) {
        (name.to_owned(), Decision::Reload(reason))
    }

    fn skip(name: &str, reason: SkipReason) -> (String, Decision) {
        (name.to_owned(), Decision::Skip(reason))
    }

    const AUTO: (&str, &str) = ("reloader.stakater.com/auto", "true");

    #[test]
    fn auto_workload_is_found_by_the_sources_it_references_only() {
        let mut index = FollowerIndex::default();
        index.apply_workload(workload("ns", "web", &[AUTO], &[(CM, "web-config")]));
        assert_eq!(
            found(&index, &src("ns", CM, "web-config")),
            [reload("web", ReloadReason::Auto)]
        );
        assert!(found(&index, &src("ns", CM, "other")).is_empty());
        assert!(found(&index, &src("ns", SECRET, "web-config")).is_empty());
        assert!(found(&index, &src("other-ns", CM, "web-config")).is_empty());
    }

    #[test]
    fn explicit_reload_entries_find_unreferenced_sources_by_name_and_by_regex() {
        let mut index = FollowerIndex::default();
        let list = (
            "configmap.reloader.stakater.com/reload",
            "plain-name, feature-.*",
        );
        index.apply_workload(workload("ns", "web", &[list], &[]));
        index.apply_workload(workload("other", "api", &[list], &[]));
        assert_eq!(
            found(&index, &src("ns", CM, "plain-name")),
            [reload("web", ReloadReason::Explicit)]
        );
        assert_eq!(
            found(&index, &src("ns", CM, "feature-flags")),
            [reload("web", ReloadReason::Explicit)]
        );
        assert_eq!(
            found(&index, &src("other", CM, "feature-x")),
            [reload("api", ReloadReason::Explicit)],
            "regex entries are evaluated only for their own namespace"
        );
        assert!(found(&index, &src("ns", CM, "not-a-feature-x")).is_empty());
    }

    #[test]
    fn candidates_carry_the_container_for_the_marker() {
        let mut index = FollowerIndex::default();
        let list = ("secret.reloader.stakater.com/reload", "unused");
        index.apply_workload(workload("ns", "web", &[AUTO, list], &[(SECRET, "used")]));
        let used = index.lookup(&src("ns", SECRET, "used"), None);
        assert_eq!(used[0].container, Some(0));
        let unused = index.lookup(&src("ns", SECRET, "unused"), None);
        assert_eq!(unused[0].decision, Decision::Reload(ReloadReason::Explicit));
        assert_eq!(unused[0].container, Some(0));
    }

    #[test]
    fn source_annotations_decide_search_match_and_ignore() {
        let mut index = FollowerIndex::default();
        let search = ("reloader.stakater.com/search", "true");
        index.apply_workload(workload("ns", "web", &[search], &[(CM, "c")]));
        let matched = [("reloader.stakater.com/match", "true")];
        let ignored = [("reloader.stakater.com/ignore", "true"), matched[0]];
        let c = src("ns", CM, "c");
        assert_eq!(
            found_with(&index, &c, &matched),
            [reload("web", ReloadReason::Search)]
        );
        assert_eq!(
            found_with(&index, &c, &[]),
            [skip("web", SkipReason::NotFollowed)]
        );
        assert_eq!(
            found_with(&index, &c, &ignored),
            [skip("web", SkipReason::SourceIgnored)]
        );
    }

    #[test]
    fn excluded_followers_are_returned_with_the_skip_reason() {
        let mut index = FollowerIndex::default();
        let exclude = ("secrets.exclude.reloader.stakater.com/reload", "s");
        index.apply_workload(workload("ns", "web", &[AUTO, exclude], &[(SECRET, "s")]));
        assert_eq!(
            found(&index, &src("ns", SECRET, "s")),
            [skip("web", SkipReason::Excluded)]
        );
    }

    #[test]
    fn unannotated_workloads_are_followers_only_under_auto_reload_all() {
        let input = workload("ns", "plain", &[], &[(CM, "c")]);
        let mut off = FollowerIndex::default();
        off.apply_workload(input.clone());
        assert!(found(&off, &src("ns", CM, "c")).is_empty());
        let global = GlobalOptions {
            auto_reload_all: true,
            ..GlobalOptions::default()
        };
        let mut on = FollowerIndex::new(AnnotationKeys::default(), global);
        on.apply_workload(input);
        assert_eq!(
            found(&on, &src("ns", CM, "c")),
            [reload("plain", ReloadReason::AutoReloadAll)]
        );
    }

    #[test]
    fn applying_a_workload_twice_lists_it_once() {
        let mut index = FollowerIndex::default();
        let input = workload("ns", "web", &[AUTO], &[(CM, "c"), (SECRET, "s")]);
        index.apply_workload(input.clone());
        let once = index.stats();
        index.apply_workload(input);
        assert_eq!(index.stats(), once);
        assert_eq!(found(&index, &src("ns", CM, "c")).len(), 1);
    }

    #[test]
    fn changing_annotations_replaces_the_old_entries() {
        let mut index = FollowerIndex::default();
        let list = ("configmap.reloader.stakater.com/reload", "old, old-.*");
        index.apply_workload(workload("ns", "web", &[list], &[]));
        let new_list = ("configmap.reloader.stakater.com/reload", "new");
        index.apply_workload(workload("ns", "web", &[new_list], &[]));
        assert!(found(&index, &src("ns", CM, "old")).is_empty());
        assert!(found(&index, &src("ns", CM, "old-1")).is_empty());
        assert_eq!(index.stats().pattern_namespaces, 0, "no stale regex lists");
        assert_eq!(found(&index, &src("ns", CM, "new")).len(), 1);
    }

    #[test]
    fn changing_the_pod_spec_replaces_the_old_references() {
        let mut index = FollowerIndex::default();
        index.apply_workload(workload("ns", "web", &[AUTO], &[(CM, "v1")]));
        index.apply_workload(workload("ns", "web", &[AUTO], &[(CM, "v2")]));
        assert!(found(&index, &src("ns", CM, "v1")).is_empty());
        assert_eq!(found(&index, &src("ns", CM, "v2")).len(), 1);
        assert_eq!(index.stats().follower_entries, 1);
    }

    #[test]
    fn deleting_a_workload_removes_every_entry() {
        let mut index = FollowerIndex::default();
        let list = ("secret.reloader.stakater.com/reload", "tls-.*, db");
        index.apply_workload(workload("ns", "web", &[AUTO, list], &[(CM, "c")]));
        index.apply_workload(workload("ns", "api", &[AUTO], &[(CM, "c")]));
        index.delete_workload(&deployment("ns", "web"));
        assert_eq!(
            found(&index, &src("ns", CM, "c")),
            [reload("api", ReloadReason::Auto)]
        );
        assert!(found(&index, &src("ns", SECRET, "tls-a")).is_empty());
        index.delete_workload(&deployment("ns", "api"));
        assert_eq!(index.stats(), IndexStats::default());
    }

    #[test]
    fn deleting_an_unknown_workload_or_config_is_a_no_op() {
        let mut index = FollowerIndex::default();
        index.delete_workload(&deployment("ns", "ghost"));
        index.delete_config(&ConfigId::new("ns", "ghost"));
        assert_eq!(index.stats(), IndexStats::default());
    }

    fn config(targets: &[&str], watched: &[(SourceKind, &str)], auto: bool) -> ConfigInput {
        ConfigInput {
            targets: targets.iter().map(|t| deployment("ns", t)).collect(),
            rule: ConfigRule {
                watched: watched
                    .iter()
                    .map(|(k, n)| SourceKey::new(*k, *n))
                    .collect(),
                auto_reload_all: auto,
            },
        }
    }

    #[test]
    fn reloaderconfig_targets_follow_watched_resources_even_unreferenced() {
        let mut index = FollowerIndex::default();
        index.apply_workload(workload("ns", "web", &[], &[]));
        let id = ConfigId::new("ns", "rc");
        index.apply_config(id.clone(), config(&["web"], &[(SECRET, "s")], false));
        let got = index.lookup(&src("ns", SECRET, "s"), None);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].follower,
            Follower::ConfigTarget {
                config: id,
                target: deployment("ns", "web")
            }
        );
        assert_eq!(got[0].decision, Decision::Reload(ReloadReason::Explicit));
        assert_eq!(got[0].container, Some(0));
    }

    #[test]
    fn reloaderconfig_auto_reload_all_follows_the_targets_current_pod_spec() {
        let mut index = FollowerIndex::default();
        index.apply_workload(workload("ns", "web", &[], &[(CM, "v1")]));
        index.apply_config(ConfigId::new("ns", "rc"), config(&["web"], &[], true));
        assert_eq!(
            found(&index, &src("ns", CM, "v1")),
            [reload("web", ReloadReason::AutoReloadAll)]
        );
        index.apply_workload(workload("ns", "web", &[], &[(CM, "v2")]));
        assert!(
            found(&index, &src("ns", CM, "v1")).is_empty(),
            "stale auto entry"
        );
        assert_eq!(
            found(&index, &src("ns", CM, "v2")),
            [reload("web", ReloadReason::AutoReloadAll)]
        );
    }

    #[test]
    fn a_target_applied_after_its_reloaderconfig_is_followed() {
        let mut index = FollowerIndex::default();
        index.apply_config(
            ConfigId::new("ns", "rc"),
            config(&["late"], &[(CM, "w")], true),
        );
        assert!(
            found(&index, &src("ns", CM, "w")).is_empty(),
            "no workload yet"
        );
        index.apply_workload(workload("ns", "late", &[], &[(SECRET, "s")]));
        assert_eq!(found(&index, &src("ns", CM, "w")).len(), 1);
        assert_eq!(found(&index, &src("ns", SECRET, "s")).len(), 1);
        index.delete_workload(&deployment("ns", "late"));
        assert!(found(&index, &src("ns", CM, "w")).is_empty());
        assert!(found(&index, &src("ns", SECRET, "s")).is_empty());
    }

    #[test]
    fn changing_or_deleting_a_reloaderconfig_leaves_nothing_stale() {
        let mut index = FollowerIndex::default();
        index.apply_workload(workload("ns", "a", &[], &[]));
        index.apply_workload(workload("ns", "b", &[], &[]));
        let id = ConfigId::new("ns", "rc");
        index.apply_config(id.clone(), config(&["a", "b"], &[(CM, "old")], false));
        index.apply_config(id.clone(), config(&["b"], &[(CM, "new")], false));
        assert!(found(&index, &src("ns", CM, "old")).is_empty());
        assert_eq!(
            found(&index, &src("ns", CM, "new")),
            [reload("b", ReloadReason::Explicit)]
        );
        index.delete_config(&id);
        assert!(found(&index, &src("ns", CM, "new")).is_empty());
        let stats = index.stats();
        assert_eq!((stats.configs, stats.follower_entries), (0, 0));
    }

    #[test]
    fn a_workload_both_annotated_and_targeted_appears_once_per_way() {
        let mut index = FollowerIndex::default();
        index.apply_workload(workload("ns", "web", &[AUTO], &[(CM, "c")]));
        index.apply_config(
            ConfigId::new("ns", "rc"),
            config(&["web"], &[(CM, "c")], false),
        );
        let got = index.lookup(&src("ns", CM, "c"), None);
        assert_eq!(got.len(), 2);
        assert!(matches!(got[0].follower, Follower::Workload(_)));
        assert!(matches!(got[1].follower, Follower::ConfigTarget { .. }));
    }

    #[test]
    fn annotation_warnings_are_returned_on_apply() {
        let mut index = FollowerIndex::default();
        let bad = ("configmap.reloader.stakater.com/reload", "ok, bad(");
        let warnings = index.apply_workload(workload("ns", "web", &[bad], &[]));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].to_string().contains("bad("));
    }

    fn pod_template(annotations: serde_json::Value) -> serde_json::Value {
        json!({
            "metadata": {"annotations": annotations},
            "spec": {"containers": [{"name": "app", "envFrom": [{"configMapRef": {"name": "c"}}]}]}
        })
    }

    #[test]
    fn inputs_are_built_from_apps_v1_kinds_and_cronjobs() {
        let meta = json!({"name": "w", "namespace": "ns", "annotations": {"a": "1"}});
        let template = pod_template(json!({"reloader.stakater.com/auto": "true"}));
        let spec = json!({"selector": {}, "template": template});
        let d: Deployment =
            serde_json::from_value(json!({"metadata": meta, "spec": spec})).unwrap();
        let s: StatefulSet =
            serde_json::from_value(json!({"metadata": meta, "spec": spec})).unwrap();
        let ds: DaemonSet =
            serde_json::from_value(json!({"metadata": meta, "spec": spec})).unwrap();
        let cj: CronJob = serde_json::from_value(json!({"metadata": meta, "spec": {
            "schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}}))
        .unwrap();
        let inputs = [
            (WorkloadInput::from_deployment(&d), WorkloadKind::Deployment),
            (
                WorkloadInput::from_stateful_set(&s),
                WorkloadKind::StatefulSet,
            ),
            (WorkloadInput::from_daemon_set(&ds), WorkloadKind::DaemonSet),
            (WorkloadInput::from_cron_job(&cj), WorkloadKind::CronJob),
        ];
        let mut index = FollowerIndex::default();
        for (input, kind) in inputs {
            let input = input.unwrap();
            assert_eq!(input.workload, WorkloadRef::new("ns", kind, "w"));
            assert_eq!(input.annotations, ann(&[("a", "1")]));
            assert!(input.refs.references(CM, "c"), "{kind}");
            index.apply_workload(input);
        }
        let kinds: Vec<_> = index
            .lookup(&src("ns", CM, "c"), None)
            .into_iter()
            .filter(|c| c.decision == Decision::Reload(ReloadReason::Auto))
            .map(|c| c.follower.workload().kind)
            .collect();
        assert_eq!(kinds.len(), 4, "template annotations are read: {kinds:?}");
    }

    #[test]
    fn objects_without_name_namespace_or_spec_are_handled() {
        let no_name = Deployment::default();
        assert_eq!(
            WorkloadInput::from_deployment(&no_name),
            Err(IndexError::MissingName {
                kind: WorkloadKind::Deployment
            })
        );
        let mut no_ns = Deployment::default();
        no_ns.metadata.name = Some("w".into());
        assert!(matches!(
            WorkloadInput::from_deployment(&no_ns),
            Err(IndexError::MissingNamespace { .. })
        ));
        let mut no_spec = CronJob::default();
        no_spec.metadata.name = Some("w".into());
        no_spec.metadata.namespace = Some("ns".into());
        let input = WorkloadInput::from_cron_job(&no_spec).unwrap();
        assert!(input.refs.sources.is_empty());
    }

    /// `namespaces` namespaces of 100 workloads each: most auto-follow two sources of their
    /// own, one per namespace also has a regex reload list, so lookups exercise both paths.
    fn populated(namespaces: usize) -> FollowerIndex {
        let mut index = FollowerIndex::default();
        let list = ("secret.reloader.stakater.com/reload", "shared-.*");
        for n in 0..namespaces {
            let ns = format!("ns-{n}");
            for w in 0..100 {
                let config = format!("cfg-{w}");
                let secret = format!("sec-{}", w % 10);
                let refs = [(CM, config.as_str()), (SECRET, secret.as_str())];
                let annotations: &[(&str, &str)] = if w == 0 { &[AUTO, list] } else { &[AUTO] };
                index.apply_workload(workload(&ns, &format!("w-{w}"), annotations, &refs));
            }
        }
        index
    }

    /// Median time of a batch of lookups, one batch per namespace-spread source.
    fn median_lookup(index: &FollowerIndex, namespaces: usize, rounds: usize) -> Duration {
        let mut samples = Vec::with_capacity(rounds);
        for r in 0..rounds {
            let ns = format!("ns-{}", (r * 7919) % namespaces);
            let sources = [
                src(&ns, CM, &format!("cfg-{}", r % 100)),
                src(&ns, SECRET, &format!("sec-{}", r % 10)),
                src(&ns, SECRET, "shared-x"),
            ];
            let start = Instant::now();
            let mut total = 0;
            for s in &sources {
                total += index.lookup(s, None).len();
            }
            samples.push(start.elapsed());
            assert_eq!(total, 1 + 10 + 1, "every lookup finds its followers");
        }
        samples.sort();
        samples[rounds / 2]
    }

    #[test]
    fn lookup_cost_does_not_grow_with_the_number_of_workloads() {
        let small = populated(1);
        let build = Instant::now();
        let large = populated(1000);
        let build = build.elapsed();
        assert_eq!(large.stats().workloads, 100_000);
        // Interleave the measurements so both sizes see the same machine load.
        let (mut small_t, mut large_t) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            small_t.push(median_lookup(&small, 1, 201));
            large_t.push(median_lookup(&large, 1000, 201));
        }
        small_t.sort();
        large_t.sort();
        let (small_t, large_t) = (small_t[2], large_t[2]);
        assert!(
            large_t < small_t * 20,
            "100k workloads: {large_t:?} per lookup batch vs 100: {small_t:?} (build {build:?})"
        );
    }

    mod model {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        const NAMES: [&str; 3] = ["a", "b", "c1"];

        #[derive(Clone, Debug)]
        enum Op {
            Apply {
                ns: usize,
                name: usize,
                annotations: Vec<(&'static str, &'static str)>,
                refs: Vec<(bool, usize)>,
            },
            Delete {
                ns: usize,
                name: usize,
            },
        }

        fn annotation() -> impl Strategy<Value = (&'static str, &'static str)> {
            prop::sample::select(vec![
                ("reloader.stakater.com/auto", "true"),
                ("reloader.stakater.com/auto", "false"),
                ("secret.reloader.stakater.com/auto", "true"),
                ("configmap.reloader.stakater.com/reload", "a"),
                ("configmap.reloader.stakater.com/reload", "c.*, b"),
                ("secret.reloader.stakater.com/reload", "[ab]"),
                ("reloader.stakater.com/search", "true"),
                ("configmaps.exclude.reloader.stakater.com/reload", "a"),
            ])
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                3 => (0..2usize, 0..3usize, prop::collection::vec(annotation(), 0..3),
                      prop::collection::vec((any::<bool>(), 0..3usize), 0..3))
                    .prop_map(|(ns, name, annotations, refs)| Op::Apply { ns, name, annotations, refs }),
                1 => (0..2usize, 0..3usize).prop_map(|(ns, name)| Op::Delete { ns, name }),
            ]
        }

        fn kind(secret: bool) -> SourceKind {
            if secret { SECRET } else { CM }
        }

        proptest! {
            /// After any sequence of applies and deletes, the index reloads exactly the
            /// workloads that deciding over every live workload (brute force) reloads.
            #[test]
            fn index_agrees_with_deciding_over_every_live_workload(
                ops in prop::collection::vec(op(), 1..25),
                auto_reload_all in any::<bool>(),
                matched in any::<bool>(),
            ) {
                let global = GlobalOptions { auto_reload_all, ..Default::default() };
                let keys = AnnotationKeys::default();
                let mut index = FollowerIndex::new(keys.clone(), global.clone());
                let mut live: BTreeMap<WorkloadRef, WorkloadInput> = BTreeMap::new();
                for op in ops {
                    match op {
                        Op::Apply { ns, name, annotations, refs } => {
                            let refs: Vec<_> = refs.iter().map(|(s, n)| (kind(*s), NAMES[*n])).collect();
                            let input = workload(&format!("ns{ns}"), &format!("w{name}"), &annotations, &refs);
                            live.insert(input.workload.clone(), input.clone());
                            index.apply_workload(input);
                        }
                        Op::Delete { ns, name } => {
                            let w = deployment(&format!("ns{ns}"), &format!("w{name}"));
                            live.remove(&w);
                            index.delete_workload(&w);
                        }
                    }
                }
                let source_annotations = if matched { ann(&[("reloader.stakater.com/match", "true")]) } else { Annotations::new() };
                for ns in ["ns0", "ns1"] {
                    for secret in [true, false] {
                        for name in NAMES {
                            let source = src(ns, kind(secret), name);
                            let mut expected: Vec<(WorkloadRef, Decision)> = live.values()
                                .filter(|i| i.workload.namespace == ns)
                                .filter_map(|i| {
                                    let policy = WorkloadPolicy::parse(i.workload.kind, Some(&i.annotations), Some(&i.template_annotations), &keys);
                                    let facts = SourceFacts::from_annotations(source.kind, name, Some(&source_annotations), &keys, i.refs.references(source.kind, name));
                                    let d = decide(&policy, &facts, &global);
                                    d.reloads().then(|| (i.workload.clone(), d))
                                })
                                .collect();
                            expected.sort_by(|x, y| x.0.cmp(&y.0));
                            let got: Vec<(WorkloadRef, Decision)> = index.lookup(&source, Some(&source_annotations))
                                .into_iter()
                                .filter(|c| c.decision.reloads())
                                .map(|c| (c.follower.workload().clone(), c.decision))
                                .collect();
                            prop_assert_eq!(got, expected, "{}", source);
                        }
                    }
                }
                // Deleting what is left must leave nothing behind (stale entries would only
                // cost memory, as lookups skip workloads that are gone).
                for w in live.keys() {
                    index.delete_workload(w);
                }
                prop_assert_eq!(index.stats(), IndexStats::default());
            }
        }
    }
}
