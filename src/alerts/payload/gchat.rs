//! Google Chat (incoming webhooks): a `cardsV2` card whose facts are `decoratedText`
//! widgets (label above, value below), with the title as the message's text so
//! notifications show it.

use serde_json::{Value, json};

use super::{counts, escape, source_lines, strategies, time, title, workload_lines};
use crate::alerts::batch::ChangeAlert;

fn labelled(label: &str, value: &str) -> Value {
    json!({ "decoratedText": { "topLabel": label, "text": escape(value), "wrapText": true } })
}

pub fn body(alert: &ChangeAlert, info: Option<&str>) -> Value {
    let title = title(alert, info);
    let change = vec![
        labelled("Source", &source_lines(alert).join("<br>")),
        labelled("Strategy", &strategies(alert)),
        labelled("Time", &time(alert)),
    ];
    let results: Vec<Value> = counts(alert).iter().map(|(k, v)| labelled(k, v)).collect();
    let workloads = workload_lines(alert)
        .iter()
        .map(|l| escape(l))
        .collect::<Vec<_>>()
        .join("<br>");
    json!({
        "text": escape(&title),
        "cardsV2": [{
            "cardId": "reloader-change",
            "card": {
                "header": { "title": escape(&title), "subtitle": "Reloader" },
                "sections": [
                    { "header": "Change", "widgets": change },
                    { "header": "Result", "widgets": results },
                    { "header": "Workloads", "widgets": [{ "textParagraph": { "text": workloads } }] },
                ],
            },
        }]
    })
}
