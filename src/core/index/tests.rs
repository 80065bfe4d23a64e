use serde_json::json;

use super::*;
use crate::pod_template::input_from_json;
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
            config: Arc::new(id),
            target: Arc::new(deployment("ns", "web"))
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
fn inputs_are_built_from_every_kind() {
    let meta = json!({"name": "w", "namespace": "ns", "annotations": {"a": "1"}});
    let template = pod_template(json!({"reloader.stakater.com/auto": "true"}));
    let spec = json!({"selector": {}, "template": template});
    let cron_spec =
        json!({"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}});
    let mut index = FollowerIndex::default();
    for kind in WorkloadKind::ALL {
        let spec = if kind == WorkloadKind::CronJob {
            &cron_spec
        } else {
            &spec
        };
        let input = input_from_json(kind, &json!({"metadata": meta, "spec": spec})).unwrap();
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
    assert_eq!(
        kinds.len(),
        WorkloadKind::ALL.len(),
        "template annotations are read: {kinds:?}"
    );
}

#[test]
fn objects_without_name_namespace_or_spec_are_handled() {
    assert_eq!(
        input_from_json(WorkloadKind::Deployment, &json!({})),
        Err(IndexError::MissingName {
            kind: WorkloadKind::Deployment
        })
    );
    assert!(matches!(
        input_from_json(
            WorkloadKind::Deployment,
            &json!({"metadata": {"name": "w"}})
        ),
        Err(IndexError::MissingNamespace { .. })
    ));
    let no_spec = json!({"metadata": {"name": "w", "namespace": "ns"}});
    let input = input_from_json(WorkloadKind::CronJob, &no_spec).unwrap();
    assert!(input.refs.sources.is_empty());
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

    /// After any sequence of applies and deletes, the index reloads exactly the workloads
    /// that deciding over every live workload (brute force) reloads.
    fn agrees_with_brute_force(
        ops: Vec<Op>,
        auto_reload_all: bool,
        matched: bool,
    ) -> Result<(), TestCaseError> {
        let global = GlobalOptions {
            auto_reload_all,
            ..Default::default()
        };
        let keys = AnnotationKeys::default();
        let mut index = FollowerIndex::new(keys.clone(), global.clone());
        let mut live: BTreeMap<WorkloadRef, WorkloadInput> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Apply {
                    ns,
                    name,
                    annotations,
                    refs,
                } => {
                    let refs: Vec<_> = refs.iter().map(|(s, n)| (kind(*s), NAMES[*n])).collect();
                    let input =
                        workload(&format!("ns{ns}"), &format!("w{name}"), &annotations, &refs);
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
        let source_annotations = if matched {
            ann(&[("reloader.stakater.com/match", "true")])
        } else {
            Annotations::new()
        };
        for ns in ["ns0", "ns1"] {
            for secret in [true, false] {
                for name in NAMES {
                    let source = src(ns, kind(secret), name);
                    let mut expected: Vec<(WorkloadRef, Decision)> = live
                        .values()
                        .filter(|i| i.workload.namespace == ns)
                        .filter_map(|i| {
                            let policy = WorkloadPolicy::parse(
                                i.workload.kind,
                                Some(&i.annotations),
                                Some(&i.template_annotations),
                                &keys,
                            );
                            let facts = SourceFacts::from_annotations(
                                source.kind,
                                name,
                                Some(&source_annotations),
                                &keys,
                                i.refs.references(source.kind, name),
                            );
                            let d = decide(&policy, &facts, &global);
                            d.reloads().then(|| (i.workload.clone(), d))
                        })
                        .collect();
                    expected.sort_by(|x, y| x.0.cmp(&y.0));
                    let got: Vec<(WorkloadRef, Decision)> = index
                        .lookup(&source, Some(&source_annotations))
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
        Ok(())
    }

    proptest! {
        #[test]
        fn index_agrees_with_deciding_over_every_live_workload(
            ops in prop::collection::vec(op(), 1..25),
            auto_reload_all in any::<bool>(),
            matched in any::<bool>(),
        ) {
            agrees_with_brute_force(ops, auto_reload_all, matched)?;
        }
    }

    /// A case proptest once found: `secret…/auto` on a workload referencing a Secret.
    #[test]
    fn typed_auto_on_a_referenced_secret_agrees_with_brute_force() {
        let ops = vec![Op::Apply {
            ns: 0,
            name: 0,
            annotations: vec![("secret.reloader.stakater.com/auto", "true")],
            refs: vec![(true, 0)],
        }];
        agrees_with_brute_force(ops, false, false).unwrap();
    }
}

#[test]
fn secret_provider_classes_are_followed_only_with_csi_integration() {
    const SPC: SourceKind = SourceKind::SecretProviderClass;
    let class = src("shop", SPC, "vault-db");
    let workloads = [
        workload(
            "shop",
            "auto",
            &[("reloader.stakater.com/auto", "true")],
            &[(SPC, "vault-db")],
        ),
        workload(
            "shop",
            "typed",
            &[("secretproviderclass.reloader.stakater.com/auto", "true")],
            &[(SPC, "vault-db")],
        ),
        workload(
            "shop",
            "named",
            &[(
                "secretproviderclass.reloader.stakater.com/reload",
                "vault-.*",
            )],
            &[],
        ),
        workload(
            "shop",
            "excluded",
            &[
                ("reloader.stakater.com/auto", "true"),
                (
                    "secretproviderclasses.exclude.reloader.stakater.com/reload",
                    "vault-db",
                ),
            ],
            &[(SPC, "vault-db")],
        ),
        workload(
            "shop",
            "secret-auto-only",
            &[("secret.reloader.stakater.com/auto", "true")],
            &[(SPC, "vault-db")],
        ),
    ];
    let cases = [
        ("without the flag nothing follows a class", false, vec![]),
        (
            "with it, auto, typed auto and the reload list do",
            true,
            vec![
                reload("auto", ReloadReason::Auto),
                reload("named", ReloadReason::Explicit),
                reload("typed", ReloadReason::Auto),
            ],
        ),
    ];
    for (name, csi, want) in cases {
        let global = GlobalOptions {
            csi,
            ..GlobalOptions::default()
        };
        let mut index = FollowerIndex::new(AnnotationKeys::default(), global);
        for w in workloads.clone() {
            index.apply_workload(w);
        }
        let mut got: Vec<(String, Decision)> = found(&index, &class)
            .into_iter()
            .filter(|(_, d)| d.reloads())
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got, want, "{name}");
        assert_eq!(
            index.sources().contains(&class),
            csi,
            "{name}: resync reads the class only when followed"
        );
    }
}
