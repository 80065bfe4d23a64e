//! Alerts on reloads: Slack, Microsoft Teams, Google Chat and generic webhooks, sent by one
//! dispatcher off the engine's path.
//!
//! `event` is what happened to one workload; `batch` gathers one change's reports into one
//! alert per receiver; `sink` decides who hears of it; `payload` formats it per receiver;
//! `url` checks and names URLs without showing their secret parts; `secret_url` reads a
//! URL from a Secret; `delivery` posts with timeout and retries, at the receiver's `pace`;
//! `repeat` keeps a lasting failure from paging again and again; `dispatcher` ties them
//! together; the process-wide flags are read by `cmd::alert_flags`.

pub mod batch;
pub mod delivery;
pub mod dispatcher;
pub mod error;
pub mod event;
pub mod pace;
pub mod payload;
pub mod repeat;
pub mod secret_url;
pub mod sink;
pub mod url;

use std::sync::Arc;

pub use batch::{ChangeAlert, GroupWait};
pub use dispatcher::{AlertReceiver, AlertSender, Dispatcher, DispatcherOptions};
pub use error::AlertError;
pub use event::{AlertEvent, AlertResult, ChangedSource};
pub use sink::{ConfigSinks, Route, SinkKind, SinkUrl};

use crate::metrics::Metrics;

/// Starts nothing yet: returns the engine's handle and the dispatcher's task, to be
/// spawned beside the engine. The task ends once every handle is dropped and the queue
/// is empty.
pub fn start(
    options: DispatcherOptions,
    kube: Option<kube::Client>,
    metrics: Arc<Metrics>,
) -> Result<(AlertSender, impl Future<Output = ()> + Send + 'static), delivery::ClientError> {
    let (sender, rx) = dispatcher::channel(&options, metrics.clone());
    let dispatcher = Dispatcher::new(options, kube, metrics)?;
    Ok((sender, dispatcher.run(rx)))
}
