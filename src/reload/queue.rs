//! Pending reloads per workload: coalescing window and due times, as plain data.
//!
//! Every change for a workload that arrives within its coalescing window of the first one
//! is applied in one patch (a ConfigMap and a Secret changed together roll it once). A
//! later read of the same source replaces an earlier one, by arrival order, so an
//! out-of-order completion never records an older hash.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use k8s_openapi::jiff::{SignedDuration, Timestamp};

use reloader_core::baseline::Wanted;
use reloader_core::index::ConfigId;
use reloader_core::reconcile::Spacing;
use reloader_core::source::SourceRef;
use reloader_core::workload::WorkloadRef;

/// One wanted record with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub wanted: Wanted,
    /// Arrival order of the trigger this came from; higher wins for the same source.
    pub seq: u64,
    /// The ReloaderConfig that asked for it, if any (for its status).
    pub config: Option<ConfigId>,
    pub pause: Option<Duration>,
    /// The coalescing window the ReloaderConfig gives this target, if any.
    pub coalesce: Option<Duration>,
    /// When the earliest write this entry stands for was admitted; `None` for resync's.
    pub admitted: Option<SystemTime>,
}

/// The pending changes of one workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub first: Timestamp,
    pub due: Timestamp,
    pub coalesce: Duration,
    pub entries: BTreeMap<(SourceRef, &'static str), Entry>,
    /// A pause deferred these changes once: their rollout is a follow-up, already announced.
    pub paused: bool,
}

impl Pending {
    pub fn wanted(&self) -> Vec<Wanted> {
        self.entries.values().map(|e| e.wanted.clone()).collect()
    }

    /// When the earliest write still waiting for a patch, among the sources `patched`
    /// says the patch carried, was admitted (for the write-to-patch latency).
    pub fn first_admitted(&self, patched: impl Fn(&SourceRef) -> bool) -> Option<SystemTime> {
        self.entries
            .iter()
            .filter(|((source, _), _)| patched(source))
            .filter_map(|(_, e)| e.admitted)
            .min()
    }

    /// The longest pause any follower asks for.
    pub fn spacing(&self) -> Spacing {
        Spacing {
            first_pending: self.first,
            coalesce: self.coalesce,
            pause: self.entries.values().filter_map(|e| e.pause).max(),
        }
    }

    fn merge(&mut self, entry: Entry) {
        let key = (
            entry.wanted.record.source.clone(),
            entry.wanted.strategy.as_str(),
        );
        // Whichever record wins, the patch also answers the earlier write.
        let admitted = |old: &Entry| earliest(old.admitted, entry.admitted);
        match self.entries.get_mut(&key) {
            Some(old) if old.seq > entry.seq => {
                old.admitted = admitted(old);
                // A later read of the same hash (resync's, baseline-only) keeps its place,
                // but a trigger's record of that hash still counts: resync must not turn
                // a first record the trigger asked for into "no baseline, nothing to do".
                if old.wanted.record.hash == entry.wanted.record.hash {
                    old.wanted.baseline_required &= entry.wanted.baseline_required;
                }
            }
            Some(old) => {
                // A trigger's record outranks resync's baseline-only one for the same hash.
                let baseline_required =
                    old.wanted.baseline_required && entry.wanted.baseline_required;
                let admitted = admitted(old);
                let mut entry = entry;
                entry.admitted = admitted;
                if old.wanted.record.hash == entry.wanted.record.hash {
                    entry.wanted.baseline_required = baseline_required;
                }
                self.entries.insert(key, entry);
            }
            None => {
                self.entries.insert(key, entry);
            }
        }
    }
}

fn earliest(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<SystemTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub fn after(t: Timestamp, d: Duration) -> Timestamp {
    let d = SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// Workloads with pending changes.
#[derive(Clone, Debug, Default)]
pub struct PendingSet {
    by_workload: HashMap<WorkloadRef, Pending>,
}

impl PendingSet {
    /// Adds a change; the first change of a workload opens its coalescing window, and the
    /// window is the longest any of its changes asks for (a ReloaderConfig's 3 s window
    /// is not cut short by a resync entry or an annotation follower that came first).
    pub fn add(&mut self, workload: WorkloadRef, entry: Entry, now: Timestamp, coalesce: Duration) {
        let pending = self.by_workload.entry(workload).or_insert_with(|| Pending {
            first: now,
            due: after(now, coalesce),
            coalesce,
            entries: BTreeMap::new(),
            paused: false,
        });
        if coalesce > pending.coalesce {
            pending.coalesce = coalesce;
            pending.due = pending.due.max(after(pending.first, coalesce));
        }
        pending.merge(entry);
    }

    /// Puts back changes that could not be applied yet, due at `due` (end of a pause, or a
    /// retry), merged with anything that arrived meanwhile.
    pub fn restore(&mut self, workload: WorkloadRef, mut pending: Pending, due: Timestamp) {
        if let Some(newer) = self.by_workload.remove(&workload) {
            for (_, entry) in newer.entries {
                pending.merge(entry);
            }
        }
        pending.due = due;
        self.by_workload.insert(workload, pending);
    }

    /// Removes and returns at most `limit` of the workloads due at `now`, except those in
    /// `busy`, the earliest due first (a fan-out is worked through in arrival order).
    pub fn take_due(
        &mut self,
        now: Timestamp,
        busy: impl Fn(&WorkloadRef) -> bool,
        limit: usize,
    ) -> Vec<(WorkloadRef, Pending)> {
        let mut due: Vec<(Timestamp, WorkloadRef)> = self
            .by_workload
            .iter()
            .filter(|(w, p)| p.due <= now && !busy(w))
            .map(|(w, p)| (p.due, w.clone()))
            .collect();
        if due.len() > limit {
            due.select_nth_unstable(limit);
            due.truncate(limit);
        }
        due.sort_unstable();
        due.into_iter()
            .filter_map(|(_, w)| self.by_workload.remove(&w).map(|p| (w, p)))
            .collect()
    }

    /// The earliest due time among workloads not in `busy`.
    pub fn next_due(&self, busy: impl Fn(&WorkloadRef) -> bool) -> Option<Timestamp> {
        self.by_workload
            .iter()
            .filter(|(w, _)| !busy(w))
            .map(|(_, p)| p.due)
            .min()
    }

    /// How many workloads are due before `now + horizon` (a paused one waits for its
    /// pause's end and does not count until then).
    pub fn due_within(&self, now: Timestamp, horizon: Duration) -> usize {
        let until = after(now, horizon);
        self.by_workload.values().filter(|p| p.due <= until).count()
    }

    /// Drops a workload's pending changes (it was deleted).
    pub fn forget(&mut self, workload: &WorkloadRef) {
        self.by_workload.remove(workload);
    }

    pub fn len(&self) -> usize {
        self.by_workload.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_workload.is_empty()
    }
}

#[cfg(test)]
mod tests;
