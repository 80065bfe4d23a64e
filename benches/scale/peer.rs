//! The peer, side by side: reloader and then stakater/Reloader (`PEER_BIN`, at the release
//! pinned in `benches/peer/go.mod`) against the same control plane holding the same data
//! (the loaded workloads, 10k Secrets, 5k ConfigMaps): RSS once synced, write → rollout
//! over the same changes, and the requests kube-apiserver answered per change.

use std::fmt::Write as _;
use std::path::Path;

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use kube::Client;
use kube::api::{Api, DeleteParams};

use crate::cluster::{ControlPlane, create_all, delete_labelled};
use crate::latency::{Rollouts, follower_pair, live_uncoalesced, wait_live, write_to_rollout};
use crate::mib;
use crate::reloader::{Memory, Reloader};
use crate::workloads::{self, NAMESPACES, SOURCES};

/// Secrets and ConfigMaps in the cluster while both run, followed ones included.
const SECRETS: usize = 10_000;
const CONFIGMAPS: usize = 5_000;

struct Measured {
    memory: Memory,
    rollouts: Rollouts,
}

pub async fn side_by_side(
    cp: &ControlPlane,
    client: &Client,
    ca: &::reloader::cmd::certs::Ca,
    certs: &Path,
    dir: &Path,
    workloads: usize,
    changes: usize,
) -> String {
    let mut out = format!(
        "\n### Side by side with stakater/Reloader ({workloads} workloads, {SECRETS} Secrets, {CONFIGMAPS} ConfigMaps)\n\n"
    );
    if std::env::var_os("PEER_BIN").is_none() {
        out.push_str("Not measured: `PEER_BIN` is not set (`make bench-scale` builds the peer).\n");
        return out;
    }
    let followed = NAMESPACES * SOURCES;
    let mut noise: Vec<_> = (0..SECRETS - followed)
        .map(|i| ("secrets", workloads::noise_secret(i)))
        .collect();
    noise.extend((0..CONFIGMAPS - followed).map(|i| ("configmaps", workloads::noise_configmap(i))));
    create_all(client, noise).await;
    let ns = "side-by-side";
    follower_pair(client, ns).await;

    let r = live_uncoalesced(cp, client, ca, certs, dir).await;
    let ours = Measured {
        memory: r.settled_memory().await,
        rollouts: write_to_rollout(client, ns, changes).await,
    };
    r.stop();
    // Without this the API server would keep calling the stopped webhook on every Secret
    // write (and be refused) while the peer is measured.
    let hooks: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    hooks
        .delete("reloader", &DeleteParams::default())
        .await
        .expect("delete the webhook configuration");
    eprintln!(
        "reloader: RSS {} MiB, {}",
        mib(ours.memory.rss_kib),
        ours.rollouts.summary()
    );

    let peer = Reloader::start_peer(&cp.kubeconfig, dir).expect("PEER_BIN");
    wait_live(client, &peer).await;
    let theirs = Measured {
        memory: peer.settled_memory().await,
        rollouts: write_to_rollout(client, ns, changes).await,
    };
    peer.stop();
    eprintln!(
        "stakater/Reloader: RSS {} MiB, {}",
        mib(theirs.memory.rss_kib),
        theirs.rollouts.summary()
    );

    let namespaces: Vec<String> = (0..NAMESPACES).map(workloads::namespace).collect();
    for plural in ["secrets", "configmaps"] {
        delete_labelled(client, plural, &namespaces, "bench=noise").await;
    }

    writeln!(
        out,
        "One after the other, each once it reacts to writes (its caches synced); then {changes} changes of one Secret followed by one Deployment, from the Secret PATCH sent to the Deployment's new generation seen by a watch. reloader runs with `--coalesce-window 0s` (stakater/Reloader does not coalesce); stakater/Reloader at its defaults (`--reload-strategy env-vars`).\n"
    )
    .unwrap();
    writeln!(out, "| | VmRSS settled (MiB) | VmHWM (MiB) | write → rollout p50 | p99 | max | requests per change |").unwrap();
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|").unwrap();
    for (name, m) in [("reloader", &ours), ("stakater/Reloader", &theirs)] {
        writeln!(
            out,
            "| {name} | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} |",
            mib(m.memory.rss_kib),
            mib(m.memory.hwm_kib),
            m.rollouts.p(0.5).as_secs_f64() * 1e3,
            m.rollouts.p(0.99).as_secs_f64() * 1e3,
            m.rollouts.max().as_secs_f64() * 1e3,
            m.rollouts.requests_per_change,
        )
        .unwrap();
    }
    writeln!(
        out,
        "\nstakater/Reloader's RSS is {:.1}× reloader's.",
        theirs.memory.rss_kib as f64 / ours.memory.rss_kib.max(1) as f64
    )
    .unwrap();
    out
}
