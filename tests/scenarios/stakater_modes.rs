//! stakater/Reloader's modes and command lines, on the real control plane: its image's
//! flags-only command line starts `serve`; `--webhook-url` posts each data change and rolls
//! nothing; `--sync-after-restart` (with `--reload-on-create`) rolls, once, the followers a
//! restart finds without a record.

use std::time::Duration;

use serde_json::json;

use crate::cluster_harness::alert_receiver::Receiver;
use crate::cluster_harness::fixtures::{AUTO, Source, deployment, documents, namespace, secret};
use crate::cluster_harness::{Cluster, Launch, eventually};

/// Longer than several resync periods of the reloaders below (`--resync-period 500ms`).
const HOLD: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakaters_flags_only_command_line_runs_serve() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        deployment("shop", "web")
            .annotation(AUTO, "true")
            .env_from_secret("creds")
            .yaml(),
    ]));
    cluster.wait_rolled("shop", "web", 1).await;
    // The forms stakater's chart writes into `args`, with no subcommand.
    let flags = [
        "--log-level=info",
        "--reload-strategy=env-vars",
        "--enable-ha=true",
        "--reload-on-create=true",
        "--reload-on-delete=true",
        "--is-Argo-Rollouts=false",
        "--resources-to-ignore=configmaps",
        "--namespace-selector=\"\"",
        "--coalesce-window=150ms",
    ];
    let reloader = cluster.launch(&Launch {
        kubeconfig: cluster.kubeconfig().to_path_buf(),
        webhook_port: cluster.webhook_port,
        flags: flags.map(str::to_owned).to_vec(),
        pod_name: "reloader".into(),
        pod_namespace: Some("shop".into()),
        without_subcommand: true,
    });
    cluster.register_webhook();
    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.stays_rolled("shop", "web", 2, HOLD).await;
    // --enable-ha is leader election: the Lease is held in the pod's namespace.
    let lease = cluster.kubectl(&[
        "get",
        "lease",
        "-n",
        "shop",
        "reloader-leader",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert!(lease.starts_with("reloader-"), "lease held by {lease:?}");
    assert!(
        !reloader.log_text().contains("ERROR"),
        "{}",
        reloader.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_url_posts_every_data_change_and_rolls_nothing() {
    let mut cluster = Cluster::start().await;
    let (hook, base) = Receiver::start(&[]).await;
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        secret("shop", "unfollowed", &[("v", "1")]),
        deployment("shop", "web")
            .annotation(AUTO, "true")
            .env_from_secret("creds")
            .yaml(),
    ]));
    cluster.wait_rolled("shop", "web", 1).await;
    let url = format!("{base}/build?token=t0k3n");
    let reloader = cluster.start_reloader(&["--webhook-url", &url, "--resync-period", "500ms"]);
    cluster.register_webhook();

    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    eventually("the first post", || async { hook.got().len() == 1 }).await;
    cluster.apply(&secret("shop", "creds", &[("password", "three")]));
    // stakater posts for any Secret's change, followed or not.
    cluster.apply(&secret("shop", "unfollowed", &[("v", "2")]));
    // A label is no data change: nothing posted.
    cluster.apply(
        &Source::secret("shop", "unfollowed", &[("v", "2")])
            .label("team", "a")
            .yaml(),
    );
    eventually("three posts", || async { hook.got().len() >= 3 }).await;
    cluster.stays_rolled("shop", "web", 1, HOLD).await;
    let got = hook.got();
    assert_eq!(got.len(), 3, "one post per data change: {got:#?}");
    for (path, body) in &got {
        assert_eq!(path, "/build");
        assert_eq!(body, &json!({"webhook": "update successful"}));
    }
    let log = reloader.log_text();
    assert!(!log.contains("t0k3n"), "the URL was logged:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_after_restart_rolls_followers_without_a_record_once() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        deployment("shop", "web")
            .annotation(AUTO, "true")
            .env_from_secret("creds")
            .yaml(),
        deployment("shop", "bystander")
            .env_from_secret("creds")
            .yaml(),
    ]));
    cluster.wait_rolled("shop", "web", 1).await;
    cluster.wait_rolled("shop", "bystander", 1).await;
    let flags = ["--resync-period", "500ms"];

    // Without --reload-on-create the flag does nothing, as upstream.
    let mut alone = cluster.start_reloader(&[flags[0], flags[1], "--sync-after-restart"]);
    cluster.stays_rolled("shop", "web", 1, HOLD).await;
    assert!(
        alone
            .log_text()
            .contains("--sync-after-restart has no effect"),
        "{}",
        alone.log_text()
    );
    alone.stop_cleanly();

    let mut first = cluster.start_reloader(&[
        flags[0],
        flags[1],
        "--reload-on-create",
        "--sync-after-restart=true",
    ]);
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.stays_rolled("shop", "web", 2, HOLD).await;
    cluster
        .stays_rolled("shop", "bystander", 1, Duration::ZERO)
        .await;
    first.stop_cleanly();

    // The next restart finds the record current: nothing rolls.
    let _again = cluster.start_reloader(&[
        flags[0],
        flags[1],
        "--reload-on-create",
        "--sync-after-restart",
    ]);
    cluster.stays_rolled("shop", "web", 2, HOLD).await;
}
