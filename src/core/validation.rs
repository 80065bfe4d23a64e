//! What makes a `ReloaderConfig` spec invalid, as a plain function returning one
//! field-specific violation per problem (which field, what is wrong, what is allowed), and
//! the warnings worth giving for a valid one.

use std::collections::HashMap;
use std::fmt;

use crate::crd::{AlertSink, ReloaderConfigSpec, Target};
use crate::duration::parse_duration;
use crate::existence::{Presence, Subject};
use crate::source::{SourceKind, SourceRef};
use crate::workload::{WorkloadKind, WorkloadRef};

/// Reload strategies a spec or target may name.
pub const STRATEGIES: [&str; 2] = ["env-vars", "annotations"];
const MAX_NAME: usize = 253;

/// One problem with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON path of the field, e.g. `spec.targets[1].kind`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Knobs of the validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidationOptions {
    /// Accept `http://` alert URLs (`--allow-insecure-alert-urls`).
    pub allow_insecure_alert_urls: bool,
}

/// Why `name` is not a DNS-1123 subdomain, if it is not one.
pub fn dns1123_problem(name: &str) -> Option<String> {
    const RULE: &str = "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters";
    if name.is_empty() {
        return Some(format!("must not be empty; a name has {RULE}"));
    }
    if name.len() > MAX_NAME {
        return Some(format!(
            "is {} characters long; a name has {RULE}",
            name.len()
        ));
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.split('.').all(label_ok) {
        None
    } else {
        Some(format!("{name:?} is not a valid DNS-1123 name: use {RULE}"))
    }
}

struct Check<'a> {
    out: Vec<Violation>,
    namespace: &'a str,
    opts: &'a ValidationOptions,
}

impl Check<'_> {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.out.push(Violation {
            field: field.into(),
            message: message.into(),
        });
    }

    fn name(&mut self, field: String, name: &str) {
        if let Some(problem) = dns1123_problem(name) {
            self.fail(field, problem);
        }
    }

    fn strategy(&mut self, field: String, strategy: &str) {
        if !STRATEGIES.contains(&strategy) {
            self.fail(
                field,
                format!("unknown reload strategy {strategy:?}; allowed: env-vars, annotations"),
            );
        }
    }

    fn duration(&mut self, field: String, text: &str) {
        if let Err(e) = parse_duration(text) {
            self.fail(field, e.to_string());
        }
    }

    fn alert(&mut self, field: &str, sink: &AlertSink) {
        match (&sink.url, &sink.secret_ref) {
            (Some(_), Some(_)) => self.fail(
                field,
                "both url and secretRef are set; set exactly one (secretRef keeps the URL out of the spec)",
            ),
            (None, None) => self.fail(field, "neither url nor secretRef is set; set exactly one"),
            (Some(url), None) => self.alert_url(format!("{field}.url"), url),
            (None, Some(r)) => self.name(format!("{field}.secretRef.name"), &r.name),
        }
        if let Some(r) = &sink.secret_ref
            && r.key.is_empty()
        {
            self.fail(
                format!("{field}.secretRef.key"),
                "must name a key of the Secret",
            );
        }
    }

    fn alert_url(&mut self, field: String, url: &str) {
        let parsed = url.parse::<http::Uri>().ok();
        let scheme = parsed
            .as_ref()
            .and_then(|u| u.scheme_str())
            .map(str::to_ascii_lowercase);
        let has_host = parsed
            .as_ref()
            .and_then(|u| u.host())
            .is_some_and(|h| !h.is_empty());
        let allowed = if self.opts.allow_insecure_alert_urls {
            "https:// (or http://, allowed by --allow-insecure-alert-urls)"
        } else {
            "https:// (http:// only with --allow-insecure-alert-urls)"
        };
        match scheme.as_deref() {
            Some("https") if has_host => {}
            Some("http") if has_host && self.opts.allow_insecure_alert_urls => {}
            Some("http") if has_host => self.fail(
                field,
                format!("an http:// URL sends the alert unencrypted; use {allowed}"),
            ),
            _ => self.fail(
                field,
                format!("not an absolute URL with a host; use {allowed}"),
            ),
        }
    }
}

