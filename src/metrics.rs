//! Prometheus metrics. Labels are drawn from fixed sets (webhook, result, reason, workload
//! kind): never names or anything read from an object's data, and namespaces only in the
//! one family `--metrics-by-namespace` turns on (its size grows with the namespaces). Gauges that
//! describe a state (queue depth, cache sizes, leadership) are read at scrape time by
//! probes the edges register with [`Metrics::on_scrape`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub mod client;
pub mod stakater;

use stakater::StakaterMetrics;

type Labels = Vec<(&'static str, &'static str)>;
/// Labels with a workload's namespace, which no fixed set holds.
type NamespaceLabels = Vec<(&'static str, String)>;

/// Refreshes gauges just before an exposition is encoded.
type Probe = Box<dyn Fn(&Metrics) + Send + Sync>;

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
    reconciles_by_namespace: Family<NamespaceLabels, Counter>,
    by_namespace: AtomicBool,
    trigger_results: Family<Labels, Counter>,
    alerts_sent: Family<Labels, Counter>,
    alerts_dropped: Family<Labels, Counter>,
    trigger_queue_depth: Gauge,
    write_to_patch_seconds: Histogram,
    cert_expiry: Gauge,
    cache_objects: Family<Labels, Gauge>,
    leader: Gauge,
    caches_synced: Gauge,
    rest_requests: Family<NamespaceLabels, Counter>,
    rest_seconds: Family<NamespaceLabels, Histogram>,
    /// stakater/Reloader's names, fed beside ours.
    pub stakater: StakaterMetrics,
    probes: Mutex<Vec<Probe>>,
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
        // client-go's names have no prefix; everything else is `reloader_…`.
        let mut root = Registry::default();
        let registry = root.sub_registry_with_prefix("reloader");
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
            "Workload reconciles, by workload kind, outcome (reloaded, up_to_date, deferred, gone, failed) and error reason",
            reconciles.clone(),
        );
        let reconciles_by_namespace = Family::<NamespaceLabels, Counter>::default();
        registry.register(
            "reconciles_by_namespace",
            "Workload reconciles by workload namespace, kind and outcome (only with --metrics-by-namespace)",
            reconciles_by_namespace.clone(),
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
        let trigger_queue_depth = Gauge::default();
        registry.register(
            "trigger_queue_depth",
            "Triggers admitted by the webhook and not yet taken by the reload engine",
            trigger_queue_depth.clone(),
        );
        // 50 ms .. ~100 s: the coalescing window, the source wait and a pause all count.
        let write_to_patch_seconds = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(0.05, 2.0, 12),
        );
        registry.register(
            "write_to_patch_duration_seconds",
            "Time from the admission of a Secret or ConfigMap write to the successful patch of a workload for it",
            write_to_patch_seconds.clone(),
        );
        let cert_expiry = Gauge::default();
        registry.register(
            "tls_certificate_expiry_timestamp_seconds",
            "notAfter of the serving certificate in use, in Unix seconds",
            cert_expiry.clone(),
        );
        let cache_objects = Family::<Labels, Gauge>::default();
        registry.register(
            "workload_cache_objects",
            "Objects in the engine's workload caches, by workload kind",
            cache_objects.clone(),
        );
        let caches_synced = Gauge::default();
        registry.register(
            "caches_synced",
            "1 once the workload caches have been listed at start (start-up is done), else 0",
            caches_synced.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "is_leader",
            "1 while this replica holds the lease (or runs without --leader-elect), else 0",
            leader.clone(),
        );
        // Families with a fixed, small set of labels start at zero, so that a dashboard
        // shows 0 (and `rate` has a start) before the first drop or certificate reload.
        for (family, label, values) in [
            (&triggers_dropped, "reason", &["full", "closed"][..]),
            (
                &alerts_dropped,
                "reason",
                &["queue_full", "repeated_failure"][..],
            ),
            (&cert_reloads, "result", &["success", "failure"][..]),
        ] {
            for value in values {
                family.get_or_create_owned(&vec![(label, *value)]);
            }
        }
        let stakater = StakaterMetrics::register(registry);
        let rest_requests = Family::<NamespaceLabels, Counter>::default();
        root.register(
            "rest_client_requests",
            "Requests of the Kubernetes client, by HTTP status code, method and API server (client-go's name)",
            rest_requests.clone(),
        );
        let rest_seconds = Family::<NamespaceLabels, Histogram>::new_with_constructor(|| {
            // client-go's buckets: 5 ms .. ~1 min.
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.005, 2.0, 14,
            ))
        });
        root.register(
            "rest_client_request_duration_seconds",
            "Time to the response of each Kubernetes client request, by verb and API server (client-go's name)",
            rest_seconds.clone(),
        );
        Self {
            registry: root,
            rest_requests,
            rest_seconds,
            stakater,
            caches_synced,
            alerts_sent,
            alerts_dropped,
            reviews,
            review_seconds,
            triggers_queued,
            triggers_dropped,
            cert_reloads,
            reload_executed,
            reconciles,
            reconciles_by_namespace,
            by_namespace: AtomicBool::new(false),
            trigger_results,
            trigger_queue_depth,
            write_to_patch_seconds,
            cert_expiry,
            cache_objects,
            leader,
            probes: Mutex::new(Vec::new()),
        }
    }

    /// Runs `probe` before every exposition, to set gauges from the state they describe.
    pub fn on_scrape(&self, probe: impl Fn(&Metrics) + Send + Sync + 'static) {
        self.probes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(probe));
    }

    pub fn trigger_queue_depth(&self, depth: usize) {
        self.trigger_queue_depth.set(gauge_value(depth));
        self.stakater.queue_depth(gauge_value(depth));
    }

    /// One workload patched for a write admitted `took` ago.
    pub fn write_to_patch(&self, took: Duration) {
        self.write_to_patch_seconds.observe(took.as_secs_f64());
    }

    /// The serving certificate's notAfter, in Unix seconds.
    pub fn cert_expiry(&self, not_after: i64) {
        self.cert_expiry.set(not_after);
    }

    /// `kind` is a workload kind's name (`Deployment`, `StatefulSet`, ...).
    pub fn cache_objects(&self, kind: &'static str, objects: usize) {
        self.cache_objects
            .get_or_create(&vec![("kind", kind)])
            .set(gauge_value(objects));
    }

    pub fn leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
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
        self.stakater.queued();
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

    /// Also counts reconciles per workload namespace (`--metrics-by-namespace`).
    pub fn count_by_namespace(&self, on: bool) {
        self.by_namespace.store(on, Ordering::Relaxed);
    }

    /// One reconcile of a workload of `kind` in `namespace`; `reason` is the error's label
    /// when `outcome` is `failed`, else `none`.
    pub fn reconcile(
        &self,
        kind: &'static str,
        namespace: &str,
        outcome: &'static str,
        reason: &'static str,
    ) {
        self.reconciles
            .get_or_create(&vec![
                ("kind", kind),
                ("outcome", outcome),
                ("reason", reason),
            ])
            .inc();
        if self.by_namespace.load(Ordering::Relaxed) {
            self.reconciles_by_namespace
                .get_or_create(&vec![
                    ("workload_namespace", namespace.to_owned()),
                    ("kind", kind.to_owned()),
                    ("outcome", outcome.to_owned()),
                ])
                .inc();
        }
        let success = match outcome {
            "reloaded" => "true",
            "failed" => "false",
            "up_to_date" => return self.stakater.skipped("strategy_not_updated"),
            _ => return,
        };
        self.stakater.action(
            kind,
            if success == "true" {
                "success"
            } else {
                "error"
            },
        );
        if self.by_namespace.load(Ordering::Relaxed) {
            self.stakater
                .reload_by_namespace(namespace, success == "true");
        }
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

    /// One request of the Kubernetes client (see [`client::CountRequests`]).
    pub fn rest_request(&self, code: &str, method: &'static str, host: &str, took: Duration) {
        self.rest_requests
            .get_or_create(&vec![
                ("code", code.to_owned()),
                ("method", method.to_owned()),
                ("host", host.to_owned()),
            ])
            .inc();
        self.rest_seconds
            .get_or_create(&vec![
                ("verb", method.to_owned()),
                ("host", host.to_owned()),
            ])
            .observe(took.as_secs_f64());
    }

    /// The workload caches have been listed (or not yet).
    pub fn caches_synced(&self, synced: bool) {
        self.caches_synced.set(i64::from(synced));
    }

    /// The OpenMetrics text exposition, after running the probes.
    pub fn encode(&self) -> String {
        for probe in self.probes.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            probe(self);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
