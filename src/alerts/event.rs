//! What an alert says: one reload attempt of one workload, as plain data. Names, kinds and
//! short hashes only; a Secret's data never gets here.

use k8s_openapi::jiff::Timestamp;

use reloader_core::hash::SourceHash;
use reloader_core::source::SourceRef;
use reloader_core::workload::WorkloadRef;

/// One source whose change the reload records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedSource {
    pub source: SourceRef,
    /// The first 12 hex digits of the source's SHA-256 (enough to tell versions apart).
    pub hash: String,
    /// `env-vars` or `annotations`.
    pub strategy: &'static str,
}

impl ChangedSource {
    pub fn new(source: SourceRef, hash: &SourceHash, strategy: &'static str) -> Self {
        Self {
            source,
            hash: hash.short(),
            strategy,
        }
    }
}

/// How the reload attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertResult {
    Success,
    /// `reason` is the engine's fixed error label (`api`, `patch_build`), never error text:
    /// an alert leaves the cluster.
    Failure {
        reason: &'static str,
    },
}

impl AlertResult {
    pub fn label(self) -> &'static str {
        match self {
            AlertResult::Success => "success",
            AlertResult::Failure { .. } => "failure",
        }
    }
}

/// One reload attempt, for every sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertEvent {
    pub workload: WorkloadRef,
    pub sources: Vec<ChangedSource>,
    pub result: AlertResult,
    pub time: Timestamp,
}

impl AlertEvent {
    /// Identifies a failure by workload and source versions, so the same failure retried
    /// by the engine is announced once.
    pub fn failure_key(&self) -> Option<(WorkloadRef, Vec<(SourceRef, String)>)> {
        if self.result == AlertResult::Success {
            return None;
        }
        let mut versions: Vec<(SourceRef, String)> = self
            .sources
            .iter()
            .map(|s| (s.source.clone(), s.hash.clone()))
            .collect();
        versions.sort();
        Some((self.workload.clone(), versions))
    }
}
