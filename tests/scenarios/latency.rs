//! Sixty back-to-back Secret changes without a coalescing window: each rolls the Deployment
//! exactly once. The admission → PATCH latency distribution is printed for
//! docs/benchmarks.md; it is a measurement, not an assertion, so a slow machine cannot fail it.

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams, WatchEvent, WatchParams};
use serde_json::json;

use crate::cluster_harness::Cluster;
use crate::cluster_harness::fixtures::{deployment, documents, namespace, secret};

fn setup() -> String {
    documents(&[
        namespace("bench"),
        secret("bench", "s", &[("k", "0")]),
        deployment("bench", "d")
            .annotation("secret.reloader.stakater.com/reload", "s")
            .yaml(),
    ])
}

const ROUNDS: usize = 60;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_back_changes_roll_once_each_and_report_latency() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&setup());
    let _reloader = cluster.start_reloader(&["--coalesce-window", "0s"]);
    cluster.register_webhook();
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), "bench");
    let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), "bench");
    let rv = deployments
        .get("d")
        .await
        .expect("d")
        .metadata
        .resource_version
        .unwrap_or_default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watch = deployments.clone();
    tokio::spawn(async move {
        let params = WatchParams::default()
            .fields("metadata.name=d")
            .timeout(290);
        let mut stream = watch.watch(&params, &rv).await.expect("watch").boxed();
        while let Some(Ok(event)) = stream.next().await {
            if let WatchEvent::Modified(d) = event {
                let _ = tx.send((d.metadata.generation.unwrap_or(0), Instant::now()));
            }
        }
    });
    let mut samples = Vec::with_capacity(ROUNDS);
    for round in 1..=ROUNDS {
        let patch = json!({"stringData": {"k": round.to_string()}});
        let started = Instant::now();
        secrets
            .patch("s", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patch secret");
        let want = round as i64 + 1;
        let arrived = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let (generation, at) = rx.recv().await.expect("watch open");
                if generation >= want {
                    assert_eq!(generation, want, "exactly one rollout per change");
                    return at;
                }
            }
        })
        .await
        .expect("rollout within 10 s");
        samples.push(arrived - started);
    }
    samples.sort();
    let (p50, p90, p99) = (
        percentile(&samples, 0.5),
        percentile(&samples, 0.9),
        percentile(&samples, 0.99),
    );
    println!(
        "admission→patch latency over {ROUNDS} changes (Secret PATCH sent → Deployment update seen by a watch): p50 {p50:?}, p90 {p90:?}, p99 {p99:?}, max {:?}",
        samples[samples.len() - 1]
    );
}
