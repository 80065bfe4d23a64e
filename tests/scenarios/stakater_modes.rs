//! stakater/Reloader's modes and command lines, on the real control plane: its image's
//! flags-only command line starts `serve`; every argument form its README shows starts it; `--webhook-url` posts each data change and rolls
//! nothing; `--sync-after-restart` (with `--reload-on-create`) rolls, once, the followers a
//! restart finds without a record; its metric names are served after a reload.

use std::time::Duration;

use serde_json::json;

use crate::cluster_harness::alert_receiver::Receiver;
use crate::cluster_harness::fixtures::{
    AUTO, Deployment, Source, deployment, documents, namespace, secret,
};
use crate::cluster_harness::{Cluster, Launch, eventually, http_get};

/// A Deployment in `shop` that follows what it references (the Secret `creds`).
fn follows_creds(name: &str) -> Deployment {
    deployment("shop", name)
        .annotation(AUTO, "true")
        .env_from_secret("creds")
}

/// Longer than several resync periods of the reloaders below (`--resync-period 500ms`).
const HOLD: Duration = Duration::from_secs(3);

/// The argument forms stakater/Reloader's README (v1.4.21) shows, one row of its tables
/// each, as a user would paste them.
const README_FORMS: [(&str, &[&str]); 16] = [
    ("reload on create", &["--reload-on-create=true"]),
    ("reload on delete", &["--reload-on-delete=true"]),
    ("auto reload all", &["--auto-reload-all=true"]),
    ("env-vars strategy", &["--reload-strategy=env-vars"]),
    ("annotations strategy", &["--reload-strategy=annotations"]),
    ("JSON logs", &["--log-format=json"]),
    ("ignore ConfigMaps", &["--resources-to-ignore=configmaps"]),
    ("ignore Secrets", &["--resources-to-ignore=secrets"]),
    (
        "ignore Jobs and CronJobs",
        &["--ignored-workload-types=jobs,cronjobs"],
    ),
    ("ignore CronJobs", &["--ignored-workload-types=cronjobs"]),
    (
        "a resource label selector",
        &["--resource-label-selector=key=value"],
    ),
    (
        "namespace selectors",
        &["--namespace-selector=key1=value1,key2=value2"],
    ),
    (
        "a set-based namespace selector",
        &["--namespace-selector=key in (value1,value2)"],
    ),
    ("namespaces to ignore", &["--namespaces-to-ignore=ns1,ns2"]),
    ("Argo Rollouts on", &["--is-argo-rollouts=true"]),
    (
        "the annotation overrides and pprof",
        &[
            "--auto-annotation=acme.io/auto",
            "--secret-auto-annotation=acme.io/secret-auto",
            "--configmap-auto-annotation=acme.io/configmap-auto",
            "--auto-search-annotation=acme.io/search",
            "--search-match-annotation=acme.io/match",
            "--secret-annotation=acme.io/secret",
            "--configmap-annotation=acme.io/configmap",
            "--ignore-annotation=acme.io/ignore",
            "--pause-deployment-annotation=acme.io/pause-period",
            "--pause-deployment-time-annotation=acme.io/paused-at",
            "--enable-pprof",
            "--pprof-addr=:6060",
        ],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_argument_form_of_stakaters_readme_starts_reloader() {
    let mut cluster = Cluster::start().await;
    for (name, form) in README_FORMS {
        let mut flags: Vec<String> = form.iter().map(|f| f.to_string()).collect();
        flags.push("--coalesce-window=150ms".into());
        // `launch` waits until the caches are filled and fails with the log if it exits.
        let mut reloader = cluster.launch(&Launch {
            kubeconfig: cluster.kubeconfig().to_path_buf(),
            webhook_port: cluster.webhook_port,
            flags,
            pod_name: "reloader".into(),
            pod_namespace: Some("default".into()),
            without_subcommand: false,
            env: Vec::new(),
        });
        assert!(!reloader.exited(), "{name}: {form:?} exited");
        reloader.stop_cleanly();
        let log = reloader.log_text();
        assert!(!log.contains("panicked"), "{name}: {log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakaters_flags_only_command_line_runs_serve() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        follows_creds("web").yaml(),
        namespace("elsewhere"),
        secret("elsewhere", "creds", &[("password", "one")]),
        deployment("elsewhere", "web")
            .annotation(AUTO, "true")
            .env_from_secret("creds")
            .yaml(),
    ]));
    cluster.wait_rolled("shop", "web", 1).await;
    cluster.wait_rolled("elsewhere", "web", 1).await;
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
        env: vec![
            ("RELOADER_NAMESPACE".into(), "shop".into()),
            ("RELOADER_DEPLOYMENT_NAME".into(), "reloader".into()),
            // What stakater's chart sets when watchGlobally is false: only that namespace.
            ("KUBERNETES_NAMESPACE".into(), "shop".into()),
        ],
    });
    cluster.register_webhook();
    cluster.apply(&secret("elsewhere", "creds", &[("password", "two")]));
    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.stays_rolled("shop", "web", 2, HOLD).await;
    cluster
        .stays_rolled("elsewhere", "web", 1, Duration::ZERO)
        .await;
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
    // RELOADER_NAMESPACE: stakater's meta-info ConfigMap, found by its label.
    let meta = |path: &str| {
        cluster.kubectl(&[
            "get",
            "configmap",
            "-n",
            "shop",
            "-l",
            "reloader.stakater.com/meta-info=reloader",
            "-o",
            &format!("jsonpath={{.items[*]{path}}}"),
        ])
    };
    eventually("the meta-info ConfigMap", || async {
        meta(".metadata.name") == "reloader-meta-info"
    })
    .await;
    let deployment: serde_json::Value =
        serde_json::from_str(&meta(".data.deploymentInfo")).expect("deploymentInfo");
    assert_eq!(deployment, json!({"name": "reloader", "namespace": "shop"}));
    let options: serde_json::Value =
        serde_json::from_str(&meta(".data.reloaderOptions")).expect("reloaderOptions");
    assert_eq!(options["enableHA"], true, "{options}");
    assert_eq!(options["reloadOnCreate"], true, "{options}");
    assert_eq!(options["resourcesToIgnore"], json!(["configmaps"]));
    assert_eq!(options["isArgoRollouts"], false, "{options}");
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
        follows_creds("web").yaml(),
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
        follows_creds("web").yaml(),
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

