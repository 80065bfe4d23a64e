//! Slack (incoming webhooks): one attachment, coloured by outcome, with the change's facts
//! as fields. stakater sends an attachment too (`color: good`, author `Reloader`), so
//! channels look as they did, with more in them.

use serde_json::{Value, json};

use super::{counts, escape, source_lines, strategies, time, title, workload_lines};
use crate::alerts::batch::{ChangeAlert, Tone};

fn field(title: &str, value: &str, short: bool) -> Value {
    json!({ "title": title, "value": escape(value), "short": short })
}

pub fn body(alert: &ChangeAlert, info: Option<&str>) -> Value {
    let color = match alert.tone() {
        Tone::Success => "#2EB886",
        Tone::Waiting => "#DAA038",
        Tone::Failure => "#D40E0D",
    };
    let title = escape(&title(alert, info));
    let mut fields = vec![
        field("Source", &source_lines(alert).join("\n"), false),
        field("Strategy", &strategies(alert), true),
        field("Time", &time(alert), true),
    ];
    fields.extend(counts(alert).iter().map(|(k, v)| field(k, v, true)));
    fields.push(field("Workloads", &workload_lines(alert).join("\n"), false));
    json!({
        "attachments": [{
            "fallback": title,
            "color": color,
            "author_name": "Reloader",
            "title": title,
            "fields": fields,
            "footer": info.map(escape).unwrap_or_else(|| "reloader".to_owned()),
            "ts": alert.time.as_second(),
        }]
    })
}
