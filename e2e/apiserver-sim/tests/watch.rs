//! Watch semantics, and kube-runtime's watcher/reflector through list → watch →
//! bookmark → 410 → relist.

mod common;

use std::time::Duration;

use apiserver_sim::testing::{Fault, SimOptions};
use common::{create_namespace, options, start, start_with};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::json;

fn configmap(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": {"app": "x"}}}))
        .expect("configmap")
}

fn rv_of(cm: &ConfigMap) -> String {
    cm.metadata.resource_version.clone().unwrap_or_default()
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn names(store: &reflector::Store<ConfigMap>) -> Vec<String> {
    let mut names: Vec<String> = store
        .state()
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn reflector_survives_bookmark_gone_and_relist_without_duplicates_or_losses() {
    let (sim, client) = start_with(SimOptions {
        bookmark_interval_ms: Some(100),
        ..options()
    })
    .await;
    let hooks = sim.hooks().await.expect("hooks");
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "ns");
    for name in ["a", "b"] {
        api.create(&PostParams::default(), &configmap(name))
            .await
            .expect("create");
    }
    let (reader, writer) = reflector::store();
    let stream = reflector(
        writer,
        watcher(api.clone(), watcher::Config::default()).default_backoff(),
    );
    let events = tokio::spawn(
        stream
            .filter_map(|e| async move { e.ok() })
            .for_each(|_| async {}),
    );
    eventually("initial list", || names(&reader) == ["a", "b"]).await;

    let c = api
        .create(&PostParams::default(), &configmap("c"))
        .await
        .expect("create c");
    eventually("c watched", || names(&reader) == ["a", "b", "c"]).await;
    // A change elsewhere moves the global version; only a bookmark can tell the watcher.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "ns");
    let secret = secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "s"}})).expect("secret"),
        )
        .await
        .expect("create secret");
    let bookmark_rv = secret.metadata.resource_version.clone().expect("rv");
    // Ten bookmark intervals: plenty even on a loaded machine.
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // Hold the re-watch while the history it needs is changed and compacted away.
    hooks.clear_requests().await.expect("clear log");
    hooks
        .inject_fault(&Fault {
            hang_ms: Some(1500),
            status: None,
            ..apiserver_sim::testing::fault("watch", "configmaps", 1, 0)
        })
        .await
        .expect("fault");
    assert!(hooks.drop_watches().await.expect("drop") >= 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.delete("a", &DeleteParams::default())
        .await
        .expect("delete a");
    api.create(&PostParams::default(), &configmap("d"))
        .await
        .expect("create d");
    hooks.compact().await.expect("compact");

    eventually("relisted state", || names(&reader) == ["b", "c", "d"]).await;
    assert_eq!(reader.state().len(), 3, "no duplicates");
    let log = hooks.requests().await.expect("log");
    let rewatch = log
        .iter()
        .find(|r| r.verb == "watch" && r.resource == "configmaps")
        .expect("re-watch logged");
    assert!(
        rewatch
            .query
            .contains(&format!("resourceVersion={bookmark_rv}")),
        "re-watch resumed from the bookmark ({bookmark_rv}, c was {}): {}",
        rv_of(&c),
        rewatch.query
    );
    assert!(
        log.iter()
            .any(|r| r.verb == "list" && r.resource == "configmaps"),
        "relisted after 410"
    );
    events.abort();
}

#[tokio::test]
async fn streaming_list_sends_initial_events_then_bookmark() {
    let (sim, client) = start().await;
    let hooks = sim.hooks().await.expect("hooks");
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "ns");
    for name in ["a", "b"] {
        api.create(&PostParams::default(), &configmap(name))
            .await
            .expect("create");
    }
    hooks.clear_requests().await.expect("clear");
    let (reader, writer) = reflector::store();
    let stream = reflector(
        writer,
        watcher(api.clone(), watcher::Config::default().streaming_lists()),
    );
    let events = tokio::spawn(
        stream
            .filter_map(|e| async move { e.ok() })
            .for_each(|_| async {}),
    );
    eventually("streamed initial state", || names(&reader) == ["a", "b"]).await;
    api.create(&PostParams::default(), &configmap("c"))
        .await
        .expect("create");
    eventually("c watched", || names(&reader) == ["a", "b", "c"]).await;
    let log = hooks.requests().await.expect("log");
    assert!(
        log.iter()
            .any(|r| r.verb == "watch" && r.query.contains("sendInitialEvents=true"))
    );
    assert!(
        !log.iter()
            .any(|r| r.verb == "list" && r.resource == "configmaps"),
        "no list with streaming lists"
    );
    events.abort();
}

