//! The real control plane for the benchmark (etcd and kube-apiserver from
//! `make control-plane`, without the controller manager, so tens of thousands of workloads
//! make no ReplicaSets or pods), and bulk writes into it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{ApiResource, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::{Api, Client};
use serde_json::Value;

pub struct ControlPlane {
    child: Child,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        // SIGTERM: the script stops both components and removes etcd's data.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl ControlPlane {
    pub fn start() -> ControlPlane {
        let bin = std::env::var_os("CONTROL_PLANE_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join(".tools/control-plane/bin"));
        assert!(
            bin.join("kube-apiserver").is_file(),
            "{} has no kube-apiserver: run `make control-plane`",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new("python3")
            .arg(repo_root().join("e2e/control-plane/run"))
            .args(["--no-controller-manager", "--no-audit", "--kubeconfig-out"])
            .arg(&kubeconfig)
            .arg("--bin-dir")
            .arg(&bin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 e2e/control-plane/run");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        assert!(line.starts_with("ready "), "control plane: {line:?}");
        ControlPlane {
            child,
            kubeconfig,
            _dir: dir,
        }
    }

    pub async fn client(&self) -> Client {
        let config = kube::config::Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(config, &Default::default())
            .await
            .expect("config");
        Client::try_from(config).expect("client")
    }
}

pub fn resource(plural: &str) -> ApiResource {
    let (group, version, kind) = match plural {
        "deployments" => ("apps", "v1", "Deployment"),
        "statefulsets" => ("apps", "v1", "StatefulSet"),
        "cronjobs" => ("batch", "v1", "CronJob"),
        "secrets" => ("", "v1", "Secret"),
        "configmaps" => ("", "v1", "ConfigMap"),
        "namespaces" => ("", "v1", "Namespace"),
        other => panic!("no resource {other}"),
    };
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: if group.is_empty() {
            version.into()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// A Namespace to create with [`create_all`].
pub fn namespace(name: &str) -> (&'static str, Value) {
    (
        "namespaces",
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    )
}

/// Creates `objects` (plural, object), 32 at a time; returns how long it took.
pub async fn create_all(client: &Client, objects: Vec<(&'static str, Value)>) -> Duration {
    let started = Instant::now();
    let total = objects.len();
    futures::stream::iter(objects)
        .for_each_concurrent(32, |(plural, object)| {
            let client = client.clone();
            async move {
                let object: DynamicObject = serde_json::from_value(object).expect("object");
                let resource = resource(plural);
                let api: Api<DynamicObject> = match object.metadata.namespace.as_deref() {
                    Some(ns) => Api::namespaced_with(client, ns, &resource),
                    None => Api::all_with(client, &resource),
                };
                for attempt in 0.. {
                    match api.create(&PostParams::default(), &object).await {
                        Ok(_) => break,
                        Err(kube::Error::Api(e)) if e.code == 409 => break,
                        Err(e) if attempt < 5 => {
                            eprintln!("create failed, again: {e}");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        Err(e) => panic!("create: {e}"),
                    }
                }
            }
        })
        .await;
    let took = started.elapsed();
    eprintln!(
        "created {total} objects in {took:.1?} ({:.0}/s)",
        total as f64 / took.as_secs_f64()
    );
    took
}

/// Deletes the objects of kind `plural` labelled `selector` in each of `namespaces`.
pub async fn delete_labelled(client: &Client, plural: &str, namespaces: &[String], selector: &str) {
    for ns in namespaces {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &resource(plural));
        api.delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels(selector),
        )
        .await
        .expect("deletecollection");
    }
}

/// The sum of `apiserver_request_total` (every request kube-apiserver answered).
pub async fn requests_answered(client: &Client) -> f64 {
    let request = axum::http::Request::get("/metrics")
        .body(Vec::new())
        .expect("request");
    let text = client.request_text(request).await.expect("/metrics");
    text.lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub fn kubectl_apply(kubeconfig: &Path, file: &Path) {
    let kubectl = std::env::var_os("KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools/bin/kubectl"));
    let out = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("apply")
        .arg("-f")
        .arg(file)
        .output()
        .expect("kubectl");
    assert!(
        out.status.success(),
        "kubectl apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
