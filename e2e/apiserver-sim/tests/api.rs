//! Storage semantics and verbs through kube-rs.

mod common;

use common::{api_error, create_namespace, start, status_code};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn configmap(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": labels}, "data": {"k": name}}),
    )
    .expect("configmap")
}

fn deployment(name: &str, image: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                {"name": "app", "image": image, "env": [{"name": "A", "value": "1"}]}
            ]}}
        }
    }))
    .expect("deployment")
}

#[tokio::test]
async fn create_sets_system_metadata_and_fills_namespace() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let first = api
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .expect("create");
    let second = api
        .create(&PostParams::default(), &configmap("b", json!({})))
        .await
        .expect("create");
    let meta = &first.metadata;
    assert_eq!(meta.namespace.as_deref(), Some("ns"));
    assert!(meta.uid.is_some() && meta.creation_timestamp.is_some());
    assert!(meta.generation.is_none(), "configmaps carry no generation");
    let rv = |m: &ConfigMap| {
        m.metadata
            .resource_version
            .clone()
            .unwrap_or_default()
            .parse::<u64>()
            .unwrap_or(0)
    };
    assert!(
        rv(&second) > rv(&first),
        "resourceVersion increases globally"
    );
    let fetched = api.get("a").await.expect("get");
    assert_eq!(fetched.metadata.uid, first.metadata.uid);
}

#[tokio::test]
async fn errors_are_statuses_with_reason_and_code() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "ns");
    assert_eq!(api_error(api.get("missing").await.expect_err("404")).0, 404);
    api.create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .expect("create");
    let (code, reason, _) = api_error(
        api.create(&PostParams::default(), &configmap("a", json!({})))
            .await
            .expect_err("dup"),
    );
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));
    let (code, reason, _) = api_error(
        api.create(&PostParams::default(), &configmap("Bad_Name", json!({})))
            .await
            .expect_err("invalid"),
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    let elsewhere: Api<ConfigMap> = Api::namespaced(client, "no-such-namespace");
    let (code, _, message) = api_error(
        elsewhere
            .create(&PostParams::default(), &configmap("a", json!({})))
            .await
            .expect_err("ns missing"),
    );
    assert_eq!(
        (code, message.as_str()),
        (404, "namespaces \"no-such-namespace\" not found")
    );
}

#[tokio::test]
async fn stale_update_and_patch_conflict() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let created = api
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .expect("create");
    let mut fresh = created.clone();
    fresh.data = Some([("k".to_string(), "v2".to_string())].into());
    api.replace("a", &PostParams::default(), &fresh)
        .await
        .expect("fresh update");
    let (code, reason, _) = api_error(
        api.replace("a", &PostParams::default(), &fresh)
            .await
            .expect_err("stale"),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
    let stale_rv = created
        .metadata
        .resource_version
        .clone()
        .unwrap_or_default();
    let patch = json!({"metadata": {"resourceVersion": stale_rv}, "data": {"k": "v3"}});
    let error = api
        .patch("a", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect_err("stale patch");
    assert_eq!(status_code(error), 409);
}

#[tokio::test]
async fn no_op_update_keeps_resource_version() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let created = api
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .expect("create");
    let same = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(&json!({"data": {"k": "a"}})),
        )
        .await
        .expect("patch");
    assert_eq!(
        same.metadata.resource_version,
        created.metadata.resource_version
    );
}

#[tokio::test]
async fn list_with_label_field_selectors_and_paging() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    create_namespace(&client, "other").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "ns");
    for (name, tier) in [("a", "front"), ("b", "back"), ("c", "front"), ("d", "db")] {
        api.create(
            &PostParams::default(),
            &configmap(name, json!({"tier": tier})),
        )
        .await
        .expect("create");
    }
    Api::<ConfigMap>::namespaced(client.clone(), "other")
        .create(
            &PostParams::default(),
            &configmap("z", json!({"tier": "front"})),
        )
        .await
        .expect("create");
    let names = |list: kube::core::ObjectList<ConfigMap>| {
        list.items
            .iter()
            .filter_map(|c| c.metadata.name.clone())
            .collect::<Vec<_>>()
    };
    let selections = [
        (
            "equality label selector",
            ListParams::default().labels("tier=front"),
            vec!["a", "c"],
        ),
        (
            "set-based label selector",
            ListParams::default().labels("tier in (back,db)"),
            vec!["b", "d"],
        ),
        (
            "inequality label selector",
            ListParams::default().labels("tier!=front"),
            vec!["b", "d"],
        ),
        (
            "field selector on the name",
            ListParams::default().fields("metadata.name=c"),
            vec!["c"],
        ),
    ];
    for (case, params, expected) in selections {
        assert_eq!(
            names(api.list(&params).await.expect("list")),
            expected,
            "{case}"
        );
    }
    let all: Api<ConfigMap> = Api::all(client);
    assert_eq!(
        names(
            all.list(&ListParams::default().fields("metadata.namespace=other"))
                .await
                .expect("list")
        ),
        vec!["z"]
    );
    let first = api
        .list(&ListParams::default().limit(3))
        .await
        .expect("page 1");
    let token = first.metadata.continue_.clone().expect("continue token");
    assert_eq!(names(first), vec!["a", "b", "c"]);
    let second = api
        .list(&ListParams::default().limit(3).continue_token(&token))
        .await
        .expect("page 2");
    assert!(
        second
            .metadata
            .continue_
            .as_deref()
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(names(second), vec!["d"]);
    let error = api
        .list(&ListParams::default().fields("spec.replicas=1"))
        .await
        .expect_err("bad field");
    assert_eq!(status_code(error), 400);
}

