//! What a workload asks for: stakater/Reloader's annotations and decision order.
//!
//! A workload's annotations are parsed once into a [`WorkloadPolicy`]; [`decide`] then answers,
//! for one Secret/ConfigMap, whether the workload reloads and why. Workloads named by a
//! `ReloaderConfig` get the same answer shape from [`decide_config`].

use std::collections::{BTreeMap, HashSet};

use regex::Regex;

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
    /// The pause key without its kind prefix: the key read is `<kind>.<pause_period>`,
    /// e.g. `deployment.reloader.stakater.com/pause-period`.
    pub pause_period: String,
}

/// The source annotation that keeps a Secret or ConfigMap from ever triggering. Also read
/// by the admission webhook, so an ignored source costs no trigger at all.
pub const IGNORE_ANNOTATION: &str = "reloader.stakater.com/ignore";

impl Default for AnnotationKeys {
    fn default() -> Self {
        Self {
            auto: "reloader.stakater.com/auto".into(),
            secret_auto: "secret.reloader.stakater.com/auto".into(),
            configmap_auto: "configmap.reloader.stakater.com/auto".into(),
            secret_reload: "secret.reloader.stakater.com/reload".into(),
            configmap_reload: "configmap.reloader.stakater.com/reload".into(),
            search: "reloader.stakater.com/search".into(),
            search_match: "reloader.stakater.com/match".into(),
            ignore: IGNORE_ANNOTATION.into(),
            secret_exclude: "secrets.exclude.reloader.stakater.com/reload".into(),
            configmap_exclude: "configmaps.exclude.reloader.stakater.com/reload".into(),
            pause_period: "reloader.stakater.com/pause-period".into(),
        }
    }
}

impl AnnotationKeys {
    pub fn typed_auto(&self, kind: SourceKind) -> &str {
        match kind {
            SourceKind::Secret => &self.secret_auto,
            SourceKind::ConfigMap => &self.configmap_auto,
        }
    }

    pub fn reload(&self, kind: SourceKind) -> &str {
        match kind {
            SourceKind::Secret => &self.secret_reload,
            SourceKind::ConfigMap => &self.configmap_reload,
        }
    }

    pub fn exclude(&self, kind: SourceKind) -> &str {
        match kind {
            SourceKind::Secret => &self.secret_exclude,
            SourceKind::ConfigMap => &self.configmap_exclude,
        }
    }

    /// `deployment.reloader.stakater.com/pause-period` and its siblings for every kind we roll.
    pub fn pause_period_key(&self, kind: WorkloadKind) -> String {
        format!("{}.{}", kind.lower(), self.pause_period)
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
    /// The entry anchored as `^(?:entry)$`.
    pub regex: Regex,
}

impl ReloadPattern {
    /// The exact name this entry matches when it has no regex syntax at all, so an index can
    /// find it by hash lookup instead of running the regex.
    pub fn literal(&self) -> Option<&str> {
        let plain = !self.entry.chars().any(regex_syntax_char);
        plain.then_some(self.entry.as_str())
    }

    pub fn matches(&self, name: &str) -> bool {
        self.regex.is_match(name)
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
        // The generic keys are read once per source kind; report each problem once.
        let mut seen = HashSet::new();
        warnings.retain(|w| seen.insert(w.clone()));
        Self {
            kind,
            secret,
            configmap,
            pause_period: workload.get(&keys.pause_period_key(kind)).cloned(),
            warnings,
        }
    }

