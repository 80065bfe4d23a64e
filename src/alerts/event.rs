//! What the engine reports after each reload attempt of one workload, as plain data: the
//! workload, the source versions it was to record, and how it ended. Names, kinds, short
//! hashes and the API's own error text only; a Secret's data never gets here.
//!
//! The dispatcher groups these reports by change (see `batch`): one alert per change per
//! receiver, not one per workload.

use k8s_openapi::jiff::Timestamp;

use reloader_core::hash::SourceHash;
use reloader_core::source::SourceRef;
use reloader_core::workload::WorkloadRef;

/// Longest failure detail carried into an alert; the API's messages are a line or two.
const DETAIL_BOUND: usize = 400;

/// One source whose version the reload records.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangedSource {
    pub source: SourceRef,
    /// The first 12 hex digits of the source's hash (enough to tell versions apart).
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

/// How one reload attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertResult {
    /// The pod template now records the change: the workload rolls.
    Rolled,
    /// The template already recorded it: nothing to roll.
    UpToDate,
    /// A pause (`deployment.reloader.stakater.com/pause-period`) holds the rollout until then.
    Deferred { until: Timestamp },
    /// `class` is the engine's fixed label (`api`, `patch_build`); `detail` the API's
    /// status code, reason and message (see [`failure_detail`]).
    Failed { class: &'static str, detail: String },
}

impl AlertResult {
    pub fn label(&self) -> &'static str {
        match self {
            AlertResult::Rolled => "rolled",
            AlertResult::UpToDate => "up_to_date",
            AlertResult::Deferred { .. } => "deferred",
            AlertResult::Failed { .. } => "failed",
        }
    }
}

/// One reload attempt of one workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertEvent {
    pub workload: WorkloadRef,
    /// Sorted; the change this attempt belongs to.
    pub sources: Vec<ChangedSource>,
    pub result: AlertResult,
    /// The attempt ran after a pause had deferred it: its change was announced already.
    pub after_pause: bool,
    pub time: Timestamp,
}

impl AlertEvent {
    /// Identifies a failure by workload and source versions, so the same failure retried
    /// by the engine is announced once.
    pub fn failure_key(&self) -> Option<(WorkloadRef, Vec<ChangedSource>)> {
        match self.result {
            AlertResult::Failed { .. } => Some((self.workload.clone(), self.sources.clone())),
            _ => None,
        }
    }
}

/// An error text fit for an alert: control characters turned into spaces, and cut at
/// [`DETAIL_BOUND`] characters. The texts come from the API server (`403 Forbidden: …`)
/// or from building a patch; neither holds a Secret's data or an alert URL.
pub fn failure_detail(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(DETAIL_BOUND)
        .collect();
    if text.chars().count() > DETAIL_BOUND {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_details_are_one_bounded_line() {
        let long = "x".repeat(DETAIL_BOUND + 10);
        let cut = format!("{}…", "x".repeat(DETAIL_BOUND));
        let table = [
            ("403 Forbidden: no", "403 Forbidden: no"),
            ("line one\nline two\t!", "line one line two !"),
            (long.as_str(), cut.as_str()),
        ];
        for (text, want) in table {
            assert_eq!(failure_detail(text), want, "{text:?}");
        }
    }
}
