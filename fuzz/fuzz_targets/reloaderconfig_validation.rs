//! A ReloaderConfig's spec is checked twice: by the API server against the CRD's schema
//! (patterns, enums) and by the webhook's `validation::validate`, whose messages users
//! read. This target validates arbitrary specs and checks that nothing panics, that every
//! violation names a field that exists in the spec, that the webhook agrees with the
//! schema's own patterns on names and durations (a name passes `dns1123_problem` exactly
//! when it matches `DNS1123_SUBDOMAIN_PATTERN`; every duration the schema admits parses),
//! that a valid spec really is (known kinds and strategies, parseable durations, no
//! duplicate target, one of url/secretRef per alert), that validation does not depend on
//! the options except for http:// alert URLs, and that the existence subjects and warnings
//! of a valid spec can be worked out.
//!
//! Input: a ReloaderConfig spec as JSON, or a whole ReloaderConfig (`{"spec": {..}}`).
#![no_main]

use std::collections::HashSet;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use regex::Regex;
use reloader_core::crd::{DNS1123_SUBDOMAIN_PATTERN, DURATION_PATTERN, ReloaderConfigSpec};
use reloader_core::duration::{DurationError, parse_duration};
use reloader_core::existence::Presence;
use reloader_core::validation::{self, STRATEGIES, ValidationOptions, Violation, dns1123_problem};
use reloader_core::workload::WorkloadKind;
use serde_json::Value;

static NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(DNS1123_SUBDOMAIN_PATTERN).unwrap());
static DURATION: LazyLock<Regex> = LazyLock::new(|| Regex::new(DURATION_PATTERN).unwrap());
static INDEX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^([A-Za-z]+)\[(\d+)\]$").unwrap());

/// The value a violation's field (`spec.targets[1].kind`) names in `spec` as JSON.
fn resolve<'a>(spec: &'a Value, field: &str) -> Option<&'a Value> {
    let mut parts = field.split('.');
    if parts.next() != Some("spec") {
        return None;
    }
    let mut at = spec;
    for part in parts {
        at = match INDEX.captures(part) {
            Some(c) => at.get(&c[1])?.get(c[2].parse::<usize>().ok()?)?,
            None => at.get(part)?,
        };
    }
    Some(at)
}

fn check_name(name: &str) {
    let schema_ok = NAME.is_match(name) && name.chars().count() <= 253;
    assert_eq!(dns1123_problem(name).is_none(), schema_ok, "{name:?}");
}

fn check_duration(text: &str) {
    if DURATION.is_match(text) {
        let parsed = parse_duration(text);
        assert!(matches!(parsed, Ok(_) | Err(DurationError::Overflow(_))), "{text:?}: {parsed:?}");
    }
}

fn check_valid(spec: &ReloaderConfigSpec) {
    assert!(spec.auto_reload_all || !spec.watched_resources.secrets.is_empty() || !spec.watched_resources.config_maps.is_empty());
    assert!(STRATEGIES.contains(&spec.reload_strategy.as_str()));
    assert!(!spec.targets.is_empty());
    let mut seen = HashSet::new();
    for t in &spec.targets {
        assert!(t.kind.parse::<WorkloadKind>().is_ok(), "{:?}", t.kind);
        assert!(dns1123_problem(&t.name).is_none());
        assert!(seen.insert((&t.kind, &t.name)), "duplicate target");
        for d in [&t.pause_period, &t.coalesce_window].into_iter().flatten() {
            assert!(parse_duration(d).is_ok());
        }
        if let Some(s) = &t.reload_strategy {
            assert!(STRATEGIES.contains(&s.as_str()));
        }
    }
    for d in [&spec.pause_period, &spec.coalesce_window].into_iter().flatten() {
        assert!(parse_duration(d).is_ok());
    }
    if let Some(alerts) = &spec.alerts {
        for sink in [&alerts.slack, &alerts.teams, &alerts.google_chat, &alerts.webhook].into_iter().flatten() {
            assert!(sink.url.is_some() != sink.secret_ref.is_some());
            if let Some(url) = &sink.url {
                assert!(url.to_ascii_lowercase().starts_with("http"), "{url:?}");
            }
        }
    }
    // The existence warnings of a valid spec: one subject per target and watched source.
    let subjects = validation::subjects("team-a", spec);
    let n = spec.targets.len() + spec.watched_resources.secrets.len() + spec.watched_resources.config_maps.len();
    assert!(subjects.len() <= n);
    for presence in [Presence::Exists, Presence::Missing, Presence::Unknown] {
        let answers: Vec<_> = subjects.iter().map(|(f, s)| (f.clone(), s.clone(), presence)).collect();
        let warnings = validation::warnings(&answers);
        if presence != Presence::Missing {
            assert!(warnings.is_empty(), "warned about {presence:?}: {warnings:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let spec_json = value.get("spec").cloned().unwrap_or(value);
    let Ok(spec) = serde_json::from_value::<ReloaderConfigSpec>(spec_json) else {
        return;
    };
    let namespace = "team-a";
    let strict = validation::validate(namespace, &spec, &ValidationOptions::default());
    let lax = validation::validate(namespace, &spec, &ValidationOptions { allow_insecure_alert_urls: true });
    let as_json = serde_json::to_value(&spec).unwrap();
    for v in strict.iter().chain(&lax) {
        assert!(!v.message.is_empty());
        assert!(resolve(&as_json, &v.field).is_some(), "{} names no field", v.field);
    }
    // The options only relax http:// alert URLs.
    let only_urls = |v: &&Violation| !(v.field.starts_with("spec.alerts.") && v.field.ends_with(".url"));
    assert_eq!(
        strict.iter().filter(only_urls).collect::<Vec<_>>(),
        lax.iter().filter(only_urls).collect::<Vec<_>>()
    );
    assert!(lax.len() <= strict.len());
    if lax.is_empty() {
        check_valid(&spec);
    }
    let w = &spec.watched_resources;
    for name in w.secrets.iter().chain(&w.config_maps).chain(spec.targets.iter().map(|t| &t.name)) {
        check_name(name);
    }
    let durations = [&spec.pause_period, &spec.coalesce_window]
        .into_iter()
        .chain(spec.targets.iter().flat_map(|t| [&t.pause_period, &t.coalesce_window]))
        .flatten();
    for d in durations {
        check_duration(d);
    }
});
