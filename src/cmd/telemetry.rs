//! Logging: text or JSON lines on stderr, filtered by `--log-level` (an `EnvFilter`
//! directive such as `info` or `reloader=debug,hyper=info`).

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid --log-level {level:?}: {reason}")]
    BadLevel { level: String, reason: String },
    #[error("a global logger is already installed")]
    AlreadyInstalled,
}

/// A subscriber writing to `writer`; used by `init` and by tests that capture logs.
pub fn subscriber<W>(
    format: LogFormat,
    level: &str,
    writer: W,
) -> Result<Box<dyn tracing::Subscriber + Send + Sync>, TelemetryError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::builder()
        .parse(level)
        .map_err(|e| TelemetryError::BadLevel {
            level: level.to_owned(),
            reason: e.to_string(),
        })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    Ok(match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
    })
}

/// Installs the global subscriber on stderr (and bridges the `log` crate, which rustls
/// uses, into it).
pub fn init(format: LogFormat, level: &str) -> Result<(), TelemetryError> {
    subscriber(format, level, std::io::stderr)?
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)
}
