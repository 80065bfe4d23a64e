//! What the workloads webhook asks of the reload engine: which source hashes an admitted
//! workload should record as its baseline. The webhook holds this trait and the engine
//! implements it (it has the caches and API access), so the webhook never imports the
//! engine.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

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
