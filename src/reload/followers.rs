//! From a source as stored now to the records its followers want: annotation followers
//! with the global strategy and their own pause period, ReloaderConfig targets with the
//! strategy, pause period and coalescing window their ReloaderConfig gives them.

use std::sync::Arc;
use std::time::Duration;

use crate::reload::coalesce::config_window;
use crate::reload::queue::Entry;
use crate::reload::source_read::{StoredSource, absent_hash};
use reloader_core::baseline::Wanted;
use reloader_core::crd::ReloaderConfig;
use reloader_core::duration::parse_duration;
use reloader_core::hash::Hasher;
use reloader_core::index::{ConfigId, Follower, FollowerIndex};
use reloader_core::patch::{Record, ReloadStrategy};
use reloader_core::source::SourceRef;
use reloader_core::workload::WorkloadRef;

/// How the records of one source read are made.
#[derive(Clone, Copy, Debug)]
pub struct Reading<'a> {
    pub source: &'a SourceRef,
    /// `None`: the source does not exist (deleted).
    pub stored: Option<&'a StoredSource>,
    pub seq: u64,
    /// Resync: never make a first record.
    pub baseline_required: bool,
    /// The hasher of new records (for a deleted source's empty data).
    pub hasher: &'a Hasher,
    /// `--keep-stakater-records` (see `Wanted::keep_stakater`).
    pub keep_stakater: bool,
}

fn duration(text: Option<&str>) -> Option<Duration> {
    text.and_then(|t| parse_duration(t).ok())
        .filter(|d| !d.is_zero())
}

/// Every workload that reloads for this source, with what it wants recorded.
pub fn entries_for(
    index: &FollowerIndex,
    config_of: impl Fn(&ConfigId) -> Option<Arc<ReloaderConfig>>,
    default_strategy: ReloadStrategy,
    reading: Reading<'_>,
) -> Vec<(WorkloadRef, Entry)> {
    let annotations = reading.stored.map(|s| &s.annotations);
    let hash = reading.stored.map_or_else(
        || absent_hash(reading.hasher, reading.source.kind),
        |s| s.hash,
    );
    let same_data = reading
        .stored
        .map(|s| s.same_data.clone())
        .unwrap_or_default();
    let stakater = reading.stored.map(|s| s.stakater);
    index
        .lookup(reading.source, annotations)
        .into_iter()
        .filter(|c| c.decision.reloads())
        .filter_map(|candidate| {
            let workload = candidate.follower.workload().clone();
            let (strategy, pause, coalesce, config) = match &candidate.follower {
                Follower::Workload(w) => {
                    let pause = index
                        .workload(w)
                        .and_then(|e| duration(e.policy.pause_period.as_deref()));
                    (default_strategy, pause, None, None)
                }
                Follower::ConfigTarget { config, target } => {
                    let rc = config_of(config)?;
                    let entry = rc
                        .spec
                        .targets
                        .iter()
                        .find(|t| t.kind == target.kind.as_str() && t.name == target.name);
                    let strategy = entry
                        .and_then(|t| t.reload_strategy.as_deref())
                        .unwrap_or(&rc.spec.reload_strategy)
                        .parse()
                        .unwrap_or(default_strategy);
                    let pause = duration(
                        entry
                            .and_then(|t| t.pause_period.as_deref())
                            .or(rc.spec.pause_period.as_deref()),
                    );
                    let coalesce = config_window(
                        entry.and_then(|t| t.coalesce_window.as_deref()),
                        rc.spec.coalesce_window.as_deref(),
                    );
                    (strategy, pause, coalesce, Some((**config).clone()))
                }
            };
            let entry = Entry {
                wanted: Wanted {
                    record: Record {
                        source: reading.source.clone(),
                        hash,
                        container: candidate.container,
                        stakater: None,
                    },
                    strategy,
                    baseline_required: reading.baseline_required,
                    same_data: same_data.clone(),
                    keep_stakater: reading.keep_stakater,
                    stakater,
                },
                seq: reading.seq,
                config,
                pause,
                coalesce,
                // The engine stamps a trigger's admission time onto its entries.
                admitted: None,
            };
            Some((workload, entry))
        })
        .collect()
}

#[cfg(test)]
mod tests;
