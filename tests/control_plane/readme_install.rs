//! The README's install commands, run as written against the real control plane: the first
//! `sh` block of its "Install" section, line by line in bash, in a directory that looks like
//! a clone (the repository's files linked in, `certs/` its own). `CARGO=true` keeps `make
//! bins` from rebuilding what this test was built from. Then the installed Deployment is
//! stood in for by the binary and a Secret change rolls a Deployment.

use std::process::Command;

use crate::cluster_harness::Cluster;
use crate::cluster_harness::control_plane::repo_root;
use crate::cluster_harness::install::succeeded;
use crate::{SHOP, a_secret_change_rolls_the_deployment, stand_in_for_the_pod};

/// The first ```sh block after `## Install` in README.md.
fn install_block() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let section = readme
        .split("\n## Install\n")
        .nth(1)
        .expect("an Install section");
    let section = section.split("\n## ").next().unwrap();
    let block = section.split("```sh\n").nth(1).expect("an sh block");
    block.split("```").next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_install_commands_work_as_written_on_the_real_control_plane() {
    let mut cluster = Cluster::start_real().await;
    let clone = cluster.dir.path().join("clone");
    std::fs::create_dir_all(clone.join("certs")).unwrap();
    for entry in [
        "Makefile",
        "Cargo.toml",
        "helm",
        "e2e",
        "src",
        "target",
        ".tools",
    ] {
        std::os::unix::fs::symlink(repo_root().join(entry), clone.join(entry)).unwrap();
    }
    let block = install_block();
    assert!(block.contains("helm install reloader"), "{block}");
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &block])
        .current_dir(&clone)
        .env("KUBECONFIG", cluster.kubeconfig())
        // `make bins` builds nothing: this test's own build is the one it would make.
        .env("CARGO", "true")
        .output()
        .expect("bash runs");
    succeeded(&out, &format!("the README's install commands\n{block}\n"));
    let installed = cluster.kubectl(&[
        "-n",
        "reloader",
        "get",
        "deployment,serviceaccount",
        "-o",
        "name",
    ]);
    assert!(
        installed.contains("deployment.apps/reloader"),
        "{installed}"
    );

    cluster.apply(&SHOP);
    let reloader = stand_in_for_the_pod(&mut cluster, "reloader");
    a_secret_change_rolls_the_deployment(&cluster, &reloader, "reloader", "reloader").await;
}