#[tokio::test]
async fn watch_from_version_replays_only_later_events() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let a = api
        .create(&PostParams::default(), &configmap("a"))
        .await
        .expect("a");
    api.create(&PostParams::default(), &configmap("b"))
        .await
        .expect("b");
    let mut stream = api
        .watch(&WatchParams::default().timeout(5), &rv_of(&a))
        .await
        .expect("watch")
        .boxed();
    match stream.try_next().await.expect("event") {
        Some(WatchEvent::Added(cm)) => assert_eq!(cm.metadata.name.as_deref(), Some("b")),
        other => panic!("expected ADDED b, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_from_zero_starts_with_current_state() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    api.create(&PostParams::default(), &configmap("a"))
        .await
        .expect("a");
    let mut stream = api
        .watch(&WatchParams::default().timeout(5), "0")
        .await
        .expect("watch")
        .boxed();
    match stream.try_next().await.expect("event") {
        Some(WatchEvent::Added(cm)) => assert_eq!(cm.metadata.name.as_deref(), Some("a")),
        other => panic!("expected synthetic ADDED a, got {other:?}"),
    }
}

#[tokio::test]
async fn too_old_version_gets_gone_error_event() {
    let (sim, client) = start().await;
    let hooks = sim.hooks().await.expect("hooks");
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let a = api
        .create(&PostParams::default(), &configmap("a"))
        .await
        .expect("a");
    api.create(&PostParams::default(), &configmap("b"))
        .await
        .expect("b");
    hooks.compact().await.expect("compact");
    let mut stream = api
        .watch(&WatchParams::default().timeout(5), &rv_of(&a))
        .await
        .expect("watch")
        .boxed();
    match stream.try_next().await.expect("event") {
        Some(WatchEvent::Error(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"))
        }
        other => panic!("expected ERROR 410, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_window_expires_old_versions() {
    let (_sim, client) = start_with(SimOptions {
        watch_window: Some(2),
        ..options()
    })
    .await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let a = api
        .create(&PostParams::default(), &configmap("a"))
        .await
        .expect("a");
    for name in ["b", "c", "d"] {
        api.create(&PostParams::default(), &configmap(name))
            .await
            .expect("create");
    }
    let mut stream = api
        .watch(&WatchParams::default().timeout(5), &rv_of(&a))
        .await
        .expect("watch")
        .boxed();
    assert!(
        matches!(stream.try_next().await.expect("event"), Some(WatchEvent::Error(s)) if s.code == 410)
    );
}

#[tokio::test]
async fn timeout_ends_the_stream() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let started = std::time::Instant::now();
    let stream = api
        .watch(&WatchParams::default().timeout(1), "0")
        .await
        .expect("watch");
    let events: Vec<_> = tokio::time::timeout(Duration::from_secs(5), stream.collect::<Vec<_>>())
        .await
        .expect("stream ended");
    assert!(
        events
            .iter()
            .all(|e| matches!(e, Ok(WatchEvent::Bookmark(_)))),
        "{events:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn label_selector_transitions_become_added_and_deleted() {
    let (_sim, client) = start().await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let start_rv = rv_of(
        &api.create(&PostParams::default(), &configmap("other"))
            .await
            .expect("other"),
    );
    let mut stream = api
        .watch(
            &WatchParams::default().labels("app=y").timeout(5),
            &start_rv,
        )
        .await
        .expect("watch")
        .boxed();
    let relabel = |app: &str| json!({"metadata": {"labels": {"app": app}}});
    api.patch(
        "other",
        &PatchParams::default(),
        &Patch::Merge(&relabel("y")),
    )
    .await
    .expect("into selection");
    api.patch(
        "other",
        &PatchParams::default(),
        &Patch::Merge(&json!({"data": {"k": "v"}})),
    )
    .await
    .expect("modify");
    api.patch(
        "other",
        &PatchParams::default(),
        &Patch::Merge(&relabel("z")),
    )
    .await
    .expect("out of selection");
    let kinds: Vec<&str> = [
        stream.try_next().await.expect("1"),
        stream.try_next().await.expect("2"),
        stream.try_next().await.expect("3"),
    ]
    .iter()
    .map(|e| match e {
        Some(WatchEvent::Added(_)) => "ADDED",
        Some(WatchEvent::Modified(_)) => "MODIFIED",
        Some(WatchEvent::Deleted(_)) => "DELETED",
        _ => "OTHER",
    })
    .collect();
    assert_eq!(kinds, vec!["ADDED", "MODIFIED", "DELETED"]);
}

#[tokio::test]
async fn bookmarks_carry_the_latest_version() {
    let (_sim, client) = start_with(SimOptions {
        bookmark_interval_ms: Some(100),
        ..options()
    })
    .await;
    create_namespace(&client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let a = api
        .create(&PostParams::default(), &configmap("a"))
        .await
        .expect("a");
    let mut stream = api
        .watch(&WatchParams::default().timeout(5), &rv_of(&a))
        .await
        .expect("watch")
        .boxed();
    match stream.try_next().await.expect("event") {
        Some(WatchEvent::Bookmark(bookmark)) => {
            assert_eq!(bookmark.metadata.resource_version, rv_of(&a))
        }
        other => panic!("expected BOOKMARK, got {other:?}"),
    }
}
