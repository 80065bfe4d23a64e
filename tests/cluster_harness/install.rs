//! Installing reloader the way a user does (`helm install` of helm/reloader, or `kubectl
//! apply` of what `reloader webhook-config` renders) and running the `reloader serve`
//! binary on this machine as the installed ServiceAccount, with the installed Deployment's
//! flags. kube-apiserver's RBAC authorizer then enforces exactly the installed roles: what
//! reloader may do here is what it may do in a cluster.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::control_plane::repo_root;
use super::{Cluster, Launch, Reloader};

/// The pinned Helm `make kubectl` installs, else `HELM`, else the one on PATH.
pub fn helm_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HELM") {
        return PathBuf::from(path);
    }
    let pinned = repo_root().join(".tools/bin/helm");
    if pinned.is_file() {
        return pinned;
    }
    PathBuf::from("helm")
}

/// The user name the API server gives a ServiceAccount's tokens.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

/// Flags of the installed Deployment that name an address or a file inside the pod; a
/// local run passes its own values for them.
const POD_LOCAL_FLAGS: [&str; 4] = [
    "--webhook-addr",
    "--metrics-addr",
    "--tls-cert-file",
    "--tls-key-file",
];

impl Cluster {
    /// Runs Helm against this cluster (its own cache and config directories); panics with
    /// Helm's output when it fails.
    pub fn helm(&self, args: &[&str]) -> String {
        let home = self.dir.path().join("helm");
        let out = Command::new(helm_binary())
            .args(args)
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .output()
            .expect("helm runs");
        succeeded(&out, &format!("helm {args:?}"))
    }

