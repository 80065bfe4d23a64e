//! The sample changes the payload tests assert on and `docs/alerts.md` shows, so the doc's
//! samples are the code's own output.

use k8s_openapi::jiff::Timestamp;

use crate::alerts::batch::{ChangeAlert, Counts, Listed, Phase};
use crate::alerts::event::{AlertResult, ChangedSource};
use reloader_core::source::{SourceKind, SourceRef};
use reloader_core::workload::{WorkloadKind, WorkloadRef};

pub const INFO: &str = "prod-eu";

fn time() -> Timestamp {
    "2026-11-26T01:02:03Z".parse().expect("a timestamp")
}

fn deployment(name: &str) -> WorkloadRef {
    WorkloadRef::new("team-a", WorkloadKind::Deployment, name)
}

/// A Secret followed by 42 workloads: 40 rolled, one failed (RBAC), one already current.
pub fn shared_secret_change() -> ChangeAlert {
    let mut listed = vec![Listed {
        workload: deployment("billing"),
        result: AlertResult::Failed {
            class: "api",
            detail: "403 Forbidden: deployments.apps \"billing\" is forbidden: User \
                     \"system:serviceaccount:reloader:reloader\" cannot patch resource \
                     \"deployments\" in API group \"apps\" in the namespace \"team-a\""
                .into(),
        },
    }];
    listed.extend(["api", "web"].map(|n| Listed {
        workload: deployment(n),
        result: AlertResult::Rolled,
    }));
    ChangeAlert {
        sources: vec![ChangedSource {
            source: SourceRef::new("team-a", SourceKind::Secret, "db-creds"),
            hash: "0123456789ab".into(),
            strategy: "env-vars",
        }],
        phase: Phase::Change,
        time: time(),
        counts: Counts {
            rolled: 40,
            up_to_date: 1,
            deferred: 0,
            failed: 1,
        },
        listed,
        unlisted: 38,
    }
}

/// One Deployment rolled after a ConfigMap change.
pub fn single_rollout() -> ChangeAlert {
    ChangeAlert {
        sources: vec![ChangedSource {
            source: SourceRef::new("team-a", SourceKind::ConfigMap, "web-config"),
            hash: "fedcba987654".into(),
            strategy: "annotations",
        }],
        phase: Phase::Change,
        time: time(),
        counts: Counts {
            rolled: 1,
            ..Counts::default()
        },
        listed: vec![Listed {
            workload: deployment("web"),
            result: AlertResult::Rolled,
        }],
        unlisted: 0,
    }
}
