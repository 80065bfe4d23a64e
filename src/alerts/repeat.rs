//! Announcing a failure once: the engine retries a failed reload every few seconds while
//! the cause lasts, and each retry would otherwise page the same people again.

use std::collections::HashSet;

use crate::alerts::event::AlertEvent;
use reloader_core::source::SourceRef;
use reloader_core::workload::WorkloadRef;

/// Failures remembered at most; past it the memory starts over (a repeat, never a loss).
const CAPACITY: usize = 4096;

type FailureKey = (WorkloadRef, Vec<(SourceRef, String)>);

/// Failures already announced, until the workload reloads.
#[derive(Debug, Default)]
pub struct FailureMemory {
    announced: HashSet<FailureKey>,
}

impl FailureMemory {
    /// Whether `event` is to be sent: every success, and a failure not yet announced for
    /// the same workload and source versions. A success forgets the workload's failures.
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
    use crate::alerts::event::{AlertResult, ChangedSource};
    use reloader_core::source::SourceKind;
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
            time: Timestamp::UNIX_EPOCH,
        }
    }

    const FAIL: AlertResult = AlertResult::Failure { reason: "api" };
    const OK: AlertResult = AlertResult::Success;

    #[test]
    fn a_failure_is_announced_once_until_the_workload_reloads() {
        // (event, sent?) in order, one memory for the whole sequence.
        let sequence = [
            (event("web", "aaa", FAIL), true),
            (event("web", "aaa", FAIL), false),
            (event("api", "aaa", FAIL), true),
            (event("web", "bbb", FAIL), true),
            (event("web", "bbb", OK), true),
            (event("web", "bbb", OK), true),
            (event("web", "aaa", FAIL), true),
            (event("api", "aaa", FAIL), false),
        ];
        let mut memory = FailureMemory::default();
        for (i, (e, want)) in sequence.iter().enumerate() {
            assert_eq!(memory.admit(e), *want, "step {i}: {e:?}");
        }
    }
}
