//! What a workload asks for: stakater/Reloader's annotations and decision order.
//!
//! A workload's annotations are parsed once into a [`WorkloadPolicy`]; [`decide`] then answers,
//! for one Secret/ConfigMap, whether the workload reloads and why. Workloads named by a
//! `ReloaderConfig` get the same answer shape from [`decide_config`].

use std::collections::{BTreeMap, HashSet};

use regex::Regex;

use crate::keys;
use crate::refs::{FollowMode, SourceKey};
use crate::source::SourceKind;
use crate::workload::WorkloadKind;

/// Annotation keys, overridable like stakater's `--auto-annotation` & co.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnotationKeys {
    pub auto: String,
    pub secret_auto: String,
    pub configmap_auto: String,
    pub secret_reload: String,
    pub configmap_reload: String,
    pub search: String,
    pub search_match: String,
    pub ignore: String,
    pub secret_exclude: String,
    pub configmap_exclude: String,
    /// stakater has no overrides for the SecretProviderClass keys.
    pub secret_provider_class_auto: String,
    pub secret_provider_class_reload: String,
    pub secret_provider_class_exclude: String,
    /// Where a workload's pause period is read.
    pub pause_period: PauseKey,
}

/// The pause-period annotation key. stakater's key names Deployments
/// (`deployment.reloader.stakater.com/pause-period`, and its `--pause-deployment-annotation`
/// takes any key); reloader reads such a `deployment.`-prefixed key with each kind in front
/// (`statefulset.…`), and any other key on Deployments only, as stakater does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PauseKey {
    /// The key without its kind prefix: `<kind>.<suffix>` is read on every kind.
    EveryKind(String),
    /// Read as is, on Deployments only.
    DeploymentsOnly(String),
}

impl PauseKey {
    /// The key `--pause-deployment-annotation` names, as read on Deployments.
    pub fn from_deployment_key(key: &str) -> PauseKey {
        match key.strip_prefix("deployment.") {
            Some(suffix) if !suffix.is_empty() => PauseKey::EveryKind(suffix.to_owned()),
            _ => PauseKey::DeploymentsOnly(key.to_owned()),
        }
    }
}

impl Default for AnnotationKeys {
    fn default() -> Self {
        Self {
            auto: keys::AUTO.into(),
            secret_auto: keys::SECRET_AUTO.into(),
            configmap_auto: keys::CONFIGMAP_AUTO.into(),
            secret_reload: keys::SECRET_RELOAD.into(),
            configmap_reload: keys::CONFIGMAP_RELOAD.into(),
            search: keys::SEARCH.into(),
            search_match: keys::MATCH.into(),
            ignore: keys::IGNORE.into(),
            secret_exclude: keys::SECRET_EXCLUDE.into(),
            configmap_exclude: keys::CONFIGMAP_EXCLUDE.into(),
            secret_provider_class_auto: keys::SECRET_PROVIDER_CLASS_AUTO.into(),
            secret_provider_class_reload: keys::SECRET_PROVIDER_CLASS_RELOAD.into(),
            secret_provider_class_exclude: keys::SECRET_PROVIDER_CLASS_EXCLUDE.into(),
            pause_period: PauseKey::EveryKind(keys::PAUSE_PERIOD.into()),
        }
    }
}

impl AnnotationKeys {
    pub fn typed_auto(&self, kind: SourceKind) -> &str {
        match kind {
            SourceKind::Secret => &self.secret_auto,
            SourceKind::ConfigMap => &self.configmap_auto,
            SourceKind::SecretProviderClass => &self.secret_provider_class_auto,
        }
    }

    pub fn reload(&self, kind: SourceKind) -> &str {
        match kind {
            SourceKind::Secret => &self.secret_reload,
            SourceKind::ConfigMap => &self.configmap_reload,
            SourceKind::SecretProviderClass => &self.secret_provider_class_reload,
        }
    }

