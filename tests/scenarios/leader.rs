//! Leader election over a Lease, and a graceful stop that hands it over.

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::cluster_harness::fixtures::namespace;
use crate::cluster_harness::{Cluster, eventually, free_port};

async fn holder(cluster: &Cluster) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(cluster.client.clone(), "reloader");
    leases
        .get_opt("reloader-leader")
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec?.holder_identity)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_leads_and_a_terminated_leader_hands_over() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&namespace("reloader"));
    let flags = ["--leader-elect", "--leader-election-namespace", "reloader"];
    let mut first = cluster.start_reloader(&flags);
    eventually("the first replica to take the lease", || async {
        holder(&cluster).await.as_deref() == Some("reloader-1")
    })
    .await;
    let _second = cluster.start_reloader_on(free_port(), &flags);
    assert_eq!(
        holder(&cluster).await.as_deref(),
        Some("reloader-1"),
        "a held lease is not taken"
    );

    first.stop_cleanly();
    assert!(first.log_text().contains("shutting down"));
    // Released on the way out: right after the exit the Lease names no holder (or already
    // the follower), where an expiring one would still name the first for 15 s. So the
    // follower takes over at its next try, not after expiry.
    assert_ne!(
        holder(&cluster).await.as_deref(),
        Some("reloader-1"),
        "the lease is released, not left to expire"
    );
    eventually("the second replica to take over", || async {
        holder(&cluster).await.as_deref() == Some("reloader-2")
    })
    .await;
}
