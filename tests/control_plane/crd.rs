//! The ReloaderConfig CRD on the real API server. The generated CRD is accepted and
//! Established (a structural schema whose CEL rules the real CEL compiles); every rule of
//! its schema refuses a ReloaderConfig that breaks it, with that rule's message, before any
//! webhook runs; what the schema cannot judge, reloader's `/validate/reloaderconfigs`
//! denies, and its message reaches kubectl; the status subresource and the printer columns
//! work as `kubectl` users see them.

use serde_json::{Value, json};

use crate::cluster_harness::fixtures::{deployment, documents, reloader_config, secret};
use crate::cluster_harness::{Cluster, eventually};

const CRD: &str = "reloaderconfigs.reloader.stakater.com";
const NAMESPACE: &str = "team-a";
const INVALID: &str = r#"The ReloaderConfig "rc" is invalid"#;
const DENIED: &str = r#"admission webhook "reloaderconfigs.reloader.stakater.com" denied the request: ReloaderConfig team-a/rc is invalid: "#;

/// A ReloaderConfig that sets every field, validly: each case below breaks one rule of it.
fn valid() -> Value {
    json!({
        "apiVersion": "reloader.stakater.com/v1alpha1",
        "kind": "ReloaderConfig",
        "metadata": {"name": "rc", "namespace": NAMESPACE},
        "spec": {
            "watchedResources": {"secrets": ["app-creds"], "configMaps": ["app-config"]},
            "targets": [
                {"kind": "Deployment", "name": "web", "namespace": NAMESPACE,
                 "reloadStrategy": "annotations", "pausePeriod": "30s", "coalesceWindow": "1.5s"},
                {"kind": "StatefulSet", "name": "db"},
            ],
            "reloadStrategy": "env-vars",
            "pausePeriod": "1h30m",
            "coalesceWindow": "500ms",
            "autoReloadAll": false,
            "alerts": {
                "slack": {"url": "https://hooks.slack.com/services/T/B/X"},
                "teams": {"secretRef": {"name": "alert-urls", "key": "teams"}},
                "googleChat": {"secretRef": {"name": "alert-urls", "key": "gchat"}},
                "webhook": {"url": "https://alerts.example.com/hook"},
            },
        },
    })
}

/// The valid ReloaderConfig with explicit nulls (what templating tools write for unset
/// values). The API server drops the null of a non-nullable field and stores that of a
/// nullable one, which its CEL `has()` takes as absent; reloader must take both as absent.
fn valid_with_nulls() -> Value {
    let mut o = valid();
    o["spec"]["pausePeriod"] = Value::Null;
    o["spec"]["targets"][1]["reloadStrategy"] = Value::Null;
    o["spec"]["alerts"]["teams"]["url"] = Value::Null;
    o["spec"]["alerts"]["webhook"]["secretRef"] = Value::Null;
    o
}

/// One broken rule: what it is, how the valid ReloaderConfig is changed to break it, and
/// what the answer must contain.
struct Case {
    rule: &'static str,
    change: fn(&mut Value),
    says: &'static [&'static str],
}

fn names(prefix: &str, n: usize) -> Value {
    (0..n).map(|i| json!(format!("{prefix}-{i}"))).collect()
}

