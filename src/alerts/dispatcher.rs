//! The one alert dispatcher: the engine hands it an event after each reload attempt and
//! goes on at once; a task of its own formats and posts the alerts.
//!
//! The queue is bounded: when receivers are slower than reloads, further alerts are
//! dropped and counted (`reloader_alerts_dropped_total{reason="queue_full"}`) rather than
//! holding up a rollout.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;

use crate::alerts::delivery::{self, ClientError, DeliveryPolicy};
use crate::alerts::error::AlertError;
use crate::alerts::event::AlertEvent;
use crate::alerts::payload;
use crate::alerts::repeat::FailureMemory;
use crate::alerts::secret_url;
use crate::alerts::sink::{self, ConfigSinks, Route, SinkUrl};
use crate::alerts::url;
use crate::metrics::Metrics;

/// Alerts waiting to be sent. One is queued per reload attempt, so this holds a rollout
/// of a ConfigMap shared by a thousand workloads while a receiver is slow.
pub const QUEUE: usize = 1024;

/// Alerts posted at the same time; more would only pile up at a slow receiver.
const IN_FLIGHT: usize = 4;

/// One reload attempt and the ReloaderConfig sinks that want to hear of it.
#[derive(Clone, Debug)]
pub struct Dispatch {
    pub event: AlertEvent,
    pub configs: Vec<ConfigSinks>,
}

/// The engine's end of the queue: never waits.
#[derive(Clone, Debug)]
pub struct AlertSender {
    tx: Option<mpsc::Sender<Dispatch>>,
    global: bool,
    metrics: Option<Arc<Metrics>>,
}

impl AlertSender {
    /// Sends nothing (no dispatcher running).
    pub fn disabled() -> Self {
        Self {
            tx: None,
            global: false,
            metrics: None,
        }
    }

    /// Queues an alert unless nobody would receive it; a full queue counts a drop.
    pub fn send(&self, event: AlertEvent, configs: Vec<ConfigSinks>) {
        let Some(tx) = &self.tx else { return };
        if configs.is_empty() && !self.global {
            return;
        }
        let reason = match tx.try_send(Dispatch { event, configs }) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(_)) => "queue_full",
            Err(mpsc::error::TrySendError::Closed(_)) => "closed",
        };
        tracing::warn!(reason, "alert dropped");
        if let Some(m) = &self.metrics {
            m.alert_dropped(reason);
        }
    }
}

/// What the dispatcher is told at start.
#[derive(Clone, Debug, Default)]
pub struct DispatcherOptions {
    /// The process-wide sink (`--alert-on-reload`), which hears of every reload.
    pub global: Option<Route>,
    /// Put in front of every message (`--alert-additional-info`, e.g. the cluster name).
    pub additional_info: Option<String>,
    /// Post to `http://` URLs too (`--allow-insecure-alert-urls`).
    pub allow_insecure: bool,
    pub policy: DeliveryPolicy,
    /// `--alert-webhook-proxy`.
    pub proxy: Option<String>,
}

/// Formats and posts alerts.
pub struct Dispatcher {
    http: reqwest::Client,
    kube: Option<kube::Client>,
    options: DispatcherOptions,
    metrics: Arc<Metrics>,
}

/// The queue between engine and dispatcher.
pub fn channel(
    capacity: usize,
    options: &DispatcherOptions,
    metrics: Arc<Metrics>,
) -> (AlertSender, mpsc::Receiver<Dispatch>) {
    let (tx, rx) = mpsc::channel(capacity);
    let sender = AlertSender {
        tx: Some(tx),
        global: options.global.is_some(),
        metrics: Some(metrics),
    };
    (sender, rx)
}

impl Dispatcher {
    /// `kube` reads URLs from Secrets; without it such sinks fail (and are counted).
    pub fn new(
        options: DispatcherOptions,
        kube: Option<kube::Client>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, ClientError> {
        let http = delivery::client(options.proxy.as_deref(), &options.policy)?;
        Ok(Self {
            http,
            kube,
            options,
            metrics,
        })
    }

    /// Sends what arrives until every sender is gone and the queue is empty.
    pub async fn run(self, rx: mpsc::Receiver<Dispatch>) {
        let mut memory = FailureMemory::default();
        let metrics = self.metrics.clone();
        let queue =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|d| (d, rx)) });
        queue
            .filter(|d| {
                let admit = memory.admit(&d.event);
                if !admit {
                    metrics.alert_dropped("repeated_failure");
                }
                std::future::ready(admit)
            })
            .for_each_concurrent(IN_FLIGHT, |d| self.dispatch(d))
            .await;
    }

    async fn dispatch(&self, d: Dispatch) {
        let routes = sink::routes(&d.configs, self.options.global.as_ref());
        futures::future::join_all(routes.iter().map(|r| self.deliver(r, &d.event))).await;
    }

    async fn deliver(&self, route: &Route, event: &AlertEvent) {
        let sink = route.kind.label();
        let secret = match &route.url {
            SinkUrl::Secret {
                namespace, name, ..
            } => Some(format!("{namespace}/{name}")),
            SinkUrl::Inline(_) => None,
        };
        let mut host = None;
        let result = async {
            let text = match &route.url {
                SinkUrl::Inline(text) => text.clone(),
                SinkUrl::Secret {
                    namespace,
                    name,
                    key,
                } => secret_url::read(self.kube.as_ref(), namespace, name, key).await?,
            };
            let target = url::checked(&text, self.options.allow_insecure)?;
            host = Some(url::shown(&target));
            let body = payload::body(route.kind, event, self.options.additional_info.as_deref());
            delivery::post(&self.http, &target, &body, &self.options.policy).await
        }
        .await;
        let workload = &event.workload;
        match result {
            Ok(attempts) => {
                self.metrics.alert_sent(sink, "success");
                tracing::debug!(sink, host = host.as_deref(), %workload, attempts, "alert sent");
            }
            Err(e) => {
                self.metrics.alert_sent(sink, e.label());
                warn(sink, host.as_deref(), secret.as_deref(), event, &e);
            }
        }
    }
}

// Host and the Secret's name only: the rest of the URL is the receiver's credential.
fn warn(sink: &str, host: Option<&str>, secret: Option<&str>, event: &AlertEvent, e: &AlertError) {
    tracing::warn!(
        sink,
        host,
        secret,
        workload = %event.workload,
        reason = e.label(),
        error = %e,
        "alert not delivered"
    );
}
