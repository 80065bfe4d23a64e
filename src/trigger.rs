//! What the webhook hands to the reload engine: one admitted change of a source's data.
//!
//! The queue between them is bounded and never blocks the admission answer: when it is
//! full the trigger is dropped and counted, and the periodic resync repairs what was lost
//! (the engine reconciles against the stored source anyway, so a trigger is only a hint).

use std::time::SystemTime;

use tokio::sync::mpsc;

use crate::metrics::Metrics;
use reloader_core::hash::SourceHash;
use reloader_core::source::{SourceKind, SourceRef};

/// How many triggers may wait for the engine.
///
/// A trigger is about 250 bytes, so a full queue holds about 1 MiB. The engine coalesces
/// per workload and drains in microseconds per trigger; 4096 absorbs a burst such as a
/// `kubectl apply -f` of a few thousand Secrets or a Helm upgrade touching every
/// ConfigMap of a large namespace, while keeping memory bounded when the engine is stuck
/// (for example while it waits for leadership). Beyond that, resync is the better repair.
pub const QUEUE_CAPACITY: usize = 4096;

/// The write that was admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admitted {
    Create,
    Update,
    Delete,
}

impl Admitted {
    pub fn as_str(self) -> &'static str {
        match self {
            Admitted::Create => "CREATE",
            Admitted::Update => "UPDATE",
            Admitted::Delete => "DELETE",
        }
    }
}

/// One admitted change of a Secret's or ConfigMap's data. Carries no data (at most a
/// hash), so it is safe to log with `Debug`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub namespace: String,
    pub kind: SourceKind,
    pub name: String,
    /// How to recognise the source as it was before the write.
    pub before: Before,
    pub operation: Admitted,
    /// The AdmissionReview `uid`, to correlate with the API server's audit log.
    pub uid: String,
    pub admitted_at: SystemTime,
}

/// The source as it was before the write, as the engine recognises it in a read while the
/// write is not stored yet. The webhook hashes nothing for this: the `resourceVersion` the
/// API server gave the old object says it for free.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Before {
    /// CREATE: there was nothing.
    Nothing,
    /// The old object's `metadata.resourceVersion`.
    Version(String),
    /// The old object's hash, for a review whose old object carries no `resourceVersion`
    /// (the API server always sets one; hand-made reviews may not).
    Hash(SourceHash),
}

impl Before {
    /// For logs: the version, or the short hash.
    pub fn describe(&self) -> String {
        match self {
            Before::Nothing => String::new(),
            Before::Version(v) => format!("rv {v}"),
            Before::Hash(h) => h.short(),
        }
    }
}

impl Trigger {
    pub fn source(&self) -> SourceRef {
        SourceRef::new(self.namespace.clone(), self.kind, self.name.clone())
    }
}

/// What became of an offered trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    Queued,
    /// The queue was full; resync will repair.
    DroppedFull,
    /// Nobody consumes the queue any more (shutting down).
    DroppedClosed,
}

/// The sending side, held by the webhook. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TriggerQueue {
    tx: mpsc::Sender<Trigger>,
}

/// The receiving side, held by the engine (or the logging sink until the engine exists).
pub type TriggerReceiver = mpsc::Receiver<Trigger>;

/// A bounded queue of `capacity` triggers.
pub fn queue(capacity: usize) -> (TriggerQueue, TriggerReceiver) {
    let (tx, rx) = mpsc::channel(capacity);
    (TriggerQueue { tx }, rx)
}

impl TriggerQueue {
    /// Offers a trigger without waiting.
    pub fn offer(&self, trigger: Trigger) -> Offer {
        match self.tx.try_send(trigger) {
            Ok(()) => Offer::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => Offer::DroppedFull,
            Err(mpsc::error::TrySendError::Closed(_)) => Offer::DroppedClosed,
        }
    }

    /// Triggers offered and not yet taken by the consumer.
    pub fn depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Has `metrics` read the depth at every scrape. Holds the queue weakly, so the
    /// consumer still sees it close once the webhook is gone.
    pub fn report_depth(&self, metrics: &Metrics) {
        let weak = self.tx.downgrade();
        metrics.on_scrape(move |m| {
            let depth = weak.upgrade().map_or(0, |tx| TriggerQueue { tx }.depth());
            m.trigger_queue_depth(depth);
        });
    }
}

/// Consumes triggers by logging them; stands in for the reload engine.
pub async fn log_sink(mut rx: TriggerReceiver) {
    while let Some(t) = rx.recv().await {
        tracing::info!(
            namespace = %t.namespace,
            kind = %t.kind,
            name = %t.name,
            operation = t.operation.as_str(),
            before = t.before.describe(),
            uid = %t.uid,
            "source data changed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(name: &str) -> Trigger {
        Trigger {
            namespace: "ns".into(),
            kind: SourceKind::Secret,
            name: name.into(),
            before: Before::Nothing,
            operation: Admitted::Update,
            uid: "u".into(),
            admitted_at: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_full_queue_drops_instead_of_waiting() {
        let (q, mut rx) = queue(1);
        assert_eq!(q.offer(trigger("a")), Offer::Queued);
        assert_eq!(q.offer(trigger("b")), Offer::DroppedFull);
        assert_eq!(rx.try_recv().unwrap().name, "a");
        assert_eq!(q.offer(trigger("c")), Offer::Queued);
    }

    #[test]
    fn the_depth_counts_offered_triggers_until_taken() {
        let (q, mut rx) = queue(4);
        let metrics = Metrics::new();
        q.report_depth(&metrics);
        let depth = |m: &Metrics| {
            m.encode()
                .contains(&format!("reloader_trigger_queue_depth {}\n", q.depth()))
        };
        type Step = fn(&TriggerQueue, &mut TriggerReceiver);
        let steps: &[(&str, Step, usize)] = &[
            ("empty", |_, _| {}, 0),
            (
                "one offered",
                |q, _| assert_eq!(q.offer(trigger("a")), Offer::Queued),
                1,
            ),
            (
                "two offered",
                |q, _| assert_eq!(q.offer(trigger("b")), Offer::Queued),
                2,
            ),
            ("one taken", |_, rx| assert!(rx.try_recv().is_ok()), 1),
            ("all taken", |_, rx| assert!(rx.try_recv().is_ok()), 0),
        ];
        for (name, step, want) in steps {
            step(&q, &mut rx);
            assert_eq!(q.depth(), *want, "{name}");
            assert!(depth(&metrics), "{name}: {}", metrics.encode());
        }
    }

    #[tokio::test]
    async fn reporting_the_depth_does_not_keep_the_queue_open() {
        let (q, mut rx) = queue(4);
        let metrics = Metrics::new();
        q.report_depth(&metrics);
        drop(q);
        assert!(
            rx.recv().await.is_none(),
            "the consumer sees the queue close"
        );
        assert!(
            metrics
                .encode()
                .contains("reloader_trigger_queue_depth 0\n")
        );
    }

    #[test]
    fn a_queue_without_consumer_reports_closed() {
        let (q, rx) = queue(1);
        drop(rx);
        assert_eq!(q.offer(trigger("a")), Offer::DroppedClosed);
    }
}
