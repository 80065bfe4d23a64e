//! Test helper: runs the `apiserver-sim` binary as a child process and hands out a
//! `kube::Client`, the kubeconfig path and the `/_sim/` hooks.
//!
//! The binary is found via `APISERVER_SIM_BIN`, else next to the running test
//! executable (`target/<profile>/apiserver-sim`, tests run from `target/<profile>/deps/`).
//! Build it first (`cargo build -p apiserver-sim`; a workspace-wide test run builds it).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub use crate::hooks::{Fault, LoggedRequest};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(
        "apiserver-sim binary not found (looked at {0:?}); build it with `cargo build -p apiserver-sim` or set APISERVER_SIM_BIN"
    )]
    BinaryNotFound(Vec<PathBuf>),
    #[error("cannot start apiserver-sim: {0}")]
    Spawn(std::io::Error),
    #[error("apiserver-sim did not announce its address: {0}")]
    Startup(String),
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("request to the simulator failed: {0}")]
    Request(String),
}

/// Options beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// `(namespace/name, host:port)` pairs for webhook service references.
    pub service_endpoints: Vec<(String, String)>,
    pub watch_window: Option<usize>,
    pub bookmark_interval_ms: Option<u64>,
    /// Pass `--simulate-rollouts`: workload status follows generation at once.
    pub simulate_rollouts: bool,
    /// Explicit binary path (otherwise located automatically).
    pub binary: Option<PathBuf>,
}

/// A running simulator; killed (and its files removed) on drop.
pub struct SimProcess {
    child: Child,
    address: SocketAddr,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

/// Where the binary is: `APISERVER_SIM_BIN`, or beside the current test executable.
pub fn locate_binary() -> Result<PathBuf, SimError> {
    let mut candidates = Vec::new();
    if let Some(path) = std::env::var_os("APISERVER_SIM_BIN") {
        candidates.push(PathBuf::from(path));
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(3) {
            candidates.push(dir.join(format!("apiserver-sim{}", std::env::consts::EXE_SUFFIX)));
        }
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(SimError::BinaryNotFound(candidates))
}

impl SimProcess {
    /// Starts the simulator on a free 127.0.0.1 port.
    pub fn start() -> Result<SimProcess, SimError> {
        Self::start_with(SimOptions::default())
    }

    pub fn start_with(options: SimOptions) -> Result<SimProcess, SimError> {
        let binary = match &options.binary {
            Some(path) => path.clone(),
            None => locate_binary()?,
        };
        let dir = tempfile::tempdir().map_err(SimError::Spawn)?;
        let kubeconfig = dir.path().join("kubeconfig");
        let mut command = Command::new(&binary);
        command
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--kubeconfig-out")
            .arg(&kubeconfig);
        for (service, address) in &options.service_endpoints {
            command
                .arg("--service-endpoint")
                .arg(format!("{service}={address}"));
        }
        if let Some(window) = options.watch_window {
            command.arg("--watch-window").arg(window.to_string());
        }
        if let Some(interval) = options.bookmark_interval_ms {
            command
                .arg("--bookmark-interval-ms")
                .arg(interval.to_string());
        }
        if options.simulate_rollouts {
            command.arg("--simulate-rollouts");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(SimError::Spawn)?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| SimError::Startup("no stdout".into()))?;
        let mut first_line = String::new();
        let read = BufReader::new(stdout).read_line(&mut first_line);
        let address = match read {
            Ok(_) => first_line
                .trim()
                .strip_prefix("listening on https://")
                .and_then(|a| a.parse::<SocketAddr>().ok()),
            Err(_) => None,
        };
        let Some(address) = address else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SimError::Startup(format!("first line was {first_line:?}")));
        };
        Ok(SimProcess {
            child,
            address,
            kubeconfig,
            _dir: dir,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.address)
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The kube configuration from the written kubeconfig.
    pub async fn config(&self) -> Result<kube::Config, SimError> {
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig)
            .map_err(|e| SimError::Kubeconfig(e.to_string()))?;
        kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .map_err(|e| SimError::Kubeconfig(e.to_string()))
    }

    pub async fn client(&self) -> Result<kube::Client, SimError> {
        let config = self.config().await?;
        kube::Client::try_from(config).map_err(|e| SimError::Kubeconfig(e.to_string()))
    }

    /// Hooks bound to a client of this simulator.
    pub async fn hooks(&self) -> Result<SimHooks, SimError> {
        Ok(SimHooks {
            client: self.client().await?,
        })
    }

    /// Sends SIGKILL and waits; also done on drop.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Calls to the `/_sim/` test hooks.
#[derive(Clone)]
pub struct SimHooks {
    client: kube::Client,
}

impl SimHooks {
    pub fn new(client: kube::Client) -> Self {
        SimHooks { client }
    }

    async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Value, SimError> {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| SimError::Request(e.to_string()))?;
        let text = self
            .client
            .request_text(request)
            .await
            .map_err(|e| SimError::Request(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| SimError::Request(e.to_string()))
    }

    /// The next `fault.count` matching requests hang and/or fail as described.
    pub async fn inject_fault(&self, fault: &Fault) -> Result<(), SimError> {
        let body = serde_json::to_vec(fault).map_err(|e| SimError::Request(e.to_string()))?;
        self.call(http::Method::POST, "/_sim/faults", body)
            .await
            .map(|_| ())
    }

    /// The faults not yet used up: a fault with `count` 1 is gone from here as soon as the
    /// request it matches has arrived (and, with `hangMs`, while that request still hangs).
    pub async fn pending_faults(&self) -> Result<Vec<Fault>, SimError> {
        let answer = self.call(http::Method::GET, "/_sim/faults", vec![]).await?;
        serde_json::from_value(answer["faults"].clone())
            .map_err(|e| SimError::Request(e.to_string()))
    }

    pub async fn clear_faults(&self) -> Result<(), SimError> {
        self.call(http::Method::DELETE, "/_sim/faults", vec![])
            .await
            .map(|_| ())
    }

    /// Ends every open watch; returns how many were open.
    pub async fn drop_watches(&self) -> Result<u64, SimError> {
        let answer = self
            .call(http::Method::POST, "/_sim/drop-watches", vec![])
            .await?;
        Ok(answer["dropped"].as_u64().unwrap_or(0))
    }

    /// Forgets history: watches and continue tokens from before now get 410 Gone.
    pub async fn compact(&self) -> Result<u64, SimError> {
        let answer = self
            .call(http::Method::POST, "/_sim/compact", vec![])
            .await?;
        Ok(answer["compactedAt"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    pub async fn requests(&self) -> Result<Vec<LoggedRequest>, SimError> {
        let answer = self
            .call(http::Method::GET, "/_sim/requests", vec![])
            .await?;
        serde_json::from_value(answer["requests"].clone())
            .map_err(|e| SimError::Request(e.to_string()))
    }

    pub async fn clear_requests(&self) -> Result<(), SimError> {
        self.call(http::Method::DELETE, "/_sim/requests", vec![])
            .await
            .map(|_| ())
    }
}

/// Builds a fault: `count` requests with `verb` on `resource` answer `status`.
pub fn fault(verb: &str, resource: &str, count: u32, status: u16) -> Fault {
    Fault {
        verb: verb.into(),
        resource: resource.into(),
        group: None,
        namespace: None,
        name: None,
        count,
        status: Some(status),
        message: None,
        hang_ms: None,
    }
}
