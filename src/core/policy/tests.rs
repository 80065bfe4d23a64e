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
fn an_overridden_pause_key_is_read_per_kind_only_when_it_names_deployments() {
    let cases = [
        // (the --pause-deployment-annotation key, kind, key read, or None)
        (
            "deployment.acme.io/pause",
            WorkloadKind::Deployment,
            Some("deployment.acme.io/pause"),
        ),
        (
            "deployment.acme.io/pause",
            WorkloadKind::StatefulSet,
            Some("statefulset.acme.io/pause"),
        ),
        (
            "acme.io/pause",
            WorkloadKind::Deployment,
            Some("acme.io/pause"),
        ),
        ("acme.io/pause", WorkloadKind::StatefulSet, None),
        ("acme.io/pause", WorkloadKind::CronJob, None),
    ];
    for (flag, kind, want) in cases {
        let keys = AnnotationKeys {
            pause_period: PauseKey::from_deployment_key(flag),
            ..AnnotationKeys::default()
        };
        assert_eq!(
            keys.pause_period_key(kind).as_deref(),
            want,
            "{flag} on {kind}"
        );
        let on_workload = ann(&[(flag, "5m")]);
        let p = WorkloadPolicy::parse(kind, Some(&on_workload), None, &keys);
        let read = want == Some(flag);
        assert_eq!(p.pause_period.is_some(), read, "{flag} on {kind}");
    }
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
    let ignored = SourceFacts::from_annotations(SourceKind::Secret, "s", Some(&src), &keys, true);
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

#[test]
fn a_plain_entry_matches_exactly_itself_without_a_regex_and_a_regex_is_anchored() {
    let cases = [
        // (entry, name, matches, literal)
        ("db", "db", true, true),
        ("db", "db2", false, true),
        ("db", "my-db", false, true),
        ("db-creds_1", "db-creds_1", true, true),
        ("db.*", "db-creds", true, false),
        ("db.*", "my-db", false, false),
        ("a|b", "b", true, false),
        ("a|b", "ab", false, false),
    ];
    for (entry, name, matches, literal) in cases {
        let p = ReloadPattern::new(entry).unwrap();
        assert_eq!(p.matches(name), matches, "{entry} ~ {name}");
        assert_eq!(p.literal().is_some(), literal, "{entry} literal");
    }
    assert!(
        ReloadPattern::new("db(").is_err(),
        "an invalid regex is an error"
    );
}
