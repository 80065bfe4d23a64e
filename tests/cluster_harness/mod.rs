//! For tests that run the binaries: a Kubernetes API server (the real control plane, or
//! the simulator for the scenarios that inject faults), the real `reloader` binary serving
//! its webhook over TLS, and the real `kubectl`, all on 127.0.0.1. Every process is killed and every
//! file removed on drop.
#![allow(dead_code)]

pub mod alert_receiver;
pub mod control_plane;
pub mod fixtures;
pub mod install;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use apiserver_sim::testing::{SimHooks, SimOptions, SimProcess};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::Api;
use kube::api::ListParams;

pub use control_plane::{ControlPlane, kubectl_binary};
// Not every test binary that includes the harness applies SHOP (alerts_dispatch does not).
#[allow(unused_imports)]
pub use fixtures::SHOP;

/// How long any asynchronous outcome may take before a test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// The simulator binary, built once if the workspace build did not build it yet.
pub fn sim_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(path) = apiserver_sim::testing::locate_binary() {
            return path;
        }
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "apiserver-sim", "--bin", "apiserver-sim"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build apiserver-sim");
        assert!(status.success(), "building apiserver-sim failed");
        apiserver_sim::testing::locate_binary().expect("apiserver-sim built")
    })
    .clone()
}

/// A free port below the kernel's ephemeral range (32768–60999 by default). A port from
/// that range, found free and released, can be taken as the source port of any outgoing
/// connection on the machine before `reloader` binds it; below the range only another
/// test picking the same number can, which [`Cluster::start_reloader_on`] survives.
pub fn free_port() -> u16 {
    loop {
        let port = fastrand::u16(20_000..32_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A running `reloader serve`.
pub struct Reloader {
    child: Child,
    pub webhook_port: u16,
    pub metrics_port: u16,
    pub log: PathBuf,
}

impl Reloader {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit status if the process exits by itself within the grace
    /// period (reloader drains for at most 10 s); `None` when it had to be killed.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        None
    }

    /// [`terminate`](Self::terminate), asserting a clean exit of its own.
    pub fn stop_cleanly(&mut self) {
        let status = self.terminate();
        assert!(
            status.is_some_and(|s| s.success()),
            "SIGTERM did not end reloader cleanly within 15 s ({status:?}):\n{}",
            self.log_text()
        );
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- reloader log ({}) ----\n{}",
                self.log.display(),
                self.log_text()
            );
        }
    }
}

/// The simulator's deny-webhook, killed on drop.
pub struct DenyWebhook {
    child: Child,
}

impl Drop for DenyWebhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The API server a scenario runs against.
pub enum Backend {
    /// kube-apiserver, etcd and kube-controller-manager, built from the Kubernetes modules.
    Real(ControlPlane),
    /// `e2e/apiserver-sim`, for what the real one cannot do: injected faults.
    Sim { sim: SimProcess, hooks: SimHooks },
}

/// Which backend [`Cluster::start`] uses: the real control plane, unless
/// `RELOADER_E2E_BACKEND=sim` asks for the simulator (a fast loop while developing).
fn default_backend_is_sim() -> bool {
    match std::env::var("RELOADER_E2E_BACKEND").as_deref() {
        Ok("sim") => true,
        Ok("real") | Err(_) => false,
        Ok(other) => panic!("RELOADER_E2E_BACKEND={other}: expected real or sim"),
    }
}

/// An API server, certificates, and zero or more reloaders.
pub struct Cluster {
    pub backend: Backend,
    pub client: kube::Client,
    pub dir: tempfile::TempDir,
    ca_bundle: String,
    pub webhook_port: u16,
    reloaders: usize,
    /// `(webhook port, metrics port)` of every reloader started, latest last.
    started: Vec<(u16, u16)>,
}

