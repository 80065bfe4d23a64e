//! What the workloads webhook asks of the reload engine: which source hashes an admitted
//! workload should record as its baseline. The webhook holds this trait and the engine
//! implements it (it has the caches and API access), so the webhook never imports the
//! engine.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::hash::{SourceHash, StakaterHash};
use crate::patch::{Record, ReloadStrategy};
use crate::workload::WorkloadKind;

/// One source hash to record on a workload, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub record: Record,
    pub strategy: ReloadStrategy,
    /// Resync: only update a hash that is already recorded, so installing reloader (or a
    /// new follower) never rolls anything by itself.
    pub baseline_required: bool,
    /// The same data hashed under the other schemes the engine knows (a previous hash key,
    /// plain SHA-256): a record equal to one of these is up to date, not a change.
    pub same_data: Vec<SourceHash>,
    /// stakater/Reloader's hash of the same data: a record stakater left that equals it is
    /// up to date (adopted, nothing written), any other stakater record is a change.
    pub stakater: Option<StakaterHash>,
    /// `--keep-stakater-records`: where stakater's record is, the env-vars strategy
    /// writes stakater's hash of the new data (not reloader's), so a stakater/Reloader
    /// still running beside finds its own value and rolls nothing more.
    pub keep_stakater: bool,
}

impl Wanted {
    /// What `recorded` (the text on the workload, if any) means for this record.
    pub fn judge(&self, recorded: Option<&str>) -> Verdict {
        let Some(text) = recorded else {
            return Verdict::NoRecord;
        };
        if text == self.record.hash.to_string() {
            return Verdict::UpToDate;
        }
        if let Ok(old) = text.parse::<StakaterHash>() {
            return if Some(old) == self.stakater {
                Verdict::UpToDate
            } else {
                Verdict::Changed
            };
        }
        match text.parse::<SourceHash>() {
            Ok(old) if self.same_data.contains(&old) => Verdict::UpToDate,
            Ok(old) if self.knows_key_of(old) => Verdict::Changed,
            // Made under a key this install no longer has: nothing to compare with.
            Ok(_) => Verdict::ForeignKey,
            Err(_) => Verdict::Changed,
        }
    }

    /// The record to write in place of `recorded`: stakater's format where stakater's
    /// record is and it is to be kept (env-vars only: stakater's annotations strategy
    /// rolls at every change whatever it finds), else reloader's own.
    pub fn record_replacing(&self, recorded: Option<&str>) -> Record {
        let mut record = self.record.clone();
        let stakaters = recorded.is_some_and(|t| t.parse::<StakaterHash>().is_ok());
        if self.keep_stakater && stakaters && self.strategy == ReloadStrategy::EnvVars {
            record.stakater = self.stakater;
        }
        record
    }

    fn knows_key_of(&self, old: SourceHash) -> bool {
        old.key() == self.record.hash.key() || self.same_data.iter().any(|h| h.key() == old.key())
    }
}

/// How a recorded hash compares with the wanted one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing recorded for this source.
    NoRecord,
    /// The recorded hash is of the current data (under this key, one the ring knows, or
    /// stakater's).
    UpToDate,
    /// The recorded hash is of other data: the source changed.
    Changed,
    /// Recorded under a key the install does not have: no baseline. Resync leaves it (it
    /// cannot tell a change); a trigger, which saw the change itself, rolls.
    ForeignKey,
}

/// The answer of [`Baselines::wanted`], boxed so the trait stays object-safe.
pub type WantedFuture<'a> = Pin<Box<dyn Future<Output = Vec<Wanted>> + Send + 'a>>;

/// The engine's side of baseline stamping.
pub trait Baselines: Send + Sync + fmt::Debug {
    /// The hashes `object` (a workload of `kind` admitted in `namespace`) should record
    /// now; empty when it follows nothing, is out of scope, or its sources cannot be read
    /// within the webhook's budget.
    fn wanted<'a>(
        &'a self,
        kind: WorkloadKind,
        namespace: &'a str,
        object: &'a Value,
    ) -> WantedFuture<'a>;
}
