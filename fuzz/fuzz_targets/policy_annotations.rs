//! A workload's annotations are user input read on every watch event: reload lists are
//! comma-separated regexes, the auto keys Go booleans. This target parses arbitrary
//! annotations and checks that parsing never panics, that each list entry either compiles
//! or is reported (once), that a boolean is read as Go's `strconv.ParseBool` would, that an
//! entry the index looks up by exact name (`ReloadPattern::literal`) matches that name and
//! nothing else, that `decide` keeps stakater's order (ignore, exclude, explicit list, then
//! references), and that the follower index finds every workload `decide` would reload,
//! with the same decision.
//!
//! Input: lines, each one of
//! `k KIND` (workload kind), `w KEY=VALUE` (workload annotation), `t KEY=VALUE` (pod
//! template annotation), `r s NAME` / `r c NAME` (the pod spec reads this Secret/ConfigMap),
//! `s NAME` / `c NAME` (a Secret/ConfigMap to decide for), `g auto-reload-all`,
//! `g ignore-secrets`, `g ignore-configmaps`.
#![no_main]

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{
    ConfigMapEnvSource, Container, EnvFromSource, PodSpec, SecretEnvSource,
};
use libfuzzer_sys::fuzz_target;
use reloader_core::index::{FollowerIndex, WorkloadInput};
use reloader_core::keys;
use reloader_core::policy::{
    AnnotationKeys, Annotations, Decision, Flag, GlobalOptions, Origin, PolicyWarning,
    ReloadReason, SkipReason, SourceFacts, WorkloadPolicy, decide, parse_go_bool,
};
use reloader_core::refs::PodRefs;
use reloader_core::source::{SourceKind, SourceRef};
use reloader_core::workload::{WorkloadKind, WorkloadRef};

const GO_TRUE: [&str; 6] = ["1", "t", "T", "TRUE", "true", "True"];
const GO_FALSE: [&str; 6] = ["0", "f", "F", "FALSE", "false", "False"];
const KINDS: [SourceKind; 2] = [SourceKind::Secret, SourceKind::ConfigMap];
const NAMESPACE: &str = "team-a";

#[derive(Default)]
struct Input {
    kind: Option<WorkloadKind>,
    workload: Annotations,
    template: Annotations,
    referenced: BTreeSet<(SourceKind, String)>,
    names: BTreeSet<(SourceKind, String)>,
    global: GlobalOptions,
}

fn source_kind(s: &str) -> Option<SourceKind> {
    match s {
        "s" => Some(SourceKind::Secret),
        "c" => Some(SourceKind::ConfigMap),
        _ => None,
    }
}

fn read(text: &str) -> Input {
    let mut input = Input::default();
    for line in text.lines() {
        let Some((tag, rest)) = line.split_once(' ') else {
            continue;
        };
        match tag {
            "k" => input.kind = rest.parse().ok(),
            "w" | "t" => {
                let (k, v) = rest.split_once('=').unwrap_or((rest, ""));
                let map = if tag == "w" { &mut input.workload } else { &mut input.template };
                map.insert(k.to_owned(), v.to_owned());
            }
            "r" => {
                if let Some((kind, name)) = rest.split_once(' ')
                    && let Some(kind) = source_kind(kind)
                    && !name.is_empty()
                {
                    input.referenced.insert((kind, name.to_owned()));
                }
            }
            "s" | "c" => {
                input.names.insert((source_kind(tag).unwrap(), rest.to_owned()));
            }
            "g" => match rest {
                "auto-reload-all" => input.global.auto_reload_all = true,
                "ignore-secrets" => input.global.ignore_secrets = true,
                "ignore-configmaps" => input.global.ignore_configmaps = true,
                _ => {}
            },
            _ => {}
        }
    }
    input
}

fn expected_flag(value: Option<&String>) -> Flag {
    match value.map(String::as_str) {
        None | Some("") => Flag::Absent,
        Some(v) if GO_TRUE.contains(&v) => Flag::True,
        Some(v) if GO_FALSE.contains(&v) => Flag::False,
        Some(_) => Flag::Invalid,
    }
}

