use serde_json::json;

use super::fixtures::{INFO, shared_secret_change, single_rollout};
use super::*;

const TITLE: &str =
    "prod-eu : Failed to reload 1 of 41 workloads after a change to Secret db-creds";
const SOURCE: &str = "Secret team-a/db-creds (hash 0123456789ab)";
const DENIED: &str = "Deployment team-a/billing: failed: 403 Forbidden: deployments.apps \
                      \"billing\" is forbidden: User \"system:serviceaccount:reloader:reloader\" \
                      cannot patch resource \"deployments\" in API group \"apps\" in the \
                      namespace \"team-a\"";

fn workloads() -> [String; 4] {
    [
        DENIED.to_owned(),
        "Deployment team-a/api".into(),
        "Deployment team-a/web".into(),
        "and 38 more".into(),
    ]
}

#[test]
fn titles_say_what_happened_to_how_many() {
    let mut deferred = single_rollout();
    deferred.counts.rolled = 0;
    deferred.counts.deferred = 1;
    deferred.listed[0].result = AlertResult::Deferred {
        until: deferred.time,
    };
    let mut after_pause = single_rollout();
    after_pause.phase = Phase::AfterPause;
    let table = [
        (shared_secret_change(), Some(INFO), TITLE),
        (
            single_rollout(),
            None,
            "Reloaded Deployment team-a/web after a change to ConfigMap web-config",
        ),
        (
            deferred,
            None,
            "Deferred Deployment team-a/web until a pause ends after a change to ConfigMap web-config",
        ),
        (
            after_pause,
            None,
            "Reloaded Deployment team-a/web at the end of a pause after a change to ConfigMap web-config",
        ),
    ];
    for (alert, info, want) in table {
        assert_eq!(title(&alert, info), want);
    }
}

#[test]
fn slack_gets_one_coloured_attachment_with_the_changes_fields() {
    let [denied, api, web, more] = workloads();
    let want = json!({
        "attachments": [{
            "fallback": TITLE,
            "color": "#D40E0D",
            "author_name": "Reloader",
            "title": TITLE,
            "fields": [
                {"title": "Source", "value": SOURCE, "short": false},
                {"title": "Strategy", "value": "env-vars", "short": true},
                {"title": "Time", "value": "2026-11-26T01:02:03Z", "short": true},
                {"title": "Rolled", "value": "40", "short": true},
                {"title": "Already up to date", "value": "1", "short": true},
                {"title": "Deferred by a pause", "value": "0", "short": true},
                {"title": "Failed", "value": "1", "short": true},
                {"title": "Workloads", "value": format!("{denied}\n{api}\n{web}\n{more}"), "short": false},
            ],
            "footer": "prod-eu",
            "ts": 1795654923,
        }]
    });
    assert_eq!(
        body(SinkKind::Slack, &shared_secret_change(), Some(INFO)),
        want
    );
}

#[test]
fn teams_gets_an_adaptive_card_with_facts() {
    let [denied, api, web, more] = workloads();
    let want = json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": [
                    {"type": "TextBlock", "text": TITLE, "weight": "Bolder", "size": "Medium", "color": "Attention", "wrap": true},
                    {"type": "FactSet", "facts": [
                        {"title": "Source", "value": SOURCE},
                        {"title": "Strategy", "value": "env-vars"},
                        {"title": "Time", "value": "2026-11-26T01:02:03Z"},
                        {"title": "Rolled", "value": "40"},
                        {"title": "Already up to date", "value": "1"},
                        {"title": "Deferred by a pause", "value": "0"},
                        {"title": "Failed", "value": "1"},
                    ]},
                    {"type": "TextBlock", "text": "Workloads", "weight": "Bolder", "wrap": true},
                    {"type": "TextBlock", "text": format!("- {denied}\n- {api}\n- {web}\n- {more}"), "wrap": true},
                ],
            },
        }]
    });
    assert_eq!(
        body(SinkKind::Teams, &shared_secret_change(), Some(INFO)),
        want
    );
}

