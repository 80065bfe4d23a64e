//! What the engine tells the alert dispatcher after a reload attempt: the event, from the
//! pending changes and the patch's result, and the sinks of the ReloaderConfigs involved.

use k8s_openapi::jiff::Timestamp;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::alerts::{AlertEvent, AlertResult, ChangedSource, ConfigSinks};
use crate::reload::queue::Pending;
use reloader_core::crd::ReloaderConfig;
use reloader_core::index::ConfigId;
use reloader_core::reconcile::Change;
use reloader_core::workload::WorkloadRef;

/// The alert for one attempt: on success the sources the patch changed, on failure every
/// source it was to record.
pub fn event(
    workload: &WorkloadRef,
    pending: &Pending,
    result: AlertResult,
    changes: &[Change],
    time: Timestamp,
) -> AlertEvent {
    let wanted = pending.wanted();
    let sources = match result {
        AlertResult::Success => changes
            .iter()
            .map(|c| {
                let strategy = wanted
                    .iter()
                    .find(|w| w.record.source == c.source && w.record.hash == c.new)
                    .map(|w| w.strategy.as_str())
                    .unwrap_or_default();
                ChangedSource::new(c.source.clone(), &c.new, strategy)
            })
            .collect(),
        AlertResult::Failure { .. } => wanted
            .iter()
            .map(|w| {
                ChangedSource::new(w.record.source.clone(), &w.record.hash, w.strategy.as_str())
            })
            .collect(),
    };
    AlertEvent {
        workload: workload.clone(),
        sources,
        result,
        time,
    }
}

/// The alert sinks of these ReloaderConfigs, as cached now; configs without any are left out.
pub fn config_sinks(configs: &Store<ReloaderConfig>, ids: &[ConfigId]) -> Vec<ConfigSinks> {
    ids.iter()
        .filter_map(|id| {
            let rc = configs.get(&ObjectRef::new(&id.name).within(&id.namespace))?;
            Some(ConfigSinks {
                config: id.clone(),
                alerts: rc.spec.alerts.clone()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::reload::queue::Entry;
    use reloader_core::baseline::Wanted;
    use reloader_core::hash::SourceHash;
    use reloader_core::patch::{Record, ReloadStrategy};
    use reloader_core::source::{SourceKind, SourceRef};
    use reloader_core::workload::WorkloadKind;

    fn hash(v: &str) -> SourceHash {
        let mut data = BTreeMap::new();
        data.insert("k".to_owned(), v.to_owned());
        reloader_core::hash::hash_configmap(&k8s_openapi::api::core::v1::ConfigMap {
            data: Some(data),
            ..Default::default()
        })
    }

    fn pending(sources: &[(&str, &str, ReloadStrategy)]) -> Pending {
        let entries = sources
            .iter()
            .enumerate()
            .map(|(i, (name, v, strategy))| {
                let source = SourceRef::new("ns", SourceKind::Secret, *name);
                let entry = Entry {
                    wanted: Wanted {
                        record: Record {
                            source: source.clone(),
                            hash: hash(v),
                            container: Some(0),
                        },
                        strategy: *strategy,
                        baseline_required: false,
                    },
                    seq: i as u64,
                    config: None,
                    pause: None,
                    coalesce: None,
                };
                ((source, strategy.as_str()), entry)
            })
            .collect();
        Pending {
            first: Timestamp::UNIX_EPOCH,
            due: Timestamp::UNIX_EPOCH,
            coalesce: Duration::ZERO,
            entries,
        }
    }

    fn names(e: &AlertEvent) -> Vec<(String, String, &'static str)> {
        e.sources
            .iter()
            .map(|s| (s.source.name.clone(), s.hash.clone(), s.strategy))
            .collect()
    }

    #[test]
    fn a_success_names_what_the_patch_changed_and_a_failure_everything_it_wanted() {
        let web = WorkloadRef::new("ns", WorkloadKind::Deployment, "web");
        let p = pending(&[
            ("creds", "v2", ReloadStrategy::EnvVars),
            ("tls", "v1", ReloadStrategy::Annotations),
        ]);
        let changed = [Change {
            source: SourceRef::new("ns", SourceKind::Secret, "creds"),
            old: Some("old".into()),
            new: hash("v2"),
        }];
        let table = [
            (
                AlertResult::Success,
                vec![("creds".to_owned(), hash("v2").short(), "env-vars")],
            ),
            (
                AlertResult::Failure { reason: "api" },
                vec![
                    ("creds".to_owned(), hash("v2").short(), "env-vars"),
                    ("tls".to_owned(), hash("v1").short(), "annotations"),
                ],
            ),
        ];
        for (result, want) in table {
            let e = event(&web, &p, result, &changed, Timestamp::UNIX_EPOCH);
            assert_eq!(e.workload, web);
            assert_eq!(e.result, result);
            assert_eq!(names(&e), want, "{result:?}");
        }
    }
}
