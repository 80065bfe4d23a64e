//! Where alerts go: the kinds of receiver, and which receivers hear of one reload.
//!
//! A reload asked for by a ReloaderConfig goes to that config's `spec.alerts`; the
//! process-wide sink (`--alert-on-reload`) hears of every reload.

use std::fmt;
use std::str::FromStr;

use reloader_core::crd::{AlertSink, Alerts};
use reloader_core::index::ConfigId;

/// The receivers we can format for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SinkKind {
    Slack,
    Teams,
    GoogleChat,
    Webhook,
}

impl SinkKind {
    /// Metric label and the value `--alert-sink` takes.
    pub fn label(self) -> &'static str {
        match self {
            SinkKind::Slack => "slack",
            SinkKind::Teams => "teams",
            SinkKind::GoogleChat => "gchat",
            SinkKind::Webhook => "webhook",
        }
    }
}

impl fmt::Display for SinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// An `--alert-sink` value that names no sink.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown alert sink {0:?}: expected slack, teams, gchat or webhook")]
pub struct UnknownSink(pub String);

impl FromStr for SinkKind {
    type Err = UnknownSink;

    /// stakater's `ALERT_SINK` values, trimmed and case-insensitive; empty and `raw` mean
    /// its default, the plain webhook.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "slack" => Ok(SinkKind::Slack),
            "teams" => Ok(SinkKind::Teams),
            "gchat" | "googlechat" | "google-chat" => Ok(SinkKind::GoogleChat),
            "" | "webhook" | "raw" => Ok(SinkKind::Webhook),
            _ => Err(UnknownSink(s.to_owned())),
        }
    }
}

/// Where a sink's URL comes from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum SinkUrl {
    Inline(String),
    /// A key of a Secret in the ReloaderConfig's namespace, read when the alert is sent.
    Secret {
        namespace: String,
        name: String,
        key: String,
    },
}

impl SinkUrl {
    /// Whether the URL is a credential taken from a Secret (then only its host is ever shown).
    pub fn from_secret(&self) -> bool {
        matches!(self, SinkUrl::Secret { .. })
    }
}

// URLs are credentials: Debug never prints one.
impl fmt::Debug for SinkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SinkUrl::Inline(_) => f.write_str("Inline(..)"),
            SinkUrl::Secret {
                namespace,
                name,
                key,
            } => write!(f, "Secret({namespace}/{name}[{key}])"),
        }
    }
}

/// One receiver of one alert.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    pub kind: SinkKind,
    pub url: SinkUrl,
}

/// A ReloaderConfig's sinks, as the engine found them when the reload finished.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigSinks {
    pub config: ConfigId,
    pub alerts: Alerts,
}

fn route(kind: SinkKind, sink: &AlertSink, namespace: &str) -> Option<Route> {
    let url = match (&sink.url, &sink.secret_ref) {
        (Some(url), None) => SinkUrl::Inline(url.trim().to_owned()),
        (None, Some(r)) => SinkUrl::Secret {
            namespace: namespace.to_owned(),
            name: r.name.clone(),
            key: r.key.clone(),
        },
        // Validation rejects both and neither; a config stored before it is skipped.
        _ => return None,
    };
    Some(Route { kind, url })
}

/// The receivers of one reload: each ReloaderConfig's sinks, then the process-wide sink.
/// A receiver named twice (same kind, same URL source) hears of it once.
pub fn routes(configs: &[ConfigSinks], global: Option<&Route>) -> Vec<Route> {
    let mut out: Vec<Route> = Vec::new();
    for c in configs {
        let a = &c.alerts;
        let sinks = [
            (SinkKind::Slack, &a.slack),
            (SinkKind::Teams, &a.teams),
            (SinkKind::GoogleChat, &a.google_chat),
            (SinkKind::Webhook, &a.webhook),
        ];
        for (kind, sink) in sinks {
            if let Some(r) = sink
                .as_ref()
                .and_then(|s| route(kind, s, &c.config.namespace))
            {
                out.push(r);
            }
        }
    }
    out.extend(global.cloned());
    let mut unique = Vec::with_capacity(out.len());
    for r in out {
        if !unique.contains(&r) {
            unique.push(r);
        }
    }
    unique
}

#[cfg(test)]
mod tests;
