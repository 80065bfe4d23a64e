//! Microsoft Teams: an Adaptive Card in the envelope Teams' Workflows webhooks take
//! (`{"type": "message", "attachments": [...]}`). Microsoft retired the Office 365
//! connectors that rendered the older MessageCard; a Workflows webhook ("When a Teams
//! webhook request is received") renders Adaptive Cards, and so do bots and Power Automate.

use serde_json::{Value, json};

use super::{counts, source_lines, strategies, time, title, workload_lines};
use crate::alerts::batch::{ChangeAlert, Tone};

/// Adaptive Card schema version: 1.4 is what Teams renders on every client.
const VERSION: &str = "1.4";

fn fact(title: &str, value: &str) -> Value {
    json!({ "title": title, "value": value })
}

/// Markdown in TextBlocks: a list item per line.
fn list(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("- {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn body(alert: &ChangeAlert, info: Option<&str>) -> Value {
    let color = match alert.tone() {
        Tone::Success => "Good",
        Tone::Waiting => "Warning",
        Tone::Failure => "Attention",
    };
    let mut facts = vec![
        fact("Source", &source_lines(alert).join(", ")),
        fact("Strategy", &strategies(alert)),
        fact("Time", &time(alert)),
    ];
    facts.extend(counts(alert).iter().map(|(k, v)| fact(k, v)));
    let card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": VERSION,
        "msteams": { "width": "Full" },
        "body": [
            {
                "type": "TextBlock",
                "text": title(alert, info),
                "weight": "Bolder",
                "size": "Medium",
                "color": color,
                "wrap": true,
            },
            { "type": "FactSet", "facts": facts },
            { "type": "TextBlock", "text": "Workloads", "weight": "Bolder", "wrap": true },
            { "type": "TextBlock", "text": list(&workload_lines(alert)), "wrap": true },
        ],
    });
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }]
    })
}
