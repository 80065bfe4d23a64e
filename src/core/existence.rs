//! "Does this workload or source exist?", asked by the ReloaderConfig webhook to warn about
//! targets and watched sources that are not there yet. Only the reload engine's cache can
//! answer; until it is wired in, the answer is `Unknown` and no warning is given.

use crate::source::SourceRef;
use crate::workload::WorkloadRef;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Exists,
    Missing,
    /// The cache does not know (not synced yet, or no cache at all).
    Unknown,
}

pub trait Existence: Send + Sync + std::fmt::Debug {
    fn workload(&self, workload: &WorkloadRef) -> Presence;
    fn source(&self, source: &SourceRef) -> Presence;
}

/// Knows nothing: every answer is `Unknown`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCache;

impl Existence for NoCache {
    fn workload(&self, _: &WorkloadRef) -> Presence {
        Presence::Unknown
    }
    fn source(&self, _: &SourceRef) -> Presence {
        Presence::Unknown
    }
}
