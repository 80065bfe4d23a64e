//! Least privilege, checked. Every Role and ClusterRole the chart renders (under several
//! value sets, the namespaced mode among them) and every one in `webhook-config/rbac.yaml`
//! is held to a table of named rules ([`RULES`]); each rule is shown to fail on the kind
//! of grant it is there to refuse ([`each_rule_fails_on_what_it_forbids`]). Then the
//! namespaced mode is installed for real: reloader, as its ServiceAccount, rolls a
//! Deployment with Roles only, and the API server says it can list no Secret.
//!
//! What reloader calls, and so what it is granted (`grep -rn 'Api<\|Api::' src/`, and the
//! calls made on each):
//!
//! | code | call | grant |
//! |---|---|---|
//! | `reload/cache.rs` | watch (list + watch) each workload kind of `workload::KINDS`, and ReloaderConfigs | `list`, `watch` |
//! | `reload/apply.rs` | GET one workload, JSON-patch it to roll it | `get`, `patch` |
//! | `reload/source_read.rs` | GET one Secret or ConfigMap by name (resync, the mutating webhook) | `get` |
//! | `reload/existence.rs` | GET one Secret's or ConfigMap's metadata by name (`/validate/reloaderconfigs`) | `get` |
//! | `alerts/secret_url.rs` | GET the Secret a ReloaderConfig's alert `secretRef` names | `get` |
//! | `reload/status.rs` | GET and merge-patch `reloaderconfigs/status` | `get`, `patch` |
//! | `reload/events.rs` | kube's `Recorder`: create an Event, patch it when it repeats | `create`, `patch` on `events` |
//! | `reload/leader.rs` | GET, create and replace one Lease in its own namespace | `get`, `create`, `update` |
//! | `reload/hash_key.rs` | GET, or else create, the hash key Secret in its own namespace | `get`, `create` |
//! | `cmd/meta_info.rs` | GET, then create or replace, `reloader-meta-info` in its own namespace | `create`; `get`, `update` by name |
//! | `reload/scope.rs` | watch Namespaces, only with `--namespace-selector` | `list`, `watch` |
//! | `reload/csi.rs`, `reload/source_read.rs` | watch and list SecretProviderClassPodStatuses, GET a SecretProviderClass's metadata, only with `--enable-csi-integration` | `list`, `watch`; `get` |
//!
//! Granted but not called today (tolerated, listed in [`ALLOWED`] as such): `get` on
//! namespaces and on reloaderconfigs, `update` on reloaderconfigs/status, and `list`,
//! `watch`, `patch` on leases.

use std::collections::BTreeSet;
use std::process::Command;

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use reloader_core::workload::KINDS;
use serde::Deserialize;
use serde_yaml::Value;

use crate::cluster_harness::Cluster;
use crate::cluster_harness::control_plane::repo_root;
use crate::cluster_harness::fixtures::{AUTO, deployment, documents, namespace, secret};
use crate::cluster_harness::install::{helm_binary, service_account_user};
use crate::{
    SHOP, a_secret_change_rolls_the_deployment, the_local_reloader_holds_the_lease,
    the_service_account_has_exactly_the_intended_permissions,
};

/// Verbs that only read. Every other verb (create, update, patch, delete,
/// deletecollection, bind, escalate, impersonate, …) counts as a write.
const READS: [&str; 3] = ["get", "list", "watch"];

/// Where an allowed grant may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Where {
    /// Cluster-wide (ClusterRole) or in a Role of a namespace reloader acts in.
    Acting,
    /// Only in a Role of reloader's own (the release) namespace.
    OwnNamespace,
}

/// One allowed grant: `(API group, resource, verbs, where, why)`.
type Allowed = (
    &'static str,
    &'static str,
    &'static [&'static str],
    Where,
    &'static str,
);