/// Runs `reloader` with `args`, returning its output; panics on failure.
pub fn reloader_cmd(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_reloader"))
        .args(args)
        .output()
        .expect("run reloader");
    assert!(
        out.status.success(),
        "reloader {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Cluster {
    /// Starts the real control plane (or the simulator, see `RELOADER_E2E_BACKEND`),
    /// writes certificates and installs the ReloaderConfig CRD. No reloader runs yet and
    /// no webhook is registered.
    pub async fn start() -> Cluster {
        if default_backend_is_sim() {
            Self::start_sim().await
        } else {
            Self::start_real().await
        }
    }

    /// The real control plane, whatever `RELOADER_E2E_BACKEND` says.
    pub async fn start_real() -> Cluster {
        let plane = ControlPlane::start();
        let client = plane.client().await;
        Self::with_backend(Backend::Real(plane), client).await
    }

    /// The simulator: for scenarios that inject faults (409s, 5xx, dropped watches,
    /// compaction, held requests), which the real control plane cannot.
    pub async fn start_sim() -> Cluster {
        let sim = SimProcess::start_with(SimOptions {
            binary: Some(sim_binary()),
            ..SimOptions::default()
        })
        .expect("simulator starts");
        let client = sim.client().await.expect("client");
        let hooks = sim.hooks().await.expect("hooks");
        Self::with_backend(Backend::Sim { sim, hooks }, client).await
    }

    async fn with_backend(backend: Backend, client: kube::Client) -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let certs = dir.path().join("certs");
        let out = reloader_cmd(&[
            "certs",
            "--out-dir",
            certs.to_str().unwrap(),
            "--san",
            "127.0.0.1",
        ]);
        let ca_bundle = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let cluster = Cluster {
            backend,
            client,
            dir,
            ca_bundle,
            webhook_port: free_port(),
            reloaders: 0,
            started: Vec::new(),
        };
        let crd = reloader_cmd(&["crd"]);
        cluster.apply(&String::from_utf8_lossy(&crd.stdout));
        cluster
    }

    pub fn kubeconfig(&self) -> &Path {
        match &self.backend {
            Backend::Real(plane) => plane.kubeconfig_path(),
            Backend::Sim { sim, .. } => sim.kubeconfig_path(),
        }
    }

    pub fn is_real(&self) -> bool {
        matches!(self.backend, Backend::Real(_))
    }

    /// The simulator's fault and request-log hooks; only a simulator scenario has them.
    pub fn hooks(&self) -> &SimHooks {
        match &self.backend {
            Backend::Sim { hooks, .. } => hooks,
            Backend::Real(_) => {
                panic!("this scenario injects faults: start it with Cluster::start_sim()")
            }
        }
    }

    /// The CA bundle (base64 PEM) of reloader's serving certificate.
    pub fn ca_bundle(&self) -> &str {
        &self.ca_bundle
    }

    /// Runs kubectl against the simulator; returns the output whatever the exit status.
    pub fn kubectl_raw(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(kubectl_binary());
        cmd.arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--cache-dir")
            .arg(self.dir.path().join("kubectl-cache"))
            .args(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kubectl on PATH");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("kubectl runs")
    }

    /// Runs kubectl and asserts it succeeded; returns stdout.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let out = self.kubectl_raw(args, None);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn kubectl_stdin(&self, args: &[&str], stdin: &str) -> String {
        let out = self.kubectl_raw(args, Some(stdin));
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}\n{stdin}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `kubectl apply -f -` of a YAML text, validated as kubectl always does. When it
    /// holds CRDs, waits until every CRD is established, as a user must before creating
    /// objects of the new kinds.
    pub fn apply(&self, yaml: &str) -> String {
        let out = self.kubectl_stdin(&["apply", "-f", "-"], yaml);
        if yaml.contains("kind: CustomResourceDefinition") {
            self.kubectl(&[
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                "crd",
                "--all",
            ]);
        }
        out
    }

    /// A reloader this harness did not start (`make run`), serving `webhook_port` with its
    /// metrics on `metrics_port`: [`Cluster::wait_webhooks`] probes it like its own.
    pub fn adopt(&mut self, webhook_port: u16, metrics_port: u16) {
        self.started.push((webhook_port, metrics_port));
    }

    /// Starts `reloader serve` on the shared webhook port (one at a time) with extra flags,
    /// and waits until its caches are filled.
    pub fn start_reloader(&mut self, extra: &[&str]) -> Reloader {
        self.start_reloader_on(self.webhook_port, extra)
    }

    pub fn start_reloader_on(&mut self, webhook_port: u16, extra: &[&str]) -> Reloader {
        let mut flags: Vec<String> = Vec::new();
        // Short defaults keep scenarios fast; a test's own value wins.
        for (flag, value) in [
            ("--log-level", "info,reloader=debug"),
            ("--coalesce-window", "150ms"),
            ("--source-wait", "2s"),
        ] {
            if !extra.contains(&flag) {
                flags.extend([flag.to_string(), value.to_string()]);
            }
        }
        flags.extend(extra.iter().map(|s| s.to_string()));
        let launch = Launch {
            kubeconfig: self.kubeconfig().to_path_buf(),
            webhook_port,
            flags,
            pod_name: "reloader".into(),
            pod_namespace: None,
            without_subcommand: false,
            env: Vec::new(),
        };
        self.launch(&launch)
    }

    /// Starts `reloader serve` as `launch` says, on a metrics port of its own: when another
    /// test took that port in the meantime, tries another one. Waits until its caches are
    /// filled.
    pub fn launch(&mut self, launch: &Launch) -> Reloader {
        let webhook_port = launch.webhook_port;
        for _ in 0..5 {
            match self.try_launch(launch, free_port()) {
                Ok(reloader) => {
                    self.started.push((webhook_port, reloader.metrics_port));
                    return reloader;
                }
                Err(log) if log.contains("Address already in use") => {
                    assert!(
                        !log.contains(&format!("127.0.0.1:{webhook_port}:")),
                        "the webhook port {webhook_port} is taken:\n{log}"
                    );
                }
                Err(log) => panic!("reloader exited:\n{log}"),
            }
        }
        panic!("no free metrics port after five attempts");
    }

    /// Starts `reloader serve` and waits until its caches are filled; `Err` with the log
    /// when it exited first.
    fn try_launch(&mut self, launch: &Launch, metrics_port: u16) -> Result<Reloader, String> {
        self.reloaders += 1;
        let certs = self.dir.path().join("certs");
        let log = self
            .dir
            .path()
            .join(format!("reloader-{}.log", self.reloaders));
        let file = std::fs::File::create(&log).expect("log file");
        let subcommand = (!launch.without_subcommand).then(|| "serve".to_owned());
        let mut args: Vec<String> = subcommand.into_iter().collect();
        args.extend([
            format!("--kubeconfig={}", launch.kubeconfig.display()),
            format!("--tls-cert-file={}", certs.join("tls.crt").display()),
            format!("--tls-key-file={}", certs.join("tls.key").display()),
            format!("--webhook-addr=127.0.0.1:{}", launch.webhook_port),
            format!("--metrics-addr=127.0.0.1:{metrics_port}"),
        ]);
        args.extend(launch.flags.iter().cloned());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_reloader"));
        cmd.args(&args)
            .env(
                "POD_NAME",
                format!("{}-{}", launch.pod_name, self.reloaders),
            )
            .env_remove("KUBECONFIG")
            .stdout(file.try_clone().expect("log"))
            .stderr(file);
        if let Some(namespace) = &launch.pod_namespace {
            cmd.env("POD_NAMESPACE", namespace);
        }
        cmd.envs(launch.env.iter().map(|(k, v)| (k, v)));
        let child = cmd.spawn().expect("reloader starts");
        let mut reloader = Reloader {
            child,
            webhook_port: launch.webhook_port,
            metrics_port,
            log,
        };
        let deadline = Instant::now() + WAIT;
        while !reloader.log_text().contains("workload caches filled") {
            if reloader.exited() {
                return Err(reloader.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "reloader never filled its caches:\n{}",
                reloader.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(reloader)
    }

    /// Applies [`fixtures::FROZEN_POLICY`] and waits until the API server denies a change
    /// to the pod template of the Deployment `ns/name` (labelled `frozen: "yes"`), checked
    /// by a server-side dry run, which goes through admission and stores nothing.
    pub async fn freeze(&self, ns: &str, name: &str) {
        self.apply(fixtures::FROZEN_POLICY);
        let probe = r#"{"spec":{"template":{"metadata":{"annotations":{"probe":"1"}}}}}"#;
        eventually(
            &format!("the policy to deny template changes of {name}"),
            || async {
                let args = [
                    "patch",
                    "deployment",
                    name,
                    "-n",
                    ns,
                    "--dry-run=server",
                    "-p",
                    probe,
                ];
                !self.kubectl_raw(&args, None).status.success()
            },
        )
        .await;
    }

    /// Registers the validating webhook at the given port (renders it with `reloader
    /// webhook-config --url`, applies it with kubectl).
    pub fn register_webhook(&self) {
        self.register_webhook_on(self.webhook_port)
    }

    /// Renders the webhook configurations calling a reloader on `port` into `dir_name`
    /// (`reloader webhook-config --url`); returns the directory.
    fn render_webhook_config(&self, dir_name: &str, port: u16) -> PathBuf {
        let out = self.dir.path().join(dir_name);
        std::fs::create_dir_all(&out).expect("dir");
        reloader_cmd(&[
            "webhook-config",
            "--url",
            &format!("https://127.0.0.1:{port}"),
            "--ca-bundle",
            &self.ca_bundle,
            "--out-dir",
            out.to_str().unwrap(),
        ]);
        out
    }

    pub fn register_webhook_on(&self, port: u16) {
        let out = self.render_webhook_config("webhook-config", port);
        for file in [
            "validating-webhook-configuration.yaml",
            "mutating-webhook-configuration.yaml",
        ] {
            let path = out.join(file);
            self.kubectl(&["apply", "-f", path.to_str().unwrap()]);
        }
        self.wait_webhooks(port, true, &["sources", "workloads"]);
    }

    /// kube-apiserver picks up webhook configurations from a watch, a moment after they
    /// are written. Until then a write is not sent to reloader (or still is, after a
    /// delete). On the real control plane, wait until server-side dry runs of a ConfigMap
    /// and a Deployment reach (or no longer reach) the reloader serving `webhook_port`.
    pub(crate) fn wait_webhooks(&self, webhook_port: u16, live: bool, webhooks: &[&str]) {
        if !self.is_real() {
            return; // the simulator reads its configurations on every write
        }
        let Some(&(_, metrics_port)) = self.started.iter().rev().find(|(w, _)| *w == webhook_port)
        else {
            return; // no reloader there yet: nothing could answer a probe
        };
        let probes: [(&str, &[&str]); 2] = [
            (
                "sources",
                &[
                    "create",
                    "configmap",
                    "reloader-webhook-probe",
                    "--from-literal=probe=1",
                ],
            ),
            (
                "workloads",
                &[
                    "create",
                    "deployment",
                    "reloader-webhook-probe",
                    "--image=probe",
                ],
            ),
        ];
        for (webhook, args) in probes.into_iter().filter(|(w, _)| webhooks.contains(w)) {
            let deadline = Instant::now() + WAIT;
            // Three quiet probes in a row show a removed configuration is gone.
            let mut quiet = 0;
            loop {
                let before = reviews_answered(metrics_port, webhook);
                let mut cmd: Vec<&str> = args.to_vec();
                cmd.extend(["-n", "default", "--dry-run=server", "-o", "name"]);
                self.kubectl(&cmd);
                let called = reviews_answered(metrics_port, webhook) > before;
                if live && called {
                    break;
                }
                if !live {
                    quiet = if called { 0 } else { quiet + 1 };
                    if quiet == 3 {
                        break;
                    }
                }
                assert!(
                    Instant::now() < deadline,
                    "the {webhook} webhook on port {webhook_port} is still {}",
                    if live { "not called" } else { "called" }
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Registers a second configuration, named `name`, calling a reloader on `port`.
    pub fn register_webhook_named(&self, name: &str, port: u16) {
        let out = self.render_webhook_config(&format!("webhook-config-{name}"), port);
        let text = std::fs::read_to_string(out.join("validating-webhook-configuration.yaml"))
            .expect("rendered");
        let renamed = text.replacen("\n  name: reloader\n", &format!("\n  name: {name}\n"), 1);
        assert_ne!(renamed, text, "configuration renamed");
        self.apply(&renamed);
        self.wait_webhooks(port, true, &["sources"]);
    }

    /// Starts the simulator's deny-webhook and registers it for Secret UPDATEs.
    pub fn deny_secret_updates(&self) -> DenyWebhook {
        let ca = self.dir.path().join("deny-ca.pem");
        let mut child = Command::new(sim_binary())
            .args(["deny-webhook", "--listen", "127.0.0.1:0", "--ca-out"])
            .arg(&ca)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("deny webhook starts");
        let mut line = String::new();
        {
            use std::io::BufRead;
            let stdout = child.stdout.take().expect("stdout");
            std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .expect("announce");
        }
        let address = line
            .trim()
            .strip_prefix("listening on https://")
            .expect("address")
            .to_owned();
        let pem = std::fs::read(&ca).expect("ca written");
        use base64::Engine;
        let bundle = base64::engine::general_purpose::STANDARD.encode(pem);
        self.apply(&format!(
            r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: deny-secret-updates}}
webhooks:
- name: deny.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  clientConfig: {{url: "https://{address}/", caBundle: "{bundle}"}}
  rules:
  - {{apiGroups: [""], apiVersions: [v1], operations: [UPDATE], resources: [secrets]}}
"#
        ));
        if self.is_real() {
            // Live once a dry-run update of a Secret is denied.
            self.kubectl(&["create", "secret", "generic", "deny-probe", "-n", "default"]);
            let deadline = Instant::now() + WAIT;
            loop {
                let out = self.kubectl_raw(
                    &[
                        "annotate",
                        "secret",
                        "deny-probe",
                        "-n",
                        "default",
                        "--dry-run=server",
                        "--overwrite",
                        "probe=1",
                    ],
                    None,
                );
                if !out.status.success() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the deny webhook is never called"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        DenyWebhook { child }
    }

    pub fn unregister_webhook(&self) {
        self.kubectl(&["delete", "validatingwebhookconfiguration", "reloader"]);
        self.kubectl(&["delete", "mutatingwebhookconfiguration", "reloader"]);
        self.wait_webhooks(self.webhook_port, false, &["sources", "workloads"]);
    }

    /// A deployment as stored.
    pub async fn deployment(&self, ns: &str, name: &str) -> Deployment {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), ns);
        api.get(name).await.expect("deployment exists")
    }

    pub async fn generation(&self, ns: &str, name: &str) -> i64 {
        self.deployment(ns, name)
            .await
            .metadata
            .generation
            .unwrap_or(0)
    }

    /// Waits until the Deployment has rolled out `want` times, counting its first: on the
    /// real control plane by the deployment controller's ReplicaSets and revision (so a
    /// write that moves the generation without a new ReplicaSet is no rollout), on the
    /// simulator, which has no controllers, by the generation. Fails if it passes `want`.
    pub async fn wait_rolled(&self, ns: &str, name: &str, want: i64) {
        if self.is_real() {
            self.wait_rollouts(ns, name, want as usize).await;
        } else {
            self.wait_generation(ns, name, want).await;
        }
    }

    /// Asserts the Deployment stays at `want` rollouts (as [`wait_rolled`](Self::wait_rolled)
    /// counts them) for `period`.
    pub async fn stays_rolled(&self, ns: &str, name: &str, want: i64, period: Duration) {
        if !self.is_real() {
            return self.stays_at(ns, name, want, period).await;
        }
        let deadline = Instant::now() + period;
        while Instant::now() < deadline {
            let state = self.rollout_state(ns, name).await;
            assert!(
                state.replica_sets <= want as usize && state.revision <= want as u64,
                "{ns}/{name}: {state:?}, unexpected rollout"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.assert_rollouts(ns, name, want as usize).await;
    }

    /// Waits until the deployment's generation is `want`; fails if it passes it.
    pub async fn wait_generation(&self, ns: &str, name: &str, want: i64) {
        let deadline = Instant::now() + WAIT;
        loop {
            let g = self.generation(ns, name).await;
            assert!(g <= want, "{ns}/{name}: generation {g} went past {want}");
            if g == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{ns}/{name}: generation stayed {g}, wanted {want}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asserts the generation stays `want` for `period` (the longest a spurious reload
    /// could take: coalescing window plus source wait plus slack).
    pub async fn stays_at(&self, ns: &str, name: &str, want: i64, period: Duration) {
        let deadline = Instant::now() + period;
        while Instant::now() < deadline {
            let g = self.generation(ns, name).await;
            assert_eq!(g, want, "{ns}/{name}: unexpected rollout");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// PATCH requests the API server answered 2xx for this workload (the simulator's
    /// request log, or kube-apiserver's audit log).
    pub async fn patches(&self, resource: &str, name: &str) -> usize {
        match &self.backend {
            Backend::Sim { hooks, .. } => hooks
                .requests()
                .await
                .expect("request log")
                .iter()
                .filter(|r| {
                    r.verb == "patch"
                        && r.resource == resource
                        && r.path.ends_with(&format!("/{name}"))
                        && r.status < 300
                })
                .count(),
            Backend::Real(plane) => {
                // The audit record is written as the response completes: give a PATCH
                // that was just answered a moment to reach the log.
                tokio::time::sleep(Duration::from_millis(300)).await;
                plane
                    .audit()
                    .iter()
                    .filter(|r| {
                        r.verb == "patch"
                            && r.resource == resource
                            && r.subresource.is_empty()
                            && r.name == name
                            && r.code < 300
                    })
                    .count()
            }
        }
    }

    /// What Kubernetes itself says of a Deployment's rollouts: its ReplicaSets (one per
    /// distinct pod template) and its `deployment.kubernetes.io/revision`. Only the real
    /// control plane runs the deployment controller that makes them.
    pub async fn rollout_state(&self, ns: &str, name: &str) -> RolloutState {
        let d = self.deployment(ns, name).await;
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), ns);
        let sets = api.list(&ListParams::default()).await.expect("replicasets");
        let replica_sets = sets
            .items
            .iter()
            .filter(|rs| {
                rs.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| o.uid == uid)
            })
            .count();
        let revision = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        RolloutState {
            replica_sets,
            revision,
        }
    }

    /// Asserts the deployment controller has made exactly `want` rollouts by now (after
    /// a quiet period); a no-op on the simulator.
    pub async fn assert_rollouts(&self, ns: &str, name: &str, want: usize) {
        if !self.is_real() {
            return;
        }
        let state = self.rollout_state(ns, name).await;
        assert_eq!(
            state,
            RolloutState {
                replica_sets: want,
                revision: want as u64
            },
            "{ns}/{name}: rollouts"
        );
    }

    /// Waits until the deployment controller has made `want` (ReplicaSets and revision);
    /// fails if either passes it. A no-op on the simulator, which has no controllers.
    pub async fn wait_rollouts(&self, ns: &str, name: &str, want: usize) {
        if !self.is_real() {
            return;
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let state = self.rollout_state(ns, name).await;
            assert!(
                state.replica_sets <= want && state.revision <= want as u64,
                "{ns}/{name}: {state:?}, more than {want} rollouts"
            );
            if state.replica_sets == want && state.revision == want as u64 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{ns}/{name}: {state:?}, wanted {want} rollouts"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One `reloader serve` to start: whose kubeconfig, which webhook port, its flags beyond
/// the shared ones (kubeconfig, certificates, addresses), and its pod identity.
pub struct Launch {
    pub kubeconfig: PathBuf,
    pub webhook_port: u16,
    pub flags: Vec<String>,
    /// `POD_NAME` is this, a dash and the start's number.
    pub pod_name: String,
    pub pod_namespace: Option<String>,
    /// Flags only, no `serve` in front: how stakater's image is started.
    pub without_subcommand: bool,
    /// More environment variables for the process.
    pub env: Vec<(String, String)>,
}

/// A Deployment's rollouts as the deployment controller records them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RolloutState {
    pub replica_sets: usize,
    pub revision: u64,
}

/// The sum of `reloader_admission_reviews_total` for one webhook, 0 when unreadable.
fn reviews_answered(metrics_port: u16, webhook: &str) -> f64 {
    let prefix = format!("reloader_admission_reviews_total{{webhook=\"{webhook}\"");
    http_get(metrics_port, "/metrics")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Polls `check` until true or WAIT passes.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// GET a plain-HTTP path on 127.0.0.1:port; returns (status line, body).
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text)
}

/// The status code of a plain-HTTP GET on 127.0.0.1:port, `None` when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let text = http_get(port, path)?;
    text.split_whitespace().nth(1)?.parse().ok()
}

/// The env var value recording a source on container 0, if any.
pub fn env_value(d: &Deployment, var: &str) -> Option<String> {
    d.spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .containers
        .iter()
        .find_map(|c| {
            c.env
                .as_ref()?
                .iter()
                .find(|e| e.name == var)
                .and_then(|e| e.value.clone())
        })
}

pub fn template_annotation(d: &Deployment, key: &str) -> Option<String> {
    d.spec
        .as_ref()?
        .template
        .metadata
        .as_ref()?
        .annotations
        .as_ref()?
        .get(key)
        .cloned()
}