/// The metric names the parity table calls `same`, each with a sample line in `scrape`.
fn missing_stakater_metrics(scrape: &str) -> Vec<String> {
    let table = include_str!("../../docs/stakater-compatibility.md");
    let same: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("| same |"))
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
        .filter(|n| n.starts_with("reloader_") || n.starts_with("rest_client_"))
        .collect();
    assert!(same.len() >= 10, "the table lost its metric rows: {same:?}");
    same.into_iter()
        .filter(|name| {
            !scrape.lines().any(|l| {
                [" ", "{", "_bucket{"]
                    .iter()
                    .any(|end| l.starts_with(&format!("{name}{end}")))
            })
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakaters_metric_names_are_served_after_a_reload() {
    let mut cluster = Cluster::start().await;
    let mut docs = vec![
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        follows_creds("open").yaml(),
    ];
    // A failed reload feeds the error families; only the real API server has policies.
    if cluster.is_real() {
        docs.push(follows_creds("locked").object_label("frozen", "yes").yaml());
    }
    cluster.apply(&documents(&docs));
    cluster.wait_rolled("shop", "open", 1).await;
    if cluster.is_real() {
        cluster.freeze("shop", "locked").await;
    }
    // stakater's switch for the _by_namespace families, as its chart sets it.
    let reloader = cluster.launch(&Launch {
        kubeconfig: cluster.kubeconfig().to_path_buf(),
        webhook_port: cluster.webhook_port,
        flags: ["--coalesce-window=150ms", "--source-wait=2s"]
            .map(str::to_owned)
            .to_vec(),
        pod_name: "reloader".into(),
        pod_namespace: None,
        without_subcommand: false,
        env: vec![("METRICS_COUNT_BY_NAMESPACE".into(), "enabled".into())],
    });
    cluster.register_webhook();
    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    cluster.wait_rolled("shop", "open", 2).await;
    // No data change: skipped.
    cluster.apply(
        &Source::secret("shop", "creds", &[("password", "two")])
            .label("team", "a")
            .yaml(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let missing = loop {
        let scrape = http_get(reloader.metrics_port, "/metrics").unwrap_or_default();
        let mut missing = missing_stakater_metrics(&scrape);
        // The simulator cannot fail a reload: the error family is the one it may lack.
        if !cluster.is_real() {
            missing.retain(|m| m != "reloader_errors_total");
        }
        if missing.is_empty() || std::time::Instant::now() > deadline {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        missing.is_empty(),
        "not in a scrape after a reload: {missing:?}"
    );
    let scrape = http_get(reloader.metrics_port, "/metrics").expect("metrics");
    for sample in [
        r#"reloader_action_total{workload_kind="Deployment",result="success"} 1"#,
        r#"reloader_reload_executed_total_by_namespace{success="true",namespace="shop"} 1"#,
        r#"reloader_events_received_total{event_type="update",resource_type="secrets"}"#,
        r#"reloader_skipped_total{reason="no_data_change"} 1"#,
        // Not stakater's: start-up done, for operators and benchmarks.
        "reloader_caches_synced 1",
    ] {
        assert!(scrape.contains(sample), "{sample} not in:\n{scrape}");
    }
}

const NIGHTLY: &str = r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop, annotations: {reloader.stakater.com/auto: "true"}}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    metadata: {labels: {app: nightly}}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: job
              image: busybox
              envFrom: [{secretRef: {name: creds}}]
"#;

/// The CronJob's generation, and the Jobs it owns: (name, the recorded hash in its pod
/// template, whether it is marked as a manual run).
async fn nightly(cluster: &Cluster) -> (i64, Vec<(String, Option<String>, bool)>) {
    use k8s_openapi::api::batch::v1::{CronJob, Job};
    use kube::Api;
    let cronjobs: Api<CronJob> = Api::namespaced(cluster.client.clone(), "shop");
    let generation = cronjobs
        .get("nightly")
        .await
        .expect("cronjob")
        .metadata
        .generation
        .unwrap_or_default();
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), "shop");
    let var =
        reloader_core::patch::env_var_name(reloader_core::source::SourceKind::Secret, "creds");
    let mut owned: Vec<(String, Option<String>, bool)> =
        jobs.list(&Default::default())
            .await
            .expect("jobs")
            .items
            .into_iter()
            .filter(|j| {
                j.metadata.owner_references.iter().flatten().any(|o| {
                    o.kind == "CronJob" && o.name == "nightly" && o.controller == Some(true)
                })
            })
            .map(|j| {
                let manual = j
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("cronjob.kubernetes.io/instantiate"))
                    .is_some_and(|v| v == "manual");
                let recorded = j
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.spec.as_ref())
                    .and_then(|p| p.containers.first())
                    .and_then(|c| c.env.as_ref())
                    .and_then(|env| env.iter().find(|e| e.name == var))
                    .and_then(|e| e.value.clone());
                (j.metadata.name.unwrap_or_default(), recorded, manual)
            })
            .collect();
    owned.sort();
    (generation, owned)
}

