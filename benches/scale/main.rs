//! `make bench-scale`: reloader at scale on the real control plane (a benchmark that
//! measures and reports; it asserts only that what it measures happened).
//!
//! 1. Memory: 1k, 10k and 50k realistic workloads (`workloads`), `reloader serve` started
//!    against them: VmRSS once its caches are filled and its first resync is done, and
//!    VmHWM (the start-up peak); again with 100k unfollowed Secrets present.
//! 2. Admission → patch at 10k workloads cached: 100 Secret changes, each followed by
//!    about 20 workloads, with `--coalesce-window 0s`: p50/p99 from the write to the last
//!    follower's template change, and kube-apiserver's requests per change.
//! 3. Side by side at 10k workloads with 10k Secrets and 5k ConfigMaps (`peer`): the same
//!    RSS and write → rollout figures for reloader and for stakater/Reloader (`PEER_BIN`).
//! 4. Fan-out: one Secret followed by 1,000 Deployments, at the default client settings;
//!    then 1,000 Secrets changed at once, each followed by one Deployment: every one is
//!    patched exactly once (its generation counts template changes: without the controller
//!    manager there are no ReplicaSets to count).
//!
//! Sizes and counts: `SCALE_SIZES` (default `1000,10000,50000`), `SCALE_SECRETS` (100000),
//! `SCALE_CHANGES` (100), `SCALE_FANOUT` (1000). The report is printed and written to
//! `target/bench-scale.md`.

mod cluster;
mod latency;
mod peer;
mod reloader;
mod workloads;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use cluster::{ControlPlane, create_all, delete_labelled};
use reloader::{Memory, Reloader};
use workloads::{NAMESPACES, SOURCES, namespace};

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// Flags of every measured start: resync reads fast, so the first pass ends soon.
const MEASURED: [&str; 2] = ["--kube-api-qps=1000", "--kube-api-burst=1000"];

struct Sample {
    workloads: usize,
    secrets: usize,
    synced: Duration,
    memory: Memory,
}

async fn measure(
    cp: &ControlPlane,
    certs: &Path,
    dir: &Path,
    workloads: usize,
    secrets: usize,
) -> Sample {
    // `SCALE_FLAGS`: other flags for these starts (to try settings).
    let extra = std::env::var("SCALE_FLAGS").unwrap_or_default();
    let mut flags: Vec<&str> = extra.split_whitespace().collect();
    if flags.is_empty() {
        flags = MEASURED.to_vec();
    }
    let mut r = Reloader::start(&cp.kubeconfig, certs, dir, &flags);
    let synced = r
        .wait_log("workload caches filled", Duration::from_secs(900))
        .await;
    if std::env::var("SCALE_SKIP_RESYNC").is_err() {
        r.wait_log("resync pass done", Duration::from_secs(1800))
            .await;
    }
    let memory = r.settled_memory().await;
    r.stop();
    eprintln!(
        "{workloads} workloads, {secrets} Secrets: synced after {synced:.1?}, RSS {} MiB, HWM {} MiB",
        mib(memory.rss_kib),
        mib(memory.hwm_kib)
    );
    Sample {
        workloads,
        secrets,
        synced,
        memory,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let sizes = env_list("SCALE_SIZES", "1000,10000,50000");
    let noise = env_count("SCALE_SECRETS", 100_000);
    let changes = env_count("SCALE_CHANGES", 100);
    let fanout = env_count("SCALE_FANOUT", 1000);
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();

    let cp = ControlPlane::start();
    let client = cp.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).expect("certs dir");
    let ca = ::reloader::cmd::certs::Ca::generate("bench CA", 1).expect("CA");
    let (cert, key) = ca
        .issue(&["127.0.0.1".to_owned(), "localhost".to_owned()], 1)
        .expect("pair");
    std::fs::write(certs.join("tls.crt"), cert).expect("write");
    std::fs::write(certs.join("tls.key"), key).expect("write");

    let namespaces: Vec<String> = (0..NAMESPACES).map(namespace).collect();
    let mut setup: Vec<(&'static str, serde_json::Value)> =
        namespaces.iter().map(|ns| cluster::namespace(ns)).collect();
    create_all(&client, std::mem::take(&mut setup)).await;
    for ns in &namespaces {
        for k in 0..SOURCES {
            setup.push(("secrets", workloads::source(ns, "secrets", k)));
            setup.push(("configmaps", workloads::source(ns, "configmaps", k)));
        }
    }
    create_all(&client, setup).await;

    let mut samples = Vec::new();
    let mut latency_report = None;
    let mut loaded = 0;
    for &size in &sizes {
        let objects: Vec<_> = (loaded..size).map(workloads::workload).collect();
        let took = create_all(&client, objects).await;
        eprintln!(
            "loaded {size} workloads ({:.1?} for the last {})",
            took,
            size - loaded
        );
        loaded = size;
        samples.push(measure(&cp, &certs, dir.path(), size, 0).await);
        if noise > 0 {
            create_all(
                &client,
                (0..noise)
                    .map(|i| ("secrets", workloads::noise_secret(i)))
                    .collect(),
            )
            .await;
            samples.push(measure(&cp, &certs, dir.path(), size, noise).await);
            delete_labelled(&client, "secrets", &namespaces, "bench=noise").await;
        }
        if size == 10_000 || (latency_report.is_none() && size == *sizes.last().unwrap()) {
            let l =
                latency::admission_to_patch(&cp, &client, &ca, &certs, dir.path(), size, changes)
                    .await;
            eprintln!("{l}");
            let p = peer::side_by_side(&cp, &client, &ca, &certs, dir.path(), size, changes).await;
            eprintln!("{p}");
            latency_report = Some(l + &p);
        }
    }
    let fanout_report = latency::fan_out(&cp, &client, &ca, &certs, dir.path(), fanout).await;
    eprintln!("{fanout_report}");

    let mut report = String::new();
    writeln!(
        report,
        "### Memory (`reloader serve`, real control plane)\n"
    )
    .unwrap();
    writeln!(report, "| workloads | Secrets besides the followed | caches filled after | VmRSS settled (MiB) | VmHWM (MiB) | HWM / RSS |").unwrap();
    writeln!(report, "|---:|---:|---:|---:|---:|---:|").unwrap();
    for s in &samples {
        writeln!(
            report,
            "| {} | {} | {:.1} s | {} | {} | {:.2} |",
            s.workloads,
            s.secrets,
            s.synced.as_secs_f64(),
            mib(s.memory.rss_kib),
            mib(s.memory.hwm_kib),
            s.memory.hwm_kib as f64 / s.memory.rss_kib.max(1) as f64
        )
        .unwrap();
    }
    let plain: Vec<&Sample> = samples.iter().filter(|s| s.secrets == 0).collect();
    for pair in plain.windows(2) {
        let per = (pair[1].memory.rss_kib as f64 - pair[0].memory.rss_kib as f64) * 1024.0
            / (pair[1].workloads - pair[0].workloads) as f64;
        writeln!(
            report,
            "\nPer extra workload from {} to {}: {:.0} bytes of RSS.",
            pair[0].workloads, pair[1].workloads, per
        )
        .unwrap();
    }
    if let Some(l) = latency_report {
        report.push_str(&l);
    }
    report.push_str(&fanout_report);
    println!("{report}");
    let out = cluster::repo_root().join("target/bench-scale.md");
    std::fs::write(&out, &report).expect("report");
    eprintln!("report written to {}", out.display());
}