#[tokio::test]
async fn deployment_generation_moves_with_spec_and_annotations_only() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<Deployment> = Api::namespaced(client, "ns");
    let created = api
        .create(&PostParams::default(), &deployment("web", "nginx:1"))
        .await
        .expect("create");
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(
        created.spec.as_ref().and_then(|s| s.replicas),
        Some(1),
        "replicas defaulted"
    );
    let labelled = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .expect("label");
    assert_eq!(labelled.metadata.generation, Some(1));
    let status = json!({"status": {"readyReplicas": 1, "replicas": 1}});
    let with_status = api
        .patch_status("web", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("status patch");
    assert_eq!(with_status.metadata.generation, Some(1));
    assert_eq!(
        with_status.status.as_ref().and_then(|s| s.ready_replicas),
        Some(1)
    );
    let ignored = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": {"readyReplicas": 7}})),
        )
        .await
        .expect("main endpoint status");
    assert_eq!(
        ignored.status.as_ref().and_then(|s| s.ready_replicas),
        Some(1),
        "main endpoint ignores status"
    );
    let annotate = json!([{"op": "add", "path": "/spec/template/metadata/annotations", "value": {"restartedAt": "now"}}]);
    let patch: json_patch::Patch = serde_json::from_value(annotate).expect("patch");
    let rolled = api
        .patch("web", &PatchParams::default(), &Patch::<()>::Json(patch))
        .await
        .expect("json patch");
    assert_eq!(rolled.metadata.generation, Some(2));
    // kube-apiserver counts a Deployment's own annotations as desired state too.
    let annotated = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"metadata": {"annotations": {"note": "x"}}})),
        )
        .await
        .expect("annotate");
    assert_eq!(annotated.metadata.generation, Some(3));
}

#[tokio::test]
async fn json_patch_failed_test_is_422_and_strategic_merges_by_name() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<Deployment> = Api::namespaced(client, "ns");
    api.create(&PostParams::default(), &deployment("web", "nginx:1"))
        .await
        .expect("create");
    let failing: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/replicas", "value": 5},
        {"op": "replace", "path": "/spec/replicas", "value": 6}
    ]))
    .expect("patch");
    let error = api
        .patch("web", &PatchParams::default(), &Patch::<()>::Json(failing))
        .await
        .expect_err("test fails");
    assert_eq!(status_code(error), 422);
    let strategic = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "2"}]}]}}}});
    let merged = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(&strategic),
        )
        .await
        .expect("strategic");
    let container = &merged
        .spec
        .expect("spec")
        .template
        .spec
        .expect("pod spec")
        .containers[0];
    assert_eq!(container.image.as_deref(), Some("nginx:1"));
    let env: Vec<&str> = container
        .env
        .as_ref()
        .expect("env")
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(env, vec!["A", "B"]);
}

#[tokio::test]
async fn server_side_apply_creates_then_merges() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let params = PatchParams::apply("test-manager");
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}});
    let created = api
        .patch("cfg", &params, &Patch::Apply(&applied))
        .await
        .expect("apply creates");
    assert_eq!(
        created
            .data
            .as_ref()
            .and_then(|d| d.get("a"))
            .map(String::as_str),
        Some("1")
    );
    let again = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"b": "2"}});
    let merged = api
        .patch("cfg", &params, &Patch::Apply(&again))
        .await
        .expect("apply merges");
    assert_eq!(merged.data.map(|d| d.len()), Some(2));
    let error = api
        .patch("cfg", &PatchParams::default(), &Patch::Apply(&again))
        .await
        .expect_err("field manager required");
    assert_eq!(status_code(error), 422);
}

#[tokio::test]
async fn delete_waits_for_finalizers() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let mut held = configmap("held", json!({}));
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &held)
        .await
        .expect("create");
    api.delete("held", &DeleteParams::default())
        .await
        .expect("delete accepted");
    let terminating = api.get("held").await.expect("still there");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(&json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("release");
    assert_eq!(status_code(api.get("held").await.expect_err("gone")), 404);
    assert_eq!(
        status_code(
            api.delete("held", &DeleteParams::default())
                .await
                .expect_err("gone")
        ),
        404
    );
}

