//! One alert per change per receiver: the engine reports every reload attempt of every
//! workload, and this groups the reports of one change (the same source versions) for one
//! receiver until the change goes quiet, then hands out one [`ChangeAlert`] for it.
//!
//! Plain data and a clock passed in, so it is tested without a server. A ConfigMap shared
//! by a thousand workloads becomes one message per receiver, not a thousand.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use k8s_openapi::jiff::Timestamp;

use crate::alerts::event::{AlertEvent, AlertResult, ChangedSource};
use crate::alerts::repeat::FailureMemory;
use crate::alerts::sink::Route;
use reloader_core::workload::WorkloadRef;

/// Changes (per receiver) waiting to be sent at once; a report for a further change is
/// dropped and counted. Each holds at most [`ENTRY_BOUND`] workloads, so the whole wait is
/// bounded by about 64 × 2,000 workload names (a few MiB at worst, a few KiB usually).
pub const MAX_OPEN: usize = 64;

/// Workloads one change remembers by name; beyond it they are counted only.
pub const ENTRY_BOUND: usize = 2_000;

/// Workloads one message names; the rest are "and N more".
pub const LIST_BOUND: usize = 20;

/// Changes for which only "already up to date" was reported, counted while they wait for a
/// rollout to announce: a resync reports every follower, and those reports must not fill
/// [`MAX_OPEN`]. Past this bound the counts start over (a count lost, never an alert).
const UNCHANGED_BOUND: usize = 4096;

/// How long a change's alert waits for more reports of the same change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupWait {
    /// Sent once no report arrived for this long (`--alert-group-wait`).
    pub quiet: Duration,
    /// Sent at the latest this long after its first report, even if reports keep coming.
    pub max: Duration,
}

impl Default for GroupWait {
    /// Rollouts of one change finish within a second or two of each other; 30 s bounds
    /// how late a slow fan-out is announced.
    fn default() -> Self {
        Self {
            quiet: Duration::from_secs(2),
            max: Duration::from_secs(30),
        }
    }
}

/// Whether an alert announces a change, or the rollouts a pause had held back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    Change,
    AfterPause,
}

/// How many workloads ended each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub rolled: u64,
    pub up_to_date: u64,
    pub deferred: u64,
    pub failed: u64,
}

impl Counts {
    fn add(&mut self, result: &AlertResult) {
        match result {
            AlertResult::Rolled => self.rolled += 1,
            AlertResult::UpToDate => self.up_to_date += 1,
            AlertResult::Deferred { .. } => self.deferred += 1,
            AlertResult::Failed { .. } => self.failed += 1,
        }
    }

    /// Workloads that were to roll: all but the ones already up to date.
    pub fn attempted(&self) -> u64 {
        self.rolled + self.deferred + self.failed
    }
}

/// One workload named in an alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub workload: WorkloadRef,
    pub result: AlertResult,
}

/// What one alert to one receiver says about one change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeAlert {
    pub sources: Vec<ChangedSource>,
    pub phase: Phase,
    /// When the first rollout of the change was reported.
    pub time: Timestamp,
    pub counts: Counts,
    /// Failures first, then deferred, then rolled, at most [`LIST_BOUND`]; up-to-date
    /// workloads are counted, not named.
    pub listed: Vec<Listed>,
    /// Workloads counted but not named.
    pub unlisted: u64,
}

impl ChangeAlert {
    /// The message's colour: red with any failure, amber when every rollout waits for a
    /// pause, green otherwise.
    pub fn tone(&self) -> Tone {
        if self.counts.failed > 0 {
            Tone::Failure
        } else if self.counts.rolled == 0 {
            Tone::Waiting
        } else {
            Tone::Success
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Success,
    Waiting,
    Failure,
}

/// What became of one report for one receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    Queued,
    /// The same failure (workload and source versions) was announced already.
    Repeated,
    /// [`MAX_OPEN`] changes are waiting already.
    Full,
}

type Key = (Route, Vec<ChangedSource>, Phase);

#[derive(Debug)]
struct Open {
    time: Timestamp,
    first: Instant,
    last: Instant,
    entries: BTreeMap<WorkloadRef, AlertResult>,
    /// Reports past [`ENTRY_BOUND`], counted only.
    overflow: Counts,
}

impl Open {
    fn record(&mut self, workload: WorkloadRef, result: AlertResult) {
        if self.entries.len() < ENTRY_BOUND || self.entries.contains_key(&workload) {
            self.entries.insert(workload, result);
        } else {
            self.overflow.add(&result);
        }
    }

