use super::*;
use proptest::prelude::*;
use serde_json::json;

fn spec(v: serde_json::Value) -> PodSpec {
    serde_json::from_value(v).expect("valid pod spec")
}

/// The pod spec's refs; every test also checks that the index's [`RefSummary`] of them
/// answers as they do, for each source they name and for one they do not.
fn refs(v: serde_json::Value) -> PodRefs {
    let refs = PodRefs::from_pod_spec(&spec(v));
    let summary = RefSummary::of(&refs);
    let names: Vec<SourceKey> = refs
        .sources
        .keys()
        .cloned()
        .chain([SourceKey::new(SourceKind::Secret, "absent")])
        .collect();
    for key in &names {
        assert_eq!(
            summary.references(key.kind, &key.name),
            refs.references(key.kind, &key.name),
            "{key:?}"
        );
        for mode in [FollowMode::Auto, FollowMode::Explicit] {
            assert_eq!(
                summary.container_for(key.kind, &key.name, mode),
                refs.container_for(key.kind, &key.name, mode),
                "{key:?} {mode:?}"
            );
        }
    }
    assert!(summary.referenced().eq(refs.referenced()));
    refs
}

fn main(index: usize, name: &str) -> ContainerId {
    ContainerId {
        group: ContainerGroup::Main,
        index,
        name: name.into(),
    }
}

const CM: SourceKind = SourceKind::ConfigMap;
const SECRET: SourceKind = SourceKind::Secret;
const SPC: SourceKind = SourceKind::SecretProviderClass;

#[test]
fn env_value_from_secret_and_configmap_key_refs_are_found() {
    let r = refs(json!({"containers": [{"name": "app", "env": [
        {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "k"}}},
        {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "c1", "key": "k", "optional": true}}},
        {"name": "C", "value": "plain"}
    ]}]}));
    assert_eq!(
        r.usage(SECRET, "s1").unwrap().env_from,
        vec![main(0, "app")]
    );
    assert_eq!(r.usage(CM, "c1").unwrap().env_from, vec![main(0, "app")]);
    assert_eq!(r.sources.len(), 2);
}

#[test]
fn env_from_secret_and_configmap_refs_are_found() {
    let r = refs(json!({"containers": [{"name": "app", "envFrom": [
        {"secretRef": {"name": "s1"}}, {"configMapRef": {"name": "c1"}, "prefix": "X_"}
    ]}]}));
    assert!(r.references(SECRET, "s1"));
    assert!(r.references(CM, "c1"));
}

#[test]
fn secret_configmap_and_projected_volumes_are_found_with_their_mounting_containers() {
    let r = refs(json!({
        "containers": [
            {"name": "a"},
            {"name": "b", "volumeMounts": [{"name": "v-secret", "mountPath": "/s"}, {"name": "v-proj", "mountPath": "/p"}]},
            {"name": "c", "volumeMounts": [{"name": "v-cm", "mountPath": "/c"}]}
        ],
        "volumes": [
            {"name": "v-secret", "secret": {"secretName": "s1"}},
            {"name": "v-cm", "configMap": {"name": "c1"}},
            {"name": "v-proj", "projected": {"sources": [
                {"secret": {"name": "s2"}}, {"configMap": {"name": "c2"}}, {"downwardAPI": {}}
            ]}},
            {"name": "v-csi", "csi": {"driver": "secrets-store.csi.k8s.io"}},
            {"name": "v-spc", "csi": {"driver": "secrets-store.csi.k8s.io",
                "volumeAttributes": {"secretProviderClass": "vault-db"}}}
        ]
    }));
    assert_eq!(
        r.usage(SECRET, "s1").unwrap().mounted_by,
        vec![main(1, "b")]
    );
    assert_eq!(
        r.usage(SECRET, "s2").unwrap().mounted_by,
        vec![main(1, "b")]
    );
    assert_eq!(r.usage(CM, "c1").unwrap().mounted_by, vec![main(2, "c")]);
    assert_eq!(
        r.usage(CM, "c2").unwrap().volumes,
        vec!["v-proj".to_string()]
    );
    assert_eq!(
        r.usage(SPC, "vault-db").unwrap().volumes,
        vec!["v-spc".to_string()],
        "a CSI volume names its SecretProviderClass"
    );
    assert_eq!(
        r.sources.len(),
        5,
        "a CSI volume without a class names nothing"
    );
}