    /// A kubeconfig that authenticates as the ServiceAccount `namespace/name` (a token
    /// from `kubectl create token`) against this API server, made with the kubectl
    /// commands docs/webhook.md gives.
    pub fn service_account_kubeconfig(&self, namespace: &str, name: &str) -> PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("{namespace}-{name}.kubeconfig"));
        let server = self.kubectl(&[
            "config",
            "view",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ]);
        let ca = self.kubectl(&[
            "config",
            "view",
            "--raw",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].cluster.certificate-authority-data}",
        ]);
        use base64::Engine;
        let ca = base64::engine::general_purpose::STANDARD
            .decode(ca.trim())
            .expect("certificate-authority-data is base64");
        let ca_file = self.dir.path().join("cluster-ca.crt");
        std::fs::write(&ca_file, ca).expect("write CA");
        let token = self.kubectl(&["-n", namespace, "create", "token", name, "--duration", "1h"]);
        let user = service_account_user(namespace, name);
        for args in [
            vec![
                "config",
                "set-cluster",
                "cluster",
                "--server",
                server.trim(),
                "--certificate-authority",
                ca_file.to_str().unwrap(),
                "--embed-certs",
            ],
            vec!["config", "set-credentials", name, "--token", token.trim()],
            vec![
                "config",
                "set-context",
                name,
                "--cluster",
                "cluster",
                "--user",
                name,
            ],
            vec!["config", "use-context", name],
        ] {
            let out = Command::new(super::kubectl_binary())
                .arg("--kubeconfig")
                .arg(&path)
                .args(&args)
                .output()
                .expect("kubectl config");
            assert!(
                out.status.success(),
                "kubectl {:?} failed: {}",
                &args[..2],
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let whoami = Command::new(super::kubectl_binary())
            .arg("--kubeconfig")
            .arg(&path)
            .args([
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}",
            ])
            .output()
            .expect("kubectl auth whoami");
        assert_eq!(
            String::from_utf8_lossy(&whoami.stdout),
            user,
            "the kubeconfig authenticates as the ServiceAccount: {}",
            String::from_utf8_lossy(&whoami.stderr)
        );
        path
    }

    /// The namespace `namespace` and in it `reloader-tls`, the serving Secret an
    /// installation mounts, holding this harness's certificate (the one its webhooks trust).
    pub fn create_serving_secret(&self, namespace: &str) {
        let certs = self.dir.path().join("certs");
        self.kubectl(&["create", "namespace", namespace]);
        self.kubectl(&[
            "-n",
            namespace,
            "create",
            "secret",
            "tls",
            "reloader-tls",
            "--cert",
            certs.join("tls.crt").to_str().unwrap(),
            "--key",
            certs.join("tls.key").to_str().unwrap(),
        ]);
    }

    /// The arguments of the first container of an installed Deployment.
    pub fn deployment_args(&self, namespace: &str, name: &str) -> Vec<String> {
        let json = self.container_field(namespace, name, "args");
        serde_json::from_str(&json).expect("args are a JSON list of strings")
    }

    /// `kubectl auth can-i VERB RESOURCE -n NAMESPACE --as USER`: "yes" or "no". A
    /// `RESOURCE` of the form `resource/subresource` is asked with `--subresource`.
    pub fn can_i(&self, user: &str, verb: &str, resource: &str, namespace: &str) -> String {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        let mut args = vec![
            "auth", "can-i", verb, resource, "-n", namespace, "--as", user,
        ];
        if !subresource.is_empty() {
            args.extend(["--subresource", subresource]);
        }
        let out = self.kubectl_raw(&args, None);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// One field of the Deployment's first container, as kubectl's JSONPath prints it.
    fn container_field(&self, namespace: &str, name: &str, field: &str) -> String {
        let path = format!("jsonpath={{.spec.template.spec.containers[0].{field}}}");
        self.kubectl(&["get", "deployment", name, "-n", namespace, "-o", &path])
    }

    /// `kubectl auth can-i VERB RESOURCE/NAME`: one object by name.
    pub fn can_i_on(&self, user: &str, verb: &str, resource: &str, name: &str, ns: &str) -> String {
        let object = format!("{resource}/{name}");
        let args = ["auth", "can-i", verb, &object, "-n", ns, "--as", user];
        let out = self.kubectl_raw(&args, None);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The environment the installed Deployment gives its container, but `POD_NAME` and
    /// `POD_NAMESPACE` (the launch sets those): plain values, and the pod's namespace
    /// where a variable takes it from the downward API.
    fn deployment_env(&self, namespace: &str, name: &str) -> Vec<(String, String)> {
        let json = self.container_field(namespace, name, "env");
        let env: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap_or_default();
        env.iter()
            .filter_map(|e| {
                let var = e["name"].as_str()?;
                if ["POD_NAME", "POD_NAMESPACE"].contains(&var) {
                    return None;
                }
                let value = match (
                    e["value"].as_str(),
                    e.pointer("/valueFrom/fieldRef/fieldPath"),
                ) {
                    (Some(v), _) => v.to_owned(),
                    (None, Some(p)) if p == "metadata.namespace" => namespace.to_owned(),
                    _ => return None,
                };
                Some((var.to_owned(), value))
            })
            .collect()
    }

    /// Runs `reloader serve` on this machine the way the installed Deployment
    /// `namespace/deployment` runs it in a pod: its arguments (but the addresses and
    /// certificate files, which are this machine's), `POD_NAME` and `POD_NAMESPACE` as the
    /// Deployment sets them, and `kubeconfig` (see [`Cluster::service_account_kubeconfig`])
    /// instead of the pod's token. Waits until its caches are filled and its webhooks
    /// (registered by the installation, at this cluster's webhook port) are called.
    pub fn start_installed_reloader(
        &mut self,
        namespace: &str,
        deployment: &str,
        kubeconfig: &Path,
    ) -> Reloader {
        let installed = self.deployment_args(namespace, deployment);
        assert_eq!(
            installed.first().map(String::as_str),
            Some("serve"),
            "{installed:?}"
        );
        let kept: Vec<String> = installed[1..]
            .iter()
            .filter(|arg| !POD_LOCAL_FLAGS.contains(&arg.split('=').next().unwrap_or_default()))
            .cloned()
            .collect();
        let launch = Launch {
            kubeconfig: kubeconfig.to_path_buf(),
            webhook_port: self.webhook_port,
            flags: kept,
            pod_name: "reloader-local".into(),
            pod_namespace: Some(namespace.to_owned()),
            without_subcommand: false,
            env: self.deployment_env(namespace, deployment),
        };
        let reloader = self.launch(&launch);
        self.wait_webhooks(launch.webhook_port, true, &["sources", "workloads"]);
        reloader
    }
}

/// The stdout of a command that must have succeeded; else panics with `what` and both
/// outputs.
pub fn succeeded(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs kubectl with an explicit kubeconfig (another user's); the output whatever the
/// exit status.
pub fn kubectl_as(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(super::kubectl_binary())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs")
}