#[tokio::test]
async fn secrets_fold_string_data_and_dry_run_does_not_persist() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<Secret> = Api::namespaced(client, "ns");
    let secret: Secret =
        serde_json::from_value(json!({"metadata": {"name": "s"}, "stringData": {"p": "hunter2"}}))
            .expect("secret");
    let dry = api
        .create(
            &PostParams {
                dry_run: true,
                ..PostParams::default()
            },
            &secret,
        )
        .await
        .expect("dry run");
    assert_eq!(dry.metadata.name.as_deref(), Some("s"));
    assert_eq!(
        status_code(api.get("s").await.expect_err("not persisted")),
        404
    );
    let created = api
        .create(&PostParams::default(), &secret)
        .await
        .expect("create");
    let data = created.data.expect("data");
    assert_eq!(data.get("p").map(|b| b.0.as_slice()), Some(&b"hunter2"[..]));
    assert_eq!(created.type_.as_deref(), Some("Opaque"));
}

#[tokio::test]
async fn custom_resource_definitions_serve_their_resources() {
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
    use kube::discovery::Discovery;
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(client.clone());
    let crd = serde_json::from_value(json!({
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wdg"]},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "required": ["size"],
                    "properties": {"size": {"type": "integer"}, "color": {"type": "string", "enum": ["red", "blue"]}}},
                    "status": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}}}}]}
    }))
    .expect("crd");
    crds.create(&PostParams::default(), &crd)
        .await
        .expect("crd created");
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let (resource, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"))
        .expect("widget discovered");
    assert_eq!(resource.plural, "widgets");
    assert!(
        caps.subresources
            .iter()
            .any(|(r, _)| r.plural == "widgets/status")
            || caps.scope == kube::discovery::Scope::Namespaced
    );
    let api_resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::namespaced_with(client, "ns", &api_resource);
    let widget = |spec: serde_json::Value| -> DynamicObject {
        serde_json::from_value(json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec})).expect("widget")
    };
    let error = widgets
        .create(&PostParams::default(), &widget(json!({"color": "red"})))
        .await
        .expect_err("required size");
    assert_eq!(status_code(error), 422);
    let error = widgets
        .create(
            &PostParams::default(),
            &widget(json!({"size": 1, "color": "green"})),
        )
        .await
        .expect_err("enum");
    assert_eq!(status_code(error), 422);
    let created = widgets
        .create(&PostParams::default(), &widget(json!({"size": 1})))
        .await
        .expect("valid widget");
    assert_eq!(created.metadata.generation, Some(1));
    let error = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Strategic(&json!({"spec": {"size": 2}})),
        )
        .await
        .expect_err("no strategic for CRs");
    assert_eq!(status_code(error), 415);
    let patched = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"size": 2}})),
        )
        .await
        .expect("merge");
    assert_eq!(patched.metadata.generation, Some(2));
    let status = widgets
        .patch_status(
            "w",
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": {"ok": true}})),
        )
        .await
        .expect("status");
    assert_eq!(status.metadata.generation, Some(2));
    assert_eq!(status.data["status"]["ok"], json!(true));
}

#[tokio::test]
async fn kube_runtime_event_recorder_publishes_events() {
    use k8s_openapi::api::events::v1::Event;
    use kube::runtime::events::{Event as RecordedEvent, EventType, Recorder, Reporter};
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let cm = Api::<ConfigMap>::namespaced(client.clone(), "ns")
        .create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .expect("create");
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "reloader-test".into(),
            instance: None,
        },
    );
    let reference = kube::Resource::object_ref(&cm, &());
    for _ in 0..2 {
        let event = RecordedEvent {
            type_: EventType::Normal,
            reason: "Reloaded".into(),
            note: Some("rolled".into()),
            action: "Reload".into(),
            secondary: None,
        };
        recorder
            .publish(&event, &reference)
            .await
            .expect("published");
    }
    let events = Api::<Event>::namespaced(client, "ns")
        .list(&ListParams::default())
        .await
        .expect("events");
    assert_eq!(
        events.items.len(),
        1,
        "the repeat is recorded on the same event"
    );
    assert_eq!(events.items[0].reason.as_deref(), Some("Reloaded"));
}