#[test]
fn a_volume_no_container_mounts_is_listed_but_not_referenced() {
    let r = refs(json!({"containers": [{"name": "a"}],
        "volumes": [{"name": "v", "configMap": {"name": "c1"}}]}));
    let u = r.usage(CM, "c1").unwrap();
    assert_eq!(u.volumes, vec!["v".to_string()]);
    assert!(!u.is_referenced());
    assert_eq!(r.referenced().count(), 0);
}

#[test]
fn init_and_ephemeral_containers_count_as_references() {
    let r = refs(json!({
        "containers": [{"name": "app"}],
        "initContainers": [{"name": "init", "envFrom": [{"secretRef": {"name": "s-init"}}]}],
        "ephemeralContainers": [{"name": "debug", "env": [
            {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c-eph", "key": "k"}}}]}]
    }));
    let init = r.usage(SECRET, "s-init").unwrap();
    assert!(init.is_referenced() && init.only_init_or_ephemeral());
    assert_eq!(init.env_from[0].group, ContainerGroup::Init);
    let eph = r.usage(CM, "c-eph").unwrap();
    assert!(eph.only_init_or_ephemeral());
    assert_eq!(eph.env_from[0].group, ContainerGroup::Ephemeral);
}

#[test]
fn a_secret_and_a_configmap_with_the_same_name_are_distinct() {
    let r =
        refs(json!({"containers": [{"name": "a", "envFrom": [{"secretRef": {"name": "same"}}]}]}));
    assert!(r.references(SECRET, "same"));
    assert!(!r.references(CM, "same"));
}

#[test]
fn container_choice_prefers_the_first_container_mounting_a_volume() {
    let r = refs(json!({
        "containers": [
            {"name": "env-user", "envFrom": [{"configMapRef": {"name": "c"}}]},
            {"name": "mounter", "volumeMounts": [{"name": "v", "mountPath": "/c"}]}
        ],
        "volumes": [{"name": "v", "configMap": {"name": "c"}}]
    }));
    assert_eq!(r.container_for(CM, "c", FollowMode::Auto), Some(1));
    assert_eq!(r.container_for(CM, "c", FollowMode::Explicit), Some(1));
}

#[test]
fn container_choice_finds_a_mount_of_a_second_volume_of_the_same_source() {
    let r = refs(json!({
        "containers": [{"name": "a"}, {"name": "b", "volumeMounts": [{"name": "second", "mountPath": "/c"}]}],
        "volumes": [{"name": "first", "secret": {"secretName": "s"}},
                    {"name": "second", "projected": {"sources": [{"secret": {"name": "s"}}]}}]
    }));
    assert_eq!(r.container_for(SECRET, "s", FollowMode::Auto), Some(1));
}

#[test]
fn container_choice_falls_back_to_the_first_env_reference() {
    let r = refs(json!({"containers": [
        {"name": "a"},
        {"name": "b", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
        {"name": "c", "envFrom": [{"secretRef": {"name": "s"}}]}
    ]}));
    assert_eq!(r.container_for(SECRET, "s", FollowMode::Auto), Some(1));
}

#[test]
fn container_choice_is_the_first_container_when_only_an_init_container_uses_it() {
    let r = refs(json!({
        "containers": [{"name": "a"}, {"name": "b"}],
        "initContainers": [{"name": "i", "volumeMounts": [{"name": "v", "mountPath": "/x"}]}],
        "volumes": [{"name": "v", "secret": {"secretName": "s"}}]
    }));
    assert_eq!(r.container_for(SECRET, "s", FollowMode::Auto), Some(0));
}

#[test]
fn container_choice_for_an_unreferenced_source_depends_on_the_follow_mode() {
    let r = refs(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
    assert_eq!(r.container_for(CM, "nope", FollowMode::Explicit), Some(0));
    assert_eq!(r.container_for(CM, "nope", FollowMode::Auto), None);
}

#[test]
fn container_choice_is_none_for_a_pod_without_containers() {
    let r = refs(json!({"containers": [],
        "initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "s"}}]}]}));
    assert_eq!(r.container_for(SECRET, "s", FollowMode::Explicit), None);
    assert_eq!(r.container_for(SECRET, "other", FollowMode::Explicit), None);
}

#[test]
fn an_empty_pod_spec_has_no_references() {
    let r = PodRefs::from_pod_spec(&PodSpec::default());
    assert!(r.sources.is_empty());
    assert_eq!(r.main_containers, 0);
}

/// One generated reference: (kind, name, how: 0 env, 1 envFrom, 2 volume, 3 projected,
/// group: 0 main, 1 init, 2 ephemeral).
fn arb_ref() -> impl Strategy<Value = (bool, String, u8, u8)> {
    (any::<bool>(), "[a-z0-9.-]{1,12}", 0u8..4, 0u8..3)
}

fn build(refs: &[(bool, String, u8, u8)], extra_main: usize) -> PodSpec {
    let mut containers: Vec<serde_json::Value> = (0..=extra_main)
        .map(|i| json!({"name": format!("main-{i}")}))
        .collect();
    let mut init = Vec::new();
    let mut eph = Vec::new();
    let mut volumes = Vec::new();
    for (i, (secret, name, how, group)) in refs.iter().enumerate() {
        let vol = format!("vol-{i}");
        let mut c = json!({"name": format!("c-{i}")});
        match (*how, *secret) {
            (0, true) => {
                c["env"] = json!([{"name": "E", "valueFrom": {"secretKeyRef": {"name": name, "key": "k"}}}])
            }
            (0, false) => {
                c["env"] = json!([{"name": "E", "valueFrom": {"configMapKeyRef": {"name": name, "key": "k"}}}])
            }
            (1, true) => c["envFrom"] = json!([{"secretRef": {"name": name}}]),
            (1, false) => c["envFrom"] = json!([{"configMapRef": {"name": name}}]),
            (2, true) => volumes.push(json!({"name": vol, "secret": {"secretName": name}})),
            (2, false) => volumes.push(json!({"name": vol, "configMap": {"name": name}})),
            (_, true) => volumes
                .push(json!({"name": vol, "projected": {"sources": [{"secret": {"name": name}}]}})),
            (_, false) => volumes.push(
                json!({"name": vol, "projected": {"sources": [{"configMap": {"name": name}}]}}),
            ),
        }
        if *how >= 2 {
            c["volumeMounts"] = json!([{"name": vol, "mountPath": "/m"}]);
        }
        match group {
            0 => containers.push(c),
            1 => init.push(c),
            _ => eph.push(c),
        }
    }
    spec(json!({"containers": containers, "initContainers": init,
        "ephemeralContainers": eph, "volumes": volumes}))
}

proptest! {
    #[test]
    fn every_reference_put_in_is_found_and_gets_a_container(
        input in prop::collection::vec(arb_ref(), 0..12),
        extra_main in 0usize..3,
    ) {
        let r = PodRefs::from_pod_spec(&build(&input, extra_main));
        for (secret, name, _, _) in &input {
            let kind = if *secret { SECRET } else { CM };
            prop_assert!(r.references(kind, name), "{kind} {name} not found");
            let chosen = r.container_for(kind, name, FollowMode::Auto);
            prop_assert!(chosen.is_some_and(|i| i < r.main_containers));
        }
    }

    #[test]
    fn arbitrary_pod_spec_shapes_never_panic(
        names in prop::collection::vec(".{0,8}", 0..6),
        mounts in prop::collection::vec(".{0,8}", 0..6),
        no_containers in any::<bool>(),
    ) {
        let containers: Vec<_> = if no_containers { vec![] } else {
            vec![json!({"name": "a", "volumeMounts": mounts.iter()
                .map(|m| json!({"name": m, "mountPath": "/"})).collect::<Vec<_>>(),
                "envFrom": names.iter().map(|n| json!({"secretRef": {"name": n}})).collect::<Vec<_>>()})]
        };
        let volumes: Vec<_> = names.iter().zip(&mounts)
            .map(|(n, m)| json!({"name": m, "configMap": {"name": n}, "projected": {}}))
            .collect();
        let r = PodRefs::from_pod_spec(&spec(json!({"containers": containers, "volumes": volumes})));
        for n in &names {
            let _ = r.container_for(SECRET, n, FollowMode::Explicit);
            let _ = r.container_for(CM, n, FollowMode::Auto);
        }
    }
}
