//! The `/_sim/` test hooks: faults, dropped watches, compaction and the request log.

mod common;

use std::time::{Duration, Instant};

use apiserver_sim::testing::{Fault, fault};
use common::{api_error, create_namespace, start};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchParams};
use serde_json::json;

fn configmap(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}})).expect("configmap")
}

#[tokio::test]
async fn faults_answer_the_next_matching_requests_only() {
    let (sim, client) = start().await;
    let hooks = sim.hooks().await.expect("hooks");
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    api.create(&PostParams::default(), &configmap("a"))
        .await
        .expect("create");
    // 500, not 503: kube-rs retries 503s on its own.
    hooks
        .inject_fault(&fault("patch", "configmaps", 2, 500))
        .await
        .expect("fault");
    let patch = Patch::Merge(json!({"data": {"x": "1"}}));
    api.get("a").await.expect("get is not affected");
    for _ in 0..2 {
        let (code, reason, _) = api_error(
            api.patch("a", &PatchParams::default(), &patch)
                .await
                .expect_err("injected"),
        );
        assert_eq!((code, reason.as_str()), (500, "InternalError"));
    }
    api.patch("a", &PatchParams::default(), &patch)
        .await
        .expect("third patch passes");
}

#[tokio::test]
async fn hang_faults_delay_requests() {
    let (sim, client) = start().await;
    let hooks = sim.hooks().await.expect("hooks");
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    hooks
        .inject_fault(&Fault {
            hang_ms: Some(2000),
            status: None,
            ..fault("list", "configmaps", 1, 0)
        })
        .await
        .expect("fault");
    let started = Instant::now();
    let hung = tokio::spawn({
        let api = api.clone();
        async move {
            api.list(&ListParams::default())
                .await
                .map(|_| started.elapsed())
        }
    });
    // The fault is used up as the request arrives, while the request still hangs: what a
    // test holding a request in flight waits for.
    while !hooks.pending_faults().await.expect("faults").is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!hung.is_finished(), "the request still hangs");
    let took = hung.await.expect("task").expect("list after hang");
    assert!(took >= Duration::from_millis(2000), "hung for {took:?}");
    // Used up: the next list is not held.
    assert!(hooks.pending_faults().await.expect("faults").is_empty());
    api.list(&ListParams::default()).await.expect("second list");
}

#[tokio::test]
async fn drop_watches_ends_open_streams() {
    let (sim, client) = start().await;
    let hooks = sim.hooks().await.expect("hooks");
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let stream = api
        .watch(&WatchParams::default().timeout(60).disable_bookmarks(), "0")
        .await
        .expect("watch");
    let collector = tokio::spawn(stream.collect::<Vec<_>>());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hooks.drop_watches().await.expect("drop"), 1);
    let events = tokio::time::timeout(Duration::from_secs(5), collector)
        .await
        .expect("stream ended")
        .expect("join");
    assert!(events.is_empty());
}

#[tokio::test]
async fn compaction_expires_continue_tokens() {
    let (sim, client) = start().await;
    let hooks = sim.hooks().await.expect("hooks");
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    for name in ["a", "b", "c"] {
        api.create(&PostParams::default(), &configmap(name))
            .await
            .expect("create");
    }
    let page = api
        .list(&ListParams::default().limit(1))
        .await
        .expect("page");
    let token = page.metadata.continue_.expect("token");
    api.create(&PostParams::default(), &configmap("d"))
        .await
        .expect("create");
    hooks.compact().await.expect("compact");
    let (code, reason, _) = api_error(
        api.list(&ListParams::default().limit(1).continue_token(&token))
            .await
            .expect_err("expired"),
    );
    assert_eq!((code, reason.as_str()), (410, "Expired"));
}

#[tokio::test]
async fn request_log_counts_patches_with_content_types() {
    let (sim, client) = start().await;
    let hooks = sim.hooks().await.expect("hooks");
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    api.create(&PostParams::default(), &configmap("a"))
        .await
        .expect("create");
    hooks.clear_requests().await.expect("clear");
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"x": "1"}})),
    )
    .await
    .expect("merge");
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Strategic(json!({"data": {"x": "2"}})),
    )
    .await
    .expect("strategic");
    api.patch("missing", &PatchParams::default(), &Patch::Merge(json!({})))
        .await
        .expect_err("404");
    let patches: Vec<(String, String, u16)> = hooks
        .requests()
        .await
        .expect("log")
        .into_iter()
        .filter(|r| r.verb == "patch")
        .map(|r| (r.path, r.content_type, r.status))
        .collect();
    assert_eq!(
        patches,
        vec![
            (
                "/api/v1/namespaces/ns/configmaps/a".into(),
                "application/merge-patch+json".into(),
                200
            ),
            (
                "/api/v1/namespaces/ns/configmaps/a".into(),
                "application/strategic-merge-patch+json".into(),
                200
            ),
            (
                "/api/v1/namespaces/ns/configmaps/missing".into(),
                "application/merge-patch+json".into(),
                404
            ),
        ]
    );
}