/// Every grant reloader may have besides the workload kinds (see [`allowed`]), and why.
const ALLOWED: &[Allowed] = &[
    (
        "",
        "secrets",
        &["get"],
        Where::Acting,
        "one Secret by name: source_read.rs, existence.rs, alerts/secret_url.rs",
    ),
    (
        "",
        "configmaps",
        &["get"],
        Where::Acting,
        "one ConfigMap by name: source_read.rs, existence.rs",
    ),
    (
        "",
        "namespaces",
        &["get", "list", "watch"],
        Where::Acting,
        "scope.rs watches namespace labels for --namespace-selector (get: not called)",
    ),
    (
        "reloader.stakater.com",
        "reloaderconfigs",
        &["get", "list", "watch"],
        Where::Acting,
        "cache.rs watches ReloaderConfigs (get: not called)",
    ),
    (
        "reloader.stakater.com",
        "reloaderconfigs/status",
        &["get", "patch", "update"],
        Where::Acting,
        "status.rs reads and merge-patches the status (update: not called)",
    ),
    (
        "",
        "events",
        &["create", "patch"],
        Where::Acting,
        "events.rs: kube's Recorder creates an Event and patches it when it repeats",
    ),
    (
        "events.k8s.io",
        "events",
        &["create", "patch"],
        Where::Acting,
        "events.rs: the same, through events.k8s.io/v1",
    ),
    (
        "secrets-store.csi.x-k8s.io",
        "secretproviderclasspodstatuses",
        &["list", "watch"],
        Where::Acting,
        "csi.rs watches the CSI driver's statuses; source_read.rs lists them to read a class",
    ),
    (
        "secrets-store.csi.x-k8s.io",
        "secretproviderclasses",
        &["get"],
        Where::Acting,
        "source_read.rs reads a class's labels and annotations",
    ),
    (
        "batch",
        "jobs",
        &["create"],
        Where::Acting,
        "apply.rs creates a reloaded CronJob's run-now Job (--run-cronjobs-on-reload)",
    ),
    (
        "coordination.k8s.io",
        "leases",
        &["get", "list", "watch", "create", "update", "patch"],
        Where::OwnNamespace,
        "leader.rs gets, creates and replaces its Lease (list, watch, patch: not called)",
    ),
    (
        "",
        "secrets",
        &["create"],
        Where::OwnNamespace,
        "hash_key.rs creates the hash key Secret at first start",
    ),
    (
        "",
        "configmaps",
        &["get", "create", "update"],
        Where::OwnNamespace,
        "cmd/meta_info.rs publishes stakater's reloader-meta-info ConfigMap at start",
    ),
];

/// The workload kinds' grants: watched by cache.rs, read and patched by apply.rs. Writes:
/// `patch` only.
const WORKLOAD_VERBS: [&str; 4] = ["get", "list", "watch", "patch"];

/// Where a grant applies.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    Cluster,
    Namespace(String),
}

/// One verb on one resource, from one rule of one role.
#[derive(Clone, Debug)]
struct Grant {
    role: String,
    scope: Scope,
    group: String,
    resource: String,
    verb: String,
    /// `resourceNames` of the rule (empty: every object).
    names: Vec<String>,
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        write!(
            f,
            "{}: {} {}/{}",
            self.role, self.verb, group, self.resource
        )?;
        if !self.names.is_empty() {
            write!(f, " {:?}", self.names)?;
        }
        Ok(())
    }
}

/// What the rendering is meant to be.
#[derive(Clone, Debug)]
enum Mode {
    /// A ClusterRole for what reloader does everywhere.
    ClusterWide,
    /// Roles only, in exactly these namespaces (sorted).
    Namespaced(Vec<String>),
}

/// One rendering's RBAC (and its Deployment's arguments).
struct Rendering {
    what: String,
    mode: Mode,
    release_namespace: String,
    service_account: String,
    cluster_roles: Vec<ClusterRole>,
    cluster_role_bindings: Vec<ClusterRoleBinding>,
    roles: Vec<Role>,
    role_bindings: Vec<RoleBinding>,
    deployment_args: Vec<String>,
}

fn kind_of(doc: &Value) -> &str {
    doc.get("kind").and_then(Value::as_str).unwrap_or_default()
}

impl Rendering {
    fn parse(what: &str, mode: Mode, release_namespace: &str, sa: &str, yaml: &str) -> Self {
        let docs: Vec<Value> = serde_yaml::Deserializer::from_str(yaml)
            .map(|d| Value::deserialize(d).expect("YAML"))
            .filter(|d| !d.is_null())
            .collect();
        fn all<T: serde::de::DeserializeOwned>(docs: &[Value], kind: &str) -> Vec<T> {
            docs.iter()
                .filter(|d| kind_of(d) == kind)
                .map(|d| serde_yaml::from_value(d.clone()).expect(kind))
                .collect()
        }
        let deployment_args = docs
            .iter()
            .filter(|d| kind_of(d) == "Deployment")
            .flat_map(|d| {
                let args = &d["spec"]["template"]["spec"]["containers"][0]["args"];
                args.as_sequence().cloned().unwrap_or_default()
            })
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        Rendering {
            what: what.to_owned(),
            mode,
            release_namespace: release_namespace.to_owned(),
            service_account: sa.to_owned(),
            cluster_roles: all(&docs, "ClusterRole"),
            cluster_role_bindings: all(&docs, "ClusterRoleBinding"),
            roles: all(&docs, "Role"),
            role_bindings: all(&docs, "RoleBinding"),
            deployment_args,
        }
    }

