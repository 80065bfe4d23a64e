use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::alerts::event::ChangedSource;
use reloader_core::source::{SourceKind, SourceRef};
use reloader_core::workload::{WorkloadKind, WorkloadRef};

fn event(result: AlertResult) -> AlertEvent {
    AlertEvent {
        workload: WorkloadRef::new("team-a", WorkloadKind::Deployment, "web"),
        sources: vec![ChangedSource {
            source: SourceRef::new("team-a", SourceKind::Secret, "db-creds"),
            hash: "0123456789ab".into(),
            strategy: "env-vars",
        }],
        result,
        time: "2026-11-26T01:02:03.456Z".parse::<Timestamp>().unwrap(),
    }
}

const FAILED: AlertResult = AlertResult::Failure { reason: "api" };

#[test]
fn each_receiver_gets_its_own_format() {
    let table = [
        (
            SinkKind::Slack,
            AlertResult::Success,
            None,
            json!({"text": "Reloaded Deployment *web* in namespace *team-a* after a change to Secret *db-creds* (hash 0123456789ab, env-vars)"}),
        ),
        (
            SinkKind::GoogleChat,
            FAILED,
            Some("prod-eu"),
            json!({"text": "prod-eu : Failed to reload Deployment *web* in namespace *team-a* (api error) after a change to Secret *db-creds* (hash 0123456789ab, env-vars)"}),
        ),
        (
            SinkKind::Teams,
            AlertResult::Success,
            None,
            json!({
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "summary": "Reloader: workload reloaded",
                "title": "Reloader: workload reloaded",
                "themeColor": "2EB886",
                "text": "Reloaded Deployment **web** in namespace **team-a** after a change to Secret **db-creds** (hash 0123456789ab, env-vars)",
            }),
        ),
        (
            SinkKind::Webhook,
            FAILED,
            Some(" prod-eu "),
            json!({
                "text": "prod-eu : Failed to reload Deployment web in namespace team-a (api error) after a change to Secret db-creds (hash 0123456789ab, env-vars)",
                "result": "failure",
                "reason": "api",
                "workload": {"kind": "Deployment", "namespace": "team-a", "name": "web"},
                "sources": [{"kind": "Secret", "namespace": "team-a", "name": "db-creds", "hash": "0123456789ab", "strategy": "env-vars"}],
                "time": "2026-11-26T01:02:03Z",
                "additionalInfo": "prod-eu",
            }),
        ),
        (
            SinkKind::Webhook,
            AlertResult::Success,
            None,
            json!({
                "text": "Reloaded Deployment web in namespace team-a after a change to Secret db-creds (hash 0123456789ab, env-vars)",
                "result": "success",
                "reason": null,
                "workload": {"kind": "Deployment", "namespace": "team-a", "name": "web"},
                "sources": [{"kind": "Secret", "namespace": "team-a", "name": "db-creds", "hash": "0123456789ab", "strategy": "env-vars"}],
                "time": "2026-11-26T01:02:03Z",
                "additionalInfo": null,
            }),
        ),
    ];
    for (kind, result, info, want) in table {
        assert_eq!(body(kind, &event(result), info), want, "{kind} {result:?}");
    }
}

#[test]
fn several_sources_are_listed_in_one_message() {
    let mut e = event(AlertResult::Success);
    e.sources.push(ChangedSource {
        source: SourceRef::new("team-a", SourceKind::ConfigMap, "web-config"),
        hash: "ba9876543210".into(),
        strategy: "annotations",
    });
    assert_eq!(
        body(SinkKind::GoogleChat, &e, None)["text"],
        "Reloaded Deployment *web* in namespace *team-a* after a change to Secret *db-creds* (hash 0123456789ab, env-vars), ConfigMap *web-config* (hash ba9876543210, annotations)"
    );
}

#[test]
fn slack_control_characters_in_the_additional_info_are_escaped() {
    let text = body(
        SinkKind::Slack,
        &event(AlertResult::Success),
        Some("<prod & eu>"),
    )["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.starts_with("&lt;prod &amp; eu&gt; : Reloaded"),
        "{text}"
    );
}