async fn wait_nightly(cluster: &Cluster, generation: i64, jobs: usize) {
    eventually(
        &format!("the CronJob at generation {generation} with {jobs} Jobs"),
        || async {
            let (g, owned) = nightly(cluster).await;
            assert!(
                g <= generation && owned.len() <= jobs,
                "went past: {g}, {owned:?}"
            );
            g == generation && owned.len() == jobs
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_cronjob_runs_once_now_as_stakaters_does() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        NIGHTLY.to_owned(),
    ]));
    let flags = ["--resync-period", "500ms"];
    let mut first = cluster.start_reloader(&flags);
    cluster.register_webhook();

    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    wait_nightly(&cluster, 2, 1).await;
    let (_, owned) = nightly(&cluster).await;
    let (name, recorded, manual) = &owned[0];
    assert!(name.starts_with("nightly-reload-") && *manual, "{owned:?}");
    assert!(
        recorded.is_some(),
        "the Job runs the reloaded template: {owned:?}"
    );

    // A restart and several resyncs make the same reload again: no second Job.
    first.stop_cleanly();
    let mut again = cluster.start_reloader(&flags);
    tokio::time::sleep(HOLD).await;
    assert_eq!(nightly(&cluster).await, (2, owned.clone()));

    cluster.apply(&secret("shop", "creds", &[("password", "three")]));
    wait_nightly(&cluster, 3, 2).await;
    again.stop_cleanly();

    // Turned off: the template still records the change, and nothing runs before the schedule.
    let _off = cluster.start_reloader(&[flags[0], flags[1], "--run-cronjobs-on-reload=false"]);
    cluster.apply(&secret("shop", "creds", &[("password", "four")]));
    wait_nightly(&cluster, 4, 2).await;
    tokio::time::sleep(HOLD).await;
    assert_eq!(
        nightly(&cluster).await.1.len(),
        2,
        "no Job with the flag off"
    );
}