    fn rules(&self) -> Vec<(String, Scope, &PolicyRule)> {
        let cluster = self.cluster_roles.iter().flat_map(|r| {
            let name = format!("ClusterRole {}", r.metadata.name.as_deref().unwrap_or("?"));
            r.rules
                .iter()
                .flatten()
                .map(move |rule| (name.clone(), Scope::Cluster, rule))
        });
        let namespaced = self.roles.iter().flat_map(|r| {
            let ns = r.metadata.namespace.clone().unwrap_or_default();
            let name = format!("Role {ns}/{}", r.metadata.name.as_deref().unwrap_or("?"));
            r.rules
                .iter()
                .flatten()
                .map(move |rule| (name.clone(), Scope::Namespace(ns.clone()), rule))
        });
        cluster.chain(namespaced).collect()
    }

    /// Every verb on every resource of every rule, one grant each.
    fn grants(&self) -> Vec<Grant> {
        let mut out = Vec::new();
        for (role, scope, rule) in self.rules() {
            for group in rule.api_groups.iter().flatten() {
                for resource in rule.resources.iter().flatten() {
                    for verb in &rule.verbs {
                        out.push(Grant {
                            role: role.clone(),
                            scope: scope.clone(),
                            group: group.clone(),
                            resource: resource.clone(),
                            verb: verb.clone(),
                            names: rule.resource_names.clone().unwrap_or_default(),
                        });
                    }
                }
            }
        }
        out
    }
}

fn is_write(verb: &str) -> bool {
    !READS.contains(&verb)
}

/// What reloader does to a workload: watch and patch it, or, for a kind re-created at a
/// reload (Jobs, `--reload-jobs`), watch, delete and create it.
fn workload_verbs(g: &Grant) -> &'static [&'static str] {
    let recreates = KINDS
        .iter()
        .any(|k| k.recreates && k.group == g.group && k.plural == g.resource);
    if recreates {
        &["get", "list", "watch", "delete", "create"]
    } else {
        &WORKLOAD_VERBS
    }
}

fn is_workload(group: &str, resource: &str) -> bool {
    KINDS
        .iter()
        .any(|k| k.group == group && k.plural == resource)
}

/// Whether `g` is on the allow-list, where it is.
fn allowed(g: &Grant, release_namespace: &str) -> bool {
    if is_workload(&g.group, &g.resource) && workload_verbs(g).contains(&g.verb.as_str()) {
        return true;
    }
    ALLOWED.iter().any(|(group, resource, verbs, at, _)| {
        *group == g.group
            && *resource == g.resource
            && verbs.contains(&g.verb.as_str())
            && match at {
                Where::Acting => true,
                Where::OwnNamespace => g.scope == Scope::Namespace(release_namespace.to_owned()),
            }
    })
}

/// The writes allowed wherever reloader acts (so cluster-wide too): rolling a workload,
/// a reloaded CronJob's run-now Job, Events, its own ReloaderConfig status.
fn acting_write(g: &Grant) -> bool {
    (is_workload(&g.group, &g.resource)
        && is_write(&g.verb)
        && workload_verbs(g).contains(&g.verb.as_str()))
        || (g.group == "batch" && g.resource == "jobs" && g.verb == "create")
        || ((g.group.is_empty() || g.group == "events.k8s.io")
            && g.resource == "events"
            && ["create", "patch"].contains(&g.verb.as_str()))
        || (g.group == "reloader.stakater.com"
            && g.resource == "reloaderconfigs/status"
            && ["patch", "update"].contains(&g.verb.as_str()))
}

/// The writes allowed only in reloader's own namespace: its Lease, its hash key Secret and
/// the meta-info ConfigMap.
fn own_namespace_write(g: &Grant) -> bool {
    (g.group == "coordination.k8s.io"
        && g.resource == "leases"
        && ["create", "update", "patch"].contains(&g.verb.as_str()))
        || (g.group.is_empty() && g.resource == "secrets" && g.verb == "create")
        || (g.group.is_empty()
            && g.resource == "configmaps"
            && ["create", "update"].contains(&g.verb.as_str()))
}

/// A named rule: the violations it finds in a rendering.
struct Rule {
    name: &'static str,
    check: fn(&Rendering) -> Vec<String>,
}

