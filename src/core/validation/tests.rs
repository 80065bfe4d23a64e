use super::*;
use crate::crd::{Alerts, SecretKeyRef, Target, WatchedResources};

fn valid() -> ReloaderConfigSpec {
    ReloaderConfigSpec {
        watched_resources: WatchedResources {
            secrets: vec!["db-credentials".into()],
            config_maps: vec!["app.settings".into()],
        },
        targets: vec![
            Target {
                kind: "Deployment".into(),
                name: "api".into(),
                ..Target::default()
            },
            Target {
                kind: "StatefulSet".into(),
                name: "api".into(),
                namespace: Some("team-a".into()),
                reload_strategy: Some("annotations".into()),
                pause_period: Some("1h30m".into()),
                coalesce_window: Some("500ms".into()),
            },
        ],
        reload_strategy: "env-vars".into(),
        pause_period: Some("30s".into()),
        coalesce_window: Some("3s".into()),
        auto_reload_all: false,
        alerts: Some(Alerts {
            slack: Some(AlertSink {
                url: Some("https://hooks.slack.com/services/T/B/X".into()),
                secret_ref: None,
            }),
            teams: Some(AlertSink {
                url: None,
                secret_ref: Some(SecretKeyRef {
                    name: "teams-webhook".into(),
                    key: "url".into(),
                }),
            }),
            ..Alerts::default()
        }),
    }
}

fn url_sink(url: &str) -> Option<AlertSink> {
    Some(AlertSink {
        url: Some(url.into()),
        secret_ref: None,
    })
}

fn check(spec: &ReloaderConfigSpec, opts: ValidationOptions) -> Vec<Violation> {
    validate("team-a", spec, &opts)
}

#[test]
fn a_complete_valid_spec_has_no_violations() {
    assert_eq!(check(&valid(), ValidationOptions::default()), []);
}

