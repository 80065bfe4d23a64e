//! The JSON each kind of receiver expects, built from an [`AlertEvent`]: Slack and Google
//! Chat `{"text": …}`, a Teams message card, and for generic webhooks the same facts as
//! structured fields. Names, kinds and short hashes only.

use serde_json::{Value, json};

use crate::alerts::event::{AlertEvent, AlertResult};
use crate::alerts::sink::SinkKind;

/// How names are emphasised in the message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Markup {
    /// Slack and Google Chat: `*name*`.
    Star,
    /// Teams (Markdown): `**name**`.
    DoubleStar,
    Plain,
}

impl Markup {
    fn of(kind: SinkKind) -> Self {
        match kind {
            SinkKind::Slack | SinkKind::GoogleChat => Markup::Star,
            SinkKind::Teams => Markup::DoubleStar,
            SinkKind::Webhook => Markup::Plain,
        }
    }

    fn em(self, text: &str) -> String {
        match self {
            Markup::Star => format!("*{text}*"),
            Markup::DoubleStar => format!("**{text}**"),
            Markup::Plain => text.to_owned(),
        }
    }
}

/// One line saying what happened, prefixed with the additional info as stakater does
/// (`<info> : <message>`).
fn message(event: &AlertEvent, info: Option<&str>, markup: Markup) -> String {
    let w = &event.workload;
    let workload = format!(
        "{} {} in namespace {}",
        w.kind,
        markup.em(&w.name),
        markup.em(&w.namespace)
    );
    let head = match event.result {
        AlertResult::Success => format!("Reloaded {workload}"),
        AlertResult::Failure { reason } => format!("Failed to reload {workload} ({reason} error)"),
    };
    let sources: Vec<String> = event
        .sources
        .iter()
        .map(|s| {
            format!(
                "{} {} (hash {}, {})",
                s.source.kind,
                markup.em(&s.source.name),
                s.hash,
                s.strategy
            )
        })
        .collect();
    let text = if sources.is_empty() {
        head
    } else {
        format!("{head} after a change to {}", sources.join(", "))
    };
    match info.map(str::trim).filter(|i| !i.is_empty()) {
        Some(info) => format!("{info} : {text}"),
        None => text,
    }
}

/// Slack reads `&`, `<` and `>` as control characters in message text.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The request body for a receiver of `kind`.
pub fn body(kind: SinkKind, event: &AlertEvent, info: Option<&str>) -> Value {
    let text = message(event, info, Markup::of(kind));
    match kind {
        SinkKind::Slack => json!({ "text": slack_escape(&text) }),
        SinkKind::GoogleChat => json!({ "text": text }),
        SinkKind::Teams => {
            let (title, color) = match event.result {
                AlertResult::Success => ("Reloader: workload reloaded", "2EB886"),
                AlertResult::Failure { .. } => ("Reloader: reload failed", "D40E0D"),
            };
            json!({
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "summary": title,
                "title": title,
                "themeColor": color,
                "text": text,
            })
        }
        SinkKind::Webhook => webhook(event, info, text),
    }
}

fn webhook(event: &AlertEvent, info: Option<&str>, text: String) -> Value {
    let w = &event.workload;
    let reason = match event.result {
        AlertResult::Success => Value::Null,
        AlertResult::Failure { reason } => Value::from(reason),
    };
    let sources: Vec<Value> = event
        .sources
        .iter()
        .map(|s| {
            json!({
                "kind": s.source.kind.as_str(),
                "namespace": s.source.namespace,
                "name": s.source.name,
                "hash": s.hash,
                "strategy": s.strategy,
            })
        })
        .collect();
    json!({
        "text": text,
        "result": event.result.label(),
        "reason": reason,
        "workload": { "kind": w.kind.as_str(), "namespace": w.namespace, "name": w.name },
        "sources": sources,
        // Whole seconds: receivers compare and display it, nobody needs nanoseconds.
        "time": format!("{:.0}", event.time),
        "additionalInfo": info.map(str::trim).filter(|i| !i.is_empty()),
    })
}

#[cfg(test)]
mod tests;