const RULES: &[Rule] = &[
    Rule {
        name: "no wildcard verb, resource or API group",
        check: |r| {
            let mut out = Vec::new();
            for (role, _, rule) in r.rules() {
                let fields = [
                    ("apiGroups", rule.api_groups.clone().unwrap_or_default()),
                    ("resources", rule.resources.clone().unwrap_or_default()),
                    ("verbs", rule.verbs.clone()),
                    (
                        "resourceNames",
                        rule.resource_names.clone().unwrap_or_default(),
                    ),
                ];
                for (field, values) in fields {
                    if values.iter().any(|v| v.contains('*')) {
                        out.push(format!("{role}: {field} {values:?}"));
                    }
                }
                if rule
                    .non_resource_urls
                    .as_ref()
                    .is_some_and(|u| !u.is_empty())
                {
                    out.push(format!(
                        "{role}: nonResourceURLs {:?}",
                        rule.non_resource_urls
                    ));
                }
            }
            out
        },
    },
    Rule {
        name: "Secrets and ConfigMaps are never listed or watched",
        check: |r| {
            r.grants()
                .into_iter()
                .filter(|g| {
                    g.group.is_empty() && ["secrets", "configmaps"].contains(&g.resource.as_str())
                })
                .filter(|g| ["list", "watch"].contains(&g.verb.as_str()))
                .map(|g| g.to_string())
                .collect()
        },
    },
    Rule {
        name: "cluster-wide writes only roll workloads, record Events and ReloaderConfig status",
        check: |r| {
            r.grants()
                .into_iter()
                .filter(|g| g.scope == Scope::Cluster && is_write(&g.verb) && !acting_write(g))
                .map(|g| g.to_string())
                .collect()
        },
    },
    Rule {
        name: "namespaced writes: the same, plus the Lease, the hash key Secret and the meta-info ConfigMap in its own namespace",
        check: |r| {
            let own = Scope::Namespace(r.release_namespace.clone());
            r.grants()
                .into_iter()
                .filter(|g| matches!(g.scope, Scope::Namespace(_)) && is_write(&g.verb))
                .filter(|g| !(acting_write(g) || (g.scope == own && own_namespace_write(g))))
                .map(|g| g.to_string())
                .collect()
        },
    },
    Rule {
        name: "every grant is one reloader's code calls for (the allow-list)",
        check: |r| {
            r.grants()
                .into_iter()
                .filter(|g| !allowed(g, &r.release_namespace))
                .map(|g| g.to_string())
                .collect()
        },
    },
    Rule {
        name: "bindings bind only reloader's ServiceAccount, to a role rendered with them",
        check: |r| {
            let mut out = Vec::new();
            let subjects_ok = |subjects: &Option<Vec<k8s_openapi::api::rbac::v1::Subject>>| {
                subjects.as_ref().is_some_and(|s| {
                    s.len() == 1
                        && s[0].kind == "ServiceAccount"
                        && s[0].name == r.service_account
                        && s[0].namespace.as_deref() == Some(r.release_namespace.as_str())
                })
            };
            for b in &r.cluster_role_bindings {
                let name = b.metadata.name.clone().unwrap_or_default();
                if !subjects_ok(&b.subjects) {
                    out.push(format!(
                        "ClusterRoleBinding {name}: subjects {:?}",
                        b.subjects
                    ));
                }
                let found = r
                    .cluster_roles
                    .iter()
                    .any(|c| c.metadata.name.as_deref() == Some(b.role_ref.name.as_str()));
                if b.role_ref.kind != "ClusterRole" || !found {
                    out.push(format!(
                        "ClusterRoleBinding {name}: roleRef {:?}",
                        b.role_ref
                    ));
                }
            }
            for b in &r.role_bindings {
                let ns = b.metadata.namespace.clone().unwrap_or_default();
                let name = format!("{ns}/{}", b.metadata.name.clone().unwrap_or_default());
                if !subjects_ok(&b.subjects) {
                    out.push(format!("RoleBinding {name}: subjects {:?}", b.subjects));
                }
                let found = r.roles.iter().any(|role| {
                    role.metadata.name.as_deref() == Some(b.role_ref.name.as_str())
                        && role.metadata.namespace.as_deref() == Some(ns.as_str())
                });
                if b.role_ref.kind != "Role" || !found {
                    out.push(format!("RoleBinding {name}: roleRef {:?}", b.role_ref));
                }
            }
            out
        },
    },
    Rule {
        name: "the namespaced mode has no ClusterRole, a Role where it acts, and --namespaces to match",
        check: |r| {
            let Mode::Namespaced(expected) = &r.mode else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for c in &r.cluster_roles {
                out.push(format!("ClusterRole {:?}", c.metadata.name));
            }
            for b in &r.cluster_role_bindings {
                out.push(format!("ClusterRoleBinding {:?}", b.metadata.name));
            }
            // Where it may watch Deployments, it acts.
            let acting: BTreeSet<String> = r
                .grants()
                .into_iter()
                .filter(|g| g.group == "apps" && g.resource == "deployments" && g.verb == "watch")
                .filter_map(|g| match g.scope {
                    Scope::Namespace(ns) => Some(ns),
                    Scope::Cluster => None,
                })
                .collect();
            let expected_set: BTreeSet<String> = expected.iter().cloned().collect();
            if acting != expected_set {
                out.push(format!(
                    "Roles act in {acting:?}, expected {expected_set:?}"
                ));
            }
            let flag = |name: &str| -> BTreeSet<String> {
                r.deployment_args
                    .iter()
                    .filter_map(|a| a.strip_prefix(&format!("{name}=")))
                    .flat_map(|v| v.split(','))
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            let flagged: BTreeSet<String> = flag("--namespaces")
                .difference(&flag("--namespaces-to-ignore"))
                .cloned()
                .collect();
            if flagged != expected_set {
                out.push(format!(
                    "the Deployment acts in {flagged:?} (--namespaces less --namespaces-to-ignore), its Roles in {expected_set:?}"
                ));
            }
            if r.deployment_args
                .iter()
                .any(|a| a.starts_with("--namespace-selector"))
            {
                out.push("--namespace-selector needs a ClusterRole".to_owned());
            }
            // Outside the namespaces it acts in, a Secret is read by name only.
            for g in r.grants() {
                if let Scope::Namespace(ns) = &g.scope
                    && !expected_set.contains(ns)
                    && g.group.is_empty()
                    && g.resource == "secrets"
                    && g.verb == "get"
                    && g.names.is_empty()
                {
                    out.push(format!(
                        "{g}: every Secret of a namespace it does not act in"
                    ));
                }
            }
            out
        },
    },
];

/// Every rule's violations in `r`, as `rule: violation` lines.
fn violations(r: &Rendering) -> Vec<String> {
    RULES
        .iter()
        .flat_map(|rule| {
            (rule.check)(r)
                .into_iter()
                .map(move |v| format!("{}: {v}", rule.name))
        })
        .collect()
}

const RELEASE: &str = "rel";
const CHART_SA: &str = "rel-reloader";
const CHART_NAMESPACE: &str = "reloader";

fn helm_template(values: &[&str]) -> std::process::Output {
    let chart = repo_root().join("helm/reloader");
    Command::new(helm_binary())
        .args(["template", RELEASE, chart.to_str().unwrap()])
        .args(["--namespace", CHART_NAMESPACE])
        .args(values)
        .output()
        .expect("helm runs")
}

fn chart(what: &str, mode: Mode, values: &[&str]) -> Rendering {
    let out = helm_template(values);
    assert!(
        out.status.success(),
        "helm template {values:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Rendering::parse(
        what,
        mode,
        CHART_NAMESPACE,
        CHART_SA,
        &String::from_utf8_lossy(&out.stdout),
    )
}

fn namespaced(namespaces: &[&str]) -> Mode {
    Mode::Namespaced(namespaces.iter().map(|n| n.to_string()).collect())
}

/// The chart under each value set that changes its RBAC, and the plain manifests.
fn renderings() -> Vec<Rendering> {
    let manifests = std::fs::read_to_string(repo_root().join("webhook-config/rbac.yaml"))
        .expect("webhook-config/rbac.yaml");
    vec![
        chart("the chart's defaults", Mode::ClusterWide, &[]),
        chart(
            "the chart without a hash key",
            Mode::ClusterWide,
            &["--set", "reloader.hashKeySecret="],
        ),
        chart(
            "the chart with reloader.namespaces and the ClusterRole",
            Mode::ClusterWide,
            &["--set", "reloader.namespaces={team-a,team-b}"],
        ),
        chart(
            "the chart with reloader.reloadJobs",
            Mode::ClusterWide,
            &["--set", "reloader.reloadJobs=true"],
        ),
        chart(
            "the chart with reloader.enableCSIIntegration",
            Mode::ClusterWide,
            &["--set", "reloader.enableCSIIntegration=true"],
        ),
        chart(
            "the chart's namespaced mode, in the release namespace",
            namespaced(&[CHART_NAMESPACE]),
            &["--set", "reloader.watchGlobally=false"],
        ),
        chart(
            "the chart's namespaced mode, in listed namespaces",
            namespaced(&["team-a", "team-b"]),
            &[
                "--set",
                "reloader.watchGlobally=false",
                "--set",
                "reloader.namespaces={team-a,team-b,team-c}",
                "--set",
                "reloader.ignoreNamespaces={team-c}",
            ],
        ),
        chart(
            "the chart's namespaced mode without a hash key",
            namespaced(&["team-a"]),
            &[
                "--set",
                "reloader.watchGlobally=false",
                "--set",
                "reloader.namespaces={team-a}",
                "--set",
                "reloader.hashKeySecret=",
            ],
        ),
        Rendering::parse(
            "webhook-config/rbac.yaml",
            Mode::ClusterWide,
            "reloader",
            "reloader",
            &manifests,
        ),
    ]
}

#[test]
fn every_rendered_role_keeps_to_least_privilege() {
    let mut failures = Vec::new();
    for r in renderings() {
        assert!(
            !r.grants().is_empty(),
            "{}: no RBAC rendered at all",
            r.what
        );
        for v in violations(&r) {
            failures.push(format!("{}: {v}", r.what));
        }
    }
    assert!(
        failures.is_empty(),
        "least privilege broken:\n  {}",
        failures.join("\n  ")
    );
}

#[test]
fn the_namespaced_mode_refuses_a_namespace_selector() {
    let out = helm_template(&[
        "--set",
        "reloader.watchGlobally=false",
        "--set",
        "reloader.namespaceSelector=team=a",
    ]);
    assert!(!out.status.success(), "rendered");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("reloader.namespaceSelector needs to list and watch namespaces cluster-wide"),
        "{err}"
    );
}

