//! What the engine tells the alert dispatcher after a reload attempt: the event, from the
//! pending changes and the patch's result, and the sinks of the ReloaderConfigs involved.

use k8s_openapi::jiff::Timestamp;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::alerts::{AlertEvent, AlertResult, ChangedSource, ConfigSinks};
use crate::reload::queue::Pending;
use reloader_core::crd::ReloaderConfig;
use reloader_core::index::ConfigId;
use reloader_core::workload::WorkloadRef;

/// The report of one attempt: the source versions it was to record (the change it belongs
/// to) and how it ended.
pub fn event(
    workload: &WorkloadRef,
    pending: &Pending,
    result: AlertResult,
    time: Timestamp,
) -> AlertEvent {
    let mut sources: Vec<ChangedSource> = pending
        .wanted()
        .iter()
        .map(|w| ChangedSource::new(w.record.source.clone(), &w.record.hash, w.strategy.as_str()))
        .collect();
    sources.sort();
    sources.dedup();
    AlertEvent {
        workload: workload.clone(),
        sources,
        result,
        after_pause: pending.paused,
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

    fn pending(sources: &[(&str, &str, ReloadStrategy)], paused: bool) -> Pending {
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
                            stakater: None,
                        },
                        strategy: *strategy,
                        baseline_required: false,
                        same_data: Vec::new(),
                        keep_stakater: false,
                        stakater: None,
                    },
                    seq: i as u64,
                    config: None,
                    pause: None,
                    coalesce: None,
                    admitted: None,
                };
                ((source, strategy.as_str()), entry)
            })
            .collect();
        Pending {
            first: Timestamp::UNIX_EPOCH,
            due: Timestamp::UNIX_EPOCH,
            coalesce: Duration::ZERO,
            entries,
            paused,
        }
    }

    #[test]
    fn a_report_names_every_source_version_it_was_to_record_in_order() {
        let web = WorkloadRef::new("ns", WorkloadKind::Deployment, "web");
        let table = [
            (false, AlertResult::Rolled),
            (true, AlertResult::Rolled),
            (
                false,
                AlertResult::Failed {
                    class: "api",
                    detail: "403 Forbidden: no".into(),
                },
            ),
        ];
        for (paused, result) in table {
            let p = pending(
                &[
                    ("tls", "v1", ReloadStrategy::Annotations),
                    ("creds", "v2", ReloadStrategy::EnvVars),
                ],
                paused,
            );
            let e = event(&web, &p, result.clone(), Timestamp::UNIX_EPOCH);
            assert_eq!(e.workload, web);
            assert_eq!(e.result, result);
            assert_eq!(e.after_pause, paused);
            let names: Vec<(String, String, &str)> = e
                .sources
                .iter()
                .map(|s| (s.source.name.clone(), s.hash.clone(), s.strategy))
                .collect();
            assert_eq!(
                names,
                [
                    ("creds".to_owned(), hash("v2").short(), "env-vars"),
                    ("tls".to_owned(), hash("v1").short(), "annotations"),
                ],
                "{result:?}"
            );
        }
    }
}
