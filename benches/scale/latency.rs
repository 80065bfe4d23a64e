//! The timed parts of the scale benchmark: admission → patch with many workloads cached,
//! and fan-out. A Deployment's `generation` counts its template changes (no controller
//! manager runs, so there are no ReplicaSets): one reload is one generation.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::MEASURED;
use crate::cluster::{
    ControlPlane, create_all, kubectl_apply, namespace, repo_root, requests_answered,
};
use crate::reloader::Reloader;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn deployment(ns: &str, name: &str, secret: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "namespace": ns,
                        "annotations": {"secret.reloader.stakater.com/reload": secret}},
           "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"containers": [{"name": "app", "image": "app"}]}}}})
}

fn secret(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret",
           "metadata": {"name": name, "namespace": ns}, "stringData": {"k": "0"}})
}

/// The namespace `ns` with the Secret `secret` and a Deployment following it by name.
async fn one_follower(client: &Client, ns: &str, secret_name: &str, deployment_name: &str) {
    create_all(
        client,
        vec![
            namespace(ns),
            ("secrets", secret(ns, secret_name)),
            ("deployments", deployment(ns, deployment_name, secret_name)),
        ],
    )
    .await;
}

/// Starts reloader with `extra`, registers its sources webhook, and waits until it is
/// live ([`wait_live`]).
async fn live_reloader(
    cp: &ControlPlane,
    client: &Client,
    ca: &::reloader::cmd::certs::Ca,
    certs: &Path,
    dir: &Path,
    extra: &[&str],
) -> Reloader {
    let mut flags: Vec<&str> = MEASURED.to_vec();
    flags.extend_from_slice(extra);
    let mut r = Reloader::start(&cp.kubeconfig, certs, dir, &flags);
    r.wait_log("workload caches filled", Duration::from_secs(900))
        .await;
    r.wait_log("resync pass done", Duration::from_secs(1800))
        .await;
    let out = dir.join(format!("webhook-config-{}", r.webhook_port));
    let status = std::process::Command::new(repo_root().join("target/release/reloader"))
        .args(["webhook-config", "--url"])
        .arg(format!("https://127.0.0.1:{}", r.webhook_port))
        .arg("--ca-bundle")
        .arg(ca.ca_bundle())
        .arg("--out-dir")
        .arg(&out)
        .status()
        .expect("webhook-config");
    assert!(status.success());
    kubectl_apply(
        &cp.kubeconfig,
        &out.join("validating-webhook-configuration.yaml"),
    );
    wait_live(client, &r).await;
    r
}

