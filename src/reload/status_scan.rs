//! Gives new and changed ReloaderConfigs their status within about a second, on the leader
//! (every replica without `--leader-elect`; the writer re-reads before patching, so a
//! second replica finds the status current and writes nothing).
//!
//! It rescans the caches every second rather than hooking every watch: the scan is in
//! memory, and being level-triggered it also notices a missing target being created.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::reload::engine::EngineHandle;
use crate::reload::first_status::Observed;
use crate::reload::status::Update;
use reloader_core::index::ConfigId;

const EVERY: Duration = Duration::from_secs(1);
/// A write that did not take (API error, queue full) is tried again after this long.
const RESEND_AFTER: Duration = Duration::from_secs(30);

/// What was queued, so one observation is written once, not once per scan while the
/// watch catches up with the write.
#[derive(Debug, Default)]
pub struct Sent(HashMap<ConfigId, (Observed, Instant)>);

impl Sent {
    /// The stale observations to queue now; forgets configs no longer stale.
    pub fn select(&mut self, stale: Vec<Observed>, now: Instant) -> Vec<Observed> {
        self.0.retain(|id, _| stale.iter().any(|o| &o.config == id));
        stale
            .into_iter()
            .filter(|o| match self.0.get(&o.config) {
                Some((last, at)) => last != o || now.duration_since(*at) >= RESEND_AFTER,
                None => true,
            })
            .collect()
    }

    pub fn mark(&mut self, observed: Observed, now: Instant) {
        self.0.insert(observed.config.clone(), (observed, now));
    }
}

/// Runs until shutdown; call once the workload caches are filled, or every target would
/// look missing.
pub async fn run(
    handle: EngineHandle,
    leader: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut sent = Sent::default();
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            _ = tick.tick() => {}
        }
        if !*leader.borrow() {
            continue;
        }
        let now = Instant::now();
        for observed in sent.select(handle.stale_configs(), now) {
            if handle.queue_status(Update::Observed(observed.clone())) {
                sent.mark(observed, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reloader_core::workload::{WorkloadKind, WorkloadRef};

    fn seen(name: &str, generation: i64, missing: &[&str]) -> Observed {
        Observed {
            config: ConfigId::new("ns", name),
            generation: Some(generation),
            missing: missing
                .iter()
                .map(|m| WorkloadRef::new("ns", WorkloadKind::Deployment, *m))
                .collect(),
        }
    }

    fn queue(sent: &mut Sent, stale: Vec<Observed>, now: Instant) -> Vec<Observed> {
        let out = sent.select(stale, now);
        for o in &out {
            sent.mark(o.clone(), now);
        }
        out
    }

    #[test]
    fn an_observation_is_queued_once_until_it_changes_or_goes_stale() {
        let mut sent = Sent::default();
        let t0 = Instant::now();
        assert_eq!(queue(&mut sent, vec![seen("a", 1, &["x"])], t0).len(), 1);
        assert!(queue(&mut sent, vec![seen("a", 1, &["x"])], t0 + EVERY).is_empty());
        assert_eq!(
            queue(&mut sent, vec![seen("a", 1, &[])], t0 + EVERY * 2),
            vec![seen("a", 1, &[])],
            "a target appeared"
        );
        assert_eq!(
            queue(&mut sent, vec![seen("a", 1, &[])], t0 + RESEND_AFTER * 2).len(),
            1,
            "a write that never showed is tried again"
        );
    }

    #[test]
    fn a_config_whose_status_caught_up_is_forgotten() {
        let mut sent = Sent::default();
        let t0 = Instant::now();
        queue(&mut sent, vec![seen("a", 1, &[])], t0);
        assert!(queue(&mut sent, vec![], t0 + EVERY).is_empty());
        // Behind again later (a reload wrote over it): written again.
        assert_eq!(
            queue(&mut sent, vec![seen("a", 1, &[])], t0 + EVERY * 2).len(),
            1
        );
    }
}