#[test]
fn google_chat_gets_a_card_of_labelled_values() {
    let [denied, api, web, more] = workloads();
    let text = |label: &str, value: &str| json!({"decoratedText": {"topLabel": label, "text": value, "wrapText": true}});
    let want = json!({
        "text": TITLE,
        "cardsV2": [{
            "cardId": "reloader-change",
            "card": {
                "header": {"title": TITLE, "subtitle": "Reloader"},
                "sections": [
                    {"header": "Change", "widgets": [
                        text("Source", SOURCE),
                        text("Strategy", "env-vars"),
                        text("Time", "2026-11-26T01:02:03Z"),
                    ]},
                    {"header": "Result", "widgets": [
                        text("Rolled", "40"),
                        text("Already up to date", "1"),
                        text("Deferred by a pause", "0"),
                        text("Failed", "1"),
                    ]},
                    {"header": "Workloads", "widgets": [
                        {"textParagraph": {"text": format!("{denied}<br>{api}<br>{web}<br>{more}")}},
                    ]},
                ],
            },
        }]
    });
    assert_eq!(
        body(SinkKind::GoogleChat, &shared_secret_change(), Some(INFO)),
        want
    );
}

#[test]
fn a_generic_webhook_gets_the_change_as_fields() {
    let want = json!({
        "text": TITLE,
        "result": "failure",
        "phase": "change",
        "sources": [{"kind": "Secret", "namespace": "team-a", "name": "db-creds", "hash": "0123456789ab", "strategy": "env-vars"}],
        "counts": {"rolled": 40, "upToDate": 1, "deferred": 0, "failed": 1},
        "workloads": [
            {"kind": "Deployment", "namespace": "team-a", "name": "billing", "result": "failed", "reason": "api",
             "error": DENIED.trim_start_matches("Deployment team-a/billing: failed: ")},
            {"kind": "Deployment", "namespace": "team-a", "name": "api", "result": "rolled"},
            {"kind": "Deployment", "namespace": "team-a", "name": "web", "result": "rolled"},
        ],
        "unlisted": 38,
        "time": "2026-11-26T01:02:03Z",
        "additionalInfo": "prod-eu",
    });
    assert_eq!(
        body(SinkKind::Webhook, &shared_secret_change(), Some(INFO)),
        want
    );
}

#[test]
fn markup_in_what_is_sent_cannot_ping_a_channel() {
    let mut alert = single_rollout();
    alert.counts.failed = 1;
    alert.listed[0].result = AlertResult::Failed {
        class: "api",
        detail: "denied: <!channel> & <https://evil|click>".into(),
    };
    let info = Some("<!here>");
    for kind in [SinkKind::Slack, SinkKind::GoogleChat] {
        let text = body(kind, &alert, info).to_string();
        assert!(!text.contains('<') && !text.contains('>'), "{kind}: {text}");
        assert!(
            text.contains("&lt;!channel&gt; &amp; &lt;https://evil|click&gt;"),
            "{kind}: {text}"
        );
    }
}

#[test]
fn no_additional_info_means_no_prefix_and_a_null_field() {
    for info in [None, Some(""), Some("  ")] {
        let webhook = body(SinkKind::Webhook, &single_rollout(), info);
        assert_eq!(webhook["additionalInfo"], serde_json::Value::Null);
        assert!(webhook["text"].as_str().unwrap().starts_with("Reloaded"));
        let slack = body(SinkKind::Slack, &single_rollout(), info);
        assert_eq!(slack["attachments"][0]["footer"], "reloader");
    }
}

/// The samples in docs/alerts.md are these fixtures' bodies; `RELOADER_WRITE_DOCS=1`
/// rewrites them after a deliberate change.
#[test]
fn the_docs_show_what_the_code_sends() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/alerts.md");
    let doc = std::fs::read_to_string(path).expect("docs/alerts.md");
    let mut want = doc.clone();
    for kind in [
        SinkKind::Slack,
        SinkKind::Teams,
        SinkKind::GoogleChat,
        SinkKind::Webhook,
    ] {
        let begin = format!("<!-- sample:{kind} -->\n");
        let end = format!("<!-- /sample:{kind} -->");
        let sample = serde_json::to_string_pretty(&body(kind, &shared_secret_change(), Some(INFO)))
            .expect("JSON");
        let start = want
            .find(&begin)
            .unwrap_or_else(|| panic!("{begin} in docs/alerts.md"))
            + begin.len();
        let stop = start
            + want[start..]
                .find(&end)
                .unwrap_or_else(|| panic!("{end} in docs/alerts.md"));
        want.replace_range(start..stop, &format!("```json\n{sample}\n```\n"));
    }
    if std::env::var_os("RELOADER_WRITE_DOCS").is_some() {
        std::fs::write(path, &want).expect("write docs/alerts.md");
    }
    assert!(
        doc == want,
        "docs/alerts.md shows other samples than the code sends; run with RELOADER_WRITE_DOCS=1 to rewrite them"
    );
}