/// Every rule of webhook-config/crd.yaml, broken once (each alert sink's CEL rule once per
/// sink). Messages are the API server's own (apiextensions-apiserver and kube-openapi).
const SCHEMA_CASES: &[Case] = &[
    Case {
        rule: "spec is required",
        change: |o| drop(o.as_object_mut().unwrap().remove("spec")),
        says: &["spec: Required value"],
    },
    Case {
        rule: "spec.targets is required",
        change: |o| drop(o["spec"].as_object_mut().unwrap().remove("targets")),
        says: &["spec.targets: Required value"],
    },
    Case {
        rule: "spec.targets has at least one item",
        change: |o| o["spec"]["targets"] = json!([]),
        says: &["spec.targets in body should have at least 1 items"],
    },
    Case {
        rule: "spec.targets has at most 100 items",
        change: |o| {
            o["spec"]["targets"] = (0..101)
                .map(|i| json!({"kind": "Deployment", "name": format!("web-{i}")}))
                .collect()
        },
        says: &["spec.targets: Too many: 101: must have at most 100 items"],
    },
    Case {
        rule: "spec.targets is a map keyed by kind and name",
        change: |o| o["spec"]["targets"][1] = json!({"kind": "Deployment", "name": "web"}),
        says: &[r#"spec.targets[1]: Duplicate value: {"kind":"Deployment","name":"web"}"#],
    },
    Case {
        rule: "a target's kind is required",
        change: |o| {
            drop(
                o["spec"]["targets"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("kind"),
            )
        },
        says: &["spec.targets[1].kind: Required value"],
    },
    Case {
        rule: "a target's name is required",
        change: |o| {
            drop(
                o["spec"]["targets"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("name"),
            )
        },
        says: &["spec.targets[1].name: Required value"],
    },
    Case {
        rule: "a target's kind is one of the workload kinds",
        change: |o| o["spec"]["targets"][1]["kind"] = json!("Pod"),
        says: &[
            r#"spec.targets[1].kind: Unsupported value: "Pod": supported values: "Deployment", "StatefulSet", "DaemonSet", "CronJob", "Rollout", "DeploymentConfig", "Job""#,
        ],
    },
    Case {
        rule: "a target's name is a DNS-1123 subdomain",
        change: |o| o["spec"]["targets"][1]["name"] = json!("Web_DB"),
        says: &[
            r#"spec.targets[1].name: Invalid value: "Web_DB": spec.targets[1].name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'"#,
        ],
    },
    Case {
        rule: "a target's name is not empty",
        change: |o| o["spec"]["targets"][1]["name"] = json!(""),
        says: &["spec.targets[1].name in body should be at least 1 chars long"],
    },
    Case {
        rule: "a target's name has at most 253 characters",
        change: |o| o["spec"]["targets"][1]["name"] = json!("a".repeat(254)),
        says: &["spec.targets[1].name: Too long: may not be more than 253 bytes"],
    },
    Case {
        rule: "a target's namespace has at most 63 characters",
        change: |o| o["spec"]["targets"][0]["namespace"] = json!("a".repeat(64)),
        says: &["spec.targets[0].namespace: Too long: may not be more than 63 bytes"],
    },
    Case {
        rule: "a target's reloadStrategy is env-vars or annotations",
        change: |o| o["spec"]["targets"][0]["reloadStrategy"] = json!("restart"),
        says: &[
            r#"spec.targets[0].reloadStrategy: Unsupported value: "restart": supported values: "env-vars", "annotations""#,
        ],
    },
    Case {
        rule: "a target's pausePeriod is a Go duration",
        change: |o| o["spec"]["targets"][0]["pausePeriod"] = json!("30 seconds"),
        says: &[
            r#"spec.targets[0].pausePeriod: Invalid value: "30 seconds": spec.targets[0].pausePeriod in body should match"#,
        ],
    },
    Case {
        rule: "a target's pausePeriod has at most 64 characters",
        change: |o| o["spec"]["targets"][0]["pausePeriod"] = json!("1s".repeat(33)),
        says: &["spec.targets[0].pausePeriod: Too long: may not be more than 64 bytes"],
    },
    Case {
        rule: "a target's coalesceWindow is a Go duration (never negative)",
        change: |o| o["spec"]["targets"][0]["coalesceWindow"] = json!("-1s"),
        says: &[
            r#"spec.targets[0].coalesceWindow: Invalid value: "-1s": spec.targets[0].coalesceWindow in body should match"#,
        ],
    },
    Case {
        rule: "a target's coalesceWindow has at most 64 characters",
        change: |o| o["spec"]["targets"][0]["coalesceWindow"] = json!("1s".repeat(33)),
        says: &["spec.targets[0].coalesceWindow: Too long: may not be more than 64 bytes"],
    },
    Case {
        rule: "spec.reloadStrategy is env-vars or annotations",
        change: |o| o["spec"]["reloadStrategy"] = json!("rolling"),
        says: &[
            r#"spec.reloadStrategy: Unsupported value: "rolling": supported values: "env-vars", "annotations""#,
        ],
    },
    Case {
        rule: "spec.pausePeriod is a Go duration (no days)",
        change: |o| o["spec"]["pausePeriod"] = json!("1d"),
        says: &[
            r#"spec.pausePeriod: Invalid value: "1d": spec.pausePeriod in body should match '^(0|([0-9]+(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$'"#,
        ],
    },
    Case {
        rule: "spec.pausePeriod has at most 64 characters",
        change: |o| o["spec"]["pausePeriod"] = json!("1m".repeat(33)),
        says: &["spec.pausePeriod: Too long: may not be more than 64 bytes"],
    },
    Case {
        rule: "spec.coalesceWindow is a Go duration (a number needs a unit)",
        change: |o| o["spec"]["coalesceWindow"] = json!("1.5"),
        says: &[
            r#"spec.coalesceWindow: Invalid value: "1.5": spec.coalesceWindow in body should match"#,
        ],
    },
    Case {
        rule: "spec.coalesceWindow has at most 64 characters",
        change: |o| o["spec"]["coalesceWindow"] = json!("1s".repeat(33)),
        says: &["spec.coalesceWindow: Too long: may not be more than 64 bytes"],
    },
    Case {
        rule: "spec.autoReloadAll is a boolean",
        change: |o| o["spec"]["autoReloadAll"] = json!("yes"),
        says: &[
            r#"spec.autoReloadAll: Invalid value: "string": spec.autoReloadAll in body must be of type boolean: "string""#,
        ],
    },
    Case {
        rule: "a watched Secret's name is a DNS-1123 subdomain",
        change: |o| o["spec"]["watchedResources"]["secrets"] = json!(["app-creds", "App_Creds"]),
        says: &[
            r#"spec.watchedResources.secrets[1]: Invalid value: "App_Creds": spec.watchedResources.secrets[1] in body should match"#,
        ],
    },
    Case {
        rule: "a watched Secret's name is not empty",
        change: |o| o["spec"]["watchedResources"]["secrets"] = json!([""]),
        says: &["spec.watchedResources.secrets[0] in body should be at least 1 chars long"],
    },
    Case {
        rule: "a watched Secret's name has at most 253 characters",
        change: |o| o["spec"]["watchedResources"]["secrets"] = json!(["s".repeat(254)]),
        says: &["spec.watchedResources.secrets[0]: Too long: may not be more than 253 bytes"],
    },
    Case {
        rule: "at most 256 watched Secrets",
        change: |o| o["spec"]["watchedResources"]["secrets"] = names("s", 257),
        says: &["spec.watchedResources.secrets: Too many: 257: must have at most 256 items"],
    },
    Case {
        rule: "watched Secrets are a set",
        change: |o| o["spec"]["watchedResources"]["secrets"] = json!(["app-creds", "app-creds"]),
        says: &[r#"spec.watchedResources.secrets[1]: Duplicate value: "app-creds""#],
    },
    Case {
        rule: "a watched ConfigMap's name is a DNS-1123 subdomain",
        change: |o| o["spec"]["watchedResources"]["configMaps"] = json!(["-config"]),
        says: &[
            r#"spec.watchedResources.configMaps[0]: Invalid value: "-config": spec.watchedResources.configMaps[0] in body should match"#,
        ],
    },
    Case {
        rule: "a watched ConfigMap's name is not empty",
        change: |o| o["spec"]["watchedResources"]["configMaps"] = json!([""]),
        says: &["spec.watchedResources.configMaps[0] in body should be at least 1 chars long"],
    },
    Case {
        rule: "a watched ConfigMap's name has at most 253 characters",
        change: |o| o["spec"]["watchedResources"]["configMaps"] = json!(["c".repeat(254)]),
        says: &["spec.watchedResources.configMaps[0]: Too long: may not be more than 253 bytes"],
    },
    Case {
        rule: "at most 256 watched ConfigMaps",
        change: |o| o["spec"]["watchedResources"]["configMaps"] = names("c", 257),
        says: &["spec.watchedResources.configMaps: Too many: 257: must have at most 256 items"],
    },
    Case {
        rule: "watched ConfigMaps are a set",
        change: |o| {
            o["spec"]["watchedResources"]["configMaps"] = json!(["app-config", "app-config"])
        },
        says: &[r#"spec.watchedResources.configMaps[1]: Duplicate value: "app-config""#],
    },
    Case {
        rule: "CEL: something is watched unless autoReloadAll (no sources listed)",
        change: |o| o["spec"]["watchedResources"] = json!({"secrets": [], "configMaps": []}),
        says: &[
            "spec: Required value: spec.watchedResources must name at least one Secret or ConfigMap unless spec.autoReloadAll is true",
        ],
    },
    Case {
        rule: "CEL: something is watched unless autoReloadAll (watchedResources left out)",
        change: |o| {
            let spec = o["spec"].as_object_mut().unwrap();
            spec.remove("watchedResources");
            spec.remove("autoReloadAll");
        },
        says: &[
            "spec: Required value: spec.watchedResources must name at least one Secret or ConfigMap unless spec.autoReloadAll is true",
        ],
    },
    Case {
        rule: "CEL: a Slack sink has a url or a secretRef, not both",
        change: |o| {
            o["spec"]["alerts"]["slack"]["secretRef"] =
                json!({"name": "alert-urls", "key": "slack"})
        },
        says: &[r#"spec.alerts.slack: Invalid value: exactly one of url or secretRef must be set"#],
    },
    Case {
        rule: "CEL: a Teams sink has a url or a secretRef, not neither",
        change: |o| o["spec"]["alerts"]["teams"] = json!({}),
        says: &[r#"spec.alerts.teams: Invalid value: exactly one of url or secretRef must be set"#],
    },
    Case {
        rule: "CEL: a Google Chat sink has a url or a secretRef, not both",
        change: |o| {
            o["spec"]["alerts"]["googleChat"]["url"] = json!("https://chat.googleapis.com/v1/x")
        },
        says: &[
            r#"spec.alerts.googleChat: Invalid value: exactly one of url or secretRef must be set"#,
        ],
    },
    Case {
        rule: "CEL: a webhook sink has a url or a secretRef, not neither",
        change: |o| o["spec"]["alerts"]["webhook"] = json!({}),
        says: &[
            r#"spec.alerts.webhook: Invalid value: exactly one of url or secretRef must be set"#,
        ],
    },
    Case {
        rule: "an alert URL is http(s)",
        change: |o| o["spec"]["alerts"]["slack"]["url"] = json!("ftp://hooks.example.com/x"),
        says: &[
            r#"spec.alerts.slack.url: Invalid value: "ftp://hooks.example.com/x": spec.alerts.slack.url in body should match '^https?://'"#,
        ],
    },
    Case {
        rule: "an alert URL has at most 2048 characters",
        change: |o| {
            o["spec"]["alerts"]["webhook"]["url"] =
                json!(format!("https://example.com/{}", "x".repeat(2030)))
        },
        says: &["spec.alerts.webhook.url: Too long: may not be more than 2048 bytes"],
    },
    Case {
        rule: "a secretRef's name is required",
        change: |o| {
            drop(
                o["spec"]["alerts"]["teams"]["secretRef"]
                    .as_object_mut()
                    .unwrap()
                    .remove("name"),
            )
        },
        says: &["spec.alerts.teams.secretRef.name: Required value"],
    },
    Case {
        rule: "a secretRef's key is required",
        change: |o| {
            drop(
                o["spec"]["alerts"]["googleChat"]["secretRef"]
                    .as_object_mut()
                    .unwrap()
                    .remove("key"),
            )
        },
        says: &["spec.alerts.googleChat.secretRef.key: Required value"],
    },
    Case {
        rule: "a secretRef's name is a DNS-1123 subdomain",
        change: |o| o["spec"]["alerts"]["teams"]["secretRef"]["name"] = json!("Alert URLs"),
        says: &[
            r#"spec.alerts.teams.secretRef.name: Invalid value: "Alert URLs": spec.alerts.teams.secretRef.name in body should match"#,
        ],
    },
    Case {
        rule: "a secretRef's name has at most 253 characters",
        change: |o| o["spec"]["alerts"]["teams"]["secretRef"]["name"] = json!("n".repeat(254)),
        says: &["spec.alerts.teams.secretRef.name: Too long: may not be more than 253 bytes"],
    },
    Case {
        rule: "a secretRef's key is not empty",
        change: |o| o["spec"]["alerts"]["teams"]["secretRef"]["key"] = json!(""),
        says: &["spec.alerts.teams.secretRef.key in body should be at least 1 chars long"],
    },
    Case {
        rule: "a secretRef's key has at most 253 characters",
        change: |o| o["spec"]["alerts"]["teams"]["secretRef"]["key"] = json!("k".repeat(254)),
        says: &["spec.alerts.teams.secretRef.key: Too long: may not be more than 253 bytes"],
    },
];

/// Unknown fields: kubectl's default strict field validation, against the structural schema.
const UNKNOWN_FIELD_CASES: &[Case] = &[
    Case {
        rule: "no unknown fields in spec",
        change: |o| o["spec"]["reloadOnCreate"] = json!(true),
        says: &[r#"strict decoding error: unknown field "spec.reloadOnCreate""#],
    },
    Case {
        rule: "no unknown fields in a target",
        change: |o| o["spec"]["targets"][0]["container"] = json!("app"),
        says: &[r#"unknown field "spec.targets[0].container""#],
    },
];

/// What only reloader's webhook can refuse: the schema admits each of these.
const WEBHOOK_CASES: &[Case] = &[
    Case {
        rule: "a target in another namespace",
        change: |o| o["spec"]["targets"][0]["namespace"] = json!("team-b"),
        says: &[
            r#"spec.targets[0].namespace: "team-b" is not this ReloaderConfig's namespace "team-a"; a ReloaderConfig may only roll workloads in its own namespace (omit the field or set it to "team-a")"#,
        ],
    },
    Case {
        rule: "a plain-http alert URL",
        change: |o| o["spec"]["alerts"]["slack"]["url"] = json!("http://hooks.example.com/x"),
        says: &[
            "spec.alerts.slack.url: an http:// URL sends the alert unencrypted; use https:// (http:// only with --allow-insecure-alert-urls)",
        ],
    },
    Case {
        rule: "an alert URL without a host",
        change: |o| o["spec"]["alerts"]["webhook"]["url"] = json!("https://"),
        says: &[
            "spec.alerts.webhook.url: not an absolute URL with a host; use https:// (http:// only with --allow-insecure-alert-urls)",
        ],
    },
    Case {
        rule: "a pausePeriod beyond Go's largest duration",
        change: |o| o["spec"]["pausePeriod"] = json!("3000000h"),
        says: &[r#"spec.pausePeriod: invalid duration "3000000h": too large"#],
    },
    Case {
        rule: "a target's coalesceWindow beyond Go's largest duration",
        change: |o| o["spec"]["targets"][0]["coalesceWindow"] = json!("9999999999999999999999s"),
        says: &[
            r#"spec.targets[0].coalesceWindow: invalid duration "9999999999999999999999s": too large"#,
        ],
    },
    Case {
        rule: "every problem at once, in one answer",
        change: |o| {
            o["spec"]["targets"][1]["namespace"] = json!("team-b");
            o["spec"]["alerts"]["webhook"]["url"] = json!("http://alerts.example.com/hook");
        },
        says: &[
            r#"spec.targets[1].namespace: "team-b" is not this ReloaderConfig's namespace"#,
            "; spec.alerts.webhook.url: an http:// URL sends the alert unencrypted",
        ],
    },
];

/// `kubectl create -f -` of `object`: (succeeded, stderr).
fn create(cluster: &Cluster, object: &Value) -> (bool, String) {
    let out = cluster.kubectl_raw(&["create", "-f", "-"], Some(&object.to_string()));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every case's broken ReloaderConfig is refused with all of its `says`, and nothing is
/// stored; the failures of all cases are reported together.
fn assert_refused(cluster: &Cluster, cases: &[Case], prefix: &str) {
    let mut failures = Vec::new();
    for case in cases {
        let mut object = valid();
        (case.change)(&mut object);
        let (created, stderr) = create(cluster, &object);
        if created {
            failures.push(format!("{}: accepted", case.rule));
            cluster.kubectl(&["delete", "rlc", "rc", "-n", NAMESPACE]);
            continue;
        }
        for says in std::iter::once(prefix).chain(case.says.iter().copied()) {
            if !stderr.contains(says) {
                failures.push(format!(
                    "{}: no {says:?} in\n    {}",
                    case.rule,
                    stderr.trim()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let left = cluster.kubectl(&["get", "rlc", "-n", NAMESPACE, "-o", "name"]);
    assert_eq!(left, "", "nothing refused was stored");
}

fn jsonpath(cluster: &Cluster, path: &str) -> String {
    cluster.kubectl(&[
        "get",
        "rlc",
        "rc",
        "-n",
        NAMESPACE,
        "-o",
        &format!("jsonpath={path}"),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_crd_is_established_with_a_structural_schema() {
    let cluster = Cluster::start_real().await;
    let conditions = cluster.kubectl(&[
        "get",
        "crd",
        CRD,
        "-o",
        r#"jsonpath={range .status.conditions[*]}{.type}={.status}{"\n"}{end}"#,
    ]);
    let mut conditions: Vec<&str> = conditions.lines().collect();
    conditions.sort();
    assert_eq!(
        conditions,
        ["Established=True", "NamesAccepted=True"],
        "no NonStructuralSchema (or any other) condition"
    );
    let names = cluster.kubectl(&["get", "crd", CRD, "-o", "jsonpath={.status.acceptedNames}"]);
    let names: Value = serde_json::from_str(&names).expect("acceptedNames");
    assert_eq!(names["kind"], "ReloaderConfig");
    assert_eq!(names["shortNames"], json!(["rlc", "reloadercfg"]));
    assert_eq!(names["categories"], json!(["reloader"]));
    // kubectl finds the resource by every name the CRD gives it.
    for name in [
        "reloaderconfigs",
        "reloaderconfig",
        "rlc",
        "reloadercfg",
        "reloader",
    ] {
        let out = cluster.kubectl_raw(&["get", name, "-A"], None);
        assert!(
            out.status.success(),
            "kubectl get {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The API server stores exactly the CRD `reloader crd` prints: nothing was pruned or
    // rewritten on the way in (what would happen to a non-structural part).
    let stored = cluster.kubectl(&[
        "get",
        "crd",
        CRD,
        "-o",
        "jsonpath={.spec.versions[0].schema}",
    ]);
    let stored: Value = serde_json::from_str(&stored).expect("schema");
    let generated: Value =
        serde_yaml::from_str(&reloader_core::crd::crd_yaml().expect("crd")).expect("yaml");
    assert_eq!(stored, generated["spec"]["versions"][0]["schema"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_schema_rule_refuses_what_breaks_it_with_its_own_message() {
    let cluster = Cluster::start_real().await;
    cluster.kubectl(&["create", "namespace", NAMESPACE]);

    // No webhook is registered: the schema alone answers. The valid one, and the smallest
    // valid ones, are accepted (so each refusal below is the broken rule's doing).
    for (what, object) in [
        ("every field set", valid()),
        (
            "only what is required",
            json!({"apiVersion": "reloader.stakater.com/v1alpha1", "kind": "ReloaderConfig",
                   "metadata": {"name": "rc", "namespace": NAMESPACE},
                   "spec": {"watchedResources": {"configMaps": ["cfg"]},
                            "targets": [{"kind": "CronJob", "name": "nightly"}]}}),
        ),
        (
            "autoReloadAll instead of sources",
            json!({"apiVersion": "reloader.stakater.com/v1alpha1", "kind": "ReloaderConfig",
                   "metadata": {"name": "rc", "namespace": NAMESPACE},
                   "spec": {"autoReloadAll": true, "targets": [{"kind": "DaemonSet", "name": "agent"}]}}),
        ),
        ("explicit nulls", valid_with_nulls()),
        ("the webhook's cases (the schema cannot tell)", {
            let mut o = valid();
            for case in WEBHOOK_CASES {
                (case.change)(&mut o);
            }
            o
        }),
    ] {
        let (created, stderr) = create(&cluster, &object);
        assert!(created, "{what}: refused: {stderr}");
        cluster.kubectl(&["delete", "rlc", "rc", "-n", NAMESPACE]);
    }
    // Defaults are applied by the API server.
    cluster.kubectl_stdin(
        &["create", "-f", "-"],
        &json!({"apiVersion": "reloader.stakater.com/v1alpha1", "kind": "ReloaderConfig",
                "metadata": {"name": "rc", "namespace": NAMESPACE},
                "spec": {"autoReloadAll": true, "targets": [{"kind": "Deployment", "name": "web"}]}})
        .to_string(),
    );
    assert_eq!(
        jsonpath(&cluster, "{.spec.reloadStrategy} {.spec.watchedResources}"),
        r#"env-vars {"configMaps":[],"secrets":[]}"#
    );
    cluster.kubectl(&["delete", "rlc", "rc", "-n", NAMESPACE]);

    assert_refused(&cluster, SCHEMA_CASES, INVALID);
    assert_refused(&cluster, UNKNOWN_FIELD_CASES, "");

    // While an enum, length, count, type or required rule refuses an object, the API
    // server does not run its CEL rules, and says so.
    let mut object = valid();
    object["spec"]["targets"][1]["kind"] = json!("Pod");
    object["spec"]["watchedResources"] = json!({});
    let (created, stderr) = create(&cluster, &object);
    assert!(!created, "accepted");
    assert!(
        stderr.contains("spec.targets[1].kind: Unsupported value"),
        "{stderr}"
    );
    assert!(
        stderr.contains("some validation rules were not checked because the object was invalid"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("spec.watchedResources must name"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_schema_admits_but_reloader_denies_reaches_kubectl_with_its_message() {
    let mut cluster = Cluster::start_real().await;
    cluster.kubectl(&["create", "namespace", NAMESPACE]);
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();

    assert_refused(&cluster, WEBHOOK_CASES, DENIED);

    // Explicit nulls are absent fields to reloader too.
    let (created, stderr) = create(&cluster, &valid_with_nulls());
    assert!(created, "the valid ReloaderConfig with nulls: {stderr}");
    cluster.kubectl(&["delete", "rlc", "rc", "-n", NAMESPACE]);

    // An update is judged as a create is.
    let (created, stderr) = create(&cluster, &valid());
    assert!(created, "the valid ReloaderConfig: {stderr}");
    let patch = cluster.kubectl_raw(
        &[
            "patch",
            "rlc",
            "rc",
            "-n",
            NAMESPACE,
            "--type=json",
            "-p",
            r#"[{"op": "replace", "path": "/spec/targets/0/namespace", "value": "team-b"}]"#,
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&patch.stderr);
    assert!(!patch.status.success(), "the update was admitted");
    assert!(stderr.contains(DENIED), "{stderr}");
    assert!(
        stderr.contains(
            r#"spec.targets[0].namespace: "team-b" is not this ReloaderConfig's namespace "team-a""#
        ),
        "{stderr}"
    );
    assert_eq!(
        jsonpath(&cluster, "{.spec.targets[0].namespace}"),
        NAMESPACE
    );
    cluster.kubectl(&["delete", "rlc", "rc", "-n", NAMESPACE]);

    // A valid one naming workloads and sources that do not exist is admitted.
    let (created, stderr) = create(&cluster, &valid());
    assert!(created, "{stderr}");
}

/// A Deployment reading the Secret `app-creds`, and a ReloaderConfig that rolls it.
fn followed() -> String {
    documents(&[
        app_creds("one"),
        deployment(NAMESPACE, "web")
            .env_from_secret("app-creds")
            .yaml(),
        reloader_config(NAMESPACE, "rc")
            .secrets(&["app-creds"])
            .target("Deployment", "web")
            .yaml(),
    ])
}

fn app_creds(password: &str) -> String {
    secret(NAMESPACE, "app-creds", &[("password", password)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_subresource_and_the_printer_columns_work_for_kubectl() {
    let mut cluster = Cluster::start_real().await;
    cluster.kubectl(&["create", "namespace", NAMESPACE]);
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.apply(&followed());

    // reloader writes the status through the subresource.
    let wanted = "1 1 0 True";
    let status = "{.status.observedGeneration} {.status.targetCount} {.status.reloadCount} {.status.conditions[?(@.type==\"Ready\")].status}";
    eventually("reloader's first status", || async {
        jsonpath(&cluster, status) == wanted
    })
    .await;
    cluster.apply(&app_creds("two"));
    cluster.wait_rolled(NAMESPACE, "web", 2).await;
    eventually("the reload counted in the status", || async {
        jsonpath(&cluster, status) == "1 1 1 True"
    })
    .await;
    assert!(!jsonpath(&cluster, "{.status.lastReloadTime}").is_empty());

    // `kubectl get rlc`: the printer columns, filled from spec and status.
    let table = cluster.kubectl(&["get", "rlc", "-n", NAMESPACE]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        rows[0],
        [
            "NAME",
            "STRATEGY",
            "TARGETS",
            "RELOADS",
            "LAST RELOAD",
            "READY",
            "AGE"
        ],
        "{table}"
    );
    assert_eq!(rows.len(), 2, "{table}");
    assert_eq!(rows[1][..4], ["rc", "env-vars", "1", "1"], "{table}");
    assert_eq!(rows[1][5], "True", "{table}");
    let wide = cluster.kubectl(&["get", "rlc", "-n", NAMESPACE, "-o", "wide"]);
    assert!(wide.starts_with("NAME "), "{wide}");

    // The admin writes the status subresource; a spec change sent there is ignored.
    let generation = jsonpath(&cluster, "{.metadata.generation}");
    let patched = cluster.kubectl(&[
        "patch",
        "rlc",
        "rc",
        "-n",
        NAMESPACE,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"spec": {"reloadStrategy": "annotations"}, "status": {"reloadCount": 42}}"#,
        "-o",
        "json",
    ]);
    let patched: Value = serde_json::from_str(&patched).expect("json");
    assert_eq!(patched["status"]["reloadCount"], 42);
    assert_eq!(patched["spec"]["reloadStrategy"], "env-vars");
    assert_eq!(jsonpath(&cluster, "{.spec.reloadStrategy}"), "env-vars");
    assert_eq!(jsonpath(&cluster, "{.metadata.generation}"), generation);

    // And the main resource ignores a status change.
    let patched = cluster.kubectl(&[
        "patch",
        "rlc",
        "rc",
        "-n",
        NAMESPACE,
        "--type=merge",
        "-p",
        r#"{"status": {"reloadCount": 7}}"#,
        "-o",
        "json",
    ]);
    let patched: Value = serde_json::from_str(&patched).expect("json");
    assert_ne!(patched["status"]["reloadCount"], 7);
    assert_eq!(jsonpath(&cluster, "{.metadata.generation}"), generation);

    // The status has a schema too.
    let bad = cluster.kubectl_raw(
        &[
            "patch",
            "rlc",
            "rc",
            "-n",
            NAMESPACE,
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status": {"reloadCount": "many"}}"#,
        ],
        None,
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("status.reloadCount: Invalid value"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