    pub fn exclude(&self, kind: SourceKind) -> &str {
        match kind {
            SourceKind::Secret => &self.secret_exclude,
            SourceKind::ConfigMap => &self.configmap_exclude,
            SourceKind::SecretProviderClass => &self.secret_provider_class_exclude,
        }
    }

    /// `deployment.reloader.stakater.com/pause-period` and its siblings for every kind we
    /// roll; `None` where a Deployments-only key does not apply.
    pub fn pause_period_key(&self, kind: WorkloadKind) -> Option<String> {
        match &self.pause_period {
            PauseKey::EveryKind(suffix) => Some(format!("{}.{suffix}", kind.lower())),
            PauseKey::DeploymentsOnly(key) => {
                (kind == WorkloadKind::Deployment).then(|| key.clone())
            }
        }
    }
}

/// Annotation values we could not use. Never fatal: the entry is skipped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PolicyWarning {
    #[error("annotation {key}: entry {entry:?} is not a valid regex, skipped: {reason}")]
    InvalidRegex {
        key: String,
        entry: String,
        reason: String,
    },
    #[error("annotation {key}: {value:?} is not a boolean (1/t/true/0/f/false), treated as false")]
    InvalidBool { key: String, value: String },
}

/// A value that Go's `strconv.ParseBool` rejects.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a boolean")]
pub struct NotABool(pub String);

/// Go's `strconv.ParseBool`, which is what stakater applies to the auto keys.
pub fn parse_go_bool(value: &str) -> Result<bool, NotABool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        other => Err(NotABool(other.to_owned())),
    }
}

/// An auto key's value. `Absent` covers a missing key and an empty value, as stakater compares
/// the value with `""` when deciding whether `--auto-reload-all` applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flag {
    #[default]
    Absent,
    True,
    False,
    /// Present but not a Go boolean: behaves as false, and is not absent.
    Invalid,
}

impl Flag {
    pub fn is_true(self) -> bool {
        self == Flag::True
    }
}

/// One entry of a reload list.
#[derive(Clone, Debug)]
pub struct ReloadPattern {
    /// The trimmed entry as written.
    pub entry: String,
    /// The entry anchored as `^(?:entry)$`; `None` for an entry without regex syntax,
    /// which matches exactly itself. Most entries are plain names, and a compiled regex
    /// costs kilobytes: a cache of thousands of workloads keeps only the names.
    regex: Option<Regex>,
}

impl ReloadPattern {
    /// The entry as a pattern, or why it is not a valid regex.
    pub fn new(entry: &str) -> Result<ReloadPattern, regex::Error> {
        if !entry.chars().any(regex_syntax_char) {
            return Ok(ReloadPattern {
                entry: entry.to_owned(),
                regex: None,
            });
        }
        // A size limit keeps a hostile annotation from costing much memory; over it is an
        // ordinary compile error, reported like any invalid regex.
        let regex = regex::RegexBuilder::new(&format!("^(?:{entry})$"))
            .size_limit(1 << 20)
            .build()?;
        Ok(ReloadPattern {
            entry: entry.to_owned(),
            regex: Some(regex),
        })
    }

    /// The exact name this entry matches when it has no regex syntax at all, so an index can
    /// find it by hash lookup instead of running the regex.
    pub fn literal(&self) -> Option<&str> {
        self.regex.is_none().then_some(self.entry.as_str())
    }

    pub fn matches(&self, name: &str) -> bool {
        match &self.regex {
            Some(regex) => regex.is_match(name),
            None => self.entry == name,
        }
    }
}

impl PartialEq for ReloadPattern {
    fn eq(&self, other: &Self) -> bool {
        self.entry == other.entry
    }
}

impl Eq for ReloadPattern {}

fn regex_syntax_char(c: char) -> bool {
    // '-' is only special inside a class, which needs '[' anyway, so names like `app-config`
    // stay literal.
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '~'
    ) || c.is_whitespace()
}

/// Where a source kind's keys were read from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    #[default]
    Workload,
    PodTemplate,
}

