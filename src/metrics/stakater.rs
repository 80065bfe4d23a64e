//! stakater/Reloader's metric names and labels, served beside ours so that dashboards and
//! alerts written for it keep working. Each is counted where reloader does what upstream's
//! counted step did (an informer event is an admitted review here, its work queue is the
//! trigger queue, a handler run is a trigger's resolution, an action is a workload's
//! reconcile). Labels come from upstream's fixed sets; namespaces only in the
//! `_by_namespace` family, behind the same switch as ours.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, &'static str)>;
type NamespaceLabels = Vec<(&'static str, String)>;

/// Upstream's buckets, so its dashboards' `histogram_quantile` reads the same.
const RECONCILE_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const ACTION_BUCKETS: [f64; 11] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const QUEUE_BUCKETS: [f64; 11] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The families, registered under the `reloader_` prefix.
pub struct StakaterMetrics {
    reconcile: Family<Labels, Counter>,
    reconcile_seconds: Family<Labels, Histogram>,
    action: Family<Labels, Counter>,
    action_seconds: Family<Labels, Histogram>,
    skipped: Family<Labels, Counter>,
    queue_depth: Gauge,
    queue_adds: Counter,
    queue_seconds: Histogram,
    errors: Family<Labels, Counter>,
    retries: Counter,
    events_received: Family<Labels, Counter>,
    events_processed: Family<Labels, Counter>,
    workloads_matched: Family<Labels, Counter>,
    reloads_by_namespace: Family<NamespaceLabels, Gauge>,
}

fn reconcile_histogram() -> Histogram {
    Histogram::new(RECONCILE_BUCKETS.iter().copied())
}

fn action_histogram() -> Histogram {
    Histogram::new(ACTION_BUCKETS.iter().copied())
}

impl StakaterMetrics {
    pub fn register(registry: &mut Registry) -> StakaterMetrics {
        let m = StakaterMetrics {
            reconcile: Family::default(),
            reconcile_seconds: Family::new_with_constructor(reconcile_histogram),
            action: Family::default(),
            action_seconds: Family::new_with_constructor(action_histogram),
            skipped: Family::default(),
            queue_depth: Gauge::default(),
            queue_adds: Counter::default(),
            queue_seconds: Histogram::new(QUEUE_BUCKETS.iter().copied()),
            errors: Family::default(),
            retries: Counter::default(),
            events_received: Family::default(),
            events_processed: Family::default(),
            workloads_matched: Family::default(),
            reloads_by_namespace: Family::default(),
        };
        let r = registry;
        r.register(
            "reconcile",
            "stakater: triggers resolved, by result (success, error)",
            m.reconcile.clone(),
        );
        r.register(
            "reconcile_duration_seconds",
            "stakater: time to resolve one trigger, by result",
            m.reconcile_seconds.clone(),
        );
        r.register(
            "action",
            "stakater: workload reloads, by workload_kind and result (success, error)",
            m.action.clone(),
        );
        r.register(
            "action_latency_seconds",
            "stakater: time from the admitted write to the workload's patch, by workload_kind",
            m.action_seconds.clone(),
        );
        r.register(
            "skipped",
            "stakater: changes or reloads skipped, by reason (no_data_change, ignored_or_not_selected, strategy_not_updated)",
            m.skipped.clone(),
        );
        r.register(
            "workqueue_depth",
            "stakater: triggers waiting for the engine",
            m.queue_depth.clone(),
        );
        r.register(
            "workqueue_adds",
            "stakater: triggers handed to the engine",
            m.queue_adds.clone(),
        );
        r.register(
            "workqueue_latency_seconds",
            "stakater: time from admission until the engine takes the trigger",
            m.queue_seconds.clone(),
        );
        r.register(
            "errors",
            "stakater: errors by type (handler_error)",
            m.errors.clone(),
        );
        r.register(
            "retries",
            "stakater: reconcile attempts repeated after a conflict or a transient API error",
            m.retries.clone(),
        );
        r.register(
            "events_received",
            "stakater: Secret and ConfigMap writes reviewed, by event_type (add, update, delete) and resource_type",
            m.events_received.clone(),
        );
        r.register(
            "events_processed",
            "stakater: triggers finished, by event_type (unknown, as upstream), resource_type and result (success, dropped)",
            m.events_processed.clone(),
        );
        r.register(
            "workloads_matched",
            "stakater: workloads found following a changed source, by kind",
            m.workloads_matched.clone(),
        );
        // A gauge: the exposition appends `_total` to every counter, and upstream's name
        // does not end in it. It only ever grows, so `rate()` reads it as upstream's.
        r.register(
            "reload_executed_total_by_namespace",
            "stakater: workload rollouts attempted, by success and namespace (only with --metrics-by-namespace)",
            m.reloads_by_namespace.clone(),
        );
        m
    }

    /// A review of a Secret's or ConfigMap's write: `event_type` is `add`, `update` or
    /// `delete`, `resource_type` `secrets` or `configmaps`.
    pub fn event_received(&self, event_type: &'static str, resource_type: &'static str) {
        self.events_received
            .get_or_create(&vec![
                ("event_type", event_type),
                ("resource_type", resource_type),
            ])
            .inc();
    }

    pub fn skipped(&self, reason: &'static str) {
        self.skipped.get_or_create(&vec![("reason", reason)]).inc();
    }

    pub fn queued(&self) {
        self.queue_adds.inc();
    }

    pub fn queue_depth(&self, depth: i64) {
        self.queue_depth.set(depth);
    }

    /// The engine took a trigger admitted `waited` ago.
    pub fn dequeued(&self, waited: Duration) {
        self.queue_seconds.observe(waited.as_secs_f64());
    }

    /// A trigger resolved (`success`) or given up (`error`), after `took`.
    pub fn reconcile(&self, resource_type: &'static str, result: &'static str, took: Duration) {
        self.reconcile
            .get_or_create(&vec![("result", result)])
            .inc();
        self.reconcile_seconds
            .get_or_create(&vec![("result", result)])
            .observe(took.as_secs_f64());
        let processed = if result == "success" {
            "success"
        } else {
            "dropped"
        };
        self.events_processed
            .get_or_create(&vec![
                ("event_type", "unknown"),
                ("resource_type", resource_type),
                ("result", processed),
            ])
            .inc();
        if result != "success" {
            self.error("handler_error");
        }
    }

    pub fn matched(&self, kind: &'static str, workloads: u64) {
        self.workloads_matched
            .get_or_create(&vec![("kind", kind)])
            .inc_by(workloads);
    }

    /// A workload rolled (`success`) or failed to (`error`).
    pub fn action(&self, kind: &'static str, result: &'static str) {
        self.action
            .get_or_create(&vec![("workload_kind", kind), ("result", result)])
            .inc();
        if result != "success" {
            self.error("handler_error");
        }
    }

    /// A workload patched `latency` after the write it was for was admitted.
    pub fn action_latency(&self, kind: &'static str, latency: Duration) {
        self.action_seconds
            .get_or_create(&vec![("workload_kind", kind)])
            .observe(latency.as_secs_f64());
    }

    pub fn error(&self, kind: &'static str) {
        self.errors.get_or_create(&vec![("type", kind)]).inc();
    }

    pub fn retry(&self) {
        self.retries.inc();
    }

    pub fn reload_by_namespace(&self, namespace: &str, success: bool) {
        self.reloads_by_namespace
            .get_or_create(&vec![
                ("success", success.to_string()),
                ("namespace", namespace.to_owned()),
            ])
            .inc();
    }
}
