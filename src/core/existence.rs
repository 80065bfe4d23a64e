//! "Does this workload or source exist?", asked by the ReloaderConfig webhook to warn about
//! targets and watched sources that are not there yet. The webhook holds [`Existence`] and
//! the reload engine implements it: workloads from its caches, sources by a bounded read.
//! An answer it cannot give is `Unknown`, and gives no warning.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::source::SourceRef;
use crate::workload::WorkloadRef;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Exists,
    Missing,
    /// Not known: the caches are still syncing, the kind is not watched, or the read failed.
    Unknown,
}

/// What a ReloaderConfig names, whose existence is asked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Workload(WorkloadRef),
    Source(SourceRef),
}

/// The answer of [`Existence::presence`], boxed so the trait stays object-safe.
pub type PresenceFuture<'a> = Pin<Box<dyn Future<Output = Presence> + Send + 'a>>;

/// The engine's side of the existence warnings.
pub trait Existence: Send + Sync + fmt::Debug {
    /// Whether `subject` exists now; resolves within the webhook's budget.
    fn presence<'a>(&'a self, subject: &'a Subject) -> PresenceFuture<'a>;
}

/// Knows nothing: every answer is `Unknown` (a webhook without an engine).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCache;

impl Existence for NoCache {
    fn presence<'a>(&'a self, _: &'a Subject) -> PresenceFuture<'a> {
        Box::pin(std::future::ready(Presence::Unknown))
    }
}