    pub fn for_kind(&self, kind: SourceKind) -> &KindPolicy {
        match kind {
            SourceKind::Secret => &self.secret,
            SourceKind::ConfigMap => &self.configmap,
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
        // A size limit keeps a hostile annotation from costing much memory; over it is an
        // ordinary compile error, reported like any invalid regex.
        let compiled = regex::RegexBuilder::new(&format!("^(?:{entry})$"))
            .size_limit(1 << 20)
            .build();
        match compiled {
            Ok(regex) => patterns.push(ReloadPattern {
                entry: entry.to_owned(),
                regex,
            }),
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
}

impl GlobalOptions {
    fn ignores_kind(&self, kind: SourceKind) -> bool {
        match kind {
            SourceKind::Secret => self.ignore_secrets,
            SourceKind::ConfigMap => self.ignore_configmaps,
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
mod tests {
    use super::*;

    use Decision::{Reload, Skip};
    use ReloadReason::*;
    use SkipReason::*;

    const AUTO: &str = "reloader.stakater.com/auto";
    const SECRET_AUTO: &str = "secret.reloader.stakater.com/auto";
    const CM_AUTO: &str = "configmap.reloader.stakater.com/auto";
    const SECRET_RELOAD: &str = "secret.reloader.stakater.com/reload";
    const CM_RELOAD: &str = "configmap.reloader.stakater.com/reload";
    const SEARCH: &str = "reloader.stakater.com/search";
    const SECRET_EXCLUDE: &str = "secrets.exclude.reloader.stakater.com/reload";
    const CM_EXCLUDE: &str = "configmaps.exclude.reloader.stakater.com/reload";

    fn ann(pairs: &[(&str, &str)]) -> Annotations {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A source as the tests describe it: kind, name, ignore, match, referenced.
    #[derive(Clone, Copy)]
    struct Src(SourceKind, &'static str, bool, bool, bool);

    const CM_REF: Src = Src(SourceKind::ConfigMap, "app-config", false, false, true);
    const CM_UNREF: Src = Src(SourceKind::ConfigMap, "app-config", false, false, false);
    const SECRET_REF: Src = Src(SourceKind::Secret, "db-creds", false, false, true);
    const SECRET_UNREF: Src = Src(SourceKind::Secret, "db-creds", false, false, false);

    impl Src {
        fn facts(&self) -> SourceFacts<'static> {
            SourceFacts {
                kind: self.0,
                name: self.1,
                ignore: self.2,
                matched: self.3,
                referenced: self.4,
            }
        }
        fn ignored(mut self) -> Self {
            self.2 = true;
            self
        }
        fn matching(mut self) -> Self {
            self.3 = true;
            self
        }
    }

    struct Case {
        name: &'static str,
        workload: &'static [(&'static str, &'static str)],
        template: &'static [(&'static str, &'static str)],
        source: Src,
        global: fn() -> GlobalOptions,
        expect: Decision,
    }

    fn defaults() -> GlobalOptions {
        GlobalOptions::default()
    }
    fn auto_reload_all() -> GlobalOptions {
        GlobalOptions {
            auto_reload_all: true,
            ..Default::default()
        }
    }
    fn deployments_ignored() -> GlobalOptions {
        GlobalOptions {
            ignored_workload_types: [WorkloadKind::Deployment].into(),
            ..Default::default()
        }
    }
    fn configmaps_ignored() -> GlobalOptions {
        GlobalOptions {
            ignore_configmaps: true,
            ..Default::default()
        }
    }
    fn secrets_ignored() -> GlobalOptions {
        GlobalOptions {
            ignore_secrets: true,
            ..Default::default()
        }
    }

    const NONE: &[(&str, &str)] = &[];

    /// Shorthand for one table row.
    fn c(
        name: &'static str,
        workload: &'static [(&'static str, &'static str)],
        template: &'static [(&'static str, &'static str)],
        source: Src,
        global: fn() -> GlobalOptions,
        expect: Decision,
    ) -> Case {
        Case {
            name,
            workload,
            template,
            source,
            global,
            expect,
        }
    }

    /// One row per rule of the decision order and per quirk.
    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        vec![
            c("no annotations: not followed", NONE, NONE, CM_REF, defaults, Skip(NotFollowed)),
            // 1. ignored workload types, and --resources-to-ignore
            c("ignored workload type wins over an explicit reload list",
                &[(CM_RELOAD, "app-config")], NONE, CM_REF, deployments_ignored, Skip(IgnoredWorkloadType)),
            c("ignored configmaps never reload, even when listed",
                &[(CM_RELOAD, "app-config")], NONE, CM_REF, configmaps_ignored, Skip(ResourceTypeIgnored)),
            c("ignoring secrets leaves configmaps alone",
                &[(AUTO, "true")], NONE, CM_REF, secrets_ignored, Reload(Auto)),
            // 2. source ignore
            c("source with ignore true never triggers, even when listed",
                &[(CM_RELOAD, "app-config")], NONE, CM_REF.ignored(), defaults, Skip(SourceIgnored)),
            // 3. exclude
            c("excluded name wins over an explicit reload list",
                &[(CM_RELOAD, "app-config"), (CM_EXCLUDE, "other, app-config")], NONE, CM_REF, defaults, Skip(Excluded)),
            c("excluded name wins over auto",
                &[(AUTO, "true"), (SECRET_EXCLUDE, " db-creds ")], NONE, SECRET_REF, defaults, Skip(Excluded)),
            c("exclude list for secrets does not exclude a configmap of the same name",
                &[(AUTO, "true"), (SECRET_EXCLUDE, "app-config")], NONE, CM_REF, defaults, Reload(Auto)),
            c("exclude is never read from the pod template",
                NONE, &[(AUTO, "true"), (CM_EXCLUDE, "app-config")], CM_REF, defaults, Reload(Auto)),
            c("exclude entries are exact names, not regexes",
                &[(AUTO, "true"), (CM_EXCLUDE, "app-.*")], NONE, CM_REF, defaults, Reload(Auto)),
            // 4. explicit reload list
            c("reload list naming the source reloads even when unreferenced",
                &[(CM_RELOAD, "app-config")], NONE, CM_UNREF, defaults, Reload(Explicit)),
            c("reload list entries are trimmed and empty entries skipped",
                &[(SECRET_RELOAD, " , other ,, db-creds ,")], NONE, SECRET_REF, defaults, Reload(Explicit)),
            c("reload list entries are regexes",
                &[(CM_RELOAD, "app-.*")], NONE, CM_REF, defaults, Reload(Explicit)),
            c("reload list regexes are anchored at both ends",
                &[(CM_RELOAD, "app,config")], NONE, CM_REF, defaults, Skip(NotFollowed)),
            c("anchoring covers alternations too",
                &[(CM_RELOAD, "xyz|app")], NONE, CM_REF, defaults, Skip(NotFollowed)),
            c("secret reload list does not name configmaps",
                &[(SECRET_RELOAD, "app-config")], NONE, CM_REF, defaults, Skip(NotFollowed)),
            c("an invalid regex is skipped and the valid entries still work",
                &[(CM_RELOAD, "app-(, app-config")], NONE, CM_REF, defaults, Reload(Explicit)),
            c("auto false does not disable an explicit reload list",
                &[(AUTO, "false"), (CM_RELOAD, "app-config")], NONE, CM_UNREF, defaults, Reload(Explicit)),
            c("explicit list wins over search for the reason",
                &[(SEARCH, "true"), (CM_RELOAD, "app-config")], NONE, CM_REF.matching(), defaults, Reload(Explicit)),
            // 5. search + match
            c("search with a matching referenced source reloads",
                &[(SEARCH, "true")], NONE, CM_REF.matching(), defaults, Reload(Search)),
            c("search with a matching unreferenced source does not reload",
                &[(SEARCH, "true")], NONE, CM_UNREF.matching(), defaults, Skip(NotReferenced)),
            c("search without match on the source is not followed",
                &[(SEARCH, "true")], NONE, CM_REF, defaults, Skip(NotFollowed)),
            c("search must be exactly true",
                &[(SEARCH, "True")], NONE, CM_REF.matching(), defaults, Skip(NotFollowed)),
            // 6. auto and typed auto
            c("auto true reloads a referenced source",
                &[(AUTO, "true")], NONE, SECRET_REF, defaults, Reload(Auto)),
            c("auto true does not reload an unreferenced source",
                &[(AUTO, "true")], NONE, SECRET_UNREF, defaults, Skip(NotReferenced)),
            c("auto accepts Go booleans like T and 1",
                &[(AUTO, "T")], NONE, SECRET_REF, defaults, Reload(Auto)),
            c("auto with an unparseable value is false",
                &[(AUTO, "yes")], NONE, SECRET_REF, defaults, Skip(NotFollowed)),
            c("typed auto for the source kind reloads",
                &[(SECRET_AUTO, "1")], NONE, SECRET_REF, defaults, Reload(Auto)),
            c("typed auto for the other kind does not reload",
                &[(SECRET_AUTO, "true")], NONE, CM_REF, defaults, Skip(NotFollowed)),
            c("auto false with typed auto true still reloads",
                &[(AUTO, "false"), (CM_AUTO, "true")], NONE, CM_REF, defaults, Reload(Auto)),
            c("auto true with typed auto false still reloads",
                &[(AUTO, "true"), (CM_AUTO, "false")], NONE, CM_REF, defaults, Reload(Auto)),
            // 6b. --auto-reload-all
            c("auto reload all follows referenced sources of unannotated workloads",
                NONE, NONE, CM_REF, auto_reload_all, Reload(AutoReloadAll)),
            c("auto reload all still needs a reference",
                NONE, NONE, CM_UNREF, auto_reload_all, Skip(NotReferenced)),
            c("auto false opts out of auto reload all",
                &[(AUTO, "false")], NONE, CM_REF, auto_reload_all, Skip(NotFollowed)),
            c("typed auto false opts that kind out of auto reload all",
                &[(CM_AUTO, "false")], NONE, CM_REF, auto_reload_all, Skip(NotFollowed)),
            c("typed auto false for secrets leaves configmaps under auto reload all",
                &[(SECRET_AUTO, "false")], NONE, CM_REF, auto_reload_all, Reload(AutoReloadAll)),
            c("an empty auto value counts as absent for auto reload all",
                &[(AUTO, "")], NONE, CM_REF, auto_reload_all, Reload(AutoReloadAll)),
            c("an unparseable auto value is present, so auto reload all does not apply",
                &[(AUTO, "enabled")], NONE, CM_REF, auto_reload_all, Skip(NotFollowed)),
            c("a reload list alone keeps auto reload all for referenced sources",
                &[(CM_RELOAD, "other")], NONE, CM_REF, auto_reload_all, Reload(AutoReloadAll)),
            // pod-template fallback
            c("keys are read from the pod template when the workload has none",
                NONE, &[(AUTO, "true")], CM_REF, defaults, Reload(Auto)),
            c("reload list on the pod template is honoured",
                &[("unrelated", "x")], &[(CM_RELOAD, "app-config")], CM_UNREF, defaults, Reload(Explicit)),
            c("any key on the workload hides the pod template",
                &[(AUTO, "false")], &[(CM_RELOAD, "app-config")], CM_REF, defaults, Skip(NotFollowed)),
            c("search on the workload hides auto on the pod template",
                &[(SEARCH, "true")], &[(AUTO, "true")], CM_REF, defaults, Skip(NotFollowed)),
            c("fallback is per source kind: a secret list on the workload does not hide configmap keys on the template",
                &[(SECRET_RELOAD, "db-creds")], &[(CM_AUTO, "true")], CM_REF, defaults, Reload(Auto)),
            c("an empty key on the workload still counts as present",
                &[(AUTO, "")], &[(AUTO, "true")], CM_REF, defaults, Skip(NotFollowed)),
        ]
    }

    #[test]
    fn decision_table() {
        let keys = AnnotationKeys::default();
        let mut failures = Vec::new();
        for case in cases() {
            let policy = WorkloadPolicy::parse(
                WorkloadKind::Deployment,
                Some(&ann(case.workload)),
                Some(&ann(case.template)),
                &keys,
            );
            let got = decide(&policy, &case.source.facts(), &(case.global)());
            if got != case.expect {
                failures.push(format!(
                    "{}: expected {:?}, got {:?}",
                    case.name, case.expect, got
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "failing cases:\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn go_parse_bool_accepts_exactly_go_spellings() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_go_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_go_bool(f), Ok(false), "{f}");
        }
        for bad in ["", "yes", "tRUE", " true", "2", "on"] {
            assert!(parse_go_bool(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_invalid_regex_is_reported_as_a_warning_and_skipped() {
        let policy = WorkloadPolicy::parse(
            WorkloadKind::Deployment,
            Some(&ann(&[(CM_RELOAD, "good, bad(, [z-a]")])),
            None,
            &AnnotationKeys::default(),
        );
        let entries: Vec<_> = policy
            .configmap
            .reload
            .iter()
            .map(|p| p.entry.as_str())
            .collect();
        assert_eq!(entries, ["good"]);
        assert_eq!(policy.warnings.len(), 2);
        assert!(matches!(&policy.warnings[0],
            PolicyWarning::InvalidRegex { key, entry, .. } if key == CM_RELOAD && entry == "bad("));
    }

    #[test]
    fn an_unparseable_bool_is_reported_as_a_warning() {
        let policy = WorkloadPolicy::parse(
            WorkloadKind::StatefulSet,
            Some(&ann(&[(AUTO, "yes")])),
            None,
            &AnnotationKeys::default(),
        );
        assert_eq!(policy.secret.auto, Flag::Invalid);
        assert!(policy.warnings.contains(&PolicyWarning::InvalidBool {
            key: AUTO.into(),
            value: "yes".into()
        }));
    }

    #[test]
    fn huge_and_hostile_values_give_warnings_not_panics() {
        let huge = "a".repeat(1 << 20);
        let blowup = "(((a{1000}){1000}){1000})";
        let policy = WorkloadPolicy::parse(
            WorkloadKind::Deployment,
            Some(&ann(&[(CM_RELOAD, blowup), (AUTO, huge.as_str())])),
            None,
            &AnnotationKeys::default(),
        );
        assert!(policy.configmap.reload.is_empty());
        assert!(policy.warnings.iter().all(|w| w.to_string().len() < 2048));
        assert_eq!(policy.warnings.len(), 2, "{:?}", policy.warnings);
    }

    #[test]
    fn absent_annotation_maps_mean_nothing_is_asked_for() {
        let policy = WorkloadPolicy::parse(
            WorkloadKind::DaemonSet,
            None,
            None,
            &AnnotationKeys::default(),
        );
        assert_eq!(
            decide(&policy, &CM_REF.facts(), &GlobalOptions::default()),
            Skip(NotFollowed)
        );
        assert!(policy.warnings.is_empty());
        assert_eq!(policy.pause_period, None);
    }

    #[test]
    fn pause_period_is_read_raw_for_every_kind_from_workload_metadata_only() {
        let keys = AnnotationKeys::default();
        for kind in WorkloadKind::ALL {
            let key = format!("{}.reloader.stakater.com/pause-period", kind.lower());
            let on_workload = ann(&[(key.as_str(), "5m")]);
            let p = WorkloadPolicy::parse(kind, Some(&on_workload), None, &keys);
            assert_eq!(p.pause_period.as_deref(), Some("5m"), "{kind}");
            let p = WorkloadPolicy::parse(kind, None, Some(&on_workload), &keys);
            assert_eq!(p.pause_period, None, "{kind}: template must not count");
        }
        let other_kind = ann(&[("statefulset.reloader.stakater.com/pause-period", "5m")]);
        let p = WorkloadPolicy::parse(WorkloadKind::Deployment, Some(&other_kind), None, &keys);
        assert_eq!(p.pause_period, None);
    }

    #[test]
    fn annotation_keys_are_configurable() {
        let keys = AnnotationKeys {
            auto: "example.com/auto".into(),
            ignore: "example.com/ignore".into(),
            ..AnnotationKeys::default()
        };
        let policy = WorkloadPolicy::parse(
            WorkloadKind::Deployment,
            Some(&ann(&[("example.com/auto", "true"), (AUTO, "false")])),
            None,
            &keys,
        );
        let src = ann(&[("example.com/ignore", "true")]);
        let ignored =
            SourceFacts::from_annotations(SourceKind::Secret, "s", Some(&src), &keys, true);
        let plain = SourceFacts::from_annotations(SourceKind::Secret, "s", None, &keys, true);
        assert_eq!(decide(&policy, &plain, &defaults()), Reload(Auto));
        assert_eq!(decide(&policy, &ignored, &defaults()), Skip(SourceIgnored));
    }

    #[test]
    fn source_ignore_and_match_must_be_exactly_true() {
        let keys = AnnotationKeys::default();
        let a = ann(&[
            ("reloader.stakater.com/ignore", "True"),
            ("reloader.stakater.com/match", "true"),
        ]);
        let f = SourceFacts::from_annotations(SourceKind::ConfigMap, "c", Some(&a), &keys, false);
        assert!(!f.ignore);
        assert!(f.matched);
    }

    #[test]
    fn literal_reload_entries_are_recognised_for_hash_lookup() {
        let policy = WorkloadPolicy::parse(
            WorkloadKind::Deployment,
            Some(&ann(&[(SECRET_RELOAD, "db-creds,app.config,tls-.*")])),
            None,
            &AnnotationKeys::default(),
        );
        let literals: Vec<_> = policy
            .secret
            .reload
            .iter()
            .map(ReloadPattern::literal)
            .collect();
        assert_eq!(literals, [Some("db-creds"), None, None]);
    }

    #[test]
    fn reasons_map_to_the_container_choice_mode() {
        assert_eq!(Explicit.follow_mode(), FollowMode::Explicit);
        for r in [Search, Auto, AutoReloadAll] {
            assert_eq!(r.follow_mode(), FollowMode::Auto);
        }
    }

    fn rule(watched: &[(SourceKind, &str)], auto: bool) -> ConfigRule {
        ConfigRule {
            watched: watched
                .iter()
                .map(|(k, n)| SourceKey::new(*k, *n))
                .collect(),
            auto_reload_all: auto,
        }
    }

    /// Name, rule, source, global options, expected decision.
    type ConfigCase<'a> = (
        &'a str,
        &'a ConfigRule,
        Src,
        fn() -> GlobalOptions,
        Decision,
    );

    #[test]
    fn reloaderconfig_targets_follow_watched_resources_and_auto_reload_all() {
        let watched = rule(&[(SourceKind::ConfigMap, "app-config")], false);
        let auto = rule(&[], true);
        let d = WorkloadKind::Deployment;
        let table: [ConfigCase; 9] = [
            (
                "watched source reloads even when unreferenced",
                &watched,
                CM_UNREF,
                defaults,
                Reload(Explicit),
            ),
            (
                "watched entry is per kind",
                &watched,
                Src(SourceKind::Secret, "app-config", false, false, true),
                defaults,
                Skip(NotFollowed),
            ),
            (
                "unwatched source is not followed",
                &watched,
                SECRET_REF,
                defaults,
                Skip(NotFollowed),
            ),
            (
                "auto reload all follows referenced sources",
                &auto,
                SECRET_REF,
                defaults,
                Reload(AutoReloadAll),
            ),
            (
                "auto reload all needs a reference",
                &auto,
                SECRET_UNREF,
                defaults,
                Skip(NotReferenced),
            ),
            (
                "source ignore still applies",
                &watched,
                CM_REF.ignored(),
                defaults,
                Skip(SourceIgnored),
            ),
            (
                "resource type ignore still applies",
                &watched,
                CM_REF,
                configmaps_ignored,
                Skip(ResourceTypeIgnored),
            ),
            (
                "ignored workload type still applies",
                &auto,
                SECRET_REF,
                deployments_ignored,
                Skip(IgnoredWorkloadType),
            ),
            (
                "global auto reload all does not widen a ReloaderConfig",
                &watched,
                SECRET_REF,
                auto_reload_all,
                Skip(NotFollowed),
            ),
        ];
        for (name, rule, src, global, expect) in table {
            assert_eq!(
                decide_config(rule, d, &src.facts(), &global()),
                expect,
                "{name}"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_annotations() -> impl Strategy<Value = Annotations> {
            let keys = AnnotationKeys::default();
            let key = prop::sample::select(vec![
                keys.auto,
                keys.secret_auto,
                keys.configmap_auto,
                keys.secret_reload,
                keys.configmap_reload,
                keys.search,
                keys.secret_exclude,
                keys.configmap_exclude,
                "deployment.reloader.stakater.com/pause-period".to_owned(),
            ]);
            let value = prop_oneof![
                prop::sample::select(vec!["true", "false", "T", "0", "", "yes"])
                    .prop_map(str::to_owned),
                ".{0,24}",
                "[a-c,.*()\\[\\] |]{0,12}",
            ];
            prop::collection::btree_map(key, value, 0..6)
        }

        proptest! {
            #[test]
            fn any_annotations_parse_and_decide_without_panicking_and_respect_the_order(
                workload in any_annotations(),
                template in any_annotations(),
                secret in any::<bool>(),
                name in "[a-c]{1,3}",
                ignore in any::<bool>(),
                matched in any::<bool>(),
                referenced in any::<bool>(),
                auto_reload_all in any::<bool>(),
            ) {
                let keys = AnnotationKeys::default();
                let policy = WorkloadPolicy::parse(WorkloadKind::Deployment, Some(&workload), Some(&template), &keys);
                let kind = if secret { SourceKind::Secret } else { SourceKind::ConfigMap };
                let facts = SourceFacts { kind, name: &name, ignore, matched, referenced };
                let global = GlobalOptions { auto_reload_all, ..Default::default() };
                let decision = decide(&policy, &facts, &global);
                if ignore {
                    prop_assert_eq!(decision, Decision::Skip(SkipReason::SourceIgnored));
                }
                if let Decision::Reload(reason) = decision {
                    prop_assert!(reason == ReloadReason::Explicit || referenced,
                        "{:?} reload of an unreferenced source", reason);
                    prop_assert!(!policy.for_kind(kind).exclude.contains(name.as_str()));
                }
                if decision == Decision::Reload(ReloadReason::Explicit) {
                    prop_assert!(policy.for_kind(kind).reload.iter().any(|p| p.matches(&name)));
                }
            }
        }
    }
}
