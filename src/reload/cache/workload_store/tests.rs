use super::*;
use crate::reload::cache::namespaced::Holding;

fn resource() -> ApiResource {
    crate::reload::cache::api_resource(reloader_core::workload::WorkloadKind::Deployment)
}

fn object(ns: &str, name: &str, window: Option<&str>) -> DynamicObject {
    let mut o = DynamicObject::new(name, &resource()).within(ns);
    o.data = serde_json::json!({"spec": {"template": {"spec": {"containers": []}}}});
    if let Some(w) = window {
        o.metadata.annotations = Some(
            [
                (COALESCE_WINDOW.to_owned(), w.to_owned()),
                ("other".to_owned(), "not kept".to_owned()),
            ]
            .into(),
        );
    }
    o
}

#[test]
fn the_store_follows_a_watch_as_a_reflector_store_does() {
    let (store, mut writer) = store(resource());
    // (event, objects afterwards, ready afterwards)
    let steps: Vec<(&str, Event<DynamicObject>, Vec<&str>, bool)> = vec![
        ("a listing starts", Event::Init, vec![], false),
        (
            "listed",
            Event::InitApply(object("ns", "a", None)),
            vec![],
            false,
        ),
        (
            "listed too",
            Event::InitApply(object("ns", "b", Some("2s"))),
            vec![],
            false,
        ),
        ("the listing ends", Event::InitDone, vec!["a", "b"], true),
        (
            "added",
            Event::Apply(object("ns", "c", None)),
            vec!["a", "b", "c"],
            true,
        ),
        (
            "deleted",
            Event::Delete(object("ns", "a", None)),
            vec!["b", "c"],
            true,
        ),
        ("a relist starts", Event::Init, vec!["b", "c"], true),
        (
            "relisted",
            Event::InitApply(object("ns", "c", None)),
            vec!["b", "c"],
            true,
        ),
        ("the relist replaces all", Event::InitDone, vec!["c"], true),
    ];
    for (what, event, want, ready) in steps {
        writer.apply(&event);
        let mut names: Vec<String> = store
            .held_in("ns")
            .into_iter()
            .map(|o| o.metadata.name.unwrap())
            .collect();
        names.sort();
        assert_eq!(names, want, "{what}");
        assert_eq!(store.len(), want.len(), "{what}");
        assert_eq!(store.is_ready(), ready, "{what}");
    }
}

#[test]
fn only_the_coalescing_window_is_kept_of_the_metadata() {
    let (store, mut writer) = store(resource());
    writer.apply(&Event::Apply(object("ns", "a", Some("2s"))));
    writer.apply(&Event::Apply(object("ns", "b", None)));
    let cases = [
        ("annotated", "a", Some("2s".to_owned())),
        ("not annotated", "b", None),
        ("not cached", "c", None),
    ];
    for (what, name, want) in cases {
        assert_eq!(store.coalesce_window("ns", name), want, "{what}");
    }
    assert!(store.contains("ns", "a") && !store.contains("other", "a"));
}

#[tokio::test]
async fn a_store_whose_writer_is_gone_is_ready() {
    let (store, writer) = store(resource());
    assert!(!store.is_ready());
    drop(writer);
    assert!(store.is_ready());
    store.wait_until_ready().await;
}
