//! `reloader serve` (the release binary), or the peer, started against the benchmark's
//! control plane, and its memory read from `/proc`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cluster::repo_root;

pub struct Reloader {
    child: Child,
    log: PathBuf,
    pub webhook_port: u16,
    pub started: Instant,
}

/// Memory of a process, from `/proc/<pid>/status`.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// VmRSS: resident now.
    pub rss_kib: u64,
    /// VmHWM: the most resident so far (the start-up peak).
    pub hwm_kib: u64,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

impl Reloader {
    pub fn start(kubeconfig: &Path, certs: &Path, dir: &Path, extra: &[&str]) -> Reloader {
        let binary = repo_root().join("target/release/reloader");
        assert!(
            binary.is_file(),
            "{} missing: cargo build --release",
            binary.display()
        );
        let webhook_port = free_port();
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .arg(format!(
                "--tls-cert-file={}",
                certs.join("tls.crt").display()
            ))
            .arg(format!(
                "--tls-key-file={}",
                certs.join("tls.key").display()
            ))
            .arg(format!("--webhook-addr=127.0.0.1:{webhook_port}"))
            .arg(format!("--metrics-addr=127.0.0.1:{}", free_port()))
            .arg("--log-level=info")
            .args(extra)
            .env_remove("KUBECONFIG")
            .env("POD_NAME", "reloader-bench");
        Self::spawn(command, dir, webhook_port)
    }

    /// stakater/Reloader (`PEER_BIN`, built by `make bench-scale`) against the same
    /// cluster, at its defaults; it reads the cluster from `KUBECONFIG`. `None` without
    /// the binary.
    pub fn start_peer(kubeconfig: &Path, dir: &Path) -> Option<Reloader> {
        let binary = PathBuf::from(std::env::var_os("PEER_BIN")?);
        assert!(binary.is_file(), "PEER_BIN={} missing", binary.display());
        let mut command = Command::new(binary);
        command
            .env("KUBECONFIG", kubeconfig)
            .env_remove("KUBERNETES_NAMESPACE")
            .env_remove("RELOADER_NAMESPACE");
        Some(Self::spawn(command, dir, 0))
    }

    fn spawn(mut command: Command, dir: &Path, webhook_port: u16) -> Reloader {
        let log = dir.join(format!("process-{}.log", fastrand::u32(..)));
        let file = std::fs::File::create(&log).expect("log");
        let child = command
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn");
        Reloader {
            child,
            log,
            webhook_port,
            started: Instant::now(),
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for a log line containing `text`; how long after the start it appeared.
    pub async fn wait_log(&mut self, text: &str, timeout: Duration) -> Duration {
        let deadline = Instant::now() + timeout;
        loop {
            if self.log_text().contains(text) {
                return self.started.elapsed();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("reloader exited ({status}):\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "no {text:?} within {timeout:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        Memory {
            rss_kib: field("VmRSS:"),
            hwm_kib: field("VmHWM:"),
        }
    }

    /// Resident memory once it settles: sampled every 500 ms until two samples a second
    /// apart differ by less than 1 %, for at most 20 s.
    pub async fn settled_memory(&self) -> Memory {
        let mut last = self.memory();
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.memory();
            let change = now.rss_kib.abs_diff(last.rss_kib) as f64 / last.rss_kib.max(1) as f64;
            last = now;
            if change < 0.01 {
                break;
            }
        }
        last
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
