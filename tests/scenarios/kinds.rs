//! Every cached kind rolls: StatefulSets, DaemonSets and CronJobs (whose template lives
//! under the job template), not only Deployments.

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use kube::Api;

use crate::cluster_harness::fixtures::{configmap, documents, namespace};
use crate::cluster_harness::{Cluster, eventually};

fn setup() -> String {
    documents(&[
        namespace("k"),
        configmap("k", "shared", &[("v", "1")]),
        WORKLOADS.to_string(),
    ])
}

/// One of each kind other than Deployment (the fixtures build Deployments only), each
/// following `shared`.
const WORKLOADS: &str = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: k, annotations: {reloader.stakater.com/auto: "true"}}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres, envFrom: [{configMapRef: {name: shared}}]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: k, annotations: {reloader.stakater.com/auto: "true"}}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox, envFrom: [{configMapRef: {name: shared}}]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: k, annotations: {configmap.reloader.stakater.com/reload: shared}}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: report, image: busybox}]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulsets_daemonsets_and_cronjobs_roll_too() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&setup());
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.kubectl(&[
        "patch",
        "configmap",
        "shared",
        "-n",
        "k",
        "-p",
        r#"{"data":{"v":"2"}}"#,
    ]);
    let c = cluster.client.clone();
    let sts: Api<StatefulSet> = Api::namespaced(c.clone(), "k");
    let ds: Api<DaemonSet> = Api::namespaced(c.clone(), "k");
    let cj: Api<CronJob> = Api::namespaced(c, "k");
    let var = "STAKATER_SHARED_CONFIGMAP";
    eventually("the StatefulSet to record the hash", || async {
        let s = sts.get("db").await.expect("sts");
        s.spec
            .and_then(|s| s.template.spec)
            .is_some_and(|p| p.containers[0].env.iter().flatten().any(|e| e.name == var))
    })
    .await;
    eventually("the DaemonSet to record the hash", || async {
        let d = ds.get("agent").await.expect("ds");
        d.spec
            .and_then(|s| s.template.spec)
            .is_some_and(|p| p.containers[0].env.iter().flatten().any(|e| e.name == var))
    })
    .await;
    eventually("the CronJob's job template to record the hash", || async {
        let j = cj.get("report").await.expect("cj");
        j.spec
            .and_then(|s| s.job_template.spec)
            .and_then(|s| s.template.spec)
            .is_some_and(|p| p.containers[0].env.iter().flatten().any(|e| e.name == var))
    })
    .await;
    assert_eq!(
        sts.get("db").await.expect("sts").metadata.generation,
        Some(2)
    );
    assert_eq!(
        ds.get("agent").await.expect("ds").metadata.generation,
        Some(2)
    );
}