/// What a workload asks for about one source kind (Secrets or ConfigMaps).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindPolicy {
    pub origin: Origin,
    pub auto: Flag,
    pub typed_auto: Flag,
    /// `search` is exactly `"true"`.
    pub search: bool,
    pub reload: Vec<ReloadPattern>,
    /// Exact names, from workload metadata only.
    pub exclude: HashSet<String>,
}

/// A workload's annotations, parsed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadPolicy {
    pub kind: WorkloadKind,
    pub secret: KindPolicy,
    pub configmap: KindPolicy,
    pub secret_provider_class: KindPolicy,
    /// Raw Go duration from `<kind>.reloader.stakater.com/pause-period` on workload metadata.
    pub pause_period: Option<String>,
    pub warnings: Vec<PolicyWarning>,
}

/// Annotations as Kubernetes gives them: absent maps are allowed.
pub type Annotations = BTreeMap<String, String>;

impl WorkloadPolicy {
    /// Parses a workload's metadata and pod-template annotations.
    ///
    /// For each source kind, the reload/search/auto/typed-auto keys come from workload metadata;
    /// when none of the four keys for that kind is present there, all four come from the pod
    /// template instead (stakater decides per source kind, so a Secret reload list on the
    /// workload does not hide a ConfigMap auto key on the template). Exclude keys and the pause
    /// period are only read from workload metadata.
    pub fn parse(
        kind: WorkloadKind,
        workload: Option<&Annotations>,
        template: Option<&Annotations>,
        keys: &AnnotationKeys,
    ) -> Self {
        let empty = Annotations::new();
        let workload = workload.unwrap_or(&empty);
        let template = template.unwrap_or(&empty);
        let mut warnings = Vec::new();
        let mut kind_policy =
            |source: SourceKind| parse_kind(source, workload, template, keys, &mut warnings);
        let secret = kind_policy(SourceKind::Secret);
        let configmap = kind_policy(SourceKind::ConfigMap);
        let secret_provider_class = kind_policy(SourceKind::SecretProviderClass);
        // The generic keys are read once per source kind; report each problem once.
        let mut seen = HashSet::new();
        warnings.retain(|w| seen.insert(w.clone()));
        Self {
            kind,
            secret,
            configmap,
            secret_provider_class,
            pause_period: keys
                .pause_period_key(kind)
                .and_then(|key| workload.get(&key).cloned()),
            warnings,
        }
    }

    pub fn for_kind(&self, kind: SourceKind) -> &KindPolicy {
        match kind {
            SourceKind::Secret => &self.secret,
            SourceKind::ConfigMap => &self.configmap,
            SourceKind::SecretProviderClass => &self.secret_provider_class,
        }
    }

    /// The workload may follow some source of this kind through its pod spec references
    /// (search, auto, or auto-reload-all), so an index must list it under its references.
    pub fn follows_references(&self, kind: SourceKind, global: &GlobalOptions) -> bool {
        let p = self.for_kind(kind);
        p.search
            || p.auto.is_true()
            || p.typed_auto.is_true()
            || (global.auto_reload_all && p.auto == Flag::Absent && p.typed_auto == Flag::Absent)
    }
}

fn parse_kind(
    source: SourceKind,
    workload: &Annotations,
    template: &Annotations,
    keys: &AnnotationKeys,
    warnings: &mut Vec<PolicyWarning>,
) -> KindPolicy {
    let read_keys = [
        keys.reload(source),
        keys.search.as_str(),
        keys.auto.as_str(),
        keys.typed_auto(source),
    ];
    let on_workload = read_keys.iter().any(|k| workload.contains_key(*k));
    let (origin, from) = if on_workload {
        (Origin::Workload, workload)
    } else {
        (Origin::PodTemplate, template)
    };
    KindPolicy {
        origin,
        auto: parse_flag(from, &keys.auto, warnings),
        typed_auto: parse_flag(from, keys.typed_auto(source), warnings),
        search: from.get(&keys.search).is_some_and(|v| v == "true"),
        reload: parse_reload(from, keys.reload(source), warnings),
        exclude: workload
            .get(keys.exclude(source))
            .map(|v| comma_list(v).map(str::to_owned).collect())
            .unwrap_or_default(),
    }
}

