//! stakater/Reloader's behaviour matrix: which annotation and which kind of reference makes
//! a workload follow which change. One cluster, one reloader, one workload per row, each
//! with its own sources so rows cannot disturb each other.

use std::time::Duration;

use crate::cluster_harness::fixtures::{
    AUTO, Deployment, Source, deployment, documents, namespace, secret,
};
use crate::cluster_harness::{Cluster, env_value};

struct Row {
    name: &'static str,
    /// What the row gives its Deployment, `deployment("m", name)`.
    workload: fn(Deployment) -> Deployment,
    /// The source to create first.
    source: Source,
    /// The source as changed (applied with kubectl).
    change: Source,
    rolls: bool,
}

const M: &str = "m";

/// A Secret of the matrix whose one key `k` is `value`.
fn secret_k(name: &str, value: &str) -> Source {
    Source::secret(M, name, &[("k", value)])
}

/// A ConfigMap of the matrix whose one key `k` is `value`.
fn configmap_k(name: &str, value: &str) -> Source {
    Source::configmap(M, name, &[("k", value)])
}

fn rows() -> Vec<Row> {
    const SEARCH: &str = "reloader.stakater.com/search";
    const MATCH: &str = "reloader.stakater.com/match";
    const IGNORE: &str = "reloader.stakater.com/ignore";
    const TYPED_AUTO: &str = "secret.reloader.stakater.com/auto";
    vec![
        Row {
            name: "auto",
            workload: |d| {
                d.annotation(AUTO, "true")
                    .env_secret_key("X", "auto-s", "k")
            },
            source: secret_k("auto-s", "a"),
            change: secret_k("auto-s", "b"),
            rolls: true,
        },
        Row {
            name: "typed-auto-secret",
            workload: |d| {
                d.annotation(TYPED_AUTO, "true")
                    .secret_volume("v", "typed-s")
            },
            source: secret_k("typed-s", "a"),
            change: secret_k("typed-s", "b"),
            rolls: true,
        },
        Row {
            name: "typed-auto-other-kind",
            workload: |d| {
                d.annotation(TYPED_AUTO, "true")
                    .env_from_configmap("typed-c")
            },
            source: configmap_k("typed-c", "a"),
            change: configmap_k("typed-c", "b"),
            rolls: false,
        },
        Row {
            name: "reload-list-regex",
            workload: |d| d.annotation("configmap.reloader.stakater.com/reload", "rx-.*"),
            source: configmap_k("rx-one", "a"),
            change: configmap_k("rx-one", "b"),
            rolls: true,
        },
        Row {
            name: "search-match-projected",
            workload: |d| {
                d.annotation(SEARCH, "true")
                    .projected_configmap_volume("p", "match-c")
            },
            source: configmap_k("match-c", "a").annotation(MATCH, "true"),
            change: configmap_k("match-c", "b").annotation(MATCH, "true"),
            rolls: true,
        },
        Row {
            name: "search-without-match",
            workload: |d| d.annotation(SEARCH, "true").env_from_configmap("nomatch-c"),
            source: configmap_k("nomatch-c", "a"),
            change: configmap_k("nomatch-c", "b"),
            rolls: false,
        },
        Row {
            name: "ignored-source",
            workload: |d| d.annotation(AUTO, "true").env_from_secret("ign-s"),
            source: secret_k("ign-s", "a").annotation(IGNORE, "true"),
            change: secret_k("ign-s", "b").annotation(IGNORE, "true"),
            rolls: false,
        },
        Row {
            name: "excluded-source",
            workload: |d| {
                d.annotation(AUTO, "true")
                    .annotation("secrets.exclude.reloader.stakater.com/reload", "excl-s")
                    .env_from_secret("excl-s")
            },
            source: secret_k("excl-s", "a"),
            change: secret_k("excl-s", "b"),
            rolls: false,
        },
        Row {
            name: "auto-false",
            workload: |d| d.annotation(AUTO, "false").env_from_secret("af-s"),
            source: secret_k("af-s", "a"),
            change: secret_k("af-s", "b"),
            rolls: false,
        },
        Row {
            name: "template-annotations",
            workload: |d| {
                d.template_annotation(AUTO, "true")
                    .env_from_configmap("tpl-c")
            },
            source: configmap_k("tpl-c", "a"),
            change: configmap_k("tpl-c", "b"),
            rolls: true,
        },
        Row {
            name: "init-container",
            workload: |d| {
                d.annotation(AUTO, "true")
                    .init_env_secret_key("X", "init-s", "k")
            },
            source: secret_k("init-s", "a"),
            change: secret_k("init-s", "b"),
            rolls: true,
        },
        Row {
            name: "binary-data",
            workload: |d| d.annotation(AUTO, "true").configmap_volume("v", "bin-c"),
            source: Source::binary_configmap(M, "bin-c", &[("blob", "AAEC")]),
            change: Source::binary_configmap(M, "bin-c", &[("blob", "AAED")]),
            rolls: true,
        },
        Row {
            name: "label-only",
            workload: |d| d.annotation(AUTO, "true").env_from_configmap("lbl-c"),
            source: configmap_k("lbl-c", "a"),
            change: configmap_k("lbl-c", "a").label("team", "x"),
            rolls: false,
        },
    ]
}

