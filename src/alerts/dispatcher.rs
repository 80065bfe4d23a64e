//! The one alert dispatcher: the engine reports each reload attempt and goes on at once;
//! the reports gather per change and receiver (`batch`), and a task of its own formats and
//! posts one alert per change as each goes quiet, at each receiver's pace.
//!
//! What waits is bounded by changes, not workloads (`batch::MAX_OPEN`): a report for a
//! further change is dropped and counted (`reloader_alerts_dropped_total{reason="queue_full"}`)
//! rather than holding up a rollout.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::alerts::batch::{Admission, Batcher, ChangeAlert, GroupWait};
use crate::alerts::delivery::{self, ClientError, DeliveryPolicy};
use crate::alerts::error::AlertError;
use crate::alerts::event::AlertEvent;
use crate::alerts::pace::Pace;
use crate::alerts::payload;
use crate::alerts::secret_url;
use crate::alerts::sink::{self, ConfigSinks, Route, SinkUrl};
use crate::alerts::url;
use crate::metrics::Metrics;

/// Alerts posted at the same time; more would only pile up at a slow receiver.
const IN_FLIGHT: usize = 4;

/// The engine's end: adds reports to the waiting changes, never waits itself.
#[derive(Clone, Debug)]
pub struct AlertSender {
    shared: Option<Shared>,
}

#[derive(Clone, Debug)]
struct Shared {
    batcher: Arc<Mutex<Batcher>>,
    /// Wakes the dispatcher when a report arrived; closed when the last sender is gone.
    wake: mpsc::Sender<()>,
    global: Option<Route>,
    metrics: Arc<Metrics>,
}

impl AlertSender {
    /// Sends nothing (no dispatcher running).
    pub fn disabled() -> Self {
        Self { shared: None }
    }

    /// Reports one reload attempt to the receivers of `configs` and the process-wide sink.
    pub fn send(&self, event: AlertEvent, configs: Vec<ConfigSinks>) {
        let Some(s) = &self.shared else { return };
        let routes = sink::routes(&configs, s.global.as_ref());
        if routes.is_empty() {
            return;
        }
        let admission =
            s.batcher
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .add(event, &routes, Instant::now());
        let reason = match admission {
            Admission::Queued => {
                // Full means a wake-up is pending already.
                let _ = s.wake.try_send(());
                return;
            }
            Admission::Repeated => "repeated_failure",
            Admission::Full => {
                tracing::warn!("alert dropped: too many changes waiting to be announced");
                "queue_full"
            }
        };
        s.metrics.alert_dropped(reason);
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
    /// How long a change gathers reports (`--alert-group-wait`).
    pub group_wait: GroupWait,
    /// Least time between two requests to one receiver (`--alert-pace`).
    pub pace: std::time::Duration,
}

/// The dispatcher's end: the waiting changes and the wake-ups.
pub struct AlertReceiver {
    batcher: Arc<Mutex<Batcher>>,
    wake: mpsc::Receiver<()>,
}

/// The pair between engine and dispatcher.
pub fn channel(options: &DispatcherOptions, metrics: Arc<Metrics>) -> (AlertSender, AlertReceiver) {
    let batcher = Arc::new(Mutex::new(Batcher::new(options.group_wait)));
    let (tx, rx) = mpsc::channel(1);
    let sender = AlertSender {
        shared: Some(Shared {
            batcher: batcher.clone(),
            wake: tx,
            global: options.global.clone(),
            metrics,
        }),
    };
    (sender, AlertReceiver { batcher, wake: rx })
}

/// Formats and posts alerts.
pub struct Dispatcher {
    http: reqwest::Client,
    kube: Option<kube::Client>,
    pace: Pace,
    options: DispatcherOptions,
    metrics: Arc<Metrics>,
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
            pace: Pace::new(options.pace),
            options,
            metrics,
        })
    }

    /// Sends each change as it goes quiet, until every sender is gone; then sends what
    /// still waits and returns once all is posted.
    pub async fn run(self, mut rx: AlertReceiver) {
        let this = Arc::new(self);
        let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
        let mut posting = JoinSet::new();
        loop {
            let next = rx.lock().next_due();
            let open = tokio::select! {
                woken = rx.wake.recv() => woken.is_some(),
                _ = sleep_until(next) => true,
                Some(_) = posting.join_next(), if !posting.is_empty() => true,
            };
            let due = if open {
                rx.lock().take_due(Instant::now())
            } else {
                rx.lock().take_all()
            };
            for (route, alert) in due {
                let (this, in_flight) = (this.clone(), in_flight.clone());
                posting.spawn(async move {
                    let _permit = in_flight.acquire_owned().await;
                    this.deliver(route, alert).await;
                });
            }
            if !open {
                break;
            }
        }
        while posting.join_next().await.is_some() {}
    }

    async fn deliver(&self, route: Route, alert: ChangeAlert) {
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
            let body = payload::body(route.kind, &alert, self.options.additional_info.as_deref());
            let policy = &self.options.policy;
            delivery::post(&self.http, &target, &body, policy, &self.pace).await
        }
        .await;
        let rolled = alert.counts.rolled;
        match result {
            Ok(attempts) => {
                self.metrics.alert_sent(sink, "success");
                tracing::debug!(sink, host = host.as_deref(), rolled, attempts, "alert sent");
            }
            Err(e) => {
                self.metrics.alert_sent(sink, e.label());
                warn(sink, host.as_deref(), secret.as_deref(), &alert, &e);
            }
        }
    }
}

impl AlertReceiver {
    fn lock(&self) -> std::sync::MutexGuard<'_, Batcher> {
        self.batcher.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

// Host and the Secret's name only: the rest of the URL is the receiver's credential.
fn warn(sink: &str, host: Option<&str>, secret: Option<&str>, alert: &ChangeAlert, e: &AlertError) {
    let sources = payload::source_lines(alert).join(", ");
    tracing::warn!(
        sink,
        host,
        secret,
        sources,
        reason = e.label(),
        error = %e,
        "alert not delivered"
    );
}