#[test]
fn each_rule_names_its_field_and_says_what_is_allowed() {
    type Edit = fn(&mut ReloaderConfigSpec);
    let cases: &[(&str, Edit, &str, &str)] = &[
        (
            "unknown target kind",
            |s| s.targets[0].kind = "Pod".into(),
            "spec.targets[0].kind",
            "unknown workload kind \"Pod\": expected one of Deployment, StatefulSet",
        ),
        (
            "target name with capitals",
            |s| s.targets[0].name = "My_App".into(),
            "spec.targets[0].name",
            "\"My_App\" is not a valid DNS-1123 name: use lower-case letters",
        ),
        (
            "empty target name",
            |s| s.targets[0].name = String::new(),
            "spec.targets[0].name",
            "must not be empty",
        ),
        (
            "over-long watched secret name",
            |s| s.watched_resources.secrets[0] = "a".repeat(254),
            "spec.watchedResources.secrets[0]",
            "is 254 characters long",
        ),
        (
            "watched configmap ending in a dash",
            |s| s.watched_resources.config_maps[0] = "settings-".into(),
            "spec.watchedResources.configMaps[0]",
            "is not a valid DNS-1123 name",
        ),
        (
            "target in another namespace",
            |s| s.targets[0].namespace = Some("team-b".into()),
            "spec.targets[0].namespace",
            "\"team-b\" is not this ReloaderConfig's namespace \"team-a\"; a ReloaderConfig may only roll workloads in its own namespace",
        ),
        (
            "duplicated target",
            |s| s.targets.push(s.targets[0].clone()),
            "spec.targets[2]",
            "duplicates spec.targets[0] (Deployment \"api\")",
        ),
        (
            "spec pause period without unit",
            |s| s.pause_period = Some("30".into()),
            "spec.pausePeriod",
            "a number needs a unit",
        ),
        (
            "target pause period with unknown unit",
            |s| s.targets[1].pause_period = Some("2d".into()),
            "spec.targets[1].pausePeriod",
            "unknown unit \"d\"",
        ),
        (
            "spec coalescing window that is not a duration",
            |s| s.coalesce_window = Some("soon".into()),
            "spec.coalesceWindow",
            "invalid duration \"soon\": expected a Go duration",
        ),
        (
            "negative target coalescing window",
            |s| s.targets[0].coalesce_window = Some("-1s".into()),
            "spec.targets[0].coalesceWindow",
            "negative durations are not allowed",
        ),
        (
            "unknown spec strategy",
            |s| s.reload_strategy = "restart".into(),
            "spec.reloadStrategy",
            "unknown reload strategy \"restart\"; allowed: env-vars, annotations",
        ),
        (
            "unknown target strategy",
            |s| s.targets[0].reload_strategy = Some("rollout".into()),
            "spec.targets[0].reloadStrategy",
            "unknown reload strategy \"rollout\"",
        ),
        (
            "alert with url and secretRef",
            |s| {
                let teams = s.alerts.as_mut().unwrap().teams.as_mut().unwrap();
                teams.url = Some("https://example.com/hook".into());
            },
            "spec.alerts.teams",
            "both url and secretRef are set; set exactly one",
        ),
        (
            "alert with neither url nor secretRef",
            |s| s.alerts.as_mut().unwrap().webhook = Some(AlertSink::default()),
            "spec.alerts.webhook",
            "neither url nor secretRef is set; set exactly one",
        ),
        (
            "plain http alert url",
            |s| s.alerts.as_mut().unwrap().google_chat = url_sink("http://chat.example.com/hook"),
            "spec.alerts.googleChat.url",
            "an http:// URL sends the alert unencrypted; use https:// (http:// only with --allow-insecure-alert-urls)",
        ),
        (
            "alert url that is not a URL",
            |s| s.alerts.as_mut().unwrap().slack = url_sink("hooks.slack.com/services/x"),
            "spec.alerts.slack.url",
            "not an absolute URL with a host",
        ),
        (
            "alert secretRef with a bad name",
            |s| {
                s.alerts
                    .as_mut()
                    .unwrap()
                    .teams
                    .as_mut()
                    .unwrap()
                    .secret_ref
                    .as_mut()
                    .unwrap()
                    .name = "Teams".into()
            },
            "spec.alerts.teams.secretRef.name",
            "is not a valid DNS-1123 name",
        ),
        (
            "nothing watched and autoReloadAll off",
            |s| s.watched_resources = WatchedResources::default(),
            "spec.watchedResources",
            "names no Secret or ConfigMap and spec.autoReloadAll is false",
        ),
        (
            "no targets",
            |s| s.targets.clear(),
            "spec.targets",
            "is empty; name at least one workload",
        ),
    ];
    for (name, edit, field, message) in cases {
        let mut spec = valid();
        edit(&mut spec);
        let got = check(&spec, ValidationOptions::default());
        assert_eq!(got.len(), 1, "{name}: {got:#?}");
        assert_eq!(got[0].field, *field, "{name}");
        assert!(
            got[0].message.contains(message),
            "{name}: {}",
            got[0].message
        );
    }
}

#[test]
fn nothing_watched_is_fine_with_auto_reload_all() {
    let mut spec = valid();
    spec.watched_resources = WatchedResources::default();
    spec.auto_reload_all = true;
    assert_eq!(check(&spec, ValidationOptions::default()), []);
}

#[test]
fn the_own_namespace_may_be_spelled_out() {
    let mut spec = valid();
    spec.targets[0].namespace = Some("team-a".into());
    assert_eq!(check(&spec, ValidationOptions::default()), []);
}

#[test]
fn http_alert_urls_pass_only_with_the_flag() {
    let mut spec = valid();
    spec.alerts.as_mut().unwrap().slack = url_sink("http://alerts.monitoring.svc:8080/hook");
    let insecure = ValidationOptions {
        allow_insecure_alert_urls: true,
    };
    assert_eq!(check(&spec, insecure), []);
    assert_eq!(check(&spec, ValidationOptions::default()).len(), 1);
    spec.alerts.as_mut().unwrap().slack = url_sink("ftp://alerts.example.com/hook");
    assert_eq!(check(&spec, insecure).len(), 1, "other schemes never pass");
}

#[test]
fn several_problems_are_all_reported() {
    let mut spec = valid();
    spec.targets[0].kind = "Pod".into();
    spec.targets[1].namespace = Some("kube-system".into());
    spec.reload_strategy = "rolling".into();
    let fields: Vec<String> = check(&spec, ValidationOptions::default())
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        [
            "spec.reloadStrategy",
            "spec.targets[0].kind",
            "spec.targets[1].namespace"
        ]
    );
}

