//! One store, two views: an Event written through events.k8s.io/v1 is a core/v1
//! Event (and so shows in `kubectl get events`), and the other way round.

mod common;

use common::{run_kubectl, start};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

fn events_v1(name: &str) -> Event {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "eventTime": "2024-01-01T00:00:00.000000Z",
        "reportingController": "example.com/reloader",
        "reportingInstance": "reloader-1",
        "action": "Reload",
        "reason": "Reloaded",
        "note": "rolled deployment web",
        "type": "Normal",
        "regarding": {"kind": "Deployment", "name": "web", "namespace": "default", "apiVersion": "apps/v1"},
        "series": {"count": 2, "lastObservedTime": "2024-01-01T00:00:05.000000Z"}
    }))
    .expect("event")
}

#[tokio::test]
async fn an_events_v1_event_is_a_core_event_for_kubectl_and_list_and_watch() {
    let (sim, client) = start().await;
    let core: Api<CoreEvent> = Api::namespaced(client.clone(), "default");
    let mut watch = core
        .watch(&WatchParams::default(), "0")
        .await
        .expect("core watch")
        .boxed();
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    events
        .create(&PostParams::default(), &events_v1("rolled"))
        .await
        .expect("created through events.k8s.io");

    let listed = core.list(&ListParams::default()).await.expect("core list");
    let event = listed
        .items
        .iter()
        .find(|e| e.metadata.name.as_deref() == Some("rolled"))
        .expect("listed in core/v1");
    assert_eq!(event.message.as_deref(), Some("rolled deployment web"));
    assert_eq!(event.involved_object.name.as_deref(), Some("web"));
    assert_eq!(
        event.reporting_component.as_deref(),
        Some("example.com/reloader")
    );
    assert_eq!(event.reporting_instance.as_deref(), Some("reloader-1"));
    assert_eq!(event.series.as_ref().and_then(|s| s.count), Some(2));
    assert_eq!(event.action.as_deref(), Some("Reload"));
    let by_object = core
        .list(&ListParams::default().fields("involvedObject.name=web"))
        .await
        .expect("field selector");
    assert_eq!(by_object.items.len(), 1);
    match watch.next().await.expect("a watch event").expect("decodes") {
        WatchEvent::Added(e) => assert_eq!(e.message.as_deref(), Some("rolled deployment web")),
        other => panic!("unexpected {other:?}"),
    }

    let cache = tempfile::tempdir().expect("cache");
    let (ok, out, err) = run_kubectl(&sim, cache.path(), &["get", "events", "-n", "default"], "");
    assert!(
        ok && out.contains("rolled deployment web") && out.contains("deployment/web"),
        "{out}{err}"
    );

    // A patch through events.k8s.io changes what core/v1 serves.
    events
        .patch(
            "rolled",
            &PatchParams::default(),
            &Patch::Merge(json!({"note": "rolled again"})),
        )
        .await
        .expect("patched");
    let got = core.get("rolled").await.expect("core get");
    assert_eq!(got.message.as_deref(), Some("rolled again"));
    match watch.next().await.expect("a watch event").expect("decodes") {
        WatchEvent::Modified(e) => assert_eq!(e.message.as_deref(), Some("rolled again")),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_core_event_is_served_by_events_v1() {
    let (_sim, client) = start().await;
    let core: Api<CoreEvent> = Api::namespaced(client.clone(), "default");
    let event: CoreEvent = serde_json::from_value(json!({
        "metadata": {"name": "old-style"},
        "reason": "Pulled", "message": "image pulled", "type": "Warning", "count": 3,
        "firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:00:09Z",
        "source": {"component": "kubelet", "host": "node-1"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}
    }))
    .expect("event");
    core.create(&PostParams::default(), &event)
        .await
        .expect("created through core/v1");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let got = events
        .get("old-style")
        .await
        .expect("served by events.k8s.io");
    assert_eq!(got.note.as_deref(), Some("image pulled"));
    assert_eq!(
        got.regarding.as_ref().and_then(|r| r.name.as_deref()),
        Some("p")
    );
    assert_eq!(got.deprecated_count, Some(3));
    assert_eq!(
        got.deprecated_source
            .as_ref()
            .and_then(|s| s.host.as_deref()),
        Some("node-1")
    );
    assert!(got.deprecated_last_timestamp.is_some());
    let listed = events
        .list(&ListParams::default().fields("regarding.name=p"))
        .await
        .expect("events.k8s.io list");
    assert_eq!(listed.items.len(), 1);
    // One object: a delete through one API removes it from the other.
    events
        .delete("old-style", &Default::default())
        .await
        .expect("deleted");
    assert!(core.get_opt("old-style").await.expect("get").is_none());
}