fn workload(row: &Row) -> String {
    (row.workload)(deployment(M, row.name)).yaml()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakater_annotations_and_references_decide_who_rolls() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&namespace(M));
    let rows = rows();
    let setup: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.source.yaml(), workload(r)])
        .collect();
    cluster.apply(&documents(&setup));
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    let changes: Vec<String> = rows.iter().map(|r| r.change.yaml()).collect();
    cluster.apply(&documents(&changes));
    for row in rows.iter().filter(|r| r.rolls) {
        cluster.wait_rolled("m", row.name, 2).await;
    }
    // Every expected rollout happened; the others had the same time to happen (and more).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut wrong = Vec::new();
    for row in &rows {
        let generation = cluster.generation("m", row.name).await;
        let rolled = generation == 2;
        if rolled != row.rolls || generation > 2 {
            wrong.push(format!(
                "{}: generation {generation}, expected rollout: {}",
                row.name, row.rolls
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "rows that behaved wrongly:\n{}",
        wrong.join("\n")
    );
    // The init-container-only reference puts the marker on the first main container.
    let d = cluster.deployment("m", "init-container").await;
    assert!(env_value(&d, "STAKATER_INIT_S_SECRET").is_some());
}

/// A Deployment following a Secret that exists and one that does not yet.
fn create_delete() -> String {
    documents(&[
        namespace(M),
        secret(M, "gone-s", &[("k", "a")]),
        deployment(M, "follower")
            .annotation("secret.reloader.stakater.com/reload", "new-s,gone-s")
            .label("app", "f")
            .yaml(),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_and_deleting_sources_roll_only_when_asked() {
    // Off (the default): neither a create nor a delete rolls.
    let mut cluster = Cluster::start().await;
    cluster.apply(&create_delete());
    let mut reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.kubectl(&[
        "create",
        "secret",
        "generic",
        "new-s",
        "-n",
        "m",
        "--from-literal=k=a",
    ]);
    cluster.kubectl(&["delete", "secret", "gone-s", "-n", "m"]);
    cluster
        .stays_rolled("m", "follower", 1, Duration::from_millis(1500))
        .await;
    reloader.kill();

    // On: each rolls once.
    cluster.kubectl(&["delete", "secret", "new-s", "-n", "m"]);
    cluster.kubectl(&[
        "create",
        "secret",
        "generic",
        "gone-s",
        "-n",
        "m",
        "--from-literal=k=a",
    ]);
    let _reloader = cluster.start_reloader(&["--reload-on-create", "--reload-on-delete"]);
    cluster.kubectl(&[
        "create",
        "secret",
        "generic",
        "new-s",
        "-n",
        "m",
        "--from-literal=k=b",
    ]);
    cluster.wait_rolled("m", "follower", 2).await;
    cluster.kubectl(&["delete", "secret", "gone-s", "-n", "m"]);
    cluster.wait_rolled("m", "follower", 3).await;
    cluster
        .stays_rolled("m", "follower", 3, Duration::from_millis(800))
        .await;
}
