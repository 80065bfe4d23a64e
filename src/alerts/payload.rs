//! The JSON each kind of receiver expects, built from a [`ChangeAlert`]: a Slack
//! attachment, a Teams Adaptive Card, a Google Chat card, and for generic webhooks the same
//! facts as structured fields. The words they share are made here, once; each receiver's
//! module only lays them out.

mod gchat;
mod slack;
mod teams;
mod webhook;

use serde_json::Value;

use crate::alerts::batch::{ChangeAlert, Phase};
use crate::alerts::event::AlertResult;
use crate::alerts::sink::SinkKind;
use reloader_core::workload::WorkloadRef;

/// Sources named in a title before "and N more".
const TITLE_SOURCES: usize = 3;

/// The request body for a receiver of `kind`. `info` is `--alert-additional-info`.
pub fn body(kind: SinkKind, alert: &ChangeAlert, info: Option<&str>) -> Value {
    let info = info.map(str::trim).filter(|i| !i.is_empty());
    match kind {
        SinkKind::Slack => slack::body(alert, info),
        SinkKind::Teams => teams::body(alert, info),
        SinkKind::GoogleChat => gchat::body(alert, info),
        SinkKind::Webhook => webhook::body(alert, info),
    }
}

/// Slack's mrkdwn and Google Chat's card HTML read `&`, `<` and `>` as markup (links,
/// mentions, tags): every text sent to them is escaped, so neither a name nor an error
/// message can ping a channel or break the card.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One line saying what happened, prefixed with the additional info as stakater does
/// (`<info> : <message>`).
pub fn title(alert: &ChangeAlert, info: Option<&str>) -> String {
    let c = &alert.counts;
    let single = |n: u64| match &alert.listed[..] {
        [only] if n == 1 && alert.unlisted == 0 => workload(&only.workload),
        _ => format!("{n} workload{}", if n == 1 { "" } else { "s" }),
    };
    let what = if c.failed > 0 {
        format!("Failed to reload {} of {}", c.failed, single(c.attempted()))
    } else if alert.phase == Phase::AfterPause {
        format!("Reloaded {} at the end of a pause", single(c.rolled))
    } else if c.rolled > 0 {
        format!("Reloaded {}", single(c.rolled))
    } else {
        format!("Deferred {} until a pause ends", single(c.deferred))
    };
    let mut named: Vec<String> = alert
        .sources
        .iter()
        .take(TITLE_SOURCES)
        .map(|s| format!("{} {}", s.source.kind, s.source.name))
        .collect();
    if alert.sources.len() > TITLE_SOURCES {
        named.push(format!("{} more", alert.sources.len() - TITLE_SOURCES));
    }
    let text = format!("{what} after a change to {}", named.join(", "));
    match info {
        Some(info) => format!("{info} : {text}"),
        None => text,
    }
}

/// The counts, as a receiver's key-value facts: (label, value).
pub fn counts(alert: &ChangeAlert) -> [(&'static str, String); 4] {
    let c = &alert.counts;
    [
        ("Rolled", c.rolled.to_string()),
        ("Already up to date", c.up_to_date.to_string()),
        ("Deferred by a pause", c.deferred.to_string()),
        ("Failed", c.failed.to_string()),
    ]
}

/// Each source with its namespace and short hash, one per line.
pub fn source_lines(alert: &ChangeAlert) -> Vec<String> {
    alert
        .sources
        .iter()
        .map(|s| {
            format!(
                "{} {}/{} (hash {})",
                s.source.kind, s.source.namespace, s.source.name, s.hash
            )
        })
        .collect()
}

/// The strategies the change was recorded with (`env-vars`, `annotations`).
pub fn strategies(alert: &ChangeAlert) -> String {
    let mut all: Vec<&str> = alert.sources.iter().map(|s| s.strategy).collect();
    all.sort_unstable();
    all.dedup();
    all.join(", ")
}

/// When the change's first rollout was reported, in whole seconds.
pub fn time(alert: &ChangeAlert) -> String {
    format!("{:.0}", alert.time)
}

/// `Deployment team-a/web`.
pub fn workload(w: &WorkloadRef) -> String {
    format!("{} {}/{}", w.kind, w.namespace, w.name)
}

/// Each named workload and what became of it, one per line, then "and N more".
pub fn workload_lines(alert: &ChangeAlert) -> Vec<String> {
    let mut lines: Vec<String> = alert
        .listed
        .iter()
        .map(|l| match &l.result {
            AlertResult::Failed { detail, .. } => {
                format!("{}: failed: {detail}", workload(&l.workload))
            }
            AlertResult::Deferred { until } => {
                format!("{}: deferred until {until:.0}", workload(&l.workload))
            }
            AlertResult::Rolled | AlertResult::UpToDate => workload(&l.workload),
        })
        .collect();
    if alert.unlisted > 0 {
        lines.push(format!("and {} more", alert.unlisted));
    }
    lines
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
