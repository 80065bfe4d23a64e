//! Announcing a failure once: the engine retries a failed reload every few seconds while
//! the cause lasts, and each retry would otherwise page the same people again.

use std::collections::HashSet;

use crate::alerts::event::{AlertEvent, ChangedSource};
use reloader_core::workload::WorkloadRef;

/// Failures remembered at most; past it the memory starts over (a repeat, never a loss).
const CAPACITY: usize = 4096;

type FailureKey = (WorkloadRef, Vec<ChangedSource>);

/// Failures already announced, until the workload reloads.
#[derive(Debug, Default)]
pub struct FailureMemory {
    announced: HashSet<FailureKey>,
}

impl FailureMemory {
    /// Whether `event` is to be sent: every other result, and a failure not yet announced
    /// for the same workload and source versions. Any other result forgets the workload's
    /// failures.
    pub fn admit(&mut self, event: &AlertEvent) -> bool {
        match event.failure_key() {
            None => {
                self.announced.retain(|(w, _)| w != &event.workload);
                true
            }
            Some(key) => {
                if self.announced.len() >= CAPACITY {
                    self.announced.clear();
                }
                self.announced.insert(key)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;

    use super::*;
    use crate::alerts::event::AlertResult;
    use reloader_core::source::{SourceKind, SourceRef};
    use reloader_core::workload::WorkloadKind;

    fn event(workload: &str, hash: &str, result: AlertResult) -> AlertEvent {
        AlertEvent {
            workload: WorkloadRef::new("ns", WorkloadKind::Deployment, workload),
            sources: vec![ChangedSource {
                source: SourceRef::new("ns", SourceKind::Secret, "creds"),
                hash: hash.into(),
                strategy: "env-vars",
            }],
            result,
            after_pause: false,
            time: Timestamp::UNIX_EPOCH,
        }
    }

    fn fail() -> AlertResult {
        AlertResult::Failed {
            class: "api",
            detail: "503 ServiceUnavailable: try later".into(),
        }
    }

    fn ok() -> AlertResult {
        AlertResult::Rolled
    }

    #[test]
    fn a_failure_is_announced_once_until_the_workload_reloads() {
        // (event, sent?) in order, one memory for the whole sequence.
        let sequence = [
            (event("web", "aaa", fail()), true),
            (event("web", "aaa", fail()), false),
            (event("api", "aaa", fail()), true),
            (event("web", "bbb", fail()), true),
            (event("web", "bbb", ok()), true),
            (event("web", "bbb", ok()), true),
            (event("web", "aaa", fail()), true),
            (event("api", "aaa", fail()), false),
        ];
        let mut memory = FailureMemory::default();
        for (i, (e, want)) in sequence.iter().enumerate() {
            assert_eq!(memory.admit(e), *want, "step {i}: {e:?}");
        }
    }
}
