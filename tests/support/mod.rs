//! Scenario harness: the apiserver simulator, the real `reloader` binary serving its
//! webhook over TLS, and the real `kubectl`, all on 127.0.0.1. Every process is killed and
//! every file removed on drop.
#![allow(dead_code)]

pub mod alert_receiver;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use apiserver_sim::testing::{SimHooks, SimOptions, SimProcess};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;

/// How long any asynchronous outcome may take before a test fails.
pub const WAIT: Duration = Duration::from_secs(15);

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

    /// SIGTERM, then wait for the process to exit.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// The simulator, certificates, and zero or more reloaders.
pub struct Cluster {
    pub sim: SimProcess,
    pub client: kube::Client,
    pub hooks: SimHooks,
    pub dir: tempfile::TempDir,
    ca_bundle: String,
    pub webhook_port: u16,
    reloaders: usize,
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
    /// Starts the simulator, writes certificates and installs the ReloaderConfig CRD.
    /// No reloader runs yet and no webhook is registered.
    pub async fn start() -> Cluster {
        let sim = SimProcess::start_with(SimOptions {
            binary: Some(sim_binary()),
            ..SimOptions::default()
        })
        .expect("simulator starts");
        let client = sim.client().await.expect("client");
        let hooks = sim.hooks().await.expect("hooks");
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
            sim,
            client,
            hooks,
            dir,
            ca_bundle,
            webhook_port: free_port(),
            reloaders: 0,
        };
        let crd = reloader_cmd(&["crd"]);
        cluster.apply(&String::from_utf8_lossy(&crd.stdout));
        cluster
    }

    pub fn kubeconfig(&self) -> &Path {
        self.sim.kubeconfig_path()
    }

    /// Runs kubectl against the simulator; returns the output whatever the exit status.
    pub fn kubectl_raw(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig").arg(self.kubeconfig()).args(args);
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

    /// `kubectl apply -f -` of a YAML text.
    pub fn apply(&self, yaml: &str) -> String {
        self.kubectl_stdin(&["apply", "--validate=false", "-f", "-"], yaml)
    }

    /// Starts `reloader serve` on the shared webhook port (one at a time) with extra flags,
    /// and waits until its caches are filled.
    pub fn start_reloader(&mut self, extra: &[&str]) -> Reloader {
        self.start_reloader_on(self.webhook_port, extra)
    }

    pub fn start_reloader_on(&mut self, webhook_port: u16, extra: &[&str]) -> Reloader {
        // The metrics port is this start's own: when another test took it in the meantime,
        // try another one.
        for _ in 0..5 {
            match self.try_start_reloader(webhook_port, free_port(), extra) {
                Ok(reloader) => return reloader,
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
    fn try_start_reloader(
        &mut self,
        webhook_port: u16,
        metrics_port: u16,
        extra: &[&str],
    ) -> Result<Reloader, String> {
        self.reloaders += 1;
        let certs = self.dir.path().join("certs");
        let log = self
            .dir
            .path()
            .join(format!("reloader-{}.log", self.reloaders));
        let file = std::fs::File::create(&log).expect("log file");
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--kubeconfig".into(),
            self.kubeconfig().display().to_string(),
            "--tls-cert-file".into(),
            certs.join("tls.crt").display().to_string(),
            "--tls-key-file".into(),
            certs.join("tls.key").display().to_string(),
            "--webhook-addr".into(),
            format!("127.0.0.1:{webhook_port}"),
            "--metrics-addr".into(),
            format!("127.0.0.1:{metrics_port}"),
            "--log-level".into(),
            "info,reloader=debug".into(),
        ];
        // Short defaults keep scenarios fast; a test's own value wins.
        for (flag, value) in [("--coalesce-window", "150ms"), ("--source-wait", "2s")] {
            if !extra.contains(&flag) {
                args.extend([flag.to_string(), value.to_string()]);
            }
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = Command::new(env!("CARGO_BIN_EXE_reloader"))
            .args(&args)
            .env("POD_NAME", format!("reloader-{}", self.reloaders))
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("reloader starts");
        let mut reloader = Reloader {
            child,
            webhook_port,
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

    /// Registers the validating webhook at the given port (renders it with `reloader
    /// webhook-config --url`, applies it with kubectl).
    pub fn register_webhook(&self) {
        self.register_webhook_on(self.webhook_port)
    }

    pub fn register_webhook_on(&self, port: u16) {
        let out = self.dir.path().join("webhook-config");
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
        for file in [
            "validating-webhook-configuration.yaml",
            "mutating-webhook-configuration.yaml",
        ] {
            let path = out.join(file);
            self.kubectl(&["apply", "--validate=false", "-f", path.to_str().unwrap()]);
        }
    }

    /// Registers a second configuration, named `name`, calling a reloader on `port`.
    pub fn register_webhook_named(&self, name: &str, port: u16) {
        let out = self.dir.path().join(format!("webhook-config-{name}"));
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
        let text = std::fs::read_to_string(out.join("validating-webhook-configuration.yaml"))
            .expect("rendered");
        let renamed = text.replacen("\n  name: reloader\n", &format!("\n  name: {name}\n"), 1);
        assert_ne!(renamed, text, "configuration renamed");
        self.apply(&renamed);
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
        DenyWebhook { child }
    }

    pub fn unregister_webhook(&self) {
        self.kubectl(&["delete", "validatingwebhookconfiguration", "reloader"]);
        self.kubectl(&["delete", "mutatingwebhookconfiguration", "reloader"]);
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

    /// PATCH requests the simulator answered 2xx for this workload.
    pub async fn patches(&self, resource: &str, name: &str) -> usize {
        self.hooks
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
            .count()
    }
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