#[test]
fn the_namespaced_mode_sends_only_its_namespaces_to_the_webhooks() {
    let out = helm_template(&[
        "--set",
        "reloader.watchGlobally=false",
        "--set",
        "reloader.namespaces={team-a,team-b}",
        "-s",
        "templates/webhooks.yaml",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8_lossy(&out.stdout);
    let mut webhooks = 0;
    for d in serde_yaml::Deserializer::from_str(&yaml) {
        let doc = Value::deserialize(d).expect("YAML");
        for w in doc["webhooks"].as_sequence().into_iter().flatten() {
            webhooks += 1;
            let scoped = w["namespaceSelector"]["matchExpressions"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|e| {
                    e["key"] == "kubernetes.io/metadata.name"
                        && e["operator"] == "In"
                        && e["values"] == serde_yaml::to_value(["team-a", "team-b"]).unwrap()
                });
            assert!(
                scoped,
                "webhook {:?} is called for other namespaces",
                w["name"]
            );
        }
    }
    assert_eq!(webhooks, 3);
}

/// A rule of a role the rendering did not have.
fn bad_rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

/// The rendering with `rule` added to its first ClusterRole (`None`) or to its first Role
/// in `namespace`.
fn with_rule(mut r: Rendering, namespace: Option<&str>, rule: PolicyRule) -> Rendering {
    let rules = match namespace {
        None => r.cluster_roles[0].rules.get_or_insert_with(Vec::new),
        Some(ns) => r
            .roles
            .iter_mut()
            .find(|role| role.metadata.namespace.as_deref() == Some(ns))
            .expect("a Role there")
            .rules
            .get_or_insert_with(Vec::new),
    };
    rules.push(rule);
    r
}

/// Each rule fails on a rendering made wrong in the way it forbids, and passes the
/// rendering before that change: no rule is a check that cannot fail.
#[test]
fn each_rule_fails_on_what_it_forbids() {
    let global = || chart("defaults", Mode::ClusterWide, &[]);
    let scoped = || {
        chart(
            "namespaced",
            namespaced(&["team-a"]),
            &[
                "--set",
                "reloader.watchGlobally=false",
                "--set",
                "reloader.namespaces={team-a}",
            ],
        )
    };
    let cases: Vec<(&str, &str, Rendering)> = vec![
        (
            "no wildcard verb, resource or API group",
            "verbs [*] on deployments",
            with_rule(
                global(),
                None,
                bad_rule(&["apps"], &["deployments"], &["*"]),
            ),
        ),
        (
            "no wildcard verb, resource or API group",
            "every resource of a group",
            with_rule(global(), None, bad_rule(&["apps"], &["*"], &["get"])),
        ),
        (
            "Secrets and ConfigMaps are never listed or watched",
            "list secrets",
            with_rule(global(), None, bad_rule(&[""], &["secrets"], &["list"])),
        ),
        (
            "Secrets and ConfigMaps are never listed or watched",
            "watch secrets in a namespace",
            with_rule(
                scoped(),
                Some("team-a"),
                bad_rule(&[""], &["secrets"], &["watch"]),
            ),
        ),
        (
            "cluster-wide writes only roll workloads, record Events and ReloaderConfig status",
            "update secrets cluster-wide",
            with_rule(global(), None, bad_rule(&[""], &["secrets"], &["update"])),
        ),
        (
            "cluster-wide writes only roll workloads, record Events and ReloaderConfig status",
            "leases cluster-wide",
            with_rule(
                global(),
                None,
                bad_rule(&["coordination.k8s.io"], &["leases"], &["update"]),
            ),
        ),
        (
            "cluster-wide writes only roll workloads, record Events and ReloaderConfig status",
            "delete deployments",
            with_rule(
                global(),
                None,
                bad_rule(&["apps"], &["deployments"], &["delete"]),
            ),
        ),
        (
            "namespaced writes: the same, plus the Lease, the hash key Secret and the meta-info ConfigMap in its own namespace",
            "create secrets where it acts",
            with_rule(
                scoped(),
                Some("team-a"),
                bad_rule(&[""], &["secrets"], &["create"]),
            ),
        ),
        (
            "every grant is one reloader's code calls for (the allow-list)",
            "get pods",
            with_rule(global(), None, bad_rule(&[""], &["pods"], &["get"])),
        ),
        (
            "bindings bind only reloader's ServiceAccount, to a role rendered with them",
            "a group bound to the ClusterRole",
            {
                let mut r = global();
                let mut b = r.cluster_role_bindings[0].clone();
                b.subjects = Some(vec![k8s_openapi::api::rbac::v1::Subject {
                    kind: "Group".into(),
                    name: "system:authenticated".into(),
                    api_group: Some("rbac.authorization.k8s.io".into()),
                    namespace: None,
                }]);
                r.cluster_role_bindings.push(b);
                r
            },
        ),
        (
            "the namespaced mode has no ClusterRole, a Role where it acts, and --namespaces to match",
            "a ClusterRole in the namespaced mode",
            {
                let mut r = scoped();
                r.cluster_roles = global().cluster_roles;
                r
            },
        ),
        (
            "the namespaced mode has no ClusterRole, a Role where it acts, and --namespaces to match",
            "the engine told to act where no Role lets it",
            {
                let mut r = scoped();
                r.deployment_args.push("--namespaces=team-a,team-z".into());
                r
            },
        ),
        (
            "the namespaced mode has no ClusterRole, a Role where it acts, and --namespaces to match",
            "every Secret of its own namespace when it does not act there",
            with_rule(
                scoped(),
                Some(CHART_NAMESPACE),
                bad_rule(&[""], &["secrets"], &["get"]),
            ),
        ),
    ];
    assert!(violations(&global()).is_empty() && violations(&scoped()).is_empty());
    let mut covered = BTreeSet::new();
    for (rule_name, change, rendering) in cases {
        let rule = RULES
            .iter()
            .find(|r| r.name == rule_name)
            .unwrap_or_else(|| panic!("no rule {rule_name:?}"));
        let found = (rule.check)(&rendering);
        assert!(!found.is_empty(), "{rule_name:?} misses: {change}");
        covered.insert(rule_name);
    }
    let names: BTreeSet<&str> = RULES.iter().map(|r| r.name).collect();
    assert_eq!(covered, names, "every rule is shown to fail");
}

const NAMESPACE: &str = "platform";
const FULLNAME: &str = "rel-reloader";

/// `kubectl auth can-i ARGS --as USER`: "yes" or "no".
fn can(cluster: &Cluster, user: &str, args: &[&str]) -> String {
    let out = cluster.kubectl_raw(&[&["auth", "can-i"], args, &["--as", user]].concat(), None);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_install_in_the_namespaced_mode_reloads_with_roles_only_and_lists_no_secret() {
    let mut cluster = Cluster::start_real().await;
    cluster.create_serving_secret(NAMESPACE);
    // The namespaces it acts in exist first: their Roles go there. `default` is where the
    // harness probes whether the webhooks are called yet; `elsewhere` is out of scope.
    cluster.apply(&namespace("shop"));
    let values = format!(
        r#"replicas: 0
certManager: {{enabled: false}}
tls:
  secretName: reloader-tls
  caBundle: "{ca}"
webhook:
  url: "https://127.0.0.1:{port}"
reloader:
  watchGlobally: false
  namespaces: [shop, default]
"#,
        ca = cluster.ca_bundle(),
        port = cluster.webhook_port,
    );
    let values_file = cluster.dir.path().join("values.yaml");
    std::fs::write(&values_file, values).expect("values file");
    let chart = repo_root().join("helm/reloader");
    let out = cluster.helm(&[
        "install",
        RELEASE,
        chart.to_str().unwrap(),
        "--namespace",
        NAMESPACE,
        "--values",
        values_file.to_str().unwrap(),
    ]);
    assert!(out.contains("STATUS: deployed"), "{out}");

    let user = service_account_user(NAMESPACE, FULLNAME);
    // No ClusterRole, and no ClusterRoleBinding names the ServiceAccount.
    let cluster_role = cluster.kubectl_raw(&["get", "clusterrole", FULLNAME], None);
    assert!(!cluster_role.status.success(), "a ClusterRole {FULLNAME}");
    let bindings = cluster.kubectl(&["get", "clusterrolebindings", "-o", "json"]);
    let bindings: serde_json::Value = serde_json::from_str(&bindings).expect("JSON");
    for b in bindings["items"].as_array().expect("items") {
        for s in b["subjects"].as_array().into_iter().flatten() {
            assert!(
                !(s["kind"] == "ServiceAccount" && s["name"] == FULLNAME),
                "ClusterRoleBinding {} binds the ServiceAccount",
                b["metadata"]["name"]
            );
        }
    }
    for ns in ["shop", "default"] {
        for kind in ["role", "rolebinding"] {
            cluster.kubectl(&["get", kind, FULLNAME, "-n", ns]);
        }
    }

    // A workload elsewhere, following its own Secret: not reloader's to roll.
    cluster.apply(&documents(&[
        namespace("elsewhere"),
        secret("elsewhere", "app-creds", &[("password", "one")]),
        deployment("elsewhere", "web")
            .annotation(AUTO, "true")
            .env_secret_key("PASSWORD", "app-creds", "password")
            .yaml(),
    ]));
    cluster.apply(&SHOP);
    let args = cluster.deployment_args(NAMESPACE, FULLNAME);
    assert!(
        args.iter().any(|a| a == "--namespaces=shop,default"),
        "{args:?}"
    );
    let kubeconfig = cluster.service_account_kubeconfig(NAMESPACE, FULLNAME);
    let reloader = cluster.start_installed_reloader(NAMESPACE, FULLNAME, &kubeconfig);
    assert!(
        reloader.log_text().contains("hash key loaded"),
        "the hash key Secret, read by name: {}",
        reloader.log_text()
    );

    // No 403 for any request, so no cluster-wide list or watch was even tried.
    a_secret_change_rolls_the_deployment(&cluster, &reloader, NAMESPACE, FULLNAME).await;
    the_local_reloader_holds_the_lease(&cluster, NAMESPACE).await;
    the_service_account_has_exactly_the_intended_permissions(&cluster, NAMESPACE, FULLNAME);

    cluster.apply(&secret("elsewhere", "app-creds", &[("password", "two")]));
    cluster
        .stays_at("elsewhere", "web", 1, std::time::Duration::from_secs(2))
        .await;

    let answers: Vec<(Vec<&str>, &str)> = vec![
        (vec!["list", "secrets", "--all-namespaces"], "no"),
        (vec!["watch", "secrets", "--all-namespaces"], "no"),
        (vec!["list", "secrets", "-n", "shop"], "no"),
        (vec!["list", "secrets", "-n", NAMESPACE], "no"),
        (vec!["get", "secrets", "-n", "elsewhere"], "no"),
        (vec!["get", "secrets", "-n", NAMESPACE], "no"),
        (
            vec!["get", "secret/reloader-hash-key", "-n", NAMESPACE],
            "yes",
        ),
        (vec!["create", "secrets", "-n", NAMESPACE], "yes"),
        (vec!["list", "deployments.apps", "--all-namespaces"], "no"),
        (vec!["patch", "deployments.apps", "-n", "elsewhere"], "no"),
        (vec!["list", "namespaces"], "no"),
        (
            vec![
                "watch",
                "reloaderconfigs.reloader.stakater.com",
                "--all-namespaces",
            ],
            "no",
        ),
        (
            vec!["create", "events.events.k8s.io", "-n", "elsewhere"],
            "no",
        ),
        (vec!["create", "events.events.k8s.io", "-n", "shop"], "yes"),
    ];
    let got: Vec<(Vec<&str>, String)> = answers
        .iter()
        .map(|(args, _)| (args.clone(), can(&cluster, &user, args)))
        .collect();
    let want: Vec<(Vec<&str>, String)> = answers
        .iter()
        .map(|(args, answer)| (args.clone(), answer.to_string()))
        .collect();
    assert_eq!(got, want, "kubectl auth can-i --as={user}");
}
