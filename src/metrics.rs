//! Prometheus metrics. Labels are drawn from fixed sets (webhook, result, reason): never
//! names, namespaces or anything read from an object's data.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, &'static str)>;

/// Every metric the webhook server exports.
pub struct Metrics {
    registry: Registry,
    reviews: Family<Labels, Counter>,
    review_seconds: Family<Labels, Histogram>,
    triggers_queued: Counter,
    triggers_dropped: Family<Labels, Counter>,
    cert_reloads: Family<Labels, Counter>,
    reload_executed: Family<Labels, Counter>,
    reconciles: Family<Labels, Counter>,
    trigger_results: Family<Labels, Counter>,
    alerts_sent: Family<Labels, Counter>,
    alerts_dropped: Family<Labels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("reloader");
        let reviews = Family::<Labels, Counter>::default();
        registry.register(
            "admission_reviews",
            "AdmissionReviews answered, by webhook and result",
            reviews.clone(),
        );
        let review_seconds = Family::<Labels, Histogram>::new_with_constructor(|| {
            // 50 µs .. ~100 ms.
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.00005, 2.0, 12,
            ))
        });
        registry.register(
            "admission_review_duration_seconds",
            "Time to read, decide and answer one AdmissionReview",
            review_seconds.clone(),
        );
        let triggers_queued = Counter::default();
        registry.register(
            "triggers_queued",
            "Source changes handed to the reload engine",
            triggers_queued.clone(),
        );
        let triggers_dropped = Family::<Labels, Counter>::default();
        registry.register(
            "triggers_dropped",
            "Source changes dropped because the queue was full or closed; resync repairs them",
            triggers_dropped.clone(),
        );
        let cert_reloads = Family::<Labels, Counter>::default();
        registry.register(
            "tls_certificate_reloads",
            "Attempts to load a changed serving certificate, by result",
            cert_reloads.clone(),
        );
        let reload_executed = Family::<Labels, Counter>::default();
        registry.register(
            "reload_executed",
            "Workload rollouts attempted by the engine (stakater-compatible), by success",
            reload_executed.clone(),
        );
        let reconciles = Family::<Labels, Counter>::default();
        registry.register(
            "reconciles",
            "Workload reconciles, by outcome (reloaded, up_to_date, deferred, gone, failed) and error reason",
            reconciles.clone(),
        );
        let trigger_results = Family::<Labels, Counter>::default();
        registry.register(
            "trigger_results",
            "Triggers resolved against the stored source, by result",
            trigger_results.clone(),
        );
        let alerts_sent = Family::<Labels, Counter>::default();
        registry.register(
            "alerts_sent",
            "Alerts handed to a receiver, by sink and result (success or why not)",
            alerts_sent.clone(),
        );
        let alerts_dropped = Family::<Labels, Counter>::default();
        registry.register(
            "alerts_dropped",
            "Alerts never attempted: queue full or closed, or a failure already announced",
            alerts_dropped.clone(),
        );
        Self {
            registry,
            alerts_sent,
            alerts_dropped,
            reviews,
            review_seconds,
            triggers_queued,
            triggers_dropped,
            cert_reloads,
            reload_executed,
            reconciles,
            trigger_results,
        }
    }

    /// Counts one answered review. `result` is a fixed word such as `triggered`, `ignored`,
    /// `allowed`, `denied` or `rejected`.
    pub fn review(&self, webhook: &'static str, result: &'static str, took: Duration) {
        self.reviews
            .get_or_create(&vec![("webhook", webhook), ("result", result)])
            .inc();
        self.review_seconds
            .get_or_create(&vec![("webhook", webhook)])
            .observe(took.as_secs_f64());
    }

    pub fn trigger_queued(&self) {
        self.triggers_queued.inc();
    }

    /// `reason` is `full` or `closed`.
    pub fn trigger_dropped(&self, reason: &'static str) {
        self.triggers_dropped
            .get_or_create(&vec![("reason", reason)])
            .inc();
    }

    /// `result` is `success` or `failure`.
    pub fn cert_reload(&self, result: &'static str) {
        self.cert_reloads
            .get_or_create(&vec![("result", result)])
            .inc();
    }

    /// One reconcile of a workload; `reason` is the error's label when `outcome` is
    /// `failed`, else `none`.
    pub fn reconcile(&self, outcome: &'static str, reason: &'static str) {
        self.reconciles
            .get_or_create(&vec![("outcome", outcome), ("reason", reason)])
            .inc();
        let success = match outcome {
            "reloaded" => "true",
            "failed" => "false",
            _ => return,
        };
        self.reload_executed
            .get_or_create(&vec![("success", success)])
            .inc();
    }

    /// One trigger resolved: `followers`, `no_followers`, or the source error's label.
    pub fn trigger_result(&self, result: &'static str) {
        self.trigger_results
            .get_or_create(&vec![("result", result)])
            .inc();
    }

    /// One alert for one receiver; `result` is `success` or the error's label.
    pub fn alert_sent(&self, sink: &'static str, result: &'static str) {
        self.alerts_sent
            .get_or_create(&vec![("sink", sink), ("result", result)])
            .inc();
    }

    /// `reason` is `queue_full` or `repeated_failure`.
    pub fn alert_dropped(&self, reason: &'static str) {
        self.alerts_dropped
            .get_or_create(&vec![("reason", reason)])
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests;
