//! Test helper: the real Kubernetes control plane (etcd, kube-apiserver,
//! kube-controller-manager built by `make control-plane`), started through
//! `e2e/control-plane/run` and stopped on drop, in the style of the simulator's `SimProcess`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long kube-apiserver may take to answer `/readyz` on a loaded two-core machine.
const START_TIMEOUT: Duration = Duration::from_secs(150);

/// The repository root (the `reloader` crate's manifest directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `KUBECTL`, else the pinned kubectl `make kubectl` installs: never whatever kubectl is
/// on PATH, whose version the tests would not know.
pub fn kubectl_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("KUBECTL") {
        return PathBuf::from(path);
    }
    let pinned = repo_root().join(".tools/bin/kubectl");
    assert!(
        pinned.is_file(),
        "{} is missing: run `make kubectl` (or set KUBECTL)",
        pinned.display()
    );
    pinned
}

/// Where `make control-plane` puts the binaries (or `CONTROL_PLANE_BIN`).
pub fn control_plane_bin() -> PathBuf {
    std::env::var_os("CONTROL_PLANE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools/control-plane/bin"))
}

/// A running control plane; SIGTERM (which stops all three components and removes their
/// files) on drop.
pub struct ControlPlane {
    child: Child,
    pub url: String,
    kubeconfig: PathBuf,
    dir: tempfile::TempDir,
}

impl ControlPlane {
    /// Starts etcd, kube-apiserver and kube-controller-manager on free loopback ports and
    /// waits until kube-apiserver is ready. Panics with the components' logs otherwise.
    pub fn start() -> ControlPlane {
        let bin = control_plane_bin();
        assert!(
            bin.join("kube-apiserver").is_file(),
            "{} has no kube-apiserver: run `make control-plane` (or set CONTROL_PLANE_BIN)",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        let work = dir.path().join("control-plane");
        let mut child = Command::new("python3")
            .arg(repo_root().join("e2e/control-plane/run"))
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .arg("--dir")
            .arg(&work)
            .arg("--bin-dir")
            .arg(&bin)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 e2e/control-plane/run");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let Some(url) = line.trim().strip_prefix("ready ").map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the control plane did not get ready within {START_TIMEOUT:?} (said {line:?}); logs in {}:\n{}",
                work.display(),
                tail_logs(&work)
            );
        };
        ControlPlane {
            child,
            url,
            kubeconfig,
            dir,
        }
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The components' logs and the audit log.
    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("control-plane")
    }

    /// A kube client for the admin user.
    pub async fn client(&self) -> kube::Client {
        let config = kube::config::Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(
            config,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .expect("client config");
        kube::Client::try_from(config).expect("client")
    }

    /// Audit records of answered requests (`ResponseComplete`), in order.
    pub fn audit(&self) -> Vec<AuditRecord> {
        let text = std::fs::read_to_string(self.work_dir().join("audit.log")).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|v| v["stage"] == "ResponseComplete")
            .map(|v| AuditRecord {
                verb: str_at(&v, "/verb"),
                resource: str_at(&v, "/objectRef/resource"),
                subresource: str_at(&v, "/objectRef/subresource"),
                namespace: str_at(&v, "/objectRef/namespace"),
                name: str_at(&v, "/objectRef/name"),
                user: str_at(&v, "/user/username"),
                code: v
                    .pointer("/responseStatus/code")
                    .and_then(Value::as_u64)
                    .unwrap_or(0) as u16,
            })
            .collect()
    }
}

fn str_at(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// One answered request, as kube-apiserver's audit log records it (metadata only).
#[derive(Clone, Debug)]
pub struct AuditRecord {
    pub verb: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    pub user: String,
    pub code: u16,
}

fn tail_logs(work: &Path) -> String {
    let mut out = String::new();
    for name in ["etcd", "kube-apiserver", "kube-controller-manager"] {
        let text = std::fs::read_to_string(work.join(format!("{name}.log"))).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(20)..];
        out.push_str(&format!("--- {name}\n{}\n", tail.join("\n")));
    }
    out
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
