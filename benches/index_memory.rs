//! The heap the workload caches hold, in the style of kube-runtime's dhat memory
//! benchmark: 10,000 workloads of the scale benchmark's shape are turned into watch events,
//! pruned and indexed exactly as `reload::cache` does, and kept in the compact store; dhat
//! reports the bytes still allocated, which is what the caches cost per workload. No
//! cluster and no network: `cargo bench --bench index_memory`.

#[path = "scale/workloads.rs"]
#[allow(dead_code)]
mod workloads;

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use kube::api::DynamicObject;
use kube::runtime::watcher::Event;

use reloader::reload::cache::{self, Relist, api_resource, workload_store};
use reloader::reload::scope::Scope;
use reloader_core::index::FollowerIndex;
use reloader_core::workload::WorkloadKind;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn kind_of(plural: &str) -> WorkloadKind {
    match plural {
        "deployments" => WorkloadKind::Deployment,
        "statefulsets" => WorkloadKind::StatefulSet,
        _ => WorkloadKind::CronJob,
    }
}

fn main() {
    let count: usize = std::env::var("INDEX_WORKLOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let _profiler = dhat::Profiler::builder().testing().build();
    let index = Arc::new(RwLock::new(FollowerIndex::default()));
    let scope = Scope::default();
    let mut stores = Vec::new();
    for kind in [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::CronJob,
    ] {
        stores.push((
            kind,
            workload_store::store(api_resource(kind)),
            None,
            HashSet::new(),
        ));
    }
    let before = dhat::HeapStats::get();
    for i in 0..count {
        let (plural, json) = workloads::workload(i);
        let kind = kind_of(plural);
        let mut object: DynamicObject = serde_json::from_value(json).expect("object");
        cache::prune(kind, &mut object);
        let event = Event::Apply(object);
        let (_, (_, writer), seen, known) =
            stores.iter_mut().find(|(k, ..)| *k == kind).expect("kind");
        let mut relist = Relist { seen, known };
        cache::apply_workload_event(&index, &scope, &mut relist, kind, &event);
        writer.apply(&event);
    }
    let after = dhat::HeapStats::get();
    let held = after.curr_bytes - before.curr_bytes;
    let stats = index.read().unwrap().stats();
    println!(
        "{count} workloads: {} bytes held ({} per workload) in {} blocks; peak {} bytes; index: {stats:?}",
        held,
        held / count.max(1),
        after.curr_blocks - before.curr_blocks,
        after.max_bytes,
    );
}
