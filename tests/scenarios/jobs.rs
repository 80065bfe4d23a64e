//! Jobs, with `--reload-jobs` (stakater's behaviour, opt-in here): a Job whose Secret
//! changed is deleted and created again with the change recorded, once; a Job its CronJob
//! made is never touched (the CronJob is what reloads); without the flag no Job is.
//!
//! On the real control plane: the Job controller gives each Job its selector and labels
//! from its uid, so a re-created Job that kept the old ones would be refused.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use kube::Api;

use crate::cluster_harness::fixtures::{AUTO, deployment, documents, namespace, secret};
use crate::cluster_harness::{Cluster, eventually};

const HOLD: Duration = Duration::from_secs(3);

const MIGRATE: &str = r#"
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop, annotations: {reloader.stakater.com/auto: "true"}}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {app: migrate}}
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox
          envFrom: [{secretRef: {name: creds}}]
"#;

const NIGHTLY: &str = r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 3 * * *"
  suspend: true
  jobTemplate:
    metadata: {annotations: {reloader.stakater.com/auto: "true"}}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: job
              image: busybox
              envFrom: [{secretRef: {name: creds}}]
"#;

/// A Job's uid and the hash it records for `creds`, if it exists.
async fn job(cluster: &Cluster, name: &str) -> Option<(String, Option<String>)> {
    let api: Api<Job> = Api::namespaced(cluster.client.clone(), "shop");
    let job = api.get_opt(name).await.expect("get job")?;
    let record = job
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers[0].env.as_ref())
        .and_then(|env| env.iter().find(|e| e.name == "STAKATER_CREDS_SECRET"))
        .and_then(|e| e.value.clone());
    Some((job.metadata.uid.unwrap_or_default(), record))
}

async fn setup(cluster: &Cluster) -> (String, String) {
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        MIGRATE.to_owned(),
        NIGHTLY.to_owned(),
        deployment("shop", "web")
            .annotation(AUTO, "true")
            .env_from_secret("creds")
            .yaml(),
    ]));
    // A run of the CronJob, owned by it, as its controller would make one.
    cluster.kubectl(&[
        "create",
        "job",
        "-n",
        "shop",
        "nightly-manual",
        "--from=cronjob/nightly",
    ]);
    cluster.wait_rolled("shop", "web", 1).await;
    let migrate = job(cluster, "migrate").await.expect("migrate").0;
    let manual = job(cluster, "nightly-manual")
        .await
        .expect("nightly-manual")
        .0;
    (migrate, manual)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_reload_jobs_a_job_is_recreated_once_and_a_cronjobs_run_never() {
    let mut cluster = Cluster::start_real().await;
    let (old_uid, manual_uid) = setup(&cluster).await;
    let _reloader = cluster.start_reloader(&["--reload-jobs", "--run-cronjobs-on-reload=false"]);
    cluster.register_webhook();

    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    eventually("migrate re-created with the change recorded", || async {
        matches!(job(&cluster, "migrate").await, Some((uid, Some(_))) if uid != old_uid)
    })
    .await;
    let (new_uid, record) = job(&cluster, "migrate").await.expect("migrate");
    cluster.wait_rolled("shop", "web", 2).await;
    tokio::time::sleep(HOLD).await;
    assert_eq!(
        job(&cluster, "migrate").await,
        Some((new_uid.clone(), record.clone())),
        "re-created exactly once"
    );
    assert_eq!(
        job(&cluster, "nightly-manual").await,
        Some((manual_uid, None)),
        "a CronJob's Job is never re-created"
    );
    // The new Job is the Job controller's: its selector is its own uid's.
    let api: Api<Job> = Api::namespaced(cluster.client.clone(), "shop");
    let selector = api
        .get("migrate")
        .await
        .expect("migrate")
        .spec
        .and_then(|s| s.selector);
    let labels = selector.and_then(|s| s.match_labels).unwrap_or_default();
    assert_eq!(
        labels.get("batch.kubernetes.io/controller-uid"),
        Some(&new_uid),
        "{labels:?}"
    );

    // The next change: once more.
    cluster.apply(&secret("shop", "creds", &[("password", "three")]));
    eventually("migrate re-created for the second change", || async {
        matches!(job(&cluster, "migrate").await, Some((uid, r)) if uid != new_uid && r != record)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_reload_jobs_no_job_is_touched() {
    let mut cluster = Cluster::start_real().await;
    let (old_uid, _) = setup(&cluster).await;
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();

    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    // The control: the Deployment following the same Secret rolls.
    cluster.wait_rolled("shop", "web", 2).await;
    tokio::time::sleep(HOLD).await;
    assert_eq!(job(&cluster, "migrate").await, Some((old_uid, None)));
}