fn comma_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|e| !e.is_empty())
}

fn parse_flag(from: &Annotations, key: &str, warnings: &mut Vec<PolicyWarning>) -> Flag {
    match from.get(key).map(String::as_str) {
        None | Some("") => Flag::Absent,
        Some(value) => match parse_go_bool(value) {
            Ok(true) => Flag::True,
            Ok(false) => Flag::False,
            Err(_) => {
                warnings.push(PolicyWarning::InvalidBool {
                    key: key.to_owned(),
                    value: truncate(value),
                });
                Flag::Invalid
            }
        },
    }
}

fn parse_reload(
    from: &Annotations,
    key: &str,
    warnings: &mut Vec<PolicyWarning>,
) -> Vec<ReloadPattern> {
    let Some(value) = from.get(key) else {
        return Vec::new();
    };
    let mut patterns = Vec::new();
    for entry in comma_list(value) {
        match ReloadPattern::new(entry) {
            Ok(pattern) => patterns.push(pattern),
            Err(e) => warnings.push(PolicyWarning::InvalidRegex {
                key: key.to_owned(),
                entry: truncate(entry),
                reason: truncate(&e.to_string()),
            }),
        }
    }
    patterns
}

/// Warnings end up in logs and events; cap what we copy from user input.
fn truncate(s: &str) -> String {
    const MAX: usize = 256;
    match s.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

/// Process-wide options (stakater's flags).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GlobalOptions {
    /// `--ignored-workload-types`.
    pub ignored_workload_types: HashSet<WorkloadKind>,
    /// `--resources-to-ignore=secrets`.
    pub ignore_secrets: bool,
    /// `--resources-to-ignore=configmaps`.
    pub ignore_configmaps: bool,
    /// `--auto-reload-all`.
    pub auto_reload_all: bool,
    /// `--enable-csi-integration`: SecretProviderClasses are followed at all.
    pub csi: bool,
}

impl GlobalOptions {
    /// Whether sources of this kind are followed at all: SecretProviderClasses only with
    /// `--enable-csi-integration` (what `--resources-to-ignore` ignores is still indexed,
    /// and skipped when it changes).
    pub fn follows_kind(&self, kind: SourceKind) -> bool {
        kind != SourceKind::SecretProviderClass || self.csi
    }

    fn ignores_kind(&self, kind: SourceKind) -> bool {
        match kind {
            SourceKind::Secret => self.ignore_secrets,
            SourceKind::ConfigMap => self.ignore_configmaps,
            SourceKind::SecretProviderClass => !self.csi,
        }
    }
}

/// What we know about the changed source, from the admitted object and the workload's pod spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceFacts<'a> {
    pub kind: SourceKind,
    pub name: &'a str,
    /// The source's ignore annotation is exactly `"true"`.
    pub ignore: bool,
    /// The source's match annotation is exactly `"true"`.
    pub matched: bool,
    /// The workload's pod spec uses the source (see [`crate::refs::Usage::is_referenced`]).
    pub referenced: bool,
}

impl<'a> SourceFacts<'a> {
    /// Reads `ignore` and `match` from the source's annotations; `referenced` comes from the
    /// workload.
    pub fn from_annotations(
        kind: SourceKind,
        name: &'a str,
        annotations: Option<&Annotations>,
        keys: &AnnotationKeys,
        referenced: bool,
    ) -> Self {
        let is_true = |key: &str| {
            annotations
                .and_then(|a| a.get(key))
                .is_some_and(|v| v == "true")
        };
        Self {
            kind,
            name,
            ignore: is_true(&keys.ignore),
            matched: is_true(&keys.search_match),
            referenced,
        }
    }
}