/// Every violation in `spec` of a ReloaderConfig living in `namespace`; empty when valid.
pub fn validate(
    namespace: &str,
    spec: &ReloaderConfigSpec,
    opts: &ValidationOptions,
) -> Vec<Violation> {
    let mut c = Check {
        out: Vec::new(),
        namespace,
        opts,
    };
    let watched = &spec.watched_resources;
    if watched.secrets.is_empty() && watched.config_maps.is_empty() && !spec.auto_reload_all {
        c.fail(
            "spec.watchedResources",
            "names no Secret or ConfigMap and spec.autoReloadAll is false, so nothing would ever reload; list at least one source or set autoReloadAll: true",
        );
    }
    for (i, name) in watched.secrets.iter().enumerate() {
        c.name(format!("spec.watchedResources.secrets[{i}]"), name);
    }
    for (i, name) in watched.config_maps.iter().enumerate() {
        c.name(format!("spec.watchedResources.configMaps[{i}]"), name);
    }
    c.strategy("spec.reloadStrategy".to_owned(), &spec.reload_strategy);
    if let Some(p) = &spec.pause_period {
        c.duration("spec.pausePeriod".to_owned(), p);
    }
    if let Some(w) = &spec.coalesce_window {
        c.duration("spec.coalesceWindow".to_owned(), w);
    }
    if spec.targets.is_empty() {
        c.fail(
            "spec.targets",
            "is empty; name at least one workload to roll",
        );
    }
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, t) in spec.targets.iter().enumerate() {
        let field = format!("spec.targets[{i}]");
        if let Err(e) = t.kind.parse::<WorkloadKind>() {
            c.fail(format!("{field}.kind"), e.to_string());
        }
        c.name(format!("{field}.name"), &t.name);
        if let Some(ns) = foreign_namespace(c.namespace, t) {
            c.fail(
                format!("{field}.namespace"),
                format!(
                    "{ns:?} is not this ReloaderConfig's namespace {:?}; a ReloaderConfig may only roll workloads in its own namespace (omit the field or set it to {:?})",
                    c.namespace, c.namespace
                ),
            );
        }
        if let Some(s) = &t.reload_strategy {
            c.strategy(format!("{field}.reloadStrategy"), s);
        }
        if let Some(p) = &t.pause_period {
            c.duration(format!("{field}.pausePeriod"), p);
        }
        if let Some(w) = &t.coalesce_window {
            c.duration(format!("{field}.coalesceWindow"), w);
        }
        if let Some(first) = seen.insert((&t.kind, &t.name), i) {
            seen.insert((&t.kind, &t.name), first);
            c.fail(
                field,
                format!(
                    "duplicates spec.targets[{first}] ({} {:?}); list each workload once",
                    t.kind, t.name
                ),
            );
        }
    }
    if let Some(alerts) = &spec.alerts {
        for (name, sink) in [
            ("slack", &alerts.slack),
            ("teams", &alerts.teams),
            ("googleChat", &alerts.google_chat),
            ("webhook", &alerts.webhook),
        ] {
            if let Some(sink) = sink {
                c.alert(&format!("spec.alerts.{name}"), sink);
            }
        }
    }
    c.out
}

/// The namespace `target` names when it is not `namespace`, that of its ReloaderConfig.
fn foreign_namespace<'t>(namespace: &str, target: &'t Target) -> Option<&'t str> {
    target.namespace.as_deref().filter(|ns| *ns != namespace)
}

/// A target the engine refuses to roll whatever admission said: it names another
/// namespace than its ReloaderConfig's. `/validate/reloaderconfigs` refuses such a spec,
/// but a ReloaderConfig can be stored without that webhook (before it is registered, with
/// it deleted or failing open, or by whoever may edit webhook configurations), so the
/// engine checks again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedTarget {
    /// JSON path of the target, e.g. `spec.targets[1]`.
    pub field: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

impl fmt::Display for RefusedTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}/{}",
            self.field, self.kind, self.namespace, self.name
        )
    }
}

/// Whether a ReloaderConfig in `namespace` may roll `target`: only in its own namespace.
pub fn target_allowed(namespace: &str, target: &Target) -> bool {
    foreign_namespace(namespace, target).is_none()
}

/// The targets of `spec` (a ReloaderConfig in `namespace`) that must not be rolled.
pub fn refused_targets(namespace: &str, spec: &ReloaderConfigSpec) -> Vec<RefusedTarget> {
    spec.targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let ns = foreign_namespace(namespace, t)?;
            Some(RefusedTarget {
                field: format!("spec.targets[{i}]"),
                kind: t.kind.clone(),
                name: t.name.clone(),
                namespace: ns.to_owned(),
            })
        })
        .collect()
}

/// Why `refused` are not rolled, for a condition or an Event (names only).
pub fn refusal_message(namespace: &str, refused: &[RefusedTarget]) -> String {
    let listed: Vec<String> = refused.iter().map(ToString::to_string).collect();
    format!(
        "refused, not rolled: {}; a ReloaderConfig only rolls workloads in its own namespace {namespace:?}",
        listed.join(", ")
    )
}

/// What a valid spec names, whose existence is worth a warning: each target of a kind we
/// roll and each watched source, with the field that names it.
pub fn subjects(namespace: &str, spec: &ReloaderConfigSpec) -> Vec<(String, Subject)> {
    let targets = spec.targets.iter().enumerate().filter_map(|(i, t)| {
        let kind = t.kind.parse::<WorkloadKind>().ok()?;
        let target = WorkloadRef::new(namespace, kind, t.name.clone());
        Some((format!("spec.targets[{i}]"), Subject::Workload(target)))
    });
    let watched = &spec.watched_resources;
    let sources = [
        ("secrets", SourceKind::Secret, &watched.secrets),
        ("configMaps", SourceKind::ConfigMap, &watched.config_maps),
    ]
    .into_iter()
    .flat_map(|(field, kind, names)| {
        names.iter().enumerate().map(move |(i, name)| {
            let source = SourceRef::new(namespace, kind, name.clone());
            (
                format!("spec.watchedResources.{field}[{i}]"),
                Subject::Source(source),
            )
        })
    });
    targets.chain(sources).collect()
}

/// The warning for each subject known to be missing, in the order of `answers`.
pub fn warnings(answers: &[(String, Subject, Presence)]) -> Vec<String> {
    answers
        .iter()
        .filter(|(_, _, presence)| *presence == Presence::Missing)
        .map(|(field, subject, _)| match subject {
            Subject::Workload(w) => format!(
                "{field}: {} {}/{} does not exist yet; it will be rolled once it does",
                w.kind, w.namespace, w.name
            ),
            Subject::Source(s) => {
                format!(
                    "{field}: {} {}/{} does not exist yet",
                    s.kind, s.namespace, s.name
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
