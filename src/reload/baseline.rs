//! The engine's answer to the workloads webhook (`reloader_core::baseline::Baselines`): the
//! hashes an admitted workload should record, from the ReloaderConfig cache, the follower
//! rules and a bounded read of each source it follows.

use std::sync::Arc;
use std::time::Instant;

use kube::runtime::reflector::{ObjectRef, Store};
use serde_json::Value;

use crate::reload::cache::config_input;
use crate::reload::followers::{Reading, entries_for};
use crate::reload::scope::Scope;
use crate::reload::source_read;
use reloader_core::baseline::{Baselines, Wanted, WantedFuture};
use reloader_core::crd::ReloaderConfig;
use reloader_core::hash::KeyRing;
use reloader_core::index::{ConfigId, FollowerIndex};
use reloader_core::patch::ReloadStrategy;
use reloader_core::pod_template;
use reloader_core::policy::{AnnotationKeys, GlobalOptions};
use reloader_core::workload::WorkloadKind;

/// What `/mutate/workloads` needs from the engine.
#[derive(Clone)]
pub struct Baseline {
    pub client: kube::Client,
    pub keys: AnnotationKeys,
    pub global: GlobalOptions,
    pub configs: Store<ReloaderConfig>,
    pub strategy: ReloadStrategy,
    pub scope: Scope,
    pub hash_keys: Arc<KeyRing>,
    /// `--keep-stakater-records`.
    pub keep_stakater: bool,
}

impl std::fmt::Debug for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Baseline")
            .field("strategy", &self.strategy)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Baseline {
    async fn wanted_now(&self, kind: WorkloadKind, namespace: &str, object: &Value) -> Vec<Wanted> {
        if !self.scope.includes(namespace) {
            return Vec::new();
        }
        let Ok(input) = pod_template::input_from_json(kind, object) else {
            return Vec::new();
        };
        let workload = input.workload.clone();
        let mut index = FollowerIndex::new(self.keys.clone(), self.global.clone());
        index.apply_workload(input);
        for rc in self.configs.state() {
            if let Some((id, cfg)) = config_input(&rc)
                && cfg.targets.contains(&workload)
            {
                index.apply_config(id, cfg);
            }
        }
        let started = Instant::now();
        let mut wanted: Vec<Wanted> = Vec::new();
        for source_ref in index.sources() {
            if started.elapsed() > source_read::WEBHOOK_READ_BUDGET {
                break;
            }
            let Ok(Some(stored)) =
                source_read::read(&self.client, &self.hash_keys, &source_ref).await
            else {
                continue;
            };
            let configs = &self.configs;
            let entries = entries_for(
                &index,
                |id: &ConfigId| configs.get(&ObjectRef::new(&id.name).within(&id.namespace)),
                self.strategy,
                Reading {
                    source: &source_ref,
                    stored: Some(&stored),
                    seq: 0,
                    baseline_required: false,
                    hasher: self.hash_keys.current(),
                    keep_stakater: self.keep_stakater,
                },
            );
            wanted.extend(
                entries
                    .into_iter()
                    .filter(|(w, _)| *w == workload)
                    .map(|(_, e)| e.wanted),
            );
        }
        wanted.dedup_by(|a, b| a.record.source == b.record.source && a.strategy == b.strategy);
        wanted
    }
}

impl Baselines for Baseline {
    fn wanted<'a>(
        &'a self,
        kind: WorkloadKind,
        namespace: &'a str,
        object: &'a Value,
    ) -> WantedFuture<'a> {
        Box::pin(self.wanted_now(kind, namespace, object))
    }
}