/// Waits until a change of the Secret `probe/p` rolls the Deployment following it: the
/// process `r` (reloader or the peer) reacts to writes. The API server picks a webhook
/// configuration up from a watch, and the peer starts reacting once its caches are synced.
pub async fn wait_live(client: &Client, r: &Reloader) {
    let ns = "probe";
    one_follower(client, ns, "p", "p").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let deadline = Instant::now() + Duration::from_secs(180);
    let start_gen = deployments
        .get("p")
        .await
        .expect("p")
        .metadata
        .generation
        .unwrap_or(0);
    let run = fastrand::u32(..);
    let mut round = 0;
    loop {
        round += 1;
        let patch = json!({"stringData": {"k": format!("probe-{run}-{round}")}});
        secrets
            .patch("p", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("probe");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let generation = deployments
            .get("p")
            .await
            .expect("p")
            .metadata
            .generation
            .unwrap_or(0);
        if generation > start_gen {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no change of probe/p ever rolled probe/p:\n{}",
            r.log_text()
        );
    }
}

/// Write → rollout times as a user sees them (sorted), and the requests kube-apiserver
/// answered per change besides the change itself.
pub struct Rollouts {
    pub samples: Vec<Duration>,
    pub requests_per_change: f64,
}

impl Rollouts {
    pub fn p(&self, q: f64) -> Duration {
        percentile(&self.samples, q)
    }

    pub fn max(&self) -> Duration {
        self.samples.last().copied().unwrap_or_default()
    }

    /// "p50 …, p90 …, p99 …, max …".
    pub fn summary(&self) -> String {
        format!(
            "p50 {}, p90 {}, p99 {}, max {}",
            ms(self.p(0.5)),
            ms(self.p(0.9)),
            ms(self.p(0.99)),
            ms(self.max()),
        )
    }
}

/// `changes` changes of the Secret `ns/s`, followed by the Deployment `ns/d` (made by
/// [`follower_pair`]), with `r` live: from each Secret PATCH sent to the Deployment's new
/// generation seen by a watch; every change must roll it exactly once.
pub async fn write_to_rollout(client: &Client, ns: &str, changes: usize) -> Rollouts {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let d = deployments.get("d").await.expect("d");
    let rv = d.metadata.resource_version.clone().unwrap_or_default();
    let mut generation = d.metadata.generation.unwrap_or(0);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watch = deployments.clone();
    let watcher = tokio::spawn(async move {
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
    let before = requests_answered(client).await;
    let mut samples = Vec::with_capacity(changes);
    let run = fastrand::u32(..);
    for round in 1..=changes {
        let patch = json!({"stringData": {"k": format!("{run}-{round}")}});
        let started = Instant::now();
        secrets
            .patch("s", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patch secret");
        generation += 1;
        let arrived = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let (g, at) = rx.recv().await.expect("watch open");
                if g >= generation {
                    assert_eq!(g, generation, "exactly one rollout per change");
                    return at;
                }
            }
        })
        .await
        .expect("patched within 10 s");
        samples.push(arrived - started);
    }
    // Settle, then count: the process's requests, less this benchmark's own writes and
    // the `/metrics` read.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = requests_answered(client).await;
    watcher.abort();
    samples.sort();
    Rollouts {
        samples,
        requests_per_change: (after - before - changes as f64 - 1.0) / changes as f64,
    }
}

/// The namespace `ns` with the Secret `s` and the Deployment `d` following it.
pub async fn follower_pair(client: &Client, ns: &str) {
    one_follower(client, ns, "s", "d").await;
}

/// reloader started with `--coalesce-window 0s` (the figure is the webhook and engine
/// alone), live.
pub async fn live_uncoalesced(
    cp: &ControlPlane,
    client: &Client,
    ca: &::reloader::cmd::certs::Ca,
    certs: &Path,
    dir: &Path,
) -> Reloader {
    live_reloader(cp, client, ca, certs, dir, &["--coalesce-window=0s"]).await
}

/// `changes` changes of one Secret followed by one Deployment, with `cached` workloads in
/// the caches; `--coalesce-window 0s`, so the figure is the webhook and engine alone.
pub async fn admission_to_patch(
    cp: &ControlPlane,
    client: &Client,
    ca: &::reloader::cmd::certs::Ca,
    certs: &Path,
    dir: &Path,
    cached: usize,
    changes: usize,
) -> String {
    let ns = "latency";
    follower_pair(client, ns).await;
    let r = live_uncoalesced(cp, client, ca, certs, dir).await;
    let rollouts = write_to_rollout(client, ns, changes).await;
    r.stop();
    let mut out = String::new();
    writeln!(
        out,
        "\n### Admission → patch ({cached} workloads cached, `--coalesce-window 0s`)\n"
    )
    .unwrap();
    writeln!(
        out,
        "{changes} changes of one Secret followed by one Deployment; from the Secret PATCH sent to the Deployment update seen by a watch: {}. kube-apiserver answered {:.1} requests per change besides the change itself.",
        rollouts.summary(),
        rollouts.requests_per_change,
    )
    .unwrap();
    out
}

/// One Secret followed by `n` Deployments; then `n` Secrets, each followed by one.
pub async fn fan_out(
    cp: &ControlPlane,
    client: &Client,
    ca: &::reloader::cmd::certs::Ca,
    certs: &Path,
    dir: &Path,
    n: usize,
) -> String {
    let (one, many) = ("fanout-one", "fanout-many");
    let mut objects = vec![
        namespace(one),
        namespace(many),
        ("secrets", secret(one, "shared")),
    ];
    for i in 0..n {
        objects.push((
            "deployments",
            deployment(one, &format!("w-{i:04}"), "shared"),
        ));
        objects.push(("secrets", secret(many, &format!("s-{i:04}"))));
        objects.push((
            "deployments",
            deployment(many, &format!("w-{i:04}"), &format!("s-{i:04}")),
        ));
    }
    create_all(client, objects).await;
    let r = live_reloader(cp, client, ca, certs, dir, &[]).await;

    let generations = |ns: &'static str| {
        let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
        async move {
            api.list(&ListParams::default())
                .await
                .expect("list")
                .items
                .iter()
                .map(|d| d.metadata.generation.unwrap_or(0))
                .collect::<Vec<i64>>()
        }
    };
    let secrets: Api<Secret> = Api::namespaced(client.clone(), one);
    let started = Instant::now();
    secrets
        .patch(
            "shared",
            &PatchParams::default(),
            &Patch::Merge(&json!({"stringData": {"k": "1"}})),
        )
        .await
        .expect("patch");
    // A bound, reported rather than asserted: this is a measurement.
    let all_patched = loop {
        let g = generations(one).await;
        if g.iter().all(|g| *g >= 2) || started.elapsed() > Duration::from_secs(300) {
            break started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let one_unpatched = generations(one).await.iter().filter(|g| **g < 2).count();

    let secrets: Api<Secret> = Api::namespaced(client.clone(), many);
    let started = Instant::now();
    futures::stream::iter(0..n)
        .for_each_concurrent(32, |i| {
            let secrets = secrets.clone();
            async move {
                let patch = json!({"stringData": {"k": "1"}});
                secrets
                    .patch(
                        &format!("s-{i:04}"),
                        &PatchParams::default(),
                        &Patch::Merge(&patch),
                    )
                    .await
                    .expect("patch");
            }
        })
        .await;
    let written = started.elapsed();
    let many_patched = loop {
        let g = generations(many).await;
        if g.iter().all(|g| *g >= 2) || started.elapsed() > Duration::from_secs(300) {
            break started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let many_unpatched = generations(many).await.iter().filter(|g| **g < 2).count();
    // Quiet for a while: anything rolled twice shows now.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let twice_one = generations(one).await.iter().filter(|g| **g > 2).count();
    let twice_many = generations(many).await.iter().filter(|g| **g > 2).count();
    r.stop();
    let mut out = String::new();
    writeln!(
        out,
        "\n### Fan-out (default `--coalesce-window 1s`, `--max-concurrent-reloads 16`)\n"
    )
    .unwrap();
    writeln!(
        out,
        "- one Secret followed by {n} Deployments: all patched {:.2} s after the write (the 1 s coalescing window included); not patched: {one_unpatched}; rolled more than once: {twice_one}.",
        all_patched.as_secs_f64()
    )
    .unwrap();
    writeln!(
        out,
        "- {n} Secrets changed at once (written in {:.2} s, 32 writes in flight), each followed by one Deployment: all patched {:.2} s after the first write; not patched: {many_unpatched}; rolled more than once: {twice_many}.",
        written.as_secs_f64(),
        many_patched.as_secs_f64()
    )
    .unwrap();
    out
}