/// Deployments exist, other kinds do not; Secrets are missing, ConfigMaps unknown.
fn known(subject: &Subject) -> Presence {
    match subject {
        Subject::Workload(w) if w.kind == WorkloadKind::Deployment => Presence::Exists,
        Subject::Workload(_) => Presence::Missing,
        Subject::Source(s) if s.kind == SourceKind::Secret => Presence::Missing,
        Subject::Source(_) => Presence::Unknown,
    }
}

fn answered(answer: impl Fn(&Subject) -> Presence) -> Vec<String> {
    let answers: Vec<_> = subjects("team-a", &valid())
        .into_iter()
        .map(|(field, subject)| {
            let presence = answer(&subject);
            (field, subject, presence)
        })
        .collect();
    warnings(&answers)
}

#[test]
fn warnings_only_for_what_is_known_to_be_missing() {
    assert_eq!(answered(|_| Presence::Unknown), Vec::<String>::new());
    assert_eq!(answered(|_| Presence::Exists), Vec::<String>::new());
    assert_eq!(
        answered(known),
        [
            "spec.targets[1]: StatefulSet team-a/api does not exist yet; it will be rolled once it does",
            "spec.watchedResources.secrets[0]: Secret team-a/db-credentials does not exist yet",
        ]
    );
}

#[test]
fn the_subjects_are_every_target_of_a_known_kind_and_every_watched_source() {
    let fields: Vec<String> = subjects("team-a", &valid())
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    let want: Vec<String> = valid()
        .targets
        .iter()
        .enumerate()
        .map(|(i, _)| format!("spec.targets[{i}]"))
        .chain(
            (0..valid().watched_resources.secrets.len())
                .map(|i| format!("spec.watchedResources.secrets[{i}]")),
        )
        .chain(
            (0..valid().watched_resources.config_maps.len())
                .map(|i| format!("spec.watchedResources.configMaps[{i}]")),
        )
        .collect();
    assert_eq!(fields, want);
}

#[test]
fn dns1123_accepts_dotted_names_and_refuses_bad_labels() {
    for ok in [
        "a",
        "db-credentials",
        "app.settings",
        "a1.b2-c3",
        &"a".repeat(253),
    ] {
        assert_eq!(dns1123_problem(ok), None, "{ok}");
    }
    for bad in ["", "-a", "a-", "a..b", ".a", "A", "a_b", "a b", "ä"] {
        assert!(dns1123_problem(bad).is_some(), "{bad:?}");
    }
}

#[test]
fn the_engine_refuses_exactly_the_targets_the_webhook_refuses_for_their_namespace() {
    let mut spec = valid();
    // The own namespace spelled out, or left out: allowed.
    assert_eq!(refused_targets("team-a", &spec), []);
    assert!(spec.targets.iter().all(|t| target_allowed("team-a", t)));
    spec.targets.push(Target {
        kind: "Deployment".into(),
        name: "web".into(),
        namespace: Some("team-b".into()),
        ..Target::default()
    });
    let refused = refused_targets("team-a", &spec);
    assert_eq!(
        refused,
        [RefusedTarget {
            field: "spec.targets[2]".into(),
            kind: "Deployment".into(),
            name: "web".into(),
            namespace: "team-b".into(),
        }]
    );
    assert!(!target_allowed("team-a", &spec.targets[2]));
    // The webhook refuses the same target, for the same reason.
    let violations = check(&spec, ValidationOptions::default());
    assert_eq!(
        violations
            .iter()
            .map(|v| v.field.as_str())
            .collect::<Vec<_>>(),
        ["spec.targets[2].namespace"]
    );
    assert_eq!(
        refusal_message("team-a", &refused),
        "refused, not rolled: spec.targets[2] Deployment team-b/web; a ReloaderConfig only rolls workloads in its own namespace \"team-a\""
    );
    // Seen from team-b, the targets that name team-a are the foreign ones.
    let from_b: Vec<String> = refused_targets("team-b", &spec)
        .iter()
        .map(|r| r.field.clone())
        .collect();
    assert_eq!(from_b, ["spec.targets[1]"]);
}