#[tokio::test]
async fn hostile_bodies_get_statuses_not_dropped_connections() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "ns");
    api.create(&PostParams::default(), &configmap("a", json!({})))
        .await
        .expect("create");
    let to_array: json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "", "value": [1]}]))
            .expect("patch");
    assert_eq!(
        status_code(
            api.patch("a", &PatchParams::default(), &Patch::<()>::Json(to_array))
                .await
                .expect_err("array")
        ),
        400
    );
    let cases = [
        (
            "POST",
            "/api/v1/namespaces/ns/configmaps",
            "application/json",
            "[1,2]",
            400,
        ),
        (
            "POST",
            "/api/v1/namespaces/ns/configmaps",
            "application/json",
            "{not json",
            400,
        ),
        (
            "POST",
            "/api/v1/namespaces/ns/secrets",
            "application/json",
            r#"{"metadata":{"name":"s"},"data":"x","stringData":{"a":"b"}}"#,
            400,
        ),
        (
            "POST",
            "/api/v1/namespaces",
            "application/json",
            r#"{"metadata":{"name":"n2","labels":"x"},"spec":"y","status":3}"#,
            400,
        ),
        (
            "DELETE",
            "/api/v1/namespaces/ns/configmaps/a",
            "application/json",
            "[]",
            400,
        ),
        (
            "PATCH",
            "/api/v1/namespaces/ns/configmaps/a",
            "text/plain",
            "{}",
            415,
        ),
        ("GET", "/api/v1/namespaces/ns/widgets", "", "", 404),
        (
            "GET",
            "/api/v1/namespaces/ns/configmaps?labelSelector=a%20in%20b",
            "",
            "",
            400,
        ),
    ];
    for (method, path, content_type, body, expected) in cases {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", content_type)
            .body(kube::client::Body::from(body.as_bytes().to_vec()))
            .expect("request");
        let response = client.send(request).await.expect("answered");
        assert_eq!(
            response.status().as_u16(),
            expected,
            "{method} {path} {body}"
        );
    }
}

#[tokio::test]
async fn delete_collection_honours_the_label_selector() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    for (name, tier) in [("a", "front"), ("b", "back"), ("c", "front")] {
        api.create(
            &PostParams::default(),
            &configmap(name, json!({"tier": tier})),
        )
        .await
        .expect("create");
    }
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("tier=front"),
    )
    .await
    .expect("deletecollection");
    let left: Vec<String> = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(left, vec!["b"]);
}

#[tokio::test]
async fn simulated_rollouts_observe_each_generation() {
    let (_sim, client) = common::start_with(apiserver_sim::testing::SimOptions {
        simulate_rollouts: true,
        ..common::options()
    })
    .await;
    create_namespace(&client, "ns").await;
    let api: Api<Deployment> = Api::namespaced(client, "ns");
    api.create(&PostParams::default(), &deployment("web", "nginx:1"))
        .await
        .expect("create");
    let observed = |d: &Deployment| d.status.as_ref().and_then(|s| s.observed_generation);
    assert_eq!(observed(&api.get("web").await.expect("get")), Some(1));
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"paused": true}})),
    )
    .await
    .expect("patch");
    let rolled = api.get("web").await.expect("get");
    assert_eq!(
        (rolled.metadata.generation, observed(&rolled)),
        (Some(2), Some(2))
    );
    assert_eq!(rolled.status.and_then(|s| s.ready_replicas), Some(1));
}

#[tokio::test]
async fn create_refuses_a_resource_version() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let mut cm = configmap("a", json!({}));
    cm.metadata.resource_version = Some("42".into());
    let (code, _, message) = api_error(
        api.create(&PostParams::default(), &cm)
            .await
            .expect_err("rejected"),
    );
    assert_eq!(
        (code, message.as_str()),
        (
            400,
            "resourceVersion should not be set on objects to be created"
        )
    );
}

#[tokio::test]
async fn metadata_only_reads_and_watches_return_partial_object_metadata() {
    use kube::core::PartialObjectMeta;
    use kube::runtime::{WatchStreamExt, watcher};
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<Secret> = Api::namespaced(client.clone(), "ns");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}}))
            .expect("secret"),
    )
    .await
    .expect("create");
    let listed = api
        .list_metadata(&ListParams::default())
        .await
        .expect("list metadata");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        listed.items[0].types.as_ref().map(|t| t.kind.as_str()),
        Some("PartialObjectMetadata")
    );
    let single = api.get_metadata("s").await.expect("get metadata");
    assert_eq!(single.metadata.name.as_deref(), Some("s"));
    let metadata_only: Api<PartialObjectMeta<Secret>> = Api::namespaced(client, "ns");
    let mut stream = Box::pin(watcher(metadata_only, watcher::Config::default()).applied_objects());
    let first = futures::StreamExt::next(&mut stream)
        .await
        .expect("an event")
        .expect("ok");
    assert_eq!(first.metadata.name.as_deref(), Some("s"));
    assert_eq!(
        first.types.as_ref().map(|t| t.kind.as_str()),
        Some("PartialObjectMetadata")
    );
}
