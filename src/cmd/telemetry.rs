//! Logging: text or JSON lines on stderr, filtered by `--log-level` (an `EnvFilter`
//! directive such as `info` or `reloader=debug,hyper=info`). The filter sits behind a
//! reload handle, so `PUT /log-level` (when `--log-level-endpoint` is on) can change it
//! during an incident without a restart.

use std::sync::{Mutex, OnceLock};

use clap::ValueEnum;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry};

use crate::webhook::server::LogControl;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// `--log-format`: `text` or `json` (any case), and stakater's empty value for text.
    pub fn parse_flag(text: &str) -> Result<LogFormat, String> {
        match text.to_ascii_lowercase().as_str() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("{other:?}: expected text, json or empty (text)")),
        }
    }
}

/// stakater's (Logrus) level names that `EnvFilter` does not know, as the nearest level:
/// `warning` is `warn`; `fatal` and `panic` (messages that end the process) are `error`.
/// Anything else, directives included, is left as it is.
fn from_logrus(level: &str) -> &str {
    match level.to_ascii_lowercase().as_str() {
        "warning" => "warn",
        "fatal" | "panic" => "error",
        _ => level,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid --log-level {level:?}: {reason}")]
    BadLevel { level: String, reason: String },
    #[error("a global logger is already installed")]
    AlreadyInstalled,
}

fn filter(level: &str) -> Result<EnvFilter, TelemetryError> {
    EnvFilter::builder()
        .parse(from_logrus(level))
        .map_err(|e| TelemetryError::BadLevel {
            level: level.to_owned(),
            reason: e.to_string(),
        })
}

/// The running filter: what it is, and a way to replace it.
pub struct LogLevel {
    handle: reload::Handle<EnvFilter, Registry>,
    current: Mutex<String>,
}

impl LogControl for LogLevel {
    fn get(&self) -> String {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the filter; an invalid directive leaves the old one in place.
    fn set(&self, level: &str) -> Result<(), String> {
        let level = level.trim();
        let new = filter(level).map_err(|e| e.to_string())?;
        self.handle.reload(new).map_err(|e| e.to_string())?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = level.to_owned();
        tracing::warn!(level, "log level changed at runtime");
        Ok(())
    }
}

/// A subscriber writing to `writer`, and the handle to its filter; used by `init` and by
/// tests that capture logs.
pub fn subscriber<W>(
    format: LogFormat,
    level: &str,
    writer: W,
) -> Result<(Box<dyn tracing::Subscriber + Send + Sync>, LogLevel), TelemetryError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let (filter, handle) = reload::Layer::new(filter(level)?);
    let registry = tracing_subscriber::registry().with(filter);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false);
    let subscriber: Box<dyn tracing::Subscriber + Send + Sync> = match format {
        LogFormat::Text => Box::new(registry.with(fmt)),
        LogFormat::Json => Box::new(registry.with(fmt.json().flatten_event(true))),
    };
    let level = LogLevel {
        handle,
        current: Mutex::new(level.to_owned()),
    };
    Ok((subscriber, level))
}

static LEVEL: OnceLock<LogLevel> = OnceLock::new();

/// Installs the global subscriber on stderr (and bridges the `log` crate, which rustls
/// uses, into it).
pub fn init(format: LogFormat, level: &str) -> Result<(), TelemetryError> {
    let (subscriber, handle) = subscriber(format, level, std::io::stderr)?;
    subscriber
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    let _ = LEVEL.set(handle);
    Ok(())
}

/// The global filter's handle, once `init` ran.
pub fn level() -> Option<&'static LogLevel> {
    LEVEL.get()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_filter_changes_at_runtime_and_a_bad_one_changes_nothing() {
        let out = Captured::default();
        let writer = out.clone();
        let (subscriber, level) =
            subscriber(LogFormat::Text, "info", move || writer.clone()).expect("subscriber");
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!("before");
            assert!(level.set("reloader=loud").is_err());
            assert_eq!(level.get(), "info");
            tracing::debug!("still hidden");
            level.set("debug").expect("a valid filter");
            assert_eq!(level.get(), "debug");
            tracing::debug!("after");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(
            !text.contains("before") && !text.contains("still hidden"),
            "{text}"
        );
        assert!(text.contains("after"), "{text}");
        assert!(text.contains("log level changed at runtime"), "{text}");
    }

    #[test]
    fn stakaters_level_names_filter_as_their_nearest_level() {
        // (level given, shown at warn, shown at error)
        let cases = [
            ("warning", true, true),
            ("WARNING", true, true),
            ("fatal", false, true),
            ("panic", false, true),
            ("error", false, true),
            ("info", true, true),
            ("trace", true, true),
        ];
        for (given, warn_shown, error_shown) in cases {
            let out = Captured::default();
            let writer = out.clone();
            let (subscriber, _level) = subscriber(LogFormat::Text, given, move || writer.clone())
                .unwrap_or_else(|e| panic!("{given}: {e}"));
            tracing::subscriber::with_default(subscriber, || {
                tracing::warn!("a warning line");
                tracing::error!("an error line");
            });
            let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
            assert_eq!(
                text.contains("a warning line"),
                warn_shown,
                "{given}: {text}"
            );
            assert_eq!(
                text.contains("an error line"),
                error_shown,
                "{given}: {text}"
            );
        }
    }

    #[test]
    fn log_format_takes_stakaters_empty_value_for_text() {
        let cases = [
            ("", Ok(LogFormat::Text)),
            ("text", Ok(LogFormat::Text)),
            ("json", Ok(LogFormat::Json)),
            ("JSON", Ok(LogFormat::Json)),
        ];
        for (given, want) in cases {
            assert_eq!(LogFormat::parse_flag(given), want, "{given:?}");
        }
        assert!(LogFormat::parse_flag("yaml").is_err());
    }
}
