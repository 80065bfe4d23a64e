//! The make targets operators of kubebuilder projects type, run as typed against the real
//! control plane (its kubeconfig as `KUBECONFIG`): `make install` / `uninstall` (the CRD),
//! `make deploy IMG=…` / `undeploy` (plain manifests, image pinned, self-signed
//! certificate), and `make run` (reloader on this machine, webhooks at a local URL), each
//! followed by a reload. `-o bins` only skips the rebuild: the test binary is that build.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};

use crate::cluster_harness::control_plane::repo_root;
use crate::cluster_harness::install::succeeded;
use crate::cluster_harness::{Cluster, free_port};
use crate::{SHOP, a_secret_change_rolls_the_deployment, stand_in_for_the_pod};

const CRD: &str = "customresourcedefinition/reloaderconfigs.reloader.stakater.com";

fn make(cluster: &Cluster, work: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(repo_root())
        .args(["-s", "-o", "bins"])
        .args(args)
        .env("KUBECONFIG", cluster.kubeconfig())
        .env("WORK", work)
        .env_remove("MAKEFLAGS");
    cmd
}

fn make_ok(cluster: &Cluster, work: &Path, args: &[&str]) -> String {
    let out = make(cluster, work, args).output().expect("make runs");
    succeeded(&out, &format!("make {args:?}"))
}

fn exists(cluster: &Cluster, args: &[&str]) -> bool {
    cluster
        .kubectl_raw(&[&["get"], args].concat(), None)
        .status
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn make_install_uninstall_deploy_and_undeploy_on_the_real_control_plane() {
    let mut cluster = Cluster::start_real().await;
    let work = cluster.dir.path().join("make");
    // The harness installs the CRD; start without it.
    cluster.kubectl(&["delete", CRD]);
    make_ok(&cluster, &work, &["install"]);
    cluster.kubectl(&["wait", "--for=condition=Established", CRD, "--timeout=30s"]);
    make_ok(&cluster, &work, &["uninstall"]);
    assert!(!exists(&cluster, &[CRD]), "uninstall removed the CRD");

    let img = "registry.example.com/team/reloader:1.2.3";
    let said = make_ok(
        &cluster,
        &work,
        &["deploy", &format!("IMG={img}"), "NAMESPACE=ops"],
    );
    assert!(
        said.contains("reloader deployed to namespace ops"),
        "{said}"
    );
    let image = cluster.kubectl(&[
        "-n",
        "ops",
        "get",
        "deployment",
        "reloader",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, img);
    let ca = std::fs::read(work.join("certs/ca.crt")).expect("the deploy's CA");
    let bundle = cluster.kubectl(&[
        "get",
        "validatingwebhookconfiguration",
        "reloader",
        "-o",
        "jsonpath={.webhooks[0].clientConfig.caBundle}",
    ]);
    use base64::Engine;
    let bundle = base64::engine::general_purpose::STANDARD
        .decode(bundle.trim())
        .expect("base64");
    assert_eq!(bundle, ca, "the webhooks trust the CA deploy made");
    assert!(exists(&cluster, &["-n", "ops", "secret", "reloader-tls"]));

    cluster.apply(&SHOP);
    let mut reloader = stand_in_for_the_pod(&mut cluster, "ops");
    a_secret_change_rolls_the_deployment(&cluster, &reloader, "ops", "reloader").await;
    reloader.stop_cleanly();

    make_ok(&cluster, &work, &["undeploy", "NAMESPACE=ops"]);
    for gone in [
        ["-n", "ops", "deployment", "reloader"].as_slice(),
        &["-n", "ops", "secret", "reloader-tls"],
        &["validatingwebhookconfiguration", "reloader"],
        &["mutatingwebhookconfiguration", "reloader"],
        &["clusterrole", "reloader"],
        &[CRD],
    ] {
        assert!(!exists(&cluster, gone), "undeploy removed {gone:?}");
    }
}

/// `make run` in its own process group, so the test stops make and reloader together.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-s", "INT", "--", &group])
            .status();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn make_run_serves_the_current_cluster_from_this_machine() {
    let mut cluster = Cluster::start_real().await;
    let work = cluster.dir.path().join("run");
    cluster.apply(&SHOP);
    let (webhook, metrics) = (free_port(), free_port());
    let log = std::fs::File::create(cluster.dir.path().join("make-run.log")).unwrap();
    let child = make(&cluster, &work, &["run"])
        .env("RUN_ADDR", format!("127.0.0.1:{webhook}"))
        .env("RUN_METRICS_ADDR", format!("127.0.0.1:{metrics}"))
        .env(
            "RUN_FLAGS",
            "--coalesce-window 150ms --log-level info,reloader=debug",
        )
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("make run starts");
    let running = Running(child);
    cluster.adopt(webhook, metrics);
    crate::cluster_harness::eventually("make run's webhooks registered", || async {
        exists(&cluster, &["validatingwebhookconfiguration", "reloader"])
            && crate::cluster_harness::http_get(metrics, "/readyz").is_some()
    })
    .await;
    cluster.wait_webhooks(webhook, true, &["sources", "workloads"]);

    cluster.apply(&crate::cluster_harness::fixtures::secret(
        "shop",
        "app-creds",
        &[("password", "changed-by-make-run")],
    ));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.wait_rollouts("shop", "web", 2).await;

    drop(running);
    crate::cluster_harness::eventually("stopping make run removes its webhooks", || async {
        !exists(&cluster, &["validatingwebhookconfiguration", "reloader"])
            && !exists(&cluster, &["mutatingwebhookconfiguration", "reloader"])
    })
    .await;
    let log = std::fs::read_to_string(cluster.dir.path().join("make-run.log")).unwrap();
    assert!(log.contains("reloader runs here"), "{log}");
    assert!(
        !log.contains("changed-by-make-run"),
        "no Secret data in the log"
    );
}
