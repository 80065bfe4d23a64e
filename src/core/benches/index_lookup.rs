//! Criterion: what one lookup in the follower index costs with 100 and with 100,000
//! workloads indexed (the cost should not grow with the workloads). `cargo bench -p
//! reloader-core --bench index_lookup`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use reloader_core::index::FollowerIndex;
use reloader_core::pod_template::input_from_json;
use reloader_core::source::{SourceKind, SourceRef};
use reloader_core::workload::WorkloadKind;
use serde_json::json;

/// `namespaces` namespaces of 100 Deployments each: each auto-follows a ConfigMap of its
/// own and one of ten Secrets; one per namespace also lists `shared-.*` Secrets by regex.
fn populated(namespaces: usize) -> FollowerIndex {
    let mut index = FollowerIndex::default();
    for n in 0..namespaces {
        for w in 0..100 {
            let mut annotations = json!({"reloader.stakater.com/auto": "true"});
            if w == 0 {
                annotations["secret.reloader.stakater.com/reload"] = json!("shared-.*");
            }
            let object = json!({
                "metadata": {"name": format!("w-{w}"), "namespace": format!("ns-{n}"), "annotations": annotations},
                "spec": {"template": {"spec": {"containers": [{"name": "app",
                    "envFrom": [{"configMapRef": {"name": format!("cfg-{w}")}},
                                {"secretRef": {"name": format!("sec-{}", w % 10)}}]}]}}}
            });
            index.apply_workload(input_from_json(WorkloadKind::Deployment, &object).unwrap());
        }
    }
    index
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("index::lookup");
    for (name, namespaces) in [("100 workloads", 1), ("100k workloads", 1000)] {
        let index = populated(namespaces);
        let ns = format!("ns-{}", namespaces / 2);
        let sources = [
            SourceRef::new(&ns, SourceKind::ConfigMap, "cfg-7"),
            SourceRef::new(&ns, SourceKind::Secret, "sec-3"),
            SourceRef::new(&ns, SourceKind::Secret, "shared-x"),
        ];
        let found: usize = sources.iter().map(|s| index.lookup(s, None).len()).sum();
        assert_eq!(found, 1 + 10 + 1, "every lookup finds its followers");
        group.bench_function(name, |b| {
            b.iter(|| {
                for s in &sources {
                    black_box(index.lookup(black_box(s), None));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