/// Why a workload reloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReloadReason {
    /// A reload list entry (or a ReloaderConfig's watched resource) names the source.
    Explicit,
    /// `search: "true"` on the workload and `match: "true"` on the source.
    Search,
    /// The generic or typed auto key is true.
    Auto,
    /// `--auto-reload-all`, or a ReloaderConfig with `autoReloadAll: true`.
    AutoReloadAll,
}

impl ReloadReason {
    /// How the container carrying the marker is chosen.
    pub fn follow_mode(self) -> FollowMode {
        match self {
            ReloadReason::Explicit => FollowMode::Explicit,
            _ => FollowMode::Auto,
        }
    }
}

/// Why a workload does not reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    IgnoredWorkloadType,
    ResourceTypeIgnored,
    SourceIgnored,
    Excluded,
    NotFollowed,
    /// Followed only through references (auto/search), and the pod spec does not use it.
    NotReferenced,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Reload(ReloadReason),
    Skip(SkipReason),
}

impl Decision {
    pub fn reloads(self) -> bool {
        matches!(self, Decision::Reload(_))
    }
}

/// Checks shared by annotation and ReloaderConfig followers, in stakater's order.
fn gate(
    workload: WorkloadKind,
    source: &SourceFacts,
    global: &GlobalOptions,
) -> Option<SkipReason> {
    if global.ignored_workload_types.contains(&workload) {
        Some(SkipReason::IgnoredWorkloadType)
    } else if global.ignores_kind(source.kind) {
        Some(SkipReason::ResourceTypeIgnored)
    } else if source.ignore {
        Some(SkipReason::SourceIgnored)
    } else {
        None
    }
}

/// Whether an annotated workload reloads for a source; the first rule that applies wins.
pub fn decide(policy: &WorkloadPolicy, source: &SourceFacts, global: &GlobalOptions) -> Decision {
    if let Some(skip) = gate(policy.kind, source, global) {
        return Decision::Skip(skip);
    }
    let p = policy.for_kind(source.kind);
    if p.exclude.contains(source.name) {
        return Decision::Skip(SkipReason::Excluded);
    }
    if p.reload.iter().any(|r| r.matches(source.name)) {
        return Decision::Reload(ReloadReason::Explicit);
    }
    let by_reference = if p.search && source.matched {
        Some(ReloadReason::Search)
    } else if p.auto.is_true() || p.typed_auto.is_true() {
        Some(ReloadReason::Auto)
    } else if global.auto_reload_all && p.auto == Flag::Absent && p.typed_auto == Flag::Absent {
        Some(ReloadReason::AutoReloadAll)
    } else {
        None
    };
    match by_reference {
        Some(reason) if source.referenced => Decision::Reload(reason),
        Some(_) => Decision::Skip(SkipReason::NotReferenced),
        None => Decision::Skip(SkipReason::NotFollowed),
    }
}

/// What a ReloaderConfig asks for its targets, as plain data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigRule {
    /// `watchedResources`, in the ReloaderConfig's namespace.
    pub watched: HashSet<SourceKey>,
    /// `autoReloadAll: true`: follow every source the target's pod spec references.
    pub auto_reload_all: bool,
}

/// Whether a ReloaderConfig target reloads for a source. Watched sources reload even when
/// unreferenced; the global ignore flags and the source's ignore annotation still apply.
pub fn decide_config(
    rule: &ConfigRule,
    workload: WorkloadKind,
    source: &SourceFacts,
    global: &GlobalOptions,
) -> Decision {
    if let Some(skip) = gate(workload, source, global) {
        return Decision::Skip(skip);
    }
    if rule
        .watched
        .contains(&SourceKey::new(source.kind, source.name))
    {
        Decision::Reload(ReloadReason::Explicit)
    } else if !rule.auto_reload_all {
        Decision::Skip(SkipReason::NotFollowed)
    } else if source.referenced {
        Decision::Reload(ReloadReason::AutoReloadAll)
    } else {
        Decision::Skip(SkipReason::NotReferenced)
    }
}

#[cfg(test)]
mod tests;