fn entries(value: Option<&String>) -> Vec<&str> {
    value
        .map(|v| v.split(',').map(str::trim).filter(|e| !e.is_empty()).collect())
        .unwrap_or_default()
}

/// Warnings copy at most 256 characters of the input, plus an ellipsis.
fn truncated(s: &str) -> String {
    match s.char_indices().nth(256) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

fn check_parse(input: &Input, policy: &WorkloadPolicy, akeys: &AnnotationKeys, kind: WorkloadKind) {
    let mut seen = BTreeSet::new();
    for w in &policy.warnings {
        assert!(seen.insert(w.to_string()), "warning given twice: {w}");
    }
    assert_eq!(
        policy.pause_period.as_ref(),
        akeys
            .pause_period_key(kind)
            .and_then(|key| input.workload.get(&key))
    );
    for source in KINDS {
        let p = policy.for_kind(source);
        let read = [
            akeys.reload(source),
            akeys.search.as_str(),
            akeys.auto.as_str(),
            akeys.typed_auto(source),
        ];
        let on_workload = read.iter().any(|k| input.workload.contains_key(*k));
        let from = if on_workload { &input.workload } else { &input.template };
        let origin = if on_workload { Origin::Workload } else { Origin::PodTemplate };
        assert_eq!(p.origin, origin, "{source}");
        for (key, flag) in [(&akeys.auto, p.auto), (&akeys.typed_auto(source).to_owned(), p.typed_auto)] {
            assert_eq!(flag, expected_flag(from.get(key.as_str())), "{key}");
            if flag == Flag::Invalid {
                let value = truncated(&from[key.as_str()]);
                let warned = PolicyWarning::InvalidBool { key: key.to_string(), value };
                assert!(policy.warnings.contains(&warned), "no warning for {key}");
            }
        }
        assert_eq!(p.search, from.get(&akeys.search).is_some_and(|v| v == "true"));
        // Each entry compiled or was reported; nothing else appears.
        let key = akeys.reload(source);
        let listed = entries(from.get(key));
        for pattern in &p.reload {
            assert!(listed.contains(&pattern.entry.as_str()), "{:?} not listed", pattern.entry);
            assert!(pattern.matches(&pattern.entry) || pattern.literal().is_none());
        }
        // Longer entries are compared truncated, where two of them may look alike.
        for entry in listed.iter().filter(|e| e.chars().count() <= 256) {
            let compiled = p.reload.iter().any(|r| r.entry == *entry);
            let reported = policy.warnings.iter().any(|w| {
                matches!(w, PolicyWarning::InvalidRegex { key: k, entry: e, .. }
                    if k == key && *e == truncated(entry))
            });
            assert!(compiled != reported, "{entry:?}: compiled {compiled}, reported {reported}");
        }
        let exclude: BTreeSet<&str> = entries(input.workload.get(akeys.exclude(source)))
            .into_iter()
            .collect();
        assert_eq!(p.exclude.iter().map(String::as_str).collect::<BTreeSet<_>>(), exclude);
    }
    for value in input.workload.values().chain(input.template.values()) {
        let expected = match value.as_str() {
            v if GO_TRUE.contains(&v) => Some(true),
            v if GO_FALSE.contains(&v) => Some(false),
            _ => None,
        };
        assert_eq!(parse_go_bool(value).ok(), expected, "{value:?}");
    }
}

/// The names to decide for: those given, every list entry and every referenced name, and
/// near misses of the entries (the anchoring and the literal shortcut must refuse them).
fn names(input: &Input, policy: &WorkloadPolicy) -> BTreeSet<(SourceKind, String)> {
    let mut out = input.names.clone();
    out.extend(input.referenced.iter().cloned());
    for source in KINDS {
        let p = policy.for_kind(source);
        for entry in p.reload.iter().map(|r| r.entry.as_str()).chain(p.exclude.iter().map(String::as_str)) {
            for name in [entry.to_owned(), format!("{entry}x"), format!("x{entry}"), entry.to_uppercase()] {
                out.insert((source, name));
            }
        }
    }
    out
}

fn check_decisions(input: &Input, policy: &WorkloadPolicy, index: &FollowerIndex, kind: WorkloadKind) {
    let workload = WorkloadRef::new(NAMESPACE, kind, "web");
    for (source, name) in names(input, policy) {
        let p = policy.for_kind(source);
        for pattern in &p.reload {
            if let Some(literal) = pattern.literal() {
                assert_eq!(pattern.matches(&name), name == literal, "{literal:?} vs {name:?}");
            }
        }
        let referenced = input.referenced.contains(&(source, name.clone()));
        for (ignore, matched) in [(false, false), (false, true), (true, false), (true, true)] {
            let facts = SourceFacts { kind: source, name: &name, ignore, matched, referenced };
            let decision = decide(policy, &facts, &input.global);
            let excluded = p.exclude.contains(&name);
            let listed = p.reload.iter().any(|r| r.matches(&name));
            let gated = input.global.ignored_workload_types.contains(&kind)
                || (source == SourceKind::Secret && input.global.ignore_secrets)
                || (source == SourceKind::ConfigMap && input.global.ignore_configmaps);
            match decision {
                Decision::Skip(SkipReason::SourceIgnored) => assert!(ignore && !gated),
                Decision::Skip(SkipReason::Excluded) => assert!(excluded && !ignore && !gated),
                Decision::Reload(ReloadReason::Explicit) => {
                    assert!(listed && !excluded && !ignore && !gated)
                }
                Decision::Reload(reason) => {
                    assert!(!listed && !excluded && !ignore && !gated, "{reason:?}");
                    assert!(referenced, "{reason:?} without a reference");
                    assert!(policy.follows_references(source, &input.global), "{reason:?}");
                }
                Decision::Skip(_) => {}
            }
            if ignore && !gated {
                assert_eq!(decision, Decision::Skip(SkipReason::SourceIgnored));
            }
            // The index must find every workload that reloads, with the same answer.
            let mut annotations = Annotations::new();
            if ignore {
                annotations.insert(keys::IGNORE.to_owned(), "true".to_owned());
            }
            if matched {
                annotations.insert(keys::MATCH.to_owned(), "true".to_owned());
            }
            let found = index.lookup(&SourceRef::new(NAMESPACE, source, &name), Some(&annotations));
            let mine = found.iter().find(|c| c.follower.workload() == &workload);
            match (decision.reloads(), mine) {
                (true, None) => panic!("the index misses {source}/{name:?} ({decision:?})"),
                (_, Some(c)) => assert_eq!(c.decision, decision, "{source}/{name:?}"),
                (false, None) => {}
            }
        }
    }
}

fn pod_spec(referenced: &BTreeSet<(SourceKind, String)>) -> PodSpec {
    let env_from = referenced
        .iter()
        .filter_map(|(kind, name)| match kind {
            SourceKind::Secret => Some(EnvFromSource {
                secret_ref: Some(SecretEnvSource { name: name.clone(), optional: None }),
                ..EnvFromSource::default()
            }),
            SourceKind::ConfigMap => Some(EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource { name: name.clone(), optional: None }),
                ..EnvFromSource::default()
            }),
            // This target draws Secrets and ConfigMaps only (`KINDS`).
            SourceKind::SecretProviderClass => None,
        })
        .collect();
    PodSpec {
        containers: vec![Container {
            name: "app".into(),
            env_from: Some(env_from),
            ..Container::default()
        }],
        ..PodSpec::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let input = read(text);
    let kind = input.kind.unwrap_or(WorkloadKind::Deployment);
    let akeys = AnnotationKeys::default();
    let policy = WorkloadPolicy::parse(kind, Some(&input.workload), Some(&input.template), &akeys);
    check_parse(&input, &policy, &akeys, kind);
    let refs = PodRefs::from_pod_spec(&pod_spec(&input.referenced));
    let mut index = FollowerIndex::new(akeys.clone(), input.global.clone());
    let warnings = index.apply_workload(WorkloadInput::new(
        WorkloadRef::new(NAMESPACE, kind, "web"),
        input.workload.clone(),
        input.template.clone(),
        refs,
    ));
    assert_eq!(warnings, policy.warnings);
    check_decisions(&input, &policy, &index, kind);
});