    fn into_alert(self, sources: Vec<ChangedSource>, phase: Phase) -> Option<ChangeAlert> {
        let mut counts = self.overflow;
        for result in self.entries.values() {
            counts.add(result);
        }
        if counts.attempted() == 0 {
            // Everything was up to date: nothing rolled, nothing to tell.
            return None;
        }
        let rank = |r: &AlertResult| match r {
            AlertResult::Failed { .. } => 0,
            AlertResult::Deferred { .. } => 1,
            AlertResult::Rolled => 2,
            AlertResult::UpToDate => 3,
        };
        let mut named: Vec<Listed> = self
            .entries
            .into_iter()
            .filter(|(_, r)| *r != AlertResult::UpToDate)
            .map(|(workload, result)| Listed { workload, result })
            .collect();
        named.sort_by_key(|l| rank(&l.result));
        let unlisted = counts.attempted() - named.len().min(LIST_BOUND) as u64;
        named.truncate(LIST_BOUND);
        Some(ChangeAlert {
            sources,
            phase,
            time: self.time,
            counts,
            listed: named,
            unlisted,
        })
    }
}

/// The changes waiting to be announced.
#[derive(Debug)]
pub struct Batcher {
    wait: GroupWait,
    open: HashMap<Key, Open>,
    /// Up-to-date reports of changes with nothing to announce yet: (first seen, count).
    unchanged: HashMap<Key, (Instant, u64)>,
    failures: FailureMemory,
}

impl Batcher {
    pub fn new(wait: GroupWait) -> Self {
        Self {
            wait,
            open: HashMap::new(),
            unchanged: HashMap::new(),
            failures: FailureMemory::default(),
        }
    }

    /// Adds one report for each of `routes`, its receivers.
    pub fn add(&mut self, event: AlertEvent, routes: &[Route], now: Instant) -> Admission {
        if !self.failures.admit(&event) {
            return Admission::Repeated;
        }
        let mut admission = Admission::Queued;
        for route in routes {
            if event.after_pause && self.settle_in_open_change(route, &event, now) {
                continue;
            }
            let phase = if event.after_pause {
                Phase::AfterPause
            } else {
                Phase::Change
            };
            let key = (route.clone(), event.sources.clone(), phase);
            if !self.open.contains_key(&key) {
                if event.result == AlertResult::UpToDate {
                    self.count_unchanged(key, now);
                    continue;
                }
                if self.open.len() >= MAX_OPEN {
                    admission = Admission::Full;
                    continue;
                }
            }
            let unchanged = self.unchanged.remove(&key).map_or(0, |(_, n)| n);
            let open = self.open.entry(key).or_insert_with(|| Open {
                time: event.time,
                first: now,
                last: now,
                entries: BTreeMap::new(),
                overflow: Counts {
                    up_to_date: unchanged,
                    ..Counts::default()
                },
            });
            open.last = now;
            open.record(event.workload.clone(), event.result.clone());
        }
        admission
    }

    fn count_unchanged(&mut self, key: Key, now: Instant) {
        if self.unchanged.len() >= UNCHANGED_BOUND {
            let max = self.wait.max;
            self.unchanged
                .retain(|_, (first, _)| now.duration_since(*first) < max);
            if self.unchanged.len() >= UNCHANGED_BOUND {
                self.unchanged.clear();
            }
        }
        self.unchanged.entry(key).or_insert((now, 0)).1 += 1;
    }

    /// A rollout a pause held back, while its change is still being gathered: the change's
    /// alert says it rolled, and no follow-up is needed.
    fn settle_in_open_change(&mut self, route: &Route, event: &AlertEvent, now: Instant) -> bool {
        let key = (route.clone(), event.sources.clone(), Phase::Change);
        match self.open.get_mut(&key) {
            Some(open) if open.entries.contains_key(&event.workload) => {
                open.last = now;
                open.entries
                    .insert(event.workload.clone(), event.result.clone());
                true
            }
            _ => false,
        }
    }

    /// When the next change is due (for the dispatcher's sleep).
    pub fn next_due(&self) -> Option<Instant> {
        self.open.values().map(|o| self.due(o)).min()
    }

    fn due(&self, open: &Open) -> Instant {
        (open.last + self.wait.quiet).min(open.first + self.wait.max)
    }

    /// The alerts due at `now`, oldest change first. Up-to-date counts older than a
    /// change's longest wait are forgotten: no rollout of theirs is coming.
    pub fn take_due(&mut self, now: Instant) -> Vec<(Route, ChangeAlert)> {
        let max = self.wait.max;
        self.unchanged
            .retain(|_, (first, _)| now.duration_since(*first) < max);
        let due: Vec<Key> = self
            .open
            .iter()
            .filter(|(_, o)| self.due(o) <= now)
            .map(|(k, _)| k.clone())
            .collect();
        self.take(due)
    }

    /// Every alert, due or not (at shutdown).
    pub fn take_all(&mut self) -> Vec<(Route, ChangeAlert)> {
        self.unchanged.clear();
        let all: Vec<Key> = self.open.keys().cloned().collect();
        self.take(all)
    }

    fn take(&mut self, keys: Vec<Key>) -> Vec<(Route, ChangeAlert)> {
        let mut taken: Vec<(Instant, Route, ChangeAlert)> = keys
            .into_iter()
            .filter_map(|key| {
                let open = self.open.remove(&key)?;
                let first = open.first;
                let (route, sources, phase) = key;
                Some((first, route, open.into_alert(sources, phase)?))
            })
            .collect();
        taken.sort_by_key(|(first, ..)| *first);
        taken.into_iter().map(|(_, r, a)| (r, a)).collect()
    }
}

#[cfg(test)]
mod tests;
